//! Sealing employees' answers while their group is still open.
//!
//! An answer is stored in the same transaction as the "answered" flag of the invitation it came
//! from, so on PostgreSQL the two rows share a transaction id (`xmin`) that anyone with database
//! access can read. What that row holds must therefore say nothing: it is encrypted
//! (XChaCha20-Poly1305, a random 192-bit nonce) with a key derived from the server key, which
//! lives outside the database, and padded to a multiple of [`PAD_TO`] bytes, so that not even
//! the length of a comment can be matched with the answer once it is published.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::RngCore;

use super::secret::Secret;

/// Sealed payloads are padded to a multiple of this. 8 KiB holds the internal survey with a
/// 2,000-character comment in any of the four languages, so almost every sealed row has the
/// same length.
pub const PAD_TO: usize = 8192;
const NONCE_LEN: usize = 24;

/// The key that seals and opens inbox rows.
#[derive(Clone, Debug)]
pub struct InboxKey(Secret<[u8; 32]>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed answer cannot be opened with this server key (or was altered)")]
pub struct Unreadable;

impl InboxKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        InboxKey(Secret::new(bytes))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.expose().into())
    }

    /// Encrypts `plaintext`, bound to `context` (the row's id and group), so that a sealed
    /// value cannot be moved to another row or group without failing to open.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        // Length prefix, text, zero padding to the next multiple of PAD_TO.
        let len = u32::try_from(plaintext.len()).unwrap_or(u32::MAX);
        let mut padded = Vec::with_capacity(PAD_TO);
        padded.extend_from_slice(&len.to_be_bytes());
        padded.extend_from_slice(plaintext);
        let target = padded.len().div_ceil(PAD_TO).max(1) * PAD_TO;
        padded.resize(target, 0);
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &padded,
                    aad: context.as_bytes(),
                },
            )
            // Encryption fails only for messages beyond 256 GiB.
            .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 encrypts any sane length"));
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts what [`InboxKey::seal`] wrote for the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, Unreadable> {
        if sealed.len() < NONCE_LEN {
            return Err(Unreadable);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let padded = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Unreadable)?;
        let (len, rest) = padded.split_at_checked(4).ok_or(Unreadable)?;
        let len = u32::from_be_bytes(len.try_into().map_err(|_| Unreadable)?) as usize;
        rest.get(..len).map(<[u8]>::to_vec).ok_or(Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> InboxKey {
        InboxKey::new([byte; 32])
    }

    #[test]
    fn what_is_sealed_opens_with_the_same_key_and_context() {
        let text = "שירות מצוין, תודה".as_bytes();
        let sealed = key(1).seal("row-1", text);
        assert_eq!(key(1).open("row-1", &sealed).as_deref(), Ok(text));
        assert!(!sealed.windows(text.len()).any(|w| w == text));
    }

    #[test]
    fn another_key_another_row_or_a_flipped_bit_cannot_open_it() {
        let sealed = key(1).seal("row-1", b"answer");
        assert_eq!(key(2).open("row-1", &sealed), Err(Unreadable));
        assert_eq!(key(1).open("row-2", &sealed), Err(Unreadable));
        for i in [0, NONCE_LEN, sealed.len() - 1] {
            let mut bent = sealed.clone();
            bent[i] ^= 1;
            assert_eq!(key(1).open("row-1", &bent), Err(Unreadable), "byte {i}");
        }
        assert_eq!(key(1).open("row-1", &sealed[..10]), Err(Unreadable));
        assert_eq!(key(1).open("row-1", &[]), Err(Unreadable));
    }

    #[test]
    fn lengths_do_not_tell_short_answers_from_long_ones() {
        let short = key(1).seal("r", b"{}");
        let long = key(1).seal("r", "א".repeat(2000).as_bytes());
        assert_eq!(short.len(), long.len());
        let longer = key(1).seal("r", &vec![b'x'; PAD_TO]);
        assert_eq!(longer.len(), short.len() + PAD_TO);
    }

    #[test]
    fn the_same_answer_sealed_twice_differs() {
        assert_ne!(key(1).seal("r", b"same"), key(1).seal("r", b"same"));
    }
}
