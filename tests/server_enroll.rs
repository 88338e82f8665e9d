// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! "Add sign-in method" on the reference server: TOTP, phone and email by
//! code, the authenticator app by activation and an approved test push;
//! expiry, cancel and the rules around them.

mod server_support;

use secinfo::phone::Phone;
use secinfo::protocol::*;
use secinfo::secrets::SecretString;
use secinfo::server::{Settings, admin};
use server_support::{World, wrong_code};

fn begin(kind: &str, target: Option<&str>, name: Option<&str>) -> EnrollmentRequest {
    EnrollmentRequest {
        kind: kind.into(),
        target: target.map(str::to_string),
        name: name.map(str::to_string),
        replaces: None,
    }
}

async fn poll(w: &World, id: &str, token: &str) -> server_support::Reply {
    w.post(
        &format!("/v1/me/enrollments/{id}/verify"),
        EnrollmentVerifyRequest { code: None },
        Some(token),
    )
    .await
}

async fn carol(w: &World) -> Tokens {
    admin::add_user(
        &w.db,
        "carol@contoso.test",
        "Carol",
        &SecretString::new("carol-password-1"),
    )
    .unwrap();
    match w
        .login_as("carol@contoso.test", "carol-password-1", "laptop", None)
        .await
        .ok()
    {
        AuthResult::SignedIn(t) => t,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn user_adds_an_authenticator_app_by_scanning_the_otpauth_code() {
    let w = World::default().await;
    let t = carol(&w).await;
    let meta: Meta = w
        .http
        .get(w.url("/v1/meta"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(meta.enrollable.contains(&"totp".to_string()));

    let e: EnrollmentDto = w
        .post(
            "/v1/me/enrollments",
            begin("totp", None, Some("My app")),
            Some(&t.access_token),
        )
        .await
        .ok();
    assert_eq!(e.state, "pending");
    let uri = e.qr_payload.clone().unwrap();
    let app = totp_rs::Totp::from_url_unchecked(&uri).unwrap();
    assert_eq!(app.account_name(), "carol@contoso.test");
    assert_eq!(app.issuer(), Some("secinfo demo"));
    assert!(uri.contains(&e.secret.clone().unwrap()));
    // Nothing is listed while it is being added.
    assert_eq!(w.methods(&t.access_token).await.len(), 1);

    let code = app.generate_current().to_string();
    let wrong = w
        .post(
            &format!("/v1/me/enrollments/{}/verify", e.id),
            EnrollmentVerifyRequest {
                code: Some(wrong_code(&code)),
            },
            Some(&t.access_token),
        )
        .await;
    assert_eq!(wrong.code(), codes::INVALID_CODE);
    let done: EnrollmentDto = w
        .post(
            &format!("/v1/me/enrollments/{}/verify", e.id),
            EnrollmentVerifyRequest {
                code: Some(code.clone()),
            },
            Some(&t.access_token),
        )
        .await
        .ok();
    assert_eq!(done.state, "done");
    assert!(
        done.secret.is_none() && done.qr_payload.is_none(),
        "secrets are not repeated"
    );
    let m = done.method.unwrap();
    assert_eq!(
        (
            m.kind.as_str(),
            m.detail.as_str(),
            m.is_default,
            m.usable_mfa
        ),
        ("totp", "My app", true, true)
    );
    assert!(
        w.notices("carol@contoso.test")
            .iter()
            .any(|n| n.contains("was added"))
    );

    // Now carol signs in with it, and the code used to enroll cannot be replayed.
    let AuthResult::MfaRequired(ch) = w
        .login_as("carol@contoso.test", "carol-password-1", "laptop", None)
        .await
        .ok()
    else {
        panic!()
    };
    let replay = w.answer(&ch, &m.id, Some(&code), false, None).await;
    assert_eq!(replay.code(), codes::CODE_REUSED);
}

#[tokio::test]
async fn user_adds_a_phone_number_with_the_texted_code() {
    let w = World::default().await;
    let t = carol(&w).await;
    let bad = w
        .post(
            "/v1/me/enrollments",
            begin("phone", Some("425 555 0100"), None),
            Some(&t.access_token),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.message().contains("international format"),
        "{}",
        bad.message()
    );
    let e: EnrollmentDto = w
        .post(
            "/v1/me/enrollments",
            begin("phone", Some("+1 425 555 0100"), None),
            Some(&t.access_token),
        )
        .await
        .ok();
    assert!(e.sent_to.as_deref().unwrap().ends_with("00"));
    let code = w.last_code("+14255550100");
    let done: EnrollmentDto = w
        .post(
            &format!("/v1/me/enrollments/{}/verify", e.id),
            EnrollmentVerifyRequest { code: Some(code) },
            Some(&t.access_token),
        )
        .await
        .ok();
    assert_eq!(done.method.unwrap().kind, "phone");
}

#[tokio::test]
async fn user_adds_an_email_address() {
    let w = World::default().await;
    let t = carol(&w).await;
    assert_eq!(
        w.post(
            "/v1/me/enrollments",
            begin("email", Some("carol@nowhere"), None),
            Some(&t.access_token)
        )
        .await
        .status,
        400
    );
    let e: EnrollmentDto = w
        .post(
            "/v1/me/enrollments",
            begin("email", Some("carol@example.test"), None),
            Some(&t.access_token),
        )
        .await
        .ok();
    let code = w.last_code("carol@example.test");
    let done: EnrollmentDto = w
        .post(
            &format!("/v1/me/enrollments/{}/verify", e.id),
            EnrollmentVerifyRequest { code: Some(code) },
            Some(&t.access_token),
        )
        .await
        .ok();
    assert_eq!(done.state, "done");
}

#[tokio::test]
async fn user_adds_the_authenticator_app_and_approves_the_test_notification() {
    let w = World::default().await;
    let t = carol(&w).await;
    let e: EnrollmentDto = w
        .post(
            "/v1/me/enrollments",
            begin("authenticator_push", None, Some("Carol's phone")),
            Some(&t.access_token),
        )
        .await
        .ok();
    let link = e.qr_payload.clone().unwrap();
    assert!(link.starts_with("secinfo://activate?"));
    assert_eq!(e.server_url.as_deref(), Some(w.server.url.as_str()));
    assert!(e.activation_code.is_some());
    assert_eq!(
        poll(&w, &e.id, &t.access_token)
            .await
            .ok::<EnrollmentDto>()
            .state,
        "pending",
        "the phone has not scanned yet"
    );

    let mut phone = Phone::open(&w.dir.path().join("carols-phone")).unwrap();
    phone.activate(&link, "Carol's phone").await.unwrap();
    let waiting: EnrollmentDto = poll(&w, &e.id, &t.access_token).await.ok();
    assert_eq!(waiting.state, "awaiting_approval");
    let number = waiting.number.unwrap();
    // Not saved yet: neither the device nor its methods are listed.
    assert!(
        w.get("/v1/me/devices", &t.access_token)
            .await
            .ok::<Vec<DeviceDto>>()
            .is_empty()
    );
    assert_eq!(w.methods(&t.access_token).await.len(), 1);
    let still: EnrollmentDto = poll(&w, &e.id, &t.access_token).await.ok();
    assert_eq!(
        still.number,
        Some(number),
        "polling does not send another notification"
    );

    // Denied first: a clear error, then Retry sends a new notification.
    phone.deny().await.unwrap();
    assert_eq!(
        poll(&w, &e.id, &t.access_token).await.code(),
        codes::PUSH_DENIED
    );
    let again: EnrollmentDto = poll(&w, &e.id, &t.access_token).await.ok();
    assert_eq!(again.state, "awaiting_approval");
    phone.approve(again.number.unwrap()).await.unwrap();
    let done: EnrollmentDto = poll(&w, &e.id, &t.access_token).await.ok();
    assert_eq!(done.state, "done");
    let m = done.method.unwrap();
    assert_eq!(
        (m.kind.as_str(), m.detail.as_str(), m.is_default),
        ("authenticator_push", "Carol's phone", true)
    );
    let devices: Vec<DeviceDto> = w.get("/v1/me/devices", &t.access_token).await.ok();
    assert_eq!(devices.len(), 1);

    // Carol's next sign-in can use it.
    let AuthResult::MfaRequired(ch) = w
        .login_as("carol@contoso.test", "carol-password-1", "laptop", None)
        .await
        .ok()
    else {
        panic!()
    };
    let n = w
        .send_factor(&ch, &m.id, None)
        .await
        .ok::<MfaSent>()
        .number
        .unwrap();
    phone.approve(n).await.unwrap();
    assert!(matches!(
        w.answer(&ch, &m.id, None, false, None).await.ok(),
        AuthResult::SignedIn(_)
    ));
}

#[tokio::test]
async fn cancelling_leaves_nothing_half_enrolled() {
    let w = World::default().await;
    let t = carol(&w).await;
    let e: EnrollmentDto = w
        .post(
            "/v1/me/enrollments",
            begin("authenticator_push", None, None),
            Some(&t.access_token),
        )
        .await
        .ok();
    let mut phone = Phone::open(&w.dir.path().join("p")).unwrap();
    phone
        .activate(e.qr_payload.as_deref().unwrap(), "Phone")
        .await
        .unwrap();
    assert_eq!(
        w.delete(&format!("/v1/me/enrollments/{}", e.id), &t.access_token)
            .await
            .status,
        204
    );
    assert_eq!(
        w.get(&format!("/v1/me/enrollments/{}", e.id), &t.access_token)
            .await
            .status,
        404
    );
    assert!(
        phone.pending().await.is_err(),
        "the half-added phone is gone from the server"
    );
    let r: AuthResult = w
        .login_as("carol@contoso.test", "carol-password-1", "laptop", None)
        .await
        .ok();
    let AuthResult::SignedIn(again) = r else {
        panic!("still no second factor: {r:?}")
    };
    assert!(again.mfa_setup_required);
}

#[tokio::test]
async fn an_expired_enrollment_says_so_and_is_gone() {
    let w = World::start(Settings {
        enrollment_ttl: 0,
        ..Settings::default()
    })
    .await;
    let t = carol(&w).await;
    let e: EnrollmentDto = w
        .post(
            "/v1/me/enrollments",
            begin("totp", None, None),
            Some(&t.access_token),
        )
        .await
        .ok();
    let code = totp_rs::Totp::from_url_unchecked(e.qr_payload.unwrap())
        .unwrap()
        .generate_current()
        .to_string();
    let r = w
        .post(
            &format!("/v1/me/enrollments/{}/verify", e.id),
            EnrollmentVerifyRequest { code: Some(code) },
            Some(&t.access_token),
        )
        .await;
    assert_eq!(r.code(), codes::CHALLENGE_EXPIRED);
    assert!(r.message().contains("start again"), "{}", r.message());
    assert_eq!(
        w.get(&format!("/v1/me/enrollments/{}", e.id), &t.access_token)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn adding_a_method_with_stale_mfa_needs_step_up_and_passkeys_are_refused() {
    let w = World::default().await;
    let grant = w
        .alice_signs_in("laptop", true)
        .await
        .remembered_grant
        .unwrap();
    let AuthResult::SignedIn(t) = w
        .login_as(
            "alice@contoso.test",
            "correct-horse-battery",
            "laptop",
            Some(&grant),
        )
        .await
        .ok()
    else {
        panic!()
    };
    let r = w
        .post(
            "/v1/me/enrollments",
            begin("totp", None, None),
            Some(&t.access_token),
        )
        .await;
    assert_eq!(r.code(), codes::STEP_UP_REQUIRED);
    let fresh = w.alice_signs_in("desktop", false).await;
    let r = w
        .post(
            "/v1/me/enrollments",
            begin("passkey", None, None),
            Some(&fresh.access_token),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("Passkey"), "{}", r.message());
    // Someone else's enrollment is not found.
    let e: EnrollmentDto = w
        .post(
            "/v1/me/enrollments",
            begin("totp", None, None),
            Some(&fresh.access_token),
        )
        .await
        .ok();
    let bob_t = carol(&w).await;
    assert_eq!(
        w.get(&format!("/v1/me/enrollments/{}", e.id), &bob_t.access_token)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn changing_a_phone_number_is_verified_and_keeps_the_default() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let methods = w.methods(&t.access_token).await;
    let old = methods.iter().find(|m| m.kind == "phone").unwrap().clone();
    let push = methods
        .iter()
        .find(|m| m.kind == "authenticator_push")
        .unwrap();
    assert_eq!(
        w.put(
            "/v1/me/default-method",
            DefaultMethodRequest {
                method_id: old.id.clone()
            },
            Some(&t.access_token)
        )
        .await
        .status,
        204
    );
    let wrong_kind = EnrollmentRequest {
        replaces: Some(push.id.clone()),
        ..begin("phone", Some("+1 425 555 0199"), None)
    };
    assert_eq!(
        w.post("/v1/me/enrollments", wrong_kind, Some(&t.access_token))
            .await
            .status,
        400
    );

    let req = EnrollmentRequest {
        replaces: Some(old.id.clone()),
        ..begin("phone", Some("+1 425 555 0199"), None)
    };
    let e: EnrollmentDto = w
        .post("/v1/me/enrollments", req, Some(&t.access_token))
        .await
        .ok();
    // Until the new number is verified, the old one stays.
    assert!(
        w.methods(&t.access_token)
            .await
            .iter()
            .any(|m| m.id == old.id)
    );
    let code = w.last_code("+14255550199");
    let done: EnrollmentDto = w
        .post(
            &format!("/v1/me/enrollments/{}/verify", e.id),
            EnrollmentVerifyRequest { code: Some(code) },
            Some(&t.access_token),
        )
        .await
        .ok();
    let new = done.method.unwrap();
    assert!(
        new.is_default,
        "the new number takes the old one's place as default"
    );
    assert!(new.detail.ends_with("99"));
    let after = w.methods(&t.access_token).await;
    assert!(
        after.iter().all(|m| m.id != old.id),
        "the old number is gone"
    );
    assert!(
        w.notices("alice@contoso.test")
            .iter()
            .any(|n| n.contains("was changed to"))
    );
}
