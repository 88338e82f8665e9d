//! "Add sign-in method": every step of the wizard. The scan step takes the
//! whole terminal (the QR code needs ~45×23 for a typical URI at 80×24): the
//! code on the left at full height, the instructions beside it, the key bar
//! below. Where it cannot fit, the text form shows and says the size needed.

use crate::app::keymap::Command;
use crate::app::state::{State, Wizard, WizardStep, is_phone, kind_choices};
use crate::config::ThemeName;
use crate::domain::{Ability, MethodKind};
use crate::present::{self, grouped};
use crate::qr::{MIN_QUIET_ZONE, QrPalette, short_otpauth};
use crate::ui::theme::Theme;
use crate::ui::widgets::{clean, field, row, scrolled, spinner, wrap};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

/// Columns kept for the instructions beside the QR code.
pub const SIDE_W: u16 = 33;

fn title(w: &Wizard) -> &'static str {
    if w.first_run {
        "Let's keep your account secure"
    } else {
        "Add sign-in method"
    }
}

fn key(state: &State, cmd: Command) -> String {
    state.keymap.describe(cmd, false).unwrap_or_default()
}

/// Whether the enrollment has something to draw as a QR code (drawn from
/// `Wizard::qr`, encoded once; when that failed, the text form shows instead).
fn has_qr_payload(w: &Wizard) -> bool {
    w.enrollment
        .as_ref()
        .is_some_and(|e| e.qr_payload.is_some())
}

/// Whether the scan step shows the text form first (asked for, or a mono theme).
pub fn text_first(state: &State, w: &Wizard) -> bool {
    w.show_text != (state.theme == ThemeName::Mono)
}

/// The scan step with a QR code to draw takes the whole screen.
pub fn full_screen(state: &State) -> bool {
    state.overlay.is_none()
        && state
            .wizard
            .as_ref()
            .is_some_and(|w| matches!(w.step, WizardStep::Scan { .. }) && has_qr_payload(w))
}

/// The secret from the enrollment, or from the URI's `secret=` when only that came.
fn secret_of(w: &Wizard) -> Option<String> {
    let e = w.enrollment.as_ref()?;
    if let Some(s) = &e.secret {
        return Some(s.expose().to_string());
    }
    let uri = e.qr_payload.as_ref()?.expose();
    let q = uri.split_once('?')?.1;
    q.split('&')
        .find_map(|p| p.strip_prefix("secret="))
        .map(str::to_string)
}

fn push_wrapped(
    lines: &mut Vec<Line<'static>>,
    text: &str,
    width: u16,
    style: ratatui::style::Style,
) {
    for l in wrap(text, width as usize) {
        lines.push(Line::styled(l, style));
    }
}

/// The wizard inside the normal body (every step but a drawable scan step).
pub fn render(state: &State, frame: &mut Frame, area: Rect, theme: &Theme) -> Option<Position> {
    let w = state.wizard.as_ref()?;
    frame.render_widget(Clear, area);
    let width = area.width;
    let mut lines: Vec<Line<'static>> = vec![Line::styled(title(w), theme.title)];
    let mut focus: Option<usize> = None;
    let mut cursor_col = 0usize;
    match &w.step {
        WizardStep::Choose { focus: f } => {
            if w.first_run {
                push_wrapped(
                    &mut lines,
                    "Your account has only a password. Add a second way to prove it is you, so a stolen password is not enough.",
                    width,
                    theme.text,
                );
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                "Which method would you like to add?",
                theme.heading,
            ));
            let choices = state.caps.ready().map(kind_choices).unwrap_or_default();
            if choices.is_empty() {
                let t = if state.caps.is_loading() {
                    format!(
                        "{} Finding out what you can add here…",
                        spinner(state.spinner)
                    )
                } else {
                    "This server does not let you add sign-in methods here.".into()
                };
                lines.push(Line::styled(t, theme.muted));
            }
            for (i, c) in choices.iter().enumerate() {
                let spans = match &c.ability {
                    Ability::Yes => vec![Span::raw(c.kind.title())],
                    Ability::No { .. } => vec![
                        Span::styled(c.kind.title(), theme.muted),
                        Span::styled(" (not available)", theme.muted),
                    ],
                };
                if i == *f {
                    focus = Some(lines.len());
                }
                lines.push(row(spans, i == *f, theme));
            }
            if let Some(Ability::No { reason, portal_url }) = choices.get(*f).map(|c| &c.ability) {
                // The portal's QR code goes top right; the text beside it keeps clear of it.
                let qr_w = portal_url
                    .as_deref()
                    .map_or(0, |u| portal_qr(state, u, frame, area));
                let tw = width.saturating_sub(qr_w + 1).max(20);
                lines.push(Line::raw(""));
                // The portal goes on its own line below, in the link style.
                push_wrapped(
                    &mut lines,
                    &present::not_available(reason, None, "add it"),
                    tw,
                    theme.muted,
                );
                if let Some(url) = portal_url {
                    push_wrapped(&mut lines, &format!("Add it at {url}"), tw, theme.link);
                    if qr_w > 0 {
                        push_wrapped(
                            &mut lines,
                            "or scan the code to open it on your phone.",
                            tw,
                            theme.text,
                        );
                    }
                }
            }
        }
        WizardStep::GetApp => {
            lines.push(Line::styled("Start by getting the app", theme.heading));
            for t in [
                "On your phone, install an authenticator app that can approve sign-ins (in the demo: the simulated phone, `secinfo phone`).".to_string(),
                "After you install it, choose Next: secinfo shows a QR code to scan in the app.".to_string(),
                format!("Next: {}   Back: {}", key(state, Command::Activate), key(state, Command::Back)),
            ] {
                lines.push(Line::raw(""));
                push_wrapped(&mut lines, &t, width, theme.text);
            }
        }
        WizardStep::Handoff(kind) => {
            let name = kind.title();
            let url = state
                .caps
                .ready()
                .and_then(|c| c.enroll.iter().find(|(k, _)| k == kind))
                .and_then(|(_, a)| match a {
                    Ability::No { portal_url, .. } => portal_url.clone(),
                    Ability::Yes => None,
                });
            // The portal's QR code top right; the text keeps clear of it.
            let qr_w = url
                .as_deref()
                .map_or(0, |u| portal_qr(state, u, frame, area));
            let tw = width.saturating_sub(qr_w + 1).max(20);
            lines.push(Line::styled(name.clone(), theme.heading));
            lines.push(Line::raw(""));
            push_wrapped(
                &mut lines,
                &format!(
                    "A {} works through a web browser (WebAuthn). A terminal cannot talk to it, so secinfo cannot add one.",
                    name.to_lowercase()
                ),
                tw,
                theme.text,
            );
            lines.push(Line::raw(""));
            match url {
                Some(url) => {
                    push_wrapped(&mut lines, "Add it from a browser at", tw, theme.text);
                    push_wrapped(&mut lines, &url, tw, theme.link);
                    if qr_w > 0 {
                        push_wrapped(
                            &mut lines,
                            "or scan the code to open it on your phone.",
                            tw,
                            theme.text,
                        );
                    }
                }
                None => push_wrapped(
                    &mut lines,
                    "Add it from your identity provider's web page in a browser; it then shows here.",
                    tw,
                    theme.text,
                ),
            }
        }
        WizardStep::Target(t) => {
            let (what, hint) = if is_phone(&t.kind) {
                (
                    t.kind.title(),
                    "We will text a code to this number. Country: the calling code (1 US/Canada, 44 UK, 49 Germany).",
                )
            } else {
                ("Email".to_string(), "We will email a code to this address.")
            };
            lines.push(Line::styled(what, theme.heading));
            push_wrapped(&mut lines, hint, width, theme.text);
            lines.push(Line::raw(""));
            if is_phone(&t.kind) {
                let (l, c) = field("Country     +", &t.country, 4, t.focus == 0, theme);
                if t.focus == 0 {
                    focus = Some(lines.len());
                    cursor_col = c;
                }
                lines.push(l);
            }
            let label = if is_phone(&t.kind) {
                "Phone number "
            } else {
                "Email address"
            };
            let (l, c) = field(label, &t.input, 30, t.focus == 1, theme);
            if t.focus == 1 {
                focus = Some(lines.len());
                cursor_col = c;
            }
            lines.push(l);
        }
        WizardStep::Starting { kind, .. } => {
            lines.push(Line::styled(kind.title(), theme.heading));
            lines.push(Line::styled(
                format!("{} Asking the server to start…", spinner(state.spinner)),
                theme.muted,
            ));
        }
        WizardStep::Scan { code } => {
            // Only when there is no QR payload, or the text form was asked for.
            let (c, f) = scan_text(state, w, code, &mut lines, width, theme);
            cursor_col = c;
            focus = f;
        }
        WizardStep::Approve { number } => {
            lines.push(Line::styled("Let's try it out", theme.heading));
            match number {
                None => lines.push(Line::styled(
                    format!(
                        "{} Waiting for the app to finish adding your account…",
                        spinner(state.spinner)
                    ),
                    theme.muted,
                )),
                Some(n) => {
                    push_wrapped(
                        &mut lines,
                        "Approve the notification we're sending to your app. Enter this number in the app:",
                        width,
                        theme.text,
                    );
                    lines.push(Line::styled(format!("      {n}"), theme.number));
                    lines.push(Line::styled(
                        format!("{} Waiting for your approval…", spinner(state.spinner)),
                        theme.muted,
                    ));
                }
            }
            if state.demo.is_some() && number.is_some() {
                lines.push(Line::raw(""));
                push_wrapped(
                    &mut lines,
                    &format!(
                        "Demo: press {} to approve on the simulated phone.",
                        key(state, Command::Phone)
                    ),
                    width,
                    theme.banner,
                );
            }
        }
        WizardStep::Failed { message } => {
            lines.push(Line::styled("Let's try it out", theme.heading));
            push_wrapped(
                &mut lines,
                &format!("! {}", capital(message)),
                width,
                theme.error,
            );
            lines.push(Line::raw(""));
            push_wrapped(
                &mut lines,
                &format!(
                    "Press {} to send another notification, or {} to cancel (nothing is added).",
                    key(state, Command::Activate),
                    key(state, Command::Back)
                ),
                width,
                theme.text,
            );
        }
        WizardStep::Code { code } => {
            let kind = w.kind().cloned().unwrap_or(MethodKind::Phone);
            lines.push(Line::styled(kind.title(), theme.heading));
            let to = w
                .enrollment
                .as_ref()
                .and_then(|e| e.sent_to.clone())
                .unwrap_or_else(|| "you".into());
            push_wrapped(
                &mut lines,
                &format!("We sent a code to {}. Enter it below.", clean(&to)),
                width,
                theme.text,
            );
            lines.push(Line::raw(""));
            let (l, c) = field("Code", &"•".repeat(code.len()), 10, true, theme);
            focus = Some(lines.len());
            cursor_col = c;
            lines.push(l);
            if state.demo.is_some() {
                lines.push(Line::raw(""));
                push_wrapped(
                    &mut lines,
                    &format!(
                        "Demo: the code is in the outbox ({}).",
                        key(state, Command::Outbox)
                    ),
                    width,
                    theme.banner,
                );
            }
        }
    }
    tail(state, w, &mut lines, width, theme);
    let pos = scrolled(frame, area, lines, focus)?;
    Some(Position {
        x: pos.x + cursor_col as u16,
        y: pos.y,
    })
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Error and demo-phone lines under any step.
fn tail(state: &State, w: &Wizard, lines: &mut Vec<Line<'static>>, width: u16, theme: &Theme) {
    if let Some(e) = &w.error {
        lines.push(Line::raw(""));
        push_wrapped(lines, &format!("! {e}"), width, theme.error);
    }
    if w.phone_busy.is_some() {
        lines.push(Line::styled(
            format!("{} The simulated phone is working…", spinner(state.spinner)),
            theme.muted,
        ));
    }
    match &w.phone_said {
        Some(Ok(t)) => push_wrapped(lines, &format!("Phone: {t}"), width, theme.success),
        Some(Err(t)) => push_wrapped(lines, &format!("! Phone: {t}"), width, theme.error),
        None => {}
    }
}

/// A portal URL's QR code at the top right of `area`, only where it fits whole
/// and leaves room for the list; returns the columns it took (0: not drawn).
fn portal_qr(state: &State, url: &str, frame: &mut Frame, area: Rect) -> u16 {
    let Some(qr) = state.portal_qr(url) else {
        return 0;
    };
    let (w, h) = qr.size_for(MIN_QUIET_ZONE);
    if area.height < h || area.width < w + 40 {
        return 0;
    }
    let spot = Rect::new(area.right() - w, area.y, w, h);
    frame.render_widget(qr, spot);
    w
}

/// "Can't scan the image?": the secret in groups and the URI (TOTP), or the
/// activation code and URL (push), then the code field. Returns (cursor col, focus line).
fn scan_text(
    state: &State,
    w: &Wizard,
    code: &crate::secrets::SecretString,
    lines: &mut Vec<Line<'static>>,
    width: u16,
    theme: &Theme,
) -> (usize, Option<usize>) {
    let push = w.kind() == Some(&MethodKind::AuthenticatorPush);
    lines.push(Line::styled("Can't scan the image?", theme.heading));
    let e = w.enrollment.as_ref();
    if push {
        push_wrapped(
            lines,
            "In the app, choose to enter the details by hand:",
            width,
            theme.text,
        );
        for (k, v) in e.map(|e| e.manual.clone()).unwrap_or_default() {
            lines.push(Line::styled(format!("  {k}: {}", clean(&v)), theme.heading));
        }
    } else {
        push_wrapped(
            lines,
            "In the app, choose to enter a setup key, and type:",
            width,
            theme.text,
        );
        if let Some(s) = secret_of(w) {
            lines.push(Line::styled(
                format!("  {}", grouped(&clean(&s))),
                theme.number,
            ));
        }
    }
    if let Some(p) = e.and_then(|e| e.qr_payload.as_ref()) {
        lines.push(Line::raw(""));
        let what = if push {
            "Activation link:"
        } else {
            "Or the full setup link:"
        };
        lines.push(Line::styled(what, theme.text));
        push_wrapped(lines, &clean(&short_otpauth(p.expose())), width, theme.text);
        lines.push(Line::styled(
            format!(
                "{} copies it · {} shows the QR code",
                key(state, Command::Copy),
                key(state, Command::ShowText)
            ),
            theme.muted,
        ));
    }
    lines.push(Line::raw(""));
    if push {
        push_wrapped(
            lines,
            &format!(
                "When the app has added the account, press {} (Next).",
                key(state, Command::Activate)
            ),
            width,
            theme.text,
        );
        return (0, None);
    }
    push_wrapped(
        lines,
        "Then enter the 6-digit code the app shows:",
        width,
        theme.text,
    );
    let (l, c) = field("Code", &"•".repeat(code.len()), 10, true, theme);
    let at = lines.len();
    lines.push(l);
    (c, Some(at))
}

/// The scan step over the whole terminal: QR left at full height, instructions right.
pub fn render_scan(state: &State, frame: &mut Frame, theme: &Theme) -> Option<Position> {
    let w = state.wizard.as_ref()?;
    let WizardStep::Scan { code } = &w.step else {
        return None;
    };
    let screen = frame.area();
    let body = Rect::new(0, 0, screen.width, screen.height.saturating_sub(1));
    let keys = Rect::new(0, body.bottom(), screen.width, screen.height.min(1));
    frame.render_widget(Clear, screen);
    frame.render_widget(
        Paragraph::new(crate::ui::keybar::line(state, theme, keys.width)),
        keys,
    );
    if !has_qr_payload(w) {
        return None;
    }
    let push = w.kind() == Some(&MethodKind::AuthenticatorPush);
    let palette = if state.truecolor {
        QrPalette::TrueColor
    } else {
        QrPalette::Indexed
    };
    // A clone shares the encoded modules; only the drawing options are set here.
    let qr = w.qr.clone().map(|q| {
        q.palette(palette).inverted(w.inverted).text_hint(if push {
            "the activation code and URL are shown as text"
        } else {
            "the secret is shown as text"
        })
    });
    let qr_area = Rect::new(0, 0, body.width.saturating_sub(SIDE_W + 1), body.height);
    let spot = qr.as_ref().and_then(|q| q.rect_in(qr_area));
    let (Some(qr), Some(spot), false) = (qr.as_ref(), spot, text_first(state, w)) else {
        // Text form: asked for, mono, or too small for the code (then say what size is needed).
        let mut lines: Vec<Line<'static>> = vec![Line::styled(title(w), theme.title)];
        if let (Some(q), false) = (qr.as_ref(), text_first(state, w)) {
            let (cw, ch) = q.needed_terminal(qr_area, screen);
            push_wrapped(
                &mut lines,
                &format!(
                    "Enlarge the terminal to at least {cw}×{ch} to show the QR code; until then, use the text below."
                ),
                body.width.saturating_sub(2),
                theme.muted,
            );
        }
        let inner = body.inner(ratatui::layout::Margin {
            horizontal: 1,
            vertical: 0,
        });
        let (col, focus) = scan_text(state, w, code, &mut lines, inner.width, theme);
        tail(state, w, &mut lines, inner.width, theme);
        notice_line(state, &mut lines, inner.width, theme);
        let pos = scrolled(frame, inner, lines, focus)?;
        return Some(Position {
            x: pos.x + col as u16,
            y: pos.y,
        });
    };
    frame.render_widget(qr, spot);
    let side = Rect::new(
        spot.right() + 1,
        0,
        body.width.saturating_sub(spot.right() + 1),
        body.height,
    );
    let sw = side.width;
    let mut lines: Vec<Line<'static>> = vec![Line::styled(title(w), theme.title)];
    let kind = w.kind().map(MethodKind::title).unwrap_or_default();
    lines.push(Line::styled(kind, theme.heading));
    lines.push(Line::raw(""));
    let mut focus = None;
    let mut col = 0;
    if push {
        push_wrapped(
            &mut lines,
            "1. In the app, add an account and scan this QR code.",
            sw,
            theme.text,
        );
        push_wrapped(
            &mut lines,
            &format!("2. Then press {} (Next).", key(state, Command::Activate)),
            sw,
            theme.text,
        );
        if state.demo.is_some() {
            lines.push(Line::raw(""));
            push_wrapped(
                &mut lines,
                &format!(
                    "Demo: press {} and the simulated phone scans it.",
                    key(state, Command::Phone)
                ),
                sw,
                theme.banner,
            );
        }
    } else {
        push_wrapped(
            &mut lines,
            "1. In your authenticator app, add an account and scan this QR code.",
            sw,
            theme.text,
        );
        push_wrapped(
            &mut lines,
            "2. Enter the 6-digit code it shows:",
            sw,
            theme.text,
        );
        lines.push(Line::raw(""));
        let (l, c) = field("Code", &"•".repeat(code.len()), 8, true, theme);
        focus = Some(lines.len());
        col = c;
        lines.push(l);
    }
    lines.push(Line::raw(""));
    push_wrapped(
        &mut lines,
        &format!(
            "Can't scan the image? {} shows the key as text. {} inverts the code.",
            key(state, Command::ShowText),
            key(state, Command::Invert)
        ),
        sw,
        theme.muted,
    );
    tail(state, w, &mut lines, sw, theme);
    notice_line(state, &mut lines, sw, theme);
    let pos = scrolled(frame, side, lines, focus)?;
    Some(Position {
        x: pos.x + col as u16,
        y: pos.y,
    })
}

/// The notice (e.g. "Copied…") where the full-screen step has no notice row.
fn notice_line(state: &State, lines: &mut Vec<Line<'static>>, width: u16, theme: &Theme) {
    if let Some(n) = &state.notice {
        lines.push(Line::raw(""));
        push_wrapped(lines, &format!("i {}", n.text), width, theme.text);
    }
}
