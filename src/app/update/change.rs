//! The life of a change: send → (a step-up, in `step_up.rs`, may come
//! between) → maybe the typed-name override of the last-method guard →
//! result and reload.

use super::note;
use super::{home, lists, session_ended, to_sign_in};
use crate::app::effects::Effect;
use crate::app::state::{
    Change, ChangeInFlight, Notice, Overlay, ReqId, Screen, State, Tone, TypeName,
};
use crate::backend::{BackendError, Refusal};
use crate::journeys::rules;

/// Sends a change, unless another one is still running.
pub(super) fn start(state: &mut State, change: Change) -> Vec<Effect> {
    state.overlay = None;
    if change == Change::GenerateRecoveryCodes {
        return super::extras::generate(state);
    }
    if let Some(busy) = &state.change {
        let text = format!("Wait: {}", busy.change.progress());
        note(state, text, Tone::Info);
        return Vec::new();
    }
    send(state, change)
}

fn send(state: &mut State, change: Change) -> Vec<Effect> {
    let id = state.next_id();
    state.change = Some(ChangeInFlight {
        id,
        change: change.clone(),
    });
    vec![Effect::Change { id, change }]
}

pub(super) fn changed(
    state: &mut State,
    id: ReqId,
    result: Result<Option<String>, BackendError>,
    answer_lost: bool,
) -> Vec<Effect> {
    let Some(flight) = state.change.clone().filter(|c| c.id == id) else {
        return Vec::new();
    };
    let ok = result.is_ok();
    let change = flight.change.clone();
    // Held aside: a change that ends the session clears the state it sits in.
    let journey = state.lost_phone.take();
    let mut fx = settle_change(state, flight, result, answer_lost);
    fx.extend(super::lost_phone::changed(state, journey, &change, ok));
    fx
}

fn settle_change(
    state: &mut State,
    flight: ChangeInFlight,
    result: Result<Option<String>, BackendError>,
    answer_lost: bool,
) -> Vec<Effect> {
    state.change = None;
    let change = flight.change;
    match result {
        Ok(said) => done(state, change, said, answer_lost),
        Err(BackendError::StepUpRequired) => {
            note(
                state,
                "The server still wants you to confirm it is you; nothing was changed.",
                Tone::Error,
            );
            Vec::new()
        }
        Err(BackendError::Rejected {
            reason: Refusal::LastMethod,
            message,
        }) => {
            let expected = match &change {
                Change::DeleteMethod {
                    name,
                    confirm: None,
                    ..
                }
                | Change::DeleteDevice {
                    name,
                    confirm: None,
                    ..
                } => name.clone(),
                _ => {
                    note(state, message, Tone::Error);
                    return Vec::new();
                }
            };
            state.overlay = Some(Overlay::TypeName(TypeName {
                title: "This is your last sign-in method".into(),
                lines: vec![
                    message,
                    rules::LAST_METHOD_WARNING.into(),
                    format!("To delete it anyway, type {expected} and press Enter."),
                ],
                expected,
                input: String::new(),
                change,
                error: None,
            }));
            Vec::new()
        }
        Err(BackendError::SignInRequired) => {
            session_ended(state);
            Vec::new()
        }
        Err(e) if matches!(change, Change::ChangePassword { .. }) => {
            // A policy or wrong-password answer: the form comes back as typed, with the reason.
            let Change::ChangePassword { current, new } = change else {
                return Vec::new();
            };
            super::extras::open_change_password(state);
            if let Some(Overlay::Form(f)) = &mut state.overlay {
                let values = [current, new.clone(), new];
                for (field, v) in f.fields.iter_mut().zip(values) {
                    field.value = v;
                }
                f.error = Some(e.to_string());
            }
            Vec::new()
        }
        Err(e) => {
            note(state, e.to_string(), Tone::Error);
            Vec::new()
        }
    }
}

/// `new_default`: after deleting the default method, the id of the one that took its place.
fn done(
    state: &mut State,
    change: Change,
    new_default: Option<String>,
    answer_lost: bool,
) -> Vec<Effect> {
    let (text, mut fx) = match &change {
        Change::DeleteMethod { label, .. } => {
            let successor = new_default.as_ref().and_then(|id| {
                state
                    .methods
                    .ready()?
                    .iter()
                    .find(|m| &m.id == id)
                    .map(crate::app::state::method_name)
            });
            let text = rules::after_delete(label, successor.as_deref());
            (text, home::reload_methods(state))
        }
        Change::SetDefault { name, .. } | Change::SetDefaultKind { name, .. } => {
            (rules::now_default(name), home::reload_methods(state))
        }
        Change::DeleteDevice { name, .. } => {
            let mut fx = lists::load(state);
            fx.extend(home::reload_methods(state));
            (
                rules::after_delete(&format!("device {name} and its sign-in methods"), None),
                fx,
            )
        }
        Change::RevokeSession { current: true, .. } => {
            to_sign_in(
                state,
                Some(Notice {
                    text: "You signed out this session.".into(),
                    tone: Tone::Info,
                }),
            );
            return Vec::new();
        }
        Change::RevokeSession { .. } => ("Signed out that session.".into(), lists::load(state)),
        Change::ForgetDevice { current, .. } => {
            let who = if *current {
                "This client"
            } else {
                "That client"
            };
            (
                format!("{who} will be asked for a second factor at the next sign-in."),
                lists::load(state),
            )
        }
        Change::RenameMethod { name, .. } => (
            rules::renamed(false, name),
            home::reload_methods(state),
        ),
        Change::RenameDevice { name, .. } => {
            let mut fx = home::reload_methods(state);
            if state.screen == Screen::Devices {
                fx.extend(lists::load(state));
            }
            (rules::renamed(true, name), fx)
        }
        Change::ChangePassword { .. } => (
            "Your password was changed. Your other sessions and your app passwords were signed out.".into(),
            home::reload_methods(state),
        ),
        Change::DeleteAppPassword { name, .. } => (
            rules::app_password_deleted(name),
            super::extras::open(state, Screen::AppPasswords),
        ),
        Change::GenerateRecoveryCodes => (String::new(), Vec::new()),
        Change::SignOutEverywhere => {
            let username = state.account.ready().map(|a| a.username.clone());
            let text = rules::SIGNED_OUT_EVERYWHERE;
            to_sign_in(
                state,
                Some(Notice {
                    text: text.into(),
                    tone: Tone::Success,
                }),
            );
            return username
                .map(|username| vec![Effect::ForgetCredentials { username }])
                .unwrap_or_default();
        }
    };
    let text = if answer_lost {
        format!("{} {text}", crate::journeys::outcome::ANSWER_LOST_BUT_DONE)
    } else {
        text
    };
    note(state, text, Tone::Success);
    if state.screen == Screen::Home {
        fx.retain(|e| {
            !matches!(
                e,
                Effect::LoadDevices { .. }
                    | Effect::LoadSessions { .. }
                    | Effect::LoadRemembered { .. }
            )
        });
    }
    fx
}
