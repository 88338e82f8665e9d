//! Small drawing helpers shared by the screens: focus-marked rows, padded
//! table cells, a scrolling list that keeps the focus in view, dialogs boxes.

use crate::backend::BackendError;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// The focus marker: visible without color, read by screen readers as ">".
pub const MARK: &str = "> ";
pub const NO_MARK: &str = "  ";

const SPINNER: [char; 4] = ['|', '/', '-', '\\'];

pub fn spinner(tick: usize) -> char {
    SPINNER[tick % SPINNER.len()]
}

/// Text from a server never reaches the terminal with control characters in it.
pub fn clean(s: &str) -> String {
    crate::present::clean(s)
}

/// Pads or cuts `s` to exactly `w` columns.
pub fn cell(s: &str, w: usize) -> String {
    let s = clean(s);
    let n = s.chars().count();
    if n > w {
        let mut cut: String = s.chars().take(w.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

/// Pads or cuts `s` to `w` columns keeping its end: an address keeps its
/// domain (`…@contoso.test`), which says more than its first letters.
pub fn cell_keep_end(s: &str, w: usize) -> String {
    let s = clean(s);
    let n = s.chars().count();
    if n > w {
        let tail: String = s.chars().skip(n - w.saturating_sub(1)).collect();
        format!("…{tail}")
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

/// The width left for a table's one flexible column once the focus mark and
/// the `fixed` columns are placed, kept within `min..=max`.
pub fn flexible(area_width: u16, fixed: usize, min: usize, max: usize) -> usize {
    (area_width as usize)
        .saturating_sub(MARK.len() + fixed)
        .clamp(min, max)
}

/// `name` plus a marker that must stay readable: the name is cut, never the marker.
pub fn with_suffix(name: &str, suffix: &str, w: usize) -> String {
    let room = w.saturating_sub(suffix.chars().count() + 1);
    let name = cell(name, room);
    cell(&format!("{} {suffix}", name.trim_end()), w)
}

/// A row with the focus marker; a focused row is drawn in the focus style.
pub fn row<'a>(spans: Vec<Span<'a>>, focused: bool, theme: &Theme) -> Line<'a> {
    let mut all = vec![Span::raw(if focused { MARK } else { NO_MARK })];
    all.extend(spans);
    let line = Line::from(all);
    if focused {
        line.style(theme.focus)
    } else {
        line
    }
}

/// What a failed load says, with the key that retries it.
pub fn failure(what: &str, e: &BackendError, retry_key: Option<String>) -> String {
    match retry_key {
        Some(k) => format!("Could not load {what}: {e}. Press {k} to try again."),
        None => format!("Could not load {what}: {e}."),
    }
}

/// Lines of which one (`focus`) must stay in view; scrolls and places the
/// terminal cursor on the focused line's marker.
/// Where each focusable row was drawn: the screen row of the `n`th one, so a
/// click (mouse opt-in) can be told which it hit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hits(Vec<(u16, usize)>);

impl Hits {
    /// The focusable row drawn on screen row `y`.
    pub fn at(&self, y: u16) -> Option<usize> {
        self.0.iter().find(|(row, _)| *row == y).map(|(_, n)| *n)
    }

    /// `rows`: (line, n) for each focusable line of a list scrolled by `offset` in `area`.
    fn record(&mut self, area: Rect, offset: usize, rows: &[(usize, usize)]) {
        self.0.clear();
        let shown = offset..offset + area.height as usize;
        self.0.extend(
            rows.iter()
                .filter(|(line, _)| shown.contains(line))
                .map(|(line, n)| (area.y + (line - offset) as u16, *n)),
        );
    }
}

pub fn scrolled(
    frame: &mut Frame,
    area: Rect,
    lines: Vec<Line>,
    focus: Option<usize>,
) -> Option<Position> {
    scrolled_rows(frame, area, lines, focus, &[], &mut Hits::default())
}

/// `scrolled`, noting where the focusable `rows` ((line, n) pairs) were drawn.
pub fn scrolled_rows(
    frame: &mut Frame,
    area: Rect,
    lines: Vec<Line>,
    focus: Option<usize>,
    rows: &[(usize, usize)],
    hits: &mut Hits,
) -> Option<Position> {
    let h = area.height as usize;
    let offset = match focus {
        Some(f) if f >= h => f + 1 - h,
        _ => 0,
    };
    hits.record(area, offset, rows);
    let visible: Vec<Line> = lines.into_iter().skip(offset).take(h).collect();
    frame.render_widget(Paragraph::new(visible), area);
    focus.map(|f| Position {
        x: area.x,
        y: area.y + (f - offset) as u16,
    })
}

/// A centered box of at most `w`×`h`, cleared, with a title.
pub fn dialog(frame: &mut Frame, outer: Rect, w: u16, h: u16, title: &str, theme: &Theme) -> Rect {
    let w = w.min(outer.width);
    let h = h.min(outer.height);
    let area = Rect {
        x: outer.x + (outer.width - w) / 2,
        y: outer.y + (outer.height - h) / 2,
        width: w,
        height: h,
    };
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(format!(" {title} "), theme.heading))
        .style(theme.text);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// Greedy word wrap: the one rule, shared with the CLI.
pub use crate::present::wrap;

/// Wrapped text lines in one style; returns how many rows they used.
pub fn para(frame: &mut Frame, area: Rect, texts: &[String], style: Style) -> u16 {
    let lines: Vec<Line> = texts
        .iter()
        .flat_map(|t| wrap(t, area.width as usize))
        .map(|l| Line::styled(l, style))
        .collect();
    let used = (lines.len() as u16).min(area.height);
    frame.render_widget(Paragraph::new(lines), area);
    used
}

/// A text field: `label [value   ]`, with the cursor after the value when focused.
pub fn field(
    label: &str,
    value: &str,
    width: usize,
    focused: bool,
    theme: &Theme,
) -> (Line<'static>, usize) {
    let shown: String = value
        .chars()
        .rev()
        .take(width.saturating_sub(1))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let pad = width.saturating_sub(shown.chars().count());
    let line = row(
        vec![
            Span::raw(format!("{label} ")),
            Span::styled(format!("[{shown}{}]", " ".repeat(pad)), theme.input),
        ],
        focused,
        theme,
    );
    // marker + label + space + '[' + text
    let cursor_col = NO_MARK.len() + label.chars().count() + 2 + shown.chars().count();
    (line, cursor_col)
}

/// What a list screen has to show.
pub enum ListBody<'a> {
    Loading,
    Failed(&'a BackendError),
    Rows(Vec<Vec<Span<'static>>>),
}

/// The shared shape of the devices, sessions and remembered-devices screens.
pub struct ListScreen<'a> {
    pub title: &'a str,
    pub about: &'a str,
    /// "your devices": used in loading and error lines.
    pub what: &'a str,
    pub header: String,
    pub empty: &'a str,
    pub body: ListBody<'a>,
}

pub fn list_screen(
    state: &crate::app::state::State,
    s: ListScreen,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    hits: &mut Hits,
) -> Option<Position> {
    use crate::app::keymap::Command;
    let mut lines = vec![Line::styled(s.title.to_string(), theme.title)];
    lines.extend(
        wrap(s.about, area.width as usize)
            .into_iter()
            .map(|l| Line::styled(l, theme.muted)),
    );
    lines.push(Line::raw(""));
    let mut focus = None;
    let mut rows = Vec::new();
    match s.body {
        ListBody::Loading => {
            lines.push(Line::styled(
                format!("{} Loading {}…", spinner(state.spinner), s.what),
                theme.muted,
            ));
        }
        ListBody::Failed(e) => {
            let retry = state.keymap.describe(Command::Refresh, false);
            let text = failure(s.what, e, retry);
            for (i, l) in wrap(&text, (area.width as usize).saturating_sub(2))
                .into_iter()
                .enumerate()
            {
                let mark = if i == 0 { "! " } else { "  " };
                lines.push(Line::styled(format!("{mark}{l}"), theme.error));
            }
        }
        ListBody::Rows(body_rows) if body_rows.is_empty() => {
            lines.push(Line::styled(s.empty.to_string(), theme.muted))
        }
        ListBody::Rows(body_rows) => {
            lines.push(Line::styled(format!("{NO_MARK}{}", s.header), theme.muted));
            let first = lines.len();
            let n = body_rows.len();
            for (i, spans) in body_rows.into_iter().enumerate() {
                rows.push((lines.len(), i));
                lines.push(row(spans, i == state.list_focus, theme));
            }
            focus = Some(first + state.list_focus.min(n - 1));
        }
    }
    if let Some(c) = &state.change {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("{} {}", spinner(state.spinner), c.change.progress()),
            theme.muted,
        ));
    }
    scrolled_rows(frame, area, lines, focus, &rows, hits)
}
