//! Recovery codes (beyond the portal): a set of one-time codes for when the
//! phone is lost. Offered at sign-in as "Use a recovery code"; each works
//! once. They never count as a usable method for the last-method guard.

use super::activity::{self, By};
use super::db::{hash, now, rfc3339};
use super::error::ApiResult;
use super::me::require_fresh_mfa;
use super::methods::MethodRow;
use super::tokens::Caller;
use super::{AppState, keys, outbox};
use crate::domain::ActivityKind;
use crate::protocol::*;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rand::Rng;
use rusqlite::{Connection, params};

/// The method id recovery codes go by in a challenge.
pub const METHOD_ID: &str = "recovery_code";
pub const KIND: &str = "recovery_codes";
const SET_SIZE: usize = 10;
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

fn generate() -> String {
    let mut rng = rand::thread_rng();
    let chars: String = (0..10)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

fn normalize(typed: &str) -> String {
    typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

pub fn remaining(conn: &Connection, user_id: &str) -> ApiResult<u32> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL",
        [user_id],
        |r| r.get(0),
    )?)
}

/// The challenge option, if the user has codes left.
pub fn option(conn: &Connection, user_id: &str) -> ApiResult<Option<MfaOption>> {
    let left = remaining(conn, user_id)?;
    Ok((left > 0).then(|| MfaOption {
        method_id: METHOD_ID.into(),
        kind: KIND.into(),
        label: format!("Use a recovery code ({left} left)"),
    }))
}

/// Stands in for a stored method while a challenge is answered with a code.
pub fn pseudo_method() -> MethodRow {
    MethodRow {
        id: METHOD_ID.into(),
        kind: KIND.into(),
        label: "Recovery code".into(),
        secret: None,
        device_id: None,
        device_name: None,
        device_unregistered: false,
        created_at: 0,
        last_used_at: None,
    }
}

/// What is stored for a code: HMAC-SHA256 under the server key (over the
/// code's SHA-256, the form older rows were converted from), so a copy of
/// the database alone cannot test guesses offline.
fn stored_hash(conn: &Connection, code: &str) -> ApiResult<String> {
    Ok(keys::for_conn(conn)?.mac(keys::RECOVERY, &hash(&normalize(code))))
}

/// Spend one code; true if it was a valid unused one.
pub fn spend(conn: &Connection, user_id: &str, typed: &str) -> ApiResult<bool> {
    let used = conn.execute(
        "UPDATE recovery_codes SET used_at = ?3 WHERE id = (
           SELECT id FROM recovery_codes WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL LIMIT 1)",
        params![user_id, stored_hash(conn, typed)?, now()],
    )?;
    if used > 0 {
        let left = remaining(conn, user_id)?;
        outbox::notice(
            conn,
            user_id,
            &format!("a recovery code was used to sign in; {left} are left"),
        )?;
    }
    Ok(used > 0)
}

#[utoipa::path(get, path = "/v1/me/recovery-codes", tag = "me", responses((status = 200, body = RecoveryCodesStatus)),
    security(("bearer" = [])))]
pub async fn status(
    State(state): State<AppState>,
    Caller(bearer): Caller,
) -> ApiResult<Json<RecoveryCodesStatus>> {
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let (total, created): (u32, Option<i64>) = conn.query_row(
                "SELECT COUNT(*), MIN(created_at) FROM recovery_codes WHERE user_id = ?1",
                [&me.user_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(Json(RecoveryCodesStatus {
                remaining: remaining(conn, &me.user_id)?,
                total,
                created_at: created.map(rfc3339),
            }))
        })
        .await
}

/// A new set; the previous codes stop working.
#[utoipa::path(post, path = "/v1/me/recovery-codes", tag = "me", responses((status = 200, body = RecoveryCodes),
    (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn regenerate(
    State(state): State<AppState>,
    Caller(bearer): Caller,
) -> ApiResult<Json<RecoveryCodes>> {
    state
        .run(move |conn, s| {
            let me = bearer.require(conn)?;
            require_fresh_mfa(conn, s, &me)?;
            conn.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [&me.user_id])?;
            let t = now();
            let codes: Vec<String> = (0..SET_SIZE).map(|_| generate()).collect();
            for c in &codes {
                conn.execute(
                    "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?1, ?2, ?3)",
                    params![me.user_id, stored_hash(conn, c)?, t],
                )?;
            }
            activity::changed(
                conn,
                &me.user_id,
                By::Session(&me.session_id),
                ActivityKind::RecoveryCodes,
                "new recovery codes were made; the old ones no longer work",
            )?;
            Ok(Json(RecoveryCodes { codes }))
        })
        .await
}

#[utoipa::path(delete, path = "/v1/me/recovery-codes", tag = "me", responses((status = 204), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    Caller(bearer): Caller,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, s| {
            let me = bearer.require(conn)?;
            require_fresh_mfa(conn, s, &me)?;
            if conn.execute(
                "DELETE FROM recovery_codes WHERE user_id = ?1",
                [&me.user_id],
            )? > 0
            {
                activity::changed(
                    conn,
                    &me.user_id,
                    By::Session(&me.session_id),
                    ActivityKind::RecoveryCodes,
                    "your recovery codes were removed",
                )?;
            }
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}
