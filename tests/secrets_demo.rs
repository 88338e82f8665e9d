//! The demo's own token file: plain JSON, 0600, for the demo profile only.

use std::os::unix::fs::PermissionsExt;

use secinfo::backend::Credentials;
use secinfo::secrets::{DemoStore, SecretsError, SessionStore};

fn demo_tokens() -> Credentials {
    Credentials {
        access_token: Some("demo-access".into()),
        refresh_token: Some("demo-refresh".into()),
        remembered_grant: None,
        access_expires_at: Some(42),
    }
}

#[test]
fn demo_store_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let store = DemoStore::new(&demo_dir, "demo");
    assert_eq!(store.load("demo", "alice").unwrap(), None);
    store.save("demo", "alice", &demo_tokens()).unwrap();

    let restarted = DemoStore::new(&demo_dir, "demo");
    assert_eq!(
        restarted.load("demo", "alice").unwrap(),
        Some(demo_tokens())
    );
    let mode = std::fs::metadata(restarted.path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let info = restarted.info();
    assert!(
        info.name.contains("demo") && info.name.contains("plain"),
        "{info:?}"
    );
    assert!(
        info.why.contains("demo profile") && info.why.contains("real profiles use the encrypted"),
        "{info:?}"
    );

    restarted.forget("demo", "alice").unwrap();
    assert_eq!(
        DemoStore::new(&demo_dir, "demo")
            .load("demo", "alice")
            .unwrap(),
        None
    );
}

#[test]
fn the_demo_store_refuses_real_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let store = DemoStore::new(dir.path(), "demo");
    let err = store.save("work", "alice", &demo_tokens()).err().unwrap();
    assert!(matches!(err, SecretsError::Unavailable(_)), "{err}");
    assert!(err.to_string().contains("only holds the demo profile"));
    assert!(!store.path().exists(), "nothing written for a real profile");
}
