// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The shared HTTP layer under faults, through the native adapter: a server
//! that fails with 500, sends invalid JSON, throttles with Retry-After, or
//! never answers. Each gives a clear error; only idempotent requests retry.

use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use secinfo::backend::native::NativeBackend;
use secinfo::backend::{Backend, BackendError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn backend(url: &str) -> NativeBackend {
    NativeBackend::new(url, "client-1", "tests", Duration::from_secs(2)).unwrap()
}

#[tokio::test]
async fn a_server_error_is_reported_with_its_status_and_its_body_described_not_quoted() {
    // Whatever is in a body that is not the error shape (a proxy's text, a token) is not shown.
    let app = axum::Router::new().route(
        "/v1/auth/login",
        post(|| async {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "database on fire sat_SECRET",
            )
        }),
    );
    let b = backend(&serve(app).await);
    let err = b.sign_in("a", &"pw".into()).await.unwrap_err();
    assert_eq!(
        err,
        BackendError::Server {
            status: 500,
            message: "Internal Server Error (27 bytes that are not the expected JSON)".into()
        }
    );
    assert!(err.to_string().contains("500"));
    assert!(!err.to_string().contains("sat_SECRET"));
}

#[tokio::test]
async fn invalid_json_is_malformed_not_a_crash() {
    let app = axum::Router::new().route("/v1/meta", get(|| async { "{\"name\": tru" }));
    let b = backend(&serve(app).await);
    let err = b.server_info().await.unwrap_err();
    assert!(matches!(err, BackendError::Malformed(_)), "{err:?}");
    assert!(err.to_string().contains("cannot read"), "{err}");
}

fn meta_json() -> String {
    serde_json::json!({"name": "t", "version": "1", "api": "v1", "remember_days": 30,
        "mfa_max_age_secs": 600, "enrollable": []})
    .to_string()
}

#[tokio::test]
async fn a_throttled_get_is_retried_after_retry_after() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/v1/meta",
        get(move || {
            let h = h.clone();
            async move {
                let mut headers = HeaderMap::new();
                if h.fetch_add(1, Ordering::SeqCst) == 0 {
                    headers.insert("retry-after", "1".parse().unwrap());
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        headers,
                        "slow down".to_string(),
                    )
                } else {
                    headers.insert("content-type", "application/json".parse().unwrap());
                    (StatusCode::OK, headers, meta_json())
                }
            }
        }),
    );
    let b = backend(&serve(app).await);
    let started = std::time::Instant::now();
    let info = b.server_info().await.unwrap();
    assert_eq!(info.remember_days, 30);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
}

#[tokio::test]
async fn a_throttled_post_is_not_retried_and_says_when_to_try_again() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/v1/auth/login",
        post(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                let mut headers = HeaderMap::new();
                headers.insert("retry-after", "7".parse().unwrap());
                headers.insert("content-type", "application/json".parse().unwrap());
                let body = r#"{"error":{"code":"throttled","message":"too many attempts"}}"#;
                (StatusCode::TOO_MANY_REQUESTS, headers, body)
            }
        }),
    );
    let b = backend(&serve(app).await);
    let err = b.sign_in("a", &"pw".into()).await.unwrap_err();
    assert_eq!(err, BackendError::Throttled { retry_after: 7 });
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "a POST must never be replayed"
    );
    assert!(err.to_string().contains("try again in 7 s"));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let app = axum::Router::new().route(
        "/v1/meta",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late"
        }),
    );
    let b = backend(&serve(app).await);
    let err = b.server_info().await.unwrap_err();
    assert_eq!(err, BackendError::Timeout(Duration::from_secs(2)));
}

#[tokio::test]
async fn an_expired_session_asks_to_sign_in_again() {
    let app = axum::Router::new()
        .route(
            "/v1/me/methods",
            get(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    r#"{"error":{"code":"unauthorized","message":"token revoked"}}"#,
                )
            }),
        )
        .route(
            "/v1/auth/refresh",
            post(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    r#"{"error":{"code":"unauthorized","message":"refresh revoked"}}"#,
                )
            }),
        );
    let b = backend(&serve(app).await);
    let mut old = secinfo::backend::Credentials::default();
    old.access_token = Some("old".into());
    old.refresh_token = Some("old-refresh".into());
    b.restore(old);
    assert_eq!(b.methods().await.unwrap_err(), BackendError::SignInRequired);
    let after = b.credentials();
    assert!(
        after.refresh_token.is_none(),
        "a refused refresh token must be dropped"
    );
}

/// A hostile server names itself with escape sequences (a window title, red
/// text, an OSC 52 clipboard write) and a bidi override: `secinfo doctor`
/// prints what it said, with nothing a terminal would act on.
#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_servers_text_reaches_the_terminal_without_escape_sequences() {
    let evil = "evil\u{1b}]0;TITLE\u{7}\u{1b}[31mRED\u{1b}]52;c;aGk=\u{7}\u{202e}gnp";
    let meta = serde_json::json!({"name": evil, "version": evil, "api": "v1", "remember_days": 30,
        "mfa_max_age_secs": 600, "enrollable": []})
    .to_string();
    let app = axum::Router::new().route("/v1/meta", get(move || async move { meta }));
    let url = serve(app).await;
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[profiles.evil]\nbackend = \"native\"\nurl = \"{url}\"\nsecret_store = \"passphrase\"\n"),
    )
    .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_secinfo"))
            .args(["doctor", "--profile", "evil"])
            .env("SECINFO_CONFIG", &config)
            .env("SECINFO_DATA_DIR", home.path().join("data"))
            .env("SECINFO_STATE_DIR", home.path().join("state"))
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("evil"),
        "the server's words are still shown: {text}"
    );
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "no control characters: {text:?}"
    );
    assert!(!text.contains('\u{202e}'), "no bidi override: {text:?}");
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let elsewhere = serve(axum::Router::new().route(
        "/v1/auth/login",
        post(move || {
            h.fetch_add(1, Ordering::SeqCst);
            async { "{}" }
        }),
    ))
    .await;
    let to = format!("{elsewhere}/v1/auth/login");
    let app = axum::Router::new().route(
        "/v1/auth/login",
        post(move || async move {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(axum::http::header::LOCATION, to)],
            )
        }),
    );
    let b = backend(&serve(app).await);
    let err = b
        .sign_in("alice", &"the password".into())
        .await
        .unwrap_err();
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the password never went elsewhere"
    );
    assert!(err.to_string().contains("does not follow"), "{err}");
}

#[tokio::test]
async fn a_huge_reply_is_refused_not_read_into_memory() {
    let app = axum::Router::new().route(
        "/v1/meta",
        get(|| async { "x".repeat(secinfo::backend::http::MAX_BODY + 1) }),
    );
    let b = backend(&serve(app).await);
    let err = b.server_info().await.unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[tokio::test]
async fn an_unreadable_reply_is_described_never_echoed() {
    let app = axum::Router::new().route(
        "/v1/meta",
        get(|| async { "access_token=secret-token-value; not json" }),
    );
    let b = backend(&serve(app).await);
    let err = b.server_info().await.unwrap_err();
    assert!(matches!(err, BackendError::Malformed(_)), "{err:?}");
    assert!(!err.to_string().contains("secret-token-value"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn loopback_requests_bypass_a_configured_proxy() {
    let app = axum::Router::new().route("/v1/meta", get(|| async { meta_json() }));
    let url = serve(app).await;
    // A proxy that does not exist: going through it would fail.
    let out = tokio::task::spawn_blocking(move || {
        let home = tempfile::tempdir().unwrap();
        let config = home.path().join("config.toml");
        std::fs::write(
            &config,
            format!("[profiles.local]\nbackend = \"native\"\nurl = \"{url}\"\nsecret_store = \"passphrase\"\n"),
        )
        .unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_secinfo"))
            .args(["doctor", "--json", "--profile", "local"])
            .env("SECINFO_CONFIG", &config)
            .env("SECINFO_DATA_DIR", home.path().join("data"))
            .env("SECINFO_STATE_DIR", home.path().join("state"))
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("http_proxy", "http://127.0.0.1:9")
            .env("ALL_PROXY", "http://127.0.0.1:9")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(doc["server"]["ok"], true, "{doc}");
}
