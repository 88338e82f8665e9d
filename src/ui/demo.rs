//! The demo's banner and its panels: the simulated phone (approve a push by
//! typing the number) and the outbox of codes the demo server "sent".

use crate::app::state::{DemoInfo, Loadable, PhonePanel, SentMessage, State};
use crate::ui::theme::Theme;
use crate::ui::widgets::{cell, clean, dialog, field, spinner, wrap};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

/// The demo in full, for the help overlay.
pub fn about(d: &DemoInfo) -> String {
    format!(
        "DEMO: a local test server with a made-up account. Sign in as {} with password {}. \
         Nothing here is real. For your own account: secinfo config init",
        d.username, d.password
    )
}

/// One row at most: every row counts at 80×24. The rest is under `?`.
pub fn banner_height(_width: u16) -> u16 {
    1
}

/// `help`: the key that opens help where the focus is (`?`, or F1 in a text field).
pub fn banner(frame: &mut Frame, area: Rect, d: &DemoInfo, help: &str, theme: &Theme) {
    let line = format!(
        " DEMO (not real) · {} / {} · {help}: more",
        d.username, d.password
    );
    let line = Line::raw(cell(&line, area.width as usize));
    frame.render_widget(Paragraph::new(line).style(theme.banner), area);
}

pub fn phone(
    state: &State,
    p: &PhonePanel,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) -> Option<Position> {
    let mut lines: Vec<Line> = [
        "This stands in for the authenticator app on the demo account's phone.",
        "Type the number shown on the sign-in screen and press Enter to approve.",
    ]
    .iter()
    .flat_map(|t| wrap(t, 60))
    .map(|l| Line::raw(format!(" {l}")))
    .collect();
    lines.push(Line::raw(""));
    let (input, col) = field("Number", &p.input, 8, true, theme);
    let input_row = lines.len() as u16;
    lines.push(input);
    lines.push(Line::raw(""));
    match (&p.pending, &p.result) {
        (Some(_), _) => lines.push(Line::styled(
            format!(" {} Approving…", spinner(state.spinner)),
            theme.muted,
        )),
        (None, Some(Ok(t))) => lines.push(Line::styled(format!(" {}", clean(t)), theme.success)),
        (None, Some(Err(e))) => lines.push(Line::styled(format!(" ! {}", clean(e)), theme.error)),
        (None, None) => {}
    }
    let h = lines.len() as u16 + 2;
    // At the bottom, so the number it asks for stays readable above it.
    let bottom = Rect {
        y: area.y + area.height.saturating_sub(h),
        height: h.min(area.height),
        ..area
    };
    let inner = dialog(frame, bottom, 66, h, "Simulated phone (demo)", theme);
    frame.render_widget(Paragraph::new(lines), inner);
    Some(Position {
        x: inner.x + col as u16,
        y: inner.y + input_row,
    })
}

pub fn outbox(
    state: &State,
    o: &Loadable<Vec<SentMessage>>,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) -> Option<Position> {
    let mut lines = vec![Line::styled(
        " Codes the demo server \"sent\" by text message or email:",
        theme.muted,
    )];
    match o {
        Loadable::Ready(list) if list.is_empty() => lines.push(Line::raw(" Nothing sent yet.")),
        Loadable::Ready(list) => {
            for m in list
                .iter()
                .rev()
                .take(area.height.saturating_sub(5) as usize)
            {
                let head = format!(
                    " {} {} to {}:",
                    cell(&m.sent_at, 20),
                    clean(&m.channel),
                    clean(&m.recipient)
                );
                lines.push(Line::styled(head, theme.heading));
                lines.push(Line::raw(format!("   {}", clean(&m.body))));
            }
        }
        Loadable::Failed(e) => lines.push(Line::styled(format!(" ! {e}"), theme.error)),
        _ => lines.push(Line::styled(
            format!(" {} Loading…", spinner(state.spinner)),
            theme.muted,
        )),
    }
    let h = lines.len() as u16 + 2;
    let inner = dialog(frame, area, 76, h, "Sent codes (demo outbox)", theme);
    frame.render_widget(Paragraph::new(lines), inner);
    Some(Position {
        x: inner.x,
        y: inner.y,
    })
}
