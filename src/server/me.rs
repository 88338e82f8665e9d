//! `/v1/me/...`: the signed-in user's security info. Changes need a second
//! factor within `mfa_max_age` (else 403 `step_up_required`), never remove the
//! last usable second factor without an explicit typed confirmation, and
//! each one sends the account holder a notice.

use super::activity::{self, By};
use super::db::{now, opt_rfc3339, rfc3339};
use super::error::{ApiError, ApiResult, JsonBody};
use super::methods::{self, MethodRow};
use super::tokens::{Authed, Caller};
use super::{AppState, Settings};
use crate::domain::ActivityKind;
use crate::domain::MethodKind;
use crate::protocol::*;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct Confirm {
    /// The method's detail or the device's name, exactly as listed: overrides the last-method guard.
    pub confirm: Option<String>,
}

/// Run `f` in an immediate transaction, so two concurrent changes cannot both
/// pass the last-method guard.
pub(super) fn in_tx<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Connection) -> ApiResult<T>,
) -> ApiResult<T> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

pub(super) fn require_fresh_mfa(conn: &Connection, s: &Settings, me: &Authed) -> ApiResult<()> {
    if me.mfa_at.is_some_and(|t| now() - t <= s.mfa_max_age as i64) {
        return Ok(());
    }
    // With no second factor there is nothing to step up with.
    if methods::usable(conn, &me.user_id)?.is_empty() {
        return Ok(());
    }
    Err(ApiError::step_up())
}

pub(super) fn title(kind: &str) -> String {
    MethodKind::parse(kind).title()
}

fn last_method(what: &str, name: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        codes::LAST_METHOD,
        format!(
            "{what} is your last way to prove it is you; without it anyone with your password can sign in. \
             To remove it anyway, confirm with its name \"{name}\""
        ),
    )
}

#[utoipa::path(get, path = "/v1/me", tag = "me", responses((status = 200, body = crate::protocol::Me), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(
    State(state): State<AppState>,
    Caller(bearer): Caller,
) -> ApiResult<Json<crate::protocol::Me>> {
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let (username, display_name, default_method_id) = conn.query_row(
                "SELECT username, display_name, default_method_id FROM users WHERE id = ?1",
                [&me.user_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            Ok(Json(crate::protocol::Me {
                username,
                display_name,
                default_method_id,
                session_id: me.session_id,
            }))
        })
        .await
}

/// Every method, the password first (listed, never a second factor).
#[utoipa::path(get, path = "/v1/me/methods", tag = "me", responses((status = 200, body = [MethodDto]),
    (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn methods(
    State(state): State<AppState>,
    Caller(bearer): Caller,
) -> ApiResult<Json<Vec<MethodDto>>> {
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let changed: i64 = conn.query_row(
                "SELECT password_changed_at FROM users WHERE id = ?1",
                [&me.user_id],
                |r| r.get(0),
            )?;
            let default = methods::default_id(conn, &me.user_id)?;
            let mut out = vec![MethodDto {
                id: "password".into(),
                kind: "password".into(),
                detail: format!("Last updated {}", &rfc3339(changed)[..10]),
                created_at: Some(rfc3339(changed)),
                last_used_at: None,
                is_default: false,
                usable_mfa: false,
                device_id: None,
            }];
            out.extend(
                methods::list(conn, &me.user_id)?
                    .iter()
                    .map(|m| m.dto(default.as_deref())),
            );
            Ok(Json(out))
        })
        .await
}

#[utoipa::path(delete, path = "/v1/me/methods/{id}", tag = "me", params(("id" = String, Path), Confirm),
    responses((status = 200, body = DeleteResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_method(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    Path(id): Path<String>,
    Query(q): Query<Confirm>,
) -> ApiResult<Json<DeleteResult>> {
    state
        .run(move |conn, s| {
            in_tx(conn, |conn| {
                let me = bearer.require(conn)?;
                if id == "password" {
                    return Err(ApiError::bad_request(
                        "your password cannot be deleted; change it instead",
                    ));
                }
                let m = methods::get(conn, &me.user_id, &id)?
                    .ok_or_else(|| ApiError::not_found("that method"))?;
                require_fresh_mfa(conn, s, &me)?;
                if m.can_answer()
                    && methods::answering(conn, &me.user_id)?.len() == 1
                    && q.confirm.as_deref() != Some(&m.detail())
                {
                    return Err(last_method(
                        &format!("{} ({})", title(&m.kind), m.detail()),
                        &m.detail(),
                    ));
                }
                conn.execute("DELETE FROM methods WHERE id = ?1", [&m.id])?;
                let new_default = methods::repair_default(conn, &me.user_id)?;
                activity::changed(
                    conn,
                    &me.user_id,
                    By::Session(&me.session_id),
                    ActivityKind::Methods,
                    &format!(
                        "the sign-in method {} ({}) was removed",
                        title(&m.kind),
                        m.detail()
                    ),
                )?;
                Ok(Json(DeleteResult {
                    new_default_method_id: new_default,
                }))
            })
        })
        .await
}

#[utoipa::path(put, path = "/v1/me/default-method", tag = "me", request_body = DefaultMethodRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_default(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    JsonBody(req): JsonBody<DefaultMethodRequest>,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, s| {
            in_tx(conn, |conn| {
                let me = bearer.require(conn)?;
                let m = methods::get(conn, &me.user_id, &req.method_id)?
                    .filter(MethodRow::can_answer)
                    .ok_or_else(|| {
                        ApiError::bad_request("that method cannot be the default sign-in method")
                    })?;
                require_fresh_mfa(conn, s, &me)?;
                conn.execute(
                    "UPDATE users SET default_method_id = ?2 WHERE id = ?1",
                    params![me.user_id, m.id],
                )?;
                activity::changed(
                    conn,
                    &me.user_id,
                    By::Session(&me.session_id),
                    ActivityKind::Methods,
                    &format!(
                        "the default sign-in method is now {} ({})",
                        title(&m.kind),
                        m.detail()
                    ),
                )?;
                Ok(StatusCode::NO_CONTENT)
            })
        })
        .await
}

#[utoipa::path(get, path = "/v1/me/devices", tag = "me", responses((status = 200, body = [DeviceDto])),
    security(("bearer" = [])))]
pub async fn devices(
    State(state): State<AppState>,
    Caller(bearer): Caller,
) -> ApiResult<Json<Vec<DeviceDto>>> {
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let mut stmt = conn.prepare(
                "SELECT id, name, platform, added_at, last_used_at, unregistered FROM devices
                 WHERE user_id = ?1 AND enrollment_id IS NULL ORDER BY added_at, rowid",
            )?;
            let rows = stmt
                .query_map([&me.user_id], |r| {
                    Ok(DeviceDto {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        platform: r.get(2)?,
                        added_at: Some(rfc3339(r.get(3)?)),
                        last_used_at: opt_rfc3339(r.get(4)?),
                        reachable: r.get::<_, i64>(5)? == 0,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(rows))
        })
        .await
}

/// A lost, stolen or old phone: removes it and the methods that live on it.
#[utoipa::path(delete, path = "/v1/me/devices/{id}", tag = "me", params(("id" = String, Path), Confirm),
    responses((status = 200, body = DeleteResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_device(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    Path(id): Path<String>,
    Query(q): Query<Confirm>,
) -> ApiResult<Json<DeleteResult>> {
    state
        .run(move |conn, s| {
            in_tx(conn, |conn| {
                let me = bearer.require(conn)?;
                let name: String = conn
                    .query_row(
                        "SELECT name FROM devices WHERE id = ?1 AND user_id = ?2 AND enrollment_id IS NULL",
                        params![id, me.user_id],
                        |r| r.get(0),
                    )
                    .optional()?
                    .ok_or_else(|| ApiError::not_found("that device"))?;
                require_fresh_mfa(conn, s, &me)?;
                let usable = methods::answering(conn, &me.user_id)?;
                let on_device = usable
                    .iter()
                    .filter(|m| m.device_id.as_deref() == Some(id.as_str()))
                    .count();
                if on_device > 0
                    && on_device == usable.len()
                    && q.confirm.as_deref() != Some(name.as_str())
                {
                    return Err(last_method(&format!("The device {name}"), &name));
                }
                conn.execute("DELETE FROM devices WHERE id = ?1", [&id])?;
                let new_default = methods::repair_default(conn, &me.user_id)?;
                activity::changed(
                    conn,
                    &me.user_id,
                    By::Session(&me.session_id),
                    ActivityKind::Devices,
                    &format!("the device {name} and its sign-in methods were removed"),
                )?;
                Ok(Json(DeleteResult {
                    new_default_method_id: new_default,
                }))
            })
        })
        .await
}
