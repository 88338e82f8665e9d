//! A secret store that can save in the background. The credentials hook fires
//! inside a request on an async worker; writing the encrypted file (and its
//! lock, and maybe the OS keyring) there would stall that worker. So the hook
//! hands the save to tokio's blocking pool, and this wrapper keeps the order:
//! every operation waits for the background saves made before it, so an older
//! token never lands after a newer one (a spent refresh token kept on disk ends
//! the session at the next start, through the server's reuse detection).

use super::{SecretsError, SessionStore, StoreInfo};
use crate::backend::Credentials;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

type Account = (String, String);

pub struct OrderedStore {
    inner: Arc<dyn SessionStore>,
    /// The newest credentials not yet written, per (profile, username).
    waiting: Mutex<HashMap<Account, Credentials>>,
    /// Held while anything touches `inner`, so writes happen one at a time.
    writing: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Poisoned only by a panic mid-write; the map and the unit are still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl OrderedStore {
    pub fn new(inner: Arc<dyn SessionStore>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            waiting: Mutex::new(HashMap::new()),
            writing: Mutex::new(()),
        })
    }

    /// Save without blocking the caller when it runs inside a tokio runtime
    /// (on the blocking pool; the runtime waits for it before the process ends);
    /// elsewhere, save now. Failures are logged: the caller is a sync hook.
    pub fn save_in_background(self: &Arc<Self>, profile: &str, username: &str, c: &Credentials) {
        lock(&self.waiting).insert((profile.to_owned(), username.to_owned()), c.clone());
        let store = Arc::clone(self);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(move || store.write_waiting());
            }
            Err(_) => store.write_waiting(),
        }
    }

    /// Writes what is waiting. A task that finds nothing left lets it be: a
    /// later save (or one that started earlier and took the newest) wrote it.
    fn write_waiting(&self) {
        let _one_at_a_time = lock(&self.writing);
        self.write_waiting_locked();
    }

    fn write_waiting_locked(&self) {
        let waiting: Vec<(Account, Credentials)> = lock(&self.waiting).drain().collect();
        for ((profile, username), c) in waiting {
            if let Err(e) = self.inner.save(&profile, &username, &c) {
                tracing::warn!(error = %e, "signed-in state not kept");
            }
        }
    }

    /// Runs `op` on the inner store after every save made before it.
    fn in_order<T>(&self, op: impl FnOnce(&dyn SessionStore) -> T) -> T {
        let _one_at_a_time = lock(&self.writing);
        self.write_waiting_locked();
        op(&*self.inner)
    }
}

impl SessionStore for OrderedStore {
    fn load(&self, profile: &str, username: &str) -> Result<Option<Credentials>, SecretsError> {
        self.in_order(|store| store.load(profile, username))
    }

    fn save(&self, profile: &str, username: &str, c: &Credentials) -> Result<(), SecretsError> {
        self.in_order(|store| store.save(profile, username, c))
    }

    fn forget(&self, profile: &str, username: &str) -> Result<(), SecretsError> {
        self.in_order(|store| store.forget(profile, username))
    }

    fn info(&self) -> StoreInfo {
        self.inner.info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Remembers every write, in order, as the refresh token written.
    #[derive(Default)]
    struct Journal {
        writes: Mutex<Vec<Option<String>>>,
    }

    impl SessionStore for Journal {
        fn load(&self, _: &str, _: &str) -> Result<Option<Credentials>, SecretsError> {
            Ok(None)
        }
        fn save(&self, _: &str, _: &str, c: &Credentials) -> Result<(), SecretsError> {
            lock(&self.writes).push(c.refresh_token.clone());
            Ok(())
        }
        fn forget(&self, _: &str, _: &str) -> Result<(), SecretsError> {
            lock(&self.writes).push(None);
            Ok(())
        }
        fn info(&self) -> StoreInfo {
            StoreInfo {
                name: "journal".into(),
                why: "test".into(),
                persistence: "memory".into(),
            }
        }
    }

    fn with_refresh(token: &str) -> Credentials {
        let mut c = Credentials::default();
        c.refresh_token = Some(token.into());
        c
    }

    #[test]
    fn outside_a_runtime_the_save_happens_at_once() {
        let journal = Arc::new(Journal::default());
        let store = OrderedStore::new(journal.clone());
        store.save_in_background("p", "u", &with_refresh("r1"));
        assert_eq!(*lock(&journal.writes), vec![Some("r1".to_string())]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_background_save_never_lands_after_a_later_forget() {
        let journal = Arc::new(Journal::default());
        let store = OrderedStore::new(journal.clone());
        store.save_in_background("p", "u", &with_refresh("r1"));
        store.save_in_background("p", "u", &with_refresh("r2"));
        store.forget("p", "u").unwrap_or_else(|e| panic!("{e}"));
        // Let the background tasks run; they find nothing left to write.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let writes = lock(&journal.writes).clone();
        assert_eq!(writes.last(), Some(&None), "forgotten last: {writes:?}");
        let saved: Vec<&str> = writes.iter().flatten().map(String::as_str).collect();
        assert!(
            saved == ["r2"] || saved == ["r1", "r2"],
            "saved out of order: {writes:?}"
        );
    }
}
