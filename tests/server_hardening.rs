// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The holes a security review found in the reference server (issue 11),
//! each shown closed over real HTTP against a server on a temp database.
//! RELIABILITY.md names each test beside the hole it proves closed.

mod server_support;

use futures::future::join_all;
use secinfo::protocol::*;
use secinfo::server::Settings;
use server_support::{World, wrong_code};

fn db(w: &World) -> rusqlite::Connection {
    rusqlite::Connection::open(&w.db).unwrap()
}

/// Retry-After in seconds.
fn wait_of(r: &server_support::Reply) -> u64 {
    r.retry_after
        .as_deref()
        .expect("Retry-After")
        .parse()
        .unwrap()
}

// 1. Wrong second-factor codes ------------------------------------------

#[tokio::test]
async fn signing_in_again_with_the_right_password_does_not_reset_wrong_code_guesses() {
    let w = World::start(Settings {
        max_failed_attempts: 3,
        ..Settings::default()
    })
    .await;
    let right = w.phone().code(None).unwrap();
    // Someone with alice's password tries one code per sign-in attempt.
    for _ in 0..3 {
        let ch = w.alice_challenge("attacker").await;
        let totp = World::method(&ch, "totp").method_id.clone();
        let r = w
            .answer(&ch, &totp, Some(&wrong_code(right.expose())), false, None)
            .await;
        assert_eq!(r.code(), codes::INVALID_CODE);
    }
    // The right password no longer opens another round of guessing.
    let again = w
        .login_as(&w.demo.username, &w.demo.password, "attacker", None)
        .await;
    assert_eq!(again.status, 429);
    assert_eq!(again.code(), codes::THROTTLED);
    let alerts: Vec<String> = w
        .notices(&w.demo.username)
        .into_iter()
        .filter(|n| n.contains("wrong verification codes"))
        .collect();
    assert_eq!(alerts.len(), 1, "one alert per lock: {alerts:?}");
    assert!(alerts[0].contains("change it"), "{}", alerts[0]);
    assert!(!alerts[0].contains(right.expose()), "no code in the alert");
}

#[tokio::test]
async fn a_sign_in_attempt_is_void_after_three_wrong_codes_even_with_the_right_one() {
    let w = World::default().await;
    let ch = w.alice_challenge("laptop").await;
    let totp = World::method(&ch, "totp").method_id.clone();
    let right = w.phone().code(None).unwrap();
    for _ in 0..3 {
        let r = w
            .answer(&ch, &totp, Some(&wrong_code(right.expose())), false, None)
            .await;
        assert_eq!(r.code(), codes::INVALID_CODE);
    }
    let r = w
        .answer(&ch, &totp, Some(right.expose()), false, None)
        .await;
    assert_eq!(r.code(), codes::CHALLENGE_EXPIRED);
    assert!(
        r.message().contains("too many wrong codes"),
        "{}",
        r.message()
    );
    // A fresh sign-in (under the account limit of five) still works.
    let ch = w.alice_challenge("laptop").await;
    assert!(matches!(
        w.answer(&ch, &totp, Some(right.expose()), false, None)
            .await
            .ok(),
        AuthResult::SignedIn(_)
    ));
}

#[tokio::test]
async fn each_lock_after_wrong_codes_lasts_twice_as_long_as_the_one_before() {
    let w = World::start(Settings {
        max_failed_attempts: 1,
        lockout: 60,
        max_lockout: 600,
        ..Settings::default()
    })
    .await;
    let right = w.phone().code(None).unwrap();
    let mut waits = Vec::new();
    for _ in 0..3 {
        let ch = w.alice_challenge("attacker").await;
        let totp = World::method(&ch, "totp").method_id.clone();
        w.answer(&ch, &totp, Some(&wrong_code(right.expose())), false, None)
            .await;
        let locked = w
            .answer(&ch, &totp, Some(right.expose()), false, None)
            .await;
        assert_eq!(locked.status, 429);
        waits.push(wait_of(&locked));
        // Let the lock run out without waiting for it.
        db(&w)
            .execute("UPDATE throttle SET locked_until = 0", [])
            .unwrap();
    }
    let near = |got: u64, want: u64| got <= want && got + 2 >= want;
    assert!(
        near(waits[0], 60) && near(waits[1], 120) && near(waits[2], 240),
        "{waits:?}"
    );
}

// 2. Racing the lockout, and one address guessing ---------------------------

#[tokio::test]
async fn an_attacker_guessing_passwords_in_parallel_gets_only_five_tries() {
    let w = World::start(Settings {
        ip_burst: 0,
        ..Settings::default()
    })
    .await;
    let passwords: Vec<String> = (0..20).map(|i| format!("guess-number-{i}")).collect();
    let guesses = passwords
        .iter()
        .map(|p| w.login_as(&w.demo.username, p, "attacker", None));
    let statuses: Vec<u16> = join_all(guesses)
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (5, 15), "{statuses:?}");
    let right = w
        .login_as(&w.demo.username, &w.demo.password, "attacker", None)
        .await;
    assert_eq!(right.status, 429, "locked now, even for the right password");
}

#[tokio::test]
async fn an_attacker_guessing_codes_in_parallel_gets_only_three_on_one_sign_in() {
    let w = World::default().await;
    let ch = w.alice_challenge("attacker").await;
    let totp = World::method(&ch, "totp").method_id.clone();
    let right = w.phone().code(None).unwrap();
    let codes: Vec<String> = (0..10)
        .map(|i| {
            format!(
                "{:06}",
                (right.expose().parse::<u32>().unwrap() + 1000 + i) % 1_000_000
            )
        })
        .collect();
    let replies = join_all(
        codes
            .iter()
            .map(|c| w.answer(&ch, &totp, Some(c), false, None)),
    )
    .await;
    let wrong = replies
        .iter()
        .filter(|r| r.code() == codes::INVALID_CODE)
        .count();
    assert_eq!(
        wrong,
        3,
        "{:?}",
        replies.iter().map(|r| r.code()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_429_looks_the_same_for_an_unknown_username_and_a_real_one() {
    let w = World::start(Settings {
        max_failed_attempts: 2,
        ip_burst: 0,
        ..Settings::default()
    })
    .await;
    let mut seen = Vec::new();
    for user in ["nobody@contoso.test", "alice@contoso.test"] {
        let mut statuses = Vec::new();
        for _ in 0..3 {
            let r = w.login_as(user, "wrong-password", "x", None).await;
            statuses.push((r.status.as_u16(), r.code().to_string()));
        }
        seen.push(statuses);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0][2].0, 429);
}

#[tokio::test]
async fn one_address_is_slowed_down_whichever_usernames_it_tries() {
    let w = World::start(Settings {
        ip_burst: 3,
        ip_refill_per_minute: 1,
        ..Settings::default()
    })
    .await;
    for user in [
        "nobody@contoso.test",
        "bob@contoso.test",
        "someone@else.test",
    ] {
        let r = w.login_as(user, "wrong-password", "x", None).await;
        assert_eq!(r.status, 401);
    }
    let r = w
        .login_as(&w.demo.username, &w.demo.password, "x", None)
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.code(), codes::THROTTLED);
    assert!((1..=60).contains(&wait_of(&r)));
}

// 3. An administrator's reset ends everything an intruder set up -------------

#[tokio::test]
async fn an_intruders_session_and_everything_it_made_end_when_the_admin_resets_the_password() {
    let w = World::default().await;
    let alice = w.demo.username.clone();
    // The intruder signs in, is remembered, and sets up ways back in.
    let t = w.alice_signs_in("intruder", true).await;
    let grant = t.remembered_grant.clone().unwrap();
    let app_password = w.new_app_password(&t.access_token, "Backdoor").await;
    let _codes: RecoveryCodes = w
        .post("/v1/me/recovery-codes", (), Some(&t.access_token))
        .await
        .ok();
    let enrollment: EnrollmentDto = w
        .post(
            "/v1/me/enrollments",
            EnrollmentRequest {
                kind: "authenticator_push".into(),
                target: None,
                name: Some("Intruder's phone".into()),
                replaces: None,
            },
            Some(&t.access_token),
        )
        .await
        .ok();
    // A sign-in begun before the reset, waiting for its code.
    let pending = w.alice_challenge("intruder-2").await;

    secinfo::server::admin::set_password(
        &w.db,
        &alice,
        &secinfo::secrets::SecretString::new("a-fresh-password"),
    )
    .unwrap();

    assert_eq!(w.get("/v1/me", &t.access_token).await.status, 401);
    let refresh = w
        .post(
            "/v1/auth/refresh",
            server_support::refresh_body(&t.refresh_token, "intruder"),
            None,
        )
        .await;
    assert_eq!(refresh.status, 401);
    assert_eq!(w.legacy_ping(&alice, &app_password).await, 401);
    let totp = World::method(&pending, "totp").method_id.clone();
    let code = w.phone().code(None).unwrap();
    let late = w
        .answer(&pending, &totp, Some(code.expose()), false, None)
        .await;
    assert_eq!(late.code(), codes::CHALLENGE_EXPIRED);
    let activation = w
        .post(
            "/v1/device/activate",
            ActivateRequest {
                activation_code: enrollment.activation_code.clone().unwrap(),
                name: "Intruder's phone".into(),
                platform: "Android".into(),
                public_key: secinfo::phone::new_key().1,
            },
            None,
        )
        .await;
    assert_eq!(activation.code(), codes::INVALID_CODE);
    for table in [
        "recovery_codes",
        "app_passwords",
        "enrollments",
        "remembered",
    ] {
        assert_eq!(w.rows_of(table, &alice), 0, "{table}");
    }
    // The grant no longer skips the second factor, even with the new password.
    let again = w
        .login_as(&alice, "a-fresh-password", "intruder", Some(&grant))
        .await
        .ok::<AuthResult>();
    assert!(matches!(again, AuthResult::MfaRequired(_)), "{again:?}");
    assert!(
        w.notices(&alice)
            .last()
            .is_some_and(|n| n.contains("app password and recovery code was revoked"))
    );
}

#[tokio::test]
async fn after_an_mfa_reset_only_a_session_begun_afterwards_may_add_the_first_method() {
    let w = World::default().await;
    let alice = w.demo.username.clone();
    let intruder = w.alice_signs_in("intruder", false).await;
    secinfo::server::admin::reset_mfa(&w.db, &alice).unwrap();

    let totp = EnrollmentRequest {
        kind: "totp".into(),
        target: None,
        name: Some("Authenticator".into()),
        replaces: None,
    };
    let refused = w
        .post("/v1/me/enrollments", &totp, Some(&intruder.access_token))
        .await;
    assert_eq!(refused.status, 401, "the old session is gone");

    let AuthResult::SignedIn(fresh) = w
        .login_as(&alice, &w.demo.password, "laptop", None)
        .await
        .ok()
    else {
        panic!("with no second factor left, the password signs in")
    };
    assert!(fresh.mfa_setup_required);
    let started: EnrollmentDto = w
        .post("/v1/me/enrollments", &totp, Some(&fresh.access_token))
        .await
        .ok();
    assert_eq!(started.state, "pending");
}

// 4. Password change and sign out everywhere end app passwords ---------------

#[tokio::test]
async fn changing_the_password_revokes_app_passwords_and_says_so() {
    let w = World::default().await;
    let alice = w.demo.username.clone();
    let t = w.alice_signs_in("laptop", false).await;
    let app_password = w.new_app_password(&t.access_token, "Old mail app").await;
    assert_eq!(w.legacy_ping(&alice, &app_password).await, 200);
    let changed = w
        .post(
            "/v1/me/password",
            serde_json::json!({"current_password": w.demo.password, "new_password": "a-brand-new-one"}),
            Some(&t.access_token),
        )
        .await;
    assert_eq!(changed.status, 204);
    assert_eq!(w.legacy_ping(&alice, &app_password).await, 401);
    let listed: Vec<AppPasswordDto> = w.get("/v1/me/app-passwords", &t.access_token).await.ok();
    assert!(listed.is_empty());
    assert!(
        w.notices(&alice)
            .last()
            .is_some_and(|n| n.contains("your app password was revoked")),
        "{:?}",
        w.notices(&alice).last()
    );
}

#[tokio::test]
async fn signing_out_everywhere_revokes_app_passwords_too() {
    let w = World::default().await;
    let alice = w.demo.username.clone();
    let t = w.alice_signs_in("laptop", false).await;
    let first = w.new_app_password(&t.access_token, "Mail").await;
    let second = w.new_app_password(&t.access_token, "Calendar").await;
    let r = w
        .post("/v1/me/signout-everywhere", (), Some(&t.access_token))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(w.legacy_ping(&alice, &first).await, 401);
    assert_eq!(w.legacy_ping(&alice, &second).await, 401);
    assert!(
        w.notices(&alice)
            .last()
            .is_some_and(|n| n.contains("your 2 app passwords were revoked"))
    );
}

// 5. A phone that dropped the account does not count for the guard -----------

#[tokio::test]
async fn a_phone_that_removed_the_account_does_not_count_as_a_way_to_prove_it_is_you() {
    let w = World::default().await;
    w.phone()
        .remove_account("alice@contoso.test")
        .await
        .unwrap();
    let ch = w.alice_challenge("laptop").await;
    let sms = World::method(&ch, "phone").method_id.clone();
    w.send_factor(&ch, &sms, None).await.ok::<MfaSent>();
    let code = w.last_code("+1 425 555 0123");
    let AuthResult::SignedIn(t) = w.answer(&ch, &sms, Some(&code), false, None).await.ok() else {
        panic!("the text message signs in")
    };
    let methods = w.methods(&t.access_token).await;
    let on_phone: Vec<&MethodDto> = methods.iter().filter(|m| m.device_id.is_some()).collect();
    assert!(on_phone.iter().all(|m| !m.usable_mfa), "{on_phone:?}");
    let default = methods.iter().find(|m| m.is_default).unwrap();
    assert_eq!(
        default.kind, "phone",
        "the default moved to one that answers"
    );

    let email = methods.iter().find(|m| m.kind == "email").unwrap();
    let r = w
        .delete(&format!("/v1/me/methods/{}", email.id), &t.access_token)
        .await;
    assert_eq!(r.status, 200);
    // The text message is now the last method that can answer.
    let r = w
        .delete(&format!("/v1/me/methods/{sms}"), &t.access_token)
        .await;
    assert_eq!(r.code(), codes::LAST_METHOD);
}

// 6. The phone is shown only what the server saw ------------------------------

#[tokio::test]
async fn the_phone_never_shows_the_name_a_signing_in_client_chose() {
    let w = World::default().await;
    let bait = "Enter 42 to keep your account";
    let login = LoginRequest {
        username: w.demo.username.clone(),
        password: w.demo.password.clone(),
        client_id: "attacker".into(),
        client_name: bait.into(),
        remembered_grant: None,
    };
    let r = w
        .http
        .post(w.url("/v1/auth/login"))
        .header("user-agent", "secinfo/0.1.0")
        .json(&login)
        .send()
        .await
        .unwrap();
    let AuthResult::MfaRequired(ch) = r.json().await.unwrap() else {
        panic!("a second factor is asked")
    };
    let push = World::method(&ch, "authenticator_push").method_id.clone();
    w.send_factor(&ch, &push, None).await.ok::<MfaSent>();
    let pending = w.phone().pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].client, "secinfo terminal app");
    assert_eq!(pending[0].ip, "127.0.0.1");
    let raw = serde_json::to_string(&pending).unwrap();
    assert!(
        !raw.contains("Enter 42") && !raw.contains("keep your account"),
        "{raw}"
    );
}

// 7. Smaller holes -------------------------------------------------------------

fn has_controls(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c))
}

#[tokio::test]
async fn every_name_the_server_stores_is_cleaned_and_capped() {
    let w = World::default().await;
    let evil = "evil\x1b]0;TITLE\x07\x1b[31mRED\u{202E}";
    let login = LoginRequest {
        username: "bob@contoso.test".into(),
        password: "staple-battery-horse".into(),
        client_id: "evil".into(),
        client_name: evil.into(),
        remembered_grant: None,
    };
    let AuthResult::MfaRequired(ch) = w.post("/v1/auth/login", login, None).await.ok() else {
        panic!("bob has an email code")
    };
    let email = World::method(&ch, "email").method_id.clone();
    w.send_factor(&ch, &email, None).await.ok::<MfaSent>();
    let code = w.last_code("bob.personal@example.test");
    let AuthResult::SignedIn(t) = w.answer(&ch, &email, Some(&code), false, None).await.ok() else {
        panic!()
    };
    let sessions: Vec<SessionDto> = w.get("/v1/me/sessions", &t.access_token).await.ok();
    assert_eq!(sessions[0].client, "evil]0;TITLE[31mRED");

    // Device name and platform, from an enrollment named with escapes too.
    let enrollment: EnrollmentDto = w
        .post(
            "/v1/me/enrollments",
            EnrollmentRequest {
                kind: "authenticator_push".into(),
                target: None,
                name: Some(evil.into()),
                replaces: None,
            },
            Some(&t.access_token),
        )
        .await
        .ok();
    let activated = w
        .post(
            "/v1/device/activate",
            ActivateRequest {
                activation_code: enrollment.activation_code.unwrap(),
                name: format!("{evil}{}", "x".repeat(10_000)),
                platform: evil.into(),
                public_key: secinfo::phone::new_key().1,
            },
            None,
        )
        .await;
    assert!(activated.status.is_success(), "{}", activated.body);
    let stored: Vec<(String, String)> = db(&w)
        .prepare("SELECT name, platform FROM devices")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (name, platform) in &stored {
        assert!(
            !has_controls(name) && !has_controls(platform),
            "{name:?} {platform:?}"
        );
        assert!(name.chars().count() <= 60, "{name}");
    }
    let labels: Vec<String> = db(&w)
        .prepare("SELECT label FROM enrollments")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(labels.iter().all(|l| !has_controls(l)), "{labels:?}");

    // A name typed on purpose is refused, so the user sees what is kept.
    let r = w
        .post(
            "/v1/me/app-passwords",
            AppPasswordRequest { name: evil.into() },
            Some(&t.access_token),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        w.notices("bob@contoso.test")
            .iter()
            .all(|n| !has_controls(n))
    );
}

#[tokio::test]
async fn renaming_needs_a_recent_second_factor_like_every_other_change() {
    let w = World::default().await;
    let first = w.alice_signs_in("laptop", true).await;
    let grant = first.remembered_grant.unwrap();
    // Signed in by the "Don't ask again" grant: no second factor on record.
    let AuthResult::SignedIn(t) = w
        .login_as(&w.demo.username, &w.demo.password, "laptop", Some(&grant))
        .await
        .ok()
    else {
        panic!("the grant skips the second factor")
    };
    let methods = w.methods(&t.access_token).await;
    let totp = methods.iter().find(|m| m.kind == "totp").unwrap();
    let rename = RenameRequest {
        name: "Renamed".into(),
    };
    let r = w
        .send_patch(
            &format!("/v1/me/methods/{}", totp.id),
            &rename,
            &t.access_token,
        )
        .await;
    assert_eq!(r.code(), codes::STEP_UP_REQUIRED);
    let device = totp.device_id.clone().unwrap();
    let r = w
        .send_patch(
            &format!("/v1/me/devices/{device}"),
            &rename,
            &t.access_token,
        )
        .await;
    assert_eq!(r.code(), codes::STEP_UP_REQUIRED);
    let r = w
        .send_patch(
            &format!("/v1/me/methods/{}", totp.id),
            &rename,
            &first.access_token,
        )
        .await;
    assert_eq!(r.status, 204, "a fresh second factor may rename");
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

#[tokio::test]
async fn a_copy_of_the_database_alone_holds_no_totp_secret_and_no_testable_recovery_code() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let set: RecoveryCodes = w
        .post("/v1/me/recovery-codes", (), Some(&t.access_token))
        .await
        .ok();
    let secrets: Vec<String> = db(&w)
        .prepare("SELECT secret FROM methods WHERE secret IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!secrets.is_empty());
    for s in &secrets {
        assert!(s.starts_with("v1:"), "sealed: {s}");
    }
    let stored: Vec<String> = db(&w)
        .prepare("SELECT code_hash FROM recovery_codes")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let plain_hashes: Vec<String> = set
        .codes
        .iter()
        .map(|c| sha256_hex(&c.replace('-', "")))
        .collect();
    assert!(
        stored
            .iter()
            .all(|h| h.starts_with("h1:") && !plain_hashes.iter().any(|p| h.contains(p)))
    );
    // The key sits beside the database, for the owner only.
    let key = w.dir.path().join("server.db.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // A copy of the database without its key is refused, not misread.
    let copy = w.dir.path().join("stolen.db");
    db(&w)
        .execute("VACUUM INTO ?1", [copy.to_str().unwrap()])
        .unwrap();
    let refused = secinfo::server::spawn(&copy, Settings::default()).await;
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("server key") && message.contains("missing"),
        "{message}"
    );
}

#[tokio::test]
async fn a_database_from_before_the_server_key_is_converted_at_start_and_keeps_working() {
    let w = World::default().await;
    // Write what an older build stored: a bare TOTP secret, a plain SHA-256 recovery code.
    let (totp_id, uri) =
        secinfo::server::admin::add_totp(&w.db, &w.demo.username, "Old app", &Settings::default())
            .unwrap();
    let plain_secret = url::Url::parse(uri.expose())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "secret")
        .unwrap()
        .1
        .to_string();
    let conn = db(&w);
    conn.execute(
        "UPDATE methods SET secret = ?2 WHERE id = ?1",
        [&totp_id, &plain_secret],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO recovery_codes (user_id, code_hash, created_at)
         SELECT id, ?2, 0 FROM users WHERE username = ?1",
        [w.demo.username.as_str(), &sha256_hex("abcde23456")],
    )
    .unwrap();
    // Any start (here: reading the outbox) runs the migration.
    secinfo::server::outbox(&w.db, None).unwrap();
    let sealed: String = conn
        .query_row(
            "SELECT secret FROM methods WHERE id = ?1",
            [&totp_id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        sealed.starts_with("v1:") && !sealed.contains(&plain_secret),
        "{sealed}"
    );

    let code = totp_rs::Totp::from_url_unchecked(uri.expose())
        .unwrap()
        .generate_current()
        .to_string();
    let ch = w.alice_challenge("laptop").await;
    let r = w.answer(&ch, &totp_id, Some(&code), false, None).await;
    assert!(matches!(r.ok::<AuthResult>(), AuthResult::SignedIn(_)));
    let ch = w.alice_challenge("laptop").await;
    let r = w
        .answer(&ch, "recovery_code", Some("ABCDE-23456"), false, None)
        .await;
    assert!(matches!(r.ok::<AuthResult>(), AuthResult::SignedIn(_)));
}

#[tokio::test]
async fn activation_links_name_the_server_not_the_host_header_a_client_sent() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let r = w
        .http
        .post(w.url("/v1/me/enrollments"))
        .bearer_auth(&t.access_token)
        .header("host", "evil.example")
        .header("x-forwarded-proto", "https")
        .json(&EnrollmentRequest {
            kind: "authenticator_push".into(),
            target: None,
            name: None,
            replaces: None,
        })
        .send()
        .await
        .unwrap();
    let e: EnrollmentDto = r.json().await.unwrap();
    assert_eq!(e.server_url.as_deref(), Some(w.server.url.as_str()));
    assert!(!e.qr_payload.unwrap().contains("evil.example"));
}

#[tokio::test]
async fn listening_off_loopback_needs_a_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", 0)).await.unwrap();
    let refused = secinfo::server::serve(listener, &db, Settings::default()).await;
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("--public-url"), "{message}");

    let listener = tokio::net::TcpListener::bind(("0.0.0.0", 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let settings = Settings {
        public_url: Some("https://id.example.com/".into()),
        ..Settings::default()
    };
    let serving =
        tokio::spawn(async move { secinfo::server::serve(listener, &db, settings).await });
    let meta = reqwest::get(format!("http://127.0.0.1:{port}/v1/meta"))
        .await
        .unwrap();
    assert_eq!(meta.status(), 200, "it serves with --public-url");
    serving.abort();
}

/// A device of our own: activated with a fresh key, so the test can sign.
async fn own_device(w: &World) -> (String, ed25519_dalek::SigningKey) {
    let link =
        secinfo::server::admin::new_activation(&w.db, "bob@contoso.test", &w.server.url).unwrap();
    let code = url::Url::parse(&link)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string();
    let (key, public_key) = secinfo::phone::new_key();
    let done: ActivateResponse = w
        .post(
            "/v1/device/activate",
            ActivateRequest {
                activation_code: code,
                public_key,
                name: "Bob's phone".into(),
                platform: "Android".into(),
            },
            None,
        )
        .await
        .ok();
    (done.device_id, key)
}

fn proof(
    key: &ed25519_dalek::SigningKey,
    action: &str,
    device: &str,
    nonce: Option<&str>,
) -> serde_json::Value {
    use base64::Engine;
    use ed25519_dalek::Signer;
    let ts = chrono::Utc::now().timestamp();
    let message = match nonce {
        Some(n) => format!("{action}:{device}:{ts}:{n}"),
        None => format!("{action}:{device}:{ts}"),
    };
    let signature =
        base64::engine::general_purpose::STANDARD.encode(key.sign(message.as_bytes()).to_bytes());
    serde_json::json!({ "timestamp": ts, "nonce": nonce, "signature": signature })
}

#[tokio::test]
async fn a_captured_device_request_with_a_nonce_cannot_be_replayed() {
    let w = World::default().await;
    let (device, key) = own_device(&w).await;
    let path = format!("/v1/device/{device}/pending");
    let signed = proof(&key, "pending", &device, Some("n0nce-0000000000001"));
    assert_eq!(w.post(&path, &signed, None).await.status, 200);
    let replayed = w.post(&path, &signed, None).await;
    assert_eq!(replayed.status, 401);
    assert!(
        replayed.message().contains("already used"),
        "{}",
        replayed.message()
    );
    // Having signed with nonces, the device cannot be downgraded to proofs without one.
    let legacy = w
        .post(&path, proof(&key, "pending", &device, None), None)
        .await;
    assert_eq!(legacy.status, 401);
    let next = proof(&key, "pending", &device, Some("n0nce-0000000000002"));
    assert_eq!(w.post(&path, &next, None).await.status, 200);
}

#[tokio::test]
async fn with_require_device_nonce_a_proof_without_one_is_refused() {
    let w = World::start(Settings {
        require_device_nonce: true,
        ..Settings::default()
    })
    .await;
    let (device, key) = own_device(&w).await;
    let path = format!("/v1/device/{device}/pending");
    let legacy = w
        .post(&path, proof(&key, "pending", &device, None), None)
        .await;
    assert_eq!(legacy.status, 401);
    assert!(legacy.message().contains("nonce"), "{}", legacy.message());
}
