//! The QR code drawn in the terminal, from a code `crate::qr` already encoded.
//! Each cell is one module wide and two high ('█' '▀' '▄' ' '), every cell with
//! both colors set explicitly from a palette themes leave alone (palette 16/231
//! or RGB, never the named Black/White that themes remap), and the light quiet
//! zone drawn by the widget itself, so the code scans on any theme. It never
//! draws part of a code: when the area is too small it says which terminal
//! size it needs and the caller shows the text form.

use crate::qr::{MIN_QUIET_ZONE, QrCode, QrPalette};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

/// The palette's (dark, light) as ratatui colors.
pub fn palette_colors(palette: QrPalette) -> (Color, Color) {
    match palette {
        QrPalette::Indexed => (Color::Indexed(16), Color::Indexed(231)),
        QrPalette::TrueColor => (Color::Rgb(0, 0, 0), Color::Rgb(255, 255, 255)),
    }
}

// Layout in ratatui terms; the encoding and geometry are `crate::qr`'s.
impl QrCode {
    /// The largest quiet zone of 4, 3, 2 that fits in `area`, or None.
    pub fn quiet_zone_for(&self, area: Rect) -> Option<u16> {
        self.quiet_zone_within(area.width, area.height)
    }

    pub fn fits(&self, area: Rect) -> bool {
        self.quiet_zone_for(area).is_some()
    }

    /// Where the code lands in `area` (its top-left corner), if it fits.
    pub fn rect_in(&self, area: Rect) -> Option<Rect> {
        let (w, h) = self.size_for(self.quiet_zone_for(area)?);
        Some(Rect::new(area.x, area.y, w, h))
    }

    /// The terminal size at which `area` (a part of `screen`) would hold the
    /// code with the minimum quiet zone, assuming the area grows with the screen.
    pub fn needed_terminal(&self, area: Rect, screen: Rect) -> (u16, u16) {
        let (w, h) = self.size_for(MIN_QUIET_ZONE);
        (
            screen.width.saturating_add(w.saturating_sub(area.width)),
            screen.height.saturating_add(h.saturating_sub(area.height)),
        )
    }

    /// (ink, paper) colors: ink is the dark modules' color unless inverted.
    pub fn colors(&self) -> (Color, Color) {
        let (dark, light) = palette_colors(self.palette_in_use());
        if self.is_inverted() {
            (light, dark)
        } else {
            (dark, light)
        }
    }
}

impl Widget for &QrCode {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        let Some(quiet) = self.quiet_zone_for(area) else {
            let (w, h) = self.needed_terminal(area, buf.area);
            let msg = format!(
                "enlarge the terminal to at least {w}×{h} to show the QR code; {}",
                self.hint()
            );
            Clear.render(area, buf);
            Paragraph::new(msg)
                .wrap(Wrap { trim: true })
                .render(area, buf);
            return;
        };
        let (cols, rows) = self.size_for(quiet);
        let (ink, paper) = self.colors();
        for row in 0..rows {
            for col in 0..cols {
                if let Some(cell) = buf.cell_mut((area.x + col, area.y + row)) {
                    // reset() drops modifiers (REVERSED, underline…) left by the caller.
                    cell.reset();
                    cell.set_symbol(self.glyph(quiet, col, row))
                        .set_fg(ink)
                        .set_bg(paper);
                }
            }
        }
    }
}
