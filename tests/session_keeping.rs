// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Keeping a session: a kept sign-in whose access token has expired opens
//! on Security info. Requests that run together and all get a 401 refresh
//! once between them; a second use of the same refresh token would look like
//! theft to the server and end the session.

mod server_support;

use secinfo::backend::native::NativeBackend;
use secinfo::backend::{Backend, Credentials};
use secinfo::server::Settings;
use server_support::World;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn refreshes_seen_by_the_server(world: &World) -> i64 {
    let db = rusqlite::Connection::open(&world.db).unwrap();
    db.query_row(
        "SELECT COUNT(*) FROM refresh_tokens WHERE used = 1",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_session_with_an_expired_access_token_survives_parallel_loads_with_one_refresh() {
    // 3 s, not 1: the refreshed token lives as briefly, and on a loaded
    // machine three requests must finish with it before it expires too.
    let world = World::start(Settings {
        access_token_ttl: 3,
        ..Settings::default()
    })
    .await;
    let tokens = world.alice_signs_in("kept-client", false).await;
    tokio::time::sleep(Duration::from_millis(3100)).await;

    let backend = NativeBackend::new(
        &world.server.url,
        "kept-client",
        "secinfo test",
        Duration::from_secs(10),
    )
    .unwrap();
    backend.restore(Credentials {
        access_token: Some(tokens.access_token.clone()),
        refresh_token: Some(tokens.refresh_token.clone()),
        remembered_grant: None,
        access_expires_at: Some(chrono::Utc::now().timestamp() - 1),
    });
    let kept = Arc::new(AtomicUsize::new(0));
    let counter = kept.clone();
    backend.watch_credentials(Arc::new(move |_: &Credentials| {
        counter.fetch_add(1, Ordering::SeqCst);
    }));

    // What the home screen does: the account, the capabilities and the methods at once.
    let (account, methods, devices) =
        tokio::join!(backend.account(), backend.methods(), backend.devices());
    assert_eq!(account.unwrap().username, world.demo.username);
    assert!(!methods.unwrap().is_empty());
    assert!(devices.is_ok());

    assert_eq!(
        refreshes_seen_by_the_server(&world),
        1,
        "one refresh for all three"
    );
    assert_eq!(
        kept.load(Ordering::SeqCst),
        1,
        "the new tokens were kept once"
    );
    // The session is alive: the next request works and the server still knows it.
    assert!(backend.sessions().await.unwrap().iter().any(|s| s.current));
    assert_ne!(
        backend.credentials().refresh_token.as_deref(),
        Some(tokens.refresh_token.as_str()),
        "the spent refresh token is not kept"
    );
}
