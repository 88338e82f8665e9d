// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! App passwords, recovery codes, renaming and the password change, from the
//! command line against the real server: what is shown once works where it
//! should and nowhere else.

mod common;
use common::*;
use secinfo::server::Settings;
use secinfo::server::admin;
use std::io::Write;

const USER: &str = "gus@contoso.test";

async fn signed_in_world() -> (World, String) {
    let world = World::start_with(Settings::default()).await;
    let uri = world.user_with_totp(USER);
    admin::add_email(&world.db, USER, "gus@example.test").unwrap();
    let out = world.login(USER, &uri);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (world, uri)
}

fn run(world: &World, args: &[&str], stdin: &str) -> std::process::Output {
    let pass = world.pass_arg();
    let mut all = args.to_vec();
    all.extend(["--passphrase-from", &pass]);
    world.secinfo(&all, stdin)
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Sign in through the CLI: the password, then the option whose label has `pick`,
/// answered with what `answer` gives once the factor started (up to three tries).
fn login_choosing(
    world: &World,
    password: &str,
    pick: &str,
    answer: impl Fn(&World) -> String,
) -> (std::process::ExitStatus, String) {
    let pass = world.pass_arg();
    let mut child = world
        .command(&["login", "--username", USER, "--passphrase-from", &pass])
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut live = Live::start(child);
    stdin.write_all(format!("{password}\n").as_bytes()).unwrap();
    let seen = live.wait_for("Choose 1-");
    let choice = seen
        .lines()
        .find(|l| l.contains(pick))
        .unwrap_or_else(|| panic!("no option with {pick:?} in:\n{seen}"))
        .trim()
        .split('.')
        .next()
        .unwrap()
        .to_string();
    stdin.write_all(format!("{choice}\n").as_bytes()).unwrap();
    live.wait_for("Enter the code");
    let code = answer(world);
    for _ in 0..3 {
        stdin.write_all(format!("{code}\n").as_bytes()).unwrap();
    }
    drop(stdin);
    let status = live.finish();
    let err = live.err.lock().unwrap().clone();
    (status, err)
}

fn email_code(world: &World) -> String {
    last_code(&world.db, "email")
}

#[tokio::test(flavor = "multi_thread")]
async fn app_password_is_shown_once_and_works_only_on_the_legacy_endpoint() {
    let (world, _) = signed_in_world().await;
    let created = json(&run(
        &world,
        &["app-passwords", "create", "Old mail client", "--json"],
        "",
    ));
    assert_eq!(created["schema"], 1);
    let password = created["password"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["name"], "Old mail client");

    // Listed by name, never with the password.
    let listed = run(&world, &["app-passwords", "list", "--json"], "");
    assert!(!text(&listed.stdout).contains(&password));
    let doc = json(&listed);
    assert_eq!(doc["app_passwords"][0]["id"], id.as_str());
    assert_eq!(doc["app_passwords"][0]["name"], "Old mail client");
    let plain = run(&world, &["app-passwords", "list"], "");
    assert!(text(&plain.stdout).contains("Old mail client"));
    assert!(!text(&plain.stdout).contains(&password));

    let http = reqwest::Client::new();
    let ping = http
        .get(format!("{}/v1/legacy/ping", world.server.url))
        .basic_auth(USER, Some(&password))
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    let who: serde_json::Value = ping.json().await.unwrap();
    assert_eq!(who["username"], USER);

    // Not a password for signing in, nor for the Security info API.
    let login = http
        .post(format!("{}/v1/auth/login", world.server.url))
        .json(&serde_json::json!({
            "username": USER, "password": password,
            "client_id": "legacy-test", "client_name": "legacy test"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401);
    let me = http
        .get(format!("{}/v1/me", world.server.url))
        .basic_auth(USER, Some(&password))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);

    // Deleted, it stops working at once.
    let refused = run(&world, &["app-passwords", "delete", &id], "n\n");
    assert_eq!(refused.status.code(), Some(7));
    let deleted = run(&world, &["app-passwords", "delete", &id, "--yes"], "");
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    let ping = http
        .get(format!("{}/v1/legacy/ping", world.server.url))
        .basic_auth(USER, Some(&password))
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn recovery_codes_sign_in_once() {
    let (world, _) = signed_in_world().await;
    let status = json(&run(&world, &["recovery-codes", "status", "--json"], ""));
    assert_eq!(status["generated"], false);

    let generated = run(&world, &["recovery-codes", "generate"], "");
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    let codes: Vec<String> = text(&generated.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(codes.len(), 10, "{codes:?}");
    assert!(text(&generated.stderr).contains("not shown again"));
    let status = json(&run(&world, &["recovery-codes", "status", "--json"], ""));
    assert_eq!(
        (status["generated"].clone(), status["remaining"].clone()),
        (true.into(), 10.into())
    );

    // At sign-in, "Use a recovery code" is the option after the authenticator.
    assert!(run(&world, &["logout"], "").status.success());
    let code = codes[3].clone();
    let (first, err) = login_choosing(&world, PASSWORD, "recovery code", |_| code.clone());
    assert!(first.success(), "{err}");
    assert!(err.contains("Use a recovery code (10 left)"), "{err}");
    let status = json(&run(&world, &["recovery-codes", "status", "--json"], ""));
    assert_eq!(status["remaining"], 9);

    // The same code a second time is refused.
    assert!(run(&world, &["logout"], "").status.success());
    let (again, err) = login_choosing(&world, PASSWORD, "recovery code", |_| code.clone());
    assert_eq!(again.code(), Some(3), "{err}");

    // A new set makes the old codes stop working (asked first, since 9 remain).
    let (by_email, err) = login_choosing(&world, PASSWORD, "Email", email_code);
    assert!(by_email.success(), "{err}");
    let kept = run(&world, &["recovery-codes", "generate"], "n\n");
    assert_eq!(kept.status.code(), Some(7));
    let regenerated = run(&world, &["recovery-codes", "generate"], "y\n");
    assert!(
        regenerated.status.success(),
        "{}",
        text(&regenerated.stderr)
    );
    assert!(!text(&regenerated.stdout).contains(&codes[0]));
    let by_script = json(&run(
        &world,
        &["recovery-codes", "generate", "--yes", "--json"],
        "",
    ));
    assert_eq!(by_script["schema"], 1);
    assert_eq!(by_script["codes"].as_array().unwrap().len(), 10);
    assert!(!by_script.to_string().contains(&codes[0]));
    assert!(run(&world, &["logout"], "").status.success());
    let old_code = codes[0].clone();
    let (old, err) = login_choosing(&world, PASSWORD, "recovery code", |_| old_code.clone());
    assert_eq!(old.code(), Some(3), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn renaming_a_method_and_changing_the_password() {
    let (world, _) = signed_in_world().await;
    let totp = |doc: &serde_json::Value| {
        doc["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["kind"] == "totp")
            .unwrap()
            .clone()
    };
    let methods = json(&run(&world, &["methods", "list", "--json"], ""));
    let id = totp(&methods)["id"].as_str().unwrap().to_string();
    let renamed = run(&world, &["methods", "rename", &id, "Work laptop app"], "");
    assert!(renamed.status.success(), "{}", text(&renamed.stderr));
    let methods = json(&run(&world, &["methods", "list", "--json"], ""));
    assert_eq!(totp(&methods)["detail"], "Work laptop app");

    let new = "a-brand-new-passphrase";
    let mismatch = run(
        &world,
        &["password", "change"],
        &format!("{PASSWORD}\n{new}\n{new}-typo\n"),
    );
    assert_eq!(mismatch.status.code(), Some(2));
    assert!(text(&mismatch.stderr).contains("not the same"));
    let wrong = run(
        &world,
        &["password", "change"],
        &format!("not-my-password\n{new}\n{new}\n"),
    );
    assert_eq!(wrong.status.code(), Some(3), "{}", text(&wrong.stderr));
    let changed = run(
        &world,
        &["password", "change"],
        &format!("{PASSWORD}\n{new}\n{new}\n"),
    );
    assert!(changed.status.success(), "{}", text(&changed.stderr));

    assert!(run(&world, &["logout"], "").status.success());
    let pass = world.pass_arg();
    let old = world.secinfo(
        &["login", "--username", USER, "--passphrase-from", &pass],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(old.status.code(), Some(3), "{}", text(&old.stderr));
    let (fresh, err) = login_choosing(&world, new, "Email", email_code);
    assert!(fresh.success(), "{err}");
}
