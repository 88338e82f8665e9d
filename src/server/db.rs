//! SQLite: opening a connection, the schema and its migrations, and the small
//! helpers every module needs (time, ids, token hashing). All server state
//! lives here, so several processes over one file see the same world.

use super::error::{Result, ServerError};
use rand::RngCore;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

/// Each entry moves the schema one version up; `PRAGMA user_version` says
/// how many have run. Append only: never edit a released step.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    password_changed_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    default_method_id TEXT,
    failed_count INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    platform TEXT NOT NULL,
    public_key TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    last_used_at INTEGER,
    unregistered INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE methods (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    -- the unmasked target (phone number, address) or a name (TOTP app)
    label TEXT NOT NULL,
    -- TOTP secret, base32
    secret TEXT,
    device_id TEXT REFERENCES devices(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    last_totp_step INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    client_name TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    mfa_at INTEGER,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE access_tokens (
    hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE TABLE refresh_tokens (
    hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE remembered (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    client_name TEXT NOT NULL,
    grant_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE challenges (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- set for a step-up: the session it refreshes
    session_id TEXT REFERENCES sessions(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    client_name TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sent_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    challenge_id TEXT NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,
    method_id TEXT NOT NULL REFERENCES methods(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE pushes (
    id TEXT PRIMARY KEY,
    challenge_id TEXT NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,
    method_id TEXT NOT NULL REFERENCES methods(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    -- pending | approved | denied | wrong_number | cancelled
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE activations (
    code_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at INTEGER NOT NULL
);
CREATE INDEX methods_user ON methods(user_id);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX pushes_device ON pushes(device_id, state);
"#,
    r#"
CREATE TABLE enrollments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id TEXT REFERENCES sessions(id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    -- the target (number, address) or the name (TOTP app, phone)
    label TEXT NOT NULL,
    secret TEXT,
    code_hash TEXT,
    -- push: the phone once it activated, and the test notification's challenge
    device_id TEXT REFERENCES devices(id) ON DELETE SET NULL,
    challenge_id TEXT REFERENCES challenges(id) ON DELETE SET NULL,
    -- set once saved
    method_id TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
-- a device still being enrolled: hidden, and its methods too, until its test push is approved
ALTER TABLE devices ADD COLUMN enrollment_id TEXT;
ALTER TABLE activations ADD COLUMN enrollment_id TEXT;
"#,
    r#"
CREATE TABLE app_passwords (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
"#,
    r#"
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);
"#,
    r#"
ALTER TABLE enrollments ADD COLUMN replaces TEXT;
"#,
    r#"
-- failure counters (see throttle.rs); users.failed_count and locked_until are no longer read
CREATE TABLE throttle (
    key TEXT PRIMARY KEY,
    failed INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    -- locks so far: each one lasts twice as long as the one before
    level INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
-- wrong codes so far: past max_code_guesses the attempt is void
ALTER TABLE challenges ADD COLUMN guesses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE enrollments ADD COLUMN guesses INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- bumped when an administrator resets the password or the MFA: sessions and
-- sign-in attempts begun under an older epoch are dead, even ones in flight
ALTER TABLE users ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE challenges ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- what the phone is shown about who asks: one of a fixed list (mfa::client_type),
-- never the client's own free-text name
ALTER TABLE challenges ADD COLUMN client_type TEXT NOT NULL DEFAULT 'Unknown app';
"#,
    // From here on TOTP secrets are sealed and recovery codes keyed with the
    // server key (keys.rs, which converts older rows); a build that predates
    // this must refuse the database rather than misread it.
    "-- secrets under the server key",
    r#"
-- device proof nonces seen, kept until the proof's timestamp leaves the window
CREATE TABLE device_nonces (
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
);
-- once a device has signed with a nonce, proofs without one are refused from it
ALTER TABLE devices ADD COLUMN uses_nonces INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- recent activity (activity.rs): sign-ins, failures, lockouts and changes, newest by id
CREATE TABLE activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    what TEXT NOT NULL,
    client TEXT,
    ip TEXT,
    factor TEXT
);
CREATE INDEX activity_user ON activity(user_id, id);
"#,
];

/// Open a connection with the pragmas every connection needs.
pub fn open(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

/// Create or upgrade the schema; idempotent and safe against a concurrent
/// process doing the same (the upgrade runs in an immediate transaction).
pub fn migrate(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut conn = open(path)?;
    // Switching to WAL needs the file to itself and SQLite does not wait
    // for that with the busy handler, so a second process starting at the
    // same moment retries here.
    let mut tries = 0;
    loop {
        let current: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if current.eq_ignore_ascii_case("wal") {
            break;
        }
        match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => break,
            Ok(mode) => {
                tracing::warn!(mode, "SQLite did not switch to WAL");
                break;
            }
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 100 =>
            {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(ServerError::SchemaTooNew {
            path: path.display().to_string(),
            found: version,
            known,
        });
    }
    for step in &MIGRATIONS[version as usize..] {
        tx.execute_batch(step)?;
    }
    super::keys::upgrade_rows(&tx, path)?;
    tx.pragma_update(None, "user_version", known)?;
    tx.commit()?;
    #[cfg(unix)]
    restrict(path);
    Ok(())
}

/// The database holds password hashes and TOTP secrets: owner only.
#[cfg(unix)]
fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
        tracing::warn!(error = %e, "cannot restrict database permissions");
    }
}

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// RFC 3339 UTC for the wire.
pub fn rfc3339(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn opt_rfc3339(ts: Option<i64>) -> Option<String> {
    ts.map(rfc3339)
}

/// A new opaque id with a readable prefix ("m_", "dev_", ...).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// A bearer secret: 32 random bytes, base64url, with a prefix that names its kind.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    use base64::Engine;
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Tokens and codes are stored only as this hash, so a copy of the database
/// cannot be replayed as a sign-in.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Drop rows that can never matter again, so the database does not grow
/// without bound. Expired challenges are kept a day for the sign-in logs' sake.
pub fn purge(conn: &Connection) -> Result<()> {
    let t = now();
    let day_ago = t - 86_400;
    conn.execute("DELETE FROM access_tokens WHERE expires_at <= ?1", [t])?;
    conn.execute("DELETE FROM refresh_tokens WHERE expires_at <= ?1", [t])?;
    conn.execute("DELETE FROM remembered WHERE expires_at <= ?1", [t])?;
    conn.execute("DELETE FROM device_nonces WHERE expires_at < ?1", [t])?;
    conn.execute("DELETE FROM challenges WHERE expires_at <= ?1", [day_ago])?;
    conn.execute("DELETE FROM activations WHERE expires_at <= ?1", [day_ago])?;
    conn.execute(
        "DELETE FROM devices WHERE enrollment_id IS NOT NULL
           AND enrollment_id NOT IN (SELECT id FROM enrollments WHERE expires_at > ?1)",
        [t],
    )?;
    conn.execute("DELETE FROM enrollments WHERE expires_at <= ?1", [day_ago])?;
    // Counters of names nobody tried for a day (most are unknown usernames).
    conn.execute(
        "DELETE FROM throttle WHERE updated_at <= ?1 AND locked_until <= ?2",
        [day_ago, t],
    )?;
    conn.execute(
        "DELETE FROM sessions WHERE last_active_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.session_id = sessions.id)
           AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = sessions.id)",
        [day_ago],
    )?;
    Ok(())
}
