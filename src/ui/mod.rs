//! Screens: pure functions of `&State` drawing into a ratatui `Frame`. No
//! network, no mutation. Layout from top: demo banner, the screen, the
//! notice line, the key bar, the status line (profile and server).

pub mod activity;
pub mod browser;
pub mod demo;
pub mod devices;
pub mod dialogs;
pub mod extras;
pub mod help;
pub mod home;
pub mod keybar;
pub mod qr;
pub mod remembered;
pub mod sessions;
pub mod signin;
pub mod theme;
pub mod verify;
pub mod widgets;
pub mod wizard;

use crate::app::state::{Overlay, Screen, State, Tone};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use theme::Theme;
pub use widgets::Hits;

/// Below this many rows no screen has room for its content and the key bar.
const MIN_HEIGHT: u16 = 10;
/// Sign-in, dialogs and forms fit in this.
const MIN_WIDTH: u16 = 40;

/// The smallest terminal the screen on show fits without losing columns.
pub fn min_size(state: &State) -> (u16, u16) {
    let width = match state.screen {
        _ if state.wizard.is_some() || state.step_up.is_some() => MIN_WIDTH,
        Screen::Home => home::MIN_WIDTH,
        Screen::Devices => devices::MIN_WIDTH,
        Screen::Sessions => sessions::MIN_WIDTH,
        Screen::Remembered => remembered::MIN_WIDTH,
        Screen::Activity => activity::MIN_WIDTH,
        Screen::SignIn | Screen::AppPasswords | Screen::RecoveryCodes => MIN_WIDTH,
    };
    (width, MIN_HEIGHT)
}

/// Said instead of a screen with its columns cut away; the keys still work.
fn too_small(state: &State, frame: &mut Frame, need: (u16, u16), theme: &Theme) {
    let area = frame.area();
    let quit = state
        .keymap
        .describe(crate::app::keymap::Command::Quit, false)
        .unwrap_or_default();
    let lines = vec![
        Line::styled(
            format!(
                "Terminal too small: need {}×{}, it is {}×{}.",
                need.0, need.1, area.width, area.height
            ),
            theme.error,
        ),
        Line::styled(
            format!("Make the window larger, or run secinfo --plain. {quit} quits."),
            theme.text,
        ),
    ];
    frame.render_widget(
        Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
        area,
    );
}

/// Draws the state.
pub fn render(state: &State, frame: &mut Frame) {
    draw(state, frame);
}

/// Draws the state, and says where the focusable rows landed, for clicks.
pub fn draw(state: &State, frame: &mut Frame) -> Hits {
    let mut hits = Hits::default();
    let theme = Theme::new(state.theme);
    let area = frame.area();
    let need = min_size(state);
    if !wizard::full_screen(state) && (area.width < need.0 || area.height < need.1) {
        too_small(state, frame, need, &theme);
        return hits;
    }
    if wizard::full_screen(state) {
        // The QR step needs every row: no banner, notice or status line there.
        if let Some(Position { x, y }) = wizard::render_scan(state, frame, &theme)
            && x < area.width
            && y < area.height
        {
            frame.set_cursor_position(Position { x, y });
        }
        return hits;
    }
    let banner_h = if state.demo.is_some() {
        demo::banner_height(area.width)
    } else {
        0
    };
    let [banner, body, notice, keys, status] = Layout::vertical([
        Constraint::Length(banner_h),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    if let Some(d) = &state.demo {
        let help = state
            .keymap
            .describe(crate::app::keymap::Command::Help, state.key_context().1)
            .unwrap_or_default();
        demo::banner(frame, banner, d, &help, &theme);
    }
    let body = body.inner(ratatui::layout::Margin {
        horizontal: 1,
        vertical: 0,
    });
    // A step-up sits above whatever asked for it, the wizard included.
    let mut cursor = if state.step_up.is_some() {
        verify::render_step_up(state, frame, body, &theme)
    } else if state.wizard.is_some() {
        wizard::render(state, frame, body, &theme)
    } else {
        match state.screen {
            Screen::SignIn => signin::render(state, frame, body, &theme),
            Screen::Home => home::render(state, frame, body, &theme, &mut hits),
            Screen::Devices => devices::render(state, frame, body, &theme, &mut hits),
            Screen::Sessions => sessions::render(state, frame, body, &theme, &mut hits),
            Screen::Remembered => remembered::render(state, frame, body, &theme, &mut hits),
            Screen::AppPasswords => extras::app_passwords(state, frame, body, &theme, &mut hits),
            Screen::RecoveryCodes => extras::recovery_codes(state, frame, body, &theme),
            Screen::Activity => activity::render(state, frame, body, &theme, &mut hits),
        }
    };
    if let Some(o) = &state.overlay {
        cursor = match o {
            Overlay::Help => help::render(state, frame, body, &theme),
            Overlay::Confirm(c) => dialogs::confirm(c, frame, body, &theme),
            Overlay::TypeName(t) => dialogs::type_name(t, frame, body, &theme),
            Overlay::Menu(m) => dialogs::menu(m, frame, body, &theme, &mut hits),
            Overlay::Phone(p) => demo::phone(state, p, frame, body, &theme),
            Overlay::Outbox(o) => demo::outbox(state, o, frame, body, &theme),
            Overlay::Form(f) => extras::form(f, frame, body, &theme),
            Overlay::ShowOnce(s) => extras::show_once(s, state, frame, body, &theme),
        };
    }
    if let Some(n) = &state.notice {
        let (style, mark) = match n.tone {
            Tone::Info => (theme.text, "i"),
            Tone::Success => (theme.success, "ok"),
            Tone::Error => (theme.error, "!"),
        };
        let text = widgets::clean(&n.text);
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {mark} {text}"), style)),
            notice,
        );
    }
    frame.render_widget(
        Paragraph::new(keybar::line(state, &theme, keys.width)),
        keys,
    );
    render_status(state, frame, status, &theme);
    if let Some(Position { x, y }) = cursor
        && x < area.width
        && y < area.height
    {
        frame.set_cursor_position(Position { x, y });
    }
    hits
}

fn render_status(state: &State, frame: &mut Frame, area: Rect, theme: &Theme) {
    let who = state
        .account
        .ready()
        .map(|a| format!(" · {}", widgets::clean(&a.username)))
        .unwrap_or_default();
    let left = format!(
        " profile: {} · server: {}{who}",
        state.profile, state.server_url
    );
    let right = if state.is_loading() {
        format!("{} working… ", widgets::spinner(state.spinner))
    } else {
        String::new()
    };
    let room = (area.width as usize).saturating_sub(right.chars().count());
    let line = Line::from(vec![
        Span::raw(widgets::cell(&left, room)),
        Span::raw(right),
    ])
    .style(theme.status);
    frame.render_widget(Paragraph::new(line).style(theme.status), area);
}
