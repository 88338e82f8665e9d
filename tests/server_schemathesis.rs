// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! schemathesis against the reference server's own `/openapi.json` (issue 11,
//! "Prove it"): a server on loopback over a seeded database, alice signed in
//! with a fresh second factor, and every documented operation sent generated
//! requests, valid and invalid. No answer may be a 5xx, and every answer must
//! be documented: its status, its content type, its headers and its body's
//! schema.
//!
//! schemathesis comes from PyPI into `target/schemathesis-venv`, installed by
//! `scripts/schemathesis-venv` (which `./scripts/test` runs). Without it this
//! test fails, saying so: it never skips. The number of examples per
//! operation and the seed are fixed, so a run is bounded and repeatable.
//!
//! Two passes: first every operation except the ones that end alice's session
//! (sign out everywhere, sign out, password change), with her token; then
//! those three.

mod server_support;

use secinfo::server::Settings;
use server_support::World;
use std::path::PathBuf;
use std::process::Command;

/// Test cases per operation and pass (schemathesis' --max-examples).
const EXAMPLES: &str = "25";
const SEED: &str = "11";
const SESSION_ENDERS: &[&str] = &[
    "/v1/me/signout-everywhere",
    "/v1/auth/logout",
    "/v1/me/password",
];

fn st() -> PathBuf {
    let path = std::env::var_os("SECINFO_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/schemathesis-venv/bin/st")
        });
    assert!(
        path.exists(),
        "schemathesis is not installed at {}: run scripts/schemathesis-venv (./scripts/test does)",
        path.display()
    );
    path
}

/// One schemathesis run; its output, and how many test cases it ran.
fn run(w: &World, token: &str, filter: &[String], report: &str) -> (String, usize) {
    let dir = w.dir.path().join(report);
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(st())
        // Its cache (.schemathesis/) goes to the temp dir, not the work tree.
        .current_dir(&dir)
        .arg("run")
        .arg(format!("{}/openapi.json", w.server.url))
        .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", EXAMPLES, "--seed", SEED, "--workers", "1"])
        .args(["--request-timeout", "60", "--max-redirects", "0"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(filter)
        .args(["--report", "junit", "--report-dir"])
        .arg(&dir)
        .env("NO_COLOR", "1")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .output()
        .expect("schemathesis runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "schemathesis found problems ({report}):\n{text}"
    );
    // The summary: "Test cases:" then "  1197 generated, 1197 passed".
    let cases = text
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("generated,"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    (text, cases)
}

async fn world() -> (World, String) {
    let w = World::start(Settings {
        ip_burst: 0,
        mfa_max_age: 100_000,
        access_token_ttl: 100_000,
        ..Settings::default()
    })
    .await;
    let token = w.alice_signs_in("schemathesis", false).await.access_token;
    (w, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_answers_as_documented_and_never_with_a_5xx() {
    let mut keep_session = Vec::new();
    let mut enders = Vec::new();
    for p in SESSION_ENDERS {
        keep_session.extend(["--exclude-path".to_string(), p.to_string()]);
        enders.extend(["--include-path".to_string(), p.to_string()]);
    }
    // Each pass on a world of its own: the first one deletes what it finds.
    let (w, token) = world().await;
    let (first, cases_first) =
        tokio::task::spawn_blocking(move || run(&w, &token, &keep_session, "most"))
            .await
            .unwrap();
    let (w, token) = world().await;
    let (second, cases_second) =
        tokio::task::spawn_blocking(move || run(&w, &token, &enders, "enders"))
            .await
            .unwrap();
    let tail = |t: &str, n| t.lines().rev().take(n).collect::<Vec<_>>().join("\n");
    eprintln!("{}\n{}", tail(&first, 12), tail(&second, 6));
    eprintln!(
        "schemathesis: {} test cases ({cases_first} + {cases_second})",
        cases_first + cases_second
    );
    assert!(
        cases_first > 100,
        "schemathesis ran only {cases_first} test cases:\n{first}"
    );
    assert!(
        cases_second > 3,
        "schemathesis ran only {cases_second} test cases:\n{second}"
    );
}
