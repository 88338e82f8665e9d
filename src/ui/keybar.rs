//! The key bar: generated from the keymap and the commands that apply right
//! now (`State::key_context`), never written by hand.

use crate::app::keymap::{Command, Keymap};
use crate::app::state::State;
use crate::ui::theme::Theme;
use ratatui::text::{Line, Span};

/// `(keys, label)` pairs for what applies now; only the first usable key of each.
pub fn entries(state: &State) -> Vec<(String, &'static str)> {
    let (cmds, text) = state.key_context();
    let first = |km: &Keymap, c: Command| {
        km.keys(c)
            .iter()
            .find(|k| !(text && k.is_text()))
            .map(ToString::to_string)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < cmds.len() {
        let c = cmds[i];
        if c == Command::MoveUp && cmds.get(i + 1) == Some(&Command::MoveDown) {
            if let (Some(u), Some(d)) = (
                first(&state.keymap, c),
                first(&state.keymap, Command::MoveDown),
            ) {
                out.push((format!("{u}{d}"), "move"));
            }
            i += 2;
            continue;
        }
        if let Some(k) = first(&state.keymap, c) {
            out.push((k, label(state, c)));
        }
        i += 1;
    }
    out
}

/// A command's name where the screen has a better word for it.
fn label(state: &State, c: Command) -> &'static str {
    use crate::app::state::{Screen, SignInStep, WizardStep};
    if let (Some(w), None) = (&state.wizard, &state.overlay) {
        let push = w.kind() == Some(&crate::domain::MethodKind::AuthenticatorPush);
        match (c, &w.step) {
            (Command::Activate, WizardStep::GetApp) => return "next",
            (Command::Activate, WizardStep::Scan { .. }) if push => return "next",
            (Command::Activate, WizardStep::Scan { .. } | WizardStep::Code { .. }) => {
                return "verify";
            }
            (Command::Activate, WizardStep::Target(_)) => return "send code",
            (Command::Activate, WizardStep::Failed { .. }) => return "retry",
            (Command::Activate, WizardStep::Handoff(_)) => return "ok",
            (Command::Back, WizardStep::Choose { .. }) => return "close",
            (Command::Back, _) if w.enrollment.is_some() => return "cancel",
            (Command::Phone, WizardStep::Scan { .. }) => return "phone scans",
            (Command::Phone, _) => return "phone approves",
            _ => {}
        }
    }
    match (c, state.screen, &state.signin, state.overlay.is_some()) {
        (Command::Delete, Screen::Sessions, _, false) => "sign out",
        (Command::Delete, Screen::Remembered, _, false) => "revoke",
        (Command::Delete, Screen::SignIn, SignInStep::Accounts { .. }, false) => "remove",
        (Command::Activate, Screen::AppPasswords, _, false) => "new",
        (Command::Activate, Screen::RecoveryCodes, _, false) => "generate",
        (Command::Activate, Screen::Activity, _, false) => "older",
        _ => c.label(),
    }
}

/// The bar itself, cut to `width` columns (help and quit are kept last, so they survive).
pub fn line(state: &State, theme: &Theme, width: u16) -> Line<'static> {
    let all = entries(state);
    let mut spans = Vec::new();
    let mut used = 0usize;
    let tail: usize = all
        .iter()
        .rev()
        .take(2)
        .map(|(k, l)| k.chars().count() + l.len() + 3)
        .sum();
    let n = all.len();
    for (i, (key, label)) in all.into_iter().enumerate() {
        let w = key.chars().count() + label.len() + 3;
        let keep_last = i + 2 >= n;
        if !keep_last && used + w + tail > width as usize {
            continue;
        }
        spans.push(Span::styled(format!(" {key}"), theme.key));
        spans.push(Span::styled(format!(" {label} "), theme.text));
        used += w;
    }
    Line::from(spans)
}
