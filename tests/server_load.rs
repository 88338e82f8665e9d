// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Bounded load on loopback (issue 11, "Prove it"): a `secinfo serve` process
//! over a seeded database, N clients (each its own signed-in session) listing
//! methods and adding (then removing) an authenticator app, for a fixed time.
//! Every request must succeed; the latencies are printed, never asserted.
//!
//! Not part of `./scripts/test` (it is `#[ignore]`d): `scripts/load` runs it
//! (test build, or release with `SECINFO_LOAD_PROFILE=release`), `SECINFO_LOAD_CLIENTS` (50) clients for
//! `SECINFO_LOAD_SECS` (30) seconds. RELIABILITY.md keeps the figures.

mod serve_process;

use secinfo::protocol::*;
use serde_json::json;
use serve_process::{Served, alice_signs_in_by_email, free_port, wait_until_up};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn start(db: &Path, port: u16) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_secinfo"))
        .args(["serve", "--db"])
        .arg(db)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--ip-burst", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_up(&mut child, port).await;
    Served(child)
}

#[derive(Default)]
struct Figures {
    list: Vec<Duration>,
    enroll: Vec<Duration>,
    errors: Vec<String>,
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    if v.is_empty() {
        return Duration::ZERO;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn client(url: String, token: String, until: Instant, figures: Arc<Mutex<Figures>>) {
    let http = reqwest::Client::new();
    let fail = |what: String| figures.lock().unwrap().errors.push(what);
    while Instant::now() < until {
        list_once(&http, &url, &token, Instant::now(), &figures).await;
        // Enroll an authenticator app: begin, then verify with its code; then remove it again.
        let t = Instant::now();
        let begun = http
            .post(format!("{url}/v1/me/enrollments"))
            .bearer_auth(&token)
            .json(&json!({"kind": "totp", "name": "load"}))
            .send()
            .await;
        let e: EnrollmentDto = match begun {
            Ok(r) if r.status().is_success() => r.json().await.unwrap(),
            Ok(r) => {
                fail(format!(
                    "enroll: {} {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                ));
                continue;
            }
            Err(e) => {
                fail(format!("enroll: {e}"));
                continue;
            }
        };
        let uri = e.qr_payload.unwrap();
        let code = totp_rs::Totp::from_url_unchecked(&uri)
            .unwrap()
            .generate_current()
            .to_string();
        let done = http
            .post(format!("{url}/v1/me/enrollments/{}/verify", e.id))
            .bearer_auth(&token)
            .json(&json!({"code": code}))
            .send()
            .await;
        let method = match done {
            Ok(r) if r.status().is_success() => {
                r.json::<EnrollmentDto>().await.unwrap().method.unwrap().id
            }
            Ok(r) => {
                fail(format!(
                    "verify: {} {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                ));
                continue;
            }
            Err(e) => {
                fail(format!("verify: {e}"));
                continue;
            }
        };
        figures.lock().unwrap().enroll.push(t.elapsed());
        match http
            .delete(format!("{url}/v1/me/methods/{method}"))
            .bearer_auth(&token)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => fail(format!("delete: {}", r.status())),
            Err(e) => fail(format!("delete: {e}")),
        }
    }
}

/// A seeded `secinfo serve` and `clients` signed-in sessions on it.
struct World {
    _dir: tempfile::TempDir,
    _server: Served,
    url: String,
    tokens: Vec<String>,
}

async fn world(clients: usize) -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    secinfo::server::seed_demo(&db, &dir.path().join("phone"), &url).unwrap();
    let server = start(&db, port).await;
    let mut tokens = Vec::new();
    for n in 0..clients {
        tokens.push(
            alice_signs_in_by_email(
                &http,
                &url,
                &db,
                ("alice@contoso.test", "correct-horse-battery"),
                &format!("load-{n}"),
            )
            .await,
        );
    }
    World {
        _dir: dir,
        _server: server,
        url,
        tokens,
    }
}

/// One methods list; its time goes to `figures.list`, counted from `since`.
async fn list_once(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    since: Instant,
    figures: &Mutex<Figures>,
) {
    let fail = |what: String| figures.lock().unwrap().errors.push(what);
    match http
        .get(format!("{url}/v1/me/methods"))
        .bearer_auth(token)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => match r.json::<Vec<MethodDto>>().await {
            Ok(_) => figures.lock().unwrap().list.push(since.elapsed()),
            Err(e) => fail(format!("list: {e}")),
        },
        Ok(r) => fail(format!("list: {}", r.status())),
        Err(e) => fail(format!("list: {e}")),
    }
}

/// Lists back to back: how many lists per second the server can give.
async fn eager_lister(url: String, token: String, until: Instant, figures: Arc<Mutex<Figures>>) {
    let http = reqwest::Client::new();
    while Instant::now() < until {
        list_once(&http, &url, &token, Instant::now(), &figures).await;
    }
}

/// Lists on a fixed schedule, one every `period`. A list that had to wait for
/// the one before (the server was slow) counts from when it was due, so a slow
/// answer cannot hide behind the wait for it (no coordinated omission); one
/// that did not counts from when it was sent, since tokio's timer wakes up to a
/// millisecond after the due time and that lateness is the load generator's.
async fn paced_lister(
    url: String,
    token: String,
    period: Duration,
    until: Instant,
    figures: Arc<Mutex<Figures>>,
) {
    let http = reqwest::Client::new();
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut done = Instant::now();
    loop {
        let due = ticks.tick().await.into_std();
        if due >= until {
            break;
        }
        let since = if done > due { due } else { Instant::now() };
        list_once(&http, &url, &token, since, &figures).await;
        done = Instant::now();
    }
}

fn report(what: &str, clients: usize, wall: f64, f: &mut Figures) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (lists, enrolls) = (f.list.len(), f.enroll.len());
    println!(
        "load, {what}: {clients} clients, {wall:.1} s, {} errors\n  list methods:  {lists} requests ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        f.errors.len(),
        lists as f64 / wall,
        ms(pct(&mut f.list, 0.5)),
        ms(pct(&mut f.list, 0.99)),
        ms(pct(&mut f.list, 1.0)),
    );
    if enrolls > 0 {
        println!(
            "  add TOTP app (begin + verify): {enrolls} ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms",
            enrolls as f64 / wall,
            ms(pct(&mut f.enroll, 0.5)),
            ms(pct(&mut f.enroll, 0.99)),
        );
    }
    assert!(
        f.errors.is_empty(),
        "{} errors, first: {:?}",
        f.errors.len(),
        &f.errors[..f.errors.len().min(5)]
    );
    assert!(lists > 0);
}

async fn run_clients<F, Fut>(what: &str, lister: F) -> Figures
where
    F: Fn(String, String, Instant, Arc<Mutex<Figures>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let clients = env_or("SECINFO_LOAD_CLIENTS", 50) as usize;
    let secs = env_or("SECINFO_LOAD_SECS", 30);
    let w = world(clients).await;
    let figures = Arc::new(Mutex::new(Figures::default()));
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let tasks: Vec<_> = w
        .tokens
        .iter()
        .map(|t| tokio::spawn(lister(w.url.clone(), t.clone(), until, figures.clone())))
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let wall = started.elapsed().as_secs_f64();
    let mut f = std::mem::take(&mut *figures.lock().unwrap());
    report(what, clients, wall, &mut f);
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load: run by scripts/load"]
async fn fifty_clients_list_and_enroll_for_thirty_seconds_without_an_error() {
    let f = run_clients("lists and additions, back to back", client).await;
    assert!(!f.enroll.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load: run by scripts/load"]
async fn fifty_clients_list_back_to_back_without_an_error() {
    run_clients("lists only, back to back (the most it gives)", eager_lister).await;
}

/// `SECINFO_LOAD_RATE` lists per second in all (1000), shared by the clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load: run by scripts/load"]
async fn fifty_clients_list_at_a_steady_rate_without_an_error() {
    let clients = env_or("SECINFO_LOAD_CLIENTS", 50);
    let rate = env_or("SECINFO_LOAD_RATE", 1000).max(1);
    let period = Duration::from_secs_f64(clients as f64 / rate as f64);
    run_clients(
        &format!("lists only, {rate} per second in all"),
        move |url, token, until, figures| paced_lister(url, token, period, until, figures),
    )
    .await;
}
