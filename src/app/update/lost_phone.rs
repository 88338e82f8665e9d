//! "I lost my phone" in the TUI, one step after another through the usual
//! dialogs: which device is lost (its methods named) and its deletion
//! confirmed; sign out everywhere; add a new method; then a summary on the
//! status line. Every step can be skipped (Esc or Cancel goes to the next),
//! and each change is the same `Change` the rest of the app sends. The
//! linear front ends run the same journey in `journeys::lost_phone`, with
//! the same words (`rules::lost_phone`).

use super::{lists, note};
use crate::app::effects::Effect;
use crate::app::state::{
    Change, Confirm, Loadable, LostPhone, LostStep, Menu, MenuChoice, MenuItem, Overlay, State,
    Tone,
};
use crate::journeys::lost_phone::{Summary, device_line};
use crate::journeys::rules::{SIGN_OUT_EVERYWHERE_ENDS, lost_phone as words};

/// From the home screen: read the devices (and methods, if not there yet).
pub(super) fn open(state: &mut State) -> Vec<Effect> {
    let id = state.next_id();
    state.devices = Loadable::Loading(id);
    state.lost_phone = Some(LostPhone {
        step: LostStep::Loading(id),
        changed: Vec::new(),
    });
    note(state, words::INTRO, Tone::Info);
    vec![Effect::LoadDevices { id }]
}

/// The devices came: "Which device is lost?", each with the methods on it.
pub(super) fn devices_loaded(state: &mut State) -> Vec<Effect> {
    let Some(lp) = &mut state.lost_phone else {
        return Vec::new();
    };
    if !matches!(lp.step, LostStep::Loading(_)) {
        return Vec::new();
    }
    let devices = match &state.devices {
        Loadable::Ready(d) => d.clone(),
        Loadable::Failed(e) => {
            let why = format!("Could not read your devices: {e}");
            lp.step = LostStep::SignOut;
            note(state, why, Tone::Error);
            return next(state);
        }
        _ => return Vec::new(),
    };
    if devices.is_empty() {
        lp.step = LostStep::SignOut;
        note(
            state,
            "No authenticator device is registered to your account.",
            Tone::Info,
        );
        return next(state);
    }
    lp.step = LostStep::Device;
    let methods = state.methods.ready().cloned().unwrap_or_default();
    let mut items: Vec<MenuItem> = devices
        .iter()
        .map(|d| MenuItem {
            label: device_line(d, &methods),
            disabled: None,
            choice: MenuChoice::LostDevice(d.id.clone()),
        })
        .collect();
    items.push(MenuItem {
        label: words::KEEP_ALL.into(),
        disabled: None,
        choice: MenuChoice::LostSkip,
    });
    state.overlay = Some(Overlay::Menu(Menu {
        title: words::WHICH.into(),
        items,
        focus: 0,
    }));
    Vec::new()
}

/// A choice in one of the journey's menus.
pub(super) fn choose(state: &mut State, choice: MenuChoice) -> Vec<Effect> {
    match choice {
        MenuChoice::LostDevice(id) => {
            let device = state
                .devices
                .ready()
                .and_then(|l| l.iter().find(|d| d.id == id))
                .cloned();
            match device {
                Some(d) => lists::confirm_delete_device(state, &d),
                None => return skipped(state),
            }
            Vec::new()
        }
        MenuChoice::LostAdd => {
            let summary = finish(state);
            note(state, summary, Tone::Success);
            super::wizard::open(state, false)
        }
        _ => skipped(state),
    }
}

/// The step on show was declined (Cancel, Esc, or "Skip"): on to the next.
pub(super) fn skipped(state: &mut State) -> Vec<Effect> {
    let Some(lp) = &mut state.lost_phone else {
        return Vec::new();
    };
    lp.step = match lp.step {
        LostStep::Loading(_) | LostStep::Device => LostStep::SignOut,
        LostStep::SignOut => LostStep::Add,
        LostStep::Add => {
            let summary = finish(state);
            note(state, summary, Tone::Info);
            return Vec::new();
        }
    };
    next(state)
}

/// A change finished (`journey`: where this journey stood when it was
/// sent); if it was this journey's step, note it and go on.
pub(super) fn changed(
    state: &mut State,
    journey: Option<LostPhone>,
    change: &Change,
    ok: bool,
) -> Vec<Effect> {
    let Some(mut lp) = journey else {
        return Vec::new();
    };
    let ours = matches!(
        (&lp.step, change),
        (LostStep::Device, Change::DeleteDevice { .. })
            | (LostStep::SignOut, Change::SignOutEverywhere)
    );
    if !ours {
        state.lost_phone = Some(lp);
        return Vec::new();
    }
    if ok {
        let said = match change {
            Change::SignOutEverywhere => words::SIGNED_OUT.to_string(),
            _ => state
                .notice
                .as_ref()
                .map(|n| n.text.clone())
                .unwrap_or_default(),
        };
        lp.changed.push(said);
    }
    state.lost_phone = Some(lp);
    if ok && *change == Change::SignOutEverywhere {
        // This client is signed out too: nothing more can be done here.
        let summary = finish(state);
        note(
            state,
            format!("{summary} {}", words::ADD_AFTER_SIGN_IN),
            Tone::Success,
        );
        return Vec::new();
    }
    if state.overlay.is_some() {
        // The change asks more first (the last method's name): wait for it.
        return Vec::new();
    }
    skipped(state)
}

/// Shows the step the journey is on.
fn next(state: &mut State) -> Vec<Effect> {
    let Some(lp) = &state.lost_phone else {
        return Vec::new();
    };
    match lp.step {
        LostStep::SignOut => {
            let mut lines = vec![words::SIGN_OUT.to_string()];
            lines.extend(
                SIGN_OUT_EVERYWHERE_ENDS
                    .iter()
                    .skip(1)
                    .map(|l| l.to_string()),
            );
            state.overlay = Some(Overlay::Confirm(Confirm {
                title: "Sign out everywhere?".into(),
                lines,
                yes: "Sign out everywhere".into(),
                change: Change::SignOutEverywhere,
                yes_focused: false,
            }));
        }
        LostStep::Add => {
            state.overlay = Some(Overlay::Menu(Menu {
                title: words::ADD.into(),
                items: vec![
                    MenuItem {
                        label: "Add a sign-in method".into(),
                        disabled: None,
                        choice: MenuChoice::LostAdd,
                    },
                    MenuItem {
                        label: "Finish".into(),
                        disabled: None,
                        choice: MenuChoice::LostSkip,
                    },
                ],
                focus: 0,
            }));
        }
        LostStep::Loading(_) | LostStep::Device => {}
    }
    Vec::new()
}

/// Ends the journey: what it changed, as one line for the status bar.
fn finish(state: &mut State) -> String {
    let changed = state
        .lost_phone
        .take()
        .map(|lp| lp.changed)
        .unwrap_or_default();
    let lines = Summary {
        changed,
        signed_out: false,
    }
    .lines();
    lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
}
