//! QR codes without a terminal library: encoding (error correction L, so a
//! typical otpauth URI fits 80×24), the half-block geometry every drawing shares,
//! `short_otpauth`, and the text forms for plain mode and the CLI. The ratatui
//! widget that draws an encoded code is `ui::qr`; it adds the `Rect`-based
//! layout methods to [`QrCode`] there.

mod otpauth;
mod text;

pub use otpauth::short_otpauth;
pub use text::{ansi_lines, ansi_lines_quiet, plain_lines};

use qrcode::EcLevel;
use std::sync::Arc;

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
    /// RGB black and white, for terminals that say they do truecolor.
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
}

/// An encoded QR symbol and how to draw it. Encoding is the expensive part, so
/// it is done once (per enrollment in the TUI); clones share the modules, and
/// the drawing options (`palette`, `inverted`, `text_hint`) are cheap to set.
#[derive(Clone, PartialEq, Eq)]
pub struct QrCode {
    /// Row-major, `true` = dark module.
    dark: Arc<[bool]>,
    width: u16,
    palette: QrPalette,
    inverted: bool,
    hint: &'static str,
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
            hint: "the secret is shown as text",
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
    pub fn text_hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }

    pub fn is_inverted(&self) -> bool {
        self.inverted
    }

    pub fn palette_in_use(&self) -> QrPalette {
        self.palette
    }

    pub fn hint(&self) -> &'static str {
        self.hint
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

    /// The largest quiet zone of 4, 3, 2 that fits in `cols`×`rows` cells, or None.
    pub fn quiet_zone_within(&self, cols: u16, rows: u16) -> Option<u16> {
        (MIN_QUIET_ZONE..=QUIET_ZONE).rev().find(|&q| {
            let (w, h) = self.size_for(q);
            w <= cols && h <= rows
        })
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
}

/// One cell holds two module rows: the glyph inks the top, the bottom, both or neither.
pub fn half_block(top: bool, bottom: bool) -> &'static str {
    match (top, bottom) {
        (true, true) => "█",
        (true, false) => "▀",
        (false, true) => "▄",
        (false, false) => " ",
    }
}
