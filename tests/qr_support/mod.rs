//! A QR code read back from half-block cells ("▀", "▄", "█", " ") as a phone
//! camera would: each cell becomes pixels, and rqrr decodes them. Shared by
//! the tests that scan a ratatui buffer, a vt100 screen or printed text.
#![allow(dead_code)]

const SCALE: usize = 4;

/// Pixels of a grid of half-block cells; `cell(x, y)` gives (symbol, fg luma, bg luma).
pub fn raster(
    cols: u16,
    rows: u16,
    cell: impl Fn(u16, u16) -> (String, u8, u8),
) -> (usize, usize, Vec<u8>) {
    let (w, h) = (cols as usize * SCALE, rows as usize * 2 * SCALE);
    let mut px = vec![0u8; w * h];
    for cy in 0..rows {
        for cx in 0..cols {
            let (sym, fg, bg) = cell(cx, cy);
            let (top, bottom) = match sym.as_str() {
                "█" => (fg, fg),
                "▀" => (fg, bg),
                "▄" => (bg, fg),
                " " | "" => (bg, bg),
                _ => (128, 128), // text: neither dark nor light
            };
            for (half, v) in [(0, top), (1, bottom)] {
                for dy in 0..SCALE {
                    let y = (cy as usize * 2 + half) * SCALE + dy;
                    let x = cx as usize * SCALE;
                    px[y * w + x..y * w + x + SCALE].fill(v);
                }
            }
        }
    }
    (w, h, px)
}

/// Every QR code found in the pixels, decoded.
pub fn decode((w, h, px): (usize, usize, Vec<u8>)) -> Vec<String> {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| px[y * w + x]);
    img.detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, s)| s))
        .collect()
}
