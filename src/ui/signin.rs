//! Sign-in: the account picker, username and password, and (through
//! `verify`) the second factor.

use crate::app::keymap::Command;
use crate::app::state::{PasswordForm, SignInStep, State};
use crate::ui::theme::Theme;
use crate::ui::widgets::{clean, field, row, scrolled, spinner};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};

pub fn render(state: &State, frame: &mut Frame, area: Rect, theme: &Theme) -> Option<Position> {
    match &state.signin {
        SignInStep::Accounts { focus } => accounts(state, *focus, frame, area, theme),
        SignInStep::Password(form) => password(state, form, frame, area, theme),
        SignInStep::Verify(v) => super::verify::render(state, v, None, frame, area, theme),
        SignInStep::Browser(b) => super::browser::render(state, b, None, frame, area, theme),
        SignInStep::Checking { username, .. } => waiting(
            state,
            &format!("Signing in as {}…", clean(username)),
            frame,
            area,
            theme,
        ),
        SignInStep::Finishing { .. } => waiting(
            state,
            "Signed in. Loading your security info…",
            frame,
            area,
            theme,
        ),
    }
}

fn waiting(
    state: &State,
    text: &str,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) -> Option<Position> {
    let lines = vec![
        Line::styled("Sign in", theme.title),
        Line::raw(""),
        Line::styled(format!("{} {text}", spinner(state.spinner)), theme.muted),
    ];
    scrolled(frame, area, lines, None)
}

fn accounts(
    state: &State,
    focus: usize,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) -> Option<Position> {
    let mut lines = vec![
        Line::styled("Sign in", theme.title),
        Line::raw(""),
        if state.accounts.len() > 1 {
            Line::styled("You have multiple accounts", theme.heading)
        } else {
            Line::styled("Pick an account", theme.heading)
        },
        Line::raw("Choose the account you want to sign in with."),
        Line::raw(""),
    ];
    let first = lines.len();
    for (i, a) in state.accounts.iter().enumerate() {
        let spans = vec![
            Span::styled(clean(&a.display_name), theme.heading),
            Span::raw("  "),
            Span::styled(clean(&a.username), theme.muted),
        ];
        lines.push(row(spans, i == focus, theme));
    }
    let other = state.accounts.len();
    lines.push(row(
        vec![Span::styled("Use another account", theme.link)],
        focus == other,
        theme,
    ));
    lines.push(Line::raw(""));
    if let Some(k) = state.keymap.describe(Command::Delete, false) {
        lines.push(Line::styled(
            format!("{k}: remove the focused account from this list (it stays on the server)."),
            theme.muted,
        ));
    }
    scrolled(frame, area, lines, Some(first + focus.min(other)))
}

fn password(
    state: &State,
    form: &PasswordForm,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) -> Option<Position> {
    let mut lines = vec![
        Line::styled("Sign in", theme.title),
        Line::raw(format!("to {}", clean(&state.server_url))),
        Line::raw(""),
    ];
    if state.browser_sign_in {
        let key = state
            .keymap
            .describe(Command::Activate, false)
            .unwrap_or_default();
        lines.push(Line::raw(
            "This provider signs you in in a browser, on this device or any other.",
        ));
        lines.push(Line::raw(""));
        lines.push(if form.pending.is_some() {
            Line::styled(
                format!("{} Asking for a code…", spinner(state.spinner)),
                theme.muted,
            )
        } else {
            Line::styled(format!("{key}: get a code to sign in"), theme.heading)
        });
        if let Some(e) = &form.error {
            lines.push(Line::raw(""));
            lines.push(Line::styled(format!("! {}", clean(e)), theme.error));
        }
        return scrolled(frame, area, lines, None);
    }
    let width = 36;
    let (user, user_col) = field("Username", &form.username, width, form.focus == 0, theme);
    let masked = "•".repeat(form.password.len());
    let (pass, pass_col) = field("Password", &masked, width, form.focus == 1, theme);
    let first = lines.len();
    lines.push(user);
    lines.push(pass);
    let button = if form.pending.is_some() {
        Span::styled(
            format!("[ {} Signing in… ]", spinner(state.spinner)),
            theme.muted,
        )
    } else {
        Span::styled("[ Sign in ]", theme.heading)
    };
    lines.push(row(
        vec![Span::raw("         "), button],
        form.focus == 2,
        theme,
    ));
    lines.push(Line::raw(""));
    if let Some(e) = &form.error {
        lines.push(Line::styled(format!("! {}", clean(e)), theme.error));
    }
    if !state.accounts.is_empty()
        && let Some(k) = state.keymap.describe(Command::Back, true)
    {
        lines.push(Line::styled(
            format!("{k}: back to the list of accounts"),
            theme.muted,
        ));
    }
    let focus_line = first + form.focus.min(2);
    let pos = scrolled(frame, area, lines, Some(focus_line))?;
    let col = match form.focus {
        0 => user_col,
        1 => pass_col,
        _ => 0,
    };
    Some(Position {
        x: pos.x + col as u16,
        y: pos.y,
    })
}
