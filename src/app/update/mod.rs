//! `update(&mut State, Action) -> Vec<Effect>`: synchronous and pure. Keys are
//! resolved through the keymap here (so tests can send raw keys), then each
//! screen's module handles its commands and the results meant for it.

mod browser;
mod change;
mod dialogs;
mod extras;
mod home;
mod lists;
mod lost_phone;
mod signin;
mod step_up;
mod verify;
mod wizard;

use crate::app::action::Action;
use crate::app::effects::Effect;
use crate::app::keymap::{Command, Key};
use crate::app::state::{
    FactorItem, Loadable, Notice, Overlay, PasswordForm, Purpose, ReqId, Screen, SentMessage,
    SignInStep, State, Tone,
};
use crate::backend::{BackendError, SignIn};
use crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};

/// How the app starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// Nothing kept: ask to sign in.
    SignIn,
    /// A kept sign-in is already in the backend.
    SignedIn,
    /// Take up this account's kept sign-in after the first frame is drawn.
    Resume(String),
}

/// The first effects: load Security info when signed in (or about to be),
/// else start signing in.
pub fn init(state: &mut State, start: Start) -> Vec<Effect> {
    match start {
        Start::SignedIn => {
            state.screen = Screen::Home;
            home::load(state, true)
        }
        Start::Resume(username) => {
            state.screen = Screen::Home;
            let id = state.next_id();
            // The home screen says "Loading…" meanwhile.
            state.account = Loadable::Loading(id);
            state.methods = Loadable::Loading(id);
            vec![Effect::Resume { id, username }]
        }
        Start::SignIn => {
            to_sign_in(state, None);
            Vec::new()
        }
    }
}

/// The kept sign-in of the start: load the home screen, or ask to sign in.
fn resumed(state: &mut State, id: ReqId, kept: bool) -> Vec<Effect> {
    if !matches!(state.methods, Loadable::Loading(want) if want == id) {
        return Vec::new();
    }
    if kept {
        home::load(state, true)
    } else {
        to_sign_in(state, None);
        Vec::new()
    }
}

/// What a key does where the focus is; `None`: nothing (released, or bound
/// to nothing here with no field to type into).
enum KeyMeaning {
    Quit,
    Command(Command),
    Type(char),
    Backspace,
}

fn key_meaning(state: &State, ev: &crossterm::event::KeyEvent) -> Option<KeyMeaning> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    if ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL) {
        return Some(KeyMeaning::Quit);
    }
    let (cmds, text) = state.key_context();
    let key = Key::from_event(ev);
    if let Some(cmd) = state.keymap.resolve(key, &cmds, text) {
        return Some(KeyMeaning::Command(cmd));
    }
    match key.code {
        // Digits go to whichever code field is showing, even outside text mode.
        KeyCode::Char(c) if key.is_text() && (text || c.is_ascii_digit()) => {
            Some(KeyMeaning::Type(c))
        }
        KeyCode::Backspace => Some(KeyMeaning::Backspace),
        _ => None,
    }
}

/// Whether `action` can change anything: keys that mean nothing here and
/// commands this screen does not offer are ignored without a redraw.
fn may_change(state: &State, action: &Action) -> bool {
    match action {
        Action::Key(ev) => key_meaning(state, ev).is_some(),
        Action::Cmd(cmd) => state.key_context().0.contains(cmd),
        _ => true,
    }
}

/// Applies `action`. `state.revision` moves whenever the action may have
/// changed what is drawn, so the terminal loop redraws only then.
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    if !may_change(state, &action) {
        return Vec::new();
    }
    state.revision = state.revision.wrapping_add(1);
    dispatch(state, action)
}

fn dispatch(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(ev) => match key_meaning(state, &ev) {
            Some(KeyMeaning::Quit) => quit(state),
            Some(KeyMeaning::Command(cmd)) => command(state, cmd),
            Some(KeyMeaning::Type(c)) => {
                type_text(state, &c.to_string());
                Vec::new()
            }
            Some(KeyMeaning::Backspace) => {
                backspace(state);
                Vec::new()
            }
            None => Vec::new(),
        },
        // Checked by `may_change`: only commands this screen offers get here.
        Action::Cmd(cmd) => command(state, cmd),
        Action::Char(c) => {
            type_text(state, &c.to_string());
            Vec::new()
        }
        Action::Paste(text) => {
            type_text(state, &text);
            Vec::new()
        }
        Action::Backspace => {
            backspace(state);
            Vec::new()
        }
        Action::Tick => {
            state.spinner = state.spinner.wrapping_add(1);
            Vec::new()
        }
        Action::Resize => Vec::new(),
        Action::Scroll { down } => {
            let cmd = if down {
                Command::MoveDown
            } else {
                Command::MoveUp
            };
            command(state, cmd)
        }
        Action::Click(n) => click(state, n),
        Action::Resumed { id, kept } => resumed(state, id, kept),
        Action::Restored { id, result } => signin::restored(state, id, result),
        Action::PasswordChecked { id, result } => signin::password_checked(state, id, result),
        Action::FactorStarted { id, result } => verify::started(state, id, result),
        Action::Waited { id } => verify::waited(state, id),
        Action::FactorAnswered { id, result } => verify::answered(state, id, result),
        Action::SteppedUp { id, result } => step_up::stepped_up(state, id, result),
        Action::BrowserPolled { id, result } => match browser::polled(state, id, result) {
            browser::Polled::Waiting(fx) => fx,
            browser::Polled::Finished(purpose, finished) => proceed(state, purpose, *finished),
        },
        Action::StepUpNeeded(retry) => step_up::needed(state, *retry),
        Action::Account { id, result } => signin::account_loaded(state, id, result),
        Action::Capabilities { id, result } => {
            if let Ok(caps) = &result {
                state.portal_qrs = portal_qrs(caps);
            }
            settled(state, |s| s.caps.settle(id, result.clone()), &result)
        }
        Action::Methods { id, result } => {
            let fx = settled(state, |s| s.methods.settle(id, result.clone()), &result);
            clamp_focus(state);
            fx
        }
        Action::Devices { id, result } => {
            let mut fx = settled(state, |s| s.devices.settle(id, result.clone()), &result);
            fx.extend(lost_phone::devices_loaded(state));
            fx
        }
        Action::Sessions { id, result } => {
            settled(state, |s| s.sessions.settle(id, result.clone()), &result)
        }
        Action::Remembered { id, result } => {
            settled(state, |s| s.remembered.settle(id, result.clone()), &result)
        }
        Action::Activity { id, older, result } => lists::activity(state, id, older, result),
        Action::Changed {
            id,
            result,
            answer_lost,
        } => change::changed(state, id, result, answer_lost),
        Action::SignedOut { id, result } => {
            if state.signing_out == Some(id) {
                state.signing_out = None;
                let text = match result {
                    Ok(()) => "You are signed out.".to_string(),
                    Err(e) => format!("Signed out here; the server said: {e}"),
                };
                to_sign_in(
                    state,
                    Some(Notice {
                        text,
                        tone: Tone::Info,
                    }),
                );
            }
            Vec::new()
        }
        Action::Kept(result) => {
            if let Err(reason) = result
                && !state.kept_warning_shown
            {
                state.kept_warning_shown = true;
                state.notice = Some(Notice {
                    text: format!("Your sign-in will not be kept: {reason}"),
                    tone: Tone::Error,
                });
            }
            Vec::new()
        }
        Action::AccountsChanged(list) => {
            state.accounts = list;
            if let SignInStep::Accounts { focus } = &mut state.signin {
                *focus = (*focus).min(state.accounts.len());
            }
            Vec::new()
        }
        Action::PhoneApproved { id, result } => {
            if wizard::phone_approved(state, id, &result) {
                return Vec::new();
            }
            dialogs::phone_approved(state, id, result)
        }
        Action::AppPasswords { id, result } => extras::app_passwords_loaded(state, id, result),
        Action::AppPasswordCreated { id, result } => extras::created(state, id, result),
        Action::RecoveryLeft { id, result } => extras::recovery_left(state, id, result),
        Action::RecoveryCodes { id, result } => extras::codes(state, id, result),
        Action::EnrollmentBegun { id, result } => wizard::begun(state, id, result),
        Action::EnrollmentChecked { id, result } => wizard::checked(state, id, result),
        Action::PhoneActivated { id, result } => wizard::phone_activated(state, id, result),
        Action::Outbox { id, result } => {
            if let Some(Overlay::Outbox(o @ Loadable::Loading(_))) = &mut state.overlay
                && *o == Loadable::Loading(id)
            {
                *o = match result {
                    Ok(list) => Loadable::Ready(
                        list.into_iter()
                            .map(|m| SentMessage {
                                channel: m.channel,
                                recipient: m.recipient,
                                body: m.body,
                                sent_at: m.sent_at,
                            })
                            .collect(),
                    ),
                    Err(e) => Loadable::Failed(BackendError::NotSupported(e)),
                };
            }
            Vec::new()
        }
    }
}

/// Each distinct portal link of the handoffs, as a QR code.
fn portal_qrs(caps: &crate::domain::Capabilities) -> Vec<(String, crate::qr::QrCode)> {
    let mut qrs: Vec<(String, crate::qr::QrCode)> = Vec::new();
    for (_, ability) in &caps.enroll {
        if let crate::domain::Ability::No {
            portal_url: Some(url),
            ..
        } = ability
            && !qrs.iter().any(|(u, _)| u == url)
            && let Ok(qr) = crate::qr::QrCode::new(url)
        {
            qrs.push((url.clone(), qr));
        }
    }
    qrs
}

/// What the provider said after a step of signing in (a password, a second
/// factor, a browser), for whichever purpose: signed in, stepped up, or the
/// next step on screen. The one place the sign-in steps meet, so the
/// screens' handlers need not call each other.
fn proceed(state: &mut State, purpose: Purpose, next: SignIn) -> Vec<Effect> {
    match next {
        SignIn::Done { mfa_setup_required } => match purpose {
            Purpose::SignIn { username } => signin::finish(state, username, mfa_setup_required),
            Purpose::StepUp => step_up::resume(state),
        },
        SignIn::SecondFactor(challenge) => {
            let (v, fx) = verify::begin(state, challenge, purpose.clone());
            match purpose {
                Purpose::SignIn { .. } => state.signin = SignInStep::Verify(v),
                Purpose::StepUp => {
                    if let Some(s) = &mut state.step_up {
                        s.pending = None;
                        s.browser = None;
                        s.verify = Some(v);
                    }
                }
            }
            fx
        }
        SignIn::Browser(step) => {
            let (wait, fx) = browser::begin(state, step, purpose.clone());
            match purpose {
                Purpose::SignIn { .. } => state.signin = SignInStep::Browser(wait),
                Purpose::StepUp => {
                    if let Some(s) = &mut state.step_up {
                        s.pending = None;
                        s.verify = None;
                        s.browser = Some(wait);
                    }
                }
            }
            fx
        }
        SignIn::Pending => {
            note(
                state,
                "The server is still working on it; try again.",
                Tone::Error,
            );
            Vec::new()
        }
    }
}

/// A click focuses the row it hit and activates it, as Enter would.
fn click(state: &mut State, n: usize) -> Vec<Effect> {
    if state.wizard.is_some() || state.step_up.is_some() {
        return Vec::new();
    }
    let (home, list) = (state.home_items().len(), state.list_len());
    match &mut state.overlay {
        Some(Overlay::Menu(m)) if n < m.items.len() => m.focus = n,
        Some(_) => return Vec::new(),
        None if state.screen == Screen::Home && n < home => state.home_focus = n,
        None if state.screen != Screen::Home && n < list => state.list_focus = n,
        None => return Vec::new(),
    }
    command(state, Command::Activate)
}

fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    if matches!(
        cmd,
        Command::Activate | Command::Back | Command::Delete | Command::Refresh
    ) {
        state.notice = None;
    }
    match cmd {
        Command::Quit => return quit(state),
        Command::Help => {
            state.overlay = match state.overlay {
                Some(Overlay::Help) => None,
                _ => Some(Overlay::Help),
            };
            return Vec::new();
        }
        Command::Outbox if state.demo.is_some() => {
            let id = state.next_id();
            state.overlay = Some(Overlay::Outbox(Loadable::Loading(id)));
            return vec![Effect::LoadOutbox { id }];
        }
        Command::Phone
            if state.demo.is_some()
                && state.overlay.is_none()
                && (state.wizard.is_none() || state.step_up.is_some()) =>
        {
            dialogs::open_phone(state);
            return Vec::new();
        }
        _ => {}
    }
    if state.overlay.is_some() {
        return dialogs::command(state, cmd);
    }
    if state.step_up.is_some() {
        return step_up::command(state, cmd);
    }
    if state.wizard.is_some() {
        return wizard::command(state, cmd);
    }
    match state.screen {
        Screen::SignIn => signin::command(state, cmd),
        Screen::Home => home::command(state, cmd),
        Screen::Devices | Screen::Sessions | Screen::Remembered | Screen::Activity => {
            lists::command(state, cmd)
        }
        Screen::AppPasswords | Screen::RecoveryCodes => extras::command(state, cmd),
    }
}

/// Quitting leaves nothing half-enrolled: a pending enrollment is cancelled first.
fn quit(state: &mut State) -> Vec<Effect> {
    state.quit = true;
    wizard::abandon(state)
}

/// Text goes to whichever field has focus; nowhere else.
fn type_text(state: &mut State, text: &str) {
    let clean = text.chars().filter(|c| !c.is_control());
    match &mut state.overlay {
        Some(Overlay::TypeName(t)) => return t.input.extend(clean),
        Some(Overlay::Form(f)) => return extras::form_type(f, text),
        Some(Overlay::Phone(p)) => return p.input.extend(clean.filter(char::is_ascii_digit)),
        Some(_) => return,
        None => {}
    }
    if state.step_up.is_none() && wizard::type_text(state, text) {
        return;
    }
    if let Some(f) = verify::factor_mut(state) {
        let (v, f) = f;
        if v.get(f.focus) == Some(&FactorItem::Code) {
            clean.for_each(|c| f.code.push(c));
        }
        return;
    }
    if let (Screen::SignIn, SignInStep::Password(form)) = (state.screen, &mut state.signin) {
        match form.focus {
            0 => form.username.extend(clean),
            1 => clean.for_each(|c| form.password.push(c)),
            _ => {}
        }
    }
}

fn backspace(state: &mut State) {
    match &mut state.overlay {
        Some(Overlay::TypeName(t)) => {
            t.input.pop();
            return;
        }
        Some(Overlay::Form(f)) => {
            extras::form_backspace(f);
            return;
        }
        Some(Overlay::Phone(p)) => {
            p.input.pop();
            return;
        }
        Some(_) => return,
        None => {}
    }
    if state.step_up.is_none() && wizard::backspace(state) {
        return;
    }
    if let Some((items, f)) = verify::factor_mut(state) {
        if items.get(f.focus) == Some(&FactorItem::Code) {
            f.code.pop();
        }
        return;
    }
    if let (Screen::SignIn, SignInStep::Password(form)) = (state.screen, &mut state.signin) {
        match form.focus {
            0 => {
                form.username.pop();
            }
            1 => {
                form.password.pop();
            }
            _ => {}
        }
    }
}

/// Applies a data result; a sign-in that ended on the server sends the user back to sign in.
pub(super) fn settled<T>(
    state: &mut State,
    apply: impl FnOnce(&mut State) -> bool,
    result: &Result<T, BackendError>,
) -> Vec<Effect> {
    if apply(state) && matches!(result, Err(BackendError::SignInRequired)) {
        session_ended(state);
    }
    Vec::new()
}

/// Says one thing on the status line (the notice), in a tone.
pub(crate) fn note(state: &mut State, text: impl Into<String>, tone: Tone) {
    state.notice = Some(Notice {
        text: text.into(),
        tone,
    });
}

pub(crate) fn session_ended(state: &mut State) {
    to_sign_in(
        state,
        Some(Notice {
            text: "Your sign-in has ended; sign in again.".into(),
            tone: Tone::Error,
        }),
    );
}

/// Back to the start of sign-in, with everything of the last account dropped.
pub(crate) fn to_sign_in(state: &mut State, notice: Option<Notice>) {
    state.screen = Screen::SignIn;
    state.signin = if state.accounts.is_empty() {
        // The demo's account is the one to use: spare the typing.
        let username = state
            .demo
            .as_ref()
            .map(|d| d.username.clone())
            .unwrap_or_default();
        let focus = usize::from(!username.is_empty());
        SignInStep::Password(PasswordForm {
            username,
            focus,
            ..PasswordForm::default()
        })
    } else {
        SignInStep::Accounts { focus: 0 }
    };
    state.account = Loadable::NotAsked;
    state.caps = Loadable::NotAsked;
    state.methods = Loadable::NotAsked;
    state.devices = Loadable::NotAsked;
    state.sessions = Loadable::NotAsked;
    state.remembered = Loadable::NotAsked;
    state.activity = Loadable::NotAsked;
    state.activity_older = None;
    state.lost_phone = None;
    state.app_passwords = Loadable::NotAsked;
    state.recovery_left = Loadable::NotAsked;
    state.secret_call = None;
    state.overlay = None;
    state.step_up = None;
    state.stepped_up_for = None;
    state.change = None;
    state.wizard = None;
    state.home_focus = 0;
    state.list_focus = 0;
    state.notice = notice;
}

fn clamp_focus(state: &mut State) {
    let n = state.home_items().len();
    state.home_focus = state.home_focus.min(n.saturating_sub(1));
}

/// Moves a focus index by one, wrapping around.
pub(crate) fn step(focus: usize, len: usize, down: bool) -> usize {
    if len == 0 {
        return 0;
    }
    if down {
        (focus + 1) % len
    } else {
        (focus + len - 1) % len
    }
}
