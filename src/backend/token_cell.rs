//! One adapter's signed-in state: its credentials, the hook that keeps them in
//! the secret store, and a single-flight refresh.
//!
//! Why single-flight: the home screen loads the account and the methods at
//! once. With an expired access token both get a 401; if both refreshed with
//! the same refresh token, the server would rightly see the second use as
//! token reuse and end the session. So a refresh holds an async lock and, once
//! it has it, checks whether another task already refreshed meanwhile.

use super::{Credentials, CredentialsHook, Result};
use std::future::Future;
use std::sync::Mutex;

#[derive(Default)]
pub struct TokenCell {
    credentials: Mutex<Credentials>,
    hook: Mutex<Option<CredentialsHook>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl TokenCell {
    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        // A poisoned lock only means another task panicked mid-update; the data is still usable.
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the credentials (zeroized when dropped).
    pub fn get(&self) -> Credentials {
        Self::lock(&self.credentials).clone()
    }

    pub fn access_token(&self) -> Option<String> {
        Self::lock(&self.credentials).access_token.clone()
    }

    pub fn refresh_token(&self) -> Option<String> {
        Self::lock(&self.credentials).refresh_token.clone()
    }

    /// Replace them all, without telling the hook (the store is where they came from).
    pub fn restore(&self, credentials: Credentials) {
        *Self::lock(&self.credentials) = credentials;
    }

    /// Change them locally: nothing worth keeping (dropping a dead token, say).
    pub fn edit<T>(&self, f: impl FnOnce(&mut Credentials) -> T) -> T {
        f(&mut Self::lock(&self.credentials))
    }

    /// Change them and tell whoever keeps them (new tokens from a sign-in or a refresh).
    pub fn update(&self, f: impl FnOnce(&mut Credentials)) {
        let now = {
            let mut c = Self::lock(&self.credentials);
            f(&mut c);
            c.clone()
        };
        let hook = Self::lock(&self.hook).clone();
        if let Some(hook) = hook {
            hook(&now);
        }
    }

    pub fn watch(&self, hook: CredentialsHook) {
        *Self::lock(&self.hook) = Some(hook);
    }

    /// Refresh once for everyone who saw `stale` as the access token. The
    /// first caller runs `refresh` with the refresh token; callers that waited
    /// behind it find a new access token and return at once.
    pub async fn refresh_once<F, Fut>(&self, stale: Option<&str>, refresh: F) -> Result<()>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        let _single = self.refreshing.lock().await;
        let current = self.access_token();
        if current.is_some() && current.as_deref() != stale {
            return Ok(());
        }
        let Some(token) = self.refresh_token() else {
            return Err(super::BackendError::SignInRequired);
        };
        refresh(token).await
    }
}
