//! The Microsoft Graph adapter against the Graph-shaped test server
//! (tests/graph_server), which records every request it serves: the requests
//! of each CLI journey, then `methods list --json` timed against curl sending
//! the very requests the CLI sent. `./scripts/bench graph` runs this.
//!
//!   SECINFO_BIN  the binary (default: the one cargo built with this bench)
//!   BENCH_RUNS   pairs timed (20)

#[path = "../tests/graph_server/mod.rs"]
mod graph_server;

use graph_server::GraphServer;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn secinfo(home: &Path, args: &[&str]) -> Command {
    let bin = std::env::var("SECINFO_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_secinfo").into());
    let mut c = Command::new(bin);
    c.args(args)
        .arg("--passphrase-from")
        .arg(format!("@{}", home.join("passphrase").display()))
        .env("SECINFO_CONFIG", home.join("config.toml"))
        .env("SECINFO_DATA_DIR", home.join("data"))
        .env("SECINFO_STATE_DIR", home.join("state"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("SECINFO_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Runs `args` and says which requests it made (method and path, in order).
async fn journey(
    g: &GraphServer,
    home: &Path,
    label: &str,
    args: &[&str],
) -> Vec<(String, String)> {
    let before = g.world().requests.len();
    let mut cmd = secinfo(home, args);
    let ok = tokio::task::spawn_blocking(move || cmd.status().map(|s| s.success()))
        .await
        .expect("joined")
        .expect("secinfo runs");
    let seen: Vec<(String, String)> = g.world().requests[before..]
        .iter()
        .map(|s| (s.method.clone(), s.target.clone()))
        .collect();
    let list: Vec<String> = seen
        .iter()
        .map(|(m, t)| format!("{m} {}", t.split('?').next().unwrap_or(t)))
        .collect();
    println!(
        "{label:<30} {} requests{}: {}",
        seen.len(),
        if ok { "" } else { " (failed)" },
        list.join(", ")
    );
    seen
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn timed(mut c: Command) -> Duration {
    let t = Instant::now();
    let ok = c.status().map(|s| s.success()).unwrap_or(false);
    assert!(ok, "{c:?} failed");
    t.elapsed()
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let g = GraphServer::start().await;
    // Real Graph returns a user's few methods in one page; the tests' 4 exercises paging.
    g.world().page_size = 100;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().to_path_buf();
    std::fs::write(home.join("config.toml"), g.profile()).expect("config");
    std::fs::write(home.join("passphrase"), "bench passphrase\n").expect("passphrase");

    journey(&g, &home, "sign in (device code)", &["login"]).await;
    let list = journey(&g, &home, "methods list", &["methods", "list", "--json"]).await;
    journey(&g, &home, "status", &["status", "--json"]).await;
    let phone = graph_server::MOBILE_ID;
    journey(
        &g,
        &home,
        "set default (mobile phone)",
        &["methods", "default", phone],
    )
    .await;
    journey(
        &g,
        &home,
        "delete (office phone)",
        &["methods", "delete", graph_server::OFFICE_ID, "--no-input"],
    )
    .await;
    // The test tenant has not consented the extra scope revoking needs: this shows the requests up to that refusal.
    journey(&g, &home, "sign out everywhere", &["signout-all", "--yes"]).await;
    journey(&g, &home, "sign in again", &["login"]).await;

    // list --json against curl sending the same requests (one curl, one connection).
    let before = g.world().requests.len();
    let _ = journey(
        &g,
        &home,
        "methods list (timed)",
        &["methods", "list", "--json"],
    )
    .await;
    let auth = g.world().requests[before]
        .authorization
        .clone()
        .expect("a bearer token");
    let mut curl_args = vec![
        "-sf".to_string(),
        "-H".into(),
        format!("Authorization: {auth}"),
    ];
    for (i, (_, target)) in list.iter().enumerate() {
        if i > 0 {
            curl_args.push("--next".into());
            curl_args.extend(["-sf".into(), "-H".into(), format!("Authorization: {auth}")]);
        }
        curl_args.push(format!("{}{target}", g.url));
    }
    let curl = move || {
        let mut c = Command::new("curl");
        c.args(&curl_args).stdout(Stdio::null());
        c
    };
    let cli = move || secinfo(&home, &["methods", "list", "--json"]);
    let (a, b) = tokio::task::spawn_blocking(move || {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        timed(cli());
        timed(curl());
        for _ in 0..runs {
            a.push(timed(cli()));
            b.push(timed(curl()));
        }
        (median(a), median(b))
    })
    .await
    .expect("joined");
    println!(
        "methods list --json: median {:.1} ms | curl, same {} requests: median {:.1} ms | ratio {:.2} over {runs} pairs",
        a.as_secs_f64() * 1000.0,
        list.len(),
        b.as_secs_f64() * 1000.0,
        a.as_secs_f64() / b.as_secs_f64()
    );
}
