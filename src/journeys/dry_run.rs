//! `--dry-run`: what a destructive step would do, said in the words of the
//! list the user sees, from the server's current state; nothing is changed.

use super::change::find;
use crate::backend::{Backend, BackendError};
use crate::domain::method_name;

/// A step that cannot be undone by doing it again.
#[derive(Debug, Clone, Copy)]
pub enum Destructive<'a> {
    DeleteMethod(&'a str),
    DeleteDevice(&'a str),
    RevokeSession(&'a str),
    RevokeRemembered(&'a str),
    SignOutEverywhere,
    DeleteAppPassword(&'a str),
    GenerateRecoveryCodes,
}

/// Said after the plan: nothing happened.
pub const NOTHING_CHANGED: &str = "Nothing was changed (--dry-run).";

/// What `step` would do, in one sentence.
pub async fn describe(
    backend: &dyn Backend,
    step: Destructive<'_>,
) -> Result<String, BackendError> {
    Ok(match step {
        Destructive::DeleteMethod(id) => {
            let methods = backend.methods().await?;
            let m = find(&methods, |m| m.id == id, "method", id)?;
            let default = if m.is_default {
                " It is your default sign-in method: the server would choose the next one."
            } else {
                ""
            };
            format!("Would delete {}.{default}", method_name(m))
        }
        Destructive::DeleteDevice(id) => {
            let devices = backend.devices().await?;
            let d = find(&devices, |d| d.id == id, "device", id)?;
            format!(
                "Would delete the device {} and the sign-in methods on it.",
                d.name
            )
        }
        Destructive::RevokeSession(id) => {
            let sessions = backend.sessions().await?;
            let s = find(&sessions, |s| s.id == id, "session", id)?;
            let this = if s.current { " (this client)" } else { "" };
            format!("Would sign out the session of {}{this}.", s.client)
        }
        Destructive::RevokeRemembered(id) => {
            let grants = backend.remembered_devices().await?;
            let r = find(&grants, |r| r.id == id, "remembered device", id)?;
            format!(
                "Would revoke \"Don't ask again\" for {}: it would ask for a second factor again.",
                r.client
            )
        }
        Destructive::SignOutEverywhere => "Would end every session on every device, this one \
             included, forget every remembered device, and forget this client's kept sign-in."
            .into(),
        Destructive::DeleteAppPassword(id) => {
            let list = backend.app_passwords().await?;
            let a = find(&list, |a| a.id == id, "app password", id)?;
            format!(
                "Would delete the app password {}: the app that uses it would stop signing in.",
                a.name
            )
        }
        Destructive::GenerateRecoveryCodes => match backend.recovery_codes_left().await? {
            Some(n) if n > 0 => {
                format!(
                    "Would make a new set of recovery codes; your {n} unused codes would stop working."
                )
            }
            _ => "Would make a set of recovery codes.".into(),
        },
    })
}
