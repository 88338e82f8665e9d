// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Recent activity on the reference server: what the account holder sees at
//! `/v1/me/activity` after sign-ins, failures, lockouts and changes, a page
//! at a time, and never another user's events.

mod server_support;

use secinfo::protocol::*;
use server_support::{World, wrong_code};

async fn activity(w: &World, token: &str, query: &str) -> ActivityPageDto {
    w.get(&format!("/v1/me/activity{query}"), token).await.ok()
}

fn kinds(page: &ActivityPageDto) -> Vec<&str> {
    page.events.iter().map(|e| e.kind.as_str()).collect()
}

#[tokio::test]
async fn a_sign_in_shows_its_client_address_and_factor() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let page = activity(&w, &t.access_token, "").await;
    let newest = &page.events[0];
    assert_eq!(newest.kind, "sign_in");
    assert_eq!(newest.client.as_deref(), Some("secinfo test laptop"));
    assert_eq!(newest.ip.as_deref(), Some("127.0.0.1"));
    let factor = newest.factor.as_deref().unwrap_or_default();
    assert!(factor.starts_with("Authenticator app"), "{factor}");
    assert!(chrono::DateTime::parse_from_rfc3339(&newest.at).is_ok());
}

#[tokio::test]
async fn a_wrong_password_and_a_wrong_code_show_as_failed_sign_ins_newest_first() {
    let w = World::default().await;
    let bad = w
        .login_as("alice@contoso.test", "not-her-password", "attacker", None)
        .await;
    assert_eq!(bad.code(), codes::INVALID_CREDENTIALS);
    let ch = w.alice_challenge("attacker").await;
    let totp = World::method(&ch, "totp").method_id.clone();
    let right = w.phone().code(None).unwrap();
    let wrong = w
        .answer(&ch, &totp, Some(&wrong_code(right.expose())), false, None)
        .await;
    assert_eq!(wrong.code(), codes::INVALID_CODE);

    let t = w.alice_signs_in("laptop", false).await;
    let page = activity(&w, &t.access_token, "").await;
    assert_eq!(
        kinds(&page)[..3],
        ["sign_in", "sign_in_failed", "sign_in_failed"]
    );
    assert!(
        page.events[1]
            .what
            .starts_with("wrong code for Authenticator app")
    );
    assert_eq!(page.events[2].what, "wrong password");
    assert_eq!(
        page.events[2].client.as_deref(),
        Some("secinfo test attacker")
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_show_the_lockout() {
    let w = World::default().await;
    for _ in 0..5 {
        w.login_as("alice@contoso.test", "guess", "attacker", None)
            .await;
    }
    // Locked now: alice signs in from her own client by her remembered grant
    // once the lock ends; here, read the events straight from the database.
    let conn = rusqlite::Connection::open(&w.db).unwrap();
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM activity ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kinds.iter().filter(|k| *k == "sign_in_failed").count(), 5);
    assert_eq!(kinds.last().map(String::as_str), Some("lockout"));
}

#[tokio::test]
async fn changes_are_in_the_activity_with_the_client_that_made_them() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", true).await;
    let grants: Vec<TrustedDeviceDto> = w.get("/v1/me/trusted-devices", &t.access_token).await.ok();
    let revoked = w
        .delete(
            &format!("/v1/me/trusted-devices/{}", grants[0].id),
            &t.access_token,
        )
        .await;
    assert!(revoked.status.is_success(), "{}", revoked.message());
    w.new_app_password(&t.access_token, "Old mail").await;

    let page = activity(&w, &t.access_token, "").await;
    assert_eq!(kinds(&page)[..3], ["app_passwords", "sessions", "sign_in"]);
    assert_eq!(
        page.events[0].what,
        "the app password \"Old mail\" was created"
    );
    assert!(page.events[1].what.contains("Don't ask again"));
    assert_eq!(
        page.events[0].client.as_deref(),
        Some("secinfo test laptop")
    );
}

#[tokio::test]
async fn activity_comes_a_page_at_a_time_and_each_event_once() {
    let w = World::default().await;
    let mut last = None;
    for i in 0..5 {
        last = Some(w.alice_signs_in(&format!("client-{i}"), false).await);
    }
    let token = last.unwrap().access_token;
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_string();
    loop {
        let page = activity(&w, &token, &query).await;
        assert!(page.events.len() <= 2);
        seen.extend(page.events.iter().map(|e| e.id.clone()));
        match page.next {
            Some(next) => query = format!("?limit=2&before={next}"),
            None => break,
        }
    }
    let all = activity(&w, &token, "?limit=200").await;
    assert_eq!(
        seen,
        all.events.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
    );
    assert_eq!(all.events.len(), 5);
    assert!(all.next.is_none());
}

#[tokio::test]
async fn a_bad_page_request_is_refused_with_a_clear_error() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    for query in [
        "?limit=0",
        "?limit=201",
        "?limit=-1",
        "?limit=ten",
        "?before=yesterday",
    ] {
        let reply = w
            .get(&format!("/v1/me/activity{query}"), &t.access_token)
            .await;
        assert_eq!(reply.status.as_u16(), 400, "{query}");
        assert_eq!(reply.code(), codes::BAD_REQUEST, "{query}");
    }
}

#[tokio::test]
async fn nobody_sees_another_users_activity() {
    let w = World::default().await;
    w.alice_signs_in("laptop", false).await;
    let ch = match w
        .login_as("bob@contoso.test", &w.demo.other_password, "bobs", None)
        .await
        .ok()
    {
        AuthResult::MfaRequired(ch) => ch,
        other => panic!("bob signs in with a code by email: {other:?}"),
    };
    let email = World::method(&ch, "email").method_id.clone();
    let sent = w.send_factor(&ch, &email, None).await;
    assert!(sent.status.is_success(), "{}", sent.message());
    let code = w.last_code("bob.personal@example.test");
    let AuthResult::SignedIn(t) = w.answer(&ch, &email, Some(&code), false, None).await.ok() else {
        panic!("the emailed code signs bob in")
    };
    let page = activity(&w, &t.access_token, "").await;
    assert_eq!(kinds(&page), ["sign_in"]);
    assert_eq!(page.events[0].client.as_deref(), Some("secinfo test bobs"));
    let factor = page.events[0].factor.as_deref().unwrap_or_default();
    assert!(factor.starts_with("Email"), "{factor}");
}
