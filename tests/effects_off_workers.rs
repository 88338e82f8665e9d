//! The secret store and the accounts list are files (and maybe the OS keyring):
//! effects must call them on tokio's blocking pool, never on an async worker.
//! The store here notices where it is called: `Handle::block_on` works on a
//! blocking-pool thread and panics on a worker.

use secinfo::accounts::KnownAccounts;
use secinfo::app::effects::{self, Deps, Effect};
use secinfo::backend::Credentials;
use secinfo::backend::native::NativeBackend;
use secinfo::journeys::session::Keeper;
use secinfo::secrets::{SecretsError, SessionStore, StoreInfo};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Counts the calls made from an async worker thread.
#[derive(Default)]
struct WhereCalled {
    calls: Mutex<u32>,
    on_a_worker: Mutex<u32>,
}

impl WhereCalled {
    fn note(&self) {
        let blocked_a_worker = std::panic::catch_unwind(|| {
            tokio::runtime::Handle::current().block_on(async {});
        })
        .is_err();
        *self.calls.lock().unwrap() += 1;
        if blocked_a_worker {
            *self.on_a_worker.lock().unwrap() += 1;
        }
    }
}

impl SessionStore for WhereCalled {
    fn load(&self, _: &str, _: &str) -> Result<Option<Credentials>, SecretsError> {
        self.note();
        Ok(None)
    }
    fn save(&self, _: &str, _: &str, _: &Credentials) -> Result<(), SecretsError> {
        self.note();
        Ok(())
    }
    fn forget(&self, _: &str, _: &str) -> Result<(), SecretsError> {
        self.note();
        Ok(())
    }
    fn info(&self) -> StoreInfo {
        StoreInfo {
            name: "where-called".into(),
            why: "test".into(),
            persistence: "none".into(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeping_restoring_and_forgetting_run_off_the_async_workers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(WhereCalled::default());
    // Nothing here reaches the network: nothing is kept, so nothing is restored.
    let backend =
        NativeBackend::new("http://127.0.0.1:9", "test", "test", Duration::from_secs(1)).unwrap();
    let deps = Deps {
        backend: Arc::new(backend),
        keeper: Keeper::new(
            store.clone(),
            "work",
            Arc::new(Mutex::new(KnownAccounts::load(
                &dir.path().join("accounts.json"),
            ))),
        ),
        demo: None,
    };
    let user = || "alice@contoso.test".to_string();
    for effect in [
        Effect::Keep {
            username: user(),
            display_name: "Alice".into(),
        },
        Effect::Restore {
            id: 1,
            username: user(),
        },
        Effect::ForgetCredentials { username: user() },
        Effect::ForgetAccount { username: user() },
    ] {
        effects::run(effect, deps.clone()).await;
    }
    assert!(*store.calls.lock().unwrap() >= 4);
    assert_eq!(
        *store.on_a_worker.lock().unwrap(),
        0,
        "the secret store was called on an async worker"
    );
}
