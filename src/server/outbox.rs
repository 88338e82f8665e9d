//! The sink for "sent" SMS and email: the reference server never sends real
//! messages; codes and security notices land in the `outbox` table, read by
//! `secinfo serve outbox`, the demo panel and tests.

use super::db::{self, now, rfc3339};
use super::error::{ApiResult, Result};
use crate::protocol::OutboxMessage;
use rusqlite::{Connection, params};
use std::path::Path;

pub fn write(conn: &Connection, channel: &str, recipient: &str, body: &str) -> ApiResult<()> {
    conn.execute(
        "INSERT INTO outbox (channel, recipient, body, sent_at) VALUES (?1, ?2, ?3, ?4)",
        params![channel, recipient, body, now()],
    )?;
    Ok(())
}

/// Tell the account holder that their security info changed (by email to
/// the account's address, the username).
pub fn notice(conn: &Connection, user_id: &str, what: &str) -> ApiResult<()> {
    let username: String =
        conn.query_row("SELECT username FROM users WHERE id = ?1", [user_id], |r| {
            r.get(0)
        })?;
    let body = format!(
        "Security info changed on your account {username}: {what}. \
         If this wasn't you, sign out everywhere and reset your password."
    );
    write(conn, "email", &username, &body)
}

/// Warn the account holder about something that happened to the account
/// without a change to it (e.g. codes locked after wrong guesses).
pub fn alert(conn: &Connection, user_id: &str, what: &str) -> ApiResult<()> {
    let username: String =
        conn.query_row("SELECT username FROM users WHERE id = ?1", [user_id], |r| {
            r.get(0)
        })?;
    let body = format!("Security alert for your account {username}: {what}.");
    write(conn, "email", &username, &body)
}

/// Every message sent so far, oldest first; only those to `recipient` if given.
pub fn outbox(db: &Path, recipient: Option<&str>) -> Result<Vec<OutboxMessage>> {
    db::migrate(db)?;
    let conn = db::open(db)?;
    let mut stmt = conn.prepare(
        "SELECT id, channel, recipient, body, sent_at FROM outbox
         WHERE ?1 IS NULL OR recipient = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map([recipient], |r| {
            Ok(OutboxMessage {
                id: r.get(0)?,
                channel: r.get(1)?,
                recipient: r.get(2)?,
                body: r.get(3)?,
                sent_at: rfc3339(r.get(4)?),
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}
