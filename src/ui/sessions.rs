//! Sessions: where the account is signed in; this one is marked.

use crate::app::state::{Loadable, State};
use crate::present::date;
use crate::ui::theme::Theme;
use crate::ui::widgets::{Hits, ListBody, ListScreen, cell, flexible, list_screen, with_suffix};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Span;

/// Address, two dates and the action; the client takes what is left.
const FIXED: usize = 16 + 11 + 12 + 8;

pub const MIN_WIDTH: u16 = (2 + 2 + FIXED + 20) as u16;

pub fn render(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    hits: &mut Hits,
) -> Option<Position> {
    let client_w = flexible(area.width, FIXED, 20, 44);
    let body = match &state.sessions {
        Loadable::Ready(list) => ListBody::Rows(
            list.iter()
                .map(|s| {
                    let client = if s.current {
                        with_suffix(&s.client, "(this one)", client_w)
                    } else {
                        cell(&s.client, client_w)
                    };
                    let style = if s.current { theme.heading } else { theme.text };
                    vec![
                        Span::styled(client, style),
                        Span::styled(cell(&s.ip, 16), theme.text),
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
        cell("Client", client_w),
        cell("IP address", 16),
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
    list_screen(state, screen, frame, area, theme, hits)
}
