//! Administration for whoever runs the server (`secinfo admin ...`): users,
//! passwords, MFA resets, authenticator activation links. Works on the
//! database directly, so it needs no running server.

use super::db::{self, hash, new_id, now, rfc3339};
use super::error::{ApiError, Result, ServerError};
use super::methods::{self, EMAIL, PHONE, TOTP};
use super::{Settings, password, totp};
use crate::secrets::SecretString;
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// One row of `secinfo admin user list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserSummary {
    pub username: String,
    pub display_name: String,
    /// Usable second factors.
    pub mfa_methods: usize,
    pub devices: usize,
    pub created_at: String,
    /// Locked after too many failed attempts (for a while).
    pub locked: bool,
}

fn conn(path: &Path) -> Result<Connection> {
    db::migrate(path)?;
    db::open(path)
}

fn api(e: ApiError) -> ServerError {
    ServerError::Invalid(e.message)
}

pub(crate) fn user_id(conn: &Connection, username: &str) -> Result<String> {
    conn.query_row(
        "SELECT id FROM users WHERE username = ?1",
        [username],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| ServerError::NotFound(format!("no user named {username}")))
}

fn check_password(password: &SecretString) -> Result<()> {
    if password.len() < 8 {
        return Err(ServerError::Invalid(
            "the password must have at least 8 characters".into(),
        ));
    }
    Ok(())
}

pub fn add_user(
    db: &Path,
    username: &str,
    display_name: &str,
    password: &SecretString,
) -> Result<()> {
    insert_user(
        &conn(db)?,
        username,
        display_name,
        password,
        password::Cost::Server,
    )
    .map(drop)
}

/// Returns the new user's id.
pub(crate) fn insert_user(
    conn: &Connection,
    username: &str,
    display_name: &str,
    password: &SecretString,
    cost: password::Cost,
) -> Result<String> {
    let username = username.trim();
    if username.is_empty() || username.chars().any(char::is_whitespace) {
        return Err(ServerError::Invalid(
            "a username must be non-empty and have no spaces".into(),
        ));
    }
    check_password(password)?;
    let phc = password::hash_with(password.expose(), cost)?;
    let t = now();
    let id = new_id("u_");
    let inserted = conn.execute(
        "INSERT INTO users (id, username, display_name, password_hash, password_changed_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(username) DO NOTHING",
        params![id, username, display_name.trim(), phc, t],
    )?;
    if inserted == 0 {
        return Err(ServerError::Invalid(format!(
            "a user named {username} already exists"
        )));
    }
    Ok(id)
}

/// Set a new password. An administrator does this when an account may be
/// in someone else's hands, so everything that outlives a password is
/// revoked too (see [`revoke_everything`]).
pub fn set_password(db: &Path, username: &str, password: &SecretString) -> Result<()> {
    check_password(password)?;
    let phc = password::hash(password.expose())?;
    let mut conn = conn(db)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let id = user_id(&tx, username)?;
    tx.execute(
        "UPDATE users SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
        params![id, phc, now()],
    )?;
    revoke_everything(&tx, username, &id)?;
    super::activity::changed(
        &tx,
        &id,
        super::activity::By::Administrator,
        crate::domain::ActivityKind::Password,
        "your password was changed by an administrator; every session, remembered device, \
         app password and recovery code was revoked",
    )
    .map_err(api)?;
    tx.commit()?;
    Ok(())
}

/// Remove every second factor and device, and revoke everything else (see
/// [`revoke_everything`]): the user signs in with the password alone, and
/// only a session begun after this may add the first new method.
pub fn reset_mfa(db: &Path, username: &str) -> Result<()> {
    let mut conn = conn(db)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let id = user_id(&tx, username)?;
    revoke_everything(&tx, username, &id)?;
    tx.execute("DELETE FROM methods WHERE user_id = ?1", [&id])?;
    tx.execute("DELETE FROM devices WHERE user_id = ?1", [&id])?;
    tx.execute(
        "UPDATE users SET default_method_id = NULL WHERE id = ?1",
        [&id],
    )?;
    super::activity::changed(
        &tx,
        &id,
        super::activity::By::Administrator,
        crate::domain::ActivityKind::Methods,
        "an administrator removed all your sign-in methods; every session, remembered device, \
         app password and recovery code was revoked",
    )
    .map_err(api)?;
    tx.commit()?;
    Ok(())
}

/// What an administrator's reset takes away, so that nothing an intruder
/// set up survives it: every session and token (and, by the epoch, any
/// session or sign-in attempt still in flight), remembered devices, open
/// sign-in attempts, enrollments in progress and their activation codes,
/// recovery codes and app passwords. The failure counters start afresh.
fn revoke_everything(conn: &Connection, username: &str, user_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE users SET epoch = epoch + 1 WHERE id = ?1",
        [user_id],
    )?;
    super::tokens::revoke_all_sessions(conn, user_id).map_err(api)?;
    conn.execute(
        "DELETE FROM devices WHERE user_id = ?1 AND enrollment_id IS NOT NULL",
        [user_id],
    )?;
    conn.execute("DELETE FROM enrollments WHERE user_id = ?1", [user_id])?;
    conn.execute("DELETE FROM activations WHERE user_id = ?1", [user_id])?;
    conn.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [user_id])?;
    super::app_passwords::revoke_all(conn, user_id).map_err(api)?;
    unlock(conn, username, user_id)
}

/// The administrator answered for the account: clear its failure counters.
fn unlock(conn: &Connection, username: &str, user_id: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM throttle WHERE key IN (?1, ?2)",
        params![
            super::throttle::password_key(username),
            super::throttle::mfa_key(user_id)
        ],
    )?;
    Ok(())
}

pub fn list_users(db: &Path) -> Result<Vec<UserSummary>> {
    let conn = conn(db)?;
    let mut stmt = conn.prepare(
        "SELECT u.id, u.username, u.display_name, u.created_at,
           (SELECT MAX(t.locked_until) FROM throttle t WHERE t.key IN ('pw:' || LOWER(u.username), 'mfa:' || u.id)),
           (SELECT COUNT(*) FROM devices d WHERE d.user_id = u.id AND d.enrollment_id IS NULL)
         FROM users u ORDER BY u.username",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?.unwrap_or(0),
                r.get::<_, i64>(5)?,
            ))
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let t = now();
    rows.into_iter()
        .map(
            |(id, username, display_name, created, locked_until, devices)| {
                Ok(UserSummary {
                    mfa_methods: methods::answering(&conn, &id).map_err(api)?.len(),
                    username,
                    display_name,
                    devices: devices as usize,
                    created_at: rfc3339(created),
                    locked: locked_until > t,
                })
            },
        )
        .collect()
}

/// A one-time activation code for the user's authenticator app.
pub(crate) fn create_activation(
    conn: &Connection,
    user_id: &str,
    ttl: u64,
    enrollment_id: Option<&str>,
) -> Result<String> {
    let mut bytes = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut bytes);
    let code = data_encoding::BASE32_NOPAD.encode(&bytes);
    let t = now();
    conn.execute(
        "INSERT INTO activations (code_hash, user_id, created_at, expires_at, enrollment_id)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![hash(&code), user_id, t, t + ttl as i64, enrollment_id],
    )?;
    Ok(code)
}

/// The link the authenticator app scans (`secinfo phone activate` takes it):
/// `secinfo://activate?code=...&url=...`.
pub fn activation_payload(code: &str, server_url: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("code", code)
        .append_pair("url", server_url)
        .finish();
    format!("secinfo://activate?{query}")
}

/// Issue an activation link valid for the default `activation_ttl`.
pub fn new_activation(db: &Path, username: &str, server_url: &str) -> Result<String> {
    let conn = conn(db)?;
    let id = user_id(&conn, username)?;
    let code = create_activation(&conn, &id, Settings::default().activation_ttl, None)?;
    Ok(activation_payload(&code, server_url))
}

pub(crate) fn add_method(
    conn: &Connection,
    user_id: &str,
    kind: &str,
    label: &str,
    secret: Option<&str>,
) -> Result<String> {
    let id = new_id("m_");
    let sealed = match secret {
        Some(s) => Some(
            super::keys::for_conn(conn)
                .and_then(|k| k.seal(s))
                .map_err(api)?,
        ),
        None => None,
    };
    conn.execute(
        "INSERT INTO methods (id, user_id, kind, label, secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, user_id, kind, label, sealed, now()],
    )?;
    methods::repair_default(conn, user_id).map_err(api)?;
    Ok(id)
}

/// Add a phone number that receives codes by SMS. Returns the method id.
pub fn add_phone(db: &Path, username: &str, number: &str) -> Result<String> {
    if number.chars().filter(char::is_ascii_digit).count() < 6 {
        return Err(ServerError::Invalid(format!(
            "{number} is not a phone number"
        )));
    }
    let conn = conn(db)?;
    let id = user_id(&conn, username)?;
    add_method(&conn, &id, PHONE, number.trim(), None)
}

/// Add an email address that receives codes. Returns the method id.
pub fn add_email(db: &Path, username: &str, address: &str) -> Result<String> {
    if !address.contains('@') {
        return Err(ServerError::Invalid(format!(
            "{address} is not an email address"
        )));
    }
    let conn = conn(db)?;
    let id = user_id(&conn, username)?;
    add_method(&conn, &id, EMAIL, address.trim(), None)
}

/// Add a TOTP app not tied to a registered phone. Returns the method id and
/// the otpauth:// URI (which holds the secret: show it only to the user).
pub fn add_totp(
    db: &Path,
    username: &str,
    name: &str,
    settings: &Settings,
) -> Result<(String, SecretString)> {
    let conn = conn(db)?;
    let id = user_id(&conn, username)?;
    let secret = totp::new_secret();
    let uri = totp::uri(&secret, username, settings)
        .ok_or_else(|| ServerError::Invalid("cannot build a TOTP URI".into()))?;
    let method_id = add_method(&conn, &id, TOTP, name, Some(&secret))?;
    Ok((method_id, SecretString::new(uri)))
}
