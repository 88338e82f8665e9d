//! Journeys against a real privacyIDEA 3.14, installed and started by
//! `scripts/privacyidea/up` (which `./scripts/test` runs). Each journey signs
//! in as its own user, so they can run in parallel. If the server is not
//! running these tests fail, saying how to start it: they never skip.
//!
//! Independent checks (does the new token really authenticate? did someone
//! else delete it?) talk to privacyIDEA directly with reqwest, not through the
//! adapter under test.

mod qr_support;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use secinfo::backend::privacyidea::PrivacyIdea;
use secinfo::backend::{Backend, BackendError, SignIn};
use secinfo::domain::{ActivityKind, EnrollmentState, Method, MethodKind};
use secinfo::qr::{QrCode, short_otpauth};
use secinfo::secrets::SecretString;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const HOW_TO_START: &str = "privacyIDEA is not running for the live tests. Run ./scripts/test, or start it with \
     scripts/privacyidea/up (and stop it with scripts/privacyidea/down)";

/// The facts `scripts/privacyidea/up` wrote; variables already set in the
/// environment (by scripts/test) win.
struct Pi {
    vars: HashMap<String, String>,
}

impl Pi {
    fn get(&self, key: &str) -> String {
        self.vars.get(key).cloned().unwrap_or_else(|| {
            panic!("{key} is missing from the privacyIDEA env file. {HOW_TO_START}")
        })
    }
    fn url(&self) -> String {
        self.get("PI_URL")
    }
    fn password(&self) -> SecretString {
        SecretString::new(self.get("PI_PASSWORD"))
    }
}

fn env_file() -> PathBuf {
    std::env::var_os("PI_ENV_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/privacyidea-run/env"))
}

fn pi() -> Pi {
    let mut vars = HashMap::new();
    let path = env_file();
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
                if let Some((k, v)) = line.split_once('=') {
                    vars.insert(k.to_string(), v.trim_matches('"').to_string());
                }
            }
        }
        Err(e) if std::env::var("PI_URL").is_err() => {
            panic!("cannot read {}: {e}. {HOW_TO_START}", path.display())
        }
        Err(_) => {}
    }
    for (k, v) in std::env::vars().filter(|(k, _)| k.starts_with("PI_")) {
        vars.insert(k, v);
    }
    let pi = Pi { vars };
    assert!(
        healthy(&pi.url()),
        "privacyIDEA at {} does not answer /healthz/. {HOW_TO_START}",
        pi.url()
    );
    pi
}

/// `GET /healthz/` with nothing but std, so the check itself cannot hang on a runtime.
fn healthy(url: &str) -> bool {
    use std::io::{Read, Write};
    let Some(authority) = url.strip_prefix("http://").map(|r| r.trim_end_matches('/')) else {
        return false;
    };
    let Ok(addr) = authority.parse::<std::net::SocketAddr>() else {
        return false;
    };
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!("GET /healthz/ HTTP/1.0\r\nHost: {authority}\r\n\r\n");
    let mut reply = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut reply).is_ok()
        && reply.starts_with("HTTP/1.")
        && reply.contains("\"ready\"")
}

fn backend(pi: &Pi, realm: &str) -> PrivacyIdea {
    PrivacyIdea::new(
        &pi.url(),
        Some(realm.to_string()),
        None,
        Duration::from_secs(20),
    )
    .unwrap()
}

async fn signed_in(pi: &Pi, user: &str) -> PrivacyIdea {
    let b = backend(pi, &pi.get("PI_REALM"));
    assert_eq!(
        b.sign_in(user, &pi.password()).await.unwrap(),
        SignIn::Done {
            mfa_setup_required: false
        }
    );
    for m in b.methods().await.unwrap() {
        b.delete_method(&m.id, Some(&m.detail)).await.unwrap();
    }
    b
}

/// `/validate/check`, straight to the server: what a VPN or mail server would ask.
async fn validate(pi: &Pi, params: &[(&str, &str)]) -> Value {
    let body: serde_json::Map<String, Value> = params
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    reqwest::Client::new()
        .post(format!("{}/validate/check", pi.url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn accepted(reply: &Value) -> bool {
    reply["result"]["authentication"] == "ACCEPT"
}

/// An administrator's action, for "someone else did it".
async fn as_admin(pi: &Pi, method: reqwest::Method, path: &str) -> Value {
    let client = reqwest::Client::new();
    let auth: Value = client
        .post(format!("{}/auth", pi.url()))
        .json(&serde_json::json!({"username": pi.get("PI_ADMIN_USER"), "password": pi.get("PI_ADMIN_PASSWORD")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwt = auth["result"]["value"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    client
        .request(method, format!("{}/{}", pi.url(), path))
        .header("PI-Authorization", jwt)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The newest message the sink received in `dir` (one folder per recipient)
/// after `seen` messages, waiting up to 15 s for it to arrive.
fn next_message(dir: &Path, seen: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| !is_tmp(p))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        if files.len() > seen {
            return std::fs::read_to_string(files.last().unwrap()).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "no message arrived in {} within 15 s",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn is_tmp(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn count_messages(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| !is_tmp(&e.path()))
                .count()
        })
        .unwrap_or(0)
}

fn mailbox(pi: &Pi, address: &str) -> PathBuf {
    Path::new(&pi.get("PI_MAIL_DIR"))
        .join(format!("<{address}>").trim_matches(|c| c == '<' || c == '>'))
}

/// The one-time code in an email privacyIDEA sent: its body is the code, base64-encoded.
fn code_in_mail(mail: &str) -> String {
    use base64::Engine as _;
    let normalized = mail.replace("\r\n", "\n");
    let (headers, body) = normalized
        .split_once("\n\n")
        .expect("a mail with headers and a body");
    let text = if headers
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: base64")
    {
        let raw: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(raw)
                .unwrap(),
        )
        .unwrap()
    } else {
        body.to_string()
    };
    six_digits(&text)
}

fn six_digits(text: &str) -> String {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(digits.len(), 6, "expected a 6-digit code in {text:?}");
    digits
}

/// Draw `uri` with secinfo's own QR widget (error correction L, half blocks,
/// its own light quiet zone) into a `cols`×`rows` terminal, left-aligned with
/// room for instructions beside it, as the enrollment screen does.
fn draw_qr(uri: &str, cols: u16, rows: u16) -> Buffer {
    let qr = QrCode::new(uri).unwrap();
    let mut term = Terminal::new(TestBackend::new(cols, rows)).unwrap();
    let area = Rect::new(1, 0, cols.saturating_sub(30), rows);
    assert!(
        qr.fits(area),
        "a {}-byte URI does not fit {cols}x{rows}",
        uri.len()
    );
    term.draw(|f| f.render_widget(&qr, area)).unwrap();
    term.backend().buffer().clone()
}

/// What the phone's camera reads off the screen: the URI secinfo draws, which
/// is privacyIDEA's own with the parameters apps assume by default left out,
/// so it fits 80×24. Also checks the full URI scans on a bigger terminal.
fn phone_scans(server_uri: &str) -> String {
    assert_eq!(
        scan(&draw_qr(server_uri, 120, 50)),
        vec![server_uri.to_string()],
        "privacyIDEA's URI, drawn in full, must scan back exactly"
    );
    let shown = short_otpauth(server_uri);
    let scanned = scan(&draw_qr(&shown, 80, 24));
    assert_eq!(
        scanned,
        vec![shown.clone()],
        "the 80x24 QR must scan back to what was drawn"
    );
    let pairs = |u: &str| -> Vec<(String, String)> {
        let mut p: Vec<_> = url::Url::parse(u)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        p.retain(|(k, _)| k == "secret" || k == "issuer");
        p.sort();
        p
    };
    assert_eq!(
        pairs(&scanned[0]),
        pairs(server_uri),
        "secret and issuer survive the shortening"
    );
    scanned[0].clone()
}

/// What a phone camera sees: every cell as 4x4-pixel halves, then a QR decoder.
fn scan(buf: &Buffer) -> Vec<String> {
    let area: Rect = buf.area;
    // A dark-background terminal: default colors are light text on black.
    let luma = |c: Color, fg: bool| match c {
        Color::Black | Color::Indexed(0) | Color::Indexed(16) => 0u8,
        Color::White | Color::Indexed(15) | Color::Indexed(231) => 255,
        Color::Rgb(r, g, b) => ((r as u32 * 299 + g as u32 * 587 + b as u32 * 114) / 1000) as u8,
        Color::Reset => {
            if fg {
                255
            } else {
                0
            }
        }
        _ => 128,
    };
    qr_support::decode(qr_support::raster(area.width, area.height, |cx, cy| {
        let cell = &buf[(cx, cy)];
        (
            cell.symbol().to_string(),
            luma(cell.fg, true),
            luma(cell.bg, false),
        )
    }))
}

fn code_at(totp: &totp_rs::Totp, t: u64) -> String {
    totp.generate(t).to_string()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Add an authenticator app as a person would: scan the QR, type the code.
/// Returns the method and the TOTP the phone now holds.
async fn add_authenticator_app(pi: &Pi, b: &PrivacyIdea, user: &str) -> (Method, totp_rs::Totp) {
    let enrollment = b.begin_enrollment(&MethodKind::Totp, None).await.unwrap();
    let uri = enrollment
        .qr_payload
        .as_ref()
        .expect("a QR payload")
        .expose()
        .to_string();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let totp = totp_rs::Totp::from_url(phone_scans(&uri)).unwrap();
    assert_eq!(totp.issuer(), Some("secinfo-test"));
    let in_qr = url::Url::parse(&uri)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "secret")
        .map(|(_, v)| v.into_owned());
    assert_eq!(
        enrollment.secret.as_ref().map(|s| s.expose().to_string()),
        in_qr,
        "the secret shown for 'Can't scan?' is the one in the QR"
    );
    // The verify-enrollment policy holds the token back until a code proves the phone has it.
    let early = validate(pi, &[("user", user), ("pass", &code_at(&totp, now()))]).await;
    assert!(
        !accepted(&early),
        "a token awaiting verification must not authenticate: {early}"
    );
    let wrong = b
        .verify_enrollment(&enrollment, Some(&SecretString::new("000000")))
        .await;
    if code_at(&totp, now()) != "000000" {
        assert_eq!(wrong.unwrap_err().code(), "invalid_code");
    }
    let state = b
        .verify_enrollment(&enrollment, Some(&SecretString::new(code_at(&totp, now()))))
        .await
        .unwrap();
    let EnrollmentState::Done(method) = state else {
        panic!("enrollment not done: {state:?}")
    };
    assert_eq!(method.kind, MethodKind::Totp);
    assert!(method.usable_mfa, "{method:?}");
    (method, totp)
}

#[tokio::test]
async fn user_signs_in_and_stays_signed_in_until_the_token_expires() {
    let pi = pi();
    let b = signed_in(&pi, "frank").await;
    let account = b.account().await.unwrap();
    assert_eq!(account.username, "frank");
    assert_eq!(account.display_name, "frank@default");
    assert!(b.methods().await.unwrap().is_empty());

    let creds = b.credentials();
    assert!(creds.access_token.is_some() && creds.refresh_token.is_none());
    let exp = creds.access_expires_at.unwrap();
    assert!(exp > now() as i64 + 60, "the JWT's expiry is kept: {exp}");
    assert!(!format!("{creds:?}").contains(creds.access_token.as_deref().unwrap()));

    // A later run restores the JWT and needs no password.
    let later = backend(&pi, "default");
    later.restore(creds.clone());
    assert!(later.methods().await.unwrap().is_empty());

    // A token the server no longer accepts (here: its signature is broken, as after the
    // server's key changed) also ends in "sign in again", and is dropped.
    let rejected = backend(&pi, "default");
    let mut forged = creds.clone();
    let jwt = forged.access_token.take().unwrap();
    forged.access_token = Some(format!("{}x", jwt.trim_end_matches('=')));
    rejected.restore(forged);
    assert_eq!(
        rejected.methods().await.unwrap_err(),
        BackendError::SignInRequired
    );
    assert_eq!(rejected.credentials().access_token, None);

    // After expiry secinfo asks for a sign-in instead of sending a dead token.
    let expired = backend(&pi, "default");
    let mut stale = creds.clone();
    stale.access_expires_at = Some(now() as i64 - 1);
    expired.restore(stale);
    assert_eq!(
        expired.methods().await.unwrap_err(),
        BackendError::SignInRequired
    );
    assert_eq!(expired.credentials().access_token, None);

    let info = b.server_info().await.unwrap();
    assert_eq!(
        (info.name.as_str(), info.version.as_str()),
        ("privacyIDEA", "3.14")
    );

    // What privacyIDEA has no self-service for is unavailable, with a reason, never faked.
    let caps = b.capabilities().await.unwrap();
    for (what, ability) in [
        ("sign out everywhere", &caps.sign_out_everywhere),
        ("remembered devices", &caps.remembered_devices),
        ("sessions", &caps.sessions),
        ("default method", &caps.set_default),
    ] {
        assert!(
            !ability.is_yes() && ability.reason().is_some_and(|r| r.contains("privacyIDEA")),
            "{what}: {ability:?}"
        );
    }
    assert_eq!(
        b.sign_out_everywhere().await.unwrap_err().code(),
        "not_supported"
    );
    assert_eq!(
        b.remembered_devices().await.unwrap_err().code(),
        "not_supported"
    );
    assert!(caps.can_enroll(&MethodKind::Totp) && caps.can_enroll(&MethodKind::Email));
    assert!(caps.delete_methods.is_yes() && caps.app_passwords.is_yes());
    let webauthn = caps
        .enroll
        .iter()
        .find(|(k, _)| *k == MethodKind::SecurityKey)
        .unwrap();
    assert!(
        matches!(
            &webauthn.1,
            secinfo::domain::Ability::No {
                portal_url: Some(_),
                ..
            }
        ),
        "{webauthn:?}"
    );

    b.sign_out().await.unwrap();
    assert_eq!(b.methods().await.unwrap_err(), BackendError::SignInRequired);
}

#[tokio::test]
async fn user_adds_an_authenticator_app_by_scanning_the_qr_and_it_signs_them_in() {
    let pi = pi();
    let b = signed_in(&pi, "alice").await;
    assert!(
        b.capabilities()
            .await
            .unwrap()
            .can_enroll(&MethodKind::Totp)
    );
    let (method, totp) = add_authenticator_app(&pi, &b, "alice").await;

    let listed = b.methods().await.unwrap();
    assert_eq!(listed.len(), 1);
    let notes: HashMap<_, _> = listed[0].notes.iter().cloned().collect();
    assert_eq!(notes.get("Serial"), Some(&method.id));
    assert_eq!(notes.get("Rollout").map(String::as_str), Some("enrolled"));
    assert_eq!(notes.get("State").map(String::as_str), Some("active"));

    // The code that finished enrollment is spent; the phone's next one signs in.
    let next = code_at(&totp, now() + 30);
    let reply = validate(&pi, &[("user", "alice"), ("pass", &next)]).await;
    assert!(accepted(&reply), "{reply}");
    assert_eq!(reply["detail"]["serial"], method.id.as_str());
}

#[tokio::test]
async fn user_adds_an_email_method_and_confirms_it_with_the_mailed_code() {
    let pi = pi();
    let b = signed_in(&pi, "bob").await;
    let inbox = mailbox(&pi, "bob@example.com");
    let seen = count_messages(&inbox);
    let enrollment = b
        .begin_enrollment(&MethodKind::Email, Some("bob@example.com"))
        .await
        .unwrap();
    assert_eq!(enrollment.sent_to.as_deref(), Some("b**@example.com"));
    assert!(enrollment.qr_payload.is_none(), "an email method has no QR");
    let code = code_in_mail(&next_message(&inbox, seen));

    let state = b
        .verify_enrollment(&enrollment, Some(&SecretString::new(code)))
        .await
        .unwrap();
    let EnrollmentState::Done(method) = state else {
        panic!("{state:?}")
    };
    assert_eq!(method.kind, MethodKind::Email);
    assert!(method.usable_mfa);
    assert!(
        method.detail.contains("b**@example.com"),
        "{}",
        method.detail
    );

    // It works as a sign-in factor: the PIN (empty) sends a code, the code is accepted.
    let seen = count_messages(&inbox);
    let challenge = validate(&pi, &[("user", "bob"), ("pass", "")]).await;
    assert_eq!(
        challenge["result"]["authentication"], "CHALLENGE",
        "{challenge}"
    );
    let tx = challenge["detail"]["transaction_id"]
        .as_str()
        .unwrap()
        .to_string();
    let code = code_in_mail(&next_message(&inbox, seen));
    assert!(accepted(
        &validate(
            &pi,
            &[("user", "bob"), ("transaction_id", &tx), ("pass", &code)]
        )
        .await
    ));
}

#[tokio::test]
async fn user_adds_a_phone_and_confirms_it_with_the_texted_code() {
    let pi = pi();
    let b = signed_in(&pi, "grace").await;
    let sms_dir = Path::new(&pi.get("PI_SMS_DIR")).join("+15550142");
    let seen = count_messages(&sms_dir);
    let enrollment = b
        .begin_enrollment(&MethodKind::Phone, Some("+15550142"))
        .await
        .unwrap();
    assert!(
        enrollment
            .sent_to
            .as_deref()
            .is_some_and(|s| s.ends_with("42") && !s.contains("555"))
    );
    let sms: Value = serde_json::from_str(&next_message(&sms_dir, seen)).unwrap();
    let code = six_digits(sms["params"]["text"].as_str().unwrap());
    let wrong = if code == "123456" { "654321" } else { "123456" };
    assert_eq!(
        b.verify_enrollment(&enrollment, Some(&SecretString::new(wrong)))
            .await
            .unwrap_err()
            .code(),
        "invalid_code"
    );
    let EnrollmentState::Done(method) = b
        .verify_enrollment(&enrollment, Some(&SecretString::new(code)))
        .await
        .unwrap()
    else {
        panic!("not done")
    };
    assert_eq!(method.kind, MethodKind::Phone);
    assert!(method.usable_mfa);
}

#[tokio::test]
async fn user_creates_uses_and_deletes_an_app_password() {
    let pi = pi();
    let b = signed_in(&pi, "carol").await;
    let services = b.service_ids().await.unwrap();
    assert!(
        services
            .iter()
            .any(|s| s.name == pi.get("PI_SERVICE_ID") && s.description == "IMAP mail"),
        "{services:?}"
    );
    // More than one service: secinfo asks which one rather than guessing.
    assert_eq!(
        b.create_app_password("Thunderbird", None)
            .await
            .unwrap_err()
            .code(),
        "service_required"
    );

    let (app, password) = b
        .create_app_password("Thunderbird", Some("imap"))
        .await
        .unwrap();
    assert_eq!(password.len(), 23, "privacyIDEA's generated app password");
    assert!(app.name.contains("Thunderbird"), "{app:?}");
    let listed = b.app_passwords().await.unwrap();
    assert_eq!(
        listed.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        vec![app.id.as_str()]
    );
    assert!(
        b.methods()
            .await
            .unwrap()
            .iter()
            .any(|m| m.id == app.id && m.kind == MethodKind::AppPassword && !m.usable_mfa)
    );

    let login = [
        ("user", "carol"),
        ("pass", password.expose()),
        ("service_id", "imap"),
    ];
    assert!(
        accepted(&validate(&pi, &login).await),
        "the app password signs the mail client in"
    );

    b.delete_app_password(&app.id).await.unwrap();
    assert!(b.app_passwords().await.unwrap().is_empty());
    assert!(
        !accepted(&validate(&pi, &login).await),
        "a deleted app password no longer works"
    );
}

#[tokio::test]
async fn user_renames_disables_enables_and_deletes_a_method() {
    let pi = pi();
    let b = signed_in(&pi, "dave").await;
    let (method, totp) = add_authenticator_app(&pi, &b, "dave").await;
    let find = |list: Vec<Method>| list.into_iter().find(|m| m.id == method.id).unwrap();

    b.rename_method(&method.id, "Pixel 8").await.unwrap();
    assert_eq!(find(b.methods().await.unwrap()).detail, "Pixel 8");

    b.set_method_enabled(&method.id, false).await.unwrap();
    let disabled = find(b.methods().await.unwrap());
    assert!(!disabled.usable_mfa);
    assert!(
        disabled
            .notes
            .contains(&("State".into(), "disabled".into()))
    );
    let reply = validate(
        &pi,
        &[("user", "dave"), ("pass", &code_at(&totp, now() + 30))],
    )
    .await;
    assert!(
        !accepted(&reply),
        "a disabled token must not sign in: {reply}"
    );

    b.set_method_enabled(&method.id, true).await.unwrap();
    assert!(find(b.methods().await.unwrap()).usable_mfa);
    let reply = validate(
        &pi,
        &[("user", "dave"), ("pass", &code_at(&totp, now() + 60))],
    )
    .await;
    assert!(accepted(&reply), "enabled again, it signs in: {reply}");

    // The last usable second factor goes only with its name typed.
    let refused = b.delete_method(&method.id, None).await.unwrap_err();
    assert_eq!(refused.code(), "last_method");
    assert!(refused.to_string().contains("Pixel 8"), "{refused}");
    b.delete_method(&method.id, Some("Pixel 8")).await.unwrap();
    assert!(b.methods().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_wrong_password_is_refused_plainly() {
    let pi = pi();
    let b = backend(&pi, "default");
    let err = b
        .sign_in("erin", &SecretString::new("not-the-password"))
        .await
        .unwrap_err();
    assert_eq!(err, BackendError::InvalidCredentials);
    assert!(!err.to_string().contains("not-the-password"));
    assert_eq!(b.methods().await.unwrap_err(), BackendError::SignInRequired);
}

#[tokio::test]
async fn an_administrator_account_is_turned_away() {
    let pi = pi();
    let b = PrivacyIdea::new(&pi.url(), None, None, Duration::from_secs(20)).unwrap();
    let admin_pw = SecretString::new(pi.get("PI_ADMIN_PASSWORD"));
    let err = b
        .sign_in(&pi.get("PI_ADMIN_USER"), &admin_pw)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "admin_account", "{err:?}");
    assert!(err.to_string().contains("your user account"), "{err}");
    assert_eq!(b.credentials().access_token, None, "no admin token is kept");
}

#[tokio::test]
async fn a_policy_that_forbids_enrolling_shows_the_action_disabled_and_the_server_refuses_it() {
    let pi = pi();
    let b = backend(&pi, &pi.get("PI_LOCKED_REALM"));
    b.sign_in(&pi.get("PI_LOCKED_USER"), &pi.password())
        .await
        .unwrap();
    let caps = b.capabilities().await.unwrap();
    for kind in [MethodKind::Totp, MethodKind::Email, MethodKind::Phone] {
        let (_, ability) = caps.enroll.iter().find(|(k, _)| *k == kind).unwrap();
        assert!(
            ability.reason().is_some_and(|r| r.contains("policy")),
            "{kind:?}: {ability:?}"
        );
    }
    assert!(
        caps.app_passwords
            .reason()
            .is_some_and(|r| r.contains("enrollAPPLSPEC"))
    );
    assert!(
        caps.delete_methods.is_yes(),
        "this realm's policy grants delete"
    );

    // Asking anyway: privacyIDEA refuses, and its own reason reaches the user.
    let err = b
        .begin_enrollment(&MethodKind::Totp, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "policy_denied");
    assert!(err.to_string().contains("not allowed to enroll"), "{err}");
    let err = b.service_ids().await.unwrap_err();
    assert!(err.to_string().contains("serviceid_list"), "{err}");
}

#[tokio::test]
async fn a_server_that_is_down_is_reported_as_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let b = PrivacyIdea::new(
        &format!("http://127.0.0.1:{port}"),
        None,
        None,
        Duration::from_secs(5),
    )
    .unwrap();
    let err = b
        .sign_in("alice", &SecretString::new("pw"))
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::Unreachable { .. }), "{err:?}");
    assert!(matches!(
        b.server_info().await.unwrap_err(),
        BackendError::Unreachable { .. }
    ));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_and_says_so() {
    // Accepts the connection, then says nothing: a hung server or a black-holing proxy.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            open.push(conn);
        }
    });
    let b = PrivacyIdea::new(
        &format!("http://127.0.0.1:{port}"),
        None,
        None,
        Duration::from_millis(300),
    )
    .unwrap();
    let err = b
        .sign_in("alice", &SecretString::new("pw"))
        .await
        .unwrap_err();
    assert_eq!(err, BackendError::Timeout(Duration::from_millis(300)));
    held.abort();
}

/// Something on loopback that answers every request with `status` and `body`
/// (it is not privacyIDEA), and an adapter pointed at it.
fn answering_every_request(
    status: &str,
    content_type: &str,
    body: &'static str,
) -> (PrivacyIdea, tokio::task::JoinHandle<()>) {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let port = std_listener.local_addr().unwrap().port();
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf).await;
            let _ = conn.write_all(format!("{head}{body}").as_bytes()).await;
        }
    });
    let b = PrivacyIdea::new(
        &format!("http://127.0.0.1:{port}"),
        None,
        None,
        Duration::from_secs(5),
    )
    .unwrap();
    (b, server)
}

#[tokio::test]
async fn a_server_that_is_not_ready_is_said_so_without_echoing_its_reply() {
    // A /healthz/ answer whose status is a hostile string, and more beside it.
    let (b, server) = answering_every_request(
        "200 OK",
        "application/json",
        r#"{"result":{"status":true,"value":{"status":"warming\u001b]0;TITLE\u0007","token":"eyJsecret.eyJpart"}},"versionnumber":"3.14"}"#,
    );
    let err = b.server_info().await.unwrap_err().to_string();
    assert!(
        err.contains("privacyIDEA is not ready: it says \"warming"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(!err.contains("eyJsecret"), "{err}");
    server.abort();
}

#[tokio::test]
async fn a_proxy_error_page_is_reported_not_misread() {
    // Something that is not privacyIDEA answers: an HTML 502 from a reverse proxy.
    let (b, proxy) = answering_every_request(
        "502 Bad Gateway",
        "text/html",
        "<html><body>502 Bad Gateway</body></html>",
    );
    let err = b
        .sign_in("alice", &SecretString::new("pw"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, BackendError::Server { status: 502, .. }),
        "{err:?}"
    );
    proxy.abort();
}

#[tokio::test]
async fn a_method_someone_else_deleted_gives_a_clear_error() {
    let pi = pi();
    let b = signed_in(&pi, "heidi").await;
    let (method, _) = add_authenticator_app(&pi, &b, "heidi").await;
    let gone = as_admin(
        &pi,
        reqwest::Method::DELETE,
        &format!("token/{}", method.id),
    )
    .await;
    assert_eq!(gone["result"]["value"], 1, "{gone}");

    for err in [
        b.delete_method(&method.id, Some(&method.detail))
            .await
            .unwrap_err(),
        b.set_method_enabled(&method.id, false).await.unwrap_err(),
        b.rename_method(&method.id, "old phone").await.unwrap_err(),
    ] {
        assert_eq!(err.code(), "not_found", "{err:?}");
        assert!(err.to_string().contains("no longer exists"), "{err}");
    }
    assert!(b.methods().await.unwrap().is_empty());
}

#[tokio::test]
async fn user_whose_policy_asks_for_a_second_factor_signs_in_with_the_emailed_code() {
    let pi = pi();
    let b = backend(&pi, &pi.get("PI_MFA_REALM"));
    let user = pi.get("PI_MFA_USER");
    let inbox = mailbox(&pi, "trent@example.com");

    let seen = count_messages(&inbox);
    let SignIn::SecondFactor(challenge) = b.sign_in(&user, &pi.password()).await.unwrap() else {
        panic!("the login_mode policy asks for a second factor")
    };
    assert_eq!(challenge.options.len(), 1);
    assert_eq!(challenge.options[0].kind, MethodKind::Email);
    assert!(challenge.expires_in > 0);
    let option = challenge.options[0].method_id.clone();
    b.start_factor(&challenge, &option).await.unwrap();
    let code = code_in_mail(&next_message(&inbox, seen));
    let wrong = if code == "123456" { "654321" } else { "123456" };
    let err = b
        .answer_factor(&challenge, &option, Some(&SecretString::new(wrong)), false)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_code");

    // A wrong answer ends privacyIDEA's challenge; a fresh sign-in sends a fresh code.
    let seen = count_messages(&inbox);
    let SignIn::SecondFactor(challenge) = b.sign_in(&user, &pi.password()).await.unwrap() else {
        panic!()
    };
    let code = code_in_mail(&next_message(&inbox, seen));
    let done = b
        .answer_factor(&challenge, &option, Some(&SecretString::new(code)), false)
        .await
        .unwrap();
    assert_eq!(
        done,
        SignIn::Done {
            mfa_setup_required: false
        }
    );
    assert_eq!(b.account().await.unwrap().username, user);
    assert!(b.methods().await.unwrap().iter().any(|m| m.id == option));
}

#[tokio::test]
async fn where_new_tokens_are_not_held_back_the_first_code_proves_them() {
    let pi = pi();
    let b = backend(&pi, &pi.get("PI_QUICK_REALM"));
    let user = pi.get("PI_QUICK_USER");
    b.sign_in(&user, &pi.password()).await.unwrap();
    for m in b.methods().await.unwrap() {
        b.delete_method(&m.id, Some(&m.detail)).await.unwrap();
    }

    // TOTP: enrolled at once; secinfo proves it with /validate/check before calling it done.
    let enrollment = b.begin_enrollment(&MethodKind::Totp, None).await.unwrap();
    let uri = enrollment.qr_payload.as_ref().unwrap().expose().to_string();
    let totp = totp_rs::Totp::from_url(phone_scans(&uri)).unwrap();
    let wrong = if code_at(&totp, now()) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let err = b
        .verify_enrollment(&enrollment, Some(&SecretString::new(wrong)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_code");
    let EnrollmentState::Done(method) = b
        .verify_enrollment(&enrollment, Some(&SecretString::new(code_at(&totp, now()))))
        .await
        .unwrap()
    else {
        panic!("not done")
    };
    assert!(method.usable_mfa);

    // Email: the code is sent by a challenge secinfo triggers, and answering it proves the address.
    let inbox = mailbox(&pi, "oscar@example.com");
    let seen = count_messages(&inbox);
    let enrollment = b
        .begin_enrollment(&MethodKind::Email, Some("oscar@example.com"))
        .await
        .unwrap();
    let code = code_in_mail(&next_message(&inbox, seen));
    let EnrollmentState::Done(method) = b
        .verify_enrollment(&enrollment, Some(&SecretString::new(code)))
        .await
        .unwrap()
    else {
        panic!("not done")
    };
    assert_eq!(method.kind, MethodKind::Email);

    // Cancelling an enrollment removes the half-made token.
    let seen = count_messages(&inbox);
    let abandoned = b
        .begin_enrollment(&MethodKind::Email, Some("oscar@example.com"))
        .await
        .unwrap();
    next_message(&inbox, seen);
    b.cancel_enrollment(&abandoned).await.unwrap();
    assert!(
        !b.methods()
            .await
            .unwrap()
            .iter()
            .any(|m| m.id == abandoned.id)
    );
    b.cancel_enrollment(&abandoned).await.unwrap();
}

/// The `secinfo` binary with its own config, data and state dirs under `home`.
fn secinfo_cli(home: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_secinfo"))
        .args(args)
        .env("SECINFO_CONFIG", home.join("config.toml"))
        .env("SECINFO_DATA_DIR", home.join("data"))
        .env("SECINFO_STATE_DIR", home.join("state"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("SECINFO_PROFILE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn a_cli_sign_in_lasts_as_long_as_privacyideas_token_without_asking_again() {
    let pi = pi();
    let b = signed_in(&pi, "judy").await;
    let (method, _) = add_authenticator_app(&pi, &b, "judy").await;
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[profiles.pi]\nbackend = \"privacyidea\"\nurl = \"{}\"\nrealm = \"{}\"\nsecret_store = \"passphrase\"\n",
            pi.url(),
            pi.get("PI_REALM")
        ),
    )
    .unwrap();
    std::fs::write(
        home.path().join("pp"),
        "passphrase of the test secret file\n",
    )
    .unwrap();
    let pass = format!("@{}", home.path().join("pp").display());
    let run = |args: &[&str], stdin: &str| {
        let mut all = args.to_vec();
        all.extend(["--passphrase-from", pass.as_str()]);
        secinfo_cli(home.path(), &all, stdin)
    };
    let out = run(
        &["login", "--username", "judy"],
        &format!("{}\n", pi.get("PI_PASSWORD")),
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    assert!(!err.contains(&pi.get("PI_PASSWORD")));

    // A later run, no password typed: the kept JWT is enough.
    let out = run(&["methods", "list", "--json"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(ids, vec![method.id.as_str()]);

    // Nothing to sign out of everywhere: said plainly, with the backend exit code.
    let out = run(&["signout-all"], "sign out everywhere\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("privacyIDEA has no way"));

    assert!(run(&["logout"], "").status.success());
    let out = run(&["methods", "list", "--json"], "");
    assert_eq!(
        out.status.code(),
        Some(3),
        "signed out: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Start enrolling a token the way privacyIDEA's own web UI does, as the user.
async fn start_in_web_portal(pi: &Pi, user: &str, token_type: &str) -> String {
    let client = reqwest::Client::new();
    let auth: Value = client
        .post(format!("{}/auth", pi.url()))
        .json(&serde_json::json!({"username": user, "password": pi.get("PI_PASSWORD")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwt = auth["result"]["value"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let init: Value = client
        .post(format!("{}/token/init", pi.url()))
        .header("PI-Authorization", jwt)
        .json(
            &serde_json::json!({"type": token_type, "genkey": 1, "description": "from the portal"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(init["detail"]["rollout_state"], "clientwait", "{init}");
    init["detail"]["serial"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn security_keys_and_push_tokens_from_the_web_portal_are_listed_and_can_be_deleted() {
    let pi = pi();
    let b = signed_in(&pi, "ivan").await;
    let caps = b.capabilities().await.unwrap();
    for kind in [MethodKind::SecurityKey, MethodKind::AuthenticatorPush] {
        let (_, ability) = caps.enroll.iter().find(|(k, _)| *k == kind).unwrap();
        let secinfo::domain::Ability::No { reason, portal_url } = ability else {
            panic!("{kind:?} cannot be enrolled from a terminal")
        };
        assert!(reason.contains("web portal"), "{reason}");
        assert_eq!(
            portal_url.as_deref().map(|u| u.trim_end_matches('/')),
            Some(pi.url().as_str())
        );
    }
    assert_eq!(
        b.begin_enrollment(&MethodKind::SecurityKey, None)
            .await
            .unwrap_err()
            .code(),
        "not_supported"
    );

    let key = start_in_web_portal(&pi, "ivan", "webauthn").await;
    let push = start_in_web_portal(&pi, "ivan", "push").await;
    let methods = b.methods().await.unwrap();
    for (serial, kind) in [
        (&key, MethodKind::SecurityKey),
        (&push, MethodKind::AuthenticatorPush),
    ] {
        let m = methods.iter().find(|m| &m.id == serial).unwrap();
        assert_eq!(m.kind, kind);
        assert!(
            !m.usable_mfa,
            "half-enrolled in the portal: not a second factor yet"
        );
        assert!(
            m.notes.contains(&("Rollout".into(), "clientwait".into())),
            "{:?}",
            m.notes
        );
        assert_eq!(m.detail, "from the portal");
        b.delete_method(serial, None).await.unwrap();
    }
    assert!(b.methods().await.unwrap().is_empty());
}

#[tokio::test]
async fn user_whose_policy_asks_for_a_second_factor_signs_in_with_their_authenticator_app() {
    let pi = pi();
    let b = backend(&pi, &pi.get("PI_MFA_REALM"));
    let user = pi.get("PI_MFA_TOTP_USER");
    let key = hex::decode(pi.get("PI_MFA_TOTP_KEY_HEX")).unwrap();
    let app = totp_rs::Builder::new().with_secret(key).build().unwrap();

    // privacyIDEA refuses a code from a time step it has seen (replay): if an earlier run used
    // this one, take the next, as the app would show 30 s later (inside the server's window).
    let listed = as_admin(&pi, reqwest::Method::GET, "token/?serial=PITOTPPEGGY").await;
    let last_step = listed["result"]["value"]["tokens"][0]["count"]
        .as_u64()
        .unwrap_or(0);
    let at = (now() / 30).max(last_step + 1) * 30;

    let SignIn::SecondFactor(challenge) = b.sign_in(&user, &pi.password()).await.unwrap() else {
        panic!("the password alone must not be enough here")
    };
    let option = &challenge.options[0];
    assert_eq!(option.kind, MethodKind::Totp);
    assert!(option.label.contains("otp"), "{option:?}");
    let done = b
        .answer_factor(
            &challenge,
            &option.method_id,
            Some(&SecretString::new(code_at(&app, at))),
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        done,
        SignIn::Done {
            mfa_setup_required: false
        }
    );
    assert_eq!(b.account().await.unwrap().username, user);
}

#[tokio::test]
async fn user_sees_their_sign_ins_and_token_changes_in_recent_activity_from_the_audit_log() {
    let pi = pi();
    let refused = backend(&pi, &pi.get("PI_REALM"))
        .sign_in("kim", &SecretString::new("not-the-password"))
        .await
        .unwrap_err();
    assert_eq!(refused, BackendError::InvalidCredentials);
    let b = signed_in(&pi, "kim").await;
    let (method, _) = add_authenticator_app(&pi, &b, "kim").await;
    b.delete_method(&method.id, Some(&method.detail))
        .await
        .unwrap();

    let page = b.activity(None).await.unwrap();
    let events = &page.events;
    assert!(
        events.iter().all(|e| !e.what.starts_with("GET ")),
        "reads are left out: {events:?}"
    );
    let position = |pred: &dyn Fn(&secinfo::domain::ActivityEvent) -> bool| {
        events
            .iter()
            .position(pred)
            .unwrap_or_else(|| panic!("not in the activity: {events:#?}"))
    };
    let removed = position(&|e| e.what == format!("token {} (TOTP) removed", method.id));
    let enrolled = position(&|e| e.what == format!("token {} (TOTP) enrolled", method.id));
    let signed_in = position(&|e| e.kind == ActivityKind::SignIn);
    let failed = position(&|e| e.what == "sign-in refused: Authentication failed.");
    assert!(
        removed < enrolled && enrolled < signed_in && signed_in < failed,
        "newest first: {events:#?}"
    );
    assert_eq!(events[failed].ip.as_deref(), Some("127.0.0.1"));
    assert!(events[signed_in].at.is_some());
    if let Some(next) = &page.next {
        let older = b.activity(Some(next)).await.unwrap();
        assert!(
            older.events.iter().all(|e| !events.contains(e)),
            "the older page repeats nothing"
        );
    }
}

#[tokio::test]
async fn where_policy_hides_the_audit_log_the_activity_says_so() {
    let pi = pi();
    let b = backend(&pi, &pi.get("PI_LOCKED_REALM"));
    b.sign_in(&pi.get("PI_LOCKED_USER"), &pi.password())
        .await
        .unwrap();
    let err = b.activity(None).await.unwrap_err();
    assert_eq!(err.code(), "not_supported", "{err:?}");
    assert!(err.to_string().contains("'auditlog'"), "{err}");
    let caps = b.capabilities().await.unwrap();
    assert_eq!(caps.activity.reason(), Some(err.to_string().as_str()));
}

#[tokio::test]
async fn a_long_audit_log_is_read_a_page_at_a_time_each_event_once_while_it_grows() {
    let pi = pi();
    // More refused sign-ins than one page holds: the log has a next page.
    for _ in 0..60 {
        let _ = backend(&pi, &pi.get("PI_REALM"))
            .sign_in("max", &SecretString::new("not-the-password"))
            .await;
    }
    let b = signed_in(&pi, "max").await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let page = b.activity(cursor.as_deref()).await.unwrap();
        // Each read adds to the log at the top; nothing already shown comes back.
        for e in &page.events {
            assert!(!seen.contains(e), "shown twice: {e:?}");
        }
        seen.extend(page.events);
        cursor = page.next;
        if cursor.is_none() || seen.len() > 120 {
            break;
        }
    }
    let refused = seen
        .iter()
        .filter(|e| e.kind == ActivityKind::FailedSignIn)
        .count();
    assert!(refused >= 60, "every refused sign-in is there: {refused}");
    assert!(
        seen.windows(2).all(|w| w[0].at >= w[1].at),
        "newest first across pages"
    );
}
