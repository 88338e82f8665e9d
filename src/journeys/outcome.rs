//! A change whose answer was lost (the request went out, then the server
//! did not answer in time or the connection broke) may or may not have
//! happened. It is never sent again blindly: the account is read again and
//! the person is told which it was. Written once; the CLI and plain mode get
//! it through the journeys, the TUI through its effect runner.

use crate::backend::{Backend, BackendError};
use crate::domain::{AppPassword, MethodKind};
use crate::secrets::SecretString;

/// What reading the account again must show if the change happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// The method is no longer listed.
    MethodGone {
        id: String,
        label: String,
    },
    DeviceGone {
        id: String,
        name: String,
    },
    SessionGone {
        id: String,
    },
    RememberedGone {
        id: String,
    },
    AppPasswordGone {
        id: String,
        name: String,
    },
    /// The method is the default.
    MethodDefault {
        id: String,
        name: String,
    },
    /// The default is a method of this kind.
    KindDefault {
        kind: MethodKind,
        name: String,
    },
    MethodNamed {
        id: String,
        name: String,
    },
    DeviceNamed {
        id: String,
        name: String,
    },
    /// This client's session has ended with every other.
    SignedOutEverywhere,
    /// Nothing can be read to tell (a password change).
    Unknowable {
        what: String,
    },
}

/// A change's answer, or the news that the answer was lost but the change is there.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled<T> {
    Answered(T),
    /// The server did it; its answer never came.
    AnswerLost,
}

impl<T> Settled<T> {
    /// The answer, or `lost` when there is none.
    pub fn or(self, lost: T) -> T {
        match self {
            Self::Answered(t) => t,
            Self::AnswerLost => lost,
        }
    }
}

/// Said before the usual sentence when the answer was lost but the change is there.
pub const ANSWER_LOST_BUT_DONE: &str =
    "The server's answer was lost, but reading your account again shows it was done:";

/// `sent` is the change's result. When its answer was lost, the account is
/// read again (once, never the change itself) to settle what happened.
pub async fn settle<T>(
    backend: &dyn Backend,
    sent: Result<T, BackendError>,
    check: &Check,
) -> Result<Settled<T>, BackendError> {
    let lost = match sent {
        Ok(t) => return Ok(Settled::Answered(t)),
        Err(e) if e.answer_lost() => e,
        Err(e) => return Err(e),
    };
    tracing::info!(error = %lost, "a change's answer was lost; reading the account again");
    match holds(backend, check).await {
        Ok(Some(true)) => Ok(Settled::AnswerLost),
        Ok(Some(false)) => Err(BackendError::Unconfirmed {
            message: format!(
                "{lost}, and reading your account again shows {}: nothing changed. You can try again.",
                not_done(check)
            ),
        }),
        Ok(None) => Err(BackendError::Unconfirmed {
            message: format!(
                "{lost}, and secinfo cannot tell whether {} happened; check before trying again",
                what(check)
            ),
        }),
        Err(again) => Err(BackendError::Unconfirmed {
            message: format!(
                "{lost}, and reading your account again failed too ({again}); check whether {} \
                 happened before trying again",
                what(check)
            ),
        }),
    }
}

/// Whether the change is there (`None`: nothing to read tells).
async fn holds(backend: &dyn Backend, check: &Check) -> Result<Option<bool>, BackendError> {
    let yes = match check {
        Check::MethodGone { id, .. } => !backend.methods().await?.iter().any(|m| &m.id == id),
        Check::DeviceGone { id, .. } => !backend.devices().await?.iter().any(|d| &d.id == id),
        Check::SessionGone { id } => match backend.sessions().await {
            Ok(list) => !list.iter().any(|s| &s.id == id),
            // This very session was the one revoked.
            Err(BackendError::SignInRequired) => true,
            Err(e) => return Err(e),
        },
        Check::RememberedGone { id } => !backend
            .remembered_devices()
            .await?
            .iter()
            .any(|r| &r.id == id),
        Check::AppPasswordGone { id, .. } => {
            !backend.app_passwords().await?.iter().any(|a| &a.id == id)
        }
        Check::MethodDefault { id, .. } => backend
            .methods()
            .await?
            .iter()
            .any(|m| &m.id == id && m.is_default),
        Check::KindDefault { kind, .. } => backend
            .methods()
            .await?
            .iter()
            .any(|m| &m.kind == kind && m.is_default),
        Check::MethodNamed { id, name } => backend
            .methods()
            .await?
            .iter()
            .any(|m| &m.id == id && m.detail == *name),
        Check::DeviceNamed { id, name } => backend
            .devices()
            .await?
            .iter()
            .any(|d| &d.id == id && d.name == *name),
        Check::SignedOutEverywhere => match backend.methods().await {
            Ok(_) => false,
            Err(BackendError::SignInRequired) => true,
            Err(e) => return Err(e),
        },
        Check::Unknowable { .. } => return Ok(None),
    };
    Ok(Some(yes))
}

/// What did not happen, as the list shows it.
fn not_done(check: &Check) -> String {
    match check {
        Check::MethodGone { label, .. } => format!("{label} is still there"),
        Check::DeviceGone { name, .. } => format!("device {name} is still there"),
        Check::SessionGone { .. } => "the session is still signed in".into(),
        Check::RememberedGone { .. } => "the remembered device is still there".into(),
        Check::AppPasswordGone { name, .. } => format!("app password {name} is still there"),
        Check::MethodDefault { name, .. } | Check::KindDefault { name, .. } => {
            format!("{name} is not the default")
        }
        Check::MethodNamed { name, .. } => format!("the method is not called {name}"),
        Check::DeviceNamed { name, .. } => format!("the device is not called {name}"),
        Check::SignedOutEverywhere => "you are still signed in".into(),
        Check::Unknowable { what } => format!("{what} did not happen"),
    }
}

/// The change, named for "whether … happened".
fn what(check: &Check) -> String {
    match check {
        Check::MethodGone { label, .. } => format!("deleting {label}"),
        Check::DeviceGone { name, .. } => format!("deleting device {name}"),
        Check::SessionGone { .. } => "signing out the session".into(),
        Check::RememberedGone { .. } => "revoking the remembered device".into(),
        Check::AppPasswordGone { name, .. } => format!("deleting app password {name}"),
        Check::MethodDefault { name, .. } | Check::KindDefault { name, .. } => {
            format!("making {name} the default")
        }
        Check::MethodNamed { name, .. } | Check::DeviceNamed { name, .. } => {
            format!("renaming it to {name}")
        }
        Check::SignedOutEverywhere => "signing out everywhere".into(),
        Check::Unknowable { what } => what.clone(),
    }
}

/// Creates an app password. Its password comes only in the answer, so when
/// the answer is lost the list is read again: a new one of that name means
/// it was made but can never be shown (delete it and make another); none
/// means nothing changed. Either way it is `Unconfirmed`, never resent.
pub async fn create_app_password(
    backend: &dyn Backend,
    name: &str,
    service: Option<&str>,
) -> Result<(AppPassword, SecretString), BackendError> {
    let before: Option<Vec<String>> = backend
        .app_passwords()
        .await
        .ok()
        .map(|list| list.into_iter().map(|a| a.id).collect());
    let lost = match backend.create_app_password(name, service).await {
        Err(e) if e.answer_lost() => e,
        other => return other,
    };
    tracing::info!(error = %lost, "a new app password's answer was lost; reading the list again");
    let after = backend.app_passwords().await;
    let message = match (before, after) {
        (Some(before), Ok(after)) => {
            let made = after
                .iter()
                .find(|a| a.name == name && !before.contains(&a.id));
            match made {
                Some(_) => format!(
                    "{lost}, but reading your account again shows app password {name} was made; \
                     its password came only in the lost answer and is never shown again: delete \
                     it and create another"
                ),
                None => format!(
                    "{lost}, and reading your account again shows no new app password {name}: \
                     nothing changed. You can try again."
                ),
            }
        }
        (_, Err(again)) => format!(
            "{lost}, and reading your account again failed too ({again}); check whether app \
             password {name} was made before trying again"
        ),
        (None, Ok(_)) => format!(
            "{lost}, and secinfo cannot tell whether app password {name} was made; check \
             before trying again"
        ),
    };
    Err(BackendError::Unconfirmed { message })
}
