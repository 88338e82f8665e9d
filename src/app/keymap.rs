//! Named actions and the keys bound to them. Defaults cover arrows and vi
//! keys; the config can rebind any action by name. The key bar and the help
//! screen are generated from this table, so hints can never drift.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;
use std::fmt;

/// Everything a key can ask for. The snake_case names are the config's vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Command {
    MoveUp,
    MoveDown,
    Activate,
    Back,
    NextField,
    PrevField,
    Toggle,
    Delete,
    Refresh,
    Resend,
    OtherWay,
    Phone,
    Outbox,
    Invert,
    ShowText,
    Copy,
    Help,
    Quit,
}

impl Command {
    pub const ALL: [Command; 18] = [
        Self::MoveUp,
        Self::MoveDown,
        Self::Activate,
        Self::Back,
        Self::NextField,
        Self::PrevField,
        Self::Toggle,
        Self::Delete,
        Self::Refresh,
        Self::Resend,
        Self::OtherWay,
        Self::Phone,
        Self::Outbox,
        Self::Invert,
        Self::ShowText,
        Self::Copy,
        Self::Help,
        Self::Quit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::MoveUp => "move_up",
            Self::MoveDown => "move_down",
            Self::Activate => "activate",
            Self::Back => "back",
            Self::NextField => "next_field",
            Self::PrevField => "prev_field",
            Self::Toggle => "toggle",
            Self::Delete => "delete",
            Self::Refresh => "refresh",
            Self::Resend => "resend",
            Self::OtherWay => "other_way",
            Self::Phone => "phone",
            Self::Outbox => "outbox",
            Self::Invert => "invert",
            Self::ShowText => "show_text",
            Self::Copy => "copy",
            Self::Help => "help",
            Self::Quit => "quit",
        }
    }

    /// What the key bar and help call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::MoveUp => "up",
            Self::MoveDown => "down",
            Self::Activate => "select",
            Self::Back => "back",
            Self::NextField => "next",
            Self::PrevField => "previous",
            Self::Toggle => "tick/untick",
            Self::Delete => "delete",
            Self::Refresh => "refresh",
            Self::Resend => "resend",
            Self::OtherWay => "sign in another way",
            Self::Phone => "simulated phone",
            Self::Outbox => "sent codes",
            Self::Invert => "invert",
            Self::ShowText => "as text",
            Self::Copy => "copy",
            Self::Help => "help",
            Self::Quit => "quit",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// A key as the keymap knows it: shift folded into the character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn plain(code: KeyCode) -> Self {
        Self {
            code,
            mods: KeyModifiers::NONE,
        }
    }

    pub fn from_event(ev: &KeyEvent) -> Self {
        let mut mods =
            ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match ev.code {
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_lowercase()
                } else {
                    c
                })
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Self { code, mods }
    }

    /// A printable character without Ctrl/Alt: text when a field has focus.
    pub fn is_text(&self) -> bool {
        matches!(self.code, KeyCode::Char(_))
            && !self
                .mods
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }

    /// Parses the config's key names: `j`, `down`, `enter`, `ctrl-r`, `shift-tab`, `f5`, `space`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            if let Some(r) = lower.strip_prefix("ctrl-").map(|_| &rest[5..]) {
                mods |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = lower.strip_prefix("alt-").map(|_| &rest[4..]) {
                mods |= KeyModifiers::ALT;
                rest = r;
            } else if let Some(r) = lower.strip_prefix("shift-").map(|_| &rest[6..]) {
                mods |= KeyModifiers::SHIFT;
                rest = r;
            } else {
                break;
            }
        }
        let lower = rest.to_ascii_lowercase();
        let code = match lower.as_str() {
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "insert" => KeyCode::Insert,
            f if f.len() > 1
                && f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    (None, _) => return Err("empty key name".into()),
                    _ => return Err(format!("unknown key name {rest:?}")),
                }
            }
        };
        let mut key = Self { code, mods };
        if matches!(code, KeyCode::Char(_) | KeyCode::BackTab) {
            key.mods.remove(KeyModifiers::SHIFT);
        }
        if let (KeyCode::Char(c), true) = (code, key.mods.contains(KeyModifiers::CONTROL)) {
            key.code = KeyCode::Char(c.to_ascii_lowercase());
        }
        Ok(key)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.mods.contains(KeyModifiers::CONTROL) => {
                write!(f, "{}", c.to_ascii_uppercase())
            }
            KeyCode::Char(c) => write!(f, "{c}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KeymapError {
    #[error("unknown action {name:?} (known actions: {known})")]
    UnknownAction { name: String, known: String },
    #[error("action {action:?}: bad key {key:?}: {reason}")]
    BadKey {
        action: String,
        key: String,
        reason: String,
    },
}

/// Command → keys, in the order they are shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Keymap {
    bindings: BTreeMap<Command, Vec<Key>>,
}

impl Default for Keymap {
    fn default() -> Self {
        use KeyCode::*;
        let c = |ch| Key::plain(Char(ch));
        let ctrl = |ch| Key {
            code: Char(ch),
            mods: KeyModifiers::CONTROL,
        };
        let bindings = [
            (Command::MoveUp, vec![Key::plain(Up), c('k')]),
            (Command::MoveDown, vec![Key::plain(Down), c('j')]),
            (Command::Activate, vec![Key::plain(Enter)]),
            (Command::Back, vec![Key::plain(Esc)]),
            (Command::NextField, vec![Key::plain(Tab)]),
            (Command::PrevField, vec![Key::plain(BackTab)]),
            (Command::Toggle, vec![c(' ')]),
            (Command::Delete, vec![c('d'), Key::plain(Delete)]),
            (Command::Refresh, vec![c('r'), Key::plain(F(5))]),
            (Command::Resend, vec![c('r')]),
            (Command::OtherWay, vec![c('w')]),
            (Command::Phone, vec![c('p')]),
            (Command::Outbox, vec![c('o'), Key::plain(F(2))]),
            (Command::Invert, vec![c('i')]),
            (Command::ShowText, vec![c('t')]),
            (Command::Copy, vec![c('c')]),
            (Command::Help, vec![c('?'), Key::plain(F(1))]),
            (Command::Quit, vec![c('q'), ctrl('c')]),
        ];
        Self {
            bindings: bindings.into_iter().collect(),
        }
    }
}

impl Keymap {
    /// The defaults with some actions rebound; each named action gets exactly the keys given.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<Self, KeymapError> {
        let mut map = Self::default();
        for (name, keys) in overrides {
            let Some(cmd) = Command::from_name(name) else {
                let known = Command::ALL.map(Command::name).join(", ");
                return Err(KeymapError::UnknownAction {
                    name: name.clone(),
                    known,
                });
            };
            let parsed = keys
                .iter()
                .map(|k| {
                    Key::parse(k).map_err(|reason| KeymapError::BadKey {
                        action: name.clone(),
                        key: k.clone(),
                        reason,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            map.bindings.insert(cmd, parsed);
        }
        Ok(map)
    }

    pub fn keys(&self, cmd: Command) -> &[Key] {
        self.bindings.get(&cmd).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The first of `allowed` bound to `key`. With `text` (a field has focus),
    /// printable characters are never commands: they are typed.
    pub fn resolve(&self, key: Key, allowed: &[Command], text: bool) -> Option<Command> {
        if text && key.is_text() {
            return None;
        }
        allowed
            .iter()
            .copied()
            .find(|c| self.keys(*c).contains(&key))
    }

    /// How the key bar shows a command: its keys joined by `/` (typing keys left out in text fields).
    pub fn describe(&self, cmd: Command, text: bool) -> Option<String> {
        let keys: Vec<String> = self
            .keys(cmd)
            .iter()
            .filter(|k| !(text && k.is_text()))
            .map(ToString::to_string)
            .collect();
        (!keys.is_empty()).then(|| keys.join("/"))
    }
}
