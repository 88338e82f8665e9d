// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Changing security info from the command line against the real server:
//! step-up when the last second factor is stale, the last-method guard,
//! sessions, and `doctor --json`.

mod common;
use common::*;
use secinfo::server::{Settings, admin};
use std::io::Write;

fn settings_with_mfa_max_age(secs: u64) -> Settings {
    Settings {
        mfa_max_age: secs,
        ..Settings::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_change_asks_for_the_second_factor_again_and_retries_once() {
    let world = World::start_with(settings_with_mfa_max_age(1)).await;
    let uri = world.user_with_totp("frank@contoso.test");
    let email = admin::add_email(&world.db, "frank@contoso.test", "frank@example.test").unwrap();
    assert!(world.login("frank@contoso.test", &uri).status.success());
    std::thread::sleep(std::time::Duration::from_secs(2));

    // Make the email the default: the server wants a fresh factor first.
    let mut child = world
        .command(&[
            "methods",
            "default",
            &email,
            "--passphrase-from",
            &world.pass_arg(),
        ])
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let live = Live::start(child);
    let seen = live.wait_for("Choose 1-2");
    assert!(
        seen.contains("This change needs you to confirm it is you"),
        "{seen}"
    );
    let email_option = seen
        .lines()
        .find(|l| l.contains("frank@") || l.contains("Email"))
        .unwrap()
        .trim()
        .chars()
        .next()
        .unwrap();
    stdin
        .write_all(format!("{email_option}\n").as_bytes())
        .unwrap();
    live.wait_for("Enter the code");
    stdin
        .write_all(format!("{}\n", last_code(&world.db, "email")).as_bytes())
        .unwrap();
    drop(stdin);
    let out = live.child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", live.err.lock().unwrap());

    let list = world.secinfo(
        &[
            "methods",
            "list",
            "--json",
            "--passphrase-from",
            &world.pass_arg(),
        ],
        "",
    );
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let default = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["is_default"] == true)
        .unwrap();
    assert_eq!(default["id"], email.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_the_last_mfa_method_needs_its_name_typed() {
    let world = World::start().await;
    let uri = world.user_with_totp("grace@contoso.test");
    assert!(world.login("grace@contoso.test", &uri).status.success());
    let pass = world.pass_arg();
    let list = world.secinfo(
        &["methods", "list", "--json", "--passphrase-from", &pass],
        "",
    );
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let totp = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "totp")
        .unwrap()
        .clone();
    let id = totp["id"].as_str().unwrap();
    let name = totp["detail"].as_str().unwrap();

    let out = world.secinfo(&["methods", "delete", id, "--passphrase-from", &pass], "");
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--confirm=NAME"),
        "{}",
        text(&out.stderr)
    );
    let out = world.secinfo(
        &[
            "methods",
            "delete",
            id,
            "--confirm=not its name",
            "--passphrase-from",
            &pass,
        ],
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(7),
        "a wrong name must not override the guard"
    );

    let confirm = format!("--confirm={name}");
    let out = world.secinfo(
        &[
            "methods",
            "delete",
            id,
            &confirm,
            "--passphrase-from",
            &pass,
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = world.secinfo(
        &["methods", "list", "--json", "--passphrase-from", &pass],
        "",
    );
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(
        doc["methods"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["kind"] != "totp")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_out_one_session_ends_only_that_one() {
    let world = World::start().await;
    let uri = world.user_with_totp("heidi@contoso.test");
    assert!(world.login("heidi@contoso.test", &uri).status.success());
    let pass = world.pass_arg();
    let out = world.secinfo(
        &["sessions", "list", "--json", "--passphrase-from", &pass],
        "",
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sessions = doc["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["current"], true);
    let id = sessions[0]["id"].as_str().unwrap();
    assert!(
        world
            .secinfo(&["sessions", "revoke", id, "--passphrase-from", &pass], "")
            .status
            .success()
    );
    let out = world.secinfo(&["methods", "list", "--passphrase-from", &pass], "");
    assert_eq!(
        out.status.code(),
        Some(3),
        "the revoked session must be over: {}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_reports_store_server_and_clock() {
    let world = World::start().await;
    let out = world.secinfo(
        &["doctor", "--json", "--passphrase-from", &world.pass_arg()],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["profile"], "test");
    assert_eq!(doc["server"]["ok"], true);
    assert!(
        doc["secret_store"]["name"]
            .as_str()
            .unwrap()
            .contains("passphrase"),
        "{doc}"
    );
    assert!(
        !doc["secret_store"]["persistence"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    assert!(doc["clock_skew_secs"].as_i64().unwrap().abs() <= 2);
    assert!(doc["transport"].as_str().unwrap().contains("loopback"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_destructive_command_can_say_what_it_would_do_and_change_nothing() {
    let world = World::start().await;
    let uri = world.user_with_totp("ivan@contoso.test");
    let email = admin::add_email(&world.db, "ivan@contoso.test", "ivan@example.test").unwrap();
    assert!(world.login("ivan@contoso.test", &uri).status.success());
    let pass = world.pass_arg();
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--json", "--passphrase-from", &pass]);
        let out = world.secinfo(&all, "");
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let mut doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // Every request moves a session's last activity: not a change this test means.
        if let Some(sessions) = doc["sessions"].as_array_mut() {
            for s in sessions {
                s.as_object_mut().unwrap().remove("last_active");
            }
        }
        doc
    };
    let created = json(&["app-passwords", "create", "Thunderbird"]);
    let app = created["id"].as_str().unwrap().to_string();
    json(&["recovery-codes", "generate", "--yes"]);
    let session = json(&["sessions", "list"])["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = (
        json(&["methods", "list"]),
        json(&["sessions", "list"]),
        json(&["app-passwords", "list"]),
        json(&["recovery-codes", "status"]),
    );

    for (args, says) in [
        (
            vec!["methods", "delete", email.as_str()],
            "Would delete Email i***@example.test.",
        ),
        (
            vec!["sessions", "revoke", session.as_str()],
            "Would sign out the session of",
        ),
        (
            vec!["app-passwords", "delete", app.as_str()],
            "Would delete the app password Thunderbird",
        ),
        (
            vec!["recovery-codes", "generate"],
            "your 10 unused codes would stop working",
        ),
        (
            vec!["signout-all"],
            "Would end every session on every device",
        ),
    ] {
        let mut all = args.clone();
        all.extend(["--dry-run", "--passphrase-from", &pass]);
        let out = world.secinfo(&all, "");
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let said = text(&out.stdout);
        assert!(said.contains(says), "{args:?}: {said}");
        assert!(said.contains("Nothing was changed (--dry-run)."), "{said}");
    }
    let gone = world.secinfo(
        &[
            "devices",
            "delete",
            "no-such-device",
            "--dry-run",
            "--passphrase-from",
            &pass,
        ],
        "",
    );
    assert!(
        text(&gone.stderr).contains("there is no device no-such-device"),
        "an unknown id is said plainly: {}",
        text(&gone.stderr)
    );

    let after = (
        json(&["methods", "list"]),
        json(&["sessions", "list"]),
        json(&["app-passwords", "list"]),
        json(&["recovery-codes", "status"]),
    );
    assert_eq!(before, after, "nothing changed on the server");
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_phone_plans_without_changing_and_every_step_can_be_skipped() {
    let world = World::start().await;
    let uri = world.user_with_totp("judy@contoso.test");
    assert!(world.login("judy@contoso.test", &uri).status.success());
    let pass = world.pass_arg();
    let plan = world.secinfo(
        &[
            "lost-phone",
            "--dry-run",
            "--json",
            "--passphrase-from",
            &pass,
        ],
        "",
    );
    assert!(plan.status.success(), "{}", text(&plan.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(doc["schema"], 1);
    assert!(doc["devices"].is_array(), "{doc}");

    // Every question answered no: nothing changes, and the summary says so.
    let before = world.secinfo(
        &["methods", "list", "--json", "--passphrase-from", &pass],
        "",
    );
    let out = world.secinfo(&["lost-phone", "--passphrase-from", &pass], "n\nn\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("Sign out everywhere?"), "{said}");
    assert!(said.contains("Nothing was changed."), "{said}");
    let after = world.secinfo(
        &["methods", "list", "--json", "--passphrase-from", &pass],
        "",
    );
    assert_eq!(before.stdout, after.stdout);
}
