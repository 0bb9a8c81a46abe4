//! Sealing employees' answers while their group is still open.
//!
//! An answer is stored in the same transaction as the "answered" flag of the invitation it came
//! from, so on PostgreSQL the two rows share a transaction id (`xmin`) that anyone with database
//! access can read. What that row holds must therefore say nothing: it is encrypted
//! (XChaCha20-Poly1305, a random 192-bit nonce) with a key derived from the server key, which
//! lives outside the database, and padded to exactly [`CAPACITY`] bytes, so that every sealed
//! row has one length whatever was answered: not even the length of a comment can be matched
//! with the answer once it is published. (Padding to a *multiple* of a size, as before, let an
//! answer with long comments seal to twice the length of everyone else's.) A plaintext that
//! does not fit is refused, never sealed at another length; surveys are checked when they are
//! stored so that no valid answer can be that long (`SurveyDefinition::max_answer_bytes`).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::RngCore;

use super::secret::Secret;

/// Every sealed payload is padded to exactly this many bytes (a 4-byte length, the text, zeros).
/// One sealed row holds one response (one unit rated), so the bound is per unit.
pub const CAPACITY: usize = 12 * 1024;
/// What one response's answers may take once serialised, at most; the rest of [`CAPACITY`]
/// holds the response's own fields (ids, codes, day: well under 1 KiB). A survey whose answers
/// could take more is refused for employees when it is stored.
pub const ANSWERS_BUDGET: usize = 10 * 1024;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const LEN_PREFIX: usize = 4;
/// The length of every sealed row: nonce, padded payload, authentication tag.
pub const SEALED_LEN: usize = NONCE_LEN + CAPACITY + TAG_LEN;

/// The key that seals and opens inbox rows.
#[derive(Clone, Debug)]
pub struct InboxKey(Secret<[u8; 32]>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed answer cannot be opened with this server key (or was altered)")]
pub struct Unreadable;

/// A plaintext longer than [`CAPACITY`] allows: sealing it at another length would tell it
/// apart, so it is not sealed at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an answer of {0} bytes is too long to seal at the one size every sealed row has")]
pub struct TooLong(pub usize);

impl InboxKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        InboxKey(Secret::new(bytes))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.expose().into())
    }

    /// Encrypts `plaintext`, bound to `context` (the row's id and group), so that a sealed
    /// value cannot be moved to another row or group without failing to open. The result is
    /// always [`SEALED_LEN`] bytes long.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, TooLong> {
        if plaintext.len() > CAPACITY - LEN_PREFIX {
            return Err(TooLong(plaintext.len()));
        }
        // Length prefix, text, zero padding to exactly CAPACITY.
        let len = u32::try_from(plaintext.len()).map_err(|_| TooLong(plaintext.len()))?;
        let mut padded = Vec::with_capacity(CAPACITY);
        padded.extend_from_slice(&len.to_be_bytes());
        padded.extend_from_slice(plaintext);
        padded.resize(CAPACITY, 0);
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
        debug_assert_eq!(out.len(), SEALED_LEN);
        Ok(out)
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
        // Rows sealed before the one-size rule were padded to a multiple of 8 KiB: the length
        // prefix opens those too.
        let (len, rest) = padded.split_at_checked(LEN_PREFIX).ok_or(Unreadable)?;
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
        let sealed = key(1).seal("row-1", text).expect("fits");
        assert_eq!(key(1).open("row-1", &sealed).as_deref(), Ok(text));
        assert!(!sealed.windows(text.len()).any(|w| w == text));
    }

    #[test]
    fn another_key_another_row_or_a_flipped_bit_cannot_open_it() {
        let sealed = key(1).seal("row-1", b"answer").expect("fits");
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
    fn every_sealed_row_has_one_length_and_what_cannot_fit_is_refused() {
        let most = CAPACITY - LEN_PREFIX;
        for text in [
            b"".to_vec(),
            b"{}".to_vec(),
            "א".repeat(2000).into_bytes(),
            "😀".repeat(2000).into_bytes(),
            vec![b'x'; most],
        ] {
            let sealed = key(1).seal("r", &text).expect("fits");
            assert_eq!(sealed.len(), SEALED_LEN, "{} bytes", text.len());
            assert_eq!(key(1).open("r", &sealed).as_deref(), Ok(&text[..]));
        }
        assert_eq!(
            key(1).seal("r", &vec![b'x'; most + 1]),
            Err(TooLong(most + 1))
        );
    }

    #[test]
    fn a_row_sealed_at_the_old_multiple_of_8_kib_still_opens() {
        // What `seal` wrote before every row had one size: 16 KiB of padding for a long answer.
        let text = "😀".repeat(2500).into_bytes();
        let mut padded = (text.len() as u32).to_be_bytes().to_vec();
        padded.extend_from_slice(&text);
        padded.resize(16384, 0);
        let nonce = [7u8; NONCE_LEN];
        let body = key(1)
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &padded,
                    aad: b"r",
                },
            )
            .expect("encrypts");
        let sealed = [nonce.to_vec(), body].concat();
        assert_eq!(key(1).open("r", &sealed), Ok(text));
    }

    #[test]
    fn the_same_answer_sealed_twice_differs() {
        assert_ne!(key(1).seal("r", b"same"), key(1).seal("r", b"same"));
        assert!(key(1).seal("r", b"same").is_ok());
    }
}
