//! Adapters reading whatever a server sends: a scripted server on loopback
//! answers each request with the next (status, body) the input chose, and a
//! real adapter (native, privacyIDEA or Microsoft Graph) runs one operation against it. The
//! adapter must return `Ok` or an error, never panic; and a "malformed reply"
//! error never quotes the reply (it may hold a token: issue 11).

use super::Outcome;
use arbitrary::Unstructured;
use secinfo::backend::{Backend, BackendError, Challenge, Credentials};
use secinfo::domain::{Enrollment, FactorOption, MethodKind};
use secinfo::secrets::SecretString;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Planted in reply bodies where a token could be: no malformed-reply error may quote it.
pub const MARKER: &str = "tokMARKER7f3a9c";

/// The replies still to send: status and body, in order.
type Queue = Arc<Mutex<VecDeque<(u16, Vec<u8>)>>>;

struct Scripted {
    url: String,
    replies: Queue,
}

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

fn scripted() -> &'static Scripted {
    static S: OnceLock<Scripted> = OnceLock::new();
    S.get_or_init(|| {
        let replies: Queue = Arc::default();
        let listener = runtime()
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a loopback port");
        let url = format!("http://{}/", listener.local_addr().expect("its address"));
        let queue = replies.clone();
        runtime().spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve_connection(sock, queue.clone()));
            }
        });
        Scripted { url, replies }
    })
}

/// HTTP/1.1 keep-alive: read a request (head and Content-Length body), answer with the next reply.
async fn serve_connection(mut sock: tokio::net::TcpStream, queue: Queue) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 4096];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + len);
        let (status, body) = queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
            .unwrap_or((503, b"script ran out".to_vec()));
        // 429 and 503 come with a long Retry-After: the client must not wait for it in a fuzz run.
        let retry = if matches!(status, 429 | 503) {
            "retry-after: 3600\r\n"
        } else {
            ""
        };
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{retry}content-length: {}\r\n\r\n",
            body.len()
        );
        // One write: head and body in two would wait out a delayed ACK (40 ms) each time.
        let mut reply = head.into_bytes();
        reply.extend_from_slice(&body);
        if sock.write_all(&reply).await.is_err() {
            return;
        }
    }
}

const STATUSES: &[u16] = &[
    200, 200, 200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503, 302,
];

/// Field names the two protocols use, so built bodies reach past "missing field".
const NATIVE_KEYS: &[&str] = &[
    "status",
    "access_token",
    "refresh_token",
    "expires_in",
    "session_id",
    "remembered_grant",
    "mfa_setup_required",
    "challenge_id",
    "methods",
    "method_id",
    "kind",
    "label",
    "default_method_id",
    "remember_days",
    "number",
    "sent_to",
    "id",
    "detail",
    "is_default",
    "usable_mfa",
    "device_id",
    "created_at",
    "last_used_at",
    "state",
    "qr_payload",
    "secret",
    "activation_code",
    "server_url",
    "method",
    "name",
    "password",
    "codes",
    "remaining",
    "total",
    "error",
    "code",
    "message",
    "username",
    "display_name",
    "server",
    "version",
    "enrollable",
    "capabilities",
    "platform",
    "current",
    "client_name",
    "ip",
    "expires_at",
];
const PI_KEYS: &[&str] = &[
    "result",
    "status",
    "value",
    "error",
    "code",
    "message",
    "detail",
    "versionnumber",
    "version",
    "token",
    "tokens",
    "serial",
    "tokentype",
    "type",
    "description",
    "active",
    "revoked",
    "locked",
    "rollout_state",
    "info",
    "creation_date",
    "last_auth",
    "googleurl",
    "otpkey",
    "transaction_id",
    "multi_challenge",
    "next",
    "count",
    "current",
    "username",
    "realm",
    "role",
    "rights",
    "authentication",
    "messages",
    "attributes",
    "service_id",
    "email",
    "phone",
    "maxfail",
    "failcount",
    "tokenkind",
    "valid_until",
];
/// Microsoft Graph's and its sign-in server's field names (camelCase on Graph, snake_case on OAuth).
const GRAPH_KEYS: &[&str] = &[
    "value",
    "@odata.nextLink",
    "@odata.type",
    "@odata.context",
    "id",
    "displayName",
    "phoneNumber",
    "phoneType",
    "smsSignInState",
    "emailAddress",
    "createdDateTime",
    "lastUsedDateTime",
    "deviceTag",
    "phoneAppVersion",
    "clientAppName",
    "model",
    "manufacturer",
    "platform",
    "aaGuid",
    "attestationLevel",
    "keyStrength",
    "serialNumber",
    "device",
    "isUsable",
    "isUsableOnce",
    "methodUsabilityReason",
    "lifetimeInMinutes",
    "startDateTime",
    "userPreferredMethodForSecondaryAuthentication",
    "isSystemPreferredAuthenticationMethodEnabled",
    "userPrincipalName",
    "mail",
    "error",
    "code",
    "message",
    "innerError",
    "request-id",
    "client-request-id",
    "date",
    "access_token",
    "refresh_token",
    "expires_in",
    "token_type",
    "scope",
    "interval",
    "device_code",
    "user_code",
    "verification_uri",
    "error_description",
    "error_codes",
];
const WORDS: &[&str] = &[
    "signed_in",
    "mfa_required",
    "pending",
    "done",
    "awaiting_approval",
    "authenticator_push",
    "totp",
    "phone",
    "email",
    "app_password",
    "hotp",
    "sms",
    "applspec",
    "ready",
    "ACCEPT",
    "REJECT",
    "2026-12-07T03:00:00Z",
    "2026-12-07 03:00:00.000",
    "not-a-date",
    "",
    "..",
    "a/b",
    "#microsoft.graph.phoneAuthenticationMethod",
    "#microsoft.graph.emailAuthenticationMethod",
    "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
    "#microsoft.graph.softwareOathAuthenticationMethod",
    "#microsoft.graph.fido2AuthenticationMethod",
    "#microsoft.graph.passwordAuthenticationMethod",
    "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
    "mobile",
    "alternateMobile",
    "office",
    "push",
    "oath",
    "voiceMobile",
    "notAllowedByPolicy",
    "http://127.0.0.1:1/v1.0/me/authentication/methods?$skiptoken=x",
    "https://attacker.example/v1.0/me/authentication/methods",
    "authorization_pending",
    "slow_down",
    "expired_token",
    "\u{1b}]52;c;AAAA\u{7}",
    "\u{202e}evil",
    MARKER,
];

fn json(u: &mut Unstructured, keys: &[&str], depth: u8) -> Value {
    let pick = u.int_in_range(0..=9u8).unwrap_or(0);
    match pick {
        _ if depth == 0 && pick >= 7 => Value::Null,
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary().unwrap_or(false)),
        2 => match u.int_in_range(0..=3u8).unwrap_or(0) {
            0 => Value::from(u.arbitrary::<i64>().unwrap_or(0)),
            1 => Value::from(u.arbitrary::<u64>().unwrap_or(0)),
            2 => serde_json::Number::from_f64(u.arbitrary::<f64>().unwrap_or(0.5))
                .map_or(Value::Null, Value::Number),
            _ => Value::from(u.int_in_range(0..=700u32).unwrap_or(0)),
        },
        3 => Value::String(u.arbitrary().unwrap_or_default()),
        4..=6 => Value::String(u.choose(WORDS).map_or("", |w| w).to_string()),
        7 => {
            let n = u.int_in_range(0..=4u8).unwrap_or(0);
            Value::Array((0..n).map(|_| json(u, keys, depth - 1)).collect())
        }
        _ => {
            let n = u.int_in_range(0..=10u8).unwrap_or(0);
            let mut m = Map::new();
            for _ in 0..n {
                let k = u.choose(keys).map_or("x", |k| k).to_string();
                m.insert(k, json(u, keys, depth - 1));
            }
            Value::Object(m)
        }
    }
}

/// The replies an input scripts: up to six, each a status and a body that is
/// built JSON (mostly) or raw bytes.
fn script(u: &mut Unstructured, keys: &[&str]) -> Vec<(u16, Vec<u8>)> {
    let n = u.int_in_range(1..=6u8).unwrap_or(1);
    (0..n)
        .map(|_| {
            let status = *u.choose(STATUSES).unwrap_or(&200);
            let body = if u.ratio(1, 5).unwrap_or(false) {
                let len = u.int_in_range(0..=200usize).unwrap_or(0);
                u.bytes(len).unwrap_or_default().to_vec()
            } else {
                serde_json::to_vec(&json(u, keys, 4)).unwrap_or_default()
            };
            (status, body)
        })
        .collect()
}

/// Run `op` against the scripted server with `replies` queued; the error, if any.
fn run_against<F>(replies: Vec<(u16, Vec<u8>)>, op: F) -> Option<BackendError>
where
    F: std::future::Future<Output = Option<BackendError>>,
{
    let s = scripted();
    {
        let mut q = s.replies.lock().unwrap_or_else(|e| e.into_inner());
        q.clear();
        q.extend(replies);
    }
    runtime().block_on(op)
}

fn check(err: Option<BackendError>) -> Outcome {
    match err {
        None => Outcome::Taken,
        Some(e) => {
            let text = e.to_string();
            if let BackendError::Malformed(_) = e {
                assert!(
                    !text.contains(MARKER),
                    "a malformed-reply error quotes the reply: {text}"
                );
            }
            if matches!(
                e,
                BackendError::Malformed(_) | BackendError::Unreachable { .. }
            ) {
                Outcome::Refused
            } else {
                Outcome::Taken
            }
        }
    }
}

fn challenge(u: &mut Unstructured) -> Challenge {
    Challenge {
        id: u.arbitrary().unwrap_or_default(),
        options: vec![FactorOption {
            method_id: u.arbitrary().unwrap_or_default(),
            kind: MethodKind::Totp,
            label: "code".into(),
        }],
        default_method_id: None,
        remember_days: 0,
        expires_in: 60,
    }
}

fn enrollment(u: &mut Unstructured) -> Enrollment {
    Enrollment {
        id: u.arbitrary().unwrap_or_default(),
        kind: MethodKind::Totp,
        qr_payload: None,
        secret: None,
        manual: Vec::new(),
        sent_to: None,
        expires_in: None,
        finished: None,
    }
}

fn signed_in(jwt: &str) -> Credentials {
    Credentials {
        access_token: Some(jwt.to_string()),
        refresh_token: Some("refresh".into()),
        remembered_grant: None,
        access_expires_at: Some(4_000_000_000),
    }
}

const KINDS: &[MethodKind] = &[
    MethodKind::AuthenticatorPush,
    MethodKind::Totp,
    MethodKind::Phone,
    MethodKind::Email,
    MethodKind::AppPassword,
    MethodKind::HardwareToken,
];

/// One backend operation, chosen by the input; every read and most writes.
async fn operation(b: &dyn Backend, op: u8, u: &mut Unstructured<'_>) -> Option<BackendError> {
    let id: String = u.arbitrary().unwrap_or_default();
    let code = SecretString::new("123456");
    let r = match op % 22 {
        0 => b.server_info().await.map(drop),
        1 => b.capabilities().await.map(drop),
        2 => b.sign_in("alice", &SecretString::new("pw")).await.map(drop),
        3 => b.start_factor(&challenge(u), &id).await.map(drop),
        4 => {
            let c = challenge(u);
            b.answer_factor(&c, &id, Some(&code), false).await.map(drop)
        }
        5 => b
            .answer_factor(&challenge(u), &id, None, true)
            .await
            .map(drop),
        6 => b.step_up().await.map(drop),
        7 => b.account().await.map(drop),
        8 => b.methods().await.map(drop),
        9 => b.delete_method(&id, Some("x")).await.map(drop),
        10 => b.devices().await.map(drop),
        11 => b.sessions().await.map(drop),
        12 => b.remembered_devices().await.map(drop),
        13 => b.app_passwords().await.map(drop),
        14 => b.create_app_password("Mail", None).await.map(drop),
        15 => {
            let kind = u.choose(KINDS).cloned().unwrap_or(MethodKind::Totp);
            b.begin_enrollment(&kind, Some("+14255550123"))
                .await
                .map(drop)
        }
        16 => b
            .verify_enrollment(&enrollment(u), Some(&code))
            .await
            .map(drop),
        17 => b.verify_enrollment(&enrollment(u), None).await.map(drop),
        18 => b.recovery_codes_left().await.map(drop),
        19 => b.generate_recovery_codes().await.map(drop),
        20 => b.app_password_services().await.map(drop),
        _ => b.set_default_method(&id).await.map(drop),
    };
    r.err()
}

/// The native adapter against a scripted server.
pub fn native(data: &[u8]) -> Outcome {
    static B: OnceLock<secinfo::backend::native::NativeBackend> = OnceLock::new();
    let b = B.get_or_init(|| {
        secinfo::backend::native::NativeBackend::new(
            &scripted().url,
            "fuzz",
            "fuzz",
            Duration::from_secs(10),
        )
        .expect("a native backend")
    });
    let mut u = Unstructured::new(data);
    let op = u.arbitrary::<u8>().unwrap_or(0);
    let replies = script(&mut u, NATIVE_KEYS);
    b.restore(signed_in("access"));
    check(run_against(replies, operation(b, op, &mut u)))
}

/// The privacyIDEA adapter against a scripted server (signed in with a JWT
/// whose claims the input chose).
pub fn privacyidea(data: &[u8]) -> Outcome {
    use base64::Engine as _;
    static B: OnceLock<secinfo::backend::privacyidea::PrivacyIdea> = OnceLock::new();
    let b = B.get_or_init(|| {
        secinfo::backend::privacyidea::PrivacyIdea::new(
            &scripted().url,
            Some("default".into()),
            None,
            Duration::from_secs(10),
        )
        .expect("a privacyIDEA backend")
    });
    let mut u = Unstructured::new(data);
    let op = u.arbitrary::<u8>().unwrap_or(0);
    let claims = json(&mut u, &["username", "realm", "role", "exp", "rights"], 2);
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&claims).unwrap_or_default());
    let replies = script(&mut u, PI_KEYS);
    b.restore(signed_in(&format!("eyJhbGciOiJIUzI1NiJ9.{payload}.sig")));
    check(run_against(replies, operation(b, op, &mut u)))
}

/// The Microsoft Graph adapter (Graph and its sign-in server both at the
/// scripted server), signed in with a token, against whatever it sends.
pub fn graph(data: &[u8]) -> Outcome {
    use secinfo::backend::graph::{GraphBackend, GraphSettings};
    static B: OnceLock<GraphBackend> = OnceLock::new();
    let b = B.get_or_init(|| {
        let mut s = GraphSettings::new("contoso.onmicrosoft.com", "fuzz-client");
        s.authority = scripted().url.clone();
        s.graph_url = scripted().url.clone();
        s.timeout = Duration::from_secs(10);
        GraphBackend::new(&s).expect("a Graph backend")
    });
    let mut u = Unstructured::new(data);
    let op = u.arbitrary::<u8>().unwrap_or(0);
    let replies = script(&mut u, GRAPH_KEYS);
    b.restore(signed_in("graph-access"));
    check(run_against(replies, operation(b, op, &mut u)))
}
