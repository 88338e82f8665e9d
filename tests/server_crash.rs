// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Crash safety (issue 11, "Prove it"): a real `secinfo serve` process is
//! killed with SIGKILL in the middle of a burst of enrollments and deletions
//! by many clients at once, three times over. After each kill the database
//! passes `PRAGMA integrity_check`, and once the server is started again on
//! it, every write it had acknowledged is there: each TOTP app whose
//! enrollment answered `done` is listed unless a deletion of it was sent (a
//! deletion cut off by the kill may or may not have happened), and none whose
//! deletion was acknowledged is; the same for app passwords.
//! The kill comes after a fixed number of acknowledgements, never after a
//! time, with requests still in flight.

mod serve_process;

use reqwest::StatusCode;
use secinfo::protocol::*;
use serde_json::json;
use serve_process::{alice_signs_in_by_email, free_port, wait_until_up};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

const CLIENTS: usize = 12;
/// Acknowledged writes per round before the kill.
const ACKS_BEFORE_KILL: usize = 60;
const ROUNDS: usize = 3;

/// `secinfo serve` on the database, as its own process; returns once it answers.
async fn start(db: &Path, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_secinfo"))
        .args(["serve", "--db"])
        .arg(db)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--ip-burst", "0"])
        .args(["--mfa-max-age", "100000", "--access-token-ttl", "100000"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_up(&mut child, port).await;
    child
}

fn integrity(db: &Path) -> String {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

/// What the server said it did.
#[derive(Default)]
struct Acked {
    methods_created: BTreeSet<String>,
    methods_deleted: BTreeSet<String>,
    /// Deletions sent, answered or not: those may have happened without an acknowledgement.
    deletes_sent: BTreeSet<String>,
    app_passwords_created: BTreeSet<String>,
    app_passwords_deleted: BTreeSet<String>,
    count: usize,
    /// Requests sent but never answered because of a kill.
    cut_off: usize,
}

/// A request that got no answer: counted when it had reached the server
/// (the connection broke) rather than being refused a connection.
fn stopped(acked: &Mutex<Acked>, e: &reqwest::Error) {
    if !e.is_connect() {
        acked.lock().unwrap().cut_off += 1;
    }
}

/// One client: add a TOTP app (begin, verify with the right code), add an app
/// password, delete both; over and over until the server is gone.
async fn client(url: String, token: String, acked: Arc<Mutex<Acked>>, round: usize, n: usize) {
    let http = reqwest::Client::new();
    let ack = |f: &dyn Fn(&mut Acked)| {
        let mut a = acked.lock().unwrap();
        f(&mut a);
        a.count += 1;
    };
    // Send; None once the server is gone (the loop ends).
    let send = |req: reqwest::RequestBuilder| {
        let acked = acked.clone();
        let token = token.clone();
        async move {
            match req.bearer_auth(token).send().await {
                Ok(r) => Some(r),
                Err(e) => {
                    stopped(&acked, &e);
                    None
                }
            }
        }
    };
    for i in 0.. {
        // 1. An authenticator app, enrolled for real.
        let body = json!({"kind": "totp", "name": format!("app {round}-{n}-{i}")});
        let Some(r) = send(http.post(format!("{url}/v1/me/enrollments")).json(&body)).await else {
            return;
        };
        let Ok(e) = r.json::<EnrollmentDto>().await else {
            return;
        };
        let uri = e.qr_payload.expect("a TOTP enrollment has its otpauth URI");
        let code = totp_rs::Totp::from_url_unchecked(&uri)
            .unwrap()
            .generate_current();
        let body = json!({"code": code.to_string()});
        let verify = http
            .post(format!("{url}/v1/me/enrollments/{}/verify", e.id))
            .json(&body);
        let Some(r) = send(verify).await else { return };
        assert_eq!(r.status(), StatusCode::OK, "verifying with the right code");
        let Ok(done) = r.json::<EnrollmentDto>().await else {
            return;
        };
        let method = done.method.expect("a done enrollment names its method").id;
        ack(&|a| {
            a.methods_created.insert(method.clone());
        });
        // 2. An app password.
        let body = json!({"name": format!("mail {round}-{n}-{i}")});
        let Some(r) = send(http.post(format!("{url}/v1/me/app-passwords")).json(&body)).await
        else {
            return;
        };
        let Ok(created) = r.json::<AppPasswordCreated>().await else {
            return;
        };
        let ap = created.app_password.id;
        ack(&|a| {
            a.app_passwords_created.insert(ap.clone());
        });
        // 3. Every other round of a client deletes what it made.
        if i % 2 == 1 {
            continue;
        }
        acked
            .lock()
            .unwrap()
            .deletes_sent
            .extend([method.clone(), ap.clone()]);
        let Some(r) = send(http.delete(format!("{url}/v1/me/methods/{method}"))).await else {
            return;
        };
        assert!(r.status().is_success(), "deleting {method}: {}", r.status());
        ack(&|a| {
            a.methods_deleted.insert(method.clone());
        });
        let Some(r) = send(http.delete(format!("{url}/v1/me/app-passwords/{ap}"))).await else {
            return;
        };
        assert!(r.status().is_success(), "deleting {ap}: {}", r.status());
        ack(&|a| {
            a.app_passwords_deleted.insert(ap.clone());
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_a_kill_9_during_a_burst() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let demo = secinfo::server::seed_demo(&db, &dir.path().join("phone"), &url).unwrap();
    let acked = Arc::new(Mutex::new(Acked::default()));
    for round in 0..ROUNDS {
        let mut server = start(&db, port).await;
        // A session with a fresh second factor: password, then the emailed code.
        let token = alice_signs_in_by_email(
            &http,
            &url,
            &db,
            (&demo.username, &demo.password),
            "crash-test",
        )
        .await;
        let before = acked.lock().unwrap().count;
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|n| tokio::spawn(client(url.clone(), token.clone(), acked.clone(), round, n)))
            .collect();
        while acked.lock().unwrap().count < before + ACKS_BEFORE_KILL {
            assert!(
                !tasks.iter().all(|t| t.is_finished()),
                "every client stopped before {ACKS_BEFORE_KILL} writes were acknowledged (round {round})"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // SIGKILL: no shutdown, no flush, requests in flight.
        server.kill().unwrap();
        server.wait().unwrap();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(integrity(&db), "ok", "after kill {round}");
    }

    // Started again: every acknowledged write is there.
    let mut server = start(&db, port).await;
    let token = alice_signs_in_by_email(
        &http,
        &url,
        &db,
        (&demo.username, &demo.password),
        "crash-test",
    )
    .await;
    let methods: Vec<MethodDto> = http
        .get(format!("{url}/v1/me/methods"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let app_passwords: Vec<AppPasswordDto> = http
        .get(format!("{url}/v1/me/app-passwords"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let listed: BTreeSet<String> = methods.into_iter().map(|m| m.id).collect();
    let listed_ap: BTreeSet<String> = app_passwords.into_iter().map(|a| a.id).collect();
    let a = acked.lock().unwrap();
    assert!(a.count >= ROUNDS * ACKS_BEFORE_KILL);
    assert!(!a.methods_deleted.is_empty() && !a.app_passwords_deleted.is_empty());
    // The kills landed mid-burst: some requests were sent and never answered.
    assert!(a.cut_off > 0, "no request was in flight at any kill");
    for id in &a.methods_created {
        if !a.deletes_sent.contains(id) {
            assert!(
                listed.contains(id),
                "acknowledged TOTP app {id} is gone after the kill"
            );
        }
    }
    for id in &a.methods_deleted {
        assert!(
            !listed.contains(id),
            "acknowledged deletion of {id} came undone"
        );
    }
    for id in &a.app_passwords_created {
        if !a.deletes_sent.contains(id) {
            assert!(
                listed_ap.contains(id),
                "acknowledged app password {id} is gone after the kill"
            );
        }
    }
    for id in &a.app_passwords_deleted {
        assert!(
            !listed_ap.contains(id),
            "acknowledged deletion of app password {id} came undone"
        );
    }
    assert_eq!(integrity(&db), "ok");
    eprintln!(
        "crash safety: {} acknowledged writes over {ROUNDS} kills ({} TOTP apps added, {} deleted; \
         {} app passwords added, {} deleted); {} requests were cut off by a kill",
        a.count,
        a.methods_created.len(),
        a.methods_deleted.len(),
        a.app_passwords_created.len(),
        a.app_passwords_deleted.len(),
        a.cut_off
    );
}
