//! The generic device-code client (RFC 8628) against a real, independent
//! OAuth server: oidc-provider from npm, configured by scripts/oidc/server.mjs
//! and installed by `./scripts/test` (scripts/oidc/up). Each test starts its
//! own server on a free loopback port. The person in the browser is played
//! by the server's test endpoint, which walks the provider's own /device pages.
//! If the server is not installed these tests fail, saying how to install it.

use secinfo::backend::http::HttpClient;
use secinfo::backend::oauth::{DevicePoll, Endpoints, OAuthClient, OAuthError, OAuthSession};
use secinfo::backend::{BackendError, BrowserStep, Credentials};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CLIENT: &str = "tui-client";
const SCOPES: &[&str] = &["openid", "offline_access", "methods.readwrite"];

/// One oidc-provider process, stopped when dropped.
struct Provider {
    issuer: String,
    child: Child,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server_script() -> PathBuf {
    let dir = std::env::var_os("OIDC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/oidc-provider"));
    let script = dir.join("server.mjs");
    assert!(
        dir.join("node_modules/oidc-provider").is_dir() && script.is_file(),
        "oidc-provider is not installed in {}. Run ./scripts/test, or scripts/oidc/up",
        dir.display()
    );
    script
}

/// Start a provider with these settings (see server.mjs) and wait for its ready line.
fn provider(settings: &[(&str, &str)]) -> Provider {
    let mut child = Command::new("node")
        .arg(server_script())
        .env("PORT", "0")
        .env("CLIENT_ID", CLIENT)
        .envs(settings.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node is needed for the device-flow tests (Node.js 20+)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("the test OAuth server did not start ({e}): {line:?}"));
    Provider {
        issuer: ready["issuer"].as_str().unwrap().to_string(),
        child,
    }
}

impl Provider {
    fn client(&self) -> OAuthClient {
        let http = HttpClient::new(&self.issuer, Duration::from_secs(10), None).unwrap();
        OAuthClient::new(
            http,
            CLIENT,
            Endpoints {
                device_authorization: "device/auth".into(),
                token: "token".into(),
            },
        )
    }

    /// The person enters the code in the browser and approves (or denies).
    async fn browser(&self, step: &BrowserStep, action: &str) -> serde_json::Value {
        let resp = reqwest::Client::new()
            .post(format!(
                "{}/__test/device?user_code={}&action={action}",
                self.issuer, step.user_code
            ))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "the browser step failed: {}",
            resp.status()
        );
        resp.json().await.unwrap()
    }
}

fn granted(poll: DevicePoll) -> secinfo::backend::oauth::TokenSet {
    match poll {
        DevicePoll::Granted(t) => t,
        other => panic!("expected tokens, got {other:?}"),
    }
}

#[tokio::test]
async fn a_person_approves_in_the_browser_and_polling_stops_at_the_first_success() {
    let op = provider(&[("INTERVAL", "0")]);
    let client = op.client();
    let step = client.start_device(SCOPES, None).await.unwrap();
    assert_eq!(step.verification_uri, format!("{}/device", op.issuer));
    assert_eq!(
        step.verification_uri_complete.as_deref(),
        Some(format!("{}/device?user_code={}", op.issuer, step.user_code).as_str())
    );
    assert_eq!(
        client.poll_device(&step).await.unwrap(),
        DevicePoll::Pending
    );

    op.browser(&step, "approve").await;
    let tokens = granted(client.poll_device(&step).await.unwrap());
    assert!(tokens.refresh_token.is_some());
    assert_eq!(
        tokens.scope.as_deref(),
        Some("openid offline_access methods.readwrite")
    );
    assert!(
        !format!("{tokens:?}").contains(tokens.access_token.expose()),
        "tokens stay out of Debug"
    );

    // Asking again would replay a spent device code, which revokes the whole
    // grant at this server: the client refuses without sending it...
    assert_eq!(
        client.poll_device(&step).await.unwrap_err(),
        OAuthError::AlreadyUsed
    );
    // ...so the grant is intact: its refresh token still works.
    let refresh = tokens.refresh_token.unwrap();
    assert!(client.refresh(refresh.expose(), SCOPES).await.is_ok());
}

#[tokio::test]
async fn polling_faster_than_the_interval_is_told_to_slow_down() {
    let op = provider(&[("INTERVAL", "60")]);
    let client = op.client();
    let step = client.start_device(SCOPES, None).await.unwrap();
    assert_eq!(
        step.interval,
        Duration::from_secs(60),
        "the server's interval is kept"
    );
    assert_eq!(
        client.poll_device(&step).await.unwrap(),
        DevicePoll::Pending
    );
    assert_eq!(
        client.poll_device(&step).await.unwrap(),
        DevicePoll::SlowDown
    );
    assert_eq!(
        client.poll_device(&step).await.unwrap(),
        DevicePoll::SlowDown
    );
}

#[tokio::test]
async fn a_code_left_unused_expires_and_polling_ends() {
    let op = provider(&[("INTERVAL", "0"), ("DEVICE_TTL", "1")]);
    let client = op.client();
    let step = client.start_device(SCOPES, None).await.unwrap();
    assert_eq!(step.expires_in, Duration::from_secs(1));
    // Wait for the server's clock, not ours: poll until it stops saying "pending".
    let mut outcome = client.poll_device(&step).await;
    for _ in 0..50 {
        if outcome != Ok(DevicePoll::Pending) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        outcome = client.poll_device(&step).await;
    }
    assert_eq!(outcome, Err(OAuthError::Expired));
    let said = BackendError::from(OAuthError::Expired).to_string();
    assert!(said.contains("expired"), "{said}");
}

#[tokio::test]
async fn a_person_who_declines_in_the_browser_ends_the_sign_in() {
    let op = provider(&[("INTERVAL", "0")]);
    let client = op.client();
    let step = client.start_device(SCOPES, None).await.unwrap();
    op.browser(&step, "deny").await;
    assert_eq!(client.poll_device(&step).await, Err(OAuthError::Declined));
}

#[tokio::test]
async fn refresh_tokens_rotate_into_the_store_and_a_spent_one_ends_the_session() {
    let op = provider(&[("INTERVAL", "0")]);
    let session = OAuthSession::new(op.client(), BackendError::from);
    let saved: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let into = saved.clone();
    session.tokens().watch(Arc::new(move |c: &Credentials| {
        into.lock().unwrap().push(c.refresh_token.clone())
    }));

    let step = session.client.start_device(SCOPES, None).await.unwrap();
    op.browser(&step, "approve").await;
    session.accept(&granted(session.client.poll_device(&step).await.unwrap()));
    let first = session.tokens().refresh_token().unwrap();
    let stale = session.access_token();

    // A 401 elsewhere: one refresh, whose new refresh token reaches the store at once.
    session.refresh(stale.as_deref(), SCOPES).await.unwrap();
    let second = session.tokens().refresh_token().unwrap();
    assert_ne!(first, second, "rotated");
    assert_ne!(session.access_token(), stale);
    assert_eq!(
        *saved.lock().unwrap(),
        [Some(first.clone()), Some(second.clone())]
    );

    // Someone replays the spent one: the server sees reuse and ends the grant.
    assert!(matches!(
        session.client.refresh(&first, SCOPES).await,
        Err(OAuthError::InvalidGrant { .. })
    ));
    // The next refresh is refused: sign in again, and nothing dead is kept.
    let now = session.access_token();
    assert_eq!(
        session.refresh(now.as_deref(), SCOPES).await,
        Err(BackendError::SignInRequired)
    );
    assert_eq!(session.tokens().refresh_token(), None);
}

#[tokio::test]
async fn a_step_up_carries_its_claims_and_a_new_scope_is_asked_for_only_when_needed() {
    let op = provider(&[("INTERVAL", "0")]);
    let client = op.client();
    let step = client.start_device(SCOPES, None).await.unwrap();
    op.browser(&step, "approve").await;
    let tokens = granted(client.poll_device(&step).await.unwrap());

    // A refresh cannot widen the grant: the scope must be asked for in the browser.
    let wider: Vec<&str> = SCOPES.iter().copied().chain(["sessions.revoke"]).collect();
    let refused = client
        .refresh(tokens.refresh_token.unwrap().expose(), &wider)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, OAuthError::Refused { error, .. } if error == "invalid_scope"),
        "{refused:?}"
    );

    let claims = r#"{"id_token":{"amr":{"essential":true,"values":["mfa"]}}}"#;
    let step = client.start_device(&wider, Some(claims)).await.unwrap();
    let seen = op.browser(&step, "approve").await;
    assert_eq!(
        seen["claims"],
        serde_json::from_str::<serde_json::Value>(claims).unwrap()
    );
    let tokens = granted(client.poll_device(&step).await.unwrap());
    assert!(tokens.scope.unwrap().contains("sessions.revoke"));
}

#[tokio::test]
async fn an_unknown_client_is_refused_by_name() {
    let op = provider(&[]);
    let http = HttpClient::new(&op.issuer, Duration::from_secs(10), None).unwrap();
    let stranger = OAuthClient::new(
        http,
        "not-registered",
        Endpoints {
            device_authorization: "device/auth".into(),
            token: "token".into(),
        },
    );
    let err = stranger.start_device(SCOPES, None).await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Refused { error, .. } if error == "invalid_client"),
        "{err:?}"
    );
}
