//! "Verify your identity": factor choice, code entry, and the push waiting
//! screen with the number to match. Also the step-up version of it.

use crate::app::keymap::Command;
use crate::app::state::{Factor, FactorItem, Loadable, State, Verify, VerifyStep};
use crate::domain::MethodKind;
use crate::ui::theme::Theme;
use crate::ui::widgets::{clean, field, row, scrolled, spinner};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};

pub fn render_step_up(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) -> Option<Position> {
    let s = state.step_up.as_ref()?;
    let why = format!("This change needs a fresh second factor: {}", s.what);
    if let Some(b) = &s.browser {
        return super::browser::render(state, b, Some(why), frame, area, theme);
    }
    match &s.verify {
        Some(v) => render(state, v, Some(why), frame, area, theme),
        None => {
            let lines = vec![
                Line::styled("Verify your identity", theme.title),
                Line::raw(why),
                Line::raw(""),
                Line::styled(
                    format!(
                        "{} Asking the server how to confirm it is you…",
                        spinner(state.spinner)
                    ),
                    theme.muted,
                ),
            ];
            scrolled(frame, area, lines, None)
        }
    }
}

pub fn render(
    state: &State,
    v: &Verify,
    intro: Option<String>,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) -> Option<Position> {
    let mut lines = vec![Line::styled("Verify your identity", theme.title)];
    if let Some(i) = intro {
        lines.push(Line::raw(i));
    }
    lines.push(Line::raw(""));
    match &v.step {
        VerifyStep::Choose { focus, error } => {
            lines.push(Line::raw("Choose how to confirm it is you:"));
            let first = lines.len();
            for (i, o) in v.challenge.options.iter().enumerate() {
                lines.push(row(vec![Span::raw(clean(&o.label))], i == *focus, theme));
            }
            if let Some(e) = error {
                lines.push(Line::raw(""));
                lines.push(Line::styled(format!("! {}", clean(e)), theme.error));
            }
            let focus = (!v.challenge.options.is_empty()).then_some(first + focus);
            scrolled(frame, area, lines, focus)
        }
        VerifyStep::Factor(f) => factor(state, v, f, lines, frame, area, theme),
    }
}

fn factor(
    state: &State,
    v: &Verify,
    f: &Factor,
    mut lines: Vec<Line<'static>>,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) -> Option<Position> {
    let label = clean(&f.option.label);
    match &f.started {
        Loadable::Loading(_) | Loadable::NotAsked => {
            let what = if f.is_push() {
                "Sending a notification to your app…"
            } else {
                "Getting ready…"
            };
            lines.push(Line::styled(
                format!("{} {what}", spinner(state.spinner)),
                theme.muted,
            ));
        }
        Loadable::Failed(_) => lines.push(Line::raw(label.clone())),
        Loadable::Ready(s) if f.is_push() => {
            lines.push(Line::styled(label.clone(), theme.heading));
            lines.push(Line::raw("Open the app and approve the sign-in request."));
            match s.number {
                Some(n) => {
                    lines.push(Line::raw("Enter this number in the app:"));
                    lines.push(Line::styled(format!("      {n}"), theme.number));
                }
                None => lines.push(Line::raw("Tap Approve in the app.")),
            }
            if f.answering.is_some() {
                let cancel = state
                    .keymap
                    .describe(Command::Back, false)
                    .unwrap_or_default();
                lines.push(Line::styled(
                    format!(
                        "{} Waiting for your approval… ({cancel} cancels)",
                        spinner(state.spinner)
                    ),
                    theme.muted,
                ));
            }
        }
        Loadable::Ready(s) => {
            let how = match (&s.sent_to, &f.option.kind) {
                (Some(to), _) => format!("We sent a code to {}. Enter it below.", clean(to)),
                (None, MethodKind::Totp | MethodKind::AuthenticatorPush) => {
                    "Enter the code shown in your authenticator app.".into()
                }
                (None, _) => format!("Enter the code from {label}."),
            };
            lines.push(Line::raw(how));
        }
    }
    lines.push(Line::raw(""));
    let items = v.factor_items(f);
    let mut focus_line = None;
    let mut cursor_col = 0;
    for (i, item) in items.iter().enumerate() {
        let focused = i == f.focus;
        if focused {
            focus_line = Some(lines.len());
        }
        let line = match item {
            FactorItem::Code => {
                let (l, col) = field("Code", &"•".repeat(f.code.len()), 12, focused, theme);
                cursor_col = col;
                l
            }
            FactorItem::Verify => {
                let text = if f.answering.is_some() {
                    format!("[ {} Checking… ]", spinner(state.spinner))
                } else {
                    "[ Verify ]".into()
                };
                row(
                    vec![Span::raw("     "), Span::styled(text, theme.heading)],
                    focused,
                    theme,
                )
            }
            FactorItem::Remember => {
                let tick = if f.remember { "[x]" } else { "[ ]" };
                let text = format!(
                    "{tick} Don't ask again for {} days",
                    v.challenge.remember_days
                );
                row(vec![Span::raw(text)], focused, theme)
            }
            FactorItem::Resend => {
                let text = if f.is_push() {
                    "Resend notification"
                } else {
                    "Resend code"
                };
                row(vec![Span::styled(text, theme.link)], focused, theme)
            }
            FactorItem::OtherWay => row(
                vec![Span::styled("Sign in another way", theme.link)],
                focused,
                theme,
            ),
        };
        lines.push(line);
    }
    if let Some(e) = &f.error {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("! {}", clean(e)), theme.error));
    }
    if state.demo.is_some()
        && f.is_push()
        && let Some(k) = state.keymap.describe(Command::Phone, false)
    {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("Demo: press {k} to open the simulated phone and approve there."),
            theme.banner,
        ));
    }
    let pos = scrolled(frame, area, lines, focus_line)?;
    let is_code = items.get(f.focus) == Some(&FactorItem::Code);
    Some(Position {
        x: pos.x + if is_code { cursor_col as u16 } else { 0 },
        y: pos.y,
    })
}
