//! Sign-in: the account picker, username and password, then verification,
//! then loading who signed in before Security info shows.

use super::{browser, home, step, verify};
use crate::app::effects::Effect;
use crate::app::keymap::Command;
use crate::app::state::{
    Loadable, Notice, PasswordForm, Purpose, ReqId, Screen, SignInStep, State, Tone,
};
use crate::backend::{BackendError, SignIn};
use crate::domain::Account;

pub(super) fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    match state.signin.clone() {
        SignInStep::Accounts { focus } => accounts(state, focus, cmd),
        SignInStep::Password(form) => password(state, form, cmd),
        SignInStep::Verify(_) => verify::command(state, cmd).unwrap_or_else(|| back(state)),
        SignInStep::Browser(_) => browser::command(state, cmd).unwrap_or_else(|| back(state)),
        SignInStep::Checking { .. } | SignInStep::Finishing { .. } => Vec::new(),
    }
}

/// Backing out of a second step returns to the password, username kept.
fn back(state: &mut State) -> Vec<Effect> {
    let purpose = match &state.signin {
        SignInStep::Verify(v) => &v.purpose,
        SignInStep::Browser(b) => &b.purpose,
        _ => return Vec::new(),
    };
    if let Purpose::SignIn { username } = purpose {
        state.signin = SignInStep::Password(PasswordForm {
            username: username.clone(),
            focus: 1,
            ..Default::default()
        });
    }
    Vec::new()
}

fn accounts(state: &mut State, focus: usize, cmd: Command) -> Vec<Effect> {
    let n = state.accounts.len() + 1;
    match cmd {
        Command::MoveUp | Command::MoveDown => {
            state.signin = SignInStep::Accounts {
                focus: step(focus, n, cmd == Command::MoveDown),
            };
            Vec::new()
        }
        Command::Activate => match state.accounts.get(focus).map(|a| a.username.clone()) {
            Some(username) => {
                let id = state.next_id();
                state.signin = SignInStep::Checking {
                    username: username.clone(),
                    id,
                };
                vec![Effect::Restore { id, username }]
            }
            None => {
                state.signin = SignInStep::Password(PasswordForm::default());
                Vec::new()
            }
        },
        Command::Delete => match state.accounts.get(focus) {
            Some(acc) => {
                let username = acc.username.clone();
                state.accounts.remove(focus);
                state.notice = Some(Notice {
                    text: format!("Removed {username} from this list."),
                    tone: Tone::Info,
                });
                state.signin = SignInStep::Accounts {
                    focus: focus.min(state.accounts.len()),
                };
                vec![Effect::ForgetAccount { username }]
            }
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn password(state: &mut State, mut form: PasswordForm, cmd: Command) -> Vec<Effect> {
    let mut fx = Vec::new();
    match cmd {
        Command::NextField | Command::MoveDown => form.focus = step(form.focus, 3, true),
        Command::PrevField | Command::MoveUp => form.focus = step(form.focus, 3, false),
        Command::Back if !state.accounts.is_empty() && form.pending.is_none() => {
            state.signin = SignInStep::Accounts { focus: 0 };
            return fx;
        }
        Command::Activate if form.pending.is_none() && state.browser_sign_in => {
            // The provider asks for nothing here: its page does the asking.
            let id = state.next_id();
            form.pending = Some(id);
            form.error = None;
            fx.push(Effect::SignIn {
                id,
                username: String::new(),
                password: Default::default(),
            });
        }
        Command::Activate if form.pending.is_none() => {
            if form.focus == 0 && !form.username.trim().is_empty() && form.password.is_empty() {
                form.focus = 1;
            } else if form.username.trim().is_empty() {
                form.error = Some("Enter your username.".into());
                form.focus = 0;
            } else if form.password.is_empty() {
                form.error = Some("Enter your password.".into());
                form.focus = 1;
            } else {
                let id = state.next_id();
                form.pending = Some(id);
                form.error = None;
                let username = form.username.trim().to_string();
                fx.push(Effect::SignIn {
                    id,
                    username,
                    password: form.password.clone(),
                });
            }
        }
        _ => {}
    }
    state.signin = SignInStep::Password(form);
    fx
}

pub(super) fn restored(
    state: &mut State,
    id: ReqId,
    result: Result<Option<Account>, BackendError>,
) -> Vec<Effect> {
    let SignInStep::Checking { username, id: want } = &state.signin else {
        return Vec::new();
    };
    if *want != id {
        return Vec::new();
    }
    let username = username.clone();
    match result {
        Ok(Some(account)) => {
            let mut fx = home::load(state, false);
            state.account = Loadable::Ready(account.clone());
            state.screen = Screen::Home;
            state.signin = SignInStep::Accounts { focus: 0 };
            fx.push(Effect::Keep {
                username,
                display_name: account.display_name,
            });
            fx
        }
        Ok(None) => {
            state.signin = SignInStep::Password(PasswordForm {
                username,
                focus: 1,
                ..Default::default()
            });
            Vec::new()
        }
        Err(e) => {
            state.signin = SignInStep::Password(PasswordForm {
                username,
                focus: 1,
                error: Some(e.to_string()),
                ..Default::default()
            });
            Vec::new()
        }
    }
}

pub(super) fn password_checked(
    state: &mut State,
    id: ReqId,
    result: Result<SignIn, BackendError>,
) -> Vec<Effect> {
    let SignInStep::Password(form) = &mut state.signin else {
        return Vec::new();
    };
    if form.pending != Some(id) {
        return Vec::new();
    }
    form.pending = None;
    let username = form.username.trim().to_string();
    match result {
        Ok(SignIn::Pending) => {
            form.error = Some("The server is still working on it; try again.".into());
            Vec::new()
        }
        Ok(next) => super::proceed(state, Purpose::SignIn { username }, next),
        Err(e) => {
            form.error = Some(e.to_string());
            form.password = Default::default();
            form.focus = 1;
            Vec::new()
        }
    }
}

/// Signed in: find out who, then show Security info.
pub(super) fn finish(state: &mut State, username: String, mfa_setup_required: bool) -> Vec<Effect> {
    state.signin = SignInStep::Finishing { username };
    let fx = home::load(state, true);
    if mfa_setup_required {
        // Straight into "Let's keep your account secure" before Security info.
        super::wizard::open(state, true);
    }
    fx
}

pub(super) fn account_loaded(
    state: &mut State,
    id: ReqId,
    result: Result<Account, BackendError>,
) -> Vec<Effect> {
    if !state.account.settle(id, result.clone()) {
        return Vec::new();
    }
    if let SignInStep::Finishing { username } = &state.signin {
        // A browser sign-in learns the username only now, from the account.
        let username = match (username.is_empty(), &result) {
            (true, Ok(account)) => account.username.clone(),
            _ => username.clone(),
        };
        let display_name = result
            .as_ref()
            .map_or(username.clone(), |a| a.display_name.clone());
        state.screen = Screen::Home;
        state.signin = SignInStep::Accounts { focus: 0 };
        state.home_focus = 0;
        return vec![Effect::Keep {
            username,
            display_name,
        }];
    }
    if matches!(result, Err(BackendError::SignInRequired)) {
        super::session_ended(state);
    }
    Vec::new()
}
