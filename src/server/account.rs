//! Changing what is already there: the password, and the names of methods
//! and devices.

use super::activity::{self, By};
use super::db::now;
use super::error::{ApiError, ApiResult, JsonBody};
use super::me::require_fresh_mfa;
use super::me::title;
use super::methods::{self, TOTP};
use super::tokens::{self, Caller};
use super::{AppState, app_passwords, names, password, throttle};
use crate::domain::ActivityKind;
use crate::protocol::*;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rusqlite::{OptionalExtension, params};

/// Current password, then the new one. Needs a recent second factor too;
/// afterwards every other session is signed out and every app password
/// revoked (an app password is a password: one set up by whoever knew the
/// old one must not outlive it).
#[utoipa::path(post, path = "/v1/me/password", tag = "me", request_body = ChangePasswordRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)), security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    JsonBody(req): JsonBody<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    state
        .run_hashing(move |conn, s| {
            let me = bearer.require(conn)?;
            require_fresh_mfa(conn, s, &me)?;
            let (username, phc): (String, String) = conn.query_row(
                "SELECT username, password_hash FROM users WHERE id = ?1",
                [&me.user_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let key = throttle::password_key(&username);
            throttle::reserve(conn, s, &key)?;
            if !password::verify(&req.current_password, &phc) {
                throttle::fail(conn, s, &key)?;
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    codes::INVALID_CREDENTIALS,
                    "the current password is not right",
                ));
            }
            throttle::succeed(conn, &key)?;
            let new = &req.new_password;
            if new.chars().count() < 8 {
                return Err(ApiError::bad_request(
                    "the new password needs at least 8 characters",
                ));
            }
            if *new == req.current_password || new.eq_ignore_ascii_case(&username) {
                return Err(ApiError::bad_request(
                    "choose a new password that is not your old one or your username",
                ));
            }
            let phc = password::hash(new).map_err(ApiError::from)?;
            conn.execute(
                "UPDATE users SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
                params![me.user_id, phc, now()],
            )?;
            let others: Vec<String> = conn
                .prepare("SELECT id FROM sessions WHERE user_id = ?1 AND id != ?2 AND revoked = 0")?
                .query_map(params![me.user_id, me.session_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for sid in others {
                tokens::revoke_session(conn, &sid)?;
            }
            let app_passwords = app_passwords::revoke_all(conn, &me.user_id)?;
            activity::changed(
                conn,
                &me.user_id,
                By::Session(&me.session_id),
                ActivityKind::Password,
                &format!(
                    "your password was changed and your other sessions were signed out{}",
                    app_passwords::revoked_note(app_passwords)
                ),
            )?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Rename a TOTP app, or the phone an authenticator method lives on.
/// Phone numbers and addresses are changed by adding the new one. Like
/// every change, it needs a recent second factor: a name is what the
/// last-method guard asks the user to type, and what notices show.
#[utoipa::path(patch, path = "/v1/me/methods/{id}", tag = "me", params(("id" = String, Path)),
    request_body = RenameRequest, responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rename_method(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<RenameRequest>,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, s| {
            let me = bearer.require(conn)?;
            let name = names::user_chosen(&req.name)?;
            require_fresh_mfa(conn, s, &me)?;
            let m = methods::get(conn, &me.user_id, &id)?.ok_or_else(|| ApiError::not_found("that method"))?;
            match (&m.device_id, m.kind.as_str()) {
                (Some(dev), _) => {
                    conn.execute("UPDATE devices SET name = ?2 WHERE id = ?1", params![dev, name])?;
                }
                (None, TOTP) => {
                    conn.execute("UPDATE methods SET label = ?2 WHERE id = ?1", params![m.id, name])?;
                }
                _ => {
                    return Err(ApiError::bad_request(
                        "a phone number or address cannot be renamed; add the new one, then delete the old one",
                    ));
                }
            }
            let what = format!("the {} {} was renamed to {name}", title(&m.kind), m.detail());
            activity::logged(conn, &me.user_id, By::Session(&me.session_id), ActivityKind::Methods, &what)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

#[utoipa::path(patch, path = "/v1/me/devices/{id}", tag = "me", params(("id" = String, Path)),
    request_body = RenameRequest, responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rename_device(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<RenameRequest>,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, s| {
            let me = bearer.require(conn)?;
            let name = names::user_chosen(&req.name)?;
            require_fresh_mfa(conn, s, &me)?;
            let old: Option<String> = conn
                .query_row(
                    "SELECT name FROM devices WHERE id = ?1 AND user_id = ?2 AND enrollment_id IS NULL",
                    params![id, me.user_id],
                    |r| r.get(0),
                )
                .optional()?;
            let old = old.ok_or_else(|| ApiError::not_found("that device"))?;
            conn.execute("UPDATE devices SET name = ?2 WHERE id = ?1", params![id, name])?;
            let what = format!("the device {old} was renamed to {name}");
            activity::logged(conn, &me.user_id, By::Session(&me.session_id), ActivityKind::Devices, &what)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}
