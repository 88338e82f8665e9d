//! Secrets in memory and at rest. In memory: `SecretString`, zeroized on
//! drop and redacted in `Debug`. At rest: one encrypted file (`file`) whose
//! key is kept in the OS keyring or derived from a passphrase (`keyring`,
//! `passphrase`); `select::open_store` picks the store and says why. The
//! demo profile alone keeps its throwaway tokens in plain JSON (`demo`).

use zeroize::Zeroizing;

/// A password, code or token: never printed, wiped from memory on drop.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub fn new(s: impl Into<String>) -> Self {
        Self(Zeroizing::new(s.into()))
    }
    /// The secret itself: call only where it leaves for the server or the store.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn push(&mut self, c: char) {
        self.0.push(c);
    }
    pub fn pop(&mut self) -> Option<char> {
        self.0.pop()
    }
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let s = SecretString::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}

pub use crate::backend::Credentials;

/// Errors of the secret stores.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("no secret store is available: {0}")]
    Unavailable(String),
    #[error("the secret store is locked: {0}")]
    Locked(String),
    #[error("the secret file {path} cannot be used: {reason}")]
    File { path: String, reason: String },
    #[error("wrong passphrase")]
    WrongPassphrase,
}

/// Which store holds secrets, why it was chosen and how long they last there.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoreInfo {
    pub name: String,
    pub why: String,
    pub persistence: String,
}

/// Where signed-in state (refresh tokens, remembered-device grants) is kept
/// between runs, per profile and account.
pub trait SessionStore: Send + Sync {
    fn load(&self, profile: &str, username: &str) -> Result<Option<Credentials>, SecretsError>;
    fn save(
        &self,
        profile: &str,
        username: &str,
        credentials: &Credentials,
    ) -> Result<(), SecretsError>;
    fn forget(&self, profile: &str, username: &str) -> Result<(), SecretsError>;
    fn info(&self) -> StoreInfo;
}

/// Keeps nothing: used when no store works, so the user is told and nothing
/// is written in plain text.
pub struct NoStore {
    pub reason: String,
}

impl SessionStore for NoStore {
    fn load(&self, _: &str, _: &str) -> Result<Option<Credentials>, SecretsError> {
        Ok(None)
    }
    fn save(&self, _: &str, _: &str, _: &Credentials) -> Result<(), SecretsError> {
        Err(SecretsError::Unavailable(self.reason.clone()))
    }
    fn forget(&self, _: &str, _: &str) -> Result<(), SecretsError> {
        Ok(())
    }
    fn info(&self) -> StoreInfo {
        StoreInfo {
            name: "none".into(),
            why: self.reason.clone(),
            persistence: "not kept: you sign in on every run".into(),
        }
    }
}

pub mod demo;
pub mod file;
pub mod keyring;
pub mod ordered;
pub mod passphrase;
pub mod select;

pub use demo::DemoStore;
pub use file::{FileStore, KdfParams};
pub use ordered::OrderedStore;
pub use passphrase::{PassphraseSource, Prompter};
pub use select::{
    StoreChoice, StoreOptions, describe_store, forget_cached_key, open_store, open_store_or_none,
};
