//! One-time survey tokens and API keys.
//!
//! A survey token is HMAC-SHA256(server secret, invitation id), base64url: 256 bits that nobody
//! without the secret can guess, derivable again for the same invitation (so that a CRM's retry
//! gets the same link back) and stored only as its SHA-256. API keys are 256 random bits from the
//! OS CSPRNG, also stored only as a hash.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::secret::Secret;

/// Length of a survey token in characters (32 bytes, base64url without padding).
pub const TOKEN_LEN: usize = 43;

/// The server-side key that survey tokens (and, later, keyed hashes) derive from.
#[derive(Clone, Debug)]
pub struct ServerKey(Secret<Vec<u8>>);

impl ServerKey {
    /// Accepts at least 32 bytes of key material.
    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < 32 {
            return Err("the secret key must hold at least 32 bytes".into());
        }
        Ok(ServerKey(Secret::new(bytes)))
    }

    /// A fresh random key from the OS CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        ServerKey(Secret::new(bytes))
    }

    /// The key as base64url, for writing it to the key file.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.expose())
    }

    /// Reads a key written by [`ServerKey::encode`] (or any base64url of 32+ bytes).
    pub fn decode(text: &str) -> Result<Self, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| "the secret key is not base64url".to_string())?;
        ServerKey::new(bytes)
    }

    fn mac(&self, purpose: &str, input: &str) -> [u8; 32] {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(input.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A keyed hash of an email address (trimmed, lower-cased): lets mashov recognise an address
    /// that opted out, or was surveyed lately, without storing it in clear for that purpose.
    pub fn address_hash(&self, email: &str) -> String {
        let mac = self.mac("address", &email.trim().to_lowercase());
        URL_SAFE_NO_PAD.encode(mac)
    }

    /// A phone number's keyed hash, for the frequency cap and opt-outs: the same for every way
    /// of writing the number (`domain::phone::e164`), None for what is not a number.
    pub fn phone_hash(&self, phone: &str) -> Option<String> {
        super::phone::e164(phone).map(|n| URL_SAFE_NO_PAD.encode(self.mac("phone", &n)))
    }

    /// A keyed hash for `purpose` (sign-in throttling subjects, CSRF tokens): base64url, not
    /// computable without the key, never equal across purposes.
    pub fn keyed_hash(&self, purpose: &str, input: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(purpose, input))
    }

    /// The key that seals employees' answers until their group is complete.
    pub fn inbox_key(&self) -> super::sealed::InboxKey {
        super::sealed::InboxKey::new(self.mac("anonymous-inbox", "v1"))
    }

    /// The survey token of an invitation.
    pub fn survey_token(&self, invitation_id: &str) -> Secret<String> {
        Secret::new(URL_SAFE_NO_PAD.encode(self.mac("survey-token", invitation_id)))
    }
}

/// Hex SHA-256: what the database stores in place of a token or key.
pub fn hash_secret(secret: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
    out
}

/// True when `text` has a survey token's shape; anything else is answered 404 without a query.
pub fn looks_like_survey_token(text: &str) -> bool {
    text.len() == TOKEN_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A new API key: a readable prefix and 256 random bits.
pub fn generate_api_key() -> Secret<String> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    Secret::new(format!("mashov_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survey_tokens_are_stable_per_invitation_and_distinct_across_invitations() {
        let key = ServerKey::generate();
        let a = key.survey_token("inv-1");
        assert_eq!(a.expose(), key.survey_token("inv-1").expose());
        assert_ne!(a.expose(), key.survey_token("inv-2").expose());
        assert!(looks_like_survey_token(a.expose()));
    }

    #[test]
    fn a_different_key_gives_a_different_token() {
        let t1 = ServerKey::generate().survey_token("inv-1");
        let t2 = ServerKey::generate().survey_token("inv-1");
        assert_ne!(t1.expose(), t2.expose());
    }

    #[test]
    fn keys_round_trip_and_short_keys_are_refused() {
        let key = ServerKey::generate();
        let again = ServerKey::decode(&key.encode()).expect("decodes");
        assert_eq!(
            key.survey_token("x").expose(),
            again.survey_token("x").expose()
        );
        assert!(ServerKey::new(vec![1; 31]).is_err());
        assert!(ServerKey::decode("not base64!").is_err());
    }

    #[test]
    fn token_shape_check_refuses_tampered_and_odd_input() {
        let t = ServerKey::generate().survey_token("inv");
        let mut chars: Vec<char> = t.expose().chars().collect();
        chars.pop();
        let short: String = chars.iter().collect();
        assert!(!looks_like_survey_token(&short));
        assert!(!looks_like_survey_token(&format!("{short}!")));
        assert!(!looks_like_survey_token(""));
        assert!(!looks_like_survey_token(&"a".repeat(500)));
    }

    #[test]
    fn address_hashes_ignore_case_and_spaces_and_depend_on_the_key() {
        let key = ServerKey::generate();
        assert_eq!(
            key.address_hash("R@Example.org "),
            key.address_hash("r@example.org")
        );
        assert_ne!(
            key.address_hash("r@example.org"),
            key.address_hash("s@example.org")
        );
        assert_ne!(
            key.address_hash("r@example.org"),
            ServerKey::generate().address_hash("r@example.org")
        );
    }

    #[test]
    fn hashes_are_hex_sha256_and_api_keys_are_unique() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let k1 = generate_api_key();
        let k2 = generate_api_key();
        assert_ne!(k1.expose(), k2.expose());
        assert!(k1.expose().len() > 40);
    }
}
