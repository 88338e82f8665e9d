//! Sessions, their tokens and the bearer extractor.
//! Tokens are opaque random strings stored only as SHA-256 hashes, so
//! revoking one in the database takes effect on the very next request.

use super::AppState;
use super::Settings;
use super::db::{hash, new_id, new_secret, now};
use super::error::{ApiError, ApiResult};
use crate::protocol::Tokens;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use rusqlite::{Connection, OptionalExtension, params};

/// The caller of a `/v1/me/...` endpoint, from its bearer token.
#[derive(Debug, Clone)]
pub struct Authed {
    pub user_id: String,
    pub session_id: String,
    pub client_id: String,
    /// When this session last proved a second factor.
    pub mfa_at: Option<i64>,
}

/// The raw bearer token of a request, if any (checked in the blocking task).
pub struct Bearer(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_string());
        Ok(Bearer(token))
    }
}

impl Bearer {
    /// Resolve the token to its live session, or 401.
    pub fn require(&self, conn: &Connection) -> ApiResult<Authed> {
        let token = self.0.as_deref().ok_or_else(ApiError::unauthorized)?;
        authenticate(conn, token)
    }
    /// Resolve when a token is present; a present but dead token is still 401.
    pub fn optional(&self, conn: &Connection) -> ApiResult<Option<Authed>> {
        match &self.0 {
            Some(token) => authenticate(conn, token).map(Some),
            None => Ok(None),
        }
    }
}

/// A request handler that needs a signed-in caller.
pub struct Caller(pub Bearer);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let bearer = Bearer::from_request_parts(parts, state).await?;
        if bearer.0.is_none() {
            return Err(ApiError::unauthorized());
        }
        Ok(Caller(bearer))
    }
}

fn authenticate(conn: &Connection, token: &str) -> ApiResult<Authed> {
    let t = now();
    let (found, last_active) = conn
        .prepare_cached(
            "SELECT s.user_id, s.id, s.client_id, s.mfa_at, s.last_active_at FROM access_tokens a
             JOIN sessions s ON s.id = a.session_id JOIN users u ON u.id = s.user_id
             WHERE a.hash = ?1 AND a.expires_at > ?2 AND s.revoked = 0 AND s.epoch = u.epoch",
        )?
        .query_row(params![hash(token), t], |r| {
            Ok((
                Authed {
                    user_id: r.get(0)?,
                    session_id: r.get(1)?,
                    client_id: r.get(2)?,
                    mfa_at: r.get(3)?,
                },
                r.get::<_, i64>(4)?,
            ))
        })
        .optional()?
        .ok_or_else(ApiError::unauthorized)?;
    // "Last active" is shown to the minute. Writing it on every request would
    // make each read take SQLite's one write lock, and reads queue behind it.
    if t - last_active >= LAST_ACTIVE_GRAIN_SECS {
        conn.prepare_cached("UPDATE sessions SET last_active_at = ?1 WHERE id = ?2")?
            .execute(params![t, found.session_id])?;
    }
    Ok(found)
}

/// How stale a session's "last active" may get before a request updates it.
const LAST_ACTIVE_GRAIN_SECS: i64 = 60;

pub struct NewSession<'a> {
    pub user_id: &'a str,
    pub client_id: &'a str,
    pub client_name: &'a str,
    pub ip: &'a str,
    pub mfa_at: Option<i64>,
    /// The account's epoch when the password was checked.
    pub epoch: i64,
    /// How the sign-in was proven, for the account's activity.
    pub factor: &'a str,
}

pub fn create_session(conn: &Connection, s: NewSession<'_>) -> ApiResult<String> {
    let id = new_id("ses_");
    let t = now();
    conn.execute(
        "INSERT INTO sessions (id, user_id, client_id, client_name, ip, created_at, last_active_at, mfa_at, epoch)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)",
        params![id, s.user_id, s.client_id, s.client_name, s.ip, t, s.mfa_at, s.epoch],
    )?;
    let from = super::activity::Source::client(s.client_name, s.ip);
    super::activity::signed_in(conn, s.user_id, from, s.factor)?;
    Ok(id)
}

/// Issue a new access and refresh token pair for a session.
pub fn issue(conn: &Connection, settings: &Settings, session_id: &str) -> ApiResult<Tokens> {
    let access = new_secret("sat_");
    let refresh = new_secret("srt_");
    let t = now();
    conn.execute(
        "INSERT INTO access_tokens (hash, session_id, expires_at) VALUES (?1, ?2, ?3)",
        params![
            hash(&access),
            session_id,
            t + settings.access_token_ttl as i64
        ],
    )?;
    conn.execute(
        "INSERT INTO refresh_tokens (hash, session_id, expires_at) VALUES (?1, ?2, ?3)",
        params![
            hash(&refresh),
            session_id,
            t + settings.refresh_token_ttl as i64
        ],
    )?;
    Ok(Tokens {
        access_token: access,
        refresh_token: refresh,
        expires_in: settings.access_token_ttl,
        session_id: session_id.to_string(),
        remembered_grant: None,
        mfa_setup_required: false,
    })
}

/// The account's current epoch (see the `users.epoch` column).
pub fn epoch(conn: &Connection, user_id: &str) -> ApiResult<i64> {
    Ok(
        conn.query_row("SELECT epoch FROM users WHERE id = ?1", [user_id], |r| {
            r.get(0)
        })?,
    )
}

/// End every session of an account, with its tokens, remembered devices and
/// open sign-in attempts.
pub fn revoke_all_sessions(conn: &Connection, user_id: &str) -> ApiResult<()> {
    conn.execute(
        "DELETE FROM access_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ?1)",
        [user_id],
    )?;
    conn.execute(
        "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ?1)",
        [user_id],
    )?;
    conn.execute(
        "UPDATE sessions SET revoked = 1 WHERE user_id = ?1",
        [user_id],
    )?;
    conn.execute("DELETE FROM remembered WHERE user_id = ?1", [user_id])?;
    conn.execute(
        "UPDATE pushes SET state = 'cancelled' WHERE state = 'pending'
           AND challenge_id IN (SELECT id FROM challenges WHERE user_id = ?1)",
        [user_id],
    )?;
    conn.execute(
        "UPDATE challenges SET done = 1 WHERE user_id = ?1",
        [user_id],
    )?;
    Ok(())
}

/// End a session: its tokens stop working at once.
pub fn revoke_session(conn: &Connection, session_id: &str) -> ApiResult<()> {
    conn.execute(
        "UPDATE sessions SET revoked = 1 WHERE id = ?1",
        [session_id],
    )?;
    conn.execute(
        "DELETE FROM access_tokens WHERE session_id = ?1",
        [session_id],
    )?;
    conn.execute(
        "DELETE FROM refresh_tokens WHERE session_id = ?1",
        [session_id],
    )?;
    Ok(())
}
