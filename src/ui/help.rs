//! Help on `?`: every named action with its keys, straight from the keymap.

use crate::app::keymap::Command;
use crate::app::state::State;
use crate::ui::theme::Theme;
use crate::ui::widgets::{cell, dialog};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(state: &State, frame: &mut Frame, area: Rect, theme: &Theme) -> Option<Position> {
    let mut lines = Vec::new();
    // The demo first: the banner above is one line, and this is the rest of it.
    if let Some(d) = &state.demo {
        for l in crate::ui::widgets::wrap(&super::demo::about(d), 66) {
            lines.push(Line::raw(format!(" {l}")));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::raw(
        " Keys (change them under [keys] in the config file):",
    ));
    for cmd in Command::ALL {
        if matches!(cmd, Command::Phone | Command::Outbox) && state.demo.is_none() {
            continue;
        }
        let keys = state
            .keymap
            .describe(cmd, false)
            .unwrap_or_else(|| "(not bound)".into());
        lines.push(Line::from(vec![
            Span::styled(format!(" {}", cell(&keys, 16)), theme.key),
            Span::raw(cell(cmd.label(), 22)),
            Span::styled(cmd.name(), theme.muted),
        ]));
    }
    lines.push(Line::raw(
        " In a text field, letters are typed; use Tab, arrows, Enter, Esc.",
    ));

    let h = lines.len() as u16 + 2;
    let inner = dialog(frame, area, 70, h, "Help", theme);
    frame.render_widget(Paragraph::new(lines), inner);
    Some(Position {
        x: inner.x,
        y: inner.y,
    })
}
