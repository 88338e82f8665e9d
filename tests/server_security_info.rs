// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Security-info journeys: listing methods and devices, step-up for stale
//! MFA, the last-method guard, default changes, and the notices they send.

mod server_support;

use secinfo::protocol::*;
use secinfo::secrets::SecretString;
use secinfo::server::admin;
use server_support::World;

#[tokio::test]
async fn methods_and_devices_list_what_the_portal_shows() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let methods = w.methods(&t.access_token).await;
    let kinds: Vec<&str> = methods.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["password", "authenticator_push", "totp", "phone", "email"]
    );
    assert!(!methods[0].usable_mfa && !methods[0].is_default);
    assert!(methods[0].detail.starts_with("Last updated "));
    let push = &methods[1];
    assert!(push.is_default && push.usable_mfa);
    assert_eq!(push.detail, "Alice's phone");
    assert!(push.last_used_at.is_some(), "just used to sign in");
    assert_eq!(
        methods[3].detail,
        secinfo::domain::mask_phone("+1 425 555 0123")
    );
    assert_eq!(
        methods[4].detail,
        secinfo::domain::mask_email("alice.personal@example.test")
    );

    let devices: Vec<DeviceDto> = w.get("/v1/me/devices", &t.access_token).await.ok();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].name, "Alice's phone");
    assert_eq!(devices[0].platform, "Android");
    assert!(devices[0].reachable);
    assert_eq!(push.device_id.as_deref(), Some(devices[0].id.as_str()));
    assert_eq!(
        methods[2].device_id, push.device_id,
        "the TOTP lives on the same phone"
    );
}

#[tokio::test]
async fn stale_mfa_change_needs_step_up() {
    let w = World::default().await;
    // A remembered sign-in proves no second factor now, so changes ask for one.
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
    let methods = w.methods(&t.access_token).await;
    let sms = methods.iter().find(|m| m.kind == "phone").unwrap();

    let refused = w
        .put(
            "/v1/me/default-method",
            DefaultMethodRequest {
                method_id: sms.id.clone(),
            },
            Some(&t.access_token),
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.code(), codes::STEP_UP_REQUIRED);

    let AuthResult::MfaRequired(ch) = w
        .post("/v1/auth/step-up", (), Some(&t.access_token))
        .await
        .ok()
    else {
        panic!()
    };
    // A step-up challenge answers only to its own session's token.
    let push = World::method(&ch, "authenticator_push").method_id.clone();
    assert_eq!(w.send_factor(&ch, &push, None).await.status, 401);
    let fresh = w.approve_by_push(&ch, false, Some(&t.access_token)).await;
    assert_eq!(fresh.session_id, t.session_id, "step-up keeps the session");

    let ok = w
        .put(
            "/v1/me/default-method",
            DefaultMethodRequest {
                method_id: sms.id.clone(),
            },
            Some(&fresh.access_token),
        )
        .await;
    assert_eq!(ok.status, 204);
    let after = w.methods(&fresh.access_token).await;
    assert!(after.iter().find(|m| m.id == sms.id).unwrap().is_default);
    assert!(
        w.notices("alice@contoso.test")
            .iter()
            .any(|n| n.contains("default sign-in method is now Phone"))
    );
}

#[tokio::test]
async fn last_method_guard_on_method_and_device() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let tok = &t.access_token;
    let methods = w.methods(tok).await;
    for kind in ["phone", "email"] {
        let m = methods.iter().find(|m| m.kind == kind).unwrap();
        let r: DeleteResult = w
            .delete(&format!("/v1/me/methods/{}", m.id), tok)
            .await
            .ok();
        assert!(
            r.new_default_method_id.is_none(),
            "the default did not change"
        );
    }
    // Only the phone's push and TOTP remain: the device carries every usable method.
    let devices: Vec<DeviceDto> = w.get("/v1/me/devices", tok).await.ok();
    let dev = &devices[0];
    let refused = w.delete(&format!("/v1/me/devices/{}", dev.id), tok).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.code(), codes::LAST_METHOD);
    assert!(
        refused.message().contains("Alice's phone"),
        "{}",
        refused.message()
    );
    let wrong_name = w
        .delete(
            &format!("/v1/me/devices/{}?confirm=Alice%27s%20phon", dev.id),
            tok,
        )
        .await;
    assert_eq!(wrong_name.code(), codes::LAST_METHOD);

    // Deleting the default push leaves the TOTP, which becomes default.
    let push = w
        .methods(tok)
        .await
        .into_iter()
        .find(|m| m.kind == "authenticator_push")
        .unwrap();
    let totp = w
        .methods(tok)
        .await
        .into_iter()
        .find(|m| m.kind == "totp")
        .unwrap();
    let r: DeleteResult = w
        .delete(&format!("/v1/me/methods/{}", push.id), tok)
        .await
        .ok();
    assert_eq!(r.new_default_method_id.as_deref(), Some(totp.id.as_str()));

    // The last one: refused, then accepted with its exact name typed.
    let refused = w.delete(&format!("/v1/me/methods/{}", totp.id), tok).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.code(), codes::LAST_METHOD);
    let confirm = url::form_urlencoded::byte_serialize(totp.detail.as_bytes()).collect::<String>();
    let r: DeleteResult = w
        .delete(
            &format!("/v1/me/methods/{}?confirm={confirm}", totp.id),
            tok,
        )
        .await
        .ok();
    assert!(r.new_default_method_id.is_none());
    let left = w.methods(tok).await;
    assert_eq!(left.len(), 1, "only the password is left: {left:?}");
    // The device stays (with no methods) and can now go without a guard.
    let r = w.delete(&format!("/v1/me/devices/{}", dev.id), tok).await;
    assert_eq!(r.status, 200);
    let notices = w.notices("alice@contoso.test");
    assert!(
        notices.iter().filter(|n| n.contains("was removed")).count() >= 4,
        "{notices:?}"
    );
}

#[tokio::test]
async fn deleting_a_device_removes_its_methods_and_picks_a_new_default() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let devices: Vec<DeviceDto> = w.get("/v1/me/devices", &t.access_token).await.ok();
    let r: DeleteResult = w
        .delete(
            &format!("/v1/me/devices/{}", devices[0].id),
            &t.access_token,
        )
        .await
        .ok();
    let methods = w.methods(&t.access_token).await;
    let kinds: Vec<&str> = methods.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["password", "phone", "email"]);
    let phone = methods.iter().find(|m| m.kind == "phone").unwrap();
    assert_eq!(r.new_default_method_id.as_deref(), Some(phone.id.as_str()));
    assert!(phone.is_default);
    let devices: Vec<DeviceDto> = w.get("/v1/me/devices", &t.access_token).await.ok();
    assert!(devices.is_empty());
}

#[tokio::test]
async fn the_password_is_listed_but_cannot_be_deleted_or_made_default() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let r = w.delete("/v1/me/methods/password", &t.access_token).await;
    assert_eq!(r.status, 400);
    let r = w
        .put(
            "/v1/me/default-method",
            DefaultMethodRequest {
                method_id: "password".into(),
            },
            Some(&t.access_token),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = w
        .delete("/v1/me/methods/m_nonexistent", &t.access_token)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), codes::NOT_FOUND);
}

#[tokio::test]
async fn admin_reset_mfa_leaves_only_the_password() {
    let w = World::default().await;
    admin::reset_mfa(&w.db, "alice@contoso.test").unwrap();
    let r: AuthResult = w
        .login_as(
            "alice@contoso.test",
            "correct-horse-battery",
            "laptop",
            None,
        )
        .await
        .ok();
    let AuthResult::SignedIn(t) = r else {
        panic!("{r:?}")
    };
    assert!(t.mfa_setup_required);
    admin::set_password(
        &w.db,
        "alice@contoso.test",
        &SecretString::new("a-new-password"),
    )
    .unwrap();
    assert_eq!(
        w.login_as(
            "alice@contoso.test",
            "correct-horse-battery",
            "laptop",
            None
        )
        .await
        .status,
        401
    );
    let users = admin::list_users(&w.db).unwrap();
    let alice = users
        .iter()
        .find(|u| u.username == "alice@contoso.test")
        .unwrap();
    assert_eq!((alice.mfa_methods, alice.devices), (0, 0));
    assert_eq!(
        users
            .iter()
            .find(|u| u.username == "bob@contoso.test")
            .unwrap()
            .mfa_methods,
        1
    );
}
