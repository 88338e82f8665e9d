//! Keeping, restoring and forgetting a sign-in, "Don't ask again" included,
//! written once for the TUI, plain mode and the CLI. The rules:
//! - a kept sign-in is restored only when the server still takes it; otherwise
//!   only its remembered-device grant stays, and the password is asked for;
//! - signing out keeps the grant ("Don't ask again" outlives a sign-out, as on
//!   the portal), signing out everywhere forgets everything;
//! - another account's tokens never leak into a sign-in: before a password,
//!   only that account's grant is restored.
//!
//! The secret store may read files under a lock or ask the OS keyring, and
//! the accounts list writes a file: every call runs on tokio's blocking pool,
//! so no async worker (the one drawing, or one with requests in flight) waits.

use crate::accounts::{KnownAccount, KnownAccounts};
use crate::backend::{Backend, BackendError, Credentials};
use crate::domain::Account;
use crate::secrets::{SecretsError, SessionStore, StoreInfo};
use std::sync::{Arc, Mutex, MutexGuard};

/// A profile's kept sign-ins: the secret store and the list of accounts.
#[derive(Clone)]
pub struct Keeper {
    store: Arc<dyn SessionStore>,
    profile: String,
    accounts: Arc<Mutex<KnownAccounts>>,
}

impl Keeper {
    pub fn new(
        store: Arc<dyn SessionStore>,
        profile: &str,
        accounts: Arc<Mutex<KnownAccounts>>,
    ) -> Self {
        Self {
            store,
            profile: profile.to_owned(),
            accounts,
        }
    }

    pub fn profile(&self) -> &str {
        &self.profile
    }

    pub fn store_info(&self) -> StoreInfo {
        self.store.info()
    }

    fn list(&self) -> MutexGuard<'_, KnownAccounts> {
        self.accounts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This profile's accounts, the last used first.
    pub fn accounts(&self) -> Vec<KnownAccount> {
        self.list().for_profile(&self.profile).cloned().collect()
    }

    /// Every profile's accounts.
    pub fn all_accounts(&self) -> Vec<KnownAccount> {
        self.list().list().to_vec()
    }

    /// The account this profile used last.
    pub fn last_account(&self) -> Option<String> {
        self.accounts().into_iter().next().map(|a| a.username)
    }

    /// Restores `username`'s kept sign-in. `Some(account)`: signed in again.
    /// `None`: the password is needed (nothing kept, or the server no longer
    /// takes it; then only the grant is kept in the adapter).
    pub async fn restore(&self, backend: &dyn Backend, username: &str) -> Option<Account> {
        match self.load(username).await {
            Ok(Some(kept)) => {
                backend.restore(kept);
                match backend.account().await {
                    Ok(account) => return Some(account),
                    Err(e) => tracing::info!(
                        code = e.code(),
                        "kept sign-in not usable; asking for the password"
                    ),
                }
                self.restore_grant_only(backend, username).await;
            }
            Ok(None) => backend.restore(Credentials::default()),
            Err(e) => tracing::warn!(error = %e, "cannot read the kept sign-in"),
        }
        None
    }

    /// Restores `username`'s tokens without asking the server (the CLI asks
    /// with its first request anyway). True when some were kept.
    pub async fn restore_quietly(&self, backend: &dyn Backend, username: &str) -> bool {
        match self.load(username).await {
            Ok(Some(kept)) => {
                backend.restore(kept);
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the kept sign-in");
                false
            }
        }
    }

    /// Before a password: only `username`'s remembered-device grant, the part
    /// that lets this client skip the second factor.
    pub async fn restore_grant_only(&self, backend: &dyn Backend, username: &str) {
        let mut fresh = Credentials::default();
        match self.load(username).await {
            Ok(Some(kept)) => fresh.remembered_grant = kept.remembered_grant.clone(),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the kept sign-in"),
        }
        backend.restore(fresh);
    }

    /// After a sign-in: remember the account and keep its sign-in. An error
    /// says why it will not be kept (the user is signed in all the same).
    pub async fn keep(
        &self,
        backend: &dyn Backend,
        username: &str,
        display_name: &str,
    ) -> Result<(), SecretsError> {
        let kept = self.save(username, backend.credentials()).await;
        let (profile, user, display) = (
            self.profile.clone(),
            username.to_owned(),
            display_name.to_owned(),
        );
        self.change_accounts(move |list| list.remember(&profile, &user, &display))
            .await;
        kept
    }

    /// Signs out here; the "Don't ask again" grant stays kept.
    pub async fn sign_out(
        &self,
        backend: &dyn Backend,
        username: &str,
    ) -> Result<(), BackendError> {
        let result = backend.sign_out().await;
        let left = backend.credentials();
        let outcome = if left.remembered_grant.is_some() {
            let mut only = Credentials::default();
            only.remembered_grant = left.remembered_grant.clone();
            self.save(username, only).await
        } else {
            self.forget_sign_in(username).await
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "cannot update the kept sign-in after signing out");
        }
        result
    }

    /// Forgets `username`'s kept sign-in, grant included (after signing out everywhere).
    pub async fn forget_sign_in(&self, username: &str) -> Result<(), SecretsError> {
        self.with_store(username, |store, profile, user| store.forget(profile, user))
            .await
    }

    /// Takes `username` off this profile's list and forgets its sign-in.
    /// True when it was on the list.
    pub async fn forget_account(&self, username: &str) -> bool {
        if let Err(e) = self.forget_sign_in(username).await {
            tracing::warn!(error = %e, "cannot forget the kept sign-in");
        }
        let (profile, user) = (self.profile.clone(), username.to_owned());
        let accounts = self.accounts.clone();
        off_the_workers(move || {
            let mut list = accounts.lock().unwrap_or_else(|e| e.into_inner());
            list.remove(&profile, &user).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot update the accounts list");
                false
            })
        })
        .await
        .unwrap_or(false)
    }

    async fn load(&self, username: &str) -> Result<Option<Credentials>, SecretsError> {
        self.with_store(username, |store, profile, user| store.load(profile, user))
            .await
    }

    async fn save(&self, username: &str, kept: Credentials) -> Result<(), SecretsError> {
        self.with_store(username, move |store, profile, user| {
            store.save(profile, user, &kept)
        })
        .await
    }

    /// Runs `op` on the secret store, for this profile and `username`, off the workers.
    async fn with_store<T: Send + 'static>(
        &self,
        username: &str,
        op: impl FnOnce(&dyn SessionStore, &str, &str) -> Result<T, SecretsError> + Send + 'static,
    ) -> Result<T, SecretsError> {
        let (store, profile, username) = (
            self.store.clone(),
            self.profile.clone(),
            username.to_owned(),
        );
        // The outer `?` is the blocking task's own failure; the value is the store's answer.
        off_the_workers(move || op(&*store, &profile, &username)).await?
    }

    /// Changes the accounts list (which saves it to its file).
    async fn change_accounts(
        &self,
        change: impl FnOnce(&mut KnownAccounts) -> std::io::Result<()> + Send + 'static,
    ) {
        let accounts = self.accounts.clone();
        let changed = off_the_workers(move || {
            let mut list = accounts.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = change(&mut list) {
                tracing::warn!(error = %e, "cannot update the accounts list");
            }
        });
        // Fails only while quitting, when the list is read again at the next start anyway.
        let _ = changed.await;
    }
}

/// Runs blocking `work` on tokio's blocking pool. It fails only when the
/// runtime is shutting down; a panic in `work` carries on as a panic here.
async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, SecretsError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => Ok(value),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(SecretsError::Unavailable(format!(
            "stopped while quitting: {e}"
        ))),
    }
}
