// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! App passwords, changing the password, and renaming methods and devices.

mod server_support;

use secinfo::protocol::*;
use serde_json::json;
use server_support::World;

async fn ping(w: &World, user: &str, pass: &str) -> reqwest::Response {
    w.http
        .get(w.url("/v1/legacy/ping"))
        .basic_auth(user, Some(pass))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn app_password_is_shown_once_and_only_works_for_legacy_clients() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let created: AppPasswordCreated = w
        .post(
            "/v1/me/app-passwords",
            AppPasswordRequest {
                name: "Old mail app".into(),
            },
            Some(&t.access_token),
        )
        .await
        .ok();
    let pw = created.password.clone();
    assert_eq!(pw.len(), 19, "{pw}");
    let listed = w.get("/v1/me/app-passwords", &t.access_token).await;
    assert!(!listed.body.to_string().contains(&pw), "never listed again");
    let listed: Vec<AppPasswordDto> = listed.ok();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "Old mail app");
    assert!(listed[0].last_used_at.is_none());

    let ok = ping(&w, "alice@contoso.test", &pw.to_uppercase()).await;
    assert_eq!(ok.status(), 200);
    let who: LegacyPing = ok.json().await.unwrap();
    assert_eq!(
        (who.username.as_str(), who.app_password.as_str()),
        ("alice@contoso.test", "Old mail app")
    );
    let used: Vec<AppPasswordDto> = w.get("/v1/me/app-passwords", &t.access_token).await.ok();
    assert!(used[0].last_used_at.is_some());

    // Not the real password on the legacy endpoint, and not the app password for sign-in or the API.
    assert_eq!(
        ping(&w, "alice@contoso.test", "correct-horse-battery")
            .await
            .status(),
        401
    );
    assert_eq!(
        w.login_as("alice@contoso.test", &pw, "x", None)
            .await
            .status,
        401
    );
    assert_eq!(w.get("/v1/me", &pw).await.status, 401);

    assert_eq!(
        w.delete(
            &format!("/v1/me/app-passwords/{}", created.app_password.id),
            &t.access_token
        )
        .await
        .status,
        204
    );
    assert_eq!(ping(&w, "alice@contoso.test", &pw).await.status(), 401);
    let notices = w.notices("alice@contoso.test");
    assert!(
        notices
            .iter()
            .any(|n| n.contains("app password \"Old mail app\" was created"))
    );
    assert!(notices.iter().any(|n| n.contains("was deleted")));
}

#[tokio::test]
async fn changing_the_password_signs_out_the_other_sessions() {
    let w = World::default().await;
    let laptop = w.alice_signs_in("laptop", false).await;
    let desktop = w.alice_signs_in("desktop", false).await;
    let wrong = w
        .post(
            "/v1/me/password",
            json!({"current_password": "nope-nope-nope", "new_password": "a-brand-new-one"}),
            Some(&laptop.access_token),
        )
        .await;
    assert_eq!(wrong.code(), codes::INVALID_CREDENTIALS);
    let short = w
        .post(
            "/v1/me/password",
            json!({"current_password": "correct-horse-battery", "new_password": "short"}),
            Some(&laptop.access_token),
        )
        .await;
    assert_eq!(short.status, 400);
    let ok = w
        .post(
            "/v1/me/password",
            json!({"current_password": "correct-horse-battery", "new_password": "a-brand-new-one"}),
            Some(&laptop.access_token),
        )
        .await;
    assert_eq!(ok.status, 204);
    assert_eq!(
        w.get("/v1/me", &laptop.access_token).await.status,
        200,
        "this session stays"
    );
    assert_eq!(
        w.get("/v1/me", &desktop.access_token).await.status,
        401,
        "the others end"
    );
    assert_eq!(
        w.login_as("alice@contoso.test", "correct-horse-battery", "x", None)
            .await
            .status,
        401
    );
    let next: AuthResult = w
        .login_as("alice@contoso.test", "a-brand-new-one", "x", None)
        .await
        .ok();
    assert!(matches!(next, AuthResult::MfaRequired(_)));
    let methods = w.methods(&laptop.access_token).await;
    assert!(methods[0].detail.starts_with("Last updated"));
}

#[tokio::test]
async fn renaming_the_phone_renames_its_methods() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let methods = w.methods(&t.access_token).await;
    let push = methods
        .iter()
        .find(|m| m.kind == "authenticator_push")
        .unwrap();
    let r = w
        .http
        .patch(w.url(&format!("/v1/me/methods/{}", push.id)))
        .bearer_auth(&t.access_token)
        .json(&RenameRequest {
            name: "Work phone".into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let after = w.methods(&t.access_token).await;
    assert!(
        after
            .iter()
            .filter(|m| m.device_id == push.device_id)
            .all(|m| m.detail == "Work phone")
    );
    let devices: Vec<DeviceDto> = w.get("/v1/me/devices", &t.access_token).await.ok();
    assert_eq!(devices[0].name, "Work phone");

    let r = w
        .http
        .patch(w.url(&format!("/v1/me/devices/{}", devices[0].id)))
        .bearer_auth(&t.access_token)
        .json(&RenameRequest { name: "   ".into() })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let sms = after.iter().find(|m| m.kind == "phone").unwrap();
    let r = w
        .http
        .patch(w.url(&format!("/v1/me/methods/{}", sms.id)))
        .bearer_auth(&t.access_token)
        .json(&RenameRequest { name: "x".into() })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a number is changed by adding the new one");
}
