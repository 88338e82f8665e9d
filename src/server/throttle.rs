//! Failure counters that lock guessing for a while, kept in SQLite so every
//! process over the database agrees. Two kinds of key:
//!
//! - `pw:<username as typed, lowercased>`: wrong passwords (sign-in, legacy
//!   basic auth, password change). Keyed by the name typed, not the account,
//!   so an unknown username locks exactly like a real one and a 429 does not
//!   reveal which accounts exist.
//! - `mfa:<user id>`: wrong second-factor codes. A correct password never
//!   clears it; only a proven second factor does.
//!
//! An attempt is *reserved* (counted) in one atomic statement before the
//! secret is checked, so parallel guesses cannot all slip past the limit
//! while the first ones are still hashing. Each lock is twice as long as the
//! one before, up to `max_lockout`.

use super::Settings;
use super::db::now;
use super::error::{ApiError, ApiResult};
use rusqlite::{Connection, OptionalExtension, params};

pub fn password_key(username: &str) -> String {
    format!("pw:{}", username.trim().to_lowercase())
}

pub fn mfa_key(user_id: &str) -> String {
    format!("mfa:{user_id}")
}

fn limit(s: &Settings) -> u32 {
    s.max_failed_attempts.max(1)
}

/// Count one attempt before checking it; 429 while locked, or while the
/// attempts already in flight fill the budget.
pub fn reserve(conn: &Connection, s: &Settings, key: &str) -> ApiResult<()> {
    let t = now();
    let reserved: Option<u32> = conn
        .query_row(
            "INSERT INTO throttle (key, failed, updated_at) VALUES (?1, 1, ?2)
             ON CONFLICT(key) DO UPDATE SET failed = failed + 1, updated_at = ?2
               WHERE locked_until <= ?2 AND failed < ?3
             RETURNING failed",
            params![key, t, limit(s)],
            |r| r.get(0),
        )
        .optional()?;
    if reserved.is_some() {
        return Ok(());
    }
    check(conn, key)?;
    // Not locked, but the budget is taken by attempts still being checked.
    Err(ApiError::throttled(1))
}

/// 429 while the key is locked; counts nothing.
pub fn check(conn: &Connection, key: &str) -> ApiResult<()> {
    let locked_until: i64 = conn
        .query_row(
            "SELECT locked_until FROM throttle WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let t = now();
    if locked_until > t {
        return Err(ApiError::throttled((locked_until - t) as u64));
    }
    Ok(())
}

/// The reserved attempt was wrong. At the limit, lock; returns the lock's
/// length in seconds when this failure started one.
pub fn fail(conn: &Connection, s: &Settings, key: &str) -> ApiResult<Option<u64>> {
    let level: Option<u32> = conn
        .query_row(
            "SELECT level FROM throttle WHERE key = ?1 AND failed >= ?2",
            params![key, limit(s)],
            |r| r.get(0),
        )
        .optional()?;
    let Some(level) = level else {
        return Ok(None);
    };
    let secs = lock_secs(s, level);
    let t = now();
    // `failed >= limit` again: of two failures racing here, one locks.
    let locked = conn.execute(
        "UPDATE throttle SET failed = 0, level = level + 1, locked_until = ?2, updated_at = ?3
         WHERE key = ?1 AND failed >= ?4",
        params![key, t + secs as i64, t, limit(s)],
    )?;
    if locked == 0 {
        return Ok(None);
    }
    tracing::warn!(
        kind = key.split(':').next().unwrap_or(""),
        secs,
        "locked after repeated failures"
    );
    Ok(Some(secs))
}

/// The reserved attempt was neither right nor a guess (e.g. a reused TOTP
/// code): give it back.
pub fn release(conn: &Connection, key: &str) -> ApiResult<()> {
    conn.execute(
        "UPDATE throttle SET failed = MAX(failed - 1, 0) WHERE key = ?1",
        [key],
    )?;
    Ok(())
}

/// The secret was right: forget the failures and the backoff.
pub fn succeed(conn: &Connection, key: &str) -> ApiResult<()> {
    conn.execute("DELETE FROM throttle WHERE key = ?1", [key])?;
    Ok(())
}

/// lockout × 2^level, at most `max_lockout`.
fn lock_secs(s: &Settings, level: u32) -> u64 {
    let cap = u64::from(s.max_lockout).max(s.lockout);
    s.lockout
        .saturating_mul(1u64 << level.min(20))
        .min(cap)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lock_doubles_up_to_the_cap() {
        let s = Settings {
            lockout: 60,
            max_lockout: 300,
            ..Settings::default()
        };
        let secs: Vec<u64> = (0..5).map(|l| lock_secs(&s, l)).collect();
        assert_eq!(secs, [60, 120, 240, 300, 300]);
        assert_eq!(lock_secs(&s, u32::MAX), 300);
    }

    #[test]
    fn usernames_are_counted_the_same_whatever_their_case() {
        assert_eq!(
            password_key(" Alice@Contoso.test"),
            password_key("alice@contoso.test")
        );
    }
}
