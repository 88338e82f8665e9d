//! "Finish in a browser": the page and the code as text (what a screen
//! reader reads, what is typed on another device), and beside them, where it
//! fits, the page as a QR code for a phone. For sign-in and step-up alike.

use crate::app::keymap::Command;
use crate::app::state::{BrowserWait, Purpose, State};
use crate::qr::QrPalette;
use crate::ui::theme::Theme;
use crate::ui::widgets::{clean, scrolled, spinner};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Line;

/// The text column's width when the QR code stands beside it.
const TEXT_W: u16 = 40;

pub fn render(
    state: &State,
    wait: &BrowserWait,
    intro: Option<String>,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) -> Option<Position> {
    let title = match wait.purpose {
        Purpose::SignIn { .. } => "Finish signing in in a browser",
        Purpose::StepUp => "Confirm it is you in a browser",
    };
    let mut lines = vec![Line::styled(title, theme.title)];
    if let Some(i) = intro {
        lines.push(Line::raw(i));
    }
    lines.push(Line::raw(""));
    lines.push(Line::raw("On any device, open:"));
    lines.push(Line::styled(
        format!("  {}", clean(&wait.step.verification_uri)),
        theme.heading,
    ));
    lines.push(Line::raw("and enter the code:"));
    lines.push(Line::styled(
        format!("  {}", clean(&wait.step.user_code)),
        theme.number,
    ));
    lines.push(Line::raw(""));
    let key = |c| state.keymap.describe(c, false).unwrap_or_default();
    match &wait.error {
        Some(e) => {
            lines.push(Line::styled(format!("! {}", clean(e)), theme.error));
            lines.push(Line::raw(format!("{} goes back.", key(Command::Back))));
        }
        None => {
            lines.push(Line::styled(
                format!(
                    "{} Waiting for the browser (every {} s)…",
                    spinner(state.spinner),
                    wait.pacing.every.as_secs()
                ),
                theme.muted,
            ));
            lines.push(Line::raw(format!(
                "{} copies the code · {} cancels",
                key(Command::Copy),
                key(Command::Back)
            )));
        }
    }
    let palette = if state.truecolor {
        QrPalette::TrueColor
    } else {
        QrPalette::Indexed
    };
    let qr = wait.qr.clone().map(|q| {
        q.palette(palette)
            .text_hint("the page and code are shown as text")
    });
    // Beside the text when there is room, else below it, else left out
    // (the text says everything the QR code does).
    let beside = Rect::new(
        area.x + TEXT_W + 1,
        area.y,
        area.width.saturating_sub(TEXT_W + 1),
        area.height,
    );
    let below_y = area.y + lines.len() as u16 + 1;
    let below = Rect::new(
        area.x,
        below_y,
        area.width,
        area.bottom().saturating_sub(below_y),
    );
    let text_area = match qr.as_ref() {
        Some(q) if area.width > TEXT_W && q.fits(beside) => {
            if let Some(spot) = q.rect_in(beside) {
                frame.render_widget(q, spot);
            }
            Rect::new(area.x, area.y, TEXT_W, area.height)
        }
        Some(q) if below.height > 0 && q.fits(below) => {
            if let Some(spot) = q.rect_in(below) {
                frame.render_widget(q, spot);
            }
            area
        }
        _ => area,
    };
    scrolled(frame, text_area, lines, None)
}
