// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! No secrets leak (issue 11, "Prove it"), for the other two adapters: the
//! CLI's journeys against the live privacyIDEA and the Graph-shaped server,
//! with every log at TRACE (`SECINFO_LOG=trace`, `RUST_LOG=trace`), and then
//! the TUI, signed in from the encrypted store, made to panic in a
//! pseudo-terminal (`SECINFO_TEST_PANIC`, debug builds). No password, store
//! passphrase, app password, token (privacyIDEA's JWT; Graph's access and
//! refresh tokens and device codes) appears in the log, any stderr, the panic
//! output or any file written, except the encrypted store. stdout shows only
//! what is shown once on purpose (the new app password).

mod common;
mod graph_server;
mod pty_support;

use common::Printed;
use pty_support::Pty;
use std::path::{Path, PathBuf};
use std::process::Output;

const PASSPHRASE: &str = "provider store passphrase 7731";

struct Journey {
    home: tempfile::TempDir,
    /// Everything that must not leak, with what it is.
    secrets: Vec<(String, &'static str)>,
    /// Every stderr (and the panic's terminal output), by command.
    printed: Printed,
}

impl Journey {
    fn new(profile: &str) -> Journey {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("config.toml"), profile).unwrap();
        std::fs::write(home.path().join("passphrase"), format!("{PASSPHRASE}\n")).unwrap();
        let mut j = Journey {
            home,
            secrets: Vec::new(),
            printed: Printed::default(),
        };
        j.secret(PASSPHRASE, "the store passphrase");
        j
    }

    fn secret(&mut self, value: &str, what: &'static str) {
        self.secrets.push((value.to_string(), what));
    }

    fn pass(&self) -> String {
        format!("@{}", self.home.path().join("passphrase").display())
    }

    /// `secinfo ARGS` at TRACE with `stdin`; its output kept for the scan.
    fn run(&mut self, args: &[&str], stdin: &str) -> Output {
        let pass = self.pass();
        let mut all = args.to_vec();
        all.extend(["--passphrase-from", &pass]);
        let home = self.home.path();
        let cmd = common::command(home, &home.join("config.toml"), &all);
        self.printed.run(args.join(" "), cmd, stdin)
    }

    /// The TUI, signed in from the store, panics at the first key (a debug-build hook).
    fn panic_in_the_tui(&mut self) {
        let home = self.home.path().to_path_buf();
        let config = home.join("config.toml").display().to_string();
        let (data, state) = (
            home.join("data").display().to_string(),
            home.join("state").display().to_string(),
        );
        let args = format!("--passphrase-from {}", self.pass());
        let mut p = Pty::start(&[
            ("SECINFO_TEST_PANIC", "1"),
            ("SECINFO_CONFIG", &config),
            ("SECINFO_DATA_DIR", &data),
            ("SECINFO_STATE_DIR", &state),
            ("SECINFO_ARGS", &args),
            ("SECINFO_LOG", "trace"),
            ("RUST_LOG", "trace"),
            ("RUST_BACKTRACE", "1"),
        ]);
        p.wait_for("Security info", 120);
        p.send(b"j");
        let (exit, out) = p.finish();
        assert_ne!(exit, "0", "{out}");
        assert!(out.contains("SECINFO_TEST_PANIC"), "it panicked:\n{out}");
        self.printed.stderr.push(("the TUI's panic".into(), out));
    }

    /// Every file written (but the encrypted store and the passphrase file),
    /// every stderr and the panic output: no secret, and no token of `shape`.
    fn scan(&self, shape: fn(&str) -> Vec<String>) {
        let home = self.home.path();
        let store = home.join("data").join("secrets.bin");
        assert!(store.exists(), "the journey used the encrypted store");
        let mut files = Vec::new();
        files_under(home, &mut files);
        let mut places: Vec<(String, String)> = files
            .iter()
            .filter(|f| **f != store && **f != home.join("passphrase"))
            .map(|f| {
                let bytes = std::fs::read(f).unwrap();
                (
                    f.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                )
            })
            .collect();
        let log = places
            .iter()
            .find(|(n, _)| n.ends_with("secinfo.log"))
            .map(|(_, t)| t.clone())
            .expect("a log was written");
        assert!(
            log.contains("TRACE") && log.lines().count() > 40,
            "the log is at TRACE"
        );
        places.extend(
            self.printed
                .stderr
                .iter()
                .map(|(c, e)| (format!("stderr of {c}"), e.clone())),
        );
        let mut leaks = Vec::new();
        for (place, text) in &places {
            for (value, what) in &self.secrets {
                if text.contains(value.as_str()) {
                    leaks.push(format!("{what} in {place}"));
                }
            }
            for t in shape(text) {
                leaks.push(format!("a token ({t}) in {place}"));
            }
        }
        for (cmd, out) in &self.printed.stdout {
            if !shape(out).is_empty() || out.contains(PASSPHRASE) {
                leaks.push(format!("a token or the passphrase on stdout of {cmd}"));
            }
        }
        assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
        eprintln!(
            "no secrets leak: {} secrets looked for in {} places ({} log lines)",
            self.secrets.len(),
            places.len(),
            log.lines().count()
        );
    }
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

/// JWTs (privacyIDEA's sign-in token): `eyJ…` header, a dot, `eyJ…` claims.
fn jwts_in(hay: &str) -> Vec<String> {
    hay.match_indices("eyJ")
        .filter_map(|(i, _)| {
            let rest = &hay[i..];
            let head: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            rest[head.len()..]
                .starts_with(".eyJ")
                .then(|| format!("{}…", &head[..head.len().min(8)]))
        })
        .collect()
}

/// The Graph server's tokens (`at-N`, `rt-N`) and device codes, as words of their own.
fn graph_tokens_in(hay: &str) -> Vec<String> {
    let mut found = Vec::new();
    for prefix in ["at-", "rt-", "DAQABAAEAAAD-device-"] {
        for (i, _) in hay.match_indices(prefix) {
            let before = hay[..i].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                continue;
            }
            let digits: String = hay[i + prefix.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if !digits.is_empty() {
                found.push(format!("{prefix}{digits}"));
            }
        }
    }
    found
}

#[test]
fn the_token_scans_find_a_jwt_and_a_graph_token_but_not_ordinary_words() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VybmFtZSI6ImtpbSJ9.c2ln";
    assert_eq!(jwts_in(&format!("PI-Authorization: {jwt}")).len(), 1);
    assert!(jwts_in("eyJ alone").is_empty());
    assert_eq!(graph_tokens_in("Bearer at-3 and rt-12"), ["at-3", "rt-12"]);
    assert!(graph_tokens_in("format-1 at-x start-2").is_empty());
}

#[test]
fn privacyidea_journeys_and_a_panic_leak_no_secret_at_trace() {
    let (url, realm, password) = common::privacyidea_env();
    let mut j = Journey::new(&format!(
        "[profiles.pi]\nbackend = \"privacyidea\"\nurl = \"{url}\"\nrealm = \"{realm}\"\nsecret_store = \"passphrase\"\n"
    ));
    j.secret(&password, "the password");
    j.run(&["login", "--username", "liam"], &format!("{password}\n"));
    j.run(&["status"], "");
    j.run(&["methods", "list", "--json"], "");
    let made = j.run(
        &[
            "app-passwords",
            "create",
            "Mail",
            "--service",
            "imap",
            "--json",
        ],
        "",
    );
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let app_password = made["password"].as_str().unwrap().to_string();
    j.secret(&app_password, "the app password");
    // Shown once, on stdout, on purpose: from here on it must appear nowhere.
    j.printed.stdout.pop();
    let id = made["id"].as_str().unwrap().to_string();
    j.run(&["app-passwords", "list"], "");
    j.run(&["app-passwords", "delete", &id, "--yes"], "");
    j.panic_in_the_tui();
    j.run(&["logout"], "");
    j.scan(jwts_in);
}

#[tokio::test(flavor = "multi_thread")]
async fn graph_journeys_and_a_panic_leak_no_secret_at_trace() {
    let server = graph_server::GraphServer::start().await;
    let j = Journey::new(&server.profile());
    let j = tokio::task::spawn_blocking(move || {
        let mut j = j;
        j.run(&["login"], "");
        j.run(&["status"], "");
        j.run(&["methods", "list", "--json"], "");
        j.run(&["methods", "default", graph_server::OFFICE_ID], "");
        j.panic_in_the_tui();
        j.run(&["logout"], "");
        j
    })
    .await
    .unwrap();
    // The scan looks for the shape of every token and device code this server issues.
    let issued = server.issued();
    assert!(issued.len() >= 3, "tokens were issued: {issued:?}");
    assert!(
        issued.iter().all(|t| graph_tokens_in(t) == [t.clone()]),
        "{issued:?}"
    );
    tokio::task::spawn_blocking(move || j.scan(graph_tokens_in))
        .await
        .unwrap();
}
