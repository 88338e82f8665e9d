//! `/v1/me/sessions`, `/v1/me/trusted-devices` and Sign out everywhere:
//! who is signed in where, and the "Don't ask again" grants.

use super::AppState;
use super::activity::{self, By};
use super::db::{now, rfc3339};
use super::error::{ApiError, ApiResult};
use super::me::in_tx;
use super::tokens::{self, Caller};
use crate::domain::ActivityKind;
use crate::protocol::*;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rusqlite::{OptionalExtension, params};

#[utoipa::path(get, path = "/v1/me/sessions", tag = "me", responses((status = 200, body = [SessionDto])),
    security(("bearer" = [])))]
pub async fn sessions(
    State(state): State<AppState>,
    Caller(bearer): Caller,
) -> ApiResult<Json<Vec<SessionDto>>> {
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let mut stmt = conn.prepare(
                "SELECT s.id, s.client_name, s.ip, s.created_at, s.last_active_at FROM sessions s
                 WHERE s.user_id = ?1 AND s.revoked = 0 AND (
                   EXISTS (SELECT 1 FROM access_tokens a WHERE a.session_id = s.id AND a.expires_at > ?2) OR
                   EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id AND r.used = 0 AND r.expires_at > ?2))
                 ORDER BY s.created_at, s.rowid",
            )?;
            let rows = stmt
                .query_map(params![me.user_id, now()], |r| {
                    let id: String = r.get(0)?;
                    Ok(SessionDto {
                        current: id == me.session_id,
                        id,
                        client: r.get(1)?,
                        ip: r.get(2)?,
                        signed_in_at: Some(rfc3339(r.get(3)?)),
                        last_active_at: Some(rfc3339(r.get(4)?)),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(rows))
        })
        .await
}

#[utoipa::path(delete, path = "/v1/me/sessions/{id}", tag = "me", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_session(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let owned: Option<String> = conn
                .query_row(
                    "SELECT id FROM sessions WHERE id = ?1 AND user_id = ?2 AND revoked = 0",
                    params![id, me.user_id],
                    |r| r.get(0),
                )
                .optional()?;
            owned.ok_or_else(|| ApiError::not_found("that session"))?;
            let (client, ip) = activity::Source::session(conn, &id)?;
            tokens::revoke_session(conn, &id)?;
            let what = format!("the session of {client} ({ip}) was signed out");
            activity::logged(
                conn,
                &me.user_id,
                By::Session(&me.session_id),
                ActivityKind::Sessions,
                &what,
            )?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

#[utoipa::path(get, path = "/v1/me/trusted-devices", tag = "me", responses((status = 200, body = [TrustedDeviceDto])),
    security(("bearer" = [])))]
pub async fn trusted_devices(
    State(state): State<AppState>,
    Caller(bearer): Caller,
) -> ApiResult<Json<Vec<TrustedDeviceDto>>> {
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let mut stmt = conn.prepare(
                "SELECT id, client_name, client_id, created_at, expires_at FROM remembered
                 WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at, rowid",
            )?;
            let rows = stmt
                .query_map(params![me.user_id, now()], |r| {
                    Ok(TrustedDeviceDto {
                        id: r.get(0)?,
                        client: r.get(1)?,
                        current: r.get::<_, String>(2)? == me.client_id,
                        created_at: Some(rfc3339(r.get(3)?)),
                        expires_at: Some(rfc3339(r.get(4)?)),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(rows))
        })
        .await
}

/// Revoke a "Don't ask again" grant: that client asks for the second factor again.
#[utoipa::path(delete, path = "/v1/me/trusted-devices/{id}", tag = "me", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn forget_trusted_device(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let client: String = conn
                .query_row(
                    "DELETE FROM remembered WHERE id = ?1 AND user_id = ?2 RETURNING client_name",
                    params![id, me.user_id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| ApiError::not_found("that remembered device"))?;
            activity::changed(
                conn,
                &me.user_id,
                By::Session(&me.session_id),
                ActivityKind::Sessions,
                &format!("\"Don't ask again\" was revoked for {client}"),
            )?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Revoke every session, access and refresh token, remembered device and
/// app password of the account: "everywhere" includes the old mail client.
#[utoipa::path(post, path = "/v1/me/signout-everywhere", tag = "me", responses((status = 204), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn signout_everywhere(
    State(state): State<AppState>,
    Caller(bearer): Caller,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, _| {
            in_tx(conn, |conn| {
                let me = bearer.require(conn)?;
                let u = &me.user_id;
                tokens::revoke_all_sessions(conn, u)?;
                let app_passwords = super::app_passwords::revoke_all(conn, u)?;
                activity::changed(
                    conn,
                    u,
                    By::Session(&me.session_id),
                    ActivityKind::Sessions,
                    &format!(
                        "you signed out everywhere: every session and remembered device was revoked{}",
                        super::app_passwords::revoked_note(app_passwords)
                    ),
                )?;
                Ok(StatusCode::NO_CONTENT)
            })
        })
        .await
}
