//! Argon2id password hashes (PHC strings).

use super::error::{Result, ServerError};
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use std::sync::OnceLock;

/// How much a new hash costs. Verifying reads the cost from the stored hash,
/// so a password costs what it was hashed with.
#[derive(Clone, Copy, Debug)]
pub enum Cost {
    /// argon2's default, OWASP's first choice: Argon2id, 19 MiB, 2 passes.
    Server,
    /// The demo's printed-on-screen passwords: OWASP's lowest-memory
    /// equivalent (7 MiB, 5 passes), so the demo's peak memory stays small.
    Demo,
}

impl Cost {
    fn argon2(self) -> Result<Argon2<'static>> {
        match self {
            Cost::Server => Ok(Argon2::default()),
            Cost::Demo => {
                let params = argon2::Params::new(7 * 1024, 5, 1, None)
                    .map_err(|e| ServerError::Hash(e.to_string()))?;
                Ok(Argon2::new(
                    argon2::Algorithm::Argon2id,
                    argon2::Version::V0x13,
                    params,
                ))
            }
        }
    }
}

pub fn hash(password: &str) -> Result<String> {
    hash_with(password, Cost::Server)
}

pub fn hash_with(password: &str, cost: Cost) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    cost.argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServerError::Hash(e.to_string()))
}

pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "stored password hash is unreadable");
            false
        }
    }
}

/// Spend the time of a real check for an unknown user, so response time
/// does not tell which usernames exist.
pub fn burn(password: &str) {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    if let Some(phc) = DUMMY.get_or_init(|| hash("not a real password").ok()) {
        let _ = verify(password, phc);
    }
}
