//! `secinfo serve` as a process of its own, for the tests that kill it,
//! load it or watch its logs: a free port, waiting until it answers, and
//! alice's sign-in with the code emailed to her (read from the outbox).
#![allow(dead_code)]

use secinfo::protocol::AuthResult;
use serde_json::json;
use std::path::Path;
use std::process::Child;
use std::time::Duration;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, killed when dropped.
pub struct Served(pub Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Returns once the server on `port` answers `/v1/meta`; kills it and
/// panics when it never does.
pub async fn wait_until_up(child: &mut Child, port: u16) {
    let http = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/v1/meta"))
            .send()
            .await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("secinfo serve did not start on port {port}");
}

/// A session of its own for `client`: the password, then the code emailed
/// to alice's address. Returns the access token.
pub async fn alice_signs_in_by_email(
    http: &reqwest::Client,
    url: &str,
    db: &Path,
    (username, password): (&str, &str),
    client: &str,
) -> String {
    let login = json!({"username": username, "password": password,
        "client_id": client, "client_name": format!("{client} (test)")});
    let r: AuthResult = http
        .post(format!("{url}/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let AuthResult::MfaRequired(ch) = r else {
        panic!("{r:?}")
    };
    let email = ch
        .methods
        .iter()
        .find(|m| m.kind == "email")
        .unwrap()
        .method_id
        .clone();
    let sent = http
        .post(format!("{url}/v1/auth/mfa/send"))
        .json(&json!({"challenge_id": ch.challenge_id, "method_id": email}))
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success(), "{}", sent.text().await.unwrap());
    let body = secinfo::server::outbox(db, Some("alice.personal@example.test"))
        .unwrap()
        .last()
        .unwrap()
        .body
        .clone();
    let code: String = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .into();
    let r: AuthResult = http
        .post(format!("{url}/v1/auth/mfa"))
        .json(&json!({"challenge_id": ch.challenge_id, "method_id": email, "code": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    match r {
        AuthResult::SignedIn(t) => t.access_token,
        other => panic!("{other:?}"),
    }
}
