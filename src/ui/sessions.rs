//! Sessions: where the account is signed in; this one is marked.

use crate::app::state::{Loadable, State};
use crate::present::date;
use crate::ui::theme::Theme;
use crate::ui::widgets::{ListBody, ListScreen, cell, list_screen, with_suffix};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Span;

pub fn render(state: &State, frame: &mut Frame, area: Rect, theme: &Theme) -> Option<Position> {
    let body = match &state.sessions {
        Loadable::Ready(list) => ListBody::Rows(
            list.iter()
                .map(|s| {
                    let client = if s.current {
                        with_suffix(&s.client, "(this one)", 30)
                    } else {
                        cell(&s.client, 30)
                    };
                    let style = if s.current { theme.heading } else { theme.text };
                    vec![
                        Span::styled(client, style),
                        Span::styled(cell(&s.ip, 15), theme.text),
                        Span::styled(cell(&date(s.signed_in), 11), theme.muted),
                        Span::styled(cell(&date(s.last_active), 11), theme.muted),
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
        cell("IP address", 15),
        cell("Signed in", 11),
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
