//! Devices, sessions and remembered devices: a list, one action per row
//! (delete, sign out, revoke), always confirmed first.

use super::{dialogs, step};
use crate::app::effects::Effect;
use crate::app::keymap::Command;
use crate::app::state::{
    Change, Loadable, Menu, MenuChoice, MenuItem, Overlay, ReqId, Screen, State, Tone,
};
use crate::backend::BackendError;
use crate::domain::{ActivityPage, Device};

pub(super) fn load(state: &mut State) -> Vec<Effect> {
    let id = state.next_id();
    match state.screen {
        Screen::Devices => {
            state.devices = Loadable::Loading(id);
            vec![Effect::LoadDevices { id }]
        }
        Screen::Sessions => {
            state.sessions = Loadable::Loading(id);
            vec![Effect::LoadSessions { id }]
        }
        Screen::Remembered => {
            state.remembered = Loadable::Loading(id);
            vec![Effect::LoadRemembered { id }]
        }
        Screen::Activity => {
            state.activity = Loadable::Loading(id);
            state.activity_older = None;
            vec![Effect::LoadActivity { id, before: None }]
        }
        _ => Vec::new(),
    }
}

pub(super) fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::MoveUp | Command::MoveDown => {
            state.list_focus = step(state.list_focus, state.list_len(), cmd == Command::MoveDown);
            Vec::new()
        }
        Command::Refresh => load(state),
        Command::Back => {
            state.screen = Screen::Home;
            Vec::new()
        }
        Command::Activate if state.screen == Screen::Devices => {
            device_menu(state);
            Vec::new()
        }
        Command::Activate if state.screen == Screen::Activity => older_activity(state),
        // Activity is a record: nothing on it is deleted.
        _ if state.screen == Screen::Activity => Vec::new(),
        Command::Delete | Command::Activate => {
            ask(state);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn ask(state: &mut State) {
    let i = state.list_focus;
    match state.screen {
        Screen::Devices => {
            if let Some(d) = state.devices.ready().and_then(|l| l.get(i)).cloned() {
                confirm_delete_device(state, &d);
            }
        }
        Screen::Sessions => {
            let Some(s) = state.sessions.ready().and_then(|l| l.get(i)).cloned() else {
                return;
            };
            let lines = if s.current {
                vec![
                    "This is the session you are using now: you will be signed out here."
                        .to_string(),
                ]
            } else {
                vec![format!(
                    "{} ({}) will have to sign in again.",
                    s.client, s.ip
                )]
            };
            let change = Change::RevokeSession {
                id: s.id,
                current: s.current,
            };
            dialogs::confirm(
                state,
                "Sign out this session?".into(),
                lines,
                "Sign out",
                change,
            );
        }
        Screen::Remembered => {
            let Some(r) = state.remembered.ready().and_then(|l| l.get(i)).cloned() else {
                return;
            };
            let who = if r.current {
                "this client".to_string()
            } else {
                r.client.clone()
            };
            let lines = vec![format!(
                "The next sign-in from {who} will ask for your second factor again."
            )];
            let change = Change::ForgetDevice {
                id: r.id,
                current: r.current,
            };
            dialogs::confirm(
                state,
                "Revoke this remembered device?".into(),
                lines,
                "Revoke",
                change,
            );
        }
        _ => {}
    }
}

/// Enter on a device: rename it or delete it.
fn device_menu(state: &mut State) {
    let Some(d) = state
        .devices
        .ready()
        .and_then(|l| l.get(state.list_focus))
        .cloned()
    else {
        return;
    };
    let item = |label: &str, choice| MenuItem {
        label: label.into(),
        disabled: None,
        choice,
    };
    state.overlay = Some(Overlay::Menu(Menu {
        title: d.name.clone(),
        items: vec![
            item("Rename device", MenuChoice::RenameDevice(d.id.clone())),
            item("Delete device", MenuChoice::AskDeleteDevice),
            item("Cancel", MenuChoice::Cancel),
        ],
        focus: 0,
    }));
}

pub(super) fn ask_delete_device(state: &mut State) {
    ask(state);
}

/// "Delete device X?", naming the methods that go with it; Cancel has focus.
pub(super) fn confirm_delete_device(state: &mut State, d: &Device) {
    let on_it: Vec<String> = state
        .methods
        .ready()
        .map(|ms| {
            ms.iter()
                .filter(|m| m.device_id.as_deref() == Some(d.id.as_str()))
                .map(|m| m.kind.title())
                .collect()
        })
        .unwrap_or_default();
    let mut lines = vec![
        "For a lost, stolen or old phone.".to_string(),
        format!("This removes {} and the sign-in methods on it.", d.name),
    ];
    if !on_it.is_empty() {
        lines.push(format!("Methods removed with it: {}.", on_it.join(", ")));
    }
    let change = Change::DeleteDevice {
        id: d.id.clone(),
        name: d.name.clone(),
        confirm: None,
    };
    dialogs::confirm(
        state,
        format!("Delete device {}?", d.name),
        lines,
        "Delete device",
        change,
    );
}

/// "Show older activity", the row below the events: reads the next page once.
fn older_activity(state: &mut State) -> Vec<Effect> {
    let Some(page) = state.activity.ready() else {
        return Vec::new();
    };
    let (Some(before), true) = (page.next.clone(), state.list_focus == page.events.len()) else {
        return Vec::new();
    };
    if state.activity_older.is_some() {
        return Vec::new();
    }
    let id = state.next_id();
    state.activity_older = Some(id);
    vec![Effect::LoadActivity {
        id,
        before: Some(before),
    }]
}

/// A page of activity came: the newest replaces what was shown, an older one
/// goes below it (and an answer nobody waits for any more is dropped).
pub(super) fn activity(
    state: &mut State,
    id: ReqId,
    older: bool,
    result: Result<ActivityPage, BackendError>,
) -> Vec<Effect> {
    if !older {
        return super::settled(state, |s| s.activity.settle(id, result.clone()), &result);
    }
    if state.activity_older != Some(id) {
        return Vec::new();
    }
    state.activity_older = None;
    match (result, &mut state.activity) {
        (Ok(more), Loadable::Ready(page)) => {
            page.events.extend(more.events);
            page.next = more.next;
            Vec::new()
        }
        (Ok(_), _) => Vec::new(),
        (Err(BackendError::SignInRequired), _) => {
            super::session_ended(state);
            Vec::new()
        }
        (Err(e), _) => {
            super::note(
                state,
                format!("Could not read older activity: {e}"),
                Tone::Error,
            );
            Vec::new()
        }
    }
}
