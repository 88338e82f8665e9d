//! A real reference server on an ephemeral loopback port over a temp SQLite
//! file, seeded with the demo world, and helpers to drive it over HTTP.
#![allow(dead_code)]

use reqwest::StatusCode;
use secinfo::phone::Phone;
use secinfo::protocol::*;
use secinfo::server::{self, DemoAccount, RunningServer, Settings};
use serde::Serialize;
use serde_json::{Value, json};
use std::path::PathBuf;

pub struct World {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub phone_dir: PathBuf,
    pub server: RunningServer,
    pub http: reqwest::Client,
    pub demo: DemoAccount,
}

pub struct Reply {
    pub status: StatusCode,
    pub retry_after: Option<String>,
    pub body: Value,
}

impl Reply {
    pub fn ok<T: serde::de::DeserializeOwned>(self) -> T {
        assert!(
            self.status.is_success(),
            "expected success, got {} {}",
            self.status,
            self.body
        );
        serde_json::from_value(self.body).expect("body has the documented shape")
    }
    /// The error code, checking the one error shape on the way.
    pub fn code(&self) -> &str {
        let code = self.body["error"]["code"].as_str();
        assert!(
            self.body["error"]["message"].is_string(),
            "error shape: {}",
            self.body
        );
        code.unwrap_or_else(|| panic!("expected an error body, got {} {}", self.status, self.body))
    }
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

impl World {
    pub async fn start(settings: Settings) -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.db");
        let phone_dir = dir.path().join("phone");
        let server = server::spawn(&db, settings).await.unwrap();
        let demo = server::seed_demo(&db, &phone_dir, &server.url).unwrap();
        World {
            dir,
            db,
            phone_dir,
            server,
            http: reqwest::Client::new(),
            demo,
        }
    }

    pub async fn default() -> World {
        Self::start(Settings::default()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url)
    }

    async fn send(&self, req: reqwest::RequestBuilder, token: Option<&str>) -> Reply {
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("not JSON: {:?}", String::from_utf8_lossy(&bytes)))
        };
        Reply {
            status,
            retry_after,
            body,
        }
    }

    pub async fn post(&self, path: &str, body: impl Serialize, token: Option<&str>) -> Reply {
        self.send(self.http.post(self.url(path)).json(&body), token)
            .await
    }
    pub async fn put(&self, path: &str, body: impl Serialize, token: Option<&str>) -> Reply {
        self.send(self.http.put(self.url(path)).json(&body), token)
            .await
    }
    pub async fn send_patch(&self, path: &str, body: impl Serialize, token: &str) -> Reply {
        self.send(self.http.patch(self.url(path)).json(&body), Some(token))
            .await
    }
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(self.http.get(self.url(path)), Some(token)).await
    }
    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(self.http.delete(self.url(path)), Some(token))
            .await
    }

    pub async fn login_as(
        &self,
        username: &str,
        password: &str,
        client_id: &str,
        grant: Option<&str>,
    ) -> Reply {
        let req = LoginRequest {
            username: username.into(),
            password: password.into(),
            client_id: client_id.into(),
            client_name: format!("secinfo test {client_id}"),
            remembered_grant: grant.map(str::to_string),
        };
        self.post("/v1/auth/login", req, None).await
    }

    /// Alice's password step, expecting a challenge.
    pub async fn alice_challenge(&self, client_id: &str) -> MfaChallenge {
        match self
            .login_as(&self.demo.username, &self.demo.password, client_id, None)
            .await
            .ok::<AuthResult>()
        {
            AuthResult::MfaRequired(ch) => ch,
            other => panic!("expected a second factor to be asked, got {other:?}"),
        }
    }

    pub fn phone(&self) -> Phone {
        Phone::open(&self.phone_dir).unwrap()
    }

    pub fn method<'a>(ch: &'a MfaChallenge, kind: &str) -> &'a MfaOption {
        ch.methods
            .iter()
            .find(|m| m.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} in {:?}", ch.methods))
    }

    pub async fn send_factor(
        &self,
        ch: &MfaChallenge,
        method_id: &str,
        token: Option<&str>,
    ) -> Reply {
        self.post(
            "/v1/auth/mfa/send",
            MfaSendRequest {
                challenge_id: ch.challenge_id.clone(),
                method_id: method_id.into(),
            },
            token,
        )
        .await
    }

    pub async fn answer(
        &self,
        ch: &MfaChallenge,
        method_id: &str,
        code: Option<&str>,
        remember: bool,
        token: Option<&str>,
    ) -> Reply {
        let req = MfaVerifyRequest {
            challenge_id: ch.challenge_id.clone(),
            method_id: method_id.into(),
            code: code.map(str::to_string),
            remember,
        };
        self.post("/v1/auth/mfa", req, token).await
    }

    /// Answer a challenge by push: send, approve on the phone with the number, poll.
    pub async fn approve_by_push(
        &self,
        ch: &MfaChallenge,
        remember: bool,
        token: Option<&str>,
    ) -> Tokens {
        let push = Self::method(ch, "authenticator_push").method_id.clone();
        let sent: MfaSent = self.send_factor(ch, &push, token).await.ok();
        let number = sent.number.expect("a push returns the number to match");
        match self
            .answer(ch, &push, None, remember, token)
            .await
            .ok::<AuthResult>()
        {
            AuthResult::Pending => {}
            other => panic!("before approval the push must be pending, got {other:?}"),
        }
        self.phone().approve(number).await.unwrap();
        match self
            .answer(ch, &push, None, remember, token)
            .await
            .ok::<AuthResult>()
        {
            AuthResult::SignedIn(t) => t,
            other => panic!("after approval expected tokens, got {other:?}"),
        }
    }

    /// A full sign-in of alice on `client_id` with push.
    pub async fn alice_signs_in(&self, client_id: &str, remember: bool) -> Tokens {
        let ch = self.alice_challenge(client_id).await;
        self.approve_by_push(&ch, remember, None).await
    }

    /// The last code sent to `recipient`.
    pub fn last_code(&self, recipient: &str) -> String {
        let msgs = server::outbox(&self.db, Some(recipient)).unwrap();
        let body = &msgs
            .last()
            .unwrap_or_else(|| panic!("nothing sent to {recipient}"))
            .body;
        body.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no code in {body}"))
            .to_string()
    }

    pub fn notices(&self, username: &str) -> Vec<String> {
        server::outbox(&self.db, Some(username))
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect()
    }

    /// A legacy client's basic-auth call with an app password: its status.
    pub async fn legacy_ping(&self, username: &str, app_password: &str) -> StatusCode {
        self.http
            .get(self.url("/v1/legacy/ping"))
            .basic_auth(username, Some(app_password))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Create an app password (needs a session with a recent second factor).
    pub async fn new_app_password(&self, token: &str, name: &str) -> String {
        let created: AppPasswordCreated = self
            .post(
                "/v1/me/app-passwords",
                AppPasswordRequest { name: name.into() },
                Some(token),
            )
            .await
            .ok();
        created.password
    }

    /// How many rows of `table` belong to `username` (straight from the database).
    pub fn rows_of(&self, table: &str, username: &str) -> i64 {
        rusqlite::Connection::open(&self.db)
            .unwrap()
            .query_row(
                &format!(
                    "SELECT COUNT(*) FROM {table} WHERE user_id = (SELECT id FROM users WHERE username = ?1)"
                ),
                [username],
                |r| r.get(0),
            )
            .unwrap()
    }

    pub async fn methods(&self, token: &str) -> Vec<MethodDto> {
        self.get("/v1/me/methods", token).await.ok()
    }
}

pub fn refresh_body(token: &str, client_id: &str) -> Value {
    json!({ "refresh_token": token, "client_id": client_id })
}

/// A code that is not the current one (nor, almost surely, its neighbours).
pub fn wrong_code(right: &str) -> String {
    let n: u32 = right.parse().unwrap();
    format!("{:06}", (n + 500_001) % 1_000_000)
}
