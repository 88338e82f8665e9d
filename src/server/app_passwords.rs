//! App passwords: for legacy clients that cannot do MFA. Shown once, stored
//! as a SHA-256 hash (they are long random strings), and accepted only by
//! the basic-auth legacy endpoint, never by sign-in or the Security info API.

use super::activity::{self, By};
use super::db::{hash, new_id, now, opt_rfc3339, rfc3339};
use super::error::{ApiError, ApiResult, JsonBody};
use super::me::require_fresh_mfa;
use super::tokens::Caller;
use super::{AppState, names, throttle};
use crate::domain::ActivityKind;
use crate::protocol::*;
use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use rand::Rng;
use rusqlite::{OptionalExtension, params};
use std::net::SocketAddr;

/// 16 lowercase letters in groups of four: easy to type into an old mail client.
fn generate() -> String {
    let mut rng = rand::thread_rng();
    let letters: Vec<char> = (0..16)
        .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
        .collect();
    letters
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

fn normalize(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[utoipa::path(get, path = "/v1/me/app-passwords", tag = "me", responses((status = 200, body = [AppPasswordDto])),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Caller(bearer): Caller,
) -> ApiResult<Json<Vec<AppPasswordDto>>> {
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let rows = conn
                .prepare(
                    "SELECT id, name, created_at, last_used_at FROM app_passwords WHERE user_id = ?1
                     ORDER BY created_at, rowid",
                )?
                .query_map([&me.user_id], |r| {
                    Ok(AppPasswordDto {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        created_at: Some(rfc3339(r.get(2)?)),
                        last_used_at: opt_rfc3339(r.get(3)?),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(rows))
        })
        .await
}

#[utoipa::path(post, path = "/v1/me/app-passwords", tag = "me", request_body = AppPasswordRequest,
    responses((status = 200, body = AppPasswordCreated), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    JsonBody(req): JsonBody<AppPasswordRequest>,
) -> ApiResult<Json<AppPasswordCreated>> {
    state
        .run(move |conn, s| {
            let me = bearer.require(conn)?;
            require_fresh_mfa(conn, s, &me)?;
            let name = names::user_chosen(&req.name)
                .map_err(|_| ApiError::bad_request("give the app password a name of 1 to 60 printable characters"))?;
            let name = name.as_str();
            let password = generate();
            let (id, t) = (new_id("ap_"), now());
            conn.execute(
                "INSERT INTO app_passwords (id, user_id, name, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, me.user_id, name, hash(&normalize(&password)), t],
            )?;
            activity::changed(conn, &me.user_id, By::Session(&me.session_id), ActivityKind::AppPasswords,
                &format!("the app password \"{name}\" was created"))?;
            let app_password = AppPasswordDto { id, name: name.into(), created_at: Some(rfc3339(t)), last_used_at: None };
            Ok(Json(AppPasswordCreated { app_password, password }))
        })
        .await
}

#[utoipa::path(delete, path = "/v1/me/app-passwords/{id}", tag = "me", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let name: String = conn
                .query_row(
                    "DELETE FROM app_passwords WHERE id = ?1 AND user_id = ?2 RETURNING name",
                    params![id, me.user_id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| ApiError::not_found("that app password"))?;
            activity::changed(
                conn,
                &me.user_id,
                By::Session(&me.session_id),
                ActivityKind::AppPasswords,
                &format!("the app password \"{name}\" was deleted"),
            )?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Revoke every app password of the account (password change, sign out
/// everywhere, an administrator's reset); returns how many there were.
pub fn revoke_all(conn: &rusqlite::Connection, user_id: &str) -> ApiResult<usize> {
    Ok(conn.execute("DELETE FROM app_passwords WHERE user_id = ?1", [user_id])?)
}

/// The clause a notice adds when app passwords were revoked.
pub fn revoked_note(count: usize) -> String {
    match count {
        0 => String::new(),
        1 => "; your app password was revoked, so make a new one for that app".into(),
        n => format!("; your {n} app passwords were revoked, so make new ones for those apps"),
    }
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// What a legacy client (IMAP, an old script) would call: basic auth with an
/// app password. The account's real password is refused here.
#[utoipa::path(get, path = "/v1/legacy/ping", tag = "legacy", responses((status = 200, body = LegacyPing),
    (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)), security(("basic" = [])))]
pub async fn legacy_ping(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<LegacyPing>> {
    state.limit_ip(addr.ip())?;
    let creds = basic_auth(&headers);
    state
        .run(move |conn, s| {
            let refuse = || {
                ApiError::new(StatusCode::UNAUTHORIZED, codes::INVALID_CREDENTIALS, "use an app password for this client")
            };
            let (username, pass) = creds.ok_or_else(refuse)?;
            // Counted under the name typed, like sign-in: unknown names lock the same way.
            let key = throttle::password_key(&username);
            throttle::reserve(conn, s, &key)?;
            let found: Option<(String, String)> = conn
                .query_row(
                    "UPDATE app_passwords SET last_used_at = ?3
                     WHERE user_id = (SELECT id FROM users WHERE username = ?1) AND hash = ?2 RETURNING user_id, name",
                    params![username, hash(&normalize(&pass)), now()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((user_id, name)) = found else {
                throttle::fail(conn, s, &key)?;
                return Err(refuse());
            };
            throttle::succeed(conn, &key)?;
            let username: String = conn.query_row("SELECT username FROM users WHERE id = ?1", [&user_id], |r| r.get(0))?;
            Ok(Json(LegacyPing { username, app_password: name }))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_passwords_are_four_groups_of_four_letters_and_typing_is_forgiving() {
        let p = generate();
        assert_eq!(p.len(), 19);
        assert!(
            p.split('-')
                .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_lowercase()))
        );
        assert_eq!(
            normalize(&p.to_uppercase().replace('-', " ")),
            normalize(&p)
        );
    }
}
