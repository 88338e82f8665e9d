//! Devices: the authenticator phones on the account, each deletable.

use crate::app::state::{Loadable, State};
use crate::present::date;
use crate::ui::theme::Theme;
use crate::ui::widgets::{Hits, ListBody, ListScreen, cell, flexible, list_screen};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Span;

/// Platform, two dates and the actions; the name takes what is left.
const FIXED: usize = 14 + 12 + 12 + 13;

pub const MIN_WIDTH: u16 = (2 + 2 + FIXED + 16) as u16;

pub fn render(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    hits: &mut Hits,
) -> Option<Position> {
    let name_w = flexible(area.width, FIXED, 16, 40);
    let body = match &state.devices {
        Loadable::Ready(list) => ListBody::Rows(
            list.iter()
                .map(|d| {
                    let style = if d.reachable { theme.text } else { theme.muted };
                    let mut name = d.name.clone();
                    if !d.reachable {
                        name.push_str(" (app removed)");
                    }
                    vec![
                        Span::styled(cell(&name, name_w), style),
                        Span::styled(cell(&d.platform, 14), style),
                        Span::styled(cell(&date(d.added), 12), theme.muted),
                        Span::styled(cell(&date(d.last_used), 12), theme.muted),
                        Span::styled("Rename ", theme.link),
                        Span::styled("Delete", theme.danger),
                    ]
                })
                .collect(),
        ),
        Loadable::Failed(e) => ListBody::Failed(e),
        _ => ListBody::Loading,
    };
    let header = format!(
        "{}{}{}{}",
        cell("Device", name_w),
        cell("Platform", 14),
        cell("Added", 12),
        cell("Last used", 12)
    );
    let screen = ListScreen {
        title: "Devices",
        about: "Authenticator phones registered to your account. Delete one that is lost, stolen or old: \
                its sign-in methods go with it.",
        what: "your devices",
        header,
        empty: "No authenticator phones are registered to your account.",
        body,
    };
    list_screen(state, screen, frame, area, theme, hits)
}
