//! Recent activity: sign-ins, failed ones, lockouts and changes, newest
//! first. Failures are marked with `!` as well as colour; the last row reads
//! the older page.

use crate::app::state::{Loadable, State};
use crate::domain::{ActivityEvent, ActivityKind};
use crate::present::{moment, origin};
use crate::ui::theme::Theme;
use crate::ui::widgets::{Hits, ListBody, ListScreen, cell, list_screen, spinner};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Span;

const WHEN: usize = 17;
const EVENT: usize = 17;
/// The focus mark before each row.
const MARK: usize = 2;

/// Below this the From column shows the address alone: it says where.
const ROOM_FOR_CLIENT: usize = 20;

/// The columns' widths at this width: when and the event keep theirs; what
/// happened takes most of the rest, where from the remainder.
fn widths(width: u16) -> (usize, usize) {
    let rest = (width as usize).saturating_sub(MARK + WHEN + EVENT);
    let from = (rest / 4).clamp(15, 32);
    (rest.saturating_sub(from + 1).max(10), from)
}

fn from(e: &ActivityEvent, width: usize) -> String {
    match (&e.client, &e.ip) {
        (_, Some(ip)) if width < ROOM_FOR_CLIENT => ip.clone(),
        (client, ip) => origin(client.as_deref(), ip.as_deref()),
    }
}

pub const MIN_WIDTH: u16 = (2 + MARK + WHEN + EVENT + 10 + 1 + 15) as u16;

fn row(e: &ActivityEvent, what_w: usize, from_w: usize, theme: &Theme) -> Vec<Span<'static>> {
    let warn = e.kind.is_warning();
    let label = format!("{}{}", if warn { "! " } else { "" }, e.kind.label());
    // "Signed in" is the event already: its row says how.
    let what = match (&e.factor, &e.kind) {
        (Some(f), ActivityKind::SignIn) => format!("with {f}"),
        (Some(f), _) => format!("{} with {f}", e.what),
        (None, _) => e.what.clone(),
    };
    vec![
        Span::styled(cell(&moment(e.at), WHEN), theme.muted),
        Span::styled(
            cell(&label, EVENT),
            if warn { theme.error } else { theme.text },
        ),
        Span::styled(cell(&what, what_w) + " ", theme.text),
        Span::styled(cell(&from(e, from_w), from_w), theme.muted),
    ]
}

pub fn render(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    hits: &mut Hits,
) -> Option<Position> {
    let (what_w, from_w) = widths(area.width);
    let body = match &state.activity {
        Loadable::Ready(page) => {
            let mut rows: Vec<Vec<Span<'static>>> = page
                .events
                .iter()
                .map(|e| row(e, what_w, from_w, theme))
                .collect();
            if page.next.is_some() {
                let text = match state.activity_older {
                    Some(_) => format!("{} Reading older activity…", spinner(state.spinner)),
                    None => "Show older activity".to_string(),
                };
                rows.push(vec![Span::styled(text, theme.link)]);
            }
            ListBody::Rows(rows)
        }
        Loadable::Failed(e) => ListBody::Failed(e),
        _ => ListBody::Loading,
    };
    let header = format!(
        "{}{}{}{}",
        cell("When (UTC)", WHEN),
        cell("Event", EVENT),
        cell("What", what_w + 1),
        cell("From", from_w)
    );
    let screen = ListScreen {
        title: "Recent activity",
        about: "Sign-ins, failed sign-ins and changes to your security info, newest first. \
                One you do not recognise? Change your password and sign out everywhere.",
        what: "your recent activity",
        header,
        empty: "No recent activity.",
        body,
    };
    list_screen(state, screen, frame, area, theme, hits)
}
