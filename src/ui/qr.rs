//! The QR code drawn in the terminal. Each cell is one module wide and two
//! high ('█' '▀' '▄' ' '), every cell with both colors set explicitly from a
//! palette themes leave alone (palette 16/231 or RGB, never the named
//! Black/White that themes remap), and the light quiet zone drawn by the widget
//! itself, so the code scans on any theme. Error correction L keeps it small
//! enough for 80×24. It never draws part of a code: when the area is too small
//! it says which terminal size it needs and the caller shows the text form.

use qrcode::EcLevel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

/// The quiet zone (in modules) drawn where the area allows it.
pub const QUIET_ZONE: u16 = 4;
/// The tightest quiet zone still drawn (proven to decode in tests/qr_scan.rs).
pub const MIN_QUIET_ZONE: u16 = 2;

/// Never holds the payload: it may be a TOTP secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("the text is too long for a QR code")]
    TooLong,
    #[error("the text cannot be encoded as a QR code")]
    Unencodable,
}

/// The two colors of the code. A closed set so nobody passes a themeable color.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QrPalette {
    /// 256-color cube black (16) and white (231): works everywhere, themes keep them.
    #[default]
    Indexed,
    /// `Rgb(0,0,0)` / `Rgb(255,255,255)`, for terminals that say they do truecolor.
    TrueColor,
}

impl QrPalette {
    /// From `COLORTERM` (not passed over SSH by default, hence Indexed otherwise).
    pub fn from_env() -> Self {
        Self::from_colorterm(std::env::var("COLORTERM").ok().as_deref())
    }

    pub fn from_colorterm(colorterm: Option<&str>) -> Self {
        match colorterm {
            Some(v) if v.eq_ignore_ascii_case("truecolor") || v.eq_ignore_ascii_case("24bit") => {
                Self::TrueColor
            }
            _ => Self::Indexed,
        }
    }

    pub fn dark(self) -> Color {
        match self {
            Self::Indexed => Color::Indexed(16),
            Self::TrueColor => Color::Rgb(0, 0, 0),
        }
    }

    pub fn light(self) -> Color {
        match self {
            Self::Indexed => Color::Indexed(231),
            Self::TrueColor => Color::Rgb(255, 255, 255),
        }
    }
}

/// An encoded QR symbol and how to draw it. Render it as a widget (`&QrCode`).
#[derive(Clone)]
pub struct QrCode {
    /// Row-major, `true` = dark module.
    dark: Vec<bool>,
    width: u16,
    palette: QrPalette,
    inverted: bool,
    hint: String,
}

impl std::fmt::Debug for QrCode {
    // The modules are the payload in another form: keep them out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrCode")
            .field("modules", &self.width)
            .field("palette", &self.palette)
            .field("inverted", &self.inverted)
            .finish_non_exhaustive()
    }
}

impl QrCode {
    pub fn new(payload: &str) -> Result<Self, QrError> {
        let code = qrcode::QrCode::with_error_correction_level(payload, EcLevel::L).map_err(
            |e| match e {
                qrcode::types::QrError::DataTooLong => QrError::TooLong,
                _ => QrError::Unencodable,
            },
        )?;
        let width = u16::try_from(code.width()).map_err(|_| QrError::TooLong)?;
        Ok(Self {
            dark: code
                .to_colors()
                .into_iter()
                .map(|m| m == qrcode::Color::Dark)
                .collect(),
            width,
            palette: QrPalette::default(),
            inverted: false,
            hint: "the secret is shown as text".into(),
        })
    }

    pub fn palette(mut self, palette: QrPalette) -> Self {
        self.palette = palette;
        self
    }

    /// Draw the negative (dark modules and quiet zone swap colors), for
    /// terminals that swap colors: there it shows as dark-on-light again.
    pub fn inverted(mut self, inverted: bool) -> Self {
        self.inverted = inverted;
        self
    }

    /// What the too-small message ends with (default "the secret is shown as text").
    pub fn text_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    pub fn is_inverted(&self) -> bool {
        self.inverted
    }

    pub fn palette_in_use(&self) -> QrPalette {
        self.palette
    }

    /// Side length of the symbol in modules (17 + 4 × version).
    pub fn modules(&self) -> u16 {
        self.width
    }

    /// Cells (cols, rows) the code takes with this quiet zone; the odd module
    /// row at the bottom is padded with a light half row.
    pub fn size_for(&self, quiet: u16) -> (u16, u16) {
        let side = self.width.saturating_add(quiet.saturating_mul(2));
        (side, side / 2 + side % 2)
    }

    /// The largest quiet zone of 4, 3, 2 that fits, or None.
    pub fn quiet_zone_for(&self, area: Rect) -> Option<u16> {
        (MIN_QUIET_ZONE..=QUIET_ZONE).rev().find(|&q| {
            let (w, h) = self.size_for(q);
            w <= area.width && h <= area.height
        })
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

    /// Whether the module at (x, y) of the drawing (quiet zone included) is dark.
    pub fn is_dark(&self, quiet: u16, x: u16, y: u16) -> bool {
        let (x, y) = (x.wrapping_sub(quiet), y.wrapping_sub(quiet));
        x < self.width
            && y < self.width
            && self.dark[usize::from(y) * usize::from(self.width) + usize::from(x)]
    }

    /// The half-block glyph of cell (col, row): top module row 2·row, bottom 2·row+1.
    /// The glyph's ink is the dark modules; the caller colors ink dark, the rest light.
    pub fn glyph(&self, quiet: u16, col: u16, row: u16) -> &'static str {
        let top = self.is_dark(quiet, col, row.saturating_mul(2));
        let bottom = self.is_dark(quiet, col, row.saturating_mul(2).saturating_add(1));
        half_block(top, bottom)
    }

    /// (ink, paper) colors: ink is the dark modules' color unless inverted.
    pub fn colors(&self) -> (Color, Color) {
        let (dark, light) = (self.palette.dark(), self.palette.light());
        if self.inverted {
            (light, dark)
        } else {
            (dark, light)
        }
    }
}

pub fn half_block(top: bool, bottom: bool) -> &'static str {
    match (top, bottom) {
        (true, true) => "█",
        (true, false) => "▀",
        (false, true) => "▄",
        (false, false) => " ",
    }
}

impl Widget for &QrCode {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        let Some(quiet) = self.quiet_zone_for(area) else {
            let (w, h) = self.needed_terminal(area, buf.area);
            let msg = format!(
                "enlarge the terminal to at least {w}×{h} to show the QR code; {}",
                self.hint
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

/// The otpauth URI with the parameters authenticator apps assume by default
/// (algorithm=SHA1, digits=6, period=30) and vendor extras no app needs to make
/// codes (e.g. privacyIDEA's creator and serial) left out: fewer bytes, a smaller
/// code that fits 80×24. The label, secret, issuer and counter are kept as they
/// were. Anything that is not an otpauth URI comes back unchanged.
pub fn short_otpauth(uri: &str) -> String {
    let Some((head, query)) = uri.split_once('?') else {
        return uri.to_owned();
    };
    if !head
        .get(..10)
        .is_some_and(|s| s.eq_ignore_ascii_case("otpauth://"))
    {
        return uri.to_owned();
    }
    let kept: Vec<&str> = query.split('&').filter(|p| keep_param(p)).collect();
    format!("{head}?{}", kept.join("&"))
}

fn keep_param(param: &str) -> bool {
    let (key, value) = param.split_once('=').unwrap_or((param, ""));
    match key.to_ascii_lowercase().as_str() {
        "secret" | "issuer" | "counter" => true,
        "algorithm" => !value.eq_ignore_ascii_case("SHA1"),
        "digits" => value != "6",
        "period" => value != "30",
        _ => false,
    }
}
