//! What can sit on top of a screen: help, confirmations, menus, demo panels.

use crate::app::state::{Change, Loadable, ReqId};
use crate::domain::MethodKind;

#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    Help,
    Confirm(Confirm),
    TypeName(TypeName),
    Menu(Menu),
    Phone(PhonePanel),
    Outbox(Loadable<Vec<SentMessage>>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub yes: String,
    pub change: Change,
    /// Starts false: Enter right away cancels.
    pub yes_focused: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeName {
    pub title: String,
    pub lines: Vec<String>,
    pub expected: String,
    pub input: String,
    pub change: Change,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Menu {
    pub title: String,
    pub items: Vec<MenuItem>,
    pub focus: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MenuItem {
    pub label: String,
    /// Why it can't be chosen, shown beside it.
    pub disabled: Option<String>,
    pub choice: MenuChoice,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MenuChoice {
    Change(Change),
    AskDelete(String),
    Unavailable(String),
    AddKind(MethodKind),
    Cancel,
}

/// A message the demo server "sent" (its outbox), as the panel shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct SentMessage {
    pub channel: String,
    pub recipient: String,
    pub body: String,
    pub sent_at: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct PhonePanel {
    pub input: String,
    pub pending: Option<ReqId>,
    pub result: Option<Result<String, String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub text: String,
    pub tone: Tone,
}
