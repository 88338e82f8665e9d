//! Effects: the only place the app touches the backend, the secret store and
//! the accounts list. `update` returns them; the runtime spawns `run` for each
//! on tokio and feeds the actions it returns back into `update`.

use crate::app::action::Action;
use crate::app::state::{Change, ReqId};
use crate::backend::{Backend, BackendError, BrowserStep, Challenge};
use crate::domain::{Enrollment, MethodKind};
pub use crate::journeys::asker::SimulatedPhone;
use crate::journeys::outcome::{Check, Settled, settle};
use crate::journeys::session::Keeper;
use crate::protocol::OutboxMessage;
use crate::secrets::SecretString;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// At start, after the first frame: take up `username`'s kept sign-in
    /// without asking the server (the home screen's loads ask). A keyring over
    /// D-Bus takes tens of milliseconds, so it is not done before drawing.
    Resume {
        id: ReqId,
        username: String,
    },
    /// Try the sign-in kept for `username`.
    Restore {
        id: ReqId,
        username: String,
    },
    SignIn {
        id: ReqId,
        username: String,
        password: SecretString,
    },
    StartFactor {
        id: ReqId,
        challenge: Challenge,
        method_id: String,
    },
    /// Check a code, or poll a push (`code: None`).
    Answer {
        id: ReqId,
        challenge: Challenge,
        method_id: String,
        code: Option<SecretString>,
        remember: bool,
    },
    /// Come back after `delay` (the pause between push polls): answers `Waited`.
    Wait {
        id: ReqId,
        delay: Duration,
    },
    StepUp {
        id: ReqId,
    },
    /// Ask whether the browser step is finished, after `delay` (the provider's pace).
    PollBrowser {
        id: ReqId,
        step: BrowserStep,
        delay: Duration,
    },
    LoadAccount {
        id: ReqId,
    },
    LoadCapabilities {
        id: ReqId,
    },
    LoadMethods {
        id: ReqId,
    },
    LoadDevices {
        id: ReqId,
    },
    LoadSessions {
        id: ReqId,
    },
    LoadRemembered {
        id: ReqId,
    },
    /// `before`: the cursor of the older page, `None` for the newest.
    LoadActivity {
        id: ReqId,
        before: Option<String>,
    },
    Change {
        id: ReqId,
        change: Change,
    },
    /// Keep the sign-in in the secret store and the account on the list.
    Keep {
        username: String,
        display_name: String,
    },
    ForgetAccount {
        username: String,
    },
    /// Drop everything kept for the account (after Sign out everywhere).
    ForgetCredentials {
        username: String,
    },
    SignOut {
        id: ReqId,
        username: Option<String>,
    },
    /// Approve the demo phone's request of `username` (the account signing
    /// in or adding the phone) with `number`; never another account's.
    PhoneApprove {
        id: ReqId,
        number: u32,
        username: Option<String>,
    },
    LoadOutbox {
        id: ReqId,
    },
    BeginEnrollment {
        id: ReqId,
        kind: MethodKind,
        target: Option<String>,
    },
    /// Check a code, or poll (`code: None`) after `delay`.
    VerifyEnrollment {
        id: ReqId,
        enrollment: Enrollment,
        code: Option<SecretString>,
        delay: Duration,
    },
    /// Leave nothing half-enrolled: the server drops the pending enrollment.
    CancelEnrollment {
        enrollment: Enrollment,
    },
    /// A new number for a phone method: a code goes there (answers `EnrollmentBegun`).
    BeginPhoneChange {
        id: ReqId,
        method_id: String,
        number: String,
    },
    LoadAppPasswords {
        id: ReqId,
    },
    CreateAppPassword {
        id: ReqId,
        name: String,
        service: Option<String>,
    },
    LoadRecoveryLeft {
        id: ReqId,
    },
    GenerateRecoveryCodes {
        id: ReqId,
    },
    /// The demo's simulated phone scans an activation payload.
    PhoneActivate {
        id: ReqId,
        payload: SecretString,
    },
    /// Put text on the clipboard of the terminal the user sits at (OSC 52,
    /// works over SSH). Only the terminal runtime can do it: `run` ignores it.
    Copy {
        text: SecretString,
    },
}

impl Effect {
    /// A request the server may refuse until the user confirms it is them
    /// again (a step-up): security-info changes and what creates secrets.
    fn may_need_step_up(&self) -> bool {
        matches!(
            self,
            Effect::Change { .. }
                | Effect::BeginEnrollment { .. }
                | Effect::BeginPhoneChange { .. }
                | Effect::VerifyEnrollment { .. }
                | Effect::CreateAppPassword { .. }
                | Effect::GenerateRecoveryCodes { .. }
        )
    }

    /// The id its answer will carry, for requests that may need a step-up.
    pub fn req_id(&self) -> Option<ReqId> {
        match self {
            Effect::Change { id, .. }
            | Effect::BeginEnrollment { id, .. }
            | Effect::BeginPhoneChange { id, .. }
            | Effect::VerifyEnrollment { id, .. }
            | Effect::CreateAppPassword { id, .. }
            | Effect::GenerateRecoveryCodes { id } => Some(*id),
            _ => None,
        }
    }

    /// The answer this request gets when it fails with `error`, so the screen
    /// that sent it settles as it would after any other refusal.
    pub fn failed(&self, error: BackendError) -> Option<Action> {
        let e = error;
        Some(match self {
            Effect::Change { id, .. } => Action::Changed {
                id: *id,
                result: Err(e),
                answer_lost: false,
            },
            Effect::BeginEnrollment { id, .. } | Effect::BeginPhoneChange { id, .. } => {
                Action::EnrollmentBegun {
                    id: *id,
                    result: Err(e),
                }
            }
            Effect::VerifyEnrollment { id, .. } => Action::EnrollmentChecked {
                id: *id,
                result: Err(e),
            },
            Effect::CreateAppPassword { id, .. } => Action::AppPasswordCreated {
                id: *id,
                result: Err(e),
            },
            Effect::GenerateRecoveryCodes { id } => Action::RecoveryCodes {
                id: *id,
                result: Err(e),
            },
            _ => return None,
        })
    }

    /// What a request that needs a step-up is for, in the words of the screen.
    pub fn purpose(&self) -> String {
        match self {
            Effect::Change { change, .. } => change.progress().trim_end_matches('…').to_string(),
            Effect::BeginEnrollment { kind, .. } => {
                format!("Adding {}", kind.title().to_lowercase())
            }
            Effect::BeginPhoneChange { .. } => "Changing the number".into(),
            Effect::VerifyEnrollment { .. } => "Saving the new method".into(),
            Effect::CreateAppPassword { name, .. } => format!("Creating app password {name}"),
            Effect::GenerateRecoveryCodes { .. } => "Generating recovery codes".into(),
            _ => "This change".into(),
        }
    }
}

/// The OSC 52 sequence that sets the terminal's clipboard to `text` (a
/// password shown once, a secret): built in one buffer of the right size,
/// wiped when dropped.
pub fn osc52(text: &str) -> zeroize::Zeroizing<String> {
    use base64::Engine;
    let encoded = text.len().div_ceil(3) * 4;
    let mut out = zeroize::Zeroizing::new(String::with_capacity(encoded + 8));
    out.push_str("\x1b]52;c;");
    base64::engine::general_purpose::STANDARD.encode_string(text.as_bytes(), &mut out);
    out.push('\x07');
    out
}

/// The demo's simulated phone and outbox, behind a trait so the TUI does not
/// depend on how they are built.
#[async_trait]
pub trait DemoServices: SimulatedPhone {
    async fn outbox(&self) -> Result<Vec<OutboxMessage>, String>;
}

/// What effects run against.
#[derive(Clone)]
pub struct Deps {
    pub backend: Arc<dyn Backend>,
    /// The profile's kept sign-ins and accounts list.
    pub keeper: Keeper,
    pub demo: Option<Arc<dyn DemoServices>>,
}

fn no_demo() -> String {
    "the simulated phone exists only in the demo".into()
}

/// Runs one effect to completion and says what happened. A request the
/// server refused for want of a fresh second factor comes back whole, as
/// `StepUpNeeded`, so `update` can step up and send it again.
pub async fn run(effect: Effect, deps: Deps) -> Vec<Action> {
    let retry = effect.may_need_step_up().then(|| effect.clone());
    let actions = perform(effect, deps).await;
    match (retry, actions.as_slice()) {
        (Some(retry), [answer]) if answer.refused_for_step_up() => {
            vec![Action::StepUpNeeded(Box::new(retry))]
        }
        _ => actions,
    }
}

async fn perform(effect: Effect, deps: Deps) -> Vec<Action> {
    let b = deps.backend.clone();
    let one = |a: Action| vec![a];
    match effect {
        Effect::Resume { id, username } => {
            let kept = deps.keeper.restore_quietly(&*b, &username).await;
            one(Action::Resumed { id, kept })
        }
        Effect::Restore { id, username } => {
            let result = Ok(deps.keeper.restore(&*b, &username).await);
            one(Action::Restored { id, result })
        }
        Effect::SignIn {
            id,
            username,
            password,
        } => {
            deps.keeper.restore_grant_only(&*b, &username).await;
            one(Action::PasswordChecked {
                id,
                result: b.sign_in(&username, &password).await,
            })
        }
        Effect::StartFactor {
            id,
            challenge,
            method_id,
        } => one(Action::FactorStarted {
            id,
            result: b.start_factor(&challenge, &method_id).await,
        }),
        Effect::Answer {
            id,
            challenge,
            method_id,
            code,
            remember,
        } => {
            let result = b
                .answer_factor(&challenge, &method_id, code.as_ref(), remember)
                .await;
            one(Action::FactorAnswered { id, result })
        }
        Effect::Wait { id, delay } => {
            tokio::time::sleep(delay).await;
            one(Action::Waited { id })
        }
        Effect::StepUp { id } => one(Action::SteppedUp {
            id,
            result: b.step_up().await,
        }),
        Effect::PollBrowser { id, step, delay } => {
            tokio::time::sleep(delay).await;
            one(Action::BrowserPolled {
                id,
                result: b.poll_browser(&step).await,
            })
        }
        Effect::LoadAccount { id } => one(Action::Account {
            id,
            result: b.account().await,
        }),
        Effect::LoadCapabilities { id } => one(Action::Capabilities {
            id,
            result: b.capabilities().await,
        }),
        Effect::LoadMethods { id } => one(Action::Methods {
            id,
            result: b.methods().await,
        }),
        Effect::LoadDevices { id } => one(Action::Devices {
            id,
            result: b.devices().await,
        }),
        Effect::LoadSessions { id } => one(Action::Sessions {
            id,
            result: b.sessions().await,
        }),
        Effect::LoadRemembered { id } => one(Action::Remembered {
            id,
            result: b.remembered_devices().await,
        }),
        Effect::LoadActivity { id, before } => one(Action::Activity {
            id,
            older: before.is_some(),
            result: b.activity(before.as_deref()).await,
        }),
        Effect::Change { id, change } => {
            // An answer lost on the way is settled by reading the account again, never by resending.
            let sent = apply(&*b, &change).await;
            let (result, answer_lost) = match settle(&*b, sent, &check(&change)).await {
                Ok(Settled::Answered(said)) => (Ok(said), false),
                Ok(Settled::AnswerLost) => (Ok(None), true),
                Err(e) => (Err(e), false),
            };
            one(Action::Changed {
                id,
                result,
                answer_lost,
            })
        }
        Effect::Keep {
            username,
            display_name,
        } => {
            let kept = deps
                .keeper
                .keep(&*b, &username, &display_name)
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "sign-in not kept");
                    e.to_string()
                });
            vec![
                Action::Kept(kept),
                Action::AccountsChanged(deps.keeper.accounts()),
            ]
        }
        Effect::ForgetAccount { username } => {
            deps.keeper.forget_account(&username).await;
            one(Action::AccountsChanged(deps.keeper.accounts()))
        }
        Effect::ForgetCredentials { username } => {
            if let Err(e) = deps.keeper.forget_sign_in(&username).await {
                tracing::warn!(error = %e, "cannot forget the kept sign-in");
            }
            vec![]
        }
        Effect::SignOut { id, username } => {
            let result = match username {
                Some(user) => deps.keeper.sign_out(&*b, &user).await,
                None => b.sign_out().await,
            };
            one(Action::SignedOut { id, result })
        }
        Effect::PhoneApprove {
            id,
            number,
            username,
        } => {
            let result = match &deps.demo {
                Some(d) => d.approve(username.as_deref(), number).await,
                None => Err(no_demo()),
            };
            one(Action::PhoneApproved { id, result })
        }
        Effect::LoadOutbox { id } => {
            let result = match &deps.demo {
                Some(d) => d.outbox().await,
                None => Err(no_demo()),
            };
            one(Action::Outbox { id, result })
        }
        Effect::BeginEnrollment { id, kind, target } => one(Action::EnrollmentBegun {
            id,
            result: b.begin_enrollment(&kind, target.as_deref()).await,
        }),
        Effect::VerifyEnrollment {
            id,
            enrollment,
            code,
            delay,
        } => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            one(Action::EnrollmentChecked {
                id,
                result: b.verify_enrollment(&enrollment, code.as_ref()).await,
            })
        }
        Effect::CancelEnrollment { enrollment } => {
            if let Err(e) = b.cancel_enrollment(&enrollment).await {
                tracing::warn!(code = e.code(), "could not cancel the pending enrollment");
            }
            vec![]
        }
        Effect::PhoneActivate { id, payload } => {
            let result = match &deps.demo {
                Some(d) => d.activate(payload.expose()).await,
                None => Err(no_demo()),
            };
            one(Action::PhoneActivated { id, result })
        }
        Effect::Copy { .. } => vec![],
        Effect::BeginPhoneChange {
            id,
            method_id,
            number,
        } => one(Action::EnrollmentBegun {
            id,
            result: b.begin_phone_change(&method_id, &number).await,
        }),
        Effect::LoadAppPasswords { id } => {
            let result = match b.app_passwords().await {
                Ok(list) => b.app_password_services().await.map(|s| (list, s)),
                Err(e) => Err(e),
            };
            one(Action::AppPasswords { id, result })
        }
        Effect::CreateAppPassword { id, name, service } => one(Action::AppPasswordCreated {
            id,
            result: crate::journeys::outcome::create_app_password(&*b, &name, service.as_deref())
                .await,
        }),
        Effect::LoadRecoveryLeft { id } => one(Action::RecoveryLeft {
            id,
            result: b.recovery_codes_left().await,
        }),
        Effect::GenerateRecoveryCodes { id } => one(Action::RecoveryCodes {
            id,
            result: b.generate_recovery_codes().await,
        }),
    }
}

/// What reading the account again must show if `change` happened.
fn check(change: &Change) -> Check {
    match change.clone() {
        Change::DeleteMethod { id, label, .. } => Check::MethodGone { id, label },
        Change::SetDefault { id, name } => Check::MethodDefault { id, name },
        Change::SetDefaultKind { kind, name } => Check::KindDefault { kind, name },
        Change::DeleteDevice { id, name, .. } => Check::DeviceGone { id, name },
        Change::RevokeSession { id, .. } => Check::SessionGone { id },
        Change::ForgetDevice { id, .. } => Check::RememberedGone { id },
        Change::SignOutEverywhere => Check::SignedOutEverywhere,
        Change::RenameMethod { id, name } => Check::MethodNamed { id, name },
        Change::RenameDevice { id, name } => Check::DeviceNamed { id, name },
        Change::DeleteAppPassword { id, name } => Check::AppPasswordGone { id, name },
        Change::ChangePassword { .. } => Check::Unknowable {
            what: "the password change".into(),
        },
        Change::GenerateRecoveryCodes => Check::Unknowable {
            what: "generating recovery codes".into(),
        },
    }
}

/// Sends a change to the backend; `Ok(Some(id))` names the new default after a delete.
pub async fn apply(b: &dyn Backend, change: &Change) -> Result<Option<String>, BackendError> {
    match change {
        Change::DeleteMethod { id, confirm, .. } => b.delete_method(id, confirm.as_deref()).await,
        Change::SetDefault { id, .. } => b.set_default_method(id).await.map(|_| None),
        Change::SetDefaultKind { kind, .. } => b.set_default_kind(kind).await.map(|_| None),
        Change::DeleteDevice { id, confirm, .. } => {
            b.delete_device(id, confirm.as_deref()).await.map(|_| None)
        }
        Change::RevokeSession { id, .. } => b.revoke_session(id).await.map(|_| None),
        Change::ForgetDevice { id, .. } => b.forget_device(id).await.map(|_| None),
        Change::SignOutEverywhere => b.sign_out_everywhere().await.map(|_| None),
        Change::RenameMethod { id, name } => b.rename_method(id, name).await.map(|_| None),
        Change::RenameDevice { id, name } => b.rename_device(id, name).await.map(|_| None),
        Change::ChangePassword { current, new } => {
            b.change_password(current, new).await.map(|_| None)
        }
        Change::DeleteAppPassword { id, .. } => b.delete_app_password(id).await.map(|_| None),
        // `update` sends these as `Effect::GenerateRecoveryCodes`, whose answer keeps the codes.
        Change::GenerateRecoveryCodes => Err(BackendError::NotSupported(
            "recovery codes are generated through their own request".into(),
        )),
    }
}
