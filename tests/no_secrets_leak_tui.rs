// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! No secrets leak, the TUI's half (issue 11, "Prove it"): the TUI's state
//! machine with its real effects and the reference server, in one process
//! under one tracing subscriber at TRACE for every target (secinfo's app,
//! effects, backend, server, and reqwest, hyper, axum, rusqlite). A new user
//! signs in with a password, is taken into the wizard and adds an
//! authenticator app with the code it yields. Not one password, TOTP secret,
//! code or token appears in what was logged.
//! (`no_secrets_leak.rs` does the CLI and a server process; this covers the
//! TUI's effects, which log from inside the app.)

#[path = "tui_support/driver.rs"]
mod driver;
mod server_support;
mod tui_support;

use crossterm::event::KeyCode;
use driver::Driver;
use secinfo::domain::MethodKind;
use secinfo::secrets::SecretString;
use server_support::World;
use std::sync::{Arc, Mutex};
use tui_support::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn tokens_in(hay: &str) -> Vec<String> {
    let mut found = Vec::new();
    for prefix in ["sat_", "srt_", "srg_"] {
        for (i, _) in hay.match_indices(prefix) {
            let rest: String = hay[i + 4..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if rest.len() >= 40 {
                found.push(format!("{prefix}{}…", &rest[..4]));
            }
        }
    }
    found
}

/// `value` as a word of its own (a 6-digit code inside a longer number is not it).
fn appears(hay: &str, value: &str) -> bool {
    hay.match_indices(value).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + value.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

async fn type_text(d: &mut Driver, s: &str) {
    for c in s.chars() {
        d.act(ch(c)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_and_the_server_log_no_secret_at_trace() {
    let log = Captured::default();
    let sink = log.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .init();

    let world = World::default().await;
    let password = "carol-tui-password-7781";
    secinfo::server::admin::add_user(
        &world.db,
        "carol@contoso.test",
        "Carol",
        &SecretString::new(password),
    )
    .unwrap();
    let mut secrets: Vec<(String, &str)> = vec![(password.into(), "the password")];

    // Sign in: no second factor yet, so straight into the wizard; add an authenticator app.
    let mut d = Driver::signed_out(&world).await;
    type_text(&mut d, "carol@contoso.test").await;
    d.press(KeyCode::Tab).await;
    type_text(&mut d, password).await;
    d.press(KeyCode::Enter).await;
    d.add_from_wizard(MethodKind::Totp).await;
    let enrollment = d
        .state
        .wizard
        .as_ref()
        .and_then(|w| w.enrollment.clone())
        .expect("an enrollment");
    let uri = enrollment
        .qr_payload
        .expect("its otpauth URI")
        .expose()
        .to_string();
    secrets.push((
        enrollment.secret.expect("its secret").expose().to_string(),
        "the TOTP secret",
    ));
    let totp = totp_rs::Totp::from_url_unchecked(&uri).unwrap();
    let code = totp.generate_current().to_string();
    secrets.push((code.clone(), "a TOTP code"));
    type_text(&mut d, &code).await;
    d.press(KeyCode::Enter).await;
    assert!(d.state.wizard.is_none(), "saved: {:?}", d.state.wizard);
    let methods = d.state.methods.ready().expect("methods listed");
    assert!(
        methods
            .iter()
            .any(|m| m.kind == MethodKind::Totp && m.usable_mfa),
        "{methods:?}"
    );

    let text = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    let lines = text.lines().count();
    assert!(
        text.contains("TRACE") && text.contains("secinfo::"),
        "nothing was logged at TRACE"
    );
    assert!(
        text.contains("served"),
        "the server's request lines are in the log"
    );
    let mut leaks = Vec::new();
    for (value, what) in &secrets {
        if appears(&text, value) {
            leaks.push(format!("{what} ({}…)", &value[..3]));
        }
    }
    for t in tokens_in(&text) {
        leaks.push(format!("a token {t}"));
    }
    assert!(
        leaks.is_empty(),
        "in the TRACE log ({lines} lines): {leaks:?}"
    );
    if std::env::var_os("SECINFO_SHOW_LOGS").is_some() {
        eprintln!("{text}");
    }
    eprintln!(
        "the TUI at TRACE: {lines} log lines, {} secrets looked for, none found",
        secrets.len()
    );
}
