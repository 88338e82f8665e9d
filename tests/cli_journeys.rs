// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The command line against the real reference server: sign in, list as
//! JSON, and every kind of bad input gives a clear message and exit code.

mod common;
use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn user_signs_in_with_an_authenticator_code_and_lists_methods_as_json() {
    let world = World::start().await;
    let uri = world.user_with_totp("carol@contoso.test");
    let out = world.login("carol@contoso.test", &uri);
    assert!(out.status.success(), "login failed: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Signed in as Test User"),
        "{}",
        text(&out.stderr)
    );

    let out = world.secinfo(
        &[
            "methods",
            "list",
            "--json",
            "--passphrase-from",
            &world.pass_arg(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["profile"], "test");
    let kinds: Vec<&str> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"totp"), "{kinds:?}");
    let totp = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "totp")
        .unwrap();
    assert_eq!(totp["usable_mfa"], true);
    assert_eq!(totp["is_default"], true);

    let out = world.secinfo(
        &["status", "--json", "--passphrase-from", &world.pass_arg()],
        "",
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["signed_in"], true);
    assert_eq!(doc["username"], "carol@contoso.test");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_exits_with_the_sign_in_code() {
    let world = World::start().await;
    world.user_with_totp("dan@contoso.test");
    let out = world.secinfo(
        &[
            "login",
            "--username",
            "dan@contoso.test",
            "--passphrase-from",
            &world.pass_arg(),
        ],
        "not-the-password\n",
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("wrong username or password"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_without_signing_in_says_to_sign_in() {
    let world = World::start().await;
    let out = world.secinfo(
        &[
            "methods",
            "list",
            "--json",
            "--passphrase-from",
            &world.pass_arg(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(3));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["kind"], "sign_in_required");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("secinfo login")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_is_named_with_a_backend_exit_code() {
    let world = World::start().await;
    // A port nobody listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    world.write_config(&format!(
        "[profiles.down]\nbackend = \"native\"\nurl = \"http://127.0.0.1:{port}\"\nsecret_store = \"passphrase\"\n"
    ));
    let out = world.secinfo(
        &[
            "login",
            "--username",
            "x@y",
            "--passphrase-from",
            &world.pass_arg(),
        ],
        "pw\n",
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("cannot reach http://127.0.0.1:{port}")),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_config_file_names_file_line_and_key() {
    let world = World::start().await;
    world.write_config("[profiles.work]\nbackend = \"native\"\nurl = \"https://idp.example.com\"\ncolour = \"red\"\n");
    let out = world.secinfo(&["methods", "list"], "");
    assert_eq!(out.status.code(), Some(6));
    let err = text(&out.stderr);
    assert!(
        err.contains("config.toml, line 4") && err.contains("colour"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_to_a_remote_host_is_refused() {
    let world = World::start().await;
    world.write_config("[profiles.work]\nbackend = \"native\"\nurl = \"http://idp.example.com\"\n");
    let out = world.secinfo(&["methods", "list"], "");
    assert_eq!(out.status.code(), Some(6));
    assert!(
        text(&out.stderr).contains("plain http://"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn config_init_writes_the_commented_example_and_it_loads() {
    let world = World::start().await;
    std::fs::remove_file(world.config_path()).unwrap();
    let out = world.secinfo(&["config", "init"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(world.config_path()).unwrap();
    assert_eq!(written, secinfo::config::EXAMPLE);
    let again = world.secinfo(&["config", "init"], "");
    assert_eq!(
        again.status.code(),
        Some(1),
        "a second init must not overwrite"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_adds_and_lists_users() {
    let world = World::start().await;
    let db = world.db.display().to_string();
    let out = world.secinfo(
        &[
            "admin",
            "--db",
            &db,
            "user",
            "add",
            "erin@contoso.test",
            "--display-name",
            "Erin",
        ],
        "erins-password\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = world.secinfo(&["admin", "--db", &db, "user", "list", "--json"], "");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let users = doc["users"].as_array().unwrap();
    assert!(
        users
            .iter()
            .any(|u| u["username"] == "erin@contoso.test" && u["display_name"] == "Erin"),
        "{doc}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_key_binding_names_its_line() {
    let world = World::start().await;
    world.write_config(&format!(
        "[keys]\nmove_down = [\"j\"]\nfly_away = [\"x\"]\n\n[profiles.test]\nbackend = \"native\"\nurl = \"{}\"\n",
        world.server.url
    ));
    let out = world.secinfo(&["--plain", "--passphrase-from", &world.pass_arg()], "");
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("line 3") && err.contains("fly_away"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn login_with_json_says_who_signed_in_on_stdout_and_asks_on_stderr() {
    let world = World::start().await;
    let uri = world.user_with_totp("gus@contoso.test");
    let out = world.secinfo(
        &[
            "login",
            "--json",
            "--username",
            "gus@contoso.test",
            "--passphrase-from",
            &world.pass_arg(),
        ],
        &format!("{PASSWORD}\n\n{}\n", totp_now(&uri)),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}): {}", text(&out.stdout)));
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["username"], "gus@contoso.test");
    assert_eq!(doc["mfa_setup_required"], false);
    assert_eq!(doc["kept"], true, "{doc}");
    assert!(
        text(&out.stderr).contains("Signed in as"),
        "{}",
        text(&out.stderr)
    );

    let wrong = world.secinfo(
        &[
            "login",
            "--json",
            "--username",
            "gus@contoso.test",
            "--passphrase-from",
            &world.pass_arg(),
        ],
        "not-the-password\n",
    );
    assert_eq!(wrong.status.code(), Some(3));
    // The error is the last thing on stderr, after the password prompt.
    let stderr = text(&wrong.stderr);
    let at = stderr
        .rfind("{\"error\"")
        .unwrap_or_else(|| panic!("{stderr}"));
    let err: serde_json::Value = serde_json::from_str(stderr[at..].trim()).unwrap();
    assert_eq!(err["error"]["kind"], "invalid_credentials", "{err}");
}
