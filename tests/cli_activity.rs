// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! `secinfo activity` against the real reference server: the user sees the
//! failed and the successful sign-in, as a table and as JSON, a page at a time.

mod common;
use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn user_sees_a_failed_sign_in_before_their_own_in_recent_activity() {
    let world = World::start().await;
    let uri = world.user_with_totp("erin@contoso.test");
    let wrong = world.secinfo(
        &[
            "login",
            "--username",
            "erin@contoso.test",
            "--passphrase-from",
            &world.pass_arg(),
        ],
        "not-her-password\n",
    );
    assert_eq!(wrong.status.code(), Some(3), "{}", text(&wrong.stderr));
    let out = world.login("erin@contoso.test", &uri);
    assert!(out.status.success(), "login failed: {}", text(&out.stderr));

    let out = world.secinfo(&["activity", "--passphrase-from", &world.pass_arg()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("WHEN (UTC)"), "{table}");
    assert!(lines[1].contains("Signed in"), "{table}");
    assert!(lines[1].contains("Authenticator app (code)"), "{table}");
    assert!(
        lines[2].contains("Sign-in failed") && lines[2].contains("wrong password"),
        "{table}"
    );
    // Columns line up: every row's second column starts where the header's does.
    let at = lines[0].find("EVENT").unwrap();
    assert!(
        lines[1..]
            .iter()
            .all(|l| l[at..].starts_with(['S', 'C', 'L', 'M', 'P'])),
        "{table}"
    );

    let out = world.secinfo(
        &["activity", "--json", "--passphrase-from", &world.pass_arg()],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], 1);
    let kinds: Vec<&str> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["sign_in", "sign_in_failed"]);
    assert_eq!(doc["events"][0]["ip"], "127.0.0.1");
    assert!(doc["next"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_cursor_is_a_clear_error_not_a_crash() {
    let world = World::start().await;
    let uri = world.user_with_totp("fay@contoso.test");
    assert!(world.login("fay@contoso.test", &uri).status.success());
    let out = world.secinfo(
        &[
            "activity",
            "--before",
            "yesterday",
            "--passphrase-from",
            &world.pass_arg(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("before must be"),
        "{}",
        text(&out.stderr)
    );
}
