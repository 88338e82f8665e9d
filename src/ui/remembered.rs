//! Remembered devices: "Don't ask again for N days" grants; this one is marked.

use crate::app::state::{Loadable, State};
use crate::present::date;
use crate::ui::theme::Theme;
use crate::ui::widgets::{Hits, ListBody, ListScreen, cell, flexible, list_screen, with_suffix};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Span;

/// Two dates and the action; the client takes what is left.
const FIXED: usize = 12 + 12 + 6;

pub const MIN_WIDTH: u16 = (2 + 2 + FIXED + 20) as u16;

pub fn render(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    hits: &mut Hits,
) -> Option<Position> {
    let client_w = flexible(area.width, FIXED, 20, 50);
    let body = match &state.remembered {
        Loadable::Ready(list) => ListBody::Rows(
            list.iter()
                .map(|r| {
                    let client = if r.current {
                        with_suffix(&r.client, "(this one)", client_w)
                    } else {
                        cell(&r.client, client_w)
                    };
                    let style = if r.current { theme.heading } else { theme.text };
                    vec![
                        Span::styled(client, style),
                        Span::styled(cell(&date(r.created), 12), theme.muted),
                        Span::styled(cell(&date(r.expires), 12), theme.muted),
                        Span::styled("Revoke", theme.link),
                    ]
                })
                .collect(),
        ),
        Loadable::Failed(e) => ListBody::Failed(e),
        _ => ListBody::Loading,
    };
    let header = format!(
        "{}{}{}",
        cell("Client", client_w),
        cell("Remembered", 12),
        cell("Expires", 12)
    );
    let screen = ListScreen {
        title: "Remembered devices",
        about: "Clients where you ticked \"Don't ask again\": they skip the second factor until the date shown. \
                Revoke one and it asks again.",
        what: "your remembered devices",
        header,
        empty: "No remembered devices: every sign-in asks for your second factor.",
        body,
    };
    list_screen(state, screen, frame, area, theme, hits)
}
