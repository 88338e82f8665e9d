// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! What users of gh, kubectl and ykman expect of a CLI: completions and a man
//! page from the same definitions as `--help`, `--no-input` that never asks
//! (a missing answer is a usage error saying how to give it), and a reader
//! that goes away (`| head`) ending the command quietly, not with a panic.

use std::io::Read;
use std::process::{Command, Stdio};

fn secinfo() -> Command {
    let dir = std::env::temp_dir().join(format!("secinfo-conventions-{}", std::process::id()));
    let mut c = Command::new(env!("CARGO_BIN_EXE_secinfo"));
    c.env("SECINFO_CONFIG", dir.join("none.toml"))
        .env("SECINFO_DATA_DIR", dir.join("data"))
        .env("SECINFO_STATE_DIR", dir.join("state"))
        .env_remove("SECINFO_PROFILE");
    c
}

const SUBCOMMANDS: [&str; 8] = [
    "login",
    "methods",
    "devices",
    "sessions",
    "remembered",
    "app-passwords",
    "recovery-codes",
    "signout-all",
];

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = secinfo().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        for sub in SUBCOMMANDS {
            assert!(text.contains(sub), "{shell} completions lack {sub}");
        }
    }
}

#[test]
fn the_man_page_is_roff_and_names_every_subcommand() {
    let out = secinfo().arg("man").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let page = String::from_utf8(out.stdout).unwrap().replace("\\-", "-");
    assert!(
        page.starts_with(".ie") || page.contains(".TH secinfo"),
        "{page}"
    );
    for sub in SUBCOMMANDS {
        assert!(page.contains(sub), "the man page lacks {sub}");
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    let mut child = secinfo()
        .args(["completions", "powershell"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("Broken pipe"), "{err}");
}

#[test]
fn with_no_input_a_missing_answer_is_a_usage_error_saying_how_to_give_it() {
    // stdin is a terminal: nothing may be asked there.
    let pty = portable_pty::native_pty_system()
        .openpty(portable_pty::PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_secinfo"));
    cmd.args(["--no-input", "login"]);
    cmd.env("SECINFO_CONFIG", dir.path().join("none.toml"));
    cmd.env("SECINFO_DATA_DIR", dir.path().join("data"));
    cmd.env("SECINFO_STATE_DIR", dir.path().join("state"));
    cmd.env_remove("SECINFO_PROFILE");
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let status = child.wait().unwrap();
    drop(pty.master);
    let mut seen = String::new();
    let _ = reader.read_to_string(&mut seen);
    assert_eq!(status.exit_code(), 2, "{seen}");
    assert!(!seen.contains("Username"), "nothing was asked: {seen}");
    assert!(
        seen.contains("--username"),
        "it says how to give it: {seen}"
    );
}

mod common;
mod pty_support;

/// Each command that asks, run with --no-input on a terminal: it asks
/// nothing, exits 2 and says how to give the answer; nothing changes.
#[tokio::test(flavor = "multi_thread")]
async fn every_prompting_command_with_no_input_asks_nothing_and_says_how() {
    let world = common::World::start().await;
    let uri = world.user_with_totp("nia@contoso.test");
    assert!(world.login("nia@contoso.test", &uri).status.success());
    let pass = world.pass_arg();
    let app = world.secinfo(
        &[
            "app-passwords",
            "create",
            "Mail",
            "--json",
            "--passphrase-from",
            &pass,
        ],
        "",
    );
    let app: serde_json::Value = serde_json::from_slice(&app.stdout).unwrap();
    let app_id = app["id"].as_str().unwrap().to_string();
    world.secinfo(
        &[
            "recovery-codes",
            "generate",
            "--yes",
            "--passphrase-from",
            &pass,
        ],
        "",
    );
    let before = world.secinfo(
        &["methods", "list", "--json", "--passphrase-from", &pass],
        "",
    );

    let commands: Vec<Vec<&str>> = vec![
        vec!["signout-all"],
        vec!["app-passwords", "delete", &app_id],
        vec!["recovery-codes", "generate"],
        vec!["methods", "add", "totp"],
        vec!["methods", "add", "email", "nia2@example.test"],
        vec!["lost-phone"],
        vec!["password", "change"],
    ];
    for args in commands {
        let line = format!("--no-input --passphrase-from {pass} {}", args.join(" "));
        let (exit, seen) = tokio::task::block_in_place(|| {
            let mut p = pty_support::Pty::start(&[
                ("SECINFO_CONFIG", world.config_path().to_str().unwrap()),
                (
                    "SECINFO_DATA_DIR",
                    world.dir.path().join("data").to_str().unwrap(),
                ),
                (
                    "SECINFO_STATE_DIR",
                    world.dir.path().join("state").to_str().unwrap(),
                ),
                ("SECINFO_ARGS", &line),
            ]);
            p.finish()
        });
        assert_eq!(exit, "2", "{args:?}: {seen}");
        assert!(seen.contains("--no-input"), "{args:?} says how: {seen}");
    }
    let after = world.secinfo(
        &["methods", "list", "--json", "--passphrase-from", &pass],
        "",
    );
    assert_eq!(before.stdout, after.stdout, "nothing changed");
    let status = world.secinfo(&["methods", "list", "--passphrase-from", &pass], "");
    assert!(
        status.status.success(),
        "still signed in: {}",
        text(&status.stderr)
    );
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
