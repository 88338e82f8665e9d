//! Security info home: the default method, Add, the method list with per-row
//! actions, the trust pages and Sign out everywhere.

use super::{dialogs, step};
use crate::app::effects::Effect;
use crate::app::keymap::Command;
use crate::app::state::{
    Change, Confirm, HomeItem, Loadable, Menu, MenuChoice, MenuItem, Notice, Overlay, Screen,
    State, Tone,
};
use crate::app::state::{confirm_name, method_name};
use crate::domain::{Ability, Capabilities, DefaultScope, MethodKind};
use crate::present;

/// Loads what the home screen shows (the account too when `account`).
pub(crate) fn load(state: &mut State, account: bool) -> Vec<Effect> {
    let mut fx = Vec::new();
    if account {
        let id = state.next_id();
        state.account = Loadable::Loading(id);
        fx.push(Effect::LoadAccount { id });
    }
    let id = state.next_id();
    state.caps = Loadable::Loading(id);
    fx.push(Effect::LoadCapabilities { id });
    fx.extend(reload_methods(state));
    fx
}

pub(super) fn reload_methods(state: &mut State) -> Vec<Effect> {
    let id = state.next_id();
    state.methods = Loadable::Loading(id);
    vec![Effect::LoadMethods { id }]
}

pub(super) fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    let items = state.home_items();
    let here = items.get(state.home_focus).copied();
    match cmd {
        Command::MoveUp | Command::MoveDown => {
            state.home_focus = step(state.home_focus, items.len(), cmd == Command::MoveDown);
            Vec::new()
        }
        Command::Refresh => load(state, false),
        Command::Delete => match here {
            Some(HomeItem::Method(i)) => ask_delete(state, i),
            _ => Vec::new(),
        },
        Command::Activate => match here {
            Some(item) => activate(state, item),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn ability(state: &State, pick: impl Fn(&Capabilities) -> &Ability) -> Result<(), String> {
    match &state.caps {
        Loadable::Ready(c) => match pick(c) {
            Ability::Yes => Ok(()),
            Ability::No { reason, portal_url } => Err(present::not_available(
                reason,
                portal_url.as_deref(),
                "do it",
            )),
        },
        Loadable::Failed(e) => Err(format!("secinfo cannot tell what this server allows: {e}")),
        _ => Err("Still finding out what this server allows; try again in a moment.".into()),
    }
}

fn refuse(state: &mut State, text: String) -> Vec<Effect> {
    state.notice = Some(Notice {
        text,
        tone: Tone::Error,
    });
    Vec::new()
}

fn activate(state: &mut State, item: HomeItem) -> Vec<Effect> {
    match item {
        HomeItem::ChangeDefault => change_default(state),
        HomeItem::AddMethod => add_method(state),
        HomeItem::Method(i) => row_menu(state, i),
        HomeItem::Devices => open(state, Screen::Devices, |c| &c.devices),
        HomeItem::Sessions => open(state, Screen::Sessions, |c| &c.sessions),
        HomeItem::Remembered => open(state, Screen::Remembered, |c| &c.remembered_devices),
        HomeItem::Activity => open(state, Screen::Activity, |c| &c.activity),
        HomeItem::LostPhone => super::lost_phone::open(state),
        HomeItem::AppPasswords => match ability(state, |c| &c.app_passwords) {
            Err(why) => refuse(state, why),
            Ok(()) => super::extras::open(state, Screen::AppPasswords),
        },
        HomeItem::RecoveryCodes => match ability(state, |c| &c.recovery_codes) {
            Err(why) => refuse(state, why),
            Ok(()) => super::extras::open(state, Screen::RecoveryCodes),
        },
        HomeItem::SignOutEverywhere => match ability(state, |c| &c.sign_out_everywhere) {
            Err(why) => refuse(state, why),
            Ok(()) => {
                let mut lines: Vec<String> = crate::journeys::rules::SIGN_OUT_EVERYWHERE_ENDS
                    .iter()
                    .map(|l| l.to_string())
                    .collect();
                if let Some(note) = state
                    .caps
                    .ready()
                    .and_then(|c| c.sign_out_everywhere_note.clone())
                {
                    lines.push(note);
                }
                lines.push("Use it when a device is lost or stolen.".into());
                state.overlay = Some(Overlay::Confirm(Confirm {
                    title: "Sign out everywhere?".into(),
                    lines,
                    yes: "Sign out everywhere".into(),
                    change: Change::SignOutEverywhere,
                    yes_focused: false,
                }));
                Vec::new()
            }
        },
        HomeItem::SignOut => {
            let id = state.next_id();
            state.signing_out = Some(id);
            let username = state.account.ready().map(|a| a.username.clone());
            vec![Effect::SignOut { id, username }]
        }
    }
}

fn open(
    state: &mut State,
    screen: Screen,
    pick: impl Fn(&Capabilities) -> &Ability,
) -> Vec<Effect> {
    if let Err(why) = ability(state, pick) {
        return refuse(state, why);
    }
    state.screen = screen;
    state.list_focus = 0;
    super::lists::load(state)
}

fn change_default(state: &mut State) -> Vec<Effect> {
    if let Err(why) = ability(state, |c| &c.set_default) {
        return refuse(state, why);
    }
    let Some(methods) = state.methods.ready() else {
        return refuse(state, "The methods are not loaded yet.".into());
    };
    let per_kind = state
        .caps
        .ready()
        .is_some_and(|c| c.default_scope == DefaultScope::PerKind);
    let usable = methods.iter().filter(|m| m.usable_mfa);
    let mut items: Vec<MenuItem> = if per_kind {
        // The provider picks the method of the kind: offer each kind once.
        let mut kinds: Vec<(MethodKind, bool)> = Vec::new();
        for m in usable {
            match kinds.iter_mut().find(|(k, _)| *k == m.kind) {
                Some((_, default)) => *default |= m.is_default,
                None => kinds.push((m.kind.clone(), m.is_default)),
            }
        }
        kinds
            .into_iter()
            .map(|(kind, is_default)| MenuItem {
                label: kind.title(),
                disabled: is_default.then(|| "already the default".to_string()),
                choice: MenuChoice::Change(Change::SetDefaultKind {
                    name: kind.title(),
                    kind,
                }),
            })
            .collect()
    } else {
        usable
            .map(|m| MenuItem {
                label: method_name(m),
                disabled: m.is_default.then(|| "already the default".to_string()),
                choice: MenuChoice::Change(Change::SetDefault {
                    id: m.id.clone(),
                    name: method_name(m),
                }),
            })
            .collect()
    };
    if items.is_empty() {
        return refuse(
            state,
            "Add a sign-in method first: none can be the default yet.".into(),
        );
    }
    items.push(MenuItem {
        label: "Cancel".into(),
        disabled: None,
        choice: MenuChoice::Cancel,
    });
    state.overlay = Some(Overlay::Menu(Menu {
        title: "Change default sign-in method".into(),
        items,
        focus: 0,
    }));
    Vec::new()
}

fn add_method(state: &mut State) -> Vec<Effect> {
    if let Loadable::Failed(_) = &state.caps {
        let why = ability(state, |c| &c.list_methods)
            .err()
            .unwrap_or_default();
        return refuse(state, why);
    }
    super::wizard::open(state, false)
}

fn row_menu(state: &mut State, i: usize) -> Vec<Effect> {
    let Some(m) = state.methods.ready().and_then(|ms| ms.get(i)).cloned() else {
        return Vec::new();
    };
    let set_default = ability(state, |c| &c.set_default).err();
    let delete = if m.kind == MethodKind::Password {
        Some("your password can only be changed".to_string())
    } else {
        ability(state, |c| &c.delete_methods).err()
    };
    let mut items = Vec::new();
    if m.usable_mfa && !m.is_default {
        items.push(MenuItem {
            label: "Make this the default".into(),
            disabled: set_default,
            choice: MenuChoice::Change(Change::SetDefault {
                id: m.id.clone(),
                name: method_name(&m),
            }),
        });
    }
    // Each row's change, greyed with the reason where this backend cannot do it.
    let (label, choice, allowed) = match m.kind {
        MethodKind::Password => (
            "Change password",
            MenuChoice::ChangePassword,
            ability(state, |c| &c.change_password),
        ),
        MethodKind::Phone
        | MethodKind::AlternatePhone
        | MethodKind::OfficePhone
        | MethodKind::Email => (
            "Change",
            MenuChoice::ChangeNumber(m.id.clone()),
            ability(state, |c| &c.change_contact),
        ),
        _ if m.device_id.is_some() => (
            "Rename device",
            MenuChoice::Rename(m.id.clone()),
            ability(state, |c| &c.rename),
        ),
        _ => (
            "Rename",
            MenuChoice::Rename(m.id.clone()),
            ability(state, |c| &c.rename),
        ),
    };
    items.push(MenuItem {
        label: label.into(),
        disabled: allowed.err(),
        choice,
    });
    items.push(MenuItem {
        label: "Delete".into(),
        disabled: delete,
        choice: MenuChoice::AskDelete(m.id.clone()),
    });
    items.push(MenuItem {
        label: "Cancel".into(),
        disabled: None,
        choice: MenuChoice::Cancel,
    });
    state.overlay = Some(Overlay::Menu(Menu {
        title: method_name(&m),
        items,
        focus: 0,
    }));
    Vec::new()
}

pub(super) fn ask_delete(state: &mut State, i: usize) -> Vec<Effect> {
    if let Err(why) = ability(state, |c| &c.delete_methods) {
        return refuse(state, why);
    }
    let Some(m) = state.methods.ready().and_then(|ms| ms.get(i)).cloned() else {
        return Vec::new();
    };
    if m.kind == MethodKind::Password {
        return refuse(
            state,
            "Your password cannot be deleted, only changed: choose it and Change password.".into(),
        );
    }
    let name = method_name(&m);
    let mut lines = vec![format!(
        "You will no longer be able to sign in with {name}."
    )];
    if m.is_default {
        lines.push(
            "It is your default sign-in method: the server will choose another default.".into(),
        );
    }
    dialogs::confirm(
        state,
        format!("Delete {}?", m.kind.title()),
        lines,
        "Delete",
        Change::DeleteMethod {
            id: m.id.clone(),
            name: confirm_name(&m),
            label: method_name(&m),
            confirm: None,
        },
    );
    Vec::new()
}
