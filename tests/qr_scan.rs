// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The terminal QR code scans: what the widget (or the CLI's text renderer)
//! puts on the screen is turned back into pixels, honouring each cell's
//! fg/bg/REVERSED, and read by a real QR decoder (rqrr). The decoded URI then
//! yields the same TOTP code the server computes from the same secret.

mod qr_support;

use qr_support::{decode, raster};
use std::num::NonZeroU16;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Paragraph, Wrap};
use secinfo::qr::{QrCode, QrPalette, ansi_lines, plain_lines, short_otpauth};
use secinfo::server::Settings;
use totp_rs::{Builder, Secret, Totp};

/// RFC 6238's SHA1 test key "12345678901234567890", base32: 160 bits like the server's.
const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const ACCOUNT: &str = "alice@contoso.test";
/// privacyIDEA 3.x's `detail.googleurl.value` for a TOTP enrollment, as recorded.
const PRIVACYIDEA_URI: &str = "otpauth://totp/alice%40default?secret=WTM7F4MYCJMJ2WZHXK3HUQOJEYKW256H&period=30&digits=6&creator=privacyidea&issuer=secinfo-test&serial=TOTP0001521F";
/// A long Entra-style label: too big for 80×24 even at EC L.
const ENTRA_URI: &str = "otpauth://totp/Microsoft%20Entra%20ID:alice.longname@contoso.onmicrosoft.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Microsoft%20Entra%20ID";

/// The server's TOTP for a secret, built the way src/server/totp.rs builds it.
fn server_totp() -> Totp {
    let s = Settings::default();
    Builder::new()
        .with_secret(Secret::try_from_base32(SECRET).unwrap())
        .with_digits(s.totp_digits as u8)
        .with_step_duration(s.totp_step)
        .with_skew(1)
        .with_account_name(ACCOUNT)
        .with_issuer(Some(s.totp_issuer.as_str()))
        .build_noncompliant()
}

/// The demo server's otpauth URI (defaults already left out by totp-rs): 112 bytes.
fn demo_uri() -> String {
    short_otpauth(&server_totp().to_url().unwrap())
}

// ---- turning cells back into pixels -------------------------------------------------

/// Grey level a color shows as; Reset assumes a light-on-dark theme.
fn luma(c: Color, is_fg: bool) -> u8 {
    match c {
        Color::Reset => {
            if is_fg {
                255
            } else {
                0
            }
        }
        Color::Black | Color::Indexed(0) | Color::Indexed(16) => 0,
        Color::White | Color::Indexed(15) | Color::Indexed(231) => 255,
        Color::Rgb(r, g, b) => ((r as u32 * 299 + g as u32 * 587 + b as u32 * 114) / 1000) as u8,
        _ => 128,
    }
}

/// `swapped`: how a terminal that swaps fg and bg would show it.
fn buffer_pixels(buf: &Buffer, area: Rect, swapped: bool) -> (usize, usize, Vec<u8>) {
    raster(area.width, area.height, |x, y| {
        let c = &buf[(area.x + x, area.y + y)];
        let (mut fg, mut bg) = (luma(c.fg, true), luma(c.bg, false));
        if c.modifier.contains(Modifier::REVERSED) != swapped {
            std::mem::swap(&mut fg, &mut bg);
        }
        (c.symbol().to_string(), fg, bg)
    })
}

fn draw(cols: u16, rows: u16, f: impl FnOnce(&mut ratatui::Frame)) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(cols, rows)).unwrap();
    term.draw(f).unwrap();
    term.backend().buffer().clone()
}

/// The screen's words on one line, so wrapped messages read whole.
fn screen_words(buf: &Buffer) -> String {
    screen_text(buf)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn screen_text(buf: &Buffer) -> String {
    let a = buf.area;
    (0..a.height)
        .map(|y| {
            (0..a.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                + "\n"
        })
        .collect()
}

/// Every cell of the code: both colors explicit, from the palette, no modifiers.
fn assert_code_colors(buf: &Buffer, rect: Rect, ink: Color, paper: Color) {
    for y in rect.top()..rect.bottom() {
        for x in rect.left()..rect.right() {
            let c = &buf[(x, y)];
            assert_eq!((c.fg, c.bg), (ink, paper), "cell ({x},{y})");
            assert!(c.modifier.is_empty(), "cell ({x},{y}) has {:?}", c.modifier);
            for named in [Color::Black, Color::White, Color::Reset] {
                assert_ne!(c.fg, named);
                assert_ne!(c.bg, named);
            }
        }
    }
}

// ---- the widget ----------------------------------------------------------------------

#[test]
fn user_scans_the_demo_code_at_80x24_with_the_instructions_beside_it() {
    let uri = demo_uri();
    assert_eq!(
        uri,
        format!(
            "otpauth://totp/secinfo%20demo:alice%40contoso.test?secret={SECRET}&issuer=secinfo%20demo"
        )
    );
    let qr = QrCode::new(&uri).unwrap();
    assert_eq!((qr.modules(), qr.size_for(4)), (37, (45, 23)), "v5-L");
    assert!(!format!("{qr:?}").contains(SECRET));

    let mut qr_rect = Rect::default();
    let mut text_rect = Rect::default();
    let buf = draw(80, 24, |f| {
        let [left, _, right] = Layout::horizontal([
            Constraint::Length(qr.size_for(4).0),
            Constraint::Length(2),
            Constraint::Min(30),
        ])
        .areas(f.area());
        qr_rect = qr.rect_in(left).unwrap();
        text_rect = right;
        f.render_widget(&qr, left);
        let steps = "Scan the code with your authenticator app (Microsoft Authenticator, \
                     Google Authenticator, FreeOTP…), then type the 6-digit code it shows.\n\n\
                     Can't scan the image? Press s to show the secret.\n\ni: invert colors";
        f.render_widget(Paragraph::new(steps).wrap(Wrap { trim: true }), right);
    });
    assert_eq!(qr_rect, Rect::new(0, 0, 45, 23));
    assert!(text_rect.width >= 30, "{text_rect:?}");
    assert!(screen_text(&buf).contains("authenticator"));
    assert_code_colors(&buf, qr_rect, Color::Indexed(16), Color::Indexed(231));

    let decoded = decode(buffer_pixels(&buf, buf.area, false));
    assert_eq!(decoded, vec![uri.clone()]);

    // The authenticator app's code from the scanned URI is the server's code.
    let app = Totp::from_url_unchecked(&decoded[0]).unwrap();
    assert_eq!(
        app.generate(59).to_string(),
        "287082",
        "RFC 6238 vector, 6 digits"
    );
    let now = 1_764_000_000;
    let code = app.generate(now).to_string();
    assert_eq!(code, server_totp().generate(now).to_string());
    assert!(server_totp().check(&code, now).is_some());
    let typed = app.generate_current().to_string();
    assert!(
        server_totp().check_current(&typed).is_some(),
        "the server accepts the app's code now"
    );
}

#[test]
fn quiet_zone_shrinks_to_two_modules_and_every_size_still_scans() {
    let uri = demo_uri();
    let qr = QrCode::new(&uri).unwrap();
    // The app's frame at 80×24 leaves a 78×21 body: only the tightest quiet zone fits there.
    for (rows, quiet, size) in [(23, 4, (45, 23)), (22, 3, (43, 22)), (21, 2, (41, 21))] {
        let area = Rect::new(1, 1, 78, rows);
        assert_eq!(qr.quiet_zone_for(area), Some(quiet));
        let buf = draw(80, 24, |f| f.render_widget(&qr, area));
        let rect = qr.rect_in(area).unwrap();
        assert_eq!((rect.width, rect.height), size);
        assert_code_colors(&buf, rect, Color::Indexed(16), Color::Indexed(231));
        // Only the code's own quiet zone separates it from the (dark, Reset) screen around it.
        assert_eq!(
            decode(buffer_pixels(&buf, buf.area, false)),
            vec![uri.clone()],
            "quiet zone {quiet}"
        );
    }
    assert_eq!(qr.quiet_zone_for(Rect::new(0, 0, 78, 20)), None);
    assert_eq!(qr.quiet_zone_for(Rect::new(0, 0, 40, 23)), None);
}

#[test]
fn a_bigger_terminal_gets_the_full_quiet_zone_and_truecolor_gets_rgb() {
    let uri = demo_uri();
    assert_eq!(
        QrPalette::from_colorterm(Some("truecolor")),
        QrPalette::TrueColor
    );
    assert_eq!(
        QrPalette::from_colorterm(Some("24bit")),
        QrPalette::TrueColor
    );
    assert_eq!(QrPalette::from_colorterm(Some("")), QrPalette::Indexed);
    assert_eq!(QrPalette::from_colorterm(None), QrPalette::Indexed);
    let qr = QrCode::new(&uri).unwrap().palette(QrPalette::TrueColor);
    let area = Rect::new(30, 10, 60, 40);
    let buf = draw(120, 60, |f| f.render_widget(&qr, area));
    let rect = qr.rect_in(area).unwrap();
    assert_eq!(rect, Rect::new(30, 10, 45, 23));
    assert_code_colors(&buf, rect, Color::Rgb(0, 0, 0), Color::Rgb(255, 255, 255));
    assert_eq!(decode(buffer_pixels(&buf, buf.area, false)), vec![uri]);
}

#[test]
fn caller_styles_do_not_leak_into_the_code() {
    let uri = demo_uri();
    let qr = QrCode::new(&uri).unwrap();
    let buf = draw(80, 24, |f| {
        let hostile = Style::new()
            .bg(Color::Black)
            .fg(Color::White)
            .add_modifier(Modifier::REVERSED | Modifier::UNDERLINED);
        let all = f.area();
        f.buffer_mut().set_style(all, hostile);
        f.render_widget(&qr, f.area());
    });
    let rect = qr.rect_in(buf.area).unwrap();
    assert_code_colors(&buf, rect, Color::Indexed(16), Color::Indexed(231));
    assert_eq!(decode(buffer_pixels(&buf, rect, false)), vec![uri]);
}

#[test]
fn inverted_code_is_the_exact_negative_and_scans_where_the_terminal_swaps_colors() {
    let uri = demo_uri();
    let normal = QrCode::new(&uri).unwrap();
    let inverted = QrCode::new(&uri).unwrap().inverted(true);
    let area = Rect::new(0, 0, 80, 24);
    let a = draw(80, 24, |f| f.render_widget(&normal, area));
    let b = draw(80, 24, |f| f.render_widget(&inverted, area));
    let rect = normal.rect_in(area).unwrap();
    assert_eq!(inverted.rect_in(area), Some(rect));
    // Same glyphs, colors swapped: every module and the quiet zone change color.
    assert_code_colors(&b, rect, Color::Indexed(231), Color::Indexed(16));
    for y in rect.top()..rect.bottom() {
        for x in rect.left()..rect.right() {
            assert_eq!(a[(x, y)].symbol(), b[(x, y)].symbol());
        }
    }
    let (_, _, pa) = buffer_pixels(&a, rect, false);
    let (_, _, pb) = buffer_pixels(&b, rect, false);
    assert!(
        pa.iter().zip(&pb).all(|(x, y)| *x == 255 - *y),
        "pixel-wise negative"
    );
    assert!(
        pb[0] == 0 && pa[0] == 255,
        "quiet zone is dark when inverted"
    );
    // A terminal that swaps colors shows the inverted drawing as the normal code.
    assert_eq!(
        buffer_pixels(&b, rect, true),
        buffer_pixels(&a, rect, false)
    );
    assert_eq!(decode(buffer_pixels(&b, rect, true)), vec![uri]);
}

#[test]
fn long_entra_style_uri_names_the_terminal_size_it_needs_and_draws_no_partial_code() {
    let qr = QrCode::new(ENTRA_URI).unwrap();
    assert_eq!(
        (qr.modules(), qr.size_for(4), qr.size_for(2)),
        (45, (53, 27), (49, 25)),
        "v7-L"
    );
    let screen = Rect::new(0, 0, 80, 24);
    assert!(!qr.fits(screen));
    assert_eq!(qr.rect_in(screen), None);
    let buf = draw(80, 24, |f| f.render_widget(&qr, f.area()));
    let text = screen_words(&buf);
    assert!(
        text.contains("enlarge the terminal to at least 80×25 to show the QR code; the secret is shown as text"),
        "{text}"
    );
    assert_no_code(&buf);

    // In a panel of a bigger screen the size needed grows by what the panel lacks.
    let demo = QrCode::new(&demo_uri())
        .unwrap()
        .text_hint("the code and URL are shown as text");
    let panel = Rect::new(2, 2, 30, 20);
    assert_eq!(
        demo.needed_terminal(panel, Rect::new(0, 0, 100, 30)),
        (111, 31)
    );
    let buf = draw(100, 30, |f| f.render_widget(&demo, panel));
    let text = screen_words(&buf);
    assert!(
        text.contains("enlarge the terminal to at least 111×31"),
        "{text}"
    );
    assert!(
        text.contains("the code and URL are shown as text"),
        "{text}"
    );
    assert_no_code(&buf);
    assert!(decode(buffer_pixels(&buf, buf.area, false)).is_empty());
}

fn assert_no_code(buf: &Buffer) {
    for c in buf.content() {
        assert!(
            !["█", "▀", "▄"].contains(&c.symbol()),
            "a QR glyph was drawn"
        );
        assert!(
            ![Color::Indexed(16), Color::Indexed(231)].contains(&c.bg),
            "a QR cell was drawn"
        );
    }
}

// ---- short URIs ----------------------------------------------------------------------

#[test]
fn otpauth_uris_lose_default_parameters_and_vendor_extras_only() {
    let short = short_otpauth(PRIVACYIDEA_URI);
    assert_eq!(
        short,
        "otpauth://totp/alice%40default?secret=WTM7F4MYCJMJ2WZHXK3HUQOJEYKW256H&issuer=secinfo-test"
    );
    assert_eq!((PRIVACYIDEA_URI.len(), short.len()), (149, 90));
    let before = Totp::from_url_unchecked(PRIVACYIDEA_URI).unwrap();
    let after = Totp::from_url_unchecked(&short).unwrap();
    assert_eq!(
        before.generate(1_764_000_000).to_string(),
        after.generate(1_764_000_000).to_string()
    );
    assert_eq!(
        (after.issuer(), after.account_name()),
        (Some("secinfo-test"), "alice@default")
    );
    // The long form is v7 (53×27 with a 4-module quiet zone); short it fits 80×24.
    assert_eq!(QrCode::new(PRIVACYIDEA_URI).unwrap().modules(), 45);
    let qr = QrCode::new(&short).unwrap();
    assert_eq!(qr.size_for(4), (45, 23));
    assert!(qr.fits(Rect::new(0, 0, 80 - 32, 24)));

    let custom = "otpauth://totp/X:bob?secret=ABC&algorithm=SHA256&digits=8&period=60&issuer=X";
    assert_eq!(short_otpauth(custom), custom);
    assert_eq!(
        short_otpauth("otpauth://hotp/X:bob?secret=ABC&counter=7&Algorithm=sha1&DIGITS=6"),
        "otpauth://hotp/X:bob?secret=ABC&counter=7"
    );
    for other in [
        "https://portal.example.test/?period=30",
        "otpauth://totp/X",
        "pushauth://activate?code=1",
    ] {
        assert_eq!(short_otpauth(other), other);
    }
}

// ---- the CLI's text renderer through a terminal emulator --------------------------------

fn parse(lines: &[String], rows: u16, cols: u16) -> vt100::Parser {
    let mut p = vt100::Parser::new(
        NonZeroU16::new(rows).unwrap(),
        NonZeroU16::new(cols).unwrap(),
        0,
    );
    p.process(b"\x1b[3;5H"); // not at the origin, like a prompt above it
    for line in lines {
        p.process(line.as_bytes());
        p.process(b"\r\n    ");
    }
    p
}

fn vt_luma(c: vt100::Color, is_fg: bool, default_dark_bg: bool) -> u8 {
    match c {
        vt100::Color::Default => {
            if is_fg == default_dark_bg {
                255
            } else {
                0
            }
        }
        vt100::Color::Idx(16) | vt100::Color::Idx(0) => 0,
        vt100::Color::Idx(231) | vt100::Color::Idx(15) => 255,
        vt100::Color::Rgb(r, g, b) => {
            ((r as u32 * 299 + g as u32 * 587 + b as u32 * 114) / 1000) as u8
        }
        vt100::Color::Idx(_) => 128,
    }
}

fn screen_pixels(
    p: &vt100::Parser,
    default_dark_bg: bool,
    swapped: bool,
) -> (usize, usize, Vec<u8>) {
    let s = p.screen();
    let (rows, cols) = s.size();
    raster(cols.get(), rows.get(), |x, y| {
        let c = s.cell(y, x).unwrap();
        let (mut fg, mut bg) = (
            vt_luma(c.fgcolor(), true, default_dark_bg),
            vt_luma(c.bgcolor(), false, default_dark_bg),
        );
        if c.inverse() != swapped {
            std::mem::swap(&mut fg, &mut bg);
        }
        (c.contents().to_string(), fg, bg)
    })
}

#[test]
fn cli_prints_a_code_that_scans_in_a_256_color_terminal() {
    let uri = demo_uri();
    let qr = QrCode::new(&uri).unwrap();
    let lines = ansi_lines(&qr);
    assert_eq!(lines.len(), 23);
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("\x1b[0;38;5;16;48;5;231m") && l.ends_with("\x1b[0m"))
    );
    let p = parse(&lines, 30, 60);
    let s = p.screen();
    for (row, col) in [(2, 4), (12, 30), (24, 48)] {
        let c = s.cell(row, col).unwrap();
        assert_eq!(
            (c.fgcolor(), c.bgcolor()),
            (vt100::Color::Idx(16), vt100::Color::Idx(231))
        );
    }
    assert_eq!(
        s.cell(25, 4).unwrap().bgcolor(),
        vt100::Color::Default,
        "reset after the code"
    );
    let decoded = decode(screen_pixels(&p, true, false));
    assert_eq!(decoded, vec![uri]);
    let app = Totp::from_url_unchecked(&decoded[0]).unwrap();
    assert_eq!(
        app.generate(1_764_000_000).to_string(),
        server_totp().generate(1_764_000_000).to_string()
    );
}

#[test]
fn cli_code_scans_in_truecolor_and_inverted_on_a_swapping_terminal() {
    let uri = demo_uri();
    let rgb = ansi_lines(&QrCode::new(&uri).unwrap().palette(QrPalette::TrueColor));
    assert!(rgb[0].starts_with("\x1b[0;38;2;0;0;0;48;2;255;255;255m"));
    let p = parse(&rgb, 30, 60);
    assert_eq!(
        p.screen().cell(2, 4).unwrap().bgcolor(),
        vt100::Color::Rgb(255, 255, 255)
    );
    assert_eq!(decode(screen_pixels(&p, true, false)), vec![uri.clone()]);

    let inv = ansi_lines(&QrCode::new(&uri).unwrap().inverted(true));
    assert!(inv[0].starts_with("\x1b[0;38;5;231;48;5;16m"));
    let p = parse(&inv, 30, 60);
    assert_eq!(decode(screen_pixels(&p, true, true)), vec![uri]);
}

#[test]
fn no_color_output_scans_on_light_on_dark_and_inverted_on_dark_on_light_terminals() {
    let uri = demo_uri();
    let plain = plain_lines(&QrCode::new(&uri).unwrap());
    assert_eq!((plain.len(), plain[0].chars().count()), (23, 45));
    assert!(plain.iter().all(|l| !l.contains('\x1b')));
    assert!(
        plain[0].chars().all(|c| c == '█'),
        "light quiet zone drawn as ink"
    );
    assert_eq!(
        decode(screen_pixels(&parse(&plain, 30, 60), true, false)),
        vec![uri.clone()]
    );

    let plain_inv = plain_lines(&QrCode::new(&uri).unwrap().inverted(true));
    assert!(plain_inv[0].chars().all(|c| c == ' '));
    assert_eq!(
        decode(screen_pixels(&parse(&plain_inv, 30, 60), false, false)),
        vec![uri]
    );
}
