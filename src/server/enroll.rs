//! `/v1/me/enrollments`: "Add sign-in method". TOTP is saved once a code
//! from the app verifies; a phone or email once the code sent there comes
//! back; the authenticator app once the phone activated *and* approved a
//! test notification with number matching. Until then nothing shows on
//! Security info, and cancelling or expiring leaves nothing behind.

use super::activity::{self, By};
use super::db::{hash, new_id, now};
use super::error::{ApiError, ApiResult, JsonBody};
use super::me::{require_fresh_mfa, title};
use super::methods::{self, ALT_PHONE, EMAIL, PHONE, PUSH, TOTP};
use super::tokens::{self, Caller};
use super::{AppState, Settings, admin, keys, names, outbox, totp};
use crate::domain::ActivityKind;
use crate::domain::{mask_email, mask_phone};
use crate::protocol::*;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rand::Rng;
use rusqlite::{Connection, OptionalExtension, params};
use subtle::ConstantTimeEq;

struct Row {
    id: String,
    user_id: String,
    session_id: Option<String>,
    kind: String,
    label: String,
    secret: Option<String>,
    code_hash: Option<String>,
    device_id: Option<String>,
    challenge_id: Option<String>,
    method_id: Option<String>,
    expires_at: i64,
    replaces: Option<String>,
}

fn load(conn: &Connection, user_id: &str, id: &str) -> ApiResult<Row> {
    conn.query_row(
        "SELECT id, user_id, session_id, kind, label, secret, code_hash, device_id, challenge_id, method_id, expires_at, replaces
         FROM enrollments WHERE id = ?1 AND user_id = ?2",
        params![id, user_id],
        |r| {
            Ok(Row {
                id: r.get(0)?,
                user_id: r.get(1)?,
                session_id: r.get(2)?,
                kind: r.get(3)?,
                label: r.get(4)?,
                secret: r.get(5)?,
                code_hash: r.get(6)?,
                device_id: r.get(7)?,
                challenge_id: r.get(8)?,
                method_id: r.get(9)?,
                expires_at: r.get(10)?,
                replaces: r.get(11)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found("that enrollment"))
}

fn dto(row: &Row, state: &str) -> EnrollmentDto {
    EnrollmentDto {
        id: row.id.clone(),
        kind: row.kind.clone(),
        state: state.into(),
        expires_in: (row.expires_at - now()).max(0) as u64,
        qr_payload: None,
        secret: None,
        activation_code: None,
        server_url: None,
        sent_to: None,
        number: None,
        method: None,
    }
}

/// E.164 only (a leading +): the rule every client checks too, in `crate::validate`.
fn normalize_phone(raw: &str) -> Option<String> {
    crate::validate::phone(raw, None).ok()
}

fn valid_email(raw: &str) -> bool {
    // The one address rule, and nothing a terminal would act on.
    crate::validate::email(raw).is_ok() && !names::has_unwanted(raw)
}

fn new_code() -> String {
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
}

#[utoipa::path(post, path = "/v1/me/enrollments", tag = "enroll", request_body = EnrollmentRequest,
    responses((status = 200, body = EnrollmentDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn begin(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    JsonBody(req): JsonBody<EnrollmentRequest>,
) -> ApiResult<Json<EnrollmentDto>> {
    let base_url = state.public_url().to_string();
    state
        .run(move |conn, s| {
            let me = bearer.require(conn)?;
            require_fresh_mfa(conn, s, &me)?;
            if let Some(old) = &req.replaces {
                let m = methods::get(conn, &me.user_id, old)?.ok_or_else(|| ApiError::not_found("the method to change"))?;
                if m.kind != req.kind || methods::code_channel(&m.kind).is_none() {
                    return Err(ApiError::bad_request("only a phone number or an address can be changed this way, to one of the same kind"));
                }
            }
            let t = now();
            let id = new_id("enr_");
            let target = req.target.as_deref().unwrap_or("").trim().to_string();
            let name = req.name.as_deref().unwrap_or("");
            let (label, secret, code) = match req.kind.as_str() {
                TOTP => (names::clean(name, "Authenticator app"), Some(totp::new_secret()), None),
                PUSH => (names::clean(name, "Phone"), None, None),
                PHONE | ALT_PHONE => {
                    let number = normalize_phone(&target).ok_or_else(|| {
                        ApiError::bad_request("enter the phone number in international format, e.g. +1 425 555 0123")
                    })?;
                    (number, None, Some(new_code()))
                }
                EMAIL => {
                    if !valid_email(&target) {
                        return Err(ApiError::bad_request("enter an email address such as name@example.com"));
                    }
                    (target.clone(), None, Some(new_code()))
                }
                other => {
                    return Err(ApiError::bad_request(format!(
                        "{} cannot be added on this server",
                        title(other)
                    )));
                }
            };
            conn.execute(
                "INSERT INTO enrollments (id, user_id, session_id, kind, label, secret, code_hash, created_at, expires_at, replaces)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![id, me.user_id, me.session_id, req.kind, label,
                    secret.as_deref().map(|p| keys::for_conn(conn)?.seal(p)).transpose()?,
                    code.as_ref().map(|c| hash(&format!("{id}:{c}"))), t, t + s.enrollment_ttl as i64, req.replaces],
            )?;
            let row = load(conn, &me.user_id, &id)?;
            let mut out = dto(&row, "pending");
            match req.kind.as_str() {
                TOTP => {
                    let username: String =
                        conn.query_row("SELECT username FROM users WHERE id = ?1", [&me.user_id], |r| r.get(0))?;
                    // Shown once, now; the database keeps it sealed.
                    let secret = secret.clone().unwrap_or_default();
                    out.qr_payload = totp::uri(&secret, &username, s);
                    out.secret = Some(secret);
                }
                PUSH => {
                    let code = admin::create_activation(conn, &me.user_id, s.enrollment_ttl, Some(&id))
                        .map_err(ApiError::from)?;
                    out.qr_payload = Some(admin::activation_payload(&code, &base_url));
                    out.activation_code = Some(code);
                    out.server_url = Some(base_url);
                }
                kind => {
                    let code = code.unwrap_or_default();
                    let body = format!(
                        "Your {} verification code is {code}. Enter it to add this {} to your account.",
                        s.totp_issuer,
                        if kind == EMAIL { "address" } else { "phone" }
                    );
                    let channel = methods::code_channel(kind).unwrap_or("sms");
                    outbox::write(conn, channel, &label, &body)?;
                    out.sent_to = Some(if kind == EMAIL { mask_email(&label) } else { mask_phone(&label) });
                }
            }
            Ok(Json(out))
        })
        .await
}

#[utoipa::path(get, path = "/v1/me/enrollments/{id}", tag = "enroll", params(("id" = String, Path)),
    responses((status = 200, body = EnrollmentDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn status(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EnrollmentDto>> {
    state
        .run(move |conn, s| advance(conn, s, &bearer, &id, None).map(Json))
        .await
}

/// Check a code (TOTP, phone, email), or poll the authenticator app's progress with `code: null`.
#[utoipa::path(post, path = "/v1/me/enrollments/{id}/verify", tag = "enroll", params(("id" = String, Path)),
    request_body = EnrollmentVerifyRequest,
    responses((status = 200, body = EnrollmentDto), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn verify(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<EnrollmentVerifyRequest>,
) -> ApiResult<Json<EnrollmentDto>> {
    state
        .run(move |conn, s| advance(conn, s, &bearer, &id, Some(req.code)).map(Json))
        .await
}

/// Cancel: removes a half-activated phone too. A saved method stays.
#[utoipa::path(delete, path = "/v1/me/enrollments/{id}", tag = "enroll", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let row = load(conn, &me.user_id, &id)?;
            discard(conn, &row)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

fn discard(conn: &Connection, row: &Row) -> ApiResult<()> {
    if row.method_id.is_none() {
        conn.execute("DELETE FROM devices WHERE enrollment_id = ?1", [&row.id])?;
        conn.execute(
            "DELETE FROM activations WHERE enrollment_id = ?1",
            [&row.id],
        )?;
        if let Some(ch) = &row.challenge_id {
            conn.execute("DELETE FROM challenges WHERE id = ?1", [ch])?;
        }
    }
    conn.execute("DELETE FROM enrollments WHERE id = ?1", [&row.id])?;
    Ok(())
}

/// `code`: None for a status read, Some(None) to poll, Some(Some(c)) to verify a code.
fn advance(
    conn: &Connection,
    s: &Settings,
    bearer: &tokens::Bearer,
    id: &str,
    code: Option<Option<String>>,
) -> ApiResult<EnrollmentDto> {
    let me = bearer.require(conn)?;
    let row = load(conn, &me.user_id, id)?;
    if let Some(method_id) = &row.method_id {
        let mut out = dto(&row, "done");
        let default = methods::default_id(conn, &row.user_id)?;
        out.method =
            methods::get(conn, &row.user_id, method_id)?.map(|m| m.dto(default.as_deref()));
        return Ok(out);
    }
    if row.expires_at <= now() {
        discard(conn, &row)?;
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::CHALLENGE_EXPIRED,
            "adding this method took too long and it expired; start again",
        ));
    }
    if row.kind == PUSH {
        return push_progress(conn, s, &row);
    }
    let Some(Some(code)) = code else {
        return Ok(dto(&row, "pending"));
    };
    let code = code.trim();
    if code.is_empty() {
        return Err(ApiError::bad_request("enter the code"));
    }
    // A fresh code is only ever a few guesses away from the right one:
    // past the cap the enrollment is dropped and must start over.
    let taken = conn.execute(
        "UPDATE enrollments SET guesses = guesses + 1 WHERE id = ?1 AND guesses < ?2",
        params![row.id, s.max_failed_attempts.max(1)],
    )?;
    if taken == 0 {
        discard(conn, &row)?;
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::CHALLENGE_EXPIRED,
            "too many wrong codes were entered, so adding this method was stopped; start again",
        ));
    }
    let step = match row.kind.as_str() {
        TOTP => {
            let sealed = row
                .secret
                .as_deref()
                .ok_or_else(|| ApiError::internal("TOTP enrollment without a secret"))?;
            totp::matching_step(&keys::for_conn(conn)?.open(sealed)?, code, s)
        }
        // Constant time: how much of a guess matched must not show in the timing.
        _ => row
            .code_hash
            .as_deref()
            .is_some_and(|want| {
                bool::from(
                    want.as_bytes()
                        .ct_eq(hash(&format!("{}:{code}", row.id)).as_bytes()),
                )
            })
            .then_some(0),
    };
    let Some(step) = step else {
        let hint = if row.kind == TOTP {
            "; check that the time on the phone is right"
        } else {
            ""
        };
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_CODE,
            format!("that code is not right{hint}; try again"),
        ));
    };
    let method_id = new_id("m_");
    conn.execute(
        "INSERT INTO methods (id, user_id, kind, label, secret, created_at, last_totp_step) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![method_id, row.user_id, row.kind, row.label, row.secret, now(), step],
    )?;
    save(conn, &row, &method_id)
}

/// The method exists now: pick a default if there was none, tell the holder, report done.
fn save(conn: &Connection, row: &Row, method_id: &str) -> ApiResult<EnrollmentDto> {
    let replaced = match &row.replaces {
        Some(old) => methods::get(conn, &row.user_id, old)?,
        None => None,
    };
    if let Some(old) = &replaced {
        let was_default =
            methods::default_id(conn, &row.user_id)?.as_deref() == Some(old.id.as_str());
        conn.execute("DELETE FROM methods WHERE id = ?1", [&old.id])?;
        if was_default {
            conn.execute(
                "UPDATE users SET default_method_id = ?2 WHERE id = ?1",
                params![row.user_id, method_id],
            )?;
        }
    }
    methods::repair_default(conn, &row.user_id)?;
    conn.execute(
        "UPDATE enrollments SET method_id = ?2, secret = NULL, code_hash = NULL WHERE id = ?1",
        params![row.id, method_id],
    )?;
    let m = methods::get(conn, &row.user_id, method_id)?
        .ok_or_else(|| ApiError::internal("saved method vanished"))?;
    let by = row
        .session_id
        .as_deref()
        .map_or(By::Administrator, By::Session);
    activity::changed(
        conn,
        &row.user_id,
        by,
        ActivityKind::Methods,
        &match &replaced {
            Some(old) => format!(
                "the {} {} was changed to {}",
                title(&m.kind),
                old.detail(),
                m.detail()
            ),
            None => format!(
                "the sign-in method {} ({}) was added",
                title(&m.kind),
                m.detail()
            ),
        },
    )?;
    let mut out = dto(row, "done");
    let default = methods::default_id(conn, &row.user_id)?;
    out.method = Some(m.dto(default.as_deref()));
    Ok(out)
}

/// The phone just activated with this enrollment's code: send it a test push.
pub fn phone_activated(
    conn: &Connection,
    s: &Settings,
    enrollment_id: &str,
    device_id: &str,
) -> ApiResult<()> {
    conn.execute(
        "UPDATE enrollments SET device_id = ?2 WHERE id = ?1",
        params![enrollment_id, device_id],
    )?;
    let user_id: String = conn.query_row(
        "SELECT user_id FROM enrollments WHERE id = ?1",
        [enrollment_id],
        |r| r.get(0),
    )?;
    let row = load(conn, &user_id, enrollment_id)?;
    send_test_push(conn, s, &row).map(drop)
}

fn send_test_push(conn: &Connection, s: &Settings, row: &Row) -> ApiResult<u32> {
    let device = row
        .device_id
        .as_deref()
        .ok_or_else(|| ApiError::internal("no device to notify"))?;
    let t = now();
    let challenge = match &row.challenge_id {
        Some(c) => c.clone(),
        None => {
            let (client_id, client_name, ip): (String, String, String) = row
                .session_id
                .as_ref()
                .and_then(|sid| {
                    conn.query_row(
                        "SELECT client_id, client_name, ip FROM sessions WHERE id = ?1",
                        [sid],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .ok()
                })
                .unwrap_or_else(|| ("enrollment".into(), "Security info".into(), String::new()));
            let id = new_id("ch_");
            // Bound to the enrolling session, so no one else can answer it as a sign-in.
            conn.execute(
                "INSERT INTO challenges (id, user_id, session_id, client_id, client_name, ip, created_at, expires_at, epoch, client_type)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, (SELECT epoch FROM users WHERE id = ?2), ?9)",
                params![id, row.user_id, row.session_id, client_id, client_name, ip, t, row.expires_at, super::mfa::ENROLLING],
            )?;
            conn.execute(
                "UPDATE enrollments SET challenge_id = ?2 WHERE id = ?1",
                params![row.id, id],
            )?;
            id
        }
    };
    let method: String = conn.query_row(
        "SELECT id FROM methods WHERE device_id = ?1 AND kind = ?2",
        params![device, PUSH],
        |r| r.get(0),
    )?;
    conn.execute(
        "UPDATE pushes SET state = 'cancelled' WHERE challenge_id = ?1 AND state = 'pending'",
        [&challenge],
    )?;
    let number: u32 = rand::thread_rng().gen_range(10..=99);
    conn.execute(
        "INSERT INTO pushes (id, challenge_id, method_id, device_id, number, state, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
        params![new_id("push_"), challenge, method, device, number, t, t + s.push_ttl as i64],
    )?;
    Ok(number)
}

fn push_progress(conn: &Connection, s: &Settings, row: &Row) -> ApiResult<EnrollmentDto> {
    let Some(device) = &row.device_id else {
        return Ok(dto(row, "pending"));
    };
    let latest: Option<(String, String, u32, i64)> = match &row.challenge_id {
        Some(ch) => conn
            .query_row(
                "SELECT id, state, number, expires_at FROM pushes WHERE challenge_id = ?1
                 ORDER BY created_at DESC, rowid DESC LIMIT 1",
                [ch],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?,
        None => None,
    };
    let awaiting = |number| {
        let mut out = dto(row, "awaiting_approval");
        out.number = Some(number);
        out
    };
    let Some((push_id, state, number, expires_at)) = latest else {
        // Activated, but no test notification yet (or it was withdrawn): send one.
        return Ok(awaiting(send_test_push(conn, s, row)?));
    };
    let failed = |code, message: &str| -> ApiResult<EnrollmentDto> {
        // Reported once; the next poll sends a fresh notification (Retry).
        conn.execute(
            "UPDATE pushes SET state = 'cancelled' WHERE id = ?1",
            [&push_id],
        )?;
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            code,
            format!("{message}; try again to send another"),
        ))
    };
    match state.as_str() {
        "approved" => {
            conn.execute(
                "UPDATE devices SET enrollment_id = NULL WHERE id = ?1",
                [device],
            )?;
            let method: String = conn.query_row(
                "SELECT id FROM methods WHERE device_id = ?1 AND kind = ?2",
                params![device, PUSH],
                |r| r.get(0),
            )?;
            save(conn, row, &method)
        }
        "pending" if expires_at > now() => Ok(awaiting(number)),
        "pending" => failed(
            codes::CHALLENGE_EXPIRED,
            "the test notification expired without an answer",
        ),
        "denied" => failed(
            codes::PUSH_DENIED,
            "the test notification was denied on the phone",
        ),
        "wrong_number" => failed(
            codes::WRONG_NUMBER,
            "the number entered on the phone did not match",
        ),
        _ => Ok(awaiting(send_test_push(conn, s, row)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_must_be_international() {
        assert_eq!(
            normalize_phone("+1 425 555 0123").as_deref(),
            Some("+14255550123")
        );
        assert_eq!(
            normalize_phone("+44 (20) 7946-0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(normalize_phone("425 555 0123"), None);
        assert_eq!(normalize_phone("+1 425 555 O123"), None);
        assert_eq!(normalize_phone("+123"), None);
    }

    #[test]
    fn email_addresses_are_checked_for_shape() {
        assert!(valid_email("name@example.com"));
        assert!(!valid_email("name@example"));
        assert!(!valid_email("name example@x.com"));
        assert!(!valid_email("@x.com"));
        assert!(!valid_email("a@b@c.com"));
    }
}
