//! Confirmation, type-the-name and menu overlays.

use crate::app::state::{Confirm, Menu, TypeName};
use crate::ui::theme::Theme;
use crate::ui::widgets::{Hits, MARK, NO_MARK, clean, dialog, field, row, scrolled_rows, wrap};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

const W: u16 = 66;

fn text_lines(texts: &[String], width: u16, theme: &Theme) -> Vec<Line<'static>> {
    texts
        .iter()
        .flat_map(|t| wrap(t, width.saturating_sub(2) as usize))
        .map(|l| Line::styled(format!(" {l}"), theme.text))
        .collect()
}

pub fn confirm(c: &Confirm, frame: &mut Frame, area: Rect, theme: &Theme) -> Option<Position> {
    let mut lines = text_lines(&c.lines, W - 2, theme);
    lines.push(Line::raw(""));
    let button = |label: &str, focused: bool, style| {
        let mark = if focused { MARK } else { NO_MARK };
        let style = if focused { theme.focus } else { style };
        Span::styled(format!("{mark}[ {label} ]"), style)
    };
    let cancel = button("Cancel", !c.yes_focused, theme.heading);
    let cancel_w = cancel.content.chars().count() as u16;
    lines.push(Line::from(vec![
        Span::raw(" "),
        cancel,
        Span::raw("   "),
        button(&c.yes, c.yes_focused, theme.danger),
    ]));
    let h = lines.len() as u16 + 2;
    let inner = dialog(frame, area, W, h, &clean(&c.title), theme);
    let y = inner.y + (lines.len() as u16 - 1).min(inner.height.saturating_sub(1));
    frame.render_widget(Paragraph::new(lines), inner);
    let x = inner.x + 1 + if c.yes_focused { cancel_w + 3 } else { 0 };
    Some(Position { x, y })
}

pub fn type_name(t: &TypeName, frame: &mut Frame, area: Rect, theme: &Theme) -> Option<Position> {
    let mut lines = text_lines(&t.lines, W - 2, theme);
    lines.push(Line::raw(""));
    let (input, col) = field("Name", &t.input, 30, true, theme);
    let input_row = lines.len() as u16;
    lines.push(input);
    if let Some(e) = &t.error {
        lines.extend(
            text_lines(&[format!("! {e}")], W - 2, theme)
                .into_iter()
                .map(|l| l.style(theme.error)),
        );
    }
    let h = lines.len() as u16 + 2;
    let inner = dialog(frame, area, W, h, &clean(&t.title), theme);
    frame.render_widget(Paragraph::new(lines), inner);
    Some(Position {
        x: inner.x + col as u16,
        y: inner.y + input_row.min(inner.height.saturating_sub(1)),
    })
}

pub fn menu(
    m: &Menu,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    hits: &mut Hits,
) -> Option<Position> {
    let lines: Vec<Line> = m
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut spans = Vec::new();
            match &item.disabled {
                None => spans.push(Span::raw(clean(&item.label))),
                Some(why) => {
                    spans.push(Span::styled(clean(&item.label), theme.muted));
                    spans.push(Span::styled(
                        format!(" (not available: {})", clean(why)),
                        theme.muted,
                    ));
                }
            }
            row(spans, i == m.focus, theme)
        })
        .collect();
    let h = lines.len() as u16 + 2;
    let inner = dialog(frame, area, W, h, &clean(&m.title), theme);
    let rows: Vec<(usize, usize)> = (0..m.items.len()).map(|i| (i, i)).collect();
    scrolled_rows(frame, inner, lines, Some(m.focus), &rows, hits)
}
