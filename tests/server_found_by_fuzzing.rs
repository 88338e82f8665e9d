// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! What fuzzing and schemathesis found in the reference server, each kept as
//! a plain regression test (RELIABILITY.md, "Fuzzing" and "schemathesis").

mod server_support;

use secinfo::server::Settings;
use serde_json::json;
use server_support::World;

/// A device proof dated near the start of time overflowed the clock check: a
/// 500 in a debug build, and in a release build the wrapped difference would
/// have passed the ±300 s window. It is now refused like any stale proof.
#[tokio::test]
async fn a_device_proof_dated_at_the_end_of_time_is_refused_not_a_server_error() {
    let w = World::start(Settings::default()).await;
    let device = w.phone().accounts()[0].device_id.clone();
    for timestamp in [i64::MIN, i64::MIN + 1, i64::MAX] {
        for action in ["pending", "unregister"] {
            let proof =
                json!({"timestamp": timestamp, "nonce": "0123456789abcdef", "signature": ""});
            let r = w
                .post(&format!("/v1/device/{device}/{action}"), proof, None)
                .await;
            assert_eq!(r.status, 401, "{action} at {timestamp}: {}", r.body);
            assert!(r.message().contains("clock"), "{}", r.body);
        }
    }
}
