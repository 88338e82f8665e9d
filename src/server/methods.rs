//! Sign-in methods as stored, and the rules about them: which count as a
//! usable second factor, how each is described, and who becomes default.

use super::db::{now, opt_rfc3339, rfc3339};
use super::error::ApiResult;
use crate::domain::{mask_email, mask_phone};
use crate::protocol::{MethodDto, MfaOption};
use rusqlite::{Connection, OptionalExtension, params};

pub const PUSH: &str = "authenticator_push";
pub const TOTP: &str = "totp";
pub const PHONE: &str = "phone";
pub const ALT_PHONE: &str = "alternate_phone";
pub const EMAIL: &str = "email";

/// Kinds this server can verify as a second factor.
pub fn is_usable_kind(kind: &str) -> bool {
    matches!(kind, PUSH | TOTP | PHONE | ALT_PHONE | EMAIL)
}

/// The channel a code goes out on, for kinds that are sent a code.
pub fn code_channel(kind: &str) -> Option<&'static str> {
    match kind {
        PHONE | ALT_PHONE => Some("sms"),
        EMAIL => Some("email"),
        _ => None,
    }
}

#[derive(Debug, Clone)]
pub struct MethodRow {
    pub id: String,
    pub kind: String,
    pub label: String,
    pub secret: Option<String>,
    pub device_id: Option<String>,
    pub device_name: Option<String>,
    pub device_unregistered: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl MethodRow {
    /// A kind this server verifies as a second factor: offered at sign-in
    /// (a phone that dropped the account is still offered, so choosing it
    /// says clearly why it fails).
    pub fn usable(&self) -> bool {
        is_usable_kind(&self.kind)
    }

    /// Usable and still able to answer: push and TOTP on a phone whose app
    /// removed the account cannot. Only these count for the last-method
    /// guard, can be the default, and are reported as `usable_mfa`.
    pub fn can_answer(&self) -> bool {
        self.usable() && !self.device_unregistered
    }

    /// What the portal shows beside the kind; also the name typed to confirm
    /// removing the last method.
    pub fn detail(&self) -> String {
        match self.kind.as_str() {
            PHONE | ALT_PHONE => mask_phone(&self.label),
            EMAIL => mask_email(&self.label),
            _ => self
                .device_name
                .clone()
                .unwrap_or_else(|| self.label.clone()),
        }
    }

    /// How the sign-in screen offers it.
    pub fn mfa_label(&self) -> String {
        match self.kind.as_str() {
            PUSH => format!("Approve a request on {}", self.detail()),
            TOTP => format!("Use a verification code from {}", self.detail()),
            PHONE | ALT_PHONE => format!("Text {}", self.detail()),
            EMAIL => format!("Email a code to {}", self.detail()),
            _ => self.detail(),
        }
    }

    pub fn option(&self) -> MfaOption {
        MfaOption {
            method_id: self.id.clone(),
            kind: self.kind.clone(),
            label: self.mfa_label(),
        }
    }

    pub fn dto(&self, default_id: Option<&str>) -> MethodDto {
        MethodDto {
            id: self.id.clone(),
            kind: self.kind.clone(),
            detail: self.detail(),
            created_at: Some(rfc3339(self.created_at)),
            last_used_at: opt_rfc3339(self.last_used_at),
            is_default: default_id == Some(self.id.as_str()),
            usable_mfa: self.can_answer(),
            device_id: self.device_id.clone(),
        }
    }
}

const SELECT: &str = "SELECT m.id, m.kind, m.label, m.secret, m.device_id, d.name,
    COALESCE(d.unregistered, 0), m.created_at, m.last_used_at
    FROM methods m LEFT JOIN devices d ON d.id = m.device_id WHERE d.enrollment_id IS NULL";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MethodRow> {
    Ok(MethodRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        label: r.get(2)?,
        secret: r.get(3)?,
        device_id: r.get(4)?,
        device_name: r.get(5)?,
        device_unregistered: r.get::<_, i64>(6)? != 0,
        created_at: r.get(7)?,
        last_used_at: r.get(8)?,
    })
}

/// A user's methods, oldest first.
pub fn list(conn: &Connection, user_id: &str) -> ApiResult<Vec<MethodRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} AND m.user_id = ?1 ORDER BY m.created_at, m.rowid"
    ))?;
    let rows = stmt
        .query_map([user_id], row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn usable(conn: &Connection, user_id: &str) -> ApiResult<Vec<MethodRow>> {
    Ok(list(conn, user_id)?
        .into_iter()
        .filter(MethodRow::usable)
        .collect())
}

/// The methods that can still answer (see [`MethodRow::can_answer`]).
pub fn answering(conn: &Connection, user_id: &str) -> ApiResult<Vec<MethodRow>> {
    Ok(list(conn, user_id)?
        .into_iter()
        .filter(MethodRow::can_answer)
        .collect())
}

pub fn get(conn: &Connection, user_id: &str, id: &str) -> ApiResult<Option<MethodRow>> {
    let mut stmt = conn.prepare(&format!("{SELECT} AND m.user_id = ?1 AND m.id = ?2"))?;
    Ok(stmt.query_row(params![user_id, id], row).optional()?)
}

pub fn default_id(conn: &Connection, user_id: &str) -> ApiResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT default_method_id FROM users WHERE id = ?1")?
        .query_row([user_id], |r| r.get(0))?)
}

/// After a removal (or a phone dropping the account): keep the default if
/// it can still answer, else pick the strongest method that can. Returns
/// the new default if it changed.
pub fn repair_default(conn: &Connection, user_id: &str) -> ApiResult<Option<String>> {
    let current = default_id(conn, user_id)?;
    let usable = answering(conn, user_id)?;
    if let Some(id) = &current
        && usable.iter().any(|m| &m.id == id)
    {
        return Ok(None);
    }
    let rank = |k: &str| match k {
        PUSH => 0,
        TOTP => 1,
        PHONE => 2,
        ALT_PHONE => 3,
        _ => 4,
    };
    let pick = usable
        .iter()
        .min_by_key(|m| (rank(&m.kind), m.created_at))
        .map(|m| m.id.clone());
    conn.execute(
        "UPDATE users SET default_method_id = ?2 WHERE id = ?1",
        params![user_id, pick],
    )?;
    Ok(pick)
}

/// A method was just used to sign in.
pub fn touch(conn: &Connection, m: &MethodRow) -> ApiResult<()> {
    let t = now();
    conn.execute(
        "UPDATE methods SET last_used_at = ?2 WHERE id = ?1",
        params![m.id, t],
    )?;
    if let Some(dev) = &m.device_id {
        conn.execute(
            "UPDATE devices SET last_used_at = ?2 WHERE id = ?1",
            params![dev, t],
        )?;
    }
    Ok(())
}
