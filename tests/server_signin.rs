// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Sign-in journeys against the real reference server: password, then a
//! second factor (push with number matching, TOTP, code by SMS or email),
//! and the rules that protect it (replay, wrong number, throttling, expiry).

mod server_support;

use secinfo::protocol::*;
use secinfo::secrets::SecretString;
use secinfo::server::{Settings, admin};
use server_support::{World, wrong_code};

#[tokio::test]
async fn alice_signs_in_with_password_and_push_number_matching() {
    let w = World::default().await;
    let ch = w.alice_challenge("laptop").await;
    let push = World::method(&ch, "authenticator_push");
    assert_eq!(
        ch.default_method_id.as_deref(),
        Some(push.method_id.as_str()),
        "push is alice's default"
    );
    assert!(push.label.contains("Alice's phone"), "{}", push.label);
    assert_eq!(ch.remember_days, 30);

    let pending_before = w.phone().pending().await.unwrap();
    assert!(
        pending_before.is_empty(),
        "nothing waits before a push is sent"
    );
    let tokens = w.approve_by_push(&ch, false, None).await;

    let me: Me = w.get("/v1/me", &tokens.access_token).await.ok();
    assert_eq!(me.username, "alice@contoso.test");
    assert_eq!(me.display_name, "Alice Smith");
    assert_eq!(me.session_id, tokens.session_id);
    assert!(tokens.remembered_grant.is_none(), "no grant unless asked");
}

#[tokio::test]
async fn the_phone_sees_the_request_but_never_the_number() {
    let w = World::default().await;
    let ch = w.alice_challenge("laptop").await;
    let push = World::method(&ch, "authenticator_push").method_id.clone();
    let sent: MfaSent = w.send_factor(&ch, &push, None).await.ok();
    let number = sent.number.unwrap();
    assert!((10..=99).contains(&number));

    let pending = w.phone().pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].username, "alice@contoso.test");
    // Only what the server derives: the test client sends no User-Agent.
    assert_eq!(pending[0].client, "Unknown app");
    assert_eq!(pending[0].ip, "127.0.0.1");
    let raw = serde_json::to_string(&pending).unwrap();
    assert!(
        !raw.contains("number"),
        "the device API must not reveal the number: {raw}"
    );
}

#[tokio::test]
async fn wrong_number_on_push_is_rejected() {
    let w = World::default().await;
    let ch = w.alice_challenge("laptop").await;
    let push = World::method(&ch, "authenticator_push").method_id.clone();
    let number = w
        .send_factor(&ch, &push, None)
        .await
        .ok::<MfaSent>()
        .number
        .unwrap();
    let wrong = if number == 99 { 10 } else { number + 1 };

    let err = w.phone().approve(wrong).await.unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
    let poll = w.answer(&ch, &push, None, false, None).await;
    assert_eq!(poll.status, 400);
    assert_eq!(poll.code(), codes::WRONG_NUMBER);
    // The failed push cannot be approved afterwards with the right number.
    assert!(w.phone().approve(number).await.is_err());
    assert_eq!(
        w.answer(&ch, &push, None, false, None).await.code(),
        codes::WRONG_NUMBER
    );
}

#[tokio::test]
async fn denied_push_is_reported() {
    let w = World::default().await;
    let ch = w.alice_challenge("laptop").await;
    let push = World::method(&ch, "authenticator_push").method_id.clone();
    w.send_factor(&ch, &push, None).await.ok::<MfaSent>();
    w.phone().deny().await.unwrap();
    let poll = w.answer(&ch, &push, None, false, None).await;
    assert_eq!(poll.code(), codes::PUSH_DENIED);
}

#[tokio::test]
async fn totp_code_from_the_phone_signs_in() {
    let w = World::default().await;
    let ch = w.alice_challenge("laptop").await;
    let totp = World::method(&ch, "totp").method_id.clone();
    let sent: MfaSent = w.send_factor(&ch, &totp, None).await.ok();
    assert!(
        sent.number.is_none() && sent.sent_to.is_none(),
        "nothing is sent for TOTP"
    );
    let code = w.phone().code(Some("alice@contoso.test")).unwrap();
    let res: AuthResult = w
        .answer(&ch, &totp, Some(code.expose()), false, None)
        .await
        .ok();
    assert!(matches!(res, AuthResult::SignedIn(_)), "{res:?}");
}

#[tokio::test]
async fn replayed_totp_is_rejected() {
    let w = World::default().await;
    let code = w.phone().code(None).unwrap();
    let ch = w.alice_challenge("laptop").await;
    let totp = World::method(&ch, "totp").method_id.clone();
    assert!(matches!(
        w.answer(&ch, &totp, Some(code.expose()), false, None)
            .await
            .ok(),
        AuthResult::SignedIn(_)
    ));

    let again = w.alice_challenge("other-laptop").await;
    let replay = w
        .answer(&again, &totp, Some(code.expose()), false, None)
        .await;
    assert_eq!(replay.status, 400);
    assert_eq!(replay.code(), codes::CODE_REUSED);
    assert!(
        replay.message().contains("already used"),
        "{}",
        replay.message()
    );
}

#[tokio::test]
async fn sms_code_lands_in_the_outbox_and_signs_in() {
    let w = World::default().await;
    let ch = w.alice_challenge("laptop").await;
    let sms = World::method(&ch, "phone");
    assert!(
        sms.label.ends_with("23") && !sms.label.contains("555"),
        "masked: {}",
        sms.label
    );
    let sent: MfaSent = w.send_factor(&ch, &sms.method_id, None).await.ok();
    assert!(sent.sent_to.unwrap().ends_with("23"));
    let code = w.last_code("+1 425 555 0123");
    let res: AuthResult = w
        .answer(&ch, &sms.method_id, Some(&code), false, None)
        .await
        .ok();
    assert!(matches!(res, AuthResult::SignedIn(_)));
    // A used code is gone.
    let ch2 = w.alice_challenge("laptop").await;
    let reuse = w
        .answer(&ch2, &sms.method_id, Some(&code), false, None)
        .await;
    assert_eq!(reuse.status, 400);
}

#[tokio::test]
async fn email_code_signs_in_the_second_account() {
    let w = World::default().await;
    let login = w
        .login_as(
            &w.demo.other_username,
            &w.demo.other_password,
            "laptop",
            None,
        )
        .await;
    let AuthResult::MfaRequired(ch) = login.ok() else {
        panic!("bob has an email method")
    };
    let email = World::method(&ch, "email").method_id.clone();
    let sent: MfaSent = w.send_factor(&ch, &email, None).await.ok();
    assert_eq!(
        sent.sent_to,
        Some(secinfo::domain::mask_email("bob.personal@example.test"))
    );
    let code = w.last_code("bob.personal@example.test");
    let res: AuthResult = w.answer(&ch, &email, Some(&code), false, None).await.ok();
    let AuthResult::SignedIn(t) = res else {
        panic!("{res:?}")
    };
    let me: Me = w.get("/v1/me", &t.access_token).await.ok();
    assert_eq!(me.username, "bob@contoso.test");
}

#[tokio::test]
async fn resending_a_code_too_soon_is_throttled() {
    let w = World::start(Settings {
        code_resend: 600,
        ..Settings::default()
    })
    .await;
    let ch = w.alice_challenge("laptop").await;
    let sms = World::method(&ch, "phone").method_id.clone();
    w.send_factor(&ch, &sms, None).await.ok::<MfaSent>();
    let again = w.send_factor(&ch, &sms, None).await;
    assert_eq!(again.status, 429);
    assert_eq!(again.code(), codes::THROTTLED);
    let secs: u64 = again.retry_after.as_deref().unwrap().parse().unwrap();
    assert!(secs > 0 && secs <= 600);
}

#[tokio::test]
async fn wrong_password_is_rejected_without_saying_which_part() {
    let w = World::default().await;
    let bad = w
        .login_as("alice@contoso.test", "nope-nope-nope", "laptop", None)
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.code(), codes::INVALID_CREDENTIALS);
    let unknown = w
        .login_as("nobody@contoso.test", "nope-nope-nope", "laptop", None)
        .await;
    assert_eq!(unknown.code(), codes::INVALID_CREDENTIALS);
    assert_eq!(bad.message(), unknown.message());
}

#[tokio::test]
async fn too_many_wrong_codes_are_throttled() {
    let w = World::start(Settings {
        max_failed_attempts: 3,
        lockout: 120,
        ..Settings::default()
    })
    .await;
    let ch = w.alice_challenge("laptop").await;
    let totp = World::method(&ch, "totp").method_id.clone();
    let right = w.phone().code(None).unwrap();
    for _ in 0..3 {
        let r = w
            .answer(&ch, &totp, Some(&wrong_code(right.expose())), false, None)
            .await;
        assert_eq!(r.code(), codes::INVALID_CODE);
    }
    // Locked now: even the right code waits, and so does the password.
    let locked = w
        .answer(&ch, &totp, Some(right.expose()), false, None)
        .await;
    assert_eq!(locked.status, 429);
    assert_eq!(locked.code(), codes::THROTTLED);
    let secs: u64 = locked
        .retry_after
        .as_deref()
        .expect("Retry-After header")
        .parse()
        .unwrap();
    assert!(secs > 0 && secs <= 120);
    assert!(
        locked.message().contains(&format!("try again in {secs} s")),
        "{}",
        locked.message()
    );
    let login = w
        .login_as(
            "alice@contoso.test",
            "correct-horse-battery",
            "laptop",
            None,
        )
        .await;
    assert_eq!(login.status, 429);
}

#[tokio::test]
async fn too_many_wrong_passwords_are_throttled() {
    let w = World::start(Settings {
        max_failed_attempts: 2,
        ..Settings::default()
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            w.login_as("alice@contoso.test", "wrong-password", "x", None)
                .await
                .status,
            401
        );
    }
    let r = w
        .login_as("alice@contoso.test", "correct-horse-battery", "x", None)
        .await;
    assert_eq!(r.status, 429);
    assert!(r.retry_after.is_some());
}

#[tokio::test]
async fn expired_challenge_is_rejected_with_clear_message() {
    let w = World::start(Settings {
        challenge_ttl: 0,
        ..Settings::default()
    })
    .await;
    let ch = w.alice_challenge("laptop").await;
    let totp = World::method(&ch, "totp").method_id.clone();
    let code = w.phone().code(None).unwrap();
    let r = w.answer(&ch, &totp, Some(code.expose()), false, None).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), codes::CHALLENGE_EXPIRED);
    assert!(
        r.message().contains("expired") && r.message().contains("sign in again"),
        "{}",
        r.message()
    );
}

#[tokio::test]
async fn unanswered_push_expires_clearly() {
    let w = World::start(Settings {
        push_ttl: 0,
        ..Settings::default()
    })
    .await;
    let ch = w.alice_challenge("laptop").await;
    let push = World::method(&ch, "authenticator_push").method_id.clone();
    w.send_factor(&ch, &push, None).await.ok::<MfaSent>();
    assert!(
        w.phone().pending().await.unwrap().is_empty(),
        "an expired push is not offered"
    );
    let r = w.answer(&ch, &push, None, false, None).await;
    assert_eq!(r.code(), codes::CHALLENGE_EXPIRED);
    assert!(
        r.message().contains("notification expired"),
        "{}",
        r.message()
    );
}

#[tokio::test]
async fn an_account_without_second_factor_is_told_to_set_one_up() {
    let w = World::default().await;
    admin::add_user(
        &w.db,
        "carol@contoso.test",
        "Carol",
        &SecretString::new("carol-password-1"),
    )
    .unwrap();
    let r: AuthResult = w
        .login_as("carol@contoso.test", "carol-password-1", "laptop", None)
        .await
        .ok();
    let AuthResult::SignedIn(t) = r else {
        panic!("{r:?}")
    };
    assert!(t.mfa_setup_required);
    let methods = w.methods(&t.access_token).await;
    assert_eq!(methods.len(), 1);
    assert_eq!(methods[0].kind, "password");
    assert!(!methods[0].usable_mfa);
}

#[tokio::test]
async fn a_completed_challenge_cannot_be_used_twice() {
    let w = World::default().await;
    let ch = w.alice_challenge("laptop").await;
    w.approve_by_push(&ch, false, None).await;
    let push = World::method(&ch, "authenticator_push").method_id.clone();
    let again = w.answer(&ch, &push, None, false, None).await;
    assert_eq!(again.code(), codes::CHALLENGE_EXPIRED);
}
