//! Small forms (rename, change password, new app password), the app
//! passwords and recovery codes screens, and secrets shown once.

use super::change::start;
use super::note;
use super::{dialogs, session_ended, step};
use crate::app::effects::Effect;
use crate::app::keymap::Command;
use crate::app::state::{
    Change, Form, FormField, FormPurpose, Loadable, Overlay, ReqId, Screen, ShowOnce, State, Tone,
    method_name,
};
use crate::backend::BackendError;
use crate::domain::{AppPassword, Method};
use crate::journeys::rules;
use crate::secrets::SecretString;

/// "Change" on a method row: a method on a device renames the device (as the portal does).
pub(super) fn open_rename(state: &mut State, method_id: &str) -> Vec<Effect> {
    let Some(m) = state
        .methods
        .ready()
        .and_then(|ms| ms.iter().find(|m| m.id == method_id))
        .cloned()
    else {
        return Vec::new();
    };
    state.overlay = Some(rename_form(&m, format!("Rename {}", method_name(&m)), None));
    Vec::new()
}

/// Right after a new authenticator app is saved: its name, to keep or change
/// (the wizard's "name it" step; Esc keeps the name it has).
pub(super) fn name_new_app(state: &mut State, m: &Method) {
    let ask = "Give it a name you will recognise, like \"Work phone\"; Esc keeps this one.";
    let title = format!("Name your new {}", m.kind.title().to_lowercase());
    state.overlay = Some(rename_form(m, title, Some(ask.to_string())));
}

fn rename_form(m: &Method, title: String, first: Option<String>) -> Overlay {
    let (purpose, lines, label) = match &m.device_id {
        Some(d) => (
            FormPurpose::RenameDevice { id: d.clone() },
            vec![format!(
                "{} lives on a device; the new name is the device's, for every method on it.",
                m.kind.title()
            )],
            "Device name",
        ),
        None => (
            FormPurpose::RenameMethod { id: m.id.clone() },
            vec!["The name only helps you tell your methods apart.".to_string()],
            "Name",
        ),
    };
    Overlay::Form(Form {
        title,
        lines: first.into_iter().chain(lines).collect(),
        fields: vec![FormField::new(label, &m.detail, false)],
        focus: 0,
        error: None,
        purpose,
    })
}

/// "Rename device" on the devices screen.
pub(super) fn open_rename_device(state: &mut State, device_id: &str) -> Vec<Effect> {
    let Some(d) = state
        .devices
        .ready()
        .and_then(|l| l.iter().find(|d| d.id == device_id))
        .cloned()
    else {
        return Vec::new();
    };
    state.overlay = Some(Overlay::Form(Form {
        title: format!("Rename {}", d.name),
        lines: vec!["The name shows on every sign-in method that lives on this device.".into()],
        fields: vec![FormField::new("Device name", &d.name, false)],
        focus: 0,
        error: None,
        purpose: FormPurpose::RenameDevice { id: d.id },
    }));
    Vec::new()
}

pub(super) fn open_change_password(state: &mut State) -> Vec<Effect> {
    state.overlay = Some(Overlay::Form(Form {
        title: "Change password".into(),
        lines: vec!["Your other sessions are signed out when the password changes.".into()],
        fields: vec![
            FormField::new("Current password", "", true),
            FormField::new("New password    ", "", true),
            FormField::new("New again       ", "", true),
        ],
        focus: 0,
        error: None,
        purpose: FormPurpose::ChangePassword,
    }));
    Vec::new()
}

fn open_create_app_password(state: &mut State) -> Vec<Effect> {
    let services = state
        .app_passwords
        .ready()
        .map(|(_, s)| s.clone())
        .unwrap_or_default();
    state.overlay = Some(Overlay::Form(Form {
        title: "Create app password".into(),
        lines: vec![
            "For an app that cannot do the second factor (an old mail client, a script). \
             Name it after the app, so you know which to delete later."
                .into(),
        ],
        fields: vec![FormField::new("Name", "", false)],
        focus: 0,
        error: None,
        purpose: FormPurpose::CreateAppPassword {
            services,
            service: 0,
        },
    }));
    Vec::new()
}

pub(super) fn form_type(f: &mut Form, text: &str) {
    if let Some(field) = f.fields.get_mut(f.focus) {
        text.chars()
            .filter(|c| !c.is_control())
            .for_each(|c| field.value.push(c));
    }
}

pub(super) fn form_backspace(f: &mut Form) {
    if let Some(field) = f.fields.get_mut(f.focus) {
        field.value.pop();
    }
}

pub(super) fn form_command(state: &mut State, mut f: Form, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::NextField | Command::PrevField => {
            f.focus = step(f.focus, f.stops(), cmd == Command::NextField);
        }
        Command::MoveUp | Command::MoveDown => {
            if let FormPurpose::CreateAppPassword { services, service } = &mut f.purpose
                && f.focus == f.fields.len()
            {
                *service = step(*service, services.len(), cmd == Command::MoveDown);
            }
        }
        Command::Back => {
            state.overlay = None;
            note(state, "Nothing was changed.", Tone::Info);
            return Vec::new();
        }
        Command::Activate => return submit(state, f),
        _ => {}
    }
    state.overlay = Some(Overlay::Form(f));
    Vec::new()
}

fn submit(state: &mut State, mut f: Form) -> Vec<Effect> {
    let value = |i: usize| f.fields.get(i).map(|x| x.value.clone()).unwrap_or_default();
    let text = |i: usize| value(i).expose().trim().to_string();
    let outcome: Result<Vec<Effect>, String> = match &f.purpose {
        FormPurpose::RenameMethod { id } | FormPurpose::RenameDevice { id }
            if text(0).is_empty() =>
        {
            let _ = id;
            Err("Type a name.".into())
        }
        FormPurpose::RenameMethod { id } => Ok(start(
            state,
            Change::RenameMethod {
                id: id.clone(),
                name: text(0),
            },
        )),
        FormPurpose::RenameDevice { id } => Ok(start(
            state,
            Change::RenameDevice {
                id: id.clone(),
                name: text(0),
            },
        )),
        FormPurpose::ChangePassword => {
            if value(0).is_empty() || value(1).is_empty() {
                Err("Type your current password and the new one.".into())
            } else if value(1) != value(2) {
                Err("The new passwords do not match; type the new one twice.".into())
            } else {
                Ok(start(
                    state,
                    Change::ChangePassword {
                        current: value(0),
                        new: value(1),
                    },
                ))
            }
        }
        FormPurpose::CreateAppPassword { services, service } => {
            if text(0).is_empty() {
                Err("Type a name for the app password.".into())
            } else if state.secret_call.is_some() {
                Err("Wait: the last one is still being created.".into())
            } else {
                let id = state.next_id();
                state.secret_call = Some(id);
                let service = services.get(*service).map(|(id, _)| id.clone());
                state.overlay = None;
                Ok(vec![Effect::CreateAppPassword {
                    id,
                    name: text(0),
                    service,
                }])
            }
        }
    };
    match outcome {
        Ok(fx) => fx,
        Err(why) => {
            // Nothing typed is lost: the form stays as it was, with the reason.
            f.error = Some(why);
            state.overlay = Some(Overlay::Form(f));
            Vec::new()
        }
    }
}

pub(super) fn show_once_command(state: &mut State, mut s: ShowOnce, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::Copy => {
            let joined: String = s
                .secrets
                .iter()
                .map(SecretString::expose)
                .collect::<Vec<_>>()
                .join("\n");
            s.copied = true;
            state.overlay = Some(Overlay::ShowOnce(s));
            vec![Effect::Copy {
                text: SecretString::new(joined),
            }]
        }
        Command::Activate | Command::Back => {
            // Dropped here: it is never shown again.
            state.overlay = None;
            Vec::new()
        }
        _ => {
            state.overlay = Some(Overlay::ShowOnce(s));
            Vec::new()
        }
    }
}

pub(super) fn load(state: &mut State) -> Vec<Effect> {
    let id = state.next_id();
    match state.screen {
        Screen::AppPasswords => {
            state.app_passwords = Loadable::Loading(id);
            vec![Effect::LoadAppPasswords { id }]
        }
        Screen::RecoveryCodes => {
            state.recovery_left = Loadable::Loading(id);
            vec![Effect::LoadRecoveryLeft { id }]
        }
        _ => Vec::new(),
    }
}

pub(super) fn open(state: &mut State, screen: Screen) -> Vec<Effect> {
    state.screen = screen;
    state.list_focus = 0;
    load(state)
}

pub(super) fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    match (state.screen, cmd) {
        (_, Command::Back) => {
            state.screen = Screen::Home;
            Vec::new()
        }
        (_, Command::Refresh) => load(state),
        (Screen::AppPasswords, Command::MoveUp | Command::MoveDown) => {
            state.list_focus = step(state.list_focus, state.list_len(), cmd == Command::MoveDown);
            Vec::new()
        }
        (Screen::AppPasswords, Command::Activate) => open_create_app_password(state),
        (Screen::AppPasswords, Command::Delete) => {
            let Some(a) = state
                .app_passwords
                .ready()
                .and_then(|(l, _)| l.get(state.list_focus))
                .cloned()
            else {
                return Vec::new();
            };
            dialogs::confirm(
                state,
                format!("Delete app password {}?", a.name),
                vec![format!(
                    "Apps that sign in with {} stop working until you give them a new one.",
                    a.name
                )],
                "Delete",
                Change::DeleteAppPassword {
                    id: a.id,
                    name: a.name,
                },
            );
            Vec::new()
        }
        (Screen::RecoveryCodes, Command::Activate) => {
            let had = matches!(state.recovery_left, Loadable::Ready(Some(_)));
            let mut lines = vec![
                "Each code signs you in once when you cannot use your other methods. \
                 They are shown only once: keep them somewhere safe."
                    .to_string(),
            ];
            if had {
                lines.push(
                    "Your current codes stop working as soon as the new ones are made.".into(),
                );
            }
            let title = if had {
                "Replace your recovery codes?"
            } else {
                "Generate recovery codes?"
            };
            dialogs::confirm(
                state,
                title.into(),
                lines,
                "Generate",
                Change::GenerateRecoveryCodes,
            );
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Yes on "Generate recovery codes?".
/// Not a plain `Change`: the answer carries secrets, so it has its own effect.
pub(super) fn generate(state: &mut State) -> Vec<Effect> {
    state.overlay = None;
    if state.secret_call.is_some() {
        return Vec::new();
    }
    let id = state.next_id();
    state.secret_call = Some(id);
    vec![Effect::GenerateRecoveryCodes { id }]
}

pub(super) fn app_passwords_loaded(
    state: &mut State,
    id: ReqId,
    result: Result<crate::app::state::AppPasswordList, BackendError>,
) -> Vec<Effect> {
    if state.app_passwords.settle(id, result.clone())
        && matches!(result, Err(BackendError::SignInRequired))
    {
        session_ended(state);
    }
    let n = state.list_len();
    state.list_focus = state.list_focus.min(n.saturating_sub(1));
    Vec::new()
}

pub(super) fn recovery_left(
    state: &mut State,
    id: ReqId,
    result: Result<Option<u32>, BackendError>,
) -> Vec<Effect> {
    if state.recovery_left.settle(id, result.clone())
        && matches!(result, Err(BackendError::SignInRequired))
    {
        session_ended(state);
    }
    Vec::new()
}

pub(super) fn created(
    state: &mut State,
    id: ReqId,
    result: Result<(AppPassword, SecretString), BackendError>,
) -> Vec<Effect> {
    if state.secret_call != Some(id) {
        return Vec::new();
    }
    state.secret_call = None;
    match result {
        Ok((a, secret)) => {
            state.overlay = Some(Overlay::ShowOnce(ShowOnce {
                title: format!("App password {}", a.name),
                lines: vec![rules::APP_PASSWORD_SHOWN_ONCE.into()],
                secrets: vec![secret],
                copied: false,
            }));
            open(state, Screen::AppPasswords)
        }
        Err(BackendError::SignInRequired) => {
            session_ended(state);
            Vec::new()
        }
        Err(e) => {
            note(
                state,
                format!("Could not create the app password: {e}"),
                Tone::Error,
            );
            Vec::new()
        }
    }
}

pub(super) fn codes(
    state: &mut State,
    id: ReqId,
    result: Result<Vec<SecretString>, BackendError>,
) -> Vec<Effect> {
    if state.secret_call != Some(id) {
        return Vec::new();
    }
    state.secret_call = None;
    match result {
        Ok(codes) => {
            state.overlay = Some(Overlay::ShowOnce(ShowOnce {
                title: "Your recovery codes".into(),
                lines: vec![rules::keep_recovery_codes(codes.len())],
                secrets: codes,
                copied: false,
            }));
            load(state)
        }
        Err(BackendError::SignInRequired) => {
            session_ended(state);
            Vec::new()
        }
        Err(e) => {
            note(
                state,
                format!("Could not generate recovery codes: {e}"),
                Tone::Error,
            );
            Vec::new()
        }
    }
}
