// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Two users, every route (issue 11, "Prove it"): alice and bob each own one
//! of everything the server keeps (methods, a phone of their own, sessions, a
//! remembered device, an app password, recovery codes, an enrollment in
//! progress, a pending push), and each then tries every `/v1/me` and
//! `/v1/device` route, and the sign-in routes, with the other's ids. No
//! answer may carry the other's data, and not one database row of the other
//! may change. The list of routes tried is checked against `/openapi.json`,
//! so a new route without a cross-user case fails here.

mod server_support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use reqwest::Method;
use secinfo::protocol::*;
use secinfo::server::{self, Settings};
use serde_json::{Value, json};
use server_support::{Reply, World};
use std::collections::{BTreeMap, BTreeSet};

/// One user and everything they own.
struct User {
    username: String,
    password: String,
    user_id: String,
    token: String,
    grant: String,
    session_id: String,
    methods: Vec<MethodDto>,
    /// A phone registered with a key this test holds, so it can sign device requests.
    device_id: String,
    key: SigningKey,
    trusted_id: String,
    app_password_id: String,
    app_password: String,
    recovery_code: String,
    enrollment_id: String,
    /// A sign-in waiting on this user's phone.
    push_id: String,
    push_number: u32,
    /// Words that are this user's and nobody else's: they must never reach the other.
    private: Vec<String>,
}

fn proof(key: &SigningKey, action: &str, device_id: &str) -> Value {
    let timestamp = chrono::Utc::now().timestamp();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let msg = format!("{action}:{device_id}:{timestamp}:{nonce}");
    json!({ "timestamp": timestamp, "nonce": nonce,
            "signature": STANDARD.encode(key.sign(msg.as_bytes()).to_bytes()) })
}

fn answer(key: &SigningKey, action: &str, push_id: &str, number: Option<u32>) -> Value {
    let typed = number.map(|n| n.to_string()).unwrap_or_default();
    let msg = format!("{action}:{push_id}:{typed}");
    json!({ "number": number, "signature": STANDARD.encode(key.sign(msg.as_bytes()).to_bytes()) })
}

/// Password, then the emailed code (every demo user has an email method), ticking "Don't ask again".
async fn sign_in(w: &World, username: &str, password: &str, client_id: &str) -> Tokens {
    let ch: MfaChallenge = match w.login_as(username, password, client_id, None).await.ok() {
        AuthResult::MfaRequired(ch) => ch,
        other => panic!("expected a second factor, got {other:?}"),
    };
    let email = World::method(&ch, "email").method_id.clone();
    let sent: MfaSent = w.send_factor(&ch, &email, None).await.ok();
    let _ = sent;
    let address = db_string(w, "SELECT label FROM methods WHERE id = ?1", &email);
    let code = w.last_code(&address);
    match w.answer(&ch, &email, Some(&code), true, None).await.ok() {
        AuthResult::SignedIn(t) => t,
        other => panic!("expected tokens, got {other:?}"),
    }
}

fn db_string(w: &World, sql: &str, arg: &str) -> String {
    rusqlite::Connection::open(&w.db)
        .unwrap()
        .query_row(sql, [arg], |r| r.get(0))
        .unwrap()
}

async fn make_user(w: &World, username: &str, password: &str, device_name: &str) -> User {
    let user_id = db_string(w, "SELECT id FROM users WHERE username = ?1", username);
    // A phone of their own, with a key this test holds.
    let payload = server::admin::new_activation(&w.db, username, &w.server.url).unwrap();
    let code = url::Url::parse(&payload)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (key, public_key) = secinfo::phone::new_key();
    let activated: ActivateResponse = w
        .post(
            "/v1/device/activate",
            ActivateRequest {
                activation_code: code,
                public_key,
                name: device_name.into(),
                platform: "Android".into(),
            },
            None,
        )
        .await
        .ok();
    let t = sign_in(w, username, password, &format!("{username}-laptop")).await;
    let token = t.access_token.clone();
    let app_password_id;
    let app_password;
    {
        let created: AppPasswordCreated = w
            .post(
                "/v1/me/app-passwords",
                AppPasswordRequest {
                    name: format!("{username} mail"),
                },
                Some(&token),
            )
            .await
            .ok();
        app_password_id = created.app_password.id;
        app_password = created.password;
    }
    let codes: RecoveryCodes = w
        .post("/v1/me/recovery-codes", json!({}), Some(&token))
        .await
        .ok();
    let enrollment: EnrollmentDto = w
        .post(
            "/v1/me/enrollments",
            json!({"kind": "totp", "name": format!("{username} app")}),
            Some(&token),
        )
        .await
        .ok();
    let trusted: Vec<TrustedDeviceDto> = w.get("/v1/me/trusted-devices", &token).await.ok();
    let methods = w.methods(&token).await;
    // A sign-in elsewhere, waiting for approval on this user's own phone.
    let ch: MfaChallenge = match w
        .login_as(username, password, &format!("{username}-tablet"), None)
        .await
        .ok()
    {
        AuthResult::MfaRequired(ch) => ch,
        other => panic!("{other:?}"),
    };
    let push_method = methods
        .iter()
        .find(|m| {
            m.device_id.as_deref() == Some(&activated.device_id) && m.kind == "authenticator_push"
        })
        .expect("the new phone's push method")
        .id
        .clone();
    let sent: MfaSent = w.send_factor(&ch, &push_method, None).await.ok();
    let pending: Vec<PendingPush> = w
        .post(
            &format!("/v1/device/{}/pending", activated.device_id),
            proof(&key, "pending", &activated.device_id),
            None,
        )
        .await
        .ok();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let me: Me = w.get("/v1/me", &token).await.ok();
    let mut private: Vec<String> =
        vec![username.into(), me.display_name.clone(), device_name.into()];
    // Phone numbers, addresses and phone names: words that are this user's alone.
    private.extend(
        methods
            .iter()
            .filter(|m| {
                matches!(
                    m.kind.as_str(),
                    "phone" | "alternate_phone" | "office_phone" | "email" | "authenticator_push"
                )
            })
            .map(|m| m.detail.clone()),
    );
    private.push(app_password.clone());
    private.push(format!("{username} mail"));
    User {
        username: username.into(),
        password: password.into(),
        user_id,
        token,
        grant: t.remembered_grant.expect("a remembered grant"),
        session_id: t.session_id,
        methods,
        device_id: activated.device_id,
        key,
        trusted_id: trusted[0].id.clone(),
        app_password_id,
        app_password,
        recovery_code: codes.codes[0].clone(),
        enrollment_id: enrollment.id,
        push_id: pending[0].push_id.clone(),
        push_number: sent.number.expect("a number"),
        private,
    }
}

/// Every row in the database that belongs to `u`: a column is exactly their
/// user id, username, throttle key, or the id of something they own.
fn rows_of(w: &World, u: &User) -> BTreeMap<String, BTreeSet<String>> {
    let conn = rusqlite::Connection::open(&w.db).unwrap();
    let mut marks: BTreeSet<String> = BTreeSet::from([
        u.user_id.clone(),
        u.username.clone(),
        format!("pw:{}", u.username),
        format!("mfa:{}", u.user_id),
        u.device_id.clone(),
        u.session_id.clone(),
        u.push_id.clone(),
        u.enrollment_id.clone(),
        u.trusted_id.clone(),
        u.app_password_id.clone(),
    ]);
    // Real ids only (the password row's id is the word "password").
    marks.extend(
        u.methods
            .iter()
            .map(|m| m.id.clone())
            .filter(|id| id.contains('_')),
    );
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = BTreeMap::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let rows: BTreeSet<String> = stmt
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| match r.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Null => "NULL".to_string(),
                        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                        rusqlite::types::ValueRef::Real(v) => v.to_string(),
                        rusqlite::types::ValueRef::Text(v) => {
                            String::from_utf8_lossy(v).into_owned()
                        }
                        rusqlite::types::ValueRef::Blob(v) => hex::encode(v),
                    })
                    .collect::<Vec<_>>())
            })
            .unwrap()
            .map(Result::unwrap)
            .filter(|row| row.iter().any(|col| marks.contains(col)))
            .map(|row| row.join(" | "))
            .collect();
        if !rows.is_empty() {
            out.insert(t, rows);
        }
    }
    out
}

/// The attempts one user makes on the other's things, by route.
struct Attempts<'a> {
    w: &'a World,
    me: &'a User,
    them: &'a User,
    tried: BTreeSet<(String, String)>,
}

impl Attempts<'_> {
    /// Send, note the route template, and check the answer: refused or
    /// about `me` only, and never a word of the other's.
    async fn send(
        &mut self,
        verb: Method,
        template: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Reply {
        self.tried
            .insert((verb.to_string().to_lowercase(), template.to_string()));
        let mut req = self.w.http.request(verb.clone(), self.w.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = &body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.as_u16() < 500, "{verb} {path}: {status} {text}");
        for word in &self.them.private {
            assert!(
                !text.contains(word.as_str()),
                "{} got {}'s {word:?} from {verb} {path}: {text}",
                self.me.username,
                self.them.username
            );
        }
        Reply {
            status,
            retry_after: None,
            body: if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap()
            },
        }
    }

    /// A change aimed at the other's thing must be refused.
    async fn refused(
        &mut self,
        verb: Method,
        template: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) {
        let r = self.send(verb.clone(), template, path, body, token).await;
        assert!(
            r.status.is_client_error(),
            "{} reached {}'s thing: {verb} {path} answered {} {}",
            self.me.username,
            self.them.username,
            r.status,
            r.body
        );
        r.code();
    }
}

async fn tries_everything_on(w: &World, me: &User, them: &User) -> BTreeSet<(String, String)> {
    let mut a = Attempts {
        w,
        me,
        them,
        tried: BTreeSet::new(),
    };
    let tok = Some(me.token.as_str());
    use Method as M;

    // The lists: only my own things.
    for list in [
        "/v1/me",
        "/v1/me/methods",
        "/v1/me/devices",
        "/v1/me/sessions",
        "/v1/me/trusted-devices",
        "/v1/me/app-passwords",
        "/v1/me/recovery-codes",
        "/v1/me/activity",
    ] {
        let r = a.send(M::GET, list, list, None, tok).await;
        assert!(r.status.is_success(), "{list}: {} {}", r.status, r.body);
        let text = r.body.to_string();
        for id in [
            &them.device_id,
            &them.session_id,
            &them.trusted_id,
            &them.app_password_id,
        ] {
            assert!(
                !text.contains(id.as_str()),
                "{list} lists {}'s {id}",
                them.username
            );
        }
    }

    // Their methods, by id: delete (even naming it as confirmation), rename, make my default.
    for m in &them.methods {
        let t = "/v1/me/methods/{id}";
        let confirm: String = url::form_urlencoded::byte_serialize(m.detail.as_bytes()).collect();
        a.refused(
            M::DELETE,
            t,
            &format!("/v1/me/methods/{}?confirm={confirm}", m.id),
            None,
            tok,
        )
        .await;
        a.refused(
            M::PATCH,
            t,
            &format!("/v1/me/methods/{}", m.id),
            Some(json!({"name": "mine now"})),
            tok,
        )
        .await;
        a.refused(
            M::PUT,
            "/v1/me/default-method",
            "/v1/me/default-method",
            Some(json!({"method_id": m.id})),
            tok,
        )
        .await;
        // Replacing their phone number (or any method) with mine.
        a.refused(
            M::POST,
            "/v1/me/enrollments",
            "/v1/me/enrollments",
            Some(json!({"kind": "phone", "target": "+14255550199", "replaces": m.id})),
            tok,
        )
        .await;
    }
    // Their phone: delete (confirmed by its name), rename.
    let t = "/v1/me/devices/{id}";
    let dev = &them.device_id;
    let confirm: String =
        url::form_urlencoded::byte_serialize(them.private[2].as_bytes()).collect();
    a.refused(
        M::DELETE,
        t,
        &format!("/v1/me/devices/{dev}?confirm={confirm}"),
        None,
        tok,
    )
    .await;
    a.refused(
        M::PATCH,
        t,
        &format!("/v1/me/devices/{dev}"),
        Some(json!({"name": "mine now"})),
        tok,
    )
    .await;
    // Their session, remembered device, app password.
    a.refused(
        M::DELETE,
        "/v1/me/sessions/{id}",
        &format!("/v1/me/sessions/{}", them.session_id),
        None,
        tok,
    )
    .await;
    a.refused(
        M::DELETE,
        "/v1/me/trusted-devices/{id}",
        &format!("/v1/me/trusted-devices/{}", them.trusted_id),
        None,
        tok,
    )
    .await;
    a.refused(
        M::DELETE,
        "/v1/me/app-passwords/{id}",
        &format!("/v1/me/app-passwords/{}", them.app_password_id),
        None,
        tok,
    )
    .await;
    // Their enrollment in progress: look, verify, cancel.
    let e = &them.enrollment_id;
    a.refused(
        M::GET,
        "/v1/me/enrollments/{id}",
        &format!("/v1/me/enrollments/{e}"),
        None,
        tok,
    )
    .await;
    a.refused(
        M::POST,
        "/v1/me/enrollments/{id}/verify",
        &format!("/v1/me/enrollments/{e}/verify"),
        Some(json!({"code": "123456"})),
        tok,
    )
    .await;
    a.refused(
        M::DELETE,
        "/v1/me/enrollments/{id}",
        &format!("/v1/me/enrollments/{e}"),
        None,
        tok,
    )
    .await;

    // My own phone, signing for their phone's id or answering their push.
    let mine = &me.device_id;
    a.refused(
        M::POST,
        "/v1/device/{device_id}/pending",
        &format!("/v1/device/{dev}/pending"),
        Some(proof(&me.key, "pending", dev)),
        None,
    )
    .await;
    a.refused(
        M::POST,
        "/v1/device/{device_id}/unregister",
        &format!("/v1/device/{dev}/unregister"),
        Some(proof(&me.key, "unregister", dev)),
        None,
    )
    .await;
    for action in ["approve", "deny"] {
        let t = format!("/v1/device/{{device_id}}/pushes/{{push_id}}/{action}");
        let number = Some(them.push_number);
        // Through my own device id, signed by me, with the right number.
        a.refused(
            M::POST,
            &t,
            &format!("/v1/device/{mine}/pushes/{}/{action}", them.push_id),
            Some(answer(&me.key, action, &them.push_id, number)),
            None,
        )
        .await;
        // Through their device id, signed by me.
        a.refused(
            M::POST,
            &t,
            &format!("/v1/device/{dev}/pushes/{}/{action}", them.push_id),
            Some(answer(&me.key, action, &them.push_id, number)),
            None,
        )
        .await;
    }
    // My own pending list never shows their sign-in.
    let r = a
        .send(
            M::POST,
            "/v1/device/{device_id}/pending",
            &format!("/v1/device/{mine}/pending"),
            Some(proof(&me.key, "pending", mine)),
            None,
        )
        .await;
    let pending: Vec<PendingPush> = serde_json::from_value(r.body).unwrap();
    assert!(
        pending.iter().all(|p| p.push_id != them.push_id),
        "{pending:?}"
    );

    // Signing in as me with their things: their remembered grant, their methods, their codes.
    let login = |grant: Option<&str>| LoginRequest {
        username: me.username.clone(),
        password: me.password.clone(),
        client_id: format!("{}-laptop", them.username),
        client_name: "borrowed laptop".into(),
        remembered_grant: grant.map(str::to_string),
    };
    let r = a
        .send(
            M::POST,
            "/v1/auth/login",
            "/v1/auth/login",
            Some(serde_json::to_value(login(Some(&them.grant))).unwrap()),
            None,
        )
        .await;
    let ch: MfaChallenge = match serde_json::from_value::<AuthResult>(r.body).unwrap() {
        AuthResult::MfaRequired(ch) => ch,
        other => panic!(
            "{}'s grant let {} skip the second factor: {other:?}",
            them.username, me.username
        ),
    };
    a.refused(M::POST, "/v1/auth/mfa", "/v1/auth/mfa",
        Some(json!({"challenge_id": ch.challenge_id, "method_id": "recovery_code", "code": them.recovery_code})), None)
        .await;
    for m in &them.methods {
        a.refused(
            M::POST,
            "/v1/auth/mfa/send",
            "/v1/auth/mfa/send",
            Some(json!({"challenge_id": ch.challenge_id, "method_id": m.id})),
            None,
        )
        .await;
        a.refused(
            M::POST,
            "/v1/auth/mfa",
            "/v1/auth/mfa",
            Some(json!({"challenge_id": ch.challenge_id, "method_id": m.id, "code": "123456"})),
            None,
        )
        .await;
    }
    // A step-up of my session answered with their push (approved on their phone by its owner's key? no: mine).
    let r = a
        .send(M::POST, "/v1/auth/step-up", "/v1/auth/step-up", None, tok)
        .await;
    let up: MfaChallenge = match serde_json::from_value::<AuthResult>(r.body.clone()) {
        Ok(AuthResult::MfaRequired(ch)) => ch,
        other => panic!("step-up: {other:?} {}", r.body),
    };
    for m in &them.methods {
        a.refused(
            M::POST,
            "/v1/auth/mfa/send",
            "/v1/auth/mfa/send",
            Some(json!({"challenge_id": up.challenge_id, "method_id": m.id})),
            tok,
        )
        .await;
    }
    // Their app password under my name, and my token on the legacy route.
    let status = w.legacy_ping(&me.username, &them.app_password).await;
    assert_eq!(
        status, 401,
        "{}'s app password opened {}'s account",
        them.username, me.username
    );
    a.tried.insert(("get".into(), "/v1/legacy/ping".into()));

    // Whatever I do to my own account stays mine: recovery codes, password, sign out everywhere.
    let r = a
        .send(
            M::POST,
            "/v1/me/recovery-codes",
            "/v1/me/recovery-codes",
            None,
            tok,
        )
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    let r = a
        .send(
            M::DELETE,
            "/v1/me/recovery-codes",
            "/v1/me/recovery-codes",
            None,
            tok,
        )
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    a.refused(
        M::POST,
        "/v1/me/password",
        "/v1/me/password",
        Some(json!({"current_password": "not mine", "new_password": "a-new-long-password"})),
        tok,
    )
    .await;
    let r = a
        .send(
            M::POST,
            "/v1/me/app-passwords",
            "/v1/me/app-passwords",
            Some(json!({"name": "second"})),
            tok,
        )
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    let r = a
        .send(
            M::POST,
            "/v1/me/signout-everywhere",
            "/v1/me/signout-everywhere",
            None,
            tok,
        )
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    let r = a
        .send(M::POST, "/v1/auth/logout", "/v1/auth/logout", None, tok)
        .await;
    assert!(r.status.as_u16() < 500);
    a.tried
}

#[tokio::test]
async fn neither_user_can_read_or_change_anything_of_the_other_on_any_route() {
    // Many wrong codes are sent on purpose (their methods at my sign-in): no lock may cut the tour short.
    let w = World::start(Settings {
        max_failed_attempts: 100,
        max_code_guesses: 100,
        ..Settings::default()
    })
    .await;
    let alice = make_user(&w, &w.demo.username, &w.demo.password, "Alice's tablet").await;
    let bob = make_user(
        &w,
        &w.demo.other_username,
        &w.demo.other_password,
        "Bob's tablet",
    )
    .await;
    // Row counts prove the snapshot catches something for each user.
    let (alice_before, bob_before) = (rows_of(&w, &alice), rows_of(&w, &bob));
    for (u, rows) in [(&alice, &alice_before), (&bob, &bob_before)] {
        for table in [
            "methods",
            "devices",
            "sessions",
            "app_passwords",
            "recovery_codes",
            "pushes",
        ] {
            assert!(
                rows.contains_key(table),
                "{} has nothing in {table}: {rows:?}",
                u.username
            );
        }
    }

    let tried_by_bob = tries_everything_on(&w, &bob, &alice).await;
    assert_eq!(
        rows_of(&w, &alice),
        alice_before,
        "bob's requests changed alice's rows"
    );
    // Alice is still signed in and her push still waits for her.
    let me: Me = w.get("/v1/me", &alice.token).await.ok();
    assert_eq!(me.username, alice.username);
    let alice_before = rows_of(&w, &alice);

    // Bob signed himself out everywhere: he signs in again, then it is alice's turn.
    let bob = User {
        token: sign_in(&w, &bob.username, &w.demo.other_password, "bob-again")
            .await
            .access_token,
        ..bob
    };
    let bob_before = rows_of(&w, &bob);
    let tried_by_alice = tries_everything_on(&w, &alice, &bob).await;
    assert_eq!(
        rows_of(&w, &bob),
        bob_before,
        "alice's requests changed bob's rows"
    );
    let _ = alice_before;

    // Every /v1/me, /v1/device and /v1/auth route the server documents was tried both ways.
    let doc: Value = w
        .http
        .get(w.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path == "/v1/me"
            || ["/v1/me/", "/v1/device/", "/v1/auth/", "/v1/legacy/"]
                .iter()
                .any(|p| path.starts_with(p))
        {
            for verb in ["get", "post", "put", "patch", "delete"] {
                if item.get(verb).is_some() {
                    documented.insert((verb.to_string(), path.clone()));
                }
            }
        }
    }
    // Device activation takes a one-time code, not an id of anyone's; refresh takes a token.
    for skip in [
        ("post", "/v1/device/activate"),
        ("post", "/v1/auth/refresh"),
    ] {
        documented.remove(&(skip.0.to_string(), skip.1.to_string()));
    }
    for (who, tried) in [("bob", &tried_by_bob), ("alice", &tried_by_alice)] {
        let missing: Vec<_> = documented.difference(tried).collect();
        assert!(missing.is_empty(), "{who} never tried: {missing:?}");
    }
}
