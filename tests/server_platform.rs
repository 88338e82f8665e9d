// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The server as a platform: its OpenAPI document, one error shape, and
//! several servers (processes) over one database seeing the same world.

mod server_support;

use secinfo::protocol::*;
use secinfo::server::{self, Settings};
use server_support::World;

const ENDPOINTS: &[(&str, &str)] = &[
    ("get", "/v1/meta"),
    ("post", "/v1/auth/login"),
    ("post", "/v1/auth/mfa/send"),
    ("post", "/v1/auth/mfa"),
    ("post", "/v1/auth/refresh"),
    ("post", "/v1/auth/logout"),
    ("post", "/v1/auth/step-up"),
    ("get", "/v1/me"),
    ("get", "/v1/me/methods"),
    ("delete", "/v1/me/methods/{id}"),
    ("put", "/v1/me/default-method"),
    ("get", "/v1/me/devices"),
    ("delete", "/v1/me/devices/{id}"),
    ("get", "/v1/me/activity"),
    ("get", "/v1/me/sessions"),
    ("delete", "/v1/me/sessions/{id}"),
    ("get", "/v1/me/trusted-devices"),
    ("delete", "/v1/me/trusted-devices/{id}"),
    ("post", "/v1/me/signout-everywhere"),
    ("patch", "/v1/me/methods/{id}"),
    ("patch", "/v1/me/devices/{id}"),
    ("post", "/v1/me/password"),
    ("get", "/v1/me/app-passwords"),
    ("post", "/v1/me/app-passwords"),
    ("delete", "/v1/me/app-passwords/{id}"),
    ("get", "/v1/legacy/ping"),
    ("get", "/v1/me/recovery-codes"),
    ("post", "/v1/me/recovery-codes"),
    ("delete", "/v1/me/recovery-codes"),
    ("post", "/v1/me/enrollments"),
    ("get", "/v1/me/enrollments/{id}"),
    ("delete", "/v1/me/enrollments/{id}"),
    ("post", "/v1/me/enrollments/{id}/verify"),
    ("post", "/v1/device/activate"),
    ("post", "/v1/device/{device_id}/pending"),
    ("post", "/v1/device/{device_id}/pushes/{push_id}/approve"),
    ("post", "/v1/device/{device_id}/pushes/{push_id}/deny"),
    ("post", "/v1/device/{device_id}/unregister"),
];

#[tokio::test]
async fn openapi_lists_every_endpoint() {
    let w = World::default().await;
    let doc: serde_json::Value = w
        .http
        .get(w.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut listed = Vec::new();
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                listed.push((method.clone(), path.clone()));
            }
        }
    }
    for (method, path) in ENDPOINTS {
        assert!(
            listed.contains(&(method.to_string(), path.to_string())),
            "{method} {path} missing from {listed:?}"
        );
    }
    assert_eq!(
        listed.len(),
        ENDPOINTS.len(),
        "undocumented extras or duplicates: {listed:?}"
    );
    // Every endpoint answers on the server too (none of them 404s as unknown).
    for (method, path) in ENDPOINTS {
        let url = w.url(
            &path
                .replace("{id}", "x")
                .replace("{device_id}", "x")
                .replace("{push_id}", "x"),
        );
        let req = match *method {
            "get" => w.http.get(url),
            "post" => w.http.post(url).json(&serde_json::json!({})),
            "put" => w.http.put(url).json(&serde_json::json!({})),
            "patch" => w.http.patch(url).json(&serde_json::json!({})),
            _ => w.http.delete(url),
        };
        let resp = req.send().await.unwrap();
        assert_ne!(resp.status(), 405, "{method} {path}");
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        assert_ne!(
            body["error"]["message"], "this endpoint was not found",
            "{method} {path}"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "AuthResult",
        "ErrorBody",
        "MethodDto",
        "PendingPush",
        "DeviceProof",
    ] {
        assert!(schemas.contains_key(name), "schema {name}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn every_error_has_the_one_shape() {
    let w = World::default().await;
    let bad_json = w
        .http
        .post(w.url("/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    let body: ErrorBody = bad_json.json().await.unwrap();
    assert_eq!(body.error.code, codes::BAD_REQUEST);
    let unknown = w.http.get(w.url("/v1/nope")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let body: ErrorBody = unknown.json().await.unwrap();
    assert_eq!(body.error.code, codes::NOT_FOUND);
    let wrong_method = w.http.delete(w.url("/v1/meta")).send().await.unwrap();
    assert_eq!(wrong_method.status(), 405);
    let body: ErrorBody = wrong_method.json().await.unwrap();
    assert_eq!(body.error.code, codes::BAD_REQUEST);
    // Clients compare clocks with the Date header (TOTP depends on it).
    let meta = w.http.get(w.url("/v1/meta")).send().await.unwrap();
    assert!(meta.headers().contains_key("date"));
    let no_token = w.http.get(w.url("/v1/me/methods")).send().await.unwrap();
    assert_eq!(no_token.status(), 401);
    let body: ErrorBody = no_token.json().await.unwrap();
    assert_eq!(body.error.code, codes::UNAUTHORIZED);
    let junk_token = w.get("/v1/me", "sat_junk").await;
    assert_eq!(junk_token.code(), codes::UNAUTHORIZED);
}

#[tokio::test]
async fn meta_publishes_the_settings_clients_need() {
    let w = World::start(Settings {
        remember_days: 7,
        mfa_max_age: 123,
        ..Settings::default()
    })
    .await;
    let meta: Meta = w
        .http
        .get(w.url("/v1/meta"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta.api, "v1");
    assert_eq!(meta.remember_days, 7);
    assert_eq!(meta.mfa_max_age_secs, 123);
    let AuthResult::MfaRequired(ch) = w
        .login_as("alice@contoso.test", "correct-horse-battery", "x", None)
        .await
        .ok()
    else {
        panic!()
    };
    assert_eq!(ch.remember_days, 7);
}

#[tokio::test]
async fn two_processes_share_one_database() {
    let w = World::default().await;
    // A second server over the same file: no state is kept in memory, so it
    // sees every session, push and revocation the first one makes.
    let second = server::spawn(&w.db, Settings::default()).await.unwrap();
    let ch = w.alice_challenge("laptop").await;
    let push = World::method(&ch, "authenticator_push").method_id.clone();
    let number = w
        .send_factor(&ch, &push, None)
        .await
        .ok::<MfaSent>()
        .number
        .unwrap();
    // The phone talks to the second server and approves the push sent by the first.
    let phone = w.phone().with_server_url(&second.url);
    phone.approve(number).await.unwrap();
    let AuthResult::SignedIn(t) = w.answer(&ch, &push, None, false, None).await.ok() else {
        panic!()
    };

    let via_second = w
        .http
        .get(format!("{}/v1/me", second.url))
        .bearer_auth(&t.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(via_second.status(), 200);
    let so = w
        .http
        .post(format!("{}/v1/me/signout-everywhere", second.url))
        .bearer_auth(&t.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(so.status(), 204);
    assert_eq!(
        w.get("/v1/me", &t.access_token).await.status,
        401,
        "revoked on one, refused by the other"
    );
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn seeding_is_idempotent_and_data_survives_a_restart() {
    let w = World::default().await;
    assert!(w.demo.seeded);
    let t = w.alice_signs_in("laptop", false).await;
    let again = server::seed_demo(&w.db, &w.phone_dir, &w.server.url).unwrap();
    assert!(!again.seeded);
    assert_eq!(again.password, w.demo.password);
    assert_eq!(server::admin::list_users(&w.db).unwrap().len(), 2);

    let url = w.server.url.clone();
    let World {
        dir, db, server, ..
    } = w;
    server.shutdown().await.unwrap();
    assert!(
        reqwest::get(format!("{url}/v1/meta")).await.is_err(),
        "stopped"
    );
    let restarted = server::spawn(&db, Settings::default()).await.unwrap();
    let me = reqwest::Client::new()
        .get(format!("{}/v1/me", restarted.url))
        .bearer_auth(&t.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "sessions are durable");
    drop(dir);
}

/// Stops the child server however the test ends.
struct ChildServer(std::process::Child);

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_separate_serve_process_sees_the_same_world() {
    let w = World::default().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let other_url = format!("http://127.0.0.1:{port}");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_secinfo"))
        .args(["serve", "--db"])
        .arg(&w.db)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("SECINFO_CONFIG", w.dir.path().join("absent.toml"))
        .env("SECINFO_STATE_DIR", w.dir.path().join("state"))
        .env("SECINFO_DATA_DIR", w.dir.path().join("data"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _child = ChildServer(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while reqwest::get(format!("{other_url}/v1/meta")).await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "secinfo serve never came up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Sign in through the other process, approving on the phone via this one.
    let http = reqwest::Client::new();
    let login = LoginRequest {
        username: "alice@contoso.test".into(),
        password: "correct-horse-battery".into(),
        client_id: "cli".into(),
        client_name: "other process".into(),
        remembered_grant: None,
    };
    let AuthResult::MfaRequired(ch) = http
        .post(format!("{other_url}/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
    else {
        panic!("expected a challenge")
    };
    let push = World::method(&ch, "authenticator_push").method_id.clone();
    let sent: MfaSent = http
        .post(format!("{other_url}/v1/auth/mfa/send"))
        .json(&MfaSendRequest {
            challenge_id: ch.challenge_id.clone(),
            method_id: push.clone(),
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    w.phone().approve(sent.number.unwrap()).await.unwrap();
    // This process finishes the sign-in the other one started.
    let AuthResult::SignedIn(t) = w.answer(&ch, &push, None, false, None).await.ok() else {
        panic!()
    };
    let me = http
        .get(format!("{other_url}/v1/me"))
        .bearer_auth(&t.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(
        w.post("/v1/me/signout-everywhere", (), Some(&t.access_token))
            .await
            .status,
        204
    );
    let after = http
        .get(format!("{other_url}/v1/me"))
        .bearer_auth(&t.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401, "revoked here, refused there at once");
}

#[test]
fn two_demos_starting_at_once_seed_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let barrier = std::sync::Barrier::new(2);
    let results: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let (db, barrier) = (&db, &barrier);
                let phone = dir.path().join(format!("phone{i}"));
                s.spawn(move || {
                    barrier.wait();
                    server::seed_demo(db, &phone, "http://127.0.0.1:1")
                        .unwrap()
                        .seeded
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|s| **s).count(), 1, "{results:?}");
    assert_eq!(server::admin::list_users(&db).unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_clients_on_two_servers_over_one_database_all_get_answers() {
    let w = World::default().await;
    let second = server::spawn(&w.db, Settings::default()).await.unwrap();
    let grant = w
        .alice_signs_in("shared", true)
        .await
        .remembered_grant
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let base = if i % 2 == 0 {
            w.server.url.clone()
        } else {
            second.url.clone()
        };
        let grant = grant.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let login = LoginRequest {
                username: "alice@contoso.test".into(),
                password: "correct-horse-battery".into(),
                client_id: "shared".into(),
                client_name: format!("client {i}"),
                remembered_grant: Some(grant),
            };
            let r: AuthResult = http
                .post(format!("{base}/v1/auth/login"))
                .json(&login)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let AuthResult::SignedIn(mut t) = r else {
                panic!("{r:?}")
            };
            for _ in 0..3 {
                for path in [
                    "/v1/me/methods",
                    "/v1/me/sessions",
                    "/v1/me/trusted-devices",
                ] {
                    let resp = http
                        .get(format!("{base}{path}"))
                        .bearer_auth(&t.access_token)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), 200, "{path}: {}", resp.text().await.unwrap());
                }
                let body =
                    serde_json::json!({ "refresh_token": t.refresh_token, "client_id": "shared" });
                let r: AuthResult = http
                    .post(format!("{base}/v1/auth/refresh"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let AuthResult::SignedIn(next) = r else {
                    panic!("{r:?}")
                };
                t = next;
            }
            t.session_id
        }));
    }
    let mut sessions = Vec::new();
    for t in tasks {
        sessions.push(t.await.unwrap());
    }
    sessions.sort();
    sessions.dedup();
    assert_eq!(sessions.len(), 12);
    second.shutdown().await.unwrap();
}
