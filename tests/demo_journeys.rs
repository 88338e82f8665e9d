// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Whole journeys through the real binary on the built-in demo (no config):
//! push approval with number matching from the simulated phone, "Don't ask
//! again", sign out everywhere across two clients, and no secret in the log.

mod common;
use common::Live;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const ALICE: &str = "alice@contoso.test";
const PASSWORD: &str = "correct-horse-battery";

/// One client of the demo: its own state dir (own client id, own accounts
/// list); every client shares the demo's data dir, so they see one world.
struct Client {
    state: PathBuf,
    data: PathBuf,
}

impl Client {
    fn new(root: &Path, name: &str) -> Client {
        Client {
            state: root.join(name),
            data: root.join("data"),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_secinfo"));
        c.args(args)
            .env("SECINFO_CONFIG", self.data.join("no-config.toml"))
            .env("SECINFO_DATA_DIR", &self.data)
            .env("SECINFO_STATE_DIR", &self.state)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self.command(args).spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Sign in with the authenticator code from the simulated phone.
    fn login_with_code(&self, extra: &[&str]) -> Output {
        let code = self.run(&["phone", "code"], "");
        assert!(code.status.success(), "{}", text(&code.stderr));
        let mut args = vec!["login", "--username", ALICE];
        args.extend_from_slice(extra);
        self.run(
            &args,
            &format!("{PASSWORD}\n2\n{}\n", text(&code.stdout).trim()),
        )
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn alice_approves_a_push_with_the_number_and_is_remembered() {
    let root = tempfile::tempdir().unwrap();
    let laptop = Client::new(root.path(), "laptop");
    let mut child = laptop
        .command(&["login", "--username", ALICE, "--remember"])
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Password, then the default method: the push to Alice's phone.
    stdin
        .write_all(format!("{PASSWORD}\n\n").as_bytes())
        .unwrap();
    let live = Live::start(child);
    let number = live.number_to_match();

    // A wrong number is refused by the server, and that sign-in fails.
    let wrong = if number == "10" { "11" } else { "10" };
    let phone = laptop.run(&["phone", "approve", "--number", wrong], "");
    assert!(!phone.status.success(), "a wrong number must be refused");
    drop(stdin);
    let out = live.child.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "a push answered with the wrong number must not sign in"
    );

    // Again, with the right number.
    let mut child = laptop
        .command(&["login", "--username", ALICE, "--remember"])
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{PASSWORD}\n\n").as_bytes())
        .unwrap();
    let live = Live::start(child);
    let number = live.number_to_match();
    let phone = laptop.run(&["phone", "approve", "--number", &number], "");
    assert!(phone.status.success(), "{}", text(&phone.stderr));
    drop(stdin);
    let out = live.child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", live.err.lock().unwrap());

    // "Don't ask again": the next sign-in from this client skips the second factor.
    let again = laptop.run(&["login", "--username", ALICE], &format!("{PASSWORD}\n"));
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        !text(&again.stderr).contains("Verify your identity"),
        "{}",
        text(&again.stderr)
    );

    // It is listed as this client's remembered device; revoking it asks for MFA again.
    let list = laptop.run(&["remembered", "list", "--json"], "");
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let grants = doc["remembered_devices"].as_array().unwrap();
    let mine = grants
        .iter()
        .find(|g| g["current"] == true)
        .expect("this client's grant is listed");
    let id = mine["id"].as_str().unwrap();
    assert!(
        laptop
            .run(&["remembered", "revoke", id], "")
            .status
            .success()
    );
    let after = laptop.run(&["login", "--username", ALICE], &format!("{PASSWORD}\n"));
    assert!(
        text(&after.stderr).contains("Verify your identity"),
        "{}",
        text(&after.stderr)
    );
}

#[test]
fn sign_out_everywhere_ends_every_client_and_mfa_is_asked_again() {
    let root = tempfile::tempdir().unwrap();
    let laptop = Client::new(root.path(), "laptop");
    let desktop = Client::new(root.path(), "desktop");
    assert!(laptop.login_with_code(&["--remember"]).status.success());
    // The desktop signs in with a code sent by email (a TOTP code can't be used twice).
    let mut child = desktop
        .command(&["login", "--username", ALICE])
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{PASSWORD}\n4\n").as_bytes())
        .unwrap();
    let live = Live::start(child);
    live.wait_for("Enter the code");
    let db = root.path().join("data/demo/server.db");
    let mail = secinfo::server::outbox(&db, None).unwrap();
    let last = mail
        .iter()
        .rev()
        .find(|m| m.channel == "email")
        .expect("a code was emailed");
    let code = last
        .body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code");
    stdin.write_all(format!("{code}\n").as_bytes()).unwrap();
    drop(stdin);
    let out = live.child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", live.err.lock().unwrap());
    assert!(desktop.run(&["methods", "list"], "").status.success());

    let out = laptop.run(&["signout-all", "--yes"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The other client's access and refresh tokens stop working at once.
    let out = desktop.run(&["methods", "list", "--json"], "");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    // And the remembered device is gone: the laptop is asked for MFA again.
    let out = laptop.run(&["login", "--username", ALICE], &format!("{PASSWORD}\n"));
    assert!(
        text(&out.stderr).contains("Verify your identity"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_log_never_holds_the_password_codes_or_tokens() {
    let root = tempfile::tempdir().unwrap();
    let laptop = Client::new(root.path(), "laptop");
    let code = text(&laptop.run(&["phone", "code"], "").stdout)
        .trim()
        .to_string();
    let out = laptop.run(
        &["login", "--username", ALICE],
        &format!("{PASSWORD}\n2\n{code}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for args in [
        &["methods", "list"][..],
        &["devices", "list"],
        &["sessions", "list"],
        &["status"],
    ] {
        assert!(laptop.run(args, "").status.success());
    }
    let log = std::fs::read_to_string(laptop.state.join("secinfo.log")).unwrap();
    assert!(!log.is_empty(), "the journey should have been logged");
    let tokens = std::fs::read_to_string(laptop.data.join("demo/demo-tokens.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&tokens).unwrap();
    let mut secrets = vec![PASSWORD.to_string(), code];
    collect_strings(&doc, &mut secrets);
    for s in secrets.iter().filter(|s| s.len() >= 6) {
        assert!(
            !log.contains(s.as_str()),
            "the log contains a secret ({} chars)",
            s.len()
        );
    }
    assert!(
        secrets.len() >= 4,
        "expected the access and refresh tokens in the token file"
    );
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}
