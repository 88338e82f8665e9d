// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Trust journeys: "Don't ask again for N days", refresh-token rotation,
//! sessions, and Sign out everywhere, against the real reference server.

mod server_support;

use secinfo::protocol::*;
use server_support::{World, refresh_body};

#[tokio::test]
async fn remembered_device_skips_mfa() {
    let w = World::default().await;
    let first = w.alice_signs_in("laptop", true).await;
    let grant = first
        .remembered_grant
        .clone()
        .expect("ticking the box issues a grant");

    let again: AuthResult = w
        .login_as(
            "alice@contoso.test",
            "correct-horse-battery",
            "laptop",
            Some(&grant),
        )
        .await
        .ok();
    let AuthResult::SignedIn(t) = again else {
        panic!("a remembered client skips the second factor: {again:?}")
    };
    assert!(!t.mfa_setup_required);
    let trusted: Vec<TrustedDeviceDto> =
        w.get("/v1/me/trusted-devices", &t.access_token).await.ok();
    assert_eq!(trusted.len(), 1);
    assert!(trusted[0].current);
    assert_eq!(trusted[0].client, "secinfo test laptop");
}

#[tokio::test]
async fn a_grant_only_works_on_the_client_it_was_given_to() {
    let w = World::default().await;
    let grant = w
        .alice_signs_in("laptop", true)
        .await
        .remembered_grant
        .unwrap();
    let elsewhere: AuthResult = w
        .login_as(
            "alice@contoso.test",
            "correct-horse-battery",
            "desktop",
            Some(&grant),
        )
        .await
        .ok();
    assert!(
        matches!(elsewhere, AuthResult::MfaRequired(_)),
        "{elsewhere:?}"
    );
    let bob: AuthResult = w
        .login_as(
            "bob@contoso.test",
            "staple-battery-horse",
            "laptop",
            Some(&grant),
        )
        .await
        .ok();
    assert!(matches!(bob, AuthResult::MfaRequired(_)), "{bob:?}");
}

#[tokio::test]
async fn revoking_remembered_device_asks_again() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", true).await;
    let grant = t.remembered_grant.clone().unwrap();
    let trusted: Vec<TrustedDeviceDto> =
        w.get("/v1/me/trusted-devices", &t.access_token).await.ok();
    let r = w
        .delete(
            &format!("/v1/me/trusted-devices/{}", trusted[0].id),
            &t.access_token,
        )
        .await;
    assert_eq!(r.status, 204);
    assert!(
        w.notices("alice@contoso.test")
            .iter()
            .any(|n| n.contains("Don't ask again"))
    );

    let next: AuthResult = w
        .login_as(
            "alice@contoso.test",
            "correct-horse-battery",
            "laptop",
            Some(&grant),
        )
        .await
        .ok();
    assert!(matches!(next, AuthResult::MfaRequired(_)), "{next:?}");
    let listed: Vec<TrustedDeviceDto> = w.get("/v1/me/trusted-devices", &t.access_token).await.ok();
    assert!(listed.is_empty());
}

#[tokio::test]
async fn expired_grant_asks_again() {
    let w = World::start(secinfo::server::Settings {
        remember_days: 0,
        ..Default::default()
    })
    .await;
    let grant = w
        .alice_signs_in("laptop", true)
        .await
        .remembered_grant
        .unwrap();
    let next: AuthResult = w
        .login_as(
            "alice@contoso.test",
            "correct-horse-battery",
            "laptop",
            Some(&grant),
        )
        .await
        .ok();
    assert!(matches!(next, AuthResult::MfaRequired(_)));
}

#[tokio::test]
async fn sign_out_everywhere_invalidates_other_clients_access_and_refresh_tokens() {
    let w = World::default().await;
    let laptop = w.alice_signs_in("laptop", true).await;
    let desktop = w.alice_signs_in("desktop", true).await;
    let sessions: Vec<SessionDto> = w.get("/v1/me/sessions", &laptop.access_token).await.ok();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);

    assert_eq!(
        w.post("/v1/me/signout-everywhere", (), Some(&laptop.access_token))
            .await
            .status,
        204
    );

    // The other client's access token is refused at once, and so is its refresh token.
    let other = w.get("/v1/me/methods", &desktop.access_token).await;
    assert_eq!(other.status, 401);
    assert_eq!(other.code(), codes::UNAUTHORIZED);
    assert_eq!(w.get("/v1/me", &laptop.access_token).await.status, 401);
    let refresh = w
        .post(
            "/v1/auth/refresh",
            refresh_body(&desktop.refresh_token, "desktop"),
            None,
        )
        .await;
    assert_eq!(refresh.status, 401);
    // Remembered devices are gone: the next sign-in anywhere asks for MFA again.
    for (client, grant) in [
        ("laptop", &laptop.remembered_grant),
        ("desktop", &desktop.remembered_grant),
    ] {
        let next: AuthResult = w
            .login_as(
                "alice@contoso.test",
                "correct-horse-battery",
                client,
                grant.as_deref(),
            )
            .await
            .ok();
        assert!(
            matches!(next, AuthResult::MfaRequired(_)),
            "{client}: {next:?}"
        );
    }
    assert!(
        w.notices("alice@contoso.test")
            .iter()
            .any(|n| n.contains("signed out everywhere"))
    );
}

#[tokio::test]
async fn refresh_rotates_and_reuse_ends_the_session() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let r: AuthResult = w
        .post(
            "/v1/auth/refresh",
            refresh_body(&t.refresh_token, "laptop"),
            None,
        )
        .await
        .ok();
    let AuthResult::SignedIn(t2) = r else {
        panic!("{r:?}")
    };
    assert_ne!(t2.refresh_token, t.refresh_token);
    assert_eq!(t2.session_id, t.session_id, "refresh keeps the session");
    assert_eq!(w.get("/v1/me", &t2.access_token).await.status, 200);

    // The old refresh token again: someone copied it. The whole family ends.
    let reuse = w
        .post(
            "/v1/auth/refresh",
            refresh_body(&t.refresh_token, "laptop"),
            None,
        )
        .await;
    assert_eq!(reuse.status, 401);
    assert_eq!(reuse.code(), codes::REFRESH_REUSED);
    assert_eq!(w.get("/v1/me", &t2.access_token).await.status, 401);
    let newest = w
        .post(
            "/v1/auth/refresh",
            refresh_body(&t2.refresh_token, "laptop"),
            None,
        )
        .await;
    assert_eq!(newest.status, 401);
}

#[tokio::test]
async fn a_refresh_token_only_works_for_its_client() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let r = w
        .post(
            "/v1/auth/refresh",
            refresh_body(&t.refresh_token, "someone-else"),
            None,
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn expired_access_token_is_refused_and_refresh_gets_a_new_one() {
    let w = World::start(secinfo::server::Settings {
        access_token_ttl: 0,
        ..Default::default()
    })
    .await;
    let t = w.alice_signs_in("laptop", false).await;
    let r = w.get("/v1/me", &t.access_token).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), codes::UNAUTHORIZED);
    let refreshed: AuthResult = w
        .post(
            "/v1/auth/refresh",
            refresh_body(&t.refresh_token, "laptop"),
            None,
        )
        .await
        .ok();
    assert!(matches!(refreshed, AuthResult::SignedIn(_)));
}

#[tokio::test]
async fn signing_out_one_session_leaves_the_others() {
    let w = World::default().await;
    let laptop = w.alice_signs_in("laptop", false).await;
    let desktop = w.alice_signs_in("desktop", false).await;
    let r = w
        .delete(
            &format!("/v1/me/sessions/{}", desktop.session_id),
            &laptop.access_token,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(w.get("/v1/me", &desktop.access_token).await.status, 401);
    let sessions: Vec<SessionDto> = w.get("/v1/me/sessions", &laptop.access_token).await.ok();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].current);
    assert_eq!(sessions[0].ip, "127.0.0.1");

    assert_eq!(
        w.post("/v1/auth/logout", (), Some(&laptop.access_token))
            .await
            .status,
        204
    );
    assert_eq!(w.get("/v1/me", &laptop.access_token).await.status, 401);
}

#[tokio::test]
async fn another_users_session_cannot_be_touched() {
    let w = World::default().await;
    let alice = w.alice_signs_in("laptop", false).await;
    let AuthResult::MfaRequired(ch) = w
        .login_as("bob@contoso.test", "staple-battery-horse", "bob", None)
        .await
        .ok()
    else {
        panic!()
    };
    let email = World::method(&ch, "email").method_id.clone();
    w.send_factor(&ch, &email, None).await.ok::<MfaSent>();
    let code = w.last_code("bob.personal@example.test");
    let AuthResult::SignedIn(bob) = w.answer(&ch, &email, Some(&code), false, None).await.ok()
    else {
        panic!()
    };
    let r = w
        .delete(
            &format!("/v1/me/sessions/{}", alice.session_id),
            &bob.access_token,
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(w.get("/v1/me", &alice.access_token).await.status, 200);
}
