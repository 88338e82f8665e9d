//! `/v1/device/...`: the authenticator app's side. Every request is signed
//! with the Ed25519 key the app registered at activation (formats in
//! `protocol.rs`); the number to match is never revealed here.

use super::activity::{self, By};
use super::db::{hash, new_id, now, rfc3339};
use super::error::{ApiError, ApiResult, JsonBody};
use super::methods::{PUSH, TOTP};
use super::{AppState, Settings, names, totp};
use crate::domain::ActivityKind;
use crate::protocol::*;
use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use rusqlite::{Connection, OptionalExtension, params};
use std::net::SocketAddr;

/// How far a device's clock may be off for a signed proof.
const PROOF_WINDOW_SECS: i64 = 300;

fn verifying_key(b64: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = STANDARD.decode(b64.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

fn bad_signature() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        codes::UNAUTHORIZED,
        "the device signature is not valid",
    )
}

fn verify(public_key: &str, message: &str, signature: &str) -> ApiResult<()> {
    let key = verifying_key(public_key)
        .ok_or_else(|| ApiError::internal("stored device key is unreadable"))?;
    let sig = STANDARD
        .decode(signature.trim())
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(bad_signature)?;
    key.verify_strict(message.as_bytes(), &sig)
        .map_err(|_| bad_signature())
}

/// A registered device and its key; a device whose app dropped the account answers 404.
fn device_key(conn: &Connection, device_id: &str) -> ApiResult<String> {
    let found: Option<(String, bool)> = conn
        .query_row(
            "SELECT public_key, unregistered FROM devices WHERE id = ?1",
            [device_id],
            |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)),
        )
        .optional()?;
    match found {
        Some((key, false)) => Ok(key),
        Some((_, true)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            "this account was removed from the app on this device; activate it again",
        )),
        None => Err(ApiError::not_found("this device")),
    }
}

/// A device request's proof, as the server reads it: `protocol::DeviceProof`
/// plus an optional `nonce`. With a nonce the signature covers
/// `"{action}:{device_id}:{timestamp}:{nonce}"` and the proof works once
/// (the nonce is remembered until the timestamp leaves the window);
/// without one it covers `"{action}:{device_id}:{timestamp}"` and can be
/// replayed within the window, so it is accepted only from devices that
/// never sent a nonce, and not at all with `--require-device-nonce`.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = DeviceProof)]
pub struct SignedProof {
    pub timestamp: i64,
    /// 16 to 64 characters of A-Z, a-z, 0-9, `-` and `_`, new for each request.
    #[serde(default)]
    pub nonce: Option<String>,
    pub signature: String,
}

fn valid_nonce(nonce: &str) -> bool {
    (16..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_proof(
    conn: &Connection,
    settings: &Settings,
    action: &str,
    device_id: &str,
    proof: &SignedProof,
) -> ApiResult<()> {
    let key = device_key(conn, device_id)?;
    // abs_diff: a timestamp near i64::MIN or MAX must not overflow (it was a 500;
    // in a release build the wrapped difference would even pass the window).
    if now().abs_diff(proof.timestamp) > PROOF_WINDOW_SECS.unsigned_abs() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHORIZED,
            "the device's clock is too far from the server's; set the time automatically",
        ));
    }
    let Some(nonce) = &proof.nonce else {
        let uses_nonces: bool = conn.query_row(
            "SELECT uses_nonces FROM devices WHERE id = ?1",
            [device_id],
            |r| Ok(r.get::<_, i64>(0)? != 0),
        )?;
        if settings.require_device_nonce || uses_nonces {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHORIZED,
                "this request must carry a nonce; update the authenticator app",
            ));
        }
        return verify(
            &key,
            &format!("{action}:{device_id}:{}", proof.timestamp),
            &proof.signature,
        );
    };
    if !valid_nonce(nonce) {
        return Err(ApiError::bad_request(
            "nonce must be 16 to 64 characters of letters, digits, - and _",
        ));
    }
    // The signature first: only the device itself can spend its nonces.
    verify(
        &key,
        &format!("{action}:{device_id}:{}:{nonce}", proof.timestamp),
        &proof.signature,
    )?;
    let fresh = conn.execute(
        "INSERT INTO device_nonces (device_id, nonce, expires_at) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        params![device_id, nonce, proof.timestamp + PROOF_WINDOW_SECS],
    )?;
    if fresh == 0 {
        tracing::warn!(device_id, "a device proof was replayed");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHORIZED,
            "this signed request was already used",
        ));
    }
    conn.execute(
        "UPDATE devices SET uses_nonces = 1 WHERE id = ?1",
        [device_id],
    )?;
    Ok(())
}

/// Register a phone with its public key and create the methods that live
/// on it: push (default if the account has none) and TOTP. Returns the
/// device id and the TOTP URI.
pub fn register(
    conn: &Connection,
    settings: &Settings,
    user_id: &str,
    name: &str,
    platform: &str,
    public_key: &str,
    enrollment_id: Option<&str>,
) -> ApiResult<(String, String)> {
    if verifying_key(public_key).is_none() {
        return Err(ApiError::bad_request(
            "public_key must be a base64 Ed25519 public key (32 bytes)",
        ));
    }
    let t = now();
    let device_id = new_id("dev_");
    conn.execute(
        "INSERT INTO devices (id, user_id, name, platform, public_key, added_at, enrollment_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            device_id,
            user_id,
            name,
            platform,
            public_key.trim(),
            t,
            enrollment_id
        ],
    )?;
    let push_id = new_id("m_");
    let secret = totp::new_secret();
    conn.execute(
        "INSERT INTO methods (id, user_id, kind, label, device_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![push_id, user_id, PUSH, name, device_id, t],
    )?;
    conn.execute(
        "INSERT INTO methods (id, user_id, kind, label, secret, device_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![new_id("m_"), user_id, TOTP, name, super::keys::for_conn(conn)?.seal(&secret)?, device_id, t],
    )?;
    if enrollment_id.is_none() {
        conn.execute(
            "UPDATE users SET default_method_id = ?2 WHERE id = ?1 AND default_method_id IS NULL",
            params![user_id, push_id],
        )?;
    }
    let username: String =
        conn.query_row("SELECT username FROM users WHERE id = ?1", [user_id], |r| {
            r.get(0)
        })?;
    let uri = totp::uri(&secret, &username, settings)
        .ok_or_else(|| ApiError::internal("cannot build TOTP URI"))?;
    Ok((device_id, uri))
}

#[utoipa::path(post, path = "/v1/device/activate", tag = "device", request_body = ActivateRequest,
    responses((status = 200, body = ActivateResponse), (status = 400, body = ErrorBody)))]
pub async fn activate(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    JsonBody(req): JsonBody<ActivateRequest>,
) -> ApiResult<Json<ActivateResponse>> {
    // An activation code is a secret too: guessing it costs the address tokens.
    state.limit_ip(addr.ip())?;
    state
        .run(move |conn, s| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let found: Option<(String, i64, bool, Option<String>)> = tx
                .query_row(
                    "SELECT user_id, expires_at, used, enrollment_id FROM activations WHERE code_hash = ?1",
                    [hash(req.activation_code.trim())],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0, r.get(3)?)),
                )
                .optional()?;
            let invalid = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_CODE, m);
            let Some((user_id, expires_at, used, enrollment)) = found else {
                return Err(invalid("that activation code is not valid"));
            };
            if used {
                return Err(invalid(
                    "that activation code was already used; ask for a new one",
                ));
            }
            if expires_at <= now() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    codes::CHALLENGE_EXPIRED,
                    "that activation code has expired; ask for a new one",
                ));
            }
            tx.execute(
                "UPDATE activations SET used = 1 WHERE code_hash = ?1",
                [hash(req.activation_code.trim())],
            )?;
            let name = names::clean(&req.name, "Phone");
            let platform = names::clean(&req.platform, "Unknown");
            let (device_id, uri) = register(
                &tx,
                s,
                &user_id,
                &name,
                &platform,
                &req.public_key,
                enrollment.as_deref(),
            )?;
            match &enrollment {
                // Part of "Add sign-in method": saved once its test push is approved.
                Some(e) => super::enroll::phone_activated(&tx, s, e, &device_id)?,
                None => activity::changed(
                    &tx,
                    &user_id,
                    By::Phone(&name),
                    ActivityKind::Devices,
                    &format!("the authenticator app on {name} was added"),
                )?,
            }
            let username: String = tx.query_row(
                "SELECT username FROM users WHERE id = ?1",
                [&user_id],
                |r| r.get(0),
            )?;
            tx.commit()?;
            Ok(Json(ActivateResponse {
                device_id,
                username,
                totp_uri: Some(uri),
            }))
        })
        .await
}

/// Sign-ins waiting for this device's approval, with what the server itself
/// saw about each (address, time, a client type from a fixed list), never
/// the name the signing-in client chose for itself.
#[utoipa::path(post, path = "/v1/device/{device_id}/pending", tag = "device", request_body = SignedProof,
    params(("device_id" = String, Path)), responses((status = 200, body = [PendingPush]), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn pending(
    State(state): State<AppState>,
    Path(device_id): Path<String>,
    JsonBody(proof): JsonBody<SignedProof>,
) -> ApiResult<Json<Vec<PendingPush>>> {
    state
        .run(move |conn, s| {
            check_proof(conn, s, "pending", &device_id, &proof)?;
            let mut stmt = conn.prepare(
                "SELECT p.id, u.username, c.client_type, c.ip, p.created_at FROM pushes p
                 JOIN challenges c ON c.id = p.challenge_id JOIN users u ON u.id = c.user_id
                 WHERE p.device_id = ?1 AND p.state = 'pending' AND p.expires_at > ?2 AND c.done = 0
                 ORDER BY p.created_at, p.rowid",
            )?;
            let rows = stmt
                .query_map(params![device_id, now()], |r| {
                    Ok(PendingPush {
                        push_id: r.get(0)?,
                        username: r.get(1)?,
                        client: r.get(2)?,
                        ip: r.get(3)?,
                        created_at: rfc3339(r.get(4)?),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(rows))
        })
        .await
}

fn answer(
    conn: &Connection,
    device_id: &str,
    push_id: &str,
    approve: bool,
    ans: &PushAnswer,
) -> ApiResult<StatusCode> {
    let key = device_key(conn, device_id)?;
    let found: Option<(u32, String, i64)> = conn
        .query_row(
            "SELECT number, state, expires_at FROM pushes WHERE id = ?1 AND device_id = ?2",
            params![push_id, device_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (number, state, expires_at) =
        found.ok_or_else(|| ApiError::not_found("that sign-in request"))?;
    let action = if approve { "approve" } else { "deny" };
    let typed = ans.number.map(|n| n.to_string()).unwrap_or_default();
    verify(&key, &format!("{action}:{push_id}:{typed}"), &ans.signature)?;
    if state != "pending" || expires_at <= now() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::CHALLENGE_EXPIRED,
            "this sign-in request is no longer waiting: it expired or was already answered",
        ));
    }
    let new_state = match (approve, ans.number) {
        (false, _) => "denied",
        (true, None) => {
            return Err(ApiError::bad_request(
                "enter the number shown on the sign-in screen",
            ));
        }
        (true, Some(n)) if n != number => "wrong_number",
        (true, Some(_)) => "approved",
    };
    let changed = conn.execute(
        "UPDATE pushes SET state = ?2 WHERE id = ?1 AND state = 'pending'",
        params![push_id, new_state],
    )?;
    if changed == 0 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::CHALLENGE_EXPIRED,
            "this sign-in request was already answered",
        ));
    }
    conn.execute(
        "UPDATE devices SET last_used_at = ?2 WHERE id = ?1",
        params![device_id, now()],
    )?;
    if new_state == "wrong_number" {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::WRONG_NUMBER,
            "that number does not match the one on the sign-in screen, so the sign-in was blocked",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Approve with the number shown on the signing-in screen. A wrong number fails the push.
#[utoipa::path(post, path = "/v1/device/{device_id}/pushes/{push_id}/approve", tag = "device", request_body = PushAnswer,
    params(("device_id" = String, Path), ("push_id" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    Path((device_id, push_id)): Path<(String, String)>,
    JsonBody(ans): JsonBody<PushAnswer>,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, _| answer(conn, &device_id, &push_id, true, &ans))
        .await
}

#[utoipa::path(post, path = "/v1/device/{device_id}/pushes/{push_id}/deny", tag = "device", request_body = PushAnswer,
    params(("device_id" = String, Path), ("push_id" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn deny(
    State(state): State<AppState>,
    Path((device_id, push_id)): Path<(String, String)>,
    JsonBody(ans): JsonBody<PushAnswer>,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, _| answer(conn, &device_id, &push_id, false, &ans))
        .await
}

/// The app's "Remove account": pushes to this device fail at once; its
/// methods stay listed until the user deletes them on Security info.
#[utoipa::path(post, path = "/v1/device/{device_id}/unregister", tag = "device", request_body = SignedProof,
    params(("device_id" = String, Path)), responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn unregister(
    State(state): State<AppState>,
    Path(device_id): Path<String>,
    JsonBody(proof): JsonBody<SignedProof>,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, s| {
            check_proof(conn, s, "unregister", &device_id, &proof)?;
            let user_id: String = conn.query_row(
                "UPDATE devices SET unregistered = 1 WHERE id = ?1 RETURNING user_id",
                [&device_id],
                |r| r.get(0),
            )?;
            // Its methods can no longer answer: the default moves to one that can.
            super::methods::repair_default(conn, &user_id)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}
