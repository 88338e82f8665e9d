//! Overlays (help, confirmations, menus, demo panels) and the life of a
//! change: confirm → send → maybe step up and retry once → result.

use super::change::start;
use super::note;
use super::{home, step};
use crate::app::effects::Effect;
use crate::app::keymap::Command;
use crate::app::state::{
    Change, Confirm, Loadable, MenuChoice, Overlay, PhonePanel, ReqId, State, Tone,
};

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
                super::lost_phone::skipped(state)
            }
            _ => Vec::new(),
        },
        Overlay::TypeName(mut t) => match cmd {
            Command::Activate if t.input.trim() == t.expected => {
                let change = match t.change {
                    Change::DeleteMethod {
                        id, name, label, ..
                    } => Change::DeleteMethod {
                        id,
                        name,
                        label,
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
                super::lost_phone::skipped(state)
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
                super::lost_phone::skipped(state)
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
                    let username = phone_user(state);
                    vec![Effect::PhoneApprove {
                        id,
                        number,
                        username,
                    }]
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
        Overlay::Form(f) => super::extras::form_command(state, f, cmd),
        Overlay::ShowOnce(s) => super::extras::show_once_command(state, s, cmd),
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
        MenuChoice::Rename(id) => super::extras::open_rename(state, &id),
        MenuChoice::RenameDevice(id) => super::extras::open_rename_device(state, &id),
        MenuChoice::AskDeleteDevice => {
            super::lists::ask_delete_device(state);
            Vec::new()
        }
        MenuChoice::ChangeNumber(id) => super::wizard::open_change_number(state, &id),
        MenuChoice::ChangePassword => super::extras::open_change_password(state),
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
        c @ (MenuChoice::LostDevice(_) | MenuChoice::LostSkip | MenuChoice::LostAdd) => {
            super::lost_phone::choose(state, c)
        }
        MenuChoice::Cancel => Vec::new(),
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
        match result {
            // Done: the panel closes by itself and the status line says so.
            Ok(()) => {
                state.overlay = None;
                super::note(state, "Approved on the simulated phone.", Tone::Success);
            }
            // Kept open: the number can be typed again.
            Err(why) => p.result = Some(Err(why)),
        }
    }
    Vec::new()
}

/// Opens the demo's simulated phone (only on a push waiting screen).
pub(super) fn open_phone(state: &mut State) {
    state.overlay = Some(Overlay::Phone(PhonePanel::default()));
}

/// Whose request the phone panel approves: the account signing in, or the one signed in.
pub(super) fn phone_user(state: &State) -> Option<String> {
    use crate::app::state::{Purpose, SignInStep};
    match &state.signin {
        SignInStep::Verify(v) => match &v.purpose {
            Purpose::SignIn { username } => Some(username.clone()),
            Purpose::StepUp => None,
        },
        _ => None,
    }
    .or_else(|| state.account.ready().map(|a| a.username.clone()))
}
