// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Hostile names (issue 11, "Prove it"): every name the server keeps and a
//! client shows (the display name, each method's detail, the phone's name and
//! platform, each session's and remembered device's client, each app
//! password's name) is seeded straight into the database, past the server's
//! own cleaning, with escape sequences (window title, colours, an OSC 52
//! clipboard write, a C1 CSI), bidi overrides, NUL, DEL, CR and tab, and one
//! of them is 10 kB long. The CLI (plain and `--json`), plain mode and the
//! TUI's buffer then show them with no control character and no bidi
//! override. Each field carries its own marker word, and every marker must be
//! seen, so a field that was never shown cannot pass for a clean one.
//!
//! A scripted server that sends bytes that are not UTF-8 inside a name gets
//! a clear "cannot read" error from the CLI, not a crash and not the bytes.

mod common;
#[path = "tui_support/driver.rs"]
mod driver;
mod server_support;
mod tui_support;

use common::{Live, command, text};
use driver::Driver;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use secinfo::app::state::HomeItem;
use server_support::World;
use std::io::Write;
use std::path::PathBuf;

/// A name as a hostile server or a corrupted database would hold it.
fn hostile(marker: &str) -> String {
    format!(
        "{marker}\u{1b}]0;TITLE\u{7}\u{1b}[31mRED\u{1b}]52;c;aGk=\u{7}\u{202e}gnp.exe\u{9b}2J\u{200f}\u{0}nul\u{7f}\r\n\tend"
    )
}

/// Control characters (C0 but the line breaks a program prints itself, DEL, C1),
/// bidi overrides and marks.
fn dirty(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

fn assert_clean(place: &str, s: &str) {
    if let Some(c) = dirty(s) {
        let at = s.find(c).unwrap_or(0);
        let from = s.floor_char_boundary(at.saturating_sub(40));
        panic!(
            "{place} shows {c:?}: …{:?}…",
            &s[from..s.ceil_char_boundary((at + 40).min(s.len()))]
        );
    }
}

/// The markers of the fields every list shows (the display name is shown by none of them).
const MARKERS: &[&str] = &[
    "PHONENAME",
    "PHONEPLATFORM",
    "EMAILDOMAIN",
    "SESSIONCLIENT",
    "REMEMBERED",
    "APPPASSWORD",
];

/// Seed every shown name of alice with a hostile one; the app password's is 10 kB.
fn seed(w: &World) {
    let db = rusqlite::Connection::open(&w.db).unwrap();
    let alice: String = db
        .query_row(
            "SELECT id FROM users WHERE username = ?1",
            [&w.demo.username],
            |r| r.get(0),
        )
        .unwrap();
    let set = |sql: &str, value: String| {
        let n = db.execute(sql, rusqlite::params![value, alice]).unwrap();
        assert!(n > 0, "nothing to seed for {sql}");
    };
    set(
        "UPDATE users SET display_name = ?1 WHERE id = ?2",
        hostile("DISPLAYNAME"),
    );
    set(
        "UPDATE devices SET name = ?1 WHERE user_id = ?2",
        hostile("PHONENAME"),
    );
    set(
        "UPDATE devices SET platform = ?1 WHERE user_id = ?2",
        hostile("PHONEPLATFORM"),
    );
    // Phone numbers are shown as masked digits only (nothing of this is shown);
    // an email address keeps its domain, where the marker sits.
    set(
        "UPDATE methods SET label = '+1 425 555 0123' || ?1 WHERE user_id = ?2 AND kind = 'phone'",
        hostile("NUMBER"),
    );
    set(
        "UPDATE methods SET label = 'a@' || ?1 WHERE user_id = ?2 AND kind = 'email'",
        hostile("EMAILDOMAIN"),
    );
    set(
        "UPDATE methods SET label = ?1 WHERE user_id = ?2 AND kind = 'totp'",
        hostile("TOTPLABEL"),
    );
    set(
        "UPDATE sessions SET client_name = ?1 WHERE user_id = ?2",
        hostile("SESSIONCLIENT"),
    );
    set(
        "UPDATE remembered SET client_name = ?1 WHERE user_id = ?2",
        hostile("REMEMBERED"),
    );
    set(
        "UPDATE app_passwords SET name = ?1 WHERE user_id = ?2",
        format!("{}{}", hostile("APPPASSWORD"), "x".repeat(10_000)),
    );
}

struct Cli {
    home: tempfile::TempDir,
}

impl Cli {
    fn config(&self) -> PathBuf {
        self.home.path().join("config.toml")
    }
    fn run(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let pass = format!("@{}", self.home.path().join("passphrase").display());
        let mut all = args.to_vec();
        all.extend(["--passphrase-from", &pass]);
        let mut child = command(self.home.path(), &self.config(), &all)
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

/// Alice signs in from the command line with the code her phone shows.
fn cli_for(w: &World) -> Cli {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[profiles.test]\nbackend = \"native\"\nurl = \"{}\"\nsecret_store = \"passphrase\"\ntimeout_secs = 10\n",
            w.server.url
        ),
    )
    .unwrap();
    std::fs::write(home.path().join("passphrase"), "hostile names passphrase\n").unwrap();
    let cli = Cli { home };
    let pass = format!("@{}", cli.home.path().join("passphrase").display());
    let mut child = command(
        cli.home.path(),
        &cli.config(),
        &[
            "login",
            "--username",
            &w.demo.username,
            "--passphrase-from",
            &pass,
        ],
    )
    .spawn()
    .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut live = Live::start(child);
    stdin
        .write_all(format!("{}\n", w.demo.password).as_bytes())
        .unwrap();
    let seen = live.wait_for("Choose 1-");
    let choice = seen
        .lines()
        .find(|l| l.contains("verification code"))
        .unwrap_or_else(|| panic!("no code option in:\n{seen}"))
        .trim()
        .split('.')
        .next()
        .unwrap()
        .to_string();
    let code = w.phone().code(None).unwrap();
    stdin
        .write_all(format!("{choice}\n{}\n", code.expose()).as_bytes())
        .unwrap();
    drop(stdin);
    assert!(live.finish().success(), "{}", live.err.lock().unwrap());
    cli
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_reach_the_cli_plain_mode_and_the_tui_without_control_characters() {
    let w = World::default().await;
    let cli = tokio::task::block_in_place(|| cli_for(&w));
    // A remembered device and an app password, so those lists have a row to show.
    let tokens = w.alice_signs_in("hostile-remembered", true).await;
    w.new_app_password(&tokens.access_token, "Mail").await;
    seed(&w);

    // 1. The CLI, as text and as JSON.
    let mut seen = String::new();
    for args in [
        &["status"][..],
        &["methods", "list"][..],
        &["devices", "list"][..],
        &["sessions", "list"][..],
        &["remembered", "list"][..],
        &["app-passwords", "list"][..],
        &["methods", "list", "--json"][..],
        &["devices", "list", "--json"][..],
        &["sessions", "list", "--json"][..],
        &["remembered", "list", "--json"][..],
        &["app-passwords", "list", "--json"][..],
    ] {
        let out = tokio::task::block_in_place(|| cli.run(args, ""));
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "secinfo {args:?}: {stderr}");
        // JSON too: its strings escape what a terminal would act on (\u009b, \u202e).
        assert_clean(&format!("stdout of secinfo {args:?}"), &stdout);
        assert_clean(&format!("stderr of secinfo {args:?}"), &stderr);
        seen.push_str(&stdout);
    }
    for m in MARKERS.iter() {
        assert!(seen.contains(m), "the CLI never showed {m}");
    }

    // 2. Plain mode: home, then each list (one run each; end of input quits).
    let menu = text(&tokio::task::block_in_place(|| cli.run(&["--plain"], "")).stdout);
    let mut plain = menu.clone();
    for item in ["Devices", "Sessions", "Remembered devices", "App passwords"] {
        let n = menu
            .lines()
            .find_map(|l| l.trim().strip_suffix(&format!(". {item}")))
            .unwrap_or_else(|| panic!("no {item} in plain mode's menu:\n{menu}"))
            .to_string();
        let out = tokio::task::block_in_place(|| cli.run(&["--plain"], &format!("{n}\n")));
        assert_clean(&format!("plain mode's {item} (stderr)"), &text(&out.stderr));
        plain.push_str(&text(&out.stdout));
    }
    assert_clean("plain mode", &plain);
    for m in MARKERS.iter() {
        assert!(plain.contains(m), "plain mode never showed {m}");
    }

    // 3. The TUI: every screen that lists a name, drawn at 80×24 and wide enough for whole names.
    let mut d = Driver::signed_in(&w, false).await;
    let mut cells = String::new();
    let draw = |d: &Driver, cells: &mut String| {
        for (width, height) in [(80, 24), (240, 60)] {
            let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
            t.draw(|f| secinfo::ui::render(&d.state, f)).unwrap();
            let buf = t.backend().buffer();
            for y in 0..height {
                for x in 0..width {
                    cells.push_str(buf[(x, y)].symbol());
                }
                cells.push('\n');
            }
        }
    };
    draw(&d, &mut cells);
    for item in [
        HomeItem::Devices,
        HomeItem::Sessions,
        HomeItem::Remembered,
        HomeItem::AppPasswords,
    ] {
        d.open_home(item).await;
        draw(&d, &mut cells);
        d.press(crossterm::event::KeyCode::Esc).await;
    }
    assert_clean("the TUI's buffer", &cells);
    for m in MARKERS.iter() {
        assert!(cells.contains(m), "the TUI never showed {m}");
    }
}

/// Bytes that are not UTF-8 inside a JSON string: the reply cannot be read,
/// the CLI says so and exits with its error code, showing none of the bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_is_not_utf8_is_a_clear_error_not_a_crash() {
    use axum::routing::{get, post};
    let mut bad = br#"[{"id":"m1","kind":"totp","detail":"ok"#.to_vec();
    bad.extend_from_slice(b"\xff\xfe\x1b]0;TITLE\x07\xc3");
    bad.extend_from_slice(br#"","created_at":null,"last_used_at":null,"is_default":true,"usable_mfa":true,"device_id":null}]"#);
    let tokens = r#"{"status":"signed_in","access_token":"a","refresh_token":"r","expires_in":900,"session_id":"s"}"#;
    let meta = r#"{"name":"evil","version":"1","api":"v1","remember_days":30,"mfa_max_age_secs":600,"enrollable":[]}"#;
    let me = r#"{"username":"u","display_name":"U","default_method_id":null,"session_id":"s"}"#;
    let app = axum::Router::new()
        .route(
            "/v1/meta",
            get(move || async move { ([("content-type", "application/json")], meta) }),
        )
        .route(
            "/v1/me",
            get(move || async move { ([("content-type", "application/json")], me) }),
        )
        .route(
            "/v1/auth/login",
            post(move || async move { ([("content-type", "application/json")], tokens) }),
        )
        .route(
            "/v1/me/methods",
            get(move || async move { ([("content-type", "application/json")], bad) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!("[profiles.evil]\nbackend = \"native\"\nurl = \"{url}\"\nsecret_store = \"passphrase\"\n"),
    )
    .unwrap();
    std::fs::write(home.path().join("passphrase"), "p p p p p p\n").unwrap();
    let cli = Cli { home };
    let login = tokio::task::block_in_place(|| cli.run(&["login", "--username", "u"], "pw\n"));
    assert!(login.status.success(), "{}", text(&login.stderr));
    let out = tokio::task::block_in_place(|| cli.run(&["methods", "list"], ""));
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("cannot read"), "{err}");
    assert_clean("stderr", &err);
    assert!(!err.contains("TITLE"), "{err}");
}
