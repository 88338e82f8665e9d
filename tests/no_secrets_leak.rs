// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! No secrets leak (issue 11, "Prove it"): the CLI's journeys (and a sign-in
//! in plain mode), run against a
//! `secinfo serve` process, with every log at TRACE (`SECINFO_LOG=trace`,
//! `RUST_LOG=trace`: secinfo's own spans and every library's, reqwest, hyper,
//! rustls, axum, rusqlite). Then no password, code, TOTP secret, token, app
//! password, recovery code or store passphrase appears in any log file, any
//! stderr (client or server), or any file either side wrote, except the
//! encrypted secret store and the server's database (which holds the outbox,
//! and TOTP secrets sealed). stdout shows only what is shown on purpose, once
//! (the new app password, recovery codes, the TOTP secret to type in); never
//! a password, passphrase or token.

mod common;
mod serve_process;

use common::{Live, Printed, command, totp_now};
use secinfo::secrets::SecretString;
use secinfo::server::{Settings, admin};
use serve_process::{free_port, wait_until_up};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

const USER: &str = "lena@contoso.test";
const PASSWORD: &str = "lena-first-password-0417";
const NEW_PASSWORD: &str = "lena-second-password-9352";
const PASSPHRASE: &str = "lena store passphrase 5521";

struct Journey {
    home: tempfile::TempDir,
    server: Child,
    db: PathBuf,
    /// Everything that must not leak, with what it is.
    secrets: Vec<(String, &'static str)>,
    /// Every stderr and stdout, by command.
    printed: Printed,
}

impl Drop for Journey {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

impl Journey {
    fn config(&self) -> PathBuf {
        self.home.path().join("config.toml")
    }

    fn client_home(&self) -> PathBuf {
        self.home.path().join("client")
    }

    fn secret(&mut self, value: &str, what: &'static str) {
        self.secrets.push((value.to_string(), what));
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let pass = format!("@{}", self.home.path().join("passphrase").display());
        let mut all: Vec<&str> = args.to_vec();
        if !matches!(args.first(), Some(&"doctor")) {
            all.extend(["--passphrase-from", &pass]);
        }
        let mut c = command(&self.client_home(), &self.config(), &all);
        c.env("SECINFO_LOG", "trace")
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "1");
        c
    }

    /// Run to the end with `stdin`; keep its output for the scan.
    fn run(&mut self, args: &[&str], stdin: &str) -> Output {
        let cmd = self.cmd(args);
        self.printed.run(args.join(" "), cmd, stdin)
    }

    fn json(&mut self, args: &[&str], stdin: &str) -> serde_json::Value {
        serde_json::from_slice(&self.run(args, stdin).stdout).unwrap()
    }

    /// Sign in: the password, then (when there is a choice) the option whose
    /// label has `pick`, answered with `answer`.
    fn login(&mut self, password: &str, pick: Option<&str>, answer: &str) {
        let mut child = self.cmd(&["login", "--username", USER]).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let live = Live::start_with_stdout(child);
        stdin.write_all(format!("{password}\n").as_bytes()).unwrap();
        let Some(pick) = pick else {
            live.wait_for("Enter the code");
            return self.finish_login(live, stdin, answer.to_string());
        };
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
        self.finish_login(live, stdin, format!("{choice}\n{answer}"));
    }

    /// Plain mode (`--plain`), signed out with one known account: choose it,
    /// the password, then the option whose label has `pick`, answered with `answer`;
    /// end of input quits from the home menu.
    fn plain_login(&mut self, password: &str, pick: &str, answer: &str) {
        let mut child = self.cmd(&["--plain"]).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut live = Live::start_with_stdout(child);
        live.wait_for_out("Enter a number:");
        stdin.write_all(b"1\n").unwrap();
        live.wait_for_out("Password:");
        stdin.write_all(format!("{password}\n").as_bytes()).unwrap();
        let seen = live.wait_for_out(pick);
        let line = seen.lines().rev().find(|l| l.contains(pick)).unwrap();
        let choice = line.trim().split('.').next().unwrap().to_string();
        stdin.write_all(format!("{choice}\n").as_bytes()).unwrap();
        // "Don't ask again for N days on this computer?": no.
        live.wait_for_out("Enter y or n:");
        stdin
            .write_all(format!("n\n{answer}\n").as_bytes())
            .unwrap();
        live.wait_for_out("Signed in as");
        drop(stdin);
        let status = live.finish();
        let (out, err) = (
            live.out.lock().unwrap().clone(),
            live.err.lock().unwrap().clone(),
        );
        assert!(status.success(), "plain mode: {out}\n{err}");
        self.printed.stderr.push(("--plain".into(), err));
        self.printed.stdout.push(("--plain".into(), out));
    }

    fn finish_login(&mut self, live: Live, mut stdin: std::process::ChildStdin, typed: String) {
        stdin.write_all(format!("{typed}\n").as_bytes()).unwrap();
        drop(stdin);
        let mut live = live;
        let status = live.finish();
        let err = live.err.lock().unwrap().clone();
        assert!(status.success(), "login: {err}");
        self.printed.stderr.push(("login".into(), err));
        self.printed
            .stdout
            .push(("login".into(), live.out.lock().unwrap().clone()));
    }
}

async fn start_server(home: &Path, db: &Path, port: u16) -> Child {
    let state = home.join("server-state");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_secinfo"))
        .args(["serve", "--db"])
        .arg(db)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--ip-burst", "0"])
        .env("SECINFO_LOG", "trace")
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "1")
        .env("SECINFO_STATE_DIR", &state)
        .env("SECINFO_DATA_DIR", home.join("server-data"))
        .env("SECINFO_CONFIG", home.join("server-none.toml"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(home.join("server.stdout")).unwrap())
        .stderr(std::fs::File::create(home.join("server.stderr")).unwrap())
        .spawn()
        .unwrap();
    wait_until_up(&mut child, port).await;
    child
}

/// `value` as a word of its own in `hay` (a 6-digit code inside a longer number is not it).
fn appears(hay: &str, value: &str) -> bool {
    let digits = value.chars().all(|c| c.is_ascii_digit());
    hay.match_indices(value).any(|(i, _)| {
        if !digits {
            return true;
        }
        let before = hay[..i].chars().next_back();
        let after = hay[i + value.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// Tokens the server issues: sat_ (access), srt_ (refresh), srg_ (remembered grant), 43 characters of base64url.
fn tokens_in(hay: &str) -> Vec<String> {
    let mut found = Vec::new();
    for prefix in ["sat_", "srt_", "srg_"] {
        for (i, _) in hay.match_indices(prefix) {
            let rest: String = hay[i + 4..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if rest.len() >= 40 {
                found.push(format!("{prefix}{rest}"));
            }
        }
    }
    found
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_log_stderr_or_any_file_at_trace() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("server.db");
    // The account: a password and an authenticator app.
    admin::add_user(&db, USER, "Lena Test", &SecretString::new(PASSWORD)).unwrap();
    let (_, uri) = admin::add_totp(&db, USER, "Authenticator", &Settings::default()).unwrap();
    let uri = uri.expose().to_string();
    let port = free_port();
    let server = start_server(home.path(), &db, port).await;
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[profiles.work]\nbackend = \"native\"\nurl = \"http://127.0.0.1:{port}\"\nsecret_store = \"passphrase\"\ntimeout_secs = 10\n"
        ),
    )
    .unwrap();
    std::fs::write(home.path().join("passphrase"), format!("{PASSPHRASE}\n")).unwrap();
    let mut j = Journey {
        home,
        server,
        db,
        secrets: Vec::new(),
        printed: Printed::default(),
    };
    j.secret(PASSWORD, "the password");
    j.secret(NEW_PASSWORD, "the new password");
    j.secret(PASSPHRASE, "the store passphrase");
    let totp_secret = url::Url::parse(&uri)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "secret")
        .unwrap()
        .1
        .into_owned();
    j.secret(&totp_secret, "the TOTP secret");

    // The journeys, all from the command line.
    tokio::task::spawn_blocking(move || {
        let code = totp_now(&uri);
        j.secret(&code, "a TOTP code");
        j.login(PASSWORD, None, &code);
        j.run(&["status"], "");
        j.json(&["methods", "list", "--json"], "");
        j.json(&["sessions", "list", "--json"], "");
        j.run(&["remembered", "list"], "");
        let created = j.json(&["app-passwords", "create", "Mail", "--json"], "");
        let app_password = created["password"]
            .as_str()
            .expect("the app password")
            .to_string();
        j.secret(&app_password, "an app password");
        j.json(&["app-passwords", "list", "--json"], "");
        let codes = j.json(&["recovery-codes", "generate", "--yes", "--json"], "");
        let codes: Vec<String> = codes["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        for c in &codes {
            j.secret(c, "a recovery code");
        }
        // A second authenticator app: its secret, then its code.
        let added = j.json(&["methods", "add", "totp", "--json"], "");
        let new_secret = added["secret"].as_str().unwrap().to_string();
        let new_uri = added["uri"].as_str().unwrap().to_string();
        j.secret(&new_secret, "a new TOTP secret");
        let new_code = totp_now(&new_uri);
        j.secret(&new_code, "a TOTP code");
        let id = added["enrollment_id"].as_str().unwrap().to_string();
        j.run(&["methods", "verify", &id], &format!("{new_code}\n"));
        j.run(
            &["password", "change"],
            &format!("{PASSWORD}\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n"),
        );
        j.run(&["logout"], "");
        // Back in with the new password and a recovery code.
        j.login(NEW_PASSWORD, Some("recovery code"), &codes[0]);
        j.run(&["signout-all", "--yes"], "");
        j.run(&["doctor"], "");
        j.run(&["logout"], "");
        // Plain mode signs in too: the new password and another recovery code.
        j.plain_login(NEW_PASSWORD, "recovery code", &codes[1]);
        j.run(&["logout"], "");
        j
    })
    .await
    .map(|mut j| {
        let _ = j.server.kill();
        let _ = j.server.wait();
        scan(&j);
    })
    .unwrap();
}

fn scan(j: &Journey) {
    let home = j.home.path();
    // Every file either side wrote, except the encrypted store and the server's database.
    let mut files = Vec::new();
    files_under(home, &mut files);
    let store = j.client_home().join("data").join("secrets.bin");
    assert!(
        store.exists(),
        "the journey used the encrypted store at {}",
        store.display()
    );
    let exempt = |p: &Path| {
        p == store
            || p == home.join("passphrase")
            || p.to_string_lossy()
                .starts_with(&j.db.to_string_lossy().to_string())
    };
    let mut read = Vec::new();
    for f in files.iter().filter(|f| !exempt(f)) {
        let bytes = std::fs::read(f).unwrap();
        read.push((
            f.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    // The logs were written, at TRACE, on both sides, or this proves nothing.
    let log = |side: &str| {
        read.iter()
            .find(|(name, _)| name.contains(side) && name.ends_with("secinfo.log"))
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| {
                panic!(
                    "no {side} log among {:?}",
                    read.iter().map(|r| &r.0).collect::<Vec<_>>()
                )
            })
    };
    let (client_log, server_log) = (log("client"), log("server-state"));
    for (side, text) in [("client", &client_log), ("server", &server_log)] {
        assert!(text.contains("TRACE"), "the {side} log has no TRACE lines");
        assert!(
            text.lines().count() > 40,
            "the {side} log is short: {} lines",
            text.lines().count()
        );
    }
    let mut places: Vec<(String, &str)> =
        read.iter().map(|(n, t)| (n.clone(), t.as_str())).collect();
    for (cmd, err) in &j.printed.stderr {
        places.push((format!("stderr of `secinfo {cmd}`"), err));
    }
    let mut leaks = Vec::new();
    for (place, text) in &places {
        for (value, what) in &j.secrets {
            if appears(text, value) {
                leaks.push(format!("{what} in {place}"));
            }
        }
        for t in tokens_in(text) {
            leaks.push(format!("a token ({}…) in {place}", &t[..8]));
        }
    }
    // stdout shows what it must show once, never a password, passphrase or token.
    for (cmd, out) in &j.printed.stdout {
        for value in [PASSWORD, NEW_PASSWORD, PASSPHRASE] {
            if appears(out, value) {
                leaks.push(format!(
                    "a password or passphrase on stdout of `secinfo {cmd}`"
                ));
            }
        }
        if !tokens_in(out).is_empty() {
            leaks.push(format!("a token on stdout of `secinfo {cmd}`"));
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    if std::env::var_os("SECINFO_SHOW_LOGS").is_some() {
        eprintln!("--- client log ---\n{client_log}\n--- server log ---\n{server_log}");
    }
    eprintln!(
        "no secrets leak: {} secrets looked for in {} files ({} + {} log lines) and {} stderr streams",
        j.secrets.len(),
        read.len(),
        client_log.lines().count(),
        server_log.lines().count(),
        j.printed.stderr.len()
    );
}

/// The scan itself: it finds a secret, a code as a word and a token, and
/// does not mistake a code for part of a longer number.
#[test]
fn the_scan_finds_a_code_a_password_and_a_token_where_they_are() {
    let line = "2026 INFO user typed 123456 with lena-first-password-0417 at 1796123456000";
    assert!(appears(line, "123456"));
    assert!(appears(line, PASSWORD));
    assert!(!appears("at 1796123456000", "123456"));
    let token = format!("sat_{}", "A".repeat(43));
    assert_eq!(tokens_in(&format!("Bearer {token}\n")), vec![token]);
    assert!(tokens_in("sat_short").is_empty());
}
