//! "Add sign-in method": choose a kind → (get the app) → begin on the server →
//! scan / type a number or address → verify or approve → saved. Leaving at any
//! step after the server began cancels the enrollment there.

use super::{home, session_ended, step};
use crate::app::effects::Effect;
use crate::app::keymap::Command;
use crate::app::state::{
    KindChoice, Loadable, Notice, ReqId, State, TargetForm, Tone, Wizard, WizardStep, is_phone,
    kind_choices,
};
use crate::backend::BackendError;
use crate::domain::{Ability, Enrollment, EnrollmentState, MethodKind};
use crate::journeys::add::Added;
use crate::journeys::rules;
use crate::present;
use crate::secrets::SecretString;
use std::time::Duration;

/// Opens the wizard; `first_run` after a sign-in that found no second factor.
pub(crate) fn open(state: &mut State, first_run: bool) -> Vec<Effect> {
    state.wizard = Some(Wizard::new(first_run));
    Vec::new()
}

/// The choices on screen (empty while the capabilities load).
pub fn choices(state: &State) -> Vec<KindChoice> {
    state.caps.ready().map(kind_choices).unwrap_or_default()
}

/// Closes the wizard; a pending enrollment is cancelled on the server.
pub(super) fn abandon(state: &mut State) -> Vec<Effect> {
    let Some(w) = state.wizard.take() else {
        return Vec::new();
    };
    match w.enrollment {
        Some(enrollment) => vec![Effect::CancelEnrollment { enrollment }],
        None => Vec::new(),
    }
}

fn cancel(state: &mut State) -> Vec<Effect> {
    let had = state
        .wizard
        .as_ref()
        .is_some_and(|w| w.enrollment.is_some());
    let fx = abandon(state);
    if had {
        state.notice = Some(Notice {
            text: rules::ADD_CANCELLED.into(),
            tone: Tone::Info,
        });
    }
    fx
}

/// The TOTP scan step and the code steps take digits even though letters are commands there.
pub(super) fn takes_digits(state: &State) -> bool {
    state.overlay.is_none()
        && state.step_up.is_none()
        && matches!(
            state.wizard.as_ref().map(|w| &w.step),
            Some(WizardStep::Scan { .. } | WizardStep::Code { .. })
        )
        && state
            .wizard
            .as_ref()
            .and_then(Wizard::kind)
            .is_some_and(|k| *k != MethodKind::AuthenticatorPush)
}

pub(super) fn type_text(state: &mut State, text: &str) -> bool {
    let digits = takes_digits(state);
    let Some(w) = &mut state.wizard else {
        return false;
    };
    let clean = text.chars().filter(|c| !c.is_control());
    match &mut w.step {
        WizardStep::Target(t) if t.focus == 0 => {
            t.country.extend(clean.filter(|c| c.is_ascii_digit()));
        }
        WizardStep::Target(t) => t.input.extend(clean),
        WizardStep::Scan { code } | WizardStep::Code { code } if digits => {
            clean
                .filter(char::is_ascii_digit)
                .take(8usize.saturating_sub(code.len()))
                .for_each(|c| code.push(c));
        }
        _ => {}
    }
    true
}

pub(super) fn backspace(state: &mut State) -> bool {
    let Some(w) = &mut state.wizard else {
        return false;
    };
    match &mut w.step {
        WizardStep::Target(t) if t.focus == 0 => {
            t.country.pop();
        }
        WizardStep::Target(t) => {
            t.input.pop();
        }
        WizardStep::Scan { code } | WizardStep::Code { code } => {
            code.pop();
        }
        _ => {}
    }
    true
}

fn begin(state: &mut State, kind: MethodKind, form: Option<TargetForm>) -> Vec<Effect> {
    let id = state.next_id();
    let target = match form.as_ref().map(TargetForm::target) {
        Some(Ok(t)) => Some(t),
        Some(Err(_)) | None => None,
    };
    let Some(w) = &mut state.wizard else {
        return Vec::new();
    };
    w.pending = Some(id);
    w.error = None;
    w.step = WizardStep::Starting {
        kind: kind.clone(),
        form,
    };
    match (w.replaces.clone(), target) {
        (Some(method_id), Some(number)) => vec![Effect::BeginPhoneChange {
            id,
            method_id,
            number,
        }],
        (_, target) => vec![Effect::BeginEnrollment { id, kind, target }],
    }
}

fn poll(state: &mut State, delay: Duration) -> Vec<Effect> {
    let id = state.next_id();
    let Some(w) = &mut state.wizard else {
        return Vec::new();
    };
    let Some(enrollment) = w.enrollment.clone() else {
        return Vec::new();
    };
    if w.polls >= rules::enrollment_polls(enrollment.expires_in) {
        w.step = WizardStep::Failed {
            message: capitalize(rules::TEST_UNANSWERED),
        };
        return Vec::new();
    }
    w.polls += 1;
    w.pending = Some(id);
    vec![Effect::VerifyEnrollment {
        id,
        enrollment,
        code: None,
        delay,
    }]
}

fn check_code(state: &mut State) -> Vec<Effect> {
    let id = state.next_id();
    let Some(w) = &mut state.wizard else {
        return Vec::new();
    };
    if w.pending.is_some() {
        return Vec::new();
    }
    let (WizardStep::Scan { code } | WizardStep::Code { code }) = &w.step else {
        return Vec::new();
    };
    if code.len() < 6 {
        w.error = Some("Enter the 6-digit code first.".into());
        return Vec::new();
    }
    let code = code.clone();
    let Some(enrollment) = w.enrollment.clone() else {
        return Vec::new();
    };
    w.pending = Some(id);
    w.error = None;
    vec![Effect::VerifyEnrollment {
        id,
        enrollment,
        code: Some(code),
        delay: Duration::ZERO,
    }]
}

fn why_not(ability: &Ability) -> Option<String> {
    match ability {
        Ability::Yes => None,
        Ability::No { reason, portal_url } => Some(present::not_available(
            reason,
            portal_url.as_deref(),
            "add it",
        )),
    }
}

pub(super) fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    let Some(w) = state.wizard.clone() else {
        return Vec::new();
    };
    let is_push = w.kind() == Some(&MethodKind::AuthenticatorPush);
    match (&w.step, cmd) {
        (_, Command::Back) => match &w.step {
            WizardStep::Choose { .. } => cancel(state),
            WizardStep::Target(_) if w.replaces.is_some() => cancel(state),
            WizardStep::GetApp | WizardStep::Handoff(_) | WizardStep::Target(_) => {
                set(state, |w| {
                    w.error = None;
                    w.step = WizardStep::Choose { focus: 0 };
                });
                Vec::new()
            }
            _ => cancel(state),
        },
        (WizardStep::Choose { focus }, Command::MoveUp | Command::MoveDown) => {
            let n = choices(state).len();
            let f = step(*focus, n, cmd == Command::MoveDown);
            set(state, |w| w.step = WizardStep::Choose { focus: f });
            Vec::new()
        }
        (WizardStep::Choose { focus }, Command::Activate) => {
            let Some(choice) = choices(state).get(*focus).cloned() else {
                return Vec::new();
            };
            let browser = matches!(choice.kind, MethodKind::SecurityKey | MethodKind::Passkey);
            if let Some(why) = why_not(&choice.ability) {
                // A browser-only kind gets its explanation page; the others say why here.
                if browser {
                    set(state, |w| w.step = WizardStep::Handoff(choice.kind.clone()));
                } else {
                    set(state, |w| w.error = Some(why));
                }
                return Vec::new();
            }
            match choice.kind {
                MethodKind::AuthenticatorPush => {
                    set(state, |w| {
                        w.error = None;
                        w.step = WizardStep::GetApp;
                    });
                    Vec::new()
                }
                MethodKind::SecurityKey | MethodKind::Passkey => {
                    set(state, |w| w.step = WizardStep::Handoff(choice.kind.clone()));
                    Vec::new()
                }
                k if is_phone(&k) || k == MethodKind::Email => {
                    set(state, |w| {
                        w.error = None;
                        w.step = WizardStep::Target(TargetForm::new(k));
                    });
                    Vec::new()
                }
                k => begin(state, k, None),
            }
        }
        (WizardStep::GetApp, Command::Activate) => {
            begin(state, MethodKind::AuthenticatorPush, None)
        }
        (WizardStep::Handoff(_), Command::Activate) => {
            set(state, |w| w.step = WizardStep::Choose { focus: 0 });
            Vec::new()
        }
        (WizardStep::Target(t), Command::NextField | Command::PrevField) => {
            let mut t = t.clone();
            t.focus = 1 - t.focus.min(1);
            set(state, |w| w.step = WizardStep::Target(t));
            Vec::new()
        }
        (WizardStep::Target(t), Command::Activate) => match t.target() {
            Ok(_) => begin(state, t.kind.clone(), Some(t.clone())),
            Err(why) => {
                set(state, |w| w.error = Some(why));
                Vec::new()
            }
        },
        (WizardStep::Scan { .. }, Command::ShowText) => {
            set(state, |w| w.show_text = !w.show_text);
            Vec::new()
        }
        (WizardStep::Scan { .. }, Command::Invert) => {
            set(state, |w| w.inverted = !w.inverted);
            Vec::new()
        }
        (WizardStep::Scan { .. }, Command::Copy) => {
            let Some(payload) = w.enrollment.as_ref().and_then(|e| e.qr_payload.clone()) else {
                return Vec::new();
            };
            let what = if is_push {
                "activation link"
            } else {
                "setup link"
            };
            state.notice = Some(Notice {
                text: format!("Copied the {what} to your clipboard (OSC 52)."),
                tone: Tone::Info,
            });
            vec![Effect::Copy { text: payload }]
        }
        (WizardStep::Scan { .. }, Command::Phone) if is_push => {
            let Some(payload) = w.enrollment.as_ref().and_then(|e| e.qr_payload.clone()) else {
                return Vec::new();
            };
            if w.phone_busy.is_some() {
                return Vec::new();
            }
            let id = state.next_id();
            set(state, |w| {
                w.phone_busy = Some(id);
                w.phone_said = None;
            });
            vec![Effect::PhoneActivate { id, payload }]
        }
        (WizardStep::Scan { .. }, Command::Activate) if is_push => {
            set(state, |w| {
                w.error = None;
                w.step = WizardStep::Approve { number: None };
            });
            poll(state, Duration::ZERO)
        }
        (WizardStep::Scan { .. } | WizardStep::Code { .. }, Command::Activate) => check_code(state),
        (WizardStep::Approve { number: Some(n) }, Command::Phone) if w.phone_busy.is_none() => {
            let (id, number) = (state.next_id(), *n);
            set(state, |w| {
                w.phone_busy = Some(id);
                w.phone_said = None;
            });
            let username = state.account.ready().map(|a| a.username.clone());
            vec![Effect::PhoneApprove {
                id,
                number,
                username,
            }]
        }
        (WizardStep::Failed { .. }, Command::Activate) => {
            set(state, |w| {
                w.error = None;
                w.step = WizardStep::Approve { number: None };
            });
            poll(state, Duration::ZERO)
        }
        _ => Vec::new(),
    }
}

fn set(state: &mut State, f: impl FnOnce(&mut Wizard)) {
    if let Some(w) = &mut state.wizard {
        f(w);
    }
}

/// Takes a result meant for the wizard's call in flight; stale ones are dropped.
fn settle(state: &mut State, id: ReqId) -> bool {
    match &mut state.wizard {
        Some(w) if w.pending == Some(id) => {
            w.pending = None;
            true
        }
        _ => false,
    }
}

pub(super) fn begun(
    state: &mut State,
    id: ReqId,
    result: Result<Enrollment, BackendError>,
) -> Vec<Effect> {
    if !settle(state, id) {
        // The user left before the server answered: drop what it began.
        return match result {
            Ok(enrollment) => vec![Effect::CancelEnrollment { enrollment }],
            Err(_) => Vec::new(),
        };
    }
    let Some(w) = &mut state.wizard else {
        return Vec::new();
    };
    let form = match &w.step {
        WizardStep::Starting { form, .. } => form.clone(),
        _ => None,
    };
    match result {
        Ok(Enrollment {
            finished: Some(method),
            ..
        }) => added(state, method),
        Ok(e) => {
            w.step = match e.kind {
                MethodKind::AuthenticatorPush | MethodKind::Totp => WizardStep::Scan {
                    code: SecretString::default(),
                },
                _ => WizardStep::Code {
                    code: SecretString::default(),
                },
            };
            w.set_enrollment(e);
            Vec::new()
        }
        Err(BackendError::SignInRequired) => {
            session_ended(state);
            Vec::new()
        }
        Err(e) => {
            w.error = Some(format!("Could not start: {e}"));
            w.step = match form {
                Some(f) => WizardStep::Target(f),
                None => WizardStep::Choose { focus: 0 },
            };
            Vec::new()
        }
    }
}

/// Saved on the server: close the wizard and say what was added (or changed).
fn added(state: &mut State, m: crate::domain::Method) -> Vec<Effect> {
    let changed = state.wizard.take().is_some_and(|w| w.replaces.is_some());
    let renameable = state.caps.ready().is_some_and(|c| c.rename.is_yes());
    if renameable && matches!(m.kind, MethodKind::Totp | MethodKind::AuthenticatorPush) {
        super::extras::name_new_app(state, &m);
    }
    let text = Added {
        method: m,
        replaced: changed,
    }
    .message();
    state.notice = Some(Notice {
        text,
        tone: Tone::Success,
    });
    state.home_focus = 0;
    let mut fx = home::reload_methods(state);
    if !state.caps.is_loading() && !matches!(state.caps, Loadable::Ready(_)) {
        fx.extend(home::load(state, false));
    }
    fx
}

pub(super) fn checked(
    state: &mut State,
    id: ReqId,
    result: Result<EnrollmentState, BackendError>,
) -> Vec<Effect> {
    if !settle(state, id) {
        return Vec::new();
    }
    let every = state.poll_every;
    let Some(w) = &mut state.wizard else {
        return Vec::new();
    };
    let polling = matches!(w.step, WizardStep::Approve { .. });
    match result {
        Ok(EnrollmentState::Done(m)) => added(state, m),
        Ok(EnrollmentState::AwaitingApproval { number }) if polling => {
            w.step = WizardStep::Approve { number };
            poll(state, every)
        }
        Ok(EnrollmentState::Pending | EnrollmentState::AwaitingApproval { .. }) if polling => {
            poll(state, every)
        }
        Ok(_) => {
            w.error = Some("The server has not accepted it yet; try the code again.".into());
            Vec::new()
        }
        Err(BackendError::SignInRequired) => {
            session_ended(state);
            Vec::new()
        }
        Err(e) if polling => {
            w.step = WizardStep::Failed {
                message: e.to_string(),
            };
            Vec::new()
        }
        Err(BackendError::Rejected { reason, message })
            if reason.is_wrong_code() && w.wrong_codes + 1 >= rules::WRONG_CODES =>
        {
            w.step = WizardStep::Failed {
                message: format!(
                    "{}. {}",
                    capitalize(message.trim_end_matches('.')),
                    rules::NOTHING_ADDED
                ),
            };
            Vec::new()
        }
        Err(e) => {
            // Wrong code: say so, keep the QR code, let them type another.
            w.wrong_codes += 1;
            w.error = Some(match &e {
                BackendError::Rejected { message, .. } => capitalize(message),
                other => capitalize(&other.to_string()),
            });
            if let WizardStep::Scan { code } | WizardStep::Code { code } = &mut w.step {
                *code = SecretString::default();
            }
            Vec::new()
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

pub(super) fn phone_activated(
    state: &mut State,
    id: ReqId,
    result: Result<String, String>,
) -> Vec<Effect> {
    let Some(w) = &mut state.wizard else {
        return Vec::new();
    };
    if w.phone_busy != Some(id) {
        return Vec::new();
    }
    w.phone_busy = None;
    let ok = result.is_ok();
    w.phone_said = Some(result);
    if ok && matches!(w.step, WizardStep::Scan { .. }) {
        w.step = WizardStep::Approve { number: None };
        return poll(state, Duration::ZERO);
    }
    Vec::new()
}

/// The simulated phone's answer when the wizard asked it; false when it was not ours.
pub(super) fn phone_approved(state: &mut State, id: ReqId, result: &Result<(), String>) -> bool {
    let Some(w) = &mut state.wizard else {
        return false;
    };
    if w.phone_busy != Some(id) {
        return false;
    }
    w.phone_busy = None;
    w.phone_said = Some(
        result
            .clone()
            .map(|()| "Approved on the simulated phone.".to_string()),
    );
    true
}

/// "Change" on a phone or email row: the new number or address is verified like a new method.
pub(super) fn open_change_number(state: &mut State, method_id: &str) -> Vec<Effect> {
    let Some(m) = state
        .methods
        .ready()
        .and_then(|ms| ms.iter().find(|m| m.id == method_id))
        .cloned()
    else {
        return Vec::new();
    };
    let mut w = Wizard::new(false);
    w.replaces = Some(m.id.clone());
    w.step = WizardStep::Target(TargetForm::new(m.kind.clone()));
    state.wizard = Some(w);
    Vec::new()
}
