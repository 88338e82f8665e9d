//! Recent activity: each account's security events (sign-ins and failed
//! ones, lockouts, step-ups, every change to its security info), kept for
//! `RETENTION_DAYS` and read newest first, a page at a time, at
//! `GET /v1/me/activity`. A change is recorded and the holder told in one
//! call (`changed`), so the log and the notices can never disagree.

use super::db::{now, rfc3339};
use super::error::{ApiError, ApiResult};
use super::methods::MethodRow;
use super::tokens::Caller;
use super::{AppState, outbox};
use crate::domain::ActivityKind;
use crate::protocol::{ActivityDto, ActivityPageDto};
use axum::Json;
use axum::extract::{Query, State};
use rusqlite::{Connection, OptionalExtension, params};

/// How long events are kept.
pub const RETENTION_DAYS: i64 = 90;
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

/// Where an event came from: the client and address that asked.
#[derive(Clone, Copy, Default)]
pub struct Source<'a> {
    pub client: Option<&'a str>,
    pub ip: Option<&'a str>,
}

impl<'a> Source<'a> {
    pub fn client(client: &'a str, ip: &'a str) -> Self {
        Self {
            client: Some(client),
            ip: Some(ip),
        }
    }

    /// The client and address of a signed-in session.
    pub fn session(conn: &Connection, session_id: &str) -> ApiResult<(String, String)> {
        Ok(conn
            .query_row(
                "SELECT client_name, ip FROM sessions WHERE id = ?1",
                [session_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or_default())
    }
}

/// Keep one event in the account's activity.
pub fn record(
    conn: &Connection,
    user_id: &str,
    kind: ActivityKind,
    what: &str,
    from: Source<'_>,
    factor: Option<&str>,
) -> ApiResult<()> {
    let t = now();
    conn.execute(
        "INSERT INTO activity (user_id, at, kind, what, client, ip, factor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![user_id, t, kind.as_str(), what, from.client, from.ip, factor],
    )?;
    conn.execute(
        "DELETE FROM activity WHERE user_id = ?1 AND at < ?2",
        params![user_id, t - RETENTION_DAYS * 86_400],
    )?;
    Ok(())
}

/// Who made a change.
#[derive(Clone, Copy)]
pub enum By<'a> {
    /// A signed-in session (its id): its client and address are kept.
    Session(&'a str),
    Administrator,
    /// The authenticator app on the named phone.
    Phone(&'a str),
}

/// Keep an event made `by` someone, with their client and address.
pub fn logged(
    conn: &Connection,
    user_id: &str,
    by: By<'_>,
    kind: ActivityKind,
    what: &str,
) -> ApiResult<()> {
    let (client, ip) = match by {
        By::Session(sid) => Source::session(conn, sid)?,
        By::Administrator => ("an administrator".to_string(), String::new()),
        By::Phone(name) => (format!("the authenticator app on {name}"), String::new()),
    };
    let from = Source {
        client: Some(client.as_str()).filter(|c| !c.is_empty()),
        ip: Some(ip.as_str()).filter(|i| !i.is_empty()),
    };
    record(conn, user_id, kind, what, from, None)
}

/// A change to the account's security info: logged, and the holder is sent a notice.
pub fn changed(
    conn: &Connection,
    user_id: &str,
    by: By<'_>,
    kind: ActivityKind,
    what: &str,
) -> ApiResult<()> {
    logged(conn, user_id, by, kind, what)?;
    outbox::notice(conn, user_id, what)
}

/// How a sign-in or step-up was proven, as the activity shows it.
pub fn factor(m: &MethodRow) -> String {
    let (title, detail) = (super::me::title(&m.kind), m.detail());
    if detail.is_empty() || detail == title {
        title
    } else {
        format!("{title} ({detail})")
    }
}

/// A sign-in that ended in a session.
pub fn signed_in(
    conn: &Connection,
    user_id: &str,
    from: Source<'_>,
    factor: &str,
) -> ApiResult<()> {
    record(
        conn,
        user_id,
        ActivityKind::SignIn,
        "signed in",
        from,
        Some(factor),
    )
}

/// A wrong password or code for this account; and the lock it caused, if any.
pub fn failed(
    conn: &Connection,
    user_id: &str,
    from: Source<'_>,
    what: &str,
    locked_secs: Option<u64>,
) -> ApiResult<()> {
    record(conn, user_id, ActivityKind::FailedSignIn, what, from, None)?;
    if let Some(secs) = locked_secs {
        let what = format!(
            "signing in was paused for {} minute(s) after repeated failures",
            secs.div_ceil(60)
        );
        record(conn, user_id, ActivityKind::Lockout, &what, from, None)?;
    }
    Ok(())
}

/// Both taken as text and checked here, so a bad value gets the one error shape.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Events per page (1 to 200; 50 if left out).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// The `next` of the page before: events older than it.
    pub before: Option<String>,
}

#[utoipa::path(get, path = "/v1/me/activity", tag = "me", params(PageQuery),
    responses((status = 200, body = ActivityPageDto), (status = 400, body = crate::protocol::ErrorBody)),
    security(("bearer" = [])))]
pub async fn activity(
    State(state): State<AppState>,
    Caller(bearer): Caller,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<ActivityPageDto>> {
    let limit = match q.limit.as_deref() {
        None => DEFAULT_PAGE,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=MAX_PAGE).contains(l))
            .ok_or_else(|| {
                ApiError::bad_request(format!("limit must be a number from 1 to {MAX_PAGE}"))
            })?,
    };
    let before = match q.before.as_deref() {
        None => i64::MAX,
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request("before must be the `next` of an earlier page"))?,
    };
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let mut stmt = conn.prepare(
                "SELECT id, at, kind, what, client, ip, factor FROM activity
                 WHERE user_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
            )?;
            // One more than asked tells whether an older page exists.
            let mut events = stmt
                .query_map(params![me.user_id, before, limit + 1], |r| {
                    Ok(ActivityDto {
                        id: r.get::<_, i64>(0)?.to_string(),
                        at: rfc3339(r.get(1)?),
                        kind: r.get(2)?,
                        what: r.get(3)?,
                        client: r.get(4)?,
                        ip: r.get(5)?,
                        factor: r.get(6)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let next = (events.len() > limit as usize).then(|| {
                events.truncate(limit as usize);
                events.last().map(|e| e.id.clone())
            });
            Ok(Json(ActivityPageDto {
                events,
                next: next.flatten(),
            }))
        })
        .await
}
