// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The server's log (at its most verbose) never holds a password, a code,
//! a token, a grant, a TOTP secret or an app password.

mod server_support;

use secinfo::protocol::*;
use server_support::World;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_full_journey_leaves_no_secret_in_the_log() {
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .init();

    let w = World::default().await;
    let mut secrets = vec![w.demo.password.clone()];
    // Push with a grant, then a TOTP sign-in, an SMS code, a refresh, an app password.
    let t = w.alice_signs_in("laptop", true).await;
    secrets.extend([
        t.access_token.clone(),
        t.refresh_token.clone(),
        t.remembered_grant.clone().unwrap(),
    ]);
    let code = w.phone().code(None).unwrap();
    let ch = w.alice_challenge("desk").await;
    let totp = World::method(&ch, "totp").method_id.clone();
    assert!(matches!(
        w.answer(&ch, &totp, Some(code.expose()), false, None)
            .await
            .ok(),
        AuthResult::SignedIn(_)
    ));
    secrets.push(code.expose().to_string());
    let ch = w.alice_challenge("desk").await;
    let sms = World::method(&ch, "phone").method_id.clone();
    w.send_factor(&ch, &sms, None).await.ok::<MfaSent>();
    let sms_code = w.last_code("+1 425 555 0123");
    let wrong = w
        .answer(
            &ch,
            &sms,
            Some(&server_support::wrong_code(&sms_code)),
            false,
            None,
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(matches!(
        w.answer(&ch, &sms, Some(&sms_code), false, None).await.ok(),
        AuthResult::SignedIn(_)
    ));
    secrets.push(sms_code);
    let r: AuthResult = w
        .post(
            "/v1/auth/refresh",
            server_support::refresh_body(&t.refresh_token, "laptop"),
            None,
        )
        .await
        .ok();
    let AuthResult::SignedIn(t2) = r else {
        panic!()
    };
    secrets.extend([t2.access_token.clone(), t2.refresh_token.clone()]);
    let app: AppPasswordCreated = w
        .post(
            "/v1/me/app-passwords",
            AppPasswordRequest {
                name: "mail".into(),
            },
            Some(&t2.access_token),
        )
        .await
        .ok();
    secrets.push(app.password);
    let e: EnrollmentDto = w
        .post(
            "/v1/me/enrollments",
            EnrollmentRequest {
                kind: "totp".into(),
                target: None,
                name: None,
                replaces: None,
            },
            Some(&t2.access_token),
        )
        .await
        .ok();
    secrets.push(e.secret.unwrap());
    // Reusing the old refresh token is logged as an event, without the token.
    let reuse = w
        .post(
            "/v1/auth/refresh",
            server_support::refresh_body(&t.refresh_token, "laptop"),
            None,
        )
        .await;
    assert_eq!(reuse.code(), codes::REFRESH_REUSED);

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("served"),
        "requests are logged at all: {text}"
    );
    assert!(text.contains("refresh token reused"));
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "a secret leaked into the log");
    }
}
