// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The simulated authenticator phone against the real reference server:
//! activation with its own key, approvals across accounts, and "Remove account".

mod common;
mod server_support;

use secinfo::phone::{Phone, PhoneError, Pick};
use secinfo::protocol::*;
use secinfo::server::admin;
use server_support::World;

#[tokio::test]
async fn a_new_phone_activates_and_approves_bobs_sign_in() {
    let w = World::default().await;
    let dir = w.dir.path().join("bobs-phone");
    let mut phone = Phone::open(&dir).unwrap();
    assert!(phone.accounts().is_empty());
    let link = admin::new_activation(&w.db, "bob@contoso.test", &w.server.url).unwrap();
    assert!(link.starts_with("secinfo://activate?code="), "{link}");
    let resp = phone.activate(&link, "Bob's phone").await.unwrap();
    assert_eq!(resp.username, "bob@contoso.test");
    assert_eq!(phone.accounts().len(), 1);
    assert!(
        w.notices("bob@contoso.test")
            .iter()
            .any(|n| n.contains("authenticator app on Bob's phone was added")),
        "the holder is told"
    );
    // The key is kept privately, and an activation link works once.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
    let mut other = Phone::open(&w.dir.path().join("thief")).unwrap();
    let again = other.activate(&link, "Thief").await.unwrap_err();
    assert!(again.to_string().contains("already used"), "{again}");

    // Bob can now sign in by push; adding a method leaves his default (email) alone.
    let AuthResult::MfaRequired(ch) = w
        .login_as("bob@contoso.test", "staple-battery-horse", "laptop", None)
        .await
        .ok()
    else {
        panic!()
    };
    let push = World::method(&ch, "authenticator_push").method_id.clone();
    let email = World::method(&ch, "email").method_id.clone();
    assert_eq!(ch.default_method_id.as_deref(), Some(email.as_str()));
    let number = w
        .send_factor(&ch, &push, None)
        .await
        .ok::<MfaSent>()
        .number
        .unwrap();
    let reopened = Phone::open(&dir).unwrap();
    reopened.approve(number).await.unwrap();
    assert!(matches!(
        w.answer(&ch, &push, None, false, None).await.ok(),
        AuthResult::SignedIn(_)
    ));

    // And its TOTP codes are accepted too.
    let AuthResult::MfaRequired(ch) = w
        .login_as("bob@contoso.test", "staple-battery-horse", "laptop", None)
        .await
        .ok()
    else {
        panic!()
    };
    let totp = World::method(&ch, "totp").method_id.clone();
    let code = reopened.code(Some("bob@contoso.test")).unwrap();
    assert!(matches!(
        w.answer(&ch, &totp, Some(code.expose()), false, None)
            .await
            .ok(),
        AuthResult::SignedIn(_)
    ));
}

/// The `secinfo` binary for this phone's directory (no config, its own dirs).
fn phone_cli(w: &World, args: &[&str], stdin: &str) -> std::process::Output {
    let dir = w.phone_dir.display().to_string();
    let mut all = vec!["phone", "--dir", dir.as_str()];
    all.extend(args);
    let home = w.dir.path();
    common::run_secinfo(home, &home.join("none.toml"), &all, stdin)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_phone_with_two_accounts_asks_which_request_and_never_guesses() {
    let w = World::default().await;
    let mut phone = w.phone();
    let link = admin::new_activation(&w.db, "bob@contoso.test", &w.server.url).unwrap();
    phone.activate(&link, "Alice's phone").await.unwrap();
    let names: Vec<String> = phone.accounts().into_iter().map(|a| a.username).collect();
    assert_eq!(names.len(), 2, "{names:?}");

    let alice_ch = w.alice_challenge("laptop").await;
    let alice_push = World::method(&alice_ch, "authenticator_push")
        .method_id
        .clone();
    let alice_number = w
        .send_factor(&alice_ch, &alice_push, None)
        .await
        .ok::<MfaSent>()
        .number
        .unwrap();
    let AuthResult::MfaRequired(bob_ch) = w
        .login_as("bob@contoso.test", "staple-battery-horse", "desk", None)
        .await
        .ok()
    else {
        panic!()
    };
    let bob_push = World::method(&bob_ch, "authenticator_push")
        .method_id
        .clone();
    w.send_factor(&bob_ch, &bob_push, None)
        .await
        .ok::<MfaSent>();

    let pending = phone.pending().await.unwrap();
    let mut users: Vec<&str> = pending.iter().map(|p| p.username.as_str()).collect();
    users.sort();
    assert_eq!(users, ["alice@contoso.test", "bob@contoso.test"]);

    // Two are waiting: "approve" and "deny" without saying which answer nothing.
    let Err(PhoneError::SeveralPending(listed)) = phone.approve(alice_number).await else {
        panic!("the phone guessed")
    };
    assert_eq!(listed, pending);
    assert!(matches!(
        phone.deny().await,
        Err(PhoneError::SeveralPending(_))
    ));
    // The CLI with --no-input and no choice: a usage error that lists them; nothing answered.
    let out = tokio::task::block_in_place(|| {
        phone_cli(
            &w,
            &[
                "--no-input",
                "approve",
                "--number",
                &alice_number.to_string(),
            ],
            "",
        )
    });
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("2 sign-ins are waiting")
            && err.contains(". alice@contoso.test from Unknown app (127.0.0.1) at")
            && err.contains(". bob@contoso.test from Unknown app (127.0.0.1) at")
            && err.contains(&pending[1].push_id)
            && err.contains(&pending[0].push_id)
            && err.contains("give --id ID"),
        "{err}"
    );
    assert_eq!(
        phone.pending().await.unwrap(),
        pending,
        "nothing was answered"
    );

    // Bob's request, by its id, is denied; then alice's is the only one, and its
    // approval (chosen from the list the CLI shows) says whose it was.
    let bob_id = pending
        .iter()
        .find(|p| p.username == "bob@contoso.test")
        .unwrap()
        .push_id
        .clone();
    let pick = Pick {
        push_id: Some(&bob_id),
        username: None,
    };
    let denied = phone.answer(pick, None).await.unwrap();
    assert_eq!(denied.username, "bob@contoso.test");
    assert_eq!(
        w.answer(&bob_ch, &bob_push, None, false, None).await.code(),
        codes::PUSH_DENIED
    );
    let out = tokio::task::block_in_place(|| {
        phone_cli(&w, &["approve", "--number", &alice_number.to_string()], "")
    });
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("Approved the sign-in of alice@contoso.test from Unknown app (127.0.0.1)"),
        "{said}"
    );
    assert!(matches!(
        w.answer(&alice_ch, &alice_push, None, false, None)
            .await
            .ok(),
        AuthResult::SignedIn(_)
    ));
    assert!(matches!(
        phone.approve(alice_number).await,
        Err(PhoneError::NothingPending)
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_two_requests_waiting_the_phone_cli_takes_the_one_chosen() {
    let w = World::default().await;
    let first = w.alice_challenge("laptop").await;
    let push = World::method(&first, "authenticator_push")
        .method_id
        .clone();
    w.send_factor(&first, &push, None).await.ok::<MfaSent>();
    let first_id = w.phone().pending().await.unwrap()[0].push_id.clone();
    let second = w.alice_challenge("desk").await;
    let number = w
        .send_factor(&second, &push, None)
        .await
        .ok::<MfaSent>()
        .number
        .unwrap();
    // `phone pending` lists both, as an aligned table and as JSON, each with its id.
    let table = tokio::task::block_in_place(|| phone_cli(&w, &["pending"], ""));
    let table = String::from_utf8_lossy(&table.stdout).to_string();
    assert!(
        table.starts_with("ID") && table.lines().count() == 3,
        "{table}"
    );
    assert!(table.contains(&first_id), "{table}");
    let json = tokio::task::block_in_place(|| phone_cli(&w, &["pending", "--json"], ""));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["pending"].as_array().map(Vec::len), Some(2), "{doc}");
    assert!(
        doc["pending"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == first_id.as_str()),
        "{doc}"
    );
    // Asked which, the person picks the second sign-in where the list shows it.
    let listed = w.phone().pending().await.unwrap();
    let at = listed.iter().position(|p| p.push_id != first_id).unwrap() + 1;
    let out = tokio::task::block_in_place(|| {
        phone_cli(
            &w,
            &["approve", "--number", &number.to_string()],
            &format!("{at}\n"),
        )
    });
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Which one? Enter 1-2:"), "{err}");
    assert!(matches!(
        w.answer(&second, &push, None, false, None).await.ok(),
        AuthResult::SignedIn(_)
    ));
    assert!(
        matches!(
            w.answer(&first, &push, None, false, None).await.ok(),
            AuthResult::Pending
        ),
        "the other request was left alone"
    );
    // An id that is not waiting is refused, not taken as "the other one".
    let out = tokio::task::block_in_place(|| phone_cli(&w, &["deny", "--id", "push_nope"], ""));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no sign-in push_nope is waiting"));
}

#[tokio::test]
async fn removed_phone_account_makes_push_fail_clearly() {
    let w = World::default().await;
    let mut phone = w.phone();
    phone.remove_account("alice@contoso.test").await.unwrap();
    assert!(phone.accounts().is_empty());
    assert!(
        Phone::open(&w.phone_dir).unwrap().accounts().is_empty(),
        "the key is gone from disk"
    );

    let ch = w.alice_challenge("laptop").await;
    let push = World::method(&ch, "authenticator_push").method_id.clone();
    let r = w.send_factor(&ch, &push, None).await;
    assert_eq!(r.code(), codes::PUSH_UNAVAILABLE);
    assert!(
        r.message().contains("Alice's phone") && r.message().contains("no longer has this account"),
        "{}",
        r.message()
    );

    // The method stays listed until the user deletes it; the device shows as unreachable.
    let sms = World::method(&ch, "phone").method_id.clone();
    w.send_factor(&ch, &sms, None).await.ok::<MfaSent>();
    let code = w.last_code("+1 425 555 0123");
    let AuthResult::SignedIn(t) = w.answer(&ch, &sms, Some(&code), false, None).await.ok() else {
        panic!()
    };
    assert!(
        w.methods(&t.access_token)
            .await
            .iter()
            .any(|m| m.kind == "authenticator_push")
    );
    let devices: Vec<DeviceDto> = w.get("/v1/me/devices", &t.access_token).await.ok();
    assert!(!devices[0].reachable);
}

#[tokio::test]
async fn removing_the_account_while_a_push_waits_fails_that_push() {
    let w = World::default().await;
    let ch = w.alice_challenge("laptop").await;
    let push = World::method(&ch, "authenticator_push").method_id.clone();
    w.send_factor(&ch, &push, None).await.ok::<MfaSent>();
    w.phone()
        .remove_account("alice@contoso.test")
        .await
        .unwrap();
    let r = w.answer(&ch, &push, None, false, None).await;
    assert_eq!(r.code(), codes::PUSH_UNAVAILABLE);
}

#[tokio::test]
async fn requests_signed_with_another_key_are_refused() {
    let w = World::default().await;
    let device_id = w.phone().accounts()[0].device_id.clone();
    let (_, _) = secinfo::phone::new_key();
    let forged = DeviceProof {
        timestamp: chrono::Utc::now().timestamp(),
        nonce: None,
        signature: base64_of(&[7u8; 64]),
    };
    let r = w
        .post(&format!("/v1/device/{device_id}/pending"), forged, None)
        .await;
    assert_eq!(r.status, 401);
    let r = w
        .post(
            &format!("/v1/device/{device_id}/unregister"),
            DeviceProof {
                timestamp: 0,
                nonce: None,
                signature: String::new(),
            },
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(w.phone().pending().await.is_ok(), "the device still works");
}

#[tokio::test]
async fn a_moved_server_is_followed_by_set_server_url() {
    let w = World::default().await;
    let mut phone = Phone::open(&w.phone_dir).unwrap();
    phone.set_server_url("http://127.0.0.1:9").unwrap();
    assert!(
        Phone::open(&w.phone_dir).unwrap().pending().await.is_err(),
        "nothing listens there"
    );
    let overridden = Phone::open(&w.phone_dir)
        .unwrap()
        .with_server_url(&w.server.url);
    assert!(overridden.pending().await.unwrap().is_empty());
    phone.set_server_url(&w.server.url).unwrap();
    assert!(Phone::open(&w.phone_dir).unwrap().pending().await.is_ok());
}

#[tokio::test]
async fn a_bad_activation_link_is_refused_clearly() {
    let w = World::default().await;
    let mut phone = Phone::open(&w.dir.path().join("p")).unwrap();
    assert!(matches!(
        phone.activate("https://example.test", "x").await,
        Err(PhoneError::BadPayload)
    ));
    let link = secinfo::server::admin::activation_payload("NOTACODE", &w.server.url);
    let err = phone.activate(&link, "x").await.unwrap_err();
    assert!(err.to_string().contains("not valid"), "{err}");
    assert!(phone.accounts().is_empty());
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn the_simulated_phone_signs_each_request_with_a_fresh_nonce_so_none_can_be_replayed() {
    let w = World::default().await;
    let device_id = w.phone().accounts()[0].device_id.clone();
    // Two requests in the same second: different nonces, both accepted.
    assert!(w.phone().pending().await.is_ok());
    assert!(w.phone().pending().await.is_ok());
    let db = rusqlite::Connection::open(&w.db).unwrap();
    let (nonces, held): (i64, i64) = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM device_nonces WHERE device_id = ?1),
                    (SELECT uses_nonces FROM devices WHERE id = ?1)",
            [&device_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(nonces, 2, "one nonce spent per request");
    assert_eq!(
        held, 1,
        "the server now refuses this device's requests without one"
    );
}

#[tokio::test]
async fn the_phone_keeps_its_keys_only_for_a_server_on_this_computer() {
    // Its key and codes are plain files: a link to any other server is refused
    // before anything is sent or stored.
    let w = World::default().await;
    let dir = w.dir.path().join("careful-phone");
    let mut phone = Phone::open(&dir).unwrap();
    let link = "secinfo://activate?code=ABC123&url=https%3A%2F%2Fidp.example.com";
    let err = phone.activate(link, "Phone").await.unwrap_err();
    assert!(matches!(err, PhoneError::NotLoopback(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("only works with a server on this computer"),
        "{err}"
    );
    assert!(phone.accounts().is_empty());
    // An account stored before (or by hand) for another server is not answered for.
    let phone = w.phone().with_server_url("https://idp.example.com");
    assert!(matches!(
        phone.pending().await,
        Err(PhoneError::NotLoopback(_))
    ));
    let mut phone = w.phone();
    assert!(matches!(
        phone.set_server_url("https://idp.example.com"),
        Err(PhoneError::NotLoopback(_))
    ));
    assert!(
        w.phone().pending().await.is_ok(),
        "nothing of it was stored"
    );
}
