//! Sessions: where the account is signed in; this one is marked.

use crate::app::state::{Loadable, State};
use crate::ui::theme::Theme;
use crate::ui::widgets::{ListBody, ListScreen, cell, date, list_screen};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Span;

pub fn render(state: &State, frame: &mut Frame, area: Rect, theme: &Theme) -> Option<Position> {
    let body = match &state.sessions {
        Loadable::Ready(list) => ListBody::Rows(
            list.iter()
                .map(|s| {
                    let client = if s.current {
                        format!("{} (this session)", s.client)
                    } else {
                        s.client.clone()
                    };
                    let style = if s.current { theme.heading } else { theme.text };
                    vec![
                        Span::styled(cell(&client, 30), style),
                        Span::styled(cell(&s.ip, 16), theme.text),
                        Span::styled(cell(&date(s.signed_in), 12), theme.muted),
                        Span::styled(cell(&date(s.last_active), 12), theme.muted),
                        Span::styled("Sign out", theme.link),
                    ]
                })
                .collect(),
        ),
        Loadable::Failed(e) => ListBody::Failed(e),
        _ => ListBody::Loading,
    };
    let header = format!(
        "{}{}{}{}",
        cell("Client", 30),
        cell("IP address", 16),
        cell("Signed in", 12),
        cell("Last active", 12)
    );
    let screen = ListScreen {
        title: "Sessions",
        about: "Where your account is signed in. Sign out one you do not recognise.",
        what: "your sessions",
        header,
        empty: "No sessions.",
        body,
    };
    list_screen(state, screen, frame, area, theme)
}
