//! The reference server taking hostile requests: every route of its own
//! `/openapi.json`, ids that are real (the seeded users') or made up, query
//! strings, bodies built from the protocol's field names or raw bytes, with
//! alice's bearer token, none or a forged one. Real HTTP on loopback, real
//! SQLite. The server must never answer 5xx, and every answer with a body is
//! JSON; every refusal has the one error shape (`error.code`, `error.message`).
//!
//! The world is built once per process. When an input ends alice's session
//! (sign out everywhere, revoking it, a password change), the next input
//! finds her token dead and the world is built again.

use super::Outcome;
use super::replies::runtime;
use arbitrary::Unstructured;
use secinfo::protocol::{AuthResult, MfaChallenge, MfaSendRequest, MfaSent, MfaVerifyRequest};
use secinfo::server::{self, RunningServer, Settings};
use serde_json::{Map, Value, json};
use std::sync::{Mutex, OnceLock};

pub struct World {
    _dir: tempfile::TempDir,
    pub server: RunningServer,
    pub http: reqwest::Client,
    pub token: String,
    /// Every id the two users own: methods, devices, sessions, app passwords, enrollments.
    pub ids: Vec<String>,
    /// The route templates the server documents: (verb, path).
    pub routes: Vec<(reqwest::Method, String)>,
}

impl World {
    pub async fn build() -> World {
        let dir = tempfile::tempdir().expect("a temp dir");
        let db = dir.path().join("server.db");
        let settings = Settings {
            ip_burst: 0,
            mfa_max_age: 1_000_000,
            access_token_ttl: 1_000_000,
            ..Settings::default()
        };
        let server = server::spawn(&db, settings)
            .await
            .expect("the server starts");
        let demo =
            server::seed_demo(&db, &dir.path().join("phone"), &server.url).expect("the demo world");
        let http = reqwest::Client::new();
        let phone = secinfo::phone::Phone::open(&dir.path().join("phone")).expect("the phone");
        let token =
            sign_in_by_push(&http, &server.url, &demo.username, &demo.password, &phone).await;
        let doc: Value = http
            .get(format!("{}/openapi.json", server.url))
            .send()
            .await
            .expect("openapi.json")
            .json()
            .await
            .expect("openapi.json is JSON");
        let mut routes = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for verb in ["get", "post", "put", "patch", "delete"] {
                if item.get(verb).is_some() {
                    let m = reqwest::Method::from_bytes(verb.to_uppercase().as_bytes())
                        .expect("an HTTP verb");
                    routes.push((m, path.clone()));
                }
            }
        }
        assert!(
            routes.len() > 20,
            "openapi.json lists only {} routes",
            routes.len()
        );
        let mut w = World {
            _dir: dir,
            server,
            http,
            token,
            ids: Vec::new(),
            routes,
        };
        // An enrollment in progress and an app password, so their ids exist too.
        let _ = w
            .call(
                reqwest::Method::POST,
                "/v1/me/enrollments",
                Some(json!({"kind": "totp"})),
                true,
            )
            .await;
        let _ = w
            .call(
                reqwest::Method::POST,
                "/v1/me/app-passwords",
                Some(json!({"name": "Mail"})),
                true,
            )
            .await;
        for list in [
            "/v1/me/methods",
            "/v1/me/devices",
            "/v1/me/sessions",
            "/v1/me/trusted-devices",
            "/v1/me/app-passwords",
        ] {
            if let (200, Value::Array(items)) = w.call(reqwest::Method::GET, list, None, true).await
            {
                for i in items {
                    for key in ["id", "method_id", "device_id"] {
                        if let Some(s) = i[key].as_str() {
                            w.ids.push(s.to_string());
                        }
                    }
                }
            }
        }
        w
    }

    /// One request with alice's token (or none); status and JSON body (Null when empty).
    pub async fn call(
        &self,
        verb: reqwest::Method,
        path: &str,
        body: Option<Value>,
        authed: bool,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(verb, format!("{}{path}", self.server.url));
        if authed {
            req = req.bearer_auth(&self.token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("a body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

/// Password, then a push approved on the simulated phone: a session with a fresh second factor.
pub async fn sign_in_by_push(
    http: &reqwest::Client,
    url: &str,
    username: &str,
    password: &str,
    phone: &secinfo::phone::Phone,
) -> String {
    let login = json!({"username": username, "password": password, "client_id": "fuzz", "client_name": "fuzz"});
    let r: AuthResult = http
        .post(format!("{url}/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login answers");
    let AuthResult::MfaRequired(ch) = r else {
        panic!("expected a second factor, got {r:?}")
    };
    let ch: MfaChallenge = ch;
    let push = ch
        .methods
        .iter()
        .find(|m| m.kind == "authenticator_push")
        .expect("a push method")
        .method_id
        .clone();
    let sent: MfaSent = http
        .post(format!("{url}/v1/auth/mfa/send"))
        .json(&MfaSendRequest {
            challenge_id: ch.challenge_id.clone(),
            method_id: push.clone(),
        })
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("sent");
    phone
        .approve(sent.number.expect("a number to match"))
        .await
        .expect("approved");
    let r: AuthResult = http
        .post(format!("{url}/v1/auth/mfa"))
        .json(&MfaVerifyRequest {
            challenge_id: ch.challenge_id,
            method_id: push,
            code: None,
            remember: false,
        })
        .send()
        .await
        .expect("poll")
        .json()
        .await
        .expect("poll answers");
    match r {
        AuthResult::SignedIn(t) => t.access_token,
        other => panic!("expected tokens after approval, got {other:?}"),
    }
}

/// Field names of the protocol's request bodies (and a few of its answers).
const FIELDS: &[&str] = &[
    "username",
    "password",
    "client_id",
    "client_name",
    "remembered_grant",
    "challenge_id",
    "method_id",
    "code",
    "remember",
    "refresh_token",
    "kind",
    "target",
    "name",
    "replaces",
    "current_password",
    "new_password",
    "activation_code",
    "public_key",
    "platform",
    "timestamp",
    "signature",
    "nonce",
    "number",
    "confirm",
    "id",
];
const WORDS: &[&str] = &[
    "totp",
    "authenticator_push",
    "phone",
    "alternate_phone",
    "office_phone",
    "email",
    "app_password",
    "security_key",
    "password",
    "recovery_code",
    "+14255550123",
    "a@b.test",
    "alice@contoso.test",
    "bob@contoso.test",
    "correct-horse-battery",
    "000000",
    "..",
    "%2e%2e",
    "\u{1b}]0;TITLE\u{7}",
    "\u{202e}evil",
    "",
];

fn value(u: &mut Unstructured, ids: &[String], depth: u8) -> Value {
    match u.int_in_range(0..=9u8).unwrap_or(0) {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary().unwrap_or(false)),
        2 => Value::from(u.arbitrary::<i64>().unwrap_or(0)),
        3 => Value::from(u.int_in_range(0..=1_000_000u32).unwrap_or(0)),
        4 => Value::String(u.arbitrary().unwrap_or_default()),
        5 | 6 => Value::String(u.choose(WORDS).map_or("", |w| w).to_string()),
        7 if !ids.is_empty() => Value::String(u.choose(ids).cloned().unwrap_or_default()),
        8 if depth > 0 => Value::Array(
            (0..u.int_in_range(0..=3u8).unwrap_or(0))
                .map(|_| value(u, ids, depth - 1))
                .collect(),
        ),
        _ if depth > 0 => object(u, ids, depth - 1),
        _ => Value::Null,
    }
}

fn object(u: &mut Unstructured, ids: &[String], depth: u8) -> Value {
    let mut m = Map::new();
    for _ in 0..u.int_in_range(0..=8u8).unwrap_or(0) {
        let k = u.choose(FIELDS).map_or("x", |k| k).to_string();
        m.insert(k, value(u, ids, depth));
    }
    Value::Object(m)
}

/// A path parameter: a real id (theirs or ours), a made-up one, percent-encoded or raw.
fn param(u: &mut Unstructured, ids: &[String]) -> String {
    let raw: String = match u.int_in_range(0..=3u8).unwrap_or(0) {
        0 | 1 if !ids.is_empty() => u.choose(ids).cloned().unwrap_or_default(),
        2 => u.choose(WORDS).map_or("", |w| w).to_string(),
        _ => u.arbitrary().unwrap_or_default(),
    };
    if u.ratio(1, 8).unwrap_or(false) {
        // Raw: may hold '/', '?', '%' or bytes that are not UTF-8 once decoded.
        raw.replace(['#', ' '], "")
    } else {
        raw.bytes().map(|b| format!("%{b:02X}")).collect()
    }
}

fn world() -> &'static Mutex<Option<World>> {
    static W: OnceLock<Mutex<Option<World>>> = OnceLock::new();
    W.get_or_init(|| Mutex::new(None))
}

/// Build the world if there is none, or again if alice's session has ended.
async fn ready(slot: &mut Option<World>) {
    let alive = match slot.as_ref() {
        Some(w) => w.call(reqwest::Method::GET, "/v1/me", None, true).await.0 == 200,
        None => false,
    };
    if !alive {
        *slot = Some(World::build().await);
    }
}

pub fn server(data: &[u8]) -> Outcome {
    let mut guard = world().lock().unwrap_or_else(|e| e.into_inner());
    runtime().block_on(async {
        ready(&mut guard).await;
        let w = guard.as_ref().expect("a world");
        let mut u = Unstructured::new(data);
        let (verb, template) = u.choose(&w.routes).cloned().expect("routes");
        let mut path = String::new();
        for part in template.split('/').filter(|p| !p.is_empty()) {
            path.push('/');
            if part.starts_with('{') {
                path.push_str(&param(&mut u, &w.ids));
            } else {
                path.push_str(part);
            }
        }
        if u.ratio(1, 4).unwrap_or(false) {
            let q: String = u.arbitrary().unwrap_or_default();
            path.push_str("?confirm=");
            path.push_str(&q.bytes().map(|b| format!("%{b:02X}")).collect::<String>());
        }
        let mut req = w
            .http
            .request(verb.clone(), format!("{}{path}", w.server.url));
        // Signing out (here or everywhere) with alice's token ends her session whatever
        // the body says, and the world would be built again (a second, in a debug
        // build) for every such input; schemathesis and the two-users test cover them
        // signed in. Here they get the other tokens only.
        let ends_session = matches!(
            template.as_str(),
            "/v1/me/signout-everywhere" | "/v1/auth/logout"
        );
        req = match u.int_in_range(0..=7u8).unwrap_or(0) {
            0 => req,
            1 => req.bearer_auth("forged-token"),
            2 => req.basic_auth("alice@contoso.test", Some("not-an-app-password")),
            _ if ends_session => req.bearer_auth("forged-token"),
            _ => req.bearer_auth(&w.token),
        };
        let body = match u.int_in_range(0..=5u8).unwrap_or(0) {
            0 => None,
            1 => {
                let len = u.int_in_range(0..=64usize).unwrap_or(0);
                Some((
                    "application/json",
                    u.bytes(len).unwrap_or_default().to_vec(),
                ))
            }
            2 => Some(("text/plain", b"{}".to_vec())),
            _ => Some((
                "application/json",
                serde_json::to_vec(&object(&mut u, &w.ids, 2)).unwrap_or_default(),
            )),
        };
        let sent_body = body.is_some();
        if let Some((ct, bytes)) = body {
            req = req.header("content-type", ct).body(bytes);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            // A raw parameter can make a URL reqwest itself refuses to send: nothing reached the server.
            Err(e) if e.is_builder() => return Outcome::Refused,
            Err(e) => panic!("{verb} {path}: the server did not answer: {e}"),
        };
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("a body");
        assert!(
            status < 500,
            "{verb} {path} (body: {sent_body}) answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
        if !bytes.is_empty() {
            let body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "{verb} {path} answered {status} with a body that is not JSON: {}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            if status >= 400 {
                assert!(
                    body["error"]["code"].is_string() && body["error"]["message"].is_string(),
                    "{verb} {path} answered {status} outside the error shape: {body}"
                );
            }
        }
        if status < 400 {
            Outcome::Taken
        } else {
            Outcome::Refused
        }
    })
}
