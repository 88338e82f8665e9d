//! The fuzz targets, shared by cargo-fuzz (`fuzz/fuzz_targets/*.rs`, nightly,
//! coverage-guided) and the bounded stable run in `./scripts/test`
//! (`tests/fuzz_stable.rs`). Each target takes raw bytes, builds its input
//! with `arbitrary`, runs the real code under test, and panics when a
//! property breaks; returning is a pass. What it returns says whether the
//! input was taken (decoded, parsed) or refused, so the stable run can show
//! that its inputs reach past the first check.
//!
//! | target | code under test |
//! |---|---|
//! | `otpauth` | `qr::short_otpauth` (and the QR encoder on its output) |
//! | `native_replies` | the native adapter reading whatever a server sends (real HTTP) |
//! | `privacyidea_replies` | the privacyIDEA adapter reading whatever a server sends (real HTTP) |
//! | `graph_replies` | the Microsoft Graph adapter (and its OAuth sign-in) reading whatever a server sends (real HTTP) |
//! | `config` | `Config::parse` and the keymap built from its `[keys]` |
//! | `server_requests` | the reference server's handlers, every route, hostile bodies (real HTTP, real SQLite) |
#![allow(dead_code)]

pub mod replies;
pub mod requests;

use arbitrary::Unstructured;
use std::path::Path;

/// Whether an input got past parsing into the code under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Taken,
    Refused,
}

/// Every target by name, as cargo-fuzz names them (`fuzz/fuzz_targets/NAME.rs`)
/// and as their corpora are kept (`fuzz/corpus/NAME/`).
pub type Target = fn(&[u8]) -> Outcome;

pub const TARGETS: &[(&str, Target)] = &[
    ("otpauth", otpauth),
    ("config", config),
    ("native_replies", replies::native),
    ("privacyidea_replies", replies::privacyidea),
    ("graph_replies", replies::graph),
    ("server_requests", requests::server),
];

/// No C0/C1 control characters and no bidi overrides: what may reach a terminal.
pub fn assert_printable(what: &str, s: &str) {
    if let Some(c) = s.chars().find(|&c| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }) {
        panic!("{what} holds the control character {c:?}: {s:?}");
    }
}

/// `qr::short_otpauth`: shorter or equal, idempotent, never drops the
/// secret, issuer or counter, leaves anything that is not otpauth alone;
/// and the QR encoder takes what it returns without panicking.
pub fn otpauth(data: &[u8]) -> Outcome {
    let mut u = Unstructured::new(data);
    // Half the inputs are built around a real otpauth URI, so they get past the scheme check.
    let uri: String = if u.arbitrary::<bool>().unwrap_or(false) {
        let label: String = u.arbitrary().unwrap_or_default();
        let params: Vec<(String, String)> = u.arbitrary().unwrap_or_default();
        let keys = [
            "secret",
            "issuer",
            "algorithm",
            "digits",
            "period",
            "counter",
            "image",
            "SECRET",
        ];
        let mut q = Vec::new();
        for (i, (k, v)) in params.iter().enumerate().take(12) {
            let key = if k.len() < 2 {
                keys[i % keys.len()]
            } else {
                k.as_str()
            };
            q.push(format!("{key}={v}"));
        }
        let scheme = if u.arbitrary::<bool>().unwrap_or(false) {
            "OTPAUTH://"
        } else {
            "otpauth://"
        };
        format!("{scheme}totp/{label}?{}", q.join("&"))
    } else {
        String::from_utf8_lossy(u.take_rest()).into_owned()
    };
    let short = secinfo::qr::short_otpauth(&uri);
    assert!(short.len() <= uri.len(), "grew: {uri:?} -> {short:?}");
    assert_eq!(
        secinfo::qr::short_otpauth(&short),
        short,
        "not idempotent for {uri:?}"
    );
    let is_otpauth = uri
        .get(..10)
        .is_some_and(|s| s.eq_ignore_ascii_case("otpauth://"));
    if !is_otpauth || !uri.contains('?') {
        assert_eq!(short, uri, "changed a non-otpauth string");
        return Outcome::Refused;
    }
    let (_, query) = uri.split_once('?').unwrap_or_default();
    for p in query.split('&') {
        let key = p.split('=').next().unwrap_or_default().to_ascii_lowercase();
        if matches!(key.as_str(), "secret" | "issuer" | "counter") {
            assert!(
                short
                    .split_once('?')
                    .is_some_and(|(_, q)| q.split('&').any(|k| k == p)),
                "dropped {p:?} from {uri:?}: {short:?}"
            );
        }
    }
    // Whatever comes out is drawn as a QR code: too long is an error, never a panic.
    let _ = secinfo::qr::QrCode::new(&short);
    Outcome::Taken
}

/// `Config::parse` and the keymap: an error names the file and a line that
/// exists; a config that loads gives a keymap or a keymap error, never a panic;
/// every profile URL it accepts parses again.
pub fn config(data: &[u8]) -> Outcome {
    let mut u = Unstructured::new(data);
    let text = if u.arbitrary::<bool>().unwrap_or(false) {
        // Built from the file's own vocabulary, so most inputs get past the TOML parser.
        toml_like(&mut u)
    } else {
        String::from_utf8_lossy(u.take_rest()).into_owned()
    };
    let path = Path::new("/fuzz/config.toml");
    match secinfo::config::Config::parse(&text, path) {
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("/fuzz/config.toml"),
                "error does not name the file: {msg}"
            );
            if let secinfo::config::ConfigError::Invalid { line, .. } = e {
                let lines = text.matches('\n').count() + 1;
                assert!(line >= 1 && line <= lines, "line {line} of {lines}: {msg}");
            }
            Outcome::Refused
        }
        Ok(config) => {
            let _ = secinfo::app::keymap::Keymap::with_overrides(&config.key_overrides());
            for name in config.keys.keys() {
                assert!(config.key_line(&text, name) >= 1);
            }
            for p in config.profiles.values() {
                assert!(secinfo::backend::http::parse_base_url(&p.url).is_ok());
            }
            let _ = config.profile(None, path);
            Outcome::Taken
        }
    }
}

fn toml_like(u: &mut Unstructured) -> String {
    const KEYS: &[&str] = &[
        "default_profile",
        "theme",
        "backend",
        "url",
        "realm",
        "ca_file",
        "timeout_secs",
        "secret_store",
        "username",
        "quit",
        "help",
        "add",
        "delete",
        "refresh",
        "up",
        "down",
    ];
    const VALUES: &[&str] = &[
        "\"native\"",
        "\"privacyidea\"",
        "\"https://idp.example.com\"",
        "\"http://127.0.0.1:8700\"",
        "\"http://localhost\"",
        "\"http://u:p@127.0.0.1\"",
        "\"mono\"",
        "\"high-contrast\"",
        "0",
        "15",
        "-1",
        "99999999999999999999",
        "[\"q\", \"ctrl-c\"]",
        "[\"shift-tab\", \"f5\"]",
        "[\"ctrl-\"]",
        "[\"alt-ctrl-x\"]",
        "[\"\"]",
        "\"auto\"",
        "\"passphrase\"",
        "true",
        "\"work\"",
    ];
    const TABLES: &[&str] = &[
        "[ui]",
        "[keys]",
        "[profiles.work]",
        "[profiles.home]",
        "[profiles.\"\"]",
    ];
    let mut out = String::new();
    let n = u.int_in_range(0..=24u8).unwrap_or(0);
    for _ in 0..n {
        match u.int_in_range(0..=5u8).unwrap_or(0) {
            0 => out.push_str(u.choose(TABLES).unwrap_or(&"[ui]")),
            1 => {
                let s: String = u.arbitrary().unwrap_or_default();
                out.push_str(&s);
            }
            _ => {
                let k = u.choose(KEYS).unwrap_or(&"url");
                let v = u.choose(VALUES).unwrap_or(&"0");
                out.push_str(&format!("{k} = {v}"));
            }
        }
        out.push('\n');
    }
    out
}
