//! The QR code as lines of text, for the CLI (`secinfo methods add totp`) and plain mode:
//! the same half-block rule and palette as the TUI widget, 4-module quiet zone.

use super::{QUIET_ZONE, QrCode, QrPalette, half_block};

/// Lines with explicit SGR colors (38;5;16 / 48;5;231, or 38;2 / 48;2 RGB with
/// `QrPalette::TrueColor`), each ending in a reset so nothing bleeds into the
/// prompt that follows. Honours the code's `inverted` flag.
pub fn ansi_lines(code: &QrCode) -> Vec<String> {
    ansi_lines_quiet(code, QUIET_ZONE)
}

/// `ansi_lines` with a quiet zone of `quiet` modules (at least `MIN_QUIET_ZONE`
/// to scan), for where rows are scarce.
pub fn ansi_lines_quiet(code: &QrCode, quiet: u16) -> Vec<String> {
    let (dark, light) = match code.palette_in_use() {
        QrPalette::Indexed => ("5;16", "5;231"),
        QrPalette::TrueColor => ("2;0;0;0", "2;255;255;255"),
    };
    let (ink, paper) = if code.is_inverted() {
        (light, dark)
    } else {
        (dark, light)
    };
    let sgr = format!("\x1b[0;38;{ink};48;{paper}m");
    rows(code, quiet, true)
        .map(|glyphs| format!("{sgr}{glyphs}\x1b[0m"))
        .collect()
}

/// Lines without escapes, for no-color output. The glyphs' ink is the
/// terminal's own text color, so this draws the light modules (and quiet zone)
/// as ink: right for light-on-dark terminals. `inverted` inks the dark modules
/// instead, for dark-on-light terminals.
pub fn plain_lines(code: &QrCode) -> Vec<String> {
    rows(code, QUIET_ZONE, code.is_inverted()).collect()
}

fn rows(code: &QrCode, quiet: u16, ink_is_dark: bool) -> impl Iterator<Item = String> + '_ {
    let (cols, rows) = code.size_for(quiet);
    (0..rows).map(move |row| {
        (0..cols)
            .map(|col| {
                let top = code.is_dark(quiet, col, row * 2);
                let bottom = code.is_dark(quiet, col, row * 2 + 1);
                // Outside the symbol (quiet zone, padding half row) is light.
                half_block(top == ink_is_dark, bottom == ink_is_dark)
            })
            .collect()
    })
}
