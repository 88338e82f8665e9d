//! Styles by role, never by color name in screen code. Every role stays
//! distinguishable without color (bold, reversed, underline), so the mono
//! theme and NO_COLOR lose nothing.

use crate::config::ThemeName;
use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Theme {
    pub text: Style,
    pub muted: Style,
    pub title: Style,
    pub heading: Style,
    /// The focused row or field: always reversed and bold, whatever the colors.
    pub focus: Style,
    pub link: Style,
    pub danger: Style,
    pub success: Style,
    pub error: Style,
    pub banner: Style,
    pub input: Style,
    pub key: Style,
    pub status: Style,
    pub number: Style,
}

const FOCUS: Modifier = Modifier::REVERSED.union(Modifier::BOLD);

impl Theme {
    pub fn new(name: ThemeName) -> Self {
        let plain = Style::new();
        match name {
            ThemeName::Default => Self {
                text: plain,
                muted: plain.fg(Color::DarkGray),
                title: plain.fg(Color::Cyan).add_modifier(Modifier::BOLD),
                heading: plain.add_modifier(Modifier::BOLD),
                focus: plain.fg(Color::Cyan).add_modifier(FOCUS),
                link: plain.fg(Color::Blue).add_modifier(Modifier::UNDERLINED),
                danger: plain.fg(Color::Red).add_modifier(Modifier::BOLD),
                success: plain.fg(Color::Green),
                error: plain.fg(Color::Red).add_modifier(Modifier::BOLD),
                banner: plain.fg(Color::Black).bg(Color::Yellow),
                input: plain.add_modifier(Modifier::UNDERLINED),
                key: plain.fg(Color::Cyan).add_modifier(Modifier::BOLD),
                status: plain.fg(Color::White).bg(Color::Blue),
                number: plain.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            },
            ThemeName::HighContrast => Self {
                text: plain.fg(Color::White),
                muted: plain.fg(Color::Gray),
                title: plain
                    .fg(Color::White)
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                heading: plain.fg(Color::White).add_modifier(Modifier::BOLD),
                focus: plain
                    .fg(Color::Black)
                    .bg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
                link: plain
                    .fg(Color::LightCyan)
                    .add_modifier(Modifier::UNDERLINED),
                danger: plain.fg(Color::LightRed).add_modifier(Modifier::BOLD),
                success: plain.fg(Color::LightGreen).add_modifier(Modifier::BOLD),
                error: plain.fg(Color::LightRed).add_modifier(Modifier::BOLD),
                banner: plain
                    .fg(Color::Black)
                    .bg(Color::White)
                    .add_modifier(Modifier::BOLD),
                input: plain.fg(Color::White).add_modifier(Modifier::UNDERLINED),
                key: plain.fg(Color::Yellow).add_modifier(Modifier::BOLD),
                status: plain.fg(Color::Black).bg(Color::White),
                number: plain.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            },
            // Dark text on a light background: every colour here reads on white.
            ThemeName::Light => Self {
                text: plain,
                muted: plain.fg(Color::DarkGray),
                title: plain.fg(Color::Blue).add_modifier(Modifier::BOLD),
                heading: plain.add_modifier(Modifier::BOLD),
                focus: plain.fg(Color::Blue).add_modifier(FOCUS),
                link: plain.fg(Color::Blue).add_modifier(Modifier::UNDERLINED),
                danger: plain.fg(Color::Red).add_modifier(Modifier::BOLD),
                success: plain.fg(Color::Green).add_modifier(Modifier::BOLD),
                error: plain.fg(Color::Red).add_modifier(Modifier::BOLD),
                banner: plain.fg(Color::Black).bg(Color::LightYellow),
                input: plain.add_modifier(Modifier::UNDERLINED),
                key: plain.fg(Color::Blue).add_modifier(Modifier::BOLD),
                status: plain.fg(Color::White).bg(Color::Blue),
                number: plain.fg(Color::Magenta).add_modifier(Modifier::BOLD),
            },
            ThemeName::Mono => Self {
                text: plain,
                muted: plain.add_modifier(Modifier::DIM),
                title: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                heading: plain.add_modifier(Modifier::BOLD),
                focus: plain.add_modifier(FOCUS),
                link: plain.add_modifier(Modifier::UNDERLINED),
                danger: plain.add_modifier(Modifier::BOLD),
                success: plain,
                error: plain.add_modifier(Modifier::BOLD),
                banner: plain.add_modifier(Modifier::REVERSED),
                input: plain.add_modifier(Modifier::UNDERLINED),
                key: plain.add_modifier(Modifier::BOLD),
                status: plain.add_modifier(Modifier::REVERSED),
                number: plain.add_modifier(Modifier::BOLD),
            },
        }
    }
}
