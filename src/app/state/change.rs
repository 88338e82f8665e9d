//! Changes to security info and the step-up that may come before one.

use crate::app::effects::Effect;
use crate::app::state::{ReqId, Verify};
use crate::secrets::SecretString;

/// A change to security info: asked for, maybe confirmed, then sent.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    DeleteMethod {
        id: String,
        /// What the user types to override the last-method guard.
        name: String,
        /// How the method is called in messages ("Phone +1 XXXXXXXX23").
        label: String,
        confirm: Option<String>,
    },
    SetDefault {
        id: String,
        name: String,
    },
    /// Where the default is a kind of method (`DefaultScope::PerKind`).
    SetDefaultKind {
        kind: crate::domain::MethodKind,
        name: String,
    },
    DeleteDevice {
        id: String,
        name: String,
        confirm: Option<String>,
    },
    RevokeSession {
        id: String,
        current: bool,
    },
    ForgetDevice {
        id: String,
        current: bool,
    },
    SignOutEverywhere,
    RenameMethod {
        id: String,
        name: String,
    },
    RenameDevice {
        id: String,
        name: String,
    },
    ChangePassword {
        current: SecretString,
        new: SecretString,
    },
    DeleteAppPassword {
        id: String,
        name: String,
    },
    /// Confirmed like a change; runs through its own effect (the answer is secret).
    GenerateRecoveryCodes,
}

impl Change {
    /// What the status says while it runs.
    pub fn progress(&self) -> String {
        match self {
            Self::DeleteMethod { label, .. } => format!("Deleting {label}…"),
            Self::SetDefault { name, .. } | Self::SetDefaultKind { name, .. } => {
                format!("Making {name} the default…")
            }
            Self::DeleteDevice { name, .. } => format!("Deleting device {name}…"),
            Self::RevokeSession { .. } => "Signing out the session…".into(),
            Self::ForgetDevice { .. } => "Revoking the remembered device…".into(),
            Self::SignOutEverywhere => "Signing out everywhere…".into(),
            Self::RenameMethod { name, .. } => format!("Renaming it to {name}…"),
            Self::RenameDevice { name, .. } => format!("Renaming the device to {name}…"),
            Self::ChangePassword { .. } => "Changing your password…".into(),
            Self::DeleteAppPassword { name, .. } => format!("Deleting app password {name}…"),
            Self::GenerateRecoveryCodes => "Generating recovery codes…".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChangeInFlight {
    pub id: ReqId,
    pub change: Change,
}

/// The second factor asked again before sending `retry` once more.
#[derive(Clone, Debug, PartialEq)]
pub struct StepUp {
    /// The request the server refused for want of a fresh second factor.
    pub retry: Effect,
    /// What it was for, as the screen says it ("Adding an authenticator app").
    pub what: String,
    pub pending: Option<ReqId>,
    pub verify: Option<Verify>,
    /// The provider steps up in a browser instead.
    pub browser: Option<super::BrowserWait>,
    pub error: Option<String>,
}
