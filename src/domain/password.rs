//! Password hashes: argon2id with OWASP's minimum parameters (19 MiB, two passes, one lane),
//! stored as PHC strings so that stronger parameters later still verify old hashes.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;

use super::account::NewPassword;

fn hasher() -> Argon2<'static> {
    // Constant, valid parameters: the constructor cannot fail on them.
    let params = Params::new(19 * 1024, 2, 1, None)
        .unwrap_or_else(|_| unreachable!("OWASP's argon2id parameters are valid"));
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a new password with a fresh random salt.
pub fn hash(password: &NewPassword) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_else(|_| unreachable!("argon2 hashes any password of at most 256 characters"))
}

/// Whether `attempt` is the password behind `stored`. A malformed stored hash never matches.
pub fn verify(stored: &str, attempt: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(attempt.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of nothing anybody knows, with the same parameters: an unknown address is checked
/// against it, so that it takes as long as a wrong password and timing cannot tell accounts
/// apart. Computed once; `warm_up` at start so that the first try does not pay for it.
fn dummy() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(b"mashov: no such account", &salt)
            .map(|h| h.to_string())
            .unwrap_or_else(|_| unreachable!("argon2 hashes a constant of 23 bytes"))
    })
}

/// Spends the time of one verification, and fails.
pub fn verify_nobody(attempt: &str) -> bool {
    let _ = verify(dummy(), attempt);
    false
}

pub fn warm_up() {
    let _ = dummy();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only_and_is_argon2id() {
        let p = NewPassword::parse("correct horse battery".into()).expect("ok");
        let h = hash(&p);
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&h, "correct horse battery"));
        assert!(!verify(&h, "correct horse batterY"));
        assert!(!verify("not a hash", "correct horse battery"));
        assert_ne!(h, hash(&p), "a fresh salt each time");
        assert!(!verify_nobody("correct horse battery"));
    }
}
