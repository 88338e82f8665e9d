//! App passwords and recovery codes screens, the small forms and the
//! show-once dialog (its secret is drawn only while it is open).

use crate::app::state::{Form, FormPurpose, Loadable, ShowOnce, State};
use crate::present::date;
use crate::ui::theme::Theme;
use crate::ui::widgets::{
    Hits, ListBody, ListScreen, cell, clean, dialog, field, list_screen, row, scrolled, spinner,
    wrap,
};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

const W: u16 = 66;

pub fn app_passwords(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    hits: &mut Hits,
) -> Option<Position> {
    let body = match &state.app_passwords {
        Loadable::Ready((list, _)) => ListBody::Rows(
            list.iter()
                .map(|a| {
                    vec![
                        Span::raw(cell(&a.name, 30)),
                        Span::styled(cell(&date(a.created), 14), theme.muted),
                        Span::styled(cell(&date(a.last_used), 14), theme.muted),
                        Span::styled("Delete", theme.danger),
                    ]
                })
                .collect(),
        ),
        Loadable::Failed(e) => ListBody::Failed(e),
        _ => ListBody::Loading,
    };
    let header = format!(
        "{}{}{}",
        cell("Name", 30),
        cell("Created", 14),
        cell("Last used", 14)
    );
    let create = state
        .keymap
        .describe(crate::app::keymap::Command::Activate, false)
        .unwrap_or_default();
    let about = format!(
        "For apps that cannot do a second factor. A new one is shown once. Press {create} to create one."
    );
    let screen = ListScreen {
        title: "App passwords",
        about: &about,
        what: "your app passwords",
        header,
        empty: "You have no app passwords.",
        body,
    };
    list_screen(state, screen, frame, area, theme, hits)
}

pub fn recovery_codes(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) -> Option<Position> {
    let mut lines = vec![Line::styled("Recovery codes", theme.title)];
    for l in wrap(
        "One-time codes for when you cannot use your other methods (\"Sign in another way\").",
        area.width as usize,
    ) {
        lines.push(Line::styled(l, theme.muted));
    }
    lines.push(Line::raw(""));
    let key = state
        .keymap
        .describe(crate::app::keymap::Command::Activate, false)
        .unwrap_or_default();
    let (status, action) = match &state.recovery_left {
        Loadable::Ready(Some(n)) => (
            format!(
                "You have {n} unused recovery code{}.",
                if *n == 1 { "" } else { "s" }
            ),
            format!("Press {key} to generate a new set (the old set stops working)."),
        ),
        Loadable::Ready(None) => (
            "You have no recovery codes yet.".to_string(),
            format!("Press {key} to generate a set."),
        ),
        Loadable::Failed(e) => (
            format!("! Could not load your recovery codes: {e}"),
            String::new(),
        ),
        _ => (
            format!("{} Loading…", spinner(state.spinner)),
            String::new(),
        ),
    };
    lines.push(Line::styled(clean(&status), theme.heading));
    for l in wrap(&action, area.width as usize) {
        lines.push(Line::raw(l));
    }
    if state.secret_call.is_some() {
        lines.push(Line::styled(
            format!("{} Generating…", spinner(state.spinner)),
            theme.muted,
        ));
    }
    scrolled(frame, area, lines, None);
    None
}

pub fn form(f: &Form, frame: &mut Frame, area: Rect, theme: &Theme) -> Option<Position> {
    let mut lines: Vec<Line> = f
        .lines
        .iter()
        .flat_map(|t| wrap(t, (W - 4) as usize))
        .map(|l| Line::styled(format!(" {l}"), theme.text))
        .collect();
    lines.push(Line::raw(""));
    let mut cursor = None;
    for (i, fl) in f.fields.iter().enumerate() {
        let shown = if fl.secret {
            "•".repeat(fl.value.len())
        } else {
            clean(fl.value.expose())
        };
        let (l, col) = field(&fl.label, &shown, 30, i == f.focus, theme);
        if i == f.focus {
            cursor = Some((lines.len(), col));
        }
        lines.push(l);
    }
    if let FormPurpose::CreateAppPassword { services, service } = &f.purpose
        && !services.is_empty()
    {
        let focused = f.focus == f.fields.len();
        if focused {
            cursor = Some((lines.len(), 0));
        }
        let (_, about) = &services[(*service).min(services.len() - 1)];
        lines.push(row(
            vec![
                Span::raw("Service  "),
                Span::styled(format!("< {} >", clean(about)), theme.heading),
                Span::styled("  (↑↓ to choose)", theme.muted),
            ],
            focused,
            theme,
        ));
    }
    if let Some(e) = &f.error {
        lines.push(Line::raw(""));
        for l in wrap(&format!("! {e}"), (W - 4) as usize) {
            lines.push(Line::styled(format!(" {l}"), theme.error));
        }
    }
    let h = lines.len() as u16 + 2;
    let inner = dialog(frame, area, W, h, &clean(&f.title), theme);
    frame.render_widget(Paragraph::new(lines), inner);
    cursor.map(|(y, x)| Position {
        x: inner.x + x as u16,
        y: inner.y + (y as u16).min(inner.height.saturating_sub(1)),
    })
}

pub fn show_once(
    s: &ShowOnce,
    state: &State,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) -> Option<Position> {
    let mut lines: Vec<Line> = s
        .lines
        .iter()
        .flat_map(|t| wrap(t, (W - 4) as usize))
        .map(|l| Line::styled(format!(" {l}"), theme.text))
        .collect();
    lines.push(Line::raw(""));
    let first = lines.len();
    for chunk in s.secrets.chunks(2) {
        let text: Vec<String> = chunk.iter().map(|c| clean(c.expose())).collect();
        lines.push(Line::styled(
            format!("   {}", text.join("     ")),
            theme.number,
        ));
    }
    lines.push(Line::raw(""));
    let k = |c| state.keymap.describe(c, false).unwrap_or_default();
    let copy = if s.copied {
        "Copied to your clipboard (OSC 52).".to_string()
    } else {
        format!(
            "{} copies it to your clipboard (works over SSH).",
            k(crate::app::keymap::Command::Copy)
        )
    };
    lines.push(Line::styled(format!(" {copy}"), theme.muted));
    lines.push(Line::styled(
        format!(
            " {} when you have saved it: it is not shown again.",
            k(crate::app::keymap::Command::Activate)
        ),
        theme.muted,
    ));
    let h = lines.len() as u16 + 2;
    let inner = dialog(frame, area, W, h, &clean(&s.title), theme);
    frame.render_widget(Paragraph::new(lines), inner);
    Some(Position {
        x: inner.x + 3,
        y: inner.y + (first as u16).min(inner.height.saturating_sub(1)),
    })
}
