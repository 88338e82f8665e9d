// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The command line against a Graph-shaped server (`graph_server`): a person
//! with a Microsoft Entra profile signs in by device code, lists every method
//! type, deletes one (the last one only with its name), adds a phone or is
//! handed off, changes the default, signs out everywhere, and is stepped up
//! on the way. The real `secinfo` binary, its own config, data and state dirs,
//! and the encrypted secret file (passphrase from a file).

mod graph_server;

use graph_server::*;
use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Graph {
    server: GraphServer,
    dir: tempfile::TempDir,
}

impl Graph {
    async fn start() -> Graph {
        let server = GraphServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), server.profile()).unwrap();
        std::fs::write(
            dir.path().join("passphrase"),
            "test passphrase for the secret file\n",
        )
        .unwrap();
        Graph { server, dir }
    }

    /// `secinfo ARGS` with this home, the passphrase from its file, `stdin` fed in full.
    async fn secinfo(&self, args: &[&str], stdin: &str) -> Output {
        let home = self.dir.path().to_path_buf();
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend([
            "--passphrase-from".into(),
            format!("@{}", home.join("passphrase").display()),
        ]);
        let stdin = stdin.to_string();
        // The server runs on this runtime: the child is waited for on the blocking pool.
        tokio::task::spawn_blocking(move || {
            let mut child = Command::new(env!("CARGO_BIN_EXE_secinfo"))
                .args(&all)
                .env("SECINFO_CONFIG", home.join("config.toml"))
                .env("SECINFO_DATA_DIR", home.join("data"))
                .env("SECINFO_STATE_DIR", home.join("state"))
                .env_remove("DBUS_SESSION_BUS_ADDRESS")
                .env_remove("SECINFO_PROFILE")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(stdin.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap()
    }

    async fn login(&self) -> String {
        let out = self.secinfo(&["login"], "").await;
        let err = text(&out.stderr);
        assert!(out.status.success(), "login failed: {err}");
        err
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

#[tokio::test(flavor = "multi_thread")]
async fn user_signs_in_with_a_device_code_and_lists_every_method_type() {
    let g = Graph::start().await;
    let said = g.login().await;
    assert!(
        said.contains("open https://microsoft.com/devicelogin")
            && said.contains("enter the code GRAPH001"),
        "{said}"
    );
    assert!(
        !said.contains("Password"),
        "no password is asked here: {said}"
    );
    assert!(
        said.contains("Signed in as Kim Akers (kim@contoso.onmicrosoft.com) on work."),
        "{said}"
    );

    // A new process: the sign-in comes back from the encrypted store.
    let out = g.secinfo(&["methods", "list", "--json"], "").await;
    ok(&out);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "authenticator_push",
            "totp",
            "phone",
            "alternate_phone",
            "office_phone",
            "email",
            "passkey",
            "windows_hello_for_business",
            "password",
            "temporary_access_pass",
            "platform_credential",
            "hardware_token",
            "qrCodePinAuthenticationMethod",
        ]
    );
    let listed = g.server.seen("GET", "/v1.0/me/authentication/methods");
    assert_eq!(listed[0].authorization.as_deref(), Some("Bearer at-1"));

    let out = g.secinfo(&["methods", "list"], "").await;
    let shown = ok(&out);
    assert!(
        shown.contains("Red key") && shown.contains("+1 2065555555"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn user_is_stepped_up_and_deletes_their_last_method_only_with_its_name() {
    let g = Graph::start().await;
    g.server
        .world()
        .methods
        .retain(|m| m["id"] == AUTHENTICATOR_ID || m["id"] == PASSWORD_ID);
    g.login().await;

    let out = g
        .secinfo(&["methods", "delete", AUTHENTICATOR_ID], "")
        .await;
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains("last way to prove it is you") && said.contains("Contoso's iPhone"),
        "{said}"
    );
    assert!(g.server.seen("DELETE", "/").is_empty(), "nothing was sent");

    let confirm = "--confirm=Contoso's iPhone";
    let out = g
        .secinfo(&["methods", "delete", AUTHENTICATOR_ID, confirm], "")
        .await;
    let said = ok(&out);
    assert!(said.contains("confirm it is you"), "{said}");
    assert!(
        said.contains("enter the code GRAPH002"),
        "the step-up is a second device code: {said}"
    );
    let step_up = &g
        .server
        .seen("POST", &format!("/{TENANT}/oauth2/v2.0/devicecode"))[1];
    assert_eq!(step_up.form()["claims"], NGCMFA);
    assert_eq!(
        g.server.seen("DELETE", "/").len(),
        2,
        "refused, then sent once more"
    );
    assert!(
        !g.server
            .method_ids()
            .contains(&AUTHENTICATOR_ID.to_string())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn user_adds_a_phone_where_the_tenant_allows_it() {
    let g = Graph::start().await;
    g.server
        .world()
        .methods
        .retain(|m| m["id"] != ALT_MOBILE_ID);
    g.login().await;
    let out = g
        .secinfo(
            &[
                "methods",
                "add",
                "phone",
                "+1 425 555 0123",
                "--kind",
                "alternate_phone",
            ],
            "",
        )
        .await;
    let said = ok(&out);
    assert!(said.contains("+1 4255550123"), "{said}");
    let post = g
        .server
        .seen("POST", "/v1.0/me/authentication/phoneMethods")
        .pop()
        .unwrap();
    assert_eq!(
        post.json(),
        serde_json::json!({"phoneNumber": "+1 4255550123", "phoneType": "alternateMobile"})
    );
    assert!(g.server.method_ids().contains(&ALT_MOBILE_ID.to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn user_whose_tenant_refuses_self_service_is_handed_off_to_the_portal() {
    let g = Graph::start().await;
    g.server.world().self_service_contact = false;
    g.login().await;
    let out = g
        .secinfo(&["methods", "add", "email", "kim.home@example.com"], "")
        .await;
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains("https://mysignins.microsoft.com/security-info"),
        "{said}"
    );

    // What Graph has no API for is refused before anything is sent.
    let before = g.server.world().requests.len();
    let out = g.secinfo(&["methods", "add", "authenticator"], "").await;
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains("My Sign-ins")
            && said.contains("https://mysignins.microsoft.com/security-info"),
        "{said}"
    );
    let posts = g.server.world().requests[before..]
        .iter()
        .filter(|s| s.method != "GET")
        .count();
    assert_eq!(posts, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn user_changes_the_default_and_it_is_a_kind() {
    let g = Graph::start().await;
    g.login().await;
    let totp = "b172893e-893e-b172-3e89-72b13e8972b1";
    let said = ok(&g.secinfo(&["methods", "default", totp], "").await);
    assert!(said.contains("confirm it is you"), "{said}");
    let patch = g
        .server
        .seen("PATCH", "/beta/me/authentication/signInPreferences")
        .pop()
        .unwrap();
    assert_eq!(
        patch.json(),
        serde_json::json!({"userPreferredMethodForSecondaryAuthentication": "oath"})
    );
    assert_eq!(
        g.server.world().preferences["userPreferredMethodForSecondaryAuthentication"],
        "oath"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn user_signs_out_everywhere_and_must_sign_in_again() {
    let g = Graph::start().await;
    g.server
        .world()
        .consented
        .insert("User.RevokeSessions.All".into());
    g.login().await;
    let said = ok(&g.secinfo(&["signout-all", "--yes"], "").await);
    assert!(said.contains("Signed out everywhere"), "{said}");
    // The scope is asked for by a refresh, only now; no second sign-in in the browser.
    let asked = g
        .server
        .seen("POST", &format!("/{TENANT}/oauth2/v2.0/token"))
        .pop()
        .unwrap();
    assert!(
        asked.form()["scope"].ends_with(" User.RevokeSessions.All"),
        "{:?}",
        asked.form()
    );
    assert_eq!(
        g.server
            .seen("POST", &format!("/{TENANT}/oauth2/v2.0/devicecode"))
            .len(),
        1
    );
    assert_eq!(
        g.server.seen("POST", "/v1.0/me/revokeSignInSessions").len(),
        2
    );

    let out = g.secinfo(&["methods", "list"], "").await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "sign in again: {}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn in_plain_mode_user_is_stepped_up_deletes_a_key_and_signs_out_everywhere() {
    let g = Graph::start().await;
    g.server
        .world()
        .consented
        .insert("User.RevokeSessions.All".into());
    g.login().await;
    // 3: Delete a sign-in method; 7: Passkey Red key; then 11: Sign out everywhere.
    let input = "3\n7\ndelete\n11\nsign out everywhere\n";
    let out = g.secinfo(&["--plain"], input).await;
    let said = text(&out.stdout);
    assert!(said.contains("Your sign-in methods (13):"), "{said}");
    assert!(said.contains("confirm it is you"), "{said}");
    assert!(said.contains("enter the code GRAPH002"), "{said}");
    assert!(said.contains("Your sign-in methods (12):"), "{said}");
    assert!(
        said.contains("it can take a few minutes to reach every app"),
        "signing out everywhere says Microsoft's delay: {said}"
    );
    assert!(!g.server.method_ids().contains(&FIDO_ID.to_string()));
    assert_eq!(
        g.server.seen("POST", "/v1.0/me/revokeSignInSessions").len(),
        2
    );
    assert!(!said.contains('\x1b'), "no escape codes in plain mode");
}

#[tokio::test(flavor = "multi_thread")]
async fn user_changes_a_phone_number_in_one_step() {
    let g = Graph::start().await;
    g.login().await;
    let out = g
        .secinfo(
            &["methods", "change", ALT_MOBILE_ID, "+44 20 7183 8750"],
            "",
        )
        .await;
    let said = ok(&out);
    assert!(said.contains("confirm it is you"), "{said}");
    let patch = g
        .server
        .seen("PATCH", "/v1.0/me/authentication/phoneMethods/")
        .pop()
        .unwrap();
    assert_eq!(
        patch.json(),
        serde_json::json!({"phoneNumber": "+44 2071838750", "phoneType": "alternateMobile"})
    );
    let listed = g.secinfo(&["methods", "list"], "").await;
    assert!(ok(&listed).contains("+44 2071838750"));
}

#[tokio::test(flavor = "multi_thread")]
async fn in_plain_mode_user_signs_in_by_device_code_without_a_password() {
    let g = Graph::start().await;
    // 12: Quit, the last entry of the main menu.
    let out = g.secinfo(&["--plain"], "12\n").await;
    let said = ok(&out);
    assert!(
        said.contains("open https://microsoft.com/devicelogin") && said.contains("GRAPH001"),
        "{said}"
    );
    assert!(!said.contains("Password:"), "no password is asked: {said}");
    assert!(
        said.contains("Signed in as kim@contoso.onmicrosoft.com."),
        "{said}"
    );
    assert!(said.contains("Your sign-in methods (13):"), "{said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn recent_activity_says_where_entra_shows_sign_ins_instead() {
    let g = Graph::start().await;
    g.login().await;
    let out = g.secinfo(&["activity"], "").await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("https://mysignins.microsoft.com"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        g.server.seen("GET", "/v1.0/auditLogs/signIns").is_empty(),
        "no request a user is refused"
    );
}
