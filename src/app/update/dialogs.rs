//! Overlays (help, confirmations, menus, demo panels) and the life of a
//! change: confirm → send → maybe step up and retry once → result.

use super::{home, lists, session_ended, step, to_sign_in, verify};
use crate::app::effects::Effect;
use crate::app::keymap::Command;
use crate::app::state::{
    Change, ChangeInFlight, Confirm, Loadable, MenuChoice, Notice, Overlay, PhonePanel, Purpose,
    ReqId, Screen, State, StepUp, Tone, TypeName,
};
use crate::backend::{BackendError, SignIn};

/// Asks before `change`; Cancel has focus.
pub(super) fn confirm(
    state: &mut State,
    title: String,
    lines: Vec<String>,
    yes: &str,
    change: Change,
) {
    state.overlay = Some(Overlay::Confirm(Confirm {
        title,
        lines,
        yes: yes.into(),
        change,
        yes_focused: false,
    }));
}

fn note(state: &mut State, text: impl Into<String>, tone: Tone) {
    state.notice = Some(Notice {
        text: text.into(),
        tone,
    });
}

pub(super) fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    let Some(overlay) = state.overlay.clone() else {
        return Vec::new();
    };
    match overlay {
        Overlay::Help => {
            if cmd == Command::Back {
                state.overlay = None;
            }
            Vec::new()
        }
        Overlay::Confirm(mut c) => match cmd {
            Command::NextField | Command::PrevField | Command::MoveUp | Command::MoveDown => {
                c.yes_focused = !c.yes_focused;
                state.overlay = Some(Overlay::Confirm(c));
                Vec::new()
            }
            Command::Activate if c.yes_focused => start(state, c.change),
            Command::Activate | Command::Back => {
                state.overlay = None;
                Vec::new()
            }
            _ => Vec::new(),
        },
        Overlay::TypeName(mut t) => match cmd {
            Command::Activate if t.input.trim() == t.expected => {
                let change = match t.change {
                    Change::DeleteMethod { id, name, .. } => Change::DeleteMethod {
                        id,
                        name,
                        confirm: Some(t.expected),
                    },
                    Change::DeleteDevice { id, name, .. } => Change::DeleteDevice {
                        id,
                        name,
                        confirm: Some(t.expected),
                    },
                    other => other,
                };
                start(state, change)
            }
            Command::Activate => {
                t.error = Some(format!(
                    "That does not match. Type {} exactly, or press Esc.",
                    t.expected
                ));
                state.overlay = Some(Overlay::TypeName(t));
                Vec::new()
            }
            Command::Back => {
                state.overlay = None;
                note(state, "Nothing was deleted.", Tone::Info);
                Vec::new()
            }
            _ => Vec::new(),
        },
        Overlay::Menu(mut m) => match cmd {
            Command::MoveUp | Command::MoveDown => {
                m.focus = step(m.focus, m.items.len(), cmd == Command::MoveDown);
                state.overlay = Some(Overlay::Menu(m));
                Vec::new()
            }
            Command::Back => {
                state.overlay = None;
                Vec::new()
            }
            Command::Activate => {
                let Some(item) = m.items.get(m.focus).cloned() else {
                    return Vec::new();
                };
                state.overlay = None;
                if let Some(why) = item.disabled {
                    note(state, format!("{}: {why}", item.label), Tone::Info);
                    return Vec::new();
                }
                choose(state, item.choice)
            }
            _ => Vec::new(),
        },
        Overlay::Phone(mut p) => match cmd {
            Command::Activate if p.pending.is_none() => match p.input.parse::<u32>() {
                Ok(number) => {
                    let id = state.next_id();
                    p.pending = Some(id);
                    p.result = None;
                    state.overlay = Some(Overlay::Phone(p));
                    vec![Effect::PhoneApprove { id, number }]
                }
                Err(_) => {
                    p.result = Some(Err("Type the number shown on the sign-in screen.".into()));
                    state.overlay = Some(Overlay::Phone(p));
                    Vec::new()
                }
            },
            Command::Back => {
                state.overlay = None;
                Vec::new()
            }
            _ => Vec::new(),
        },
        Overlay::Outbox(_) => match cmd {
            Command::Refresh => {
                let id = state.next_id();
                state.overlay = Some(Overlay::Outbox(Loadable::Loading(id)));
                vec![Effect::LoadOutbox { id }]
            }
            Command::Back => {
                state.overlay = None;
                Vec::new()
            }
            _ => Vec::new(),
        },
    }
}

fn choose(state: &mut State, choice: MenuChoice) -> Vec<Effect> {
    match choice {
        MenuChoice::Change(c) => start(state, c),
        MenuChoice::AskDelete(id) => {
            let i = state
                .methods
                .ready()
                .and_then(|ms| ms.iter().position(|m| m.id == id));
            i.map(|i| home::ask_delete(state, i)).unwrap_or_default()
        }
        MenuChoice::Unavailable(text) => {
            note(state, text, Tone::Info);
            Vec::new()
        }
        MenuChoice::AddKind(kind) => {
            note(
                state,
                format!("Adding {} from secinfo is not available yet.", kind.title()),
                Tone::Info,
            );
            Vec::new()
        }
        MenuChoice::Cancel => Vec::new(),
    }
}

/// Sends a change, unless another one is still running.
fn start(state: &mut State, change: Change) -> Vec<Effect> {
    state.overlay = None;
    if let Some(busy) = &state.change {
        let text = format!("Wait: {}", busy.change.progress());
        note(state, text, Tone::Info);
        return Vec::new();
    }
    send(state, change, false)
}

fn send(state: &mut State, change: Change, stepped_up: bool) -> Vec<Effect> {
    let id = state.next_id();
    state.change = Some(ChangeInFlight {
        id,
        change: change.clone(),
        stepped_up,
    });
    vec![Effect::Change { id, change }]
}

pub(super) fn changed(
    state: &mut State,
    id: ReqId,
    result: Result<Option<String>, BackendError>,
) -> Vec<Effect> {
    let Some(flight) = state.change.clone().filter(|c| c.id == id) else {
        return Vec::new();
    };
    state.change = None;
    let change = flight.change;
    match result {
        Ok(said) => done(state, change, said),
        Err(BackendError::StepUpRequired) if !flight.stepped_up => {
            let id = state.next_id();
            state.step_up = Some(StepUp {
                change,
                pending: Some(id),
                verify: None,
                error: None,
            });
            vec![Effect::StepUp { id }]
        }
        Err(BackendError::StepUpRequired) => {
            note(
                state,
                "The server still wants you to confirm it is you; nothing was changed.",
                Tone::Error,
            );
            Vec::new()
        }
        Err(BackendError::Rejected { code, message }) if code == "last_method" => {
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
                    "Without it, signing in needs only your password.".into(),
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
        Err(e) => {
            note(state, e.to_string(), Tone::Error);
            Vec::new()
        }
    }
}

fn done(state: &mut State, change: Change, said: Option<String>) -> Vec<Effect> {
    let (text, mut fx) = match &change {
        Change::DeleteMethod { name, .. } => {
            (format!("Deleted {name}."), home::reload_methods(state))
        }
        Change::SetDefault { name, .. } => (
            format!("{name} is now your default sign-in method."),
            home::reload_methods(state),
        ),
        Change::DeleteDevice { name, .. } => {
            let mut fx = lists::load(state);
            fx.extend(home::reload_methods(state));
            (
                format!("Deleted device {name} and its sign-in methods."),
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
        Change::SignOutEverywhere => {
            let username = state.account.ready().map(|a| a.username.clone());
            let text = "Signed out everywhere. Every sign-in, this one included, now asks for your second factor again.";
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
    let text = match said {
        Some(s) if !s.is_empty() => format!("{text} {s}"),
        _ => text,
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

pub(super) fn stepped_up(
    state: &mut State,
    id: ReqId,
    result: Result<SignIn, BackendError>,
) -> Vec<Effect> {
    let Some(s) = &state.step_up else {
        return Vec::new();
    };
    if s.pending != Some(id) {
        return Vec::new();
    }
    match result {
        Ok(SignIn::Done { .. }) => retry_after_step_up(state),
        Ok(SignIn::SecondFactor(challenge)) => {
            let (v, fx) = verify::begin(state, challenge, Purpose::StepUp);
            if let Some(s) = &mut state.step_up {
                s.pending = None;
                s.verify = Some(v);
            }
            fx
        }
        Ok(SignIn::Pending) | Err(_) => {
            let why = match result {
                Err(e) => e.to_string(),
                _ => "the server did not ask for a second factor".into(),
            };
            state.step_up = None;
            note(
                state,
                format!("Could not confirm it is you: {why}. Nothing was changed."),
                Tone::Error,
            );
            Vec::new()
        }
    }
}

/// The step-up worked: send the change again, once.
pub(super) fn retry_after_step_up(state: &mut State) -> Vec<Effect> {
    let Some(s) = state.step_up.take() else {
        return Vec::new();
    };
    send(state, s.change, true)
}

pub(super) fn step_up_command(state: &mut State, cmd: Command) -> Vec<Effect> {
    match verify::command(state, cmd) {
        Some(fx) => fx,
        None if cmd == Command::Back => {
            state.step_up = None;
            note(state, "Cancelled: nothing was changed.", Tone::Info);
            Vec::new()
        }
        None => Vec::new(),
    }
}

pub(super) fn phone_approved(
    state: &mut State,
    id: ReqId,
    result: Result<(), String>,
) -> Vec<Effect> {
    if let Some(Overlay::Phone(p)) = &mut state.overlay
        && p.pending == Some(id)
    {
        p.pending = None;
        p.result = Some(result.map(|()| "Approved on the simulated phone.".to_string()));
    }
    Vec::new()
}

/// Opens the demo's simulated phone (only on a push waiting screen).
pub(super) fn open_phone(state: &mut State) {
    state.overlay = Some(Overlay::Phone(PhonePanel::default()));
}
