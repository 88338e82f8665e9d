//! Security info home, as the portal lays it out: default method with
//! Change, + Add sign-in method, the methods, the trust pages, Sign out everywhere.

use crate::app::keymap::Command;
use crate::app::state::{HomeItem, Loadable, State};
use crate::domain::{Ability, Capabilities, Method};
use crate::present::date;
use crate::ui::theme::Theme;
use crate::ui::widgets::{
    Hits, cell, cell_keep_end, clean, failure, row, scrolled_rows, spinner, wrap,
};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};

/// A trust page on the home screen: its item, name, blurb and the ability it needs.
type Page = (
    HomeItem,
    &'static str,
    &'static str,
    fn(&Capabilities) -> &Ability,
);

const KIND_W: usize = 28;
const DATE_W: usize = 12;
const ACTIONS: &str = "Change Delete";
/// Narrower than this, the Actions column goes (Enter on a row offers them).
const ROOM_FOR_ACTIONS: u16 = 72;

/// Narrower than this the table would lose columns (margins, mark, Method, Detail, Added).
pub const MIN_WIDTH: u16 = (2 + 2 + KIND_W + 12 + DATE_W) as u16;

/// The Detail column takes the width the others leave (an address needs it).
fn detail_width(width: u16) -> (usize, bool) {
    let actions = width >= ROOM_FOR_ACTIONS;
    let fixed = KIND_W + DATE_W + if actions { ACTIONS.len() } else { 0 };
    (super::widgets::flexible(width, fixed, 12, 100), actions)
}

pub fn render(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    hits: &mut Hits,
) -> Option<Position> {
    let items = state.home_items();
    let focused = items.get(state.home_focus).copied();
    let mut lines: Vec<Line> = vec![
        Line::styled("Security info", theme.title),
        Line::styled(
            "The methods you use to sign in or reset your password.",
            theme.muted,
        ),
        Line::raw(""),
    ];
    let mut focus_line = None;
    // (line, n): where each of the home items was put, for clicks.
    let mut rows: Vec<(usize, usize)> = Vec::new();
    // Rows are pushed in the items' order, so each search goes on from the last one
    // found: one pass over the items per frame, however many methods there are.
    let mut from = 0;
    let mut push = |lines: &mut Vec<Line<'static>>, item: HomeItem, spans: Vec<Span<'static>>| {
        if focused == Some(item) {
            focus_line = Some(lines.len());
        }
        if let Some(k) = items[from..].iter().position(|i| *i == item) {
            rows.push((lines.len(), from + k));
            from += k + 1;
        }
        lines.push(row(spans, focused == Some(item), theme));
    };
    let default = state
        .methods
        .ready()
        .and_then(|ms| ms.iter().find(|m| m.is_default));
    // Where the provider keeps one default per kind (Entra ID), the kind is what is chosen.
    let per_kind = state
        .caps
        .ready()
        .is_some_and(|c| c.default_scope == crate::domain::DefaultScope::PerKind);
    let default_text = match (&state.methods, default) {
        (_, Some(m)) if per_kind => format!("{} (by kind)", m.kind.title()),
        (_, Some(m)) => crate::app::state::method_name(m),
        (Loadable::Ready(_), None) => "none yet".into(),
        (Loadable::Failed(_), None) => "unknown".into(),
        _ => "…".into(),
    };
    push(
        &mut lines,
        HomeItem::ChangeDefault,
        vec![
            Span::raw("Default sign-in method: "),
            Span::styled(clean(&default_text), theme.heading),
            Span::raw("  "),
            Span::styled("Change", theme.link),
        ],
    );
    push(
        &mut lines,
        HomeItem::AddMethod,
        vec![Span::styled("+ Add sign-in method", theme.link)],
    );
    lines.push(Line::raw(""));
    let retry = state.keymap.describe(Command::Refresh, false);
    match &state.methods {
        Loadable::Ready(ms) if ms.is_empty() => {
            lines.push(Line::styled(
                "  You have no sign-in methods yet. Add one with + Add sign-in method.",
                theme.muted,
            ));
        }
        Loadable::Ready(ms) => {
            let (detail_w, actions) = detail_width(area.width);
            let header = format!(
                "  {}{}{}{}",
                cell("Method", KIND_W),
                cell("Detail", detail_w),
                cell("Added", DATE_W),
                if actions { "Actions" } else { "" }
            );
            lines.push(Line::styled(header, theme.muted));
            // `scrolled` shows the `h` lines around the focus: rows farther away stay
            // blank, so a frame costs the same with 1,000 methods as with 10.
            let first = lines.len();
            // One more than the height: the subtitle may yet go (below), moving every line up.
            let h = area.height as usize + 1;
            let seen = |line: usize| match focused {
                Some(HomeItem::Method(j)) => line.abs_diff(first + j) < h,
                Some(HomeItem::ChangeDefault | HomeItem::AddMethod) | None => line < h,
                Some(_) => line + h > first + ms.len(),
            };
            for (i, m) in ms.iter().enumerate() {
                if seen(first + i) {
                    let spans = method_row(m, detail_w, actions, theme);
                    push(&mut lines, HomeItem::Method(i), spans);
                } else {
                    lines.push(Line::default());
                }
            }
        }
        Loadable::Failed(e) => {
            // Wrapped, not cut at the edge: the reason is what the person needs.
            let text = failure("your sign-in methods", e, retry);
            for (i, l) in wrap(&text, (area.width as usize).saturating_sub(4))
                .into_iter()
                .enumerate()
            {
                let mark = if i == 0 { "  ! " } else { "    " };
                lines.push(Line::styled(format!("{mark}{l}"), theme.error));
            }
        }
        Loadable::Loading(_) | Loadable::NotAsked => {
            lines.push(Line::styled(
                format!("  {} Loading your sign-in methods…", spinner(state.spinner)),
                theme.muted,
            ));
        }
    }
    lines.push(Line::raw(""));
    let caps = state.caps.ready();
    let pages: [Page; 6] = [
        (
            HomeItem::Devices,
            "Devices",
            "Authenticator phones on your account",
            |c| &c.devices,
        ),
        (
            HomeItem::Sessions,
            "Sessions",
            "Where you are signed in",
            |c| &c.sessions,
        ),
        (
            HomeItem::Remembered,
            "Remembered devices",
            "\"Don't ask again\" on clients",
            |c| &c.remembered_devices,
        ),
        (
            HomeItem::AppPasswords,
            "App passwords",
            "For apps without a second factor",
            |c| &c.app_passwords,
        ),
        (
            HomeItem::RecoveryCodes,
            "Recovery codes",
            "One-time codes for a lost phone",
            |c| &c.recovery_codes,
        ),
        (
            HomeItem::Activity,
            "Recent activity",
            "Sign-ins and changes to your account",
            |c| &c.activity,
        ),
    ];
    for (item, name, about, pick) in pages {
        let mut spans = vec![
            Span::styled(cell(name, 22), theme.link),
            Span::styled(about.to_string(), theme.muted),
        ];
        if caps.is_some_and(|c| !pick(c).is_yes()) {
            spans.push(Span::styled(" (not available here)", theme.muted));
        }
        push(&mut lines, item, spans);
    }
    push(
        &mut lines,
        HomeItem::LostPhone,
        vec![
            Span::styled(cell("I lost my phone", 22), theme.link),
            Span::styled("Delete it, sign out, add a new method", theme.muted),
        ],
    );
    let mut soe = vec![
        Span::raw("Lost device? "),
        Span::styled("Sign out everywhere", theme.danger),
    ];
    if caps.is_some_and(|c| !c.sign_out_everywhere.is_yes()) {
        soe.push(Span::styled(" (not available here)", theme.muted));
    }
    push(&mut lines, HomeItem::SignOutEverywhere, soe);
    push(
        &mut lines,
        HomeItem::SignOut,
        vec![Span::styled("Sign out", theme.link)],
    );
    if let Some(c) = &state.change {
        lines.push(Line::styled(
            format!("  {} {}", spinner(state.spinner), c.change.progress()),
            theme.muted,
        ));
    }
    // Short of a row, the subtitle goes first: Sign out stays in view on 80×24.
    if lines.len() > area.height as usize {
        lines.remove(1);
        focus_line = focus_line.map(|f| f.saturating_sub(1));
        rows.iter_mut().for_each(|(line, _)| *line -= 1);
    }
    scrolled_rows(frame, area, lines, focus_line, &rows, hits)
}

/// What matters is at the end: an address's domain, or a date
/// ("Last updated 2026-12-07"). Cut from the front, these keep it.
fn keeps_its_end(detail: &str) -> bool {
    let tail: String = detail
        .chars()
        .rev()
        .take(10)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    detail.contains('@') || chrono::NaiveDate::parse_from_str(&tail, "%Y-%m-%d").is_ok()
}

fn method_row(m: &Method, detail_w: usize, actions: bool, theme: &Theme) -> Vec<Span<'static>> {
    let mut kind = m.kind.title();
    if m.is_default {
        kind.push_str(" (default)");
    }
    let actions = match (actions, &m.kind) {
        (false, _) => "",
        (true, crate::domain::MethodKind::Password) => "Change",
        (true, _) => ACTIONS,
    };
    let style = if m.usable_mfa {
        theme.text
    } else {
        theme.muted
    };
    vec![
        Span::styled(cell(&kind, KIND_W), style),
        // One column kept free, so a cut detail never runs into the date.
        Span::styled(
            if keeps_its_end(&m.detail) {
                cell_keep_end(&m.detail, detail_w - 1) + " "
            } else {
                cell(&m.detail, detail_w - 1) + " "
            },
            style,
        ),
        Span::styled(cell(&date(m.created), DATE_W), theme.muted),
        Span::styled(actions, theme.link),
    ]
}
