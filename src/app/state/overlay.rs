//! What can sit on top of a screen: help, confirmations, menus, demo panels.

use crate::app::state::{Change, Loadable, ReqId};
use crate::domain::MethodKind;
use crate::secrets::SecretString;

#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    Help,
    Confirm(Confirm),
    TypeName(TypeName),
    Menu(Menu),
    Phone(PhonePanel),
    Outbox(Loadable<Vec<SentMessage>>),
    Form(Form),
    /// A secret shown once (app password, recovery codes), dropped when closed.
    ShowOnce(ShowOnce),
}

/// A small dialog of text fields: rename, change password, new app password.
#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    pub title: String,
    pub lines: Vec<String>,
    pub fields: Vec<FormField>,
    /// Index into `fields`; `fields.len()` is the service picker when there is one.
    pub focus: usize,
    pub error: Option<String>,
    pub purpose: FormPurpose,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FormField {
    pub label: String,
    pub value: SecretString,
    /// Drawn as dots (passwords).
    pub secret: bool,
}

impl FormField {
    pub fn new(label: &str, value: &str, secret: bool) -> Self {
        Self {
            label: label.into(),
            value: SecretString::new(value),
            secret,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum FormPurpose {
    RenameMethod {
        id: String,
    },
    RenameDevice {
        id: String,
    },
    ChangePassword,
    CreateAppPassword {
        /// `(id, description)` from the backend; empty when it has no services.
        services: Vec<(String, String)>,
        service: usize,
    },
}

impl Form {
    pub fn has_picker(&self) -> bool {
        matches!(&self.purpose, FormPurpose::CreateAppPassword { services, .. } if !services.is_empty())
    }
    pub fn stops(&self) -> usize {
        self.fields.len() + usize::from(self.has_picker())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ShowOnce {
    pub title: String,
    pub lines: Vec<String>,
    pub secrets: Vec<SecretString>,
    pub copied: bool,
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
    Rename(String),
    RenameDevice(String),
    /// Delete the focused device (asks first).
    AskDeleteDevice,
    ChangeNumber(String),
    ChangePassword,
    Unavailable(String),
    AddKind(MethodKind),
    /// "I lost my phone": this device (by id) is the lost one.
    LostDevice(String),
    /// "I lost my phone": go on without this step.
    LostSkip,
    /// "I lost my phone": add a new method now.
    LostAdd,
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
