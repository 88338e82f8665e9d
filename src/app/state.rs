//! The model: everything the screen shows, and nothing else. `ui` renders it;
//! only `update` changes it.

use crate::accounts::KnownAccount;
use crate::app::keymap::{Command, Keymap};
use crate::backend::BackendError;
use crate::config::ThemeName;
use crate::domain::{
    Account, ActivityPage, AppPassword, Capabilities, Device, Method, RememberedDevice, Session,
};
use crate::secrets::SecretString;
use std::path::PathBuf;
use std::time::Duration;

mod browser;
mod change;
mod lost_phone;
mod overlay;
mod verify;
mod wizard;

pub use browser::*;
pub use change::*;
pub use lost_phone::*;
pub use overlay::*;
pub use verify::*;
pub use wizard::*;

pub use crate::domain::{confirm_name, method_name};

pub type ReqId = u64;

/// The demo's facts, shown in its banner and used by the simulated phone panel.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoInfo {
    pub username: String,
    /// The made-up demo account's password: shown on screen on purpose.
    pub password: String,
    pub db_path: PathBuf,
    pub phone_dir: PathBuf,
}

/// Data that comes from the backend: never drawn as if it were there before it is.
#[derive(Clone, Debug, PartialEq)]
pub enum Loadable<T> {
    NotAsked,
    Loading(ReqId),
    Ready(T),
    Failed(BackendError),
}

impl<T> Loadable<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Self::Ready(t) => Some(t),
            _ => None,
        }
    }
    pub fn is_loading(&self) -> bool {
        matches!(self, Self::Loading(_))
    }
    /// Takes a result if it answers the request this is waiting for; stale answers are dropped.
    pub fn settle(&mut self, id: ReqId, result: Result<T, BackendError>) -> bool {
        if !matches!(self, Self::Loading(x) if *x == id) {
            return false;
        }
        *self = match result {
            Ok(t) => Self::Ready(t),
            Err(e) => Self::Failed(e),
        };
        true
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    SignIn,
    Home,
    Devices,
    Sessions,
    Remembered,
    AppPasswords,
    RecoveryCodes,
    Activity,
}

/// App passwords and the services one can be for.
pub type AppPasswordList = (Vec<AppPassword>, Vec<(String, String)>);

// Steps are few and moved rarely; boxing the big one buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum SignInStep {
    /// Trying the sign-in kept for a chosen account.
    Checking {
        username: String,
        id: ReqId,
    },
    /// "Choose the account you want to sign in with".
    Accounts {
        focus: usize,
    },
    Password(PasswordForm),
    Verify(Verify),
    /// The provider finishes the sign-in in a browser.
    Browser(BrowserWait),
    /// Signed in; loading who it is before showing Security info.
    Finishing {
        username: String,
    },
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct PasswordForm {
    pub username: String,
    pub password: SecretString,
    /// 0 username, 1 password, 2 the Sign in button.
    pub focus: usize,
    pub error: Option<String>,
    pub pending: Option<ReqId>,
}

/// Focusable rows of the home screen, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HomeItem {
    ChangeDefault,
    AddMethod,
    Method(usize),
    Devices,
    Sessions,
    Remembered,
    AppPasswords,
    RecoveryCodes,
    Activity,
    LostPhone,
    SignOutEverywhere,
    SignOut,
}

#[derive(Clone, Debug)]
pub struct State {
    pub profile: String,
    pub server_url: String,
    pub demo: Option<DemoInfo>,
    pub keymap: Keymap,
    pub theme: ThemeName,
    /// The terminal shows 24-bit color (COLORTERM): QR codes use exact RGB.
    pub truecolor: bool,
    pub screen: Screen,
    pub signin: SignInStep,
    pub accounts: Vec<KnownAccount>,
    pub account: Loadable<Account>,
    /// The provider signs in only in a browser (OAuth device code): no
    /// username or password is asked for.
    pub browser_sign_in: bool,
    pub caps: Loadable<Capabilities>,
    /// The portal links' QR codes (handoffs), encoded once when the
    /// capabilities arrive, not on every frame.
    pub portal_qrs: Vec<(String, crate::qr::QrCode)>,
    pub methods: Loadable<Vec<Method>>,
    pub devices: Loadable<Vec<Device>>,
    pub sessions: Loadable<Vec<Session>>,
    pub remembered: Loadable<Vec<RememberedDevice>>,
    /// Recent activity: the pages read so far, newest first.
    pub activity: Loadable<ActivityPage>,
    /// The older page being read, added below the rows when it comes.
    pub activity_older: Option<ReqId>,
    /// "I lost my phone", while it is under way.
    pub lost_phone: Option<LostPhone>,
    pub app_passwords: Loadable<AppPasswordList>,
    /// Unused recovery codes left; `None` when none were ever generated.
    pub recovery_left: Loadable<Option<u32>>,
    /// Creating an app password or generating recovery codes (answers carry secrets).
    pub secret_call: Option<ReqId>,
    pub home_focus: usize,
    pub list_focus: usize,
    pub overlay: Option<Overlay>,
    pub step_up: Option<StepUp>,
    /// The request last sent again after a step-up: refused once more, it fails.
    pub stepped_up_for: Option<ReqId>,
    pub change: Option<ChangeInFlight>,
    /// "Add sign-in method", drawn over Security info while open.
    pub wizard: Option<Wizard>,
    pub notice: Option<Notice>,
    pub signing_out: Option<ReqId>,
    pub kept_warning_shown: bool,
    pub spinner: usize,
    pub poll_every: Duration,
    pub next_id: ReqId,
    /// Moves with every action that may change what is drawn (see `update`).
    pub revision: u64,
    pub quit: bool,
}

impl State {
    pub fn new(profile: &str, server_url: &str, keymap: Keymap, theme: ThemeName) -> Self {
        Self {
            profile: profile.into(),
            server_url: server_url.into(),
            demo: None,
            keymap,
            theme,
            truecolor: false,
            screen: Screen::SignIn,
            signin: SignInStep::Password(PasswordForm::default()),
            accounts: Vec::new(),
            account: Loadable::NotAsked,
            browser_sign_in: false,
            caps: Loadable::NotAsked,
            portal_qrs: Vec::new(),
            methods: Loadable::NotAsked,
            devices: Loadable::NotAsked,
            sessions: Loadable::NotAsked,
            remembered: Loadable::NotAsked,
            activity: Loadable::NotAsked,
            activity_older: None,
            lost_phone: None,
            app_passwords: Loadable::NotAsked,
            recovery_left: Loadable::NotAsked,
            secret_call: None,
            home_focus: 0,
            list_focus: 0,
            overlay: None,
            step_up: None,
            stepped_up_for: None,
            change: None,
            wizard: None,
            notice: None,
            signing_out: None,
            kept_warning_shown: false,
            spinner: 0,
            poll_every: crate::journeys::rules::PUSH_POLL_EVERY,
            next_id: 1,
            revision: 0,
            quit: false,
        }
    }

    pub fn next_id(&mut self) -> ReqId {
        self.next_id += 1;
        self.next_id
    }

    /// Something is in flight: the spinner ticks only then.
    pub fn is_loading(&self) -> bool {
        let signin = match &self.signin {
            SignInStep::Checking { .. } | SignInStep::Finishing { .. } => true,
            SignInStep::Password(f) => f.pending.is_some(),
            SignInStep::Verify(v) => verify_busy(v),
            SignInStep::Browser(b) => b.pending.is_some(),
            SignInStep::Accounts { .. } => false,
        };
        let overlay = match &self.overlay {
            Some(Overlay::Phone(p)) => p.pending.is_some(),
            Some(Overlay::Outbox(o)) => o.is_loading(),
            _ => false,
        };
        (self.screen == Screen::SignIn && signin)
            || overlay
            || self.change.is_some()
            || self
                .wizard
                .as_ref()
                .is_some_and(|w| w.pending.is_some() || w.phone_busy.is_some())
            || self.signing_out.is_some()
            || self.step_up.as_ref().is_some_and(|s| {
                s.pending.is_some()
                    || s.verify.as_ref().is_some_and(verify_busy)
                    || s.browser.as_ref().is_some_and(|b| b.pending.is_some())
            })
            || self.account.is_loading()
            || self.caps.is_loading()
            || self.methods.is_loading()
            || self.devices.is_loading()
            || self.sessions.is_loading()
            || self.remembered.is_loading()
            || self.app_passwords.is_loading()
            || self.recovery_left.is_loading()
            || self.secret_call.is_some()
    }

    pub fn home_items(&self) -> Vec<HomeItem> {
        let mut items = vec![HomeItem::ChangeDefault, HomeItem::AddMethod];
        if let Some(methods) = self.methods.ready() {
            items.extend((0..methods.len()).map(HomeItem::Method));
        }
        items.extend([
            HomeItem::Devices,
            HomeItem::Sessions,
            HomeItem::Remembered,
            HomeItem::AppPasswords,
            HomeItem::RecoveryCodes,
            HomeItem::Activity,
            HomeItem::LostPhone,
            HomeItem::SignOutEverywhere,
            HomeItem::SignOut,
        ]);
        items
    }

    pub fn list_len(&self) -> usize {
        match self.screen {
            Screen::Devices => self.devices.ready().map_or(0, Vec::len),
            Screen::Sessions => self.sessions.ready().map_or(0, Vec::len),
            Screen::Remembered => self.remembered.ready().map_or(0, Vec::len),
            Screen::AppPasswords => self.app_passwords.ready().map_or(0, |l| l.0.len()),
            // The last row reads the older page, when there is one.
            Screen::Activity => self
                .activity
                .ready()
                .map_or(0, |p| p.events.len() + usize::from(p.next.is_some())),
            _ => 0,
        }
    }

    /// The verify flow on screen, whether for sign-in or a step-up.
    /// The encoded QR code of a portal link, when it was given with the capabilities.
    pub fn portal_qr(&self, url: &str) -> Option<&crate::qr::QrCode> {
        self.portal_qrs
            .iter()
            .find(|(u, _)| u == url)
            .map(|(_, qr)| qr)
    }

    /// The browser step on screen, for sign-in or a step-up.
    pub fn active_browser(&self) -> Option<&BrowserWait> {
        if let Some(s) = &self.step_up {
            return s.browser.as_ref();
        }
        match (&self.screen, &self.signin) {
            (Screen::SignIn, SignInStep::Browser(b)) => Some(b),
            _ => None,
        }
    }

    pub fn active_verify(&self) -> Option<&Verify> {
        if let Some(s) = &self.step_up {
            return s.verify.as_ref();
        }
        match (&self.screen, &self.signin) {
            (Screen::SignIn, SignInStep::Verify(v)) => Some(v),
            _ => None,
        }
    }

    /// Which commands apply now, and whether a text field has focus (so
    /// letters are typed, not commands). The key bar shows exactly these.
    pub fn key_context(&self) -> (Vec<Command>, bool) {
        use Command::*;
        let nav = [MoveUp, MoveDown, Activate];
        let mut cmds: Vec<Command>;
        let mut text = false;
        if let Some(o) = &self.overlay {
            cmds = match o {
                Overlay::Help => vec![Back],
                Overlay::Confirm(_) => vec![NextField, Activate, Back],
                Overlay::TypeName(_) => {
                    text = true;
                    vec![Activate, Back]
                }
                Overlay::Menu(_) => nav.to_vec(),
                Overlay::Phone(_) => {
                    text = true;
                    vec![Activate, Back]
                }
                Overlay::Outbox(_) => vec![Refresh, Back],
                Overlay::Form(f) => {
                    text = f.focus < f.fields.len();
                    let mut c = vec![NextField, PrevField, Activate];
                    if f.has_picker() {
                        c.extend([MoveUp, MoveDown]);
                    }
                    c.push(Back);
                    c
                }
                Overlay::ShowOnce(_) => vec![Copy, Activate, Back],
            };
            if !matches!(o, Overlay::Menu(_)) {
                cmds.push(Quit);
                return (cmds, text);
            }
            cmds.push(Back);
        } else if let Some(s) = &self.step_up {
            match (&s.verify, &s.browser) {
                (Some(v), _) => (cmds, text) = verify_context(v, self.demo.is_some()),
                (None, Some(_)) => cmds = vec![Copy, Back],
                (None, None) => cmds = vec![Back],
            }
        } else if let Some(w) = &self.wizard {
            (cmds, text) = wizard_context(w, self.demo.is_some());
        } else if let Some(v) = self.active_verify() {
            (cmds, text) = verify_context(v, self.demo.is_some());
        } else {
            cmds = match (&self.screen, &self.signin) {
                (Screen::SignIn, SignInStep::Accounts { .. }) => {
                    vec![MoveUp, MoveDown, Activate, Delete]
                }
                (Screen::SignIn, SignInStep::Password(_)) if self.browser_sign_in => {
                    let mut c = vec![Activate];
                    if !self.accounts.is_empty() {
                        c.push(Back);
                    }
                    c
                }
                (Screen::SignIn, SignInStep::Password(f)) => {
                    text = f.focus < 2;
                    let mut c = vec![NextField, PrevField, Activate];
                    if !self.accounts.is_empty() {
                        c.push(Back);
                    }
                    c
                }
                (Screen::SignIn, SignInStep::Browser(_)) => vec![Copy, Back],
                (Screen::SignIn, _) => vec![],
                (Screen::Home, _) => vec![MoveUp, MoveDown, Activate, Delete, Refresh],
                (Screen::Devices, _) => vec![MoveUp, MoveDown, Activate, Delete, Refresh, Back],
                (Screen::Sessions | Screen::Remembered, _) => {
                    vec![MoveUp, MoveDown, Delete, Refresh, Back]
                }
                (Screen::AppPasswords, _) => {
                    vec![MoveUp, MoveDown, Activate, Delete, Refresh, Back]
                }
                (Screen::RecoveryCodes, _) => vec![Activate, Refresh, Back],
                (Screen::Activity, _) => {
                    // Enter reads the older page: offered only while there is one.
                    let older = self.activity.ready().is_some_and(|p| p.next.is_some());
                    let mut c = vec![MoveUp, MoveDown];
                    if older {
                        c.push(Activate);
                    }
                    c.extend([Refresh, Back]);
                    c
                }
            };
        }
        // F2 reaches the outbox even from a code field (where `o` is typed).
        if self.demo.is_some() {
            cmds.push(Outbox);
        }
        cmds.extend([Help, Quit]);
        (cmds, text)
    }
}

fn verify_busy(v: &Verify) -> bool {
    match &v.step {
        VerifyStep::Factor(f) => f.started.is_loading() || f.answering.is_some(),
        VerifyStep::Choose { .. } => false,
    }
}

fn verify_context(v: &Verify, demo: bool) -> (Vec<Command>, bool) {
    use Command::*;
    match &v.step {
        VerifyStep::Choose { .. } => (vec![MoveUp, MoveDown, Activate, Back], false),
        VerifyStep::Factor(f) => {
            let items = v.factor_items(f);
            let text = items.get(f.focus) == Some(&FactorItem::Code);
            let mut cmds = vec![NextField, PrevField, Activate];
            if !text {
                cmds.extend([MoveUp, MoveDown, Toggle]);
                if items.contains(&FactorItem::Resend) {
                    cmds.push(Resend);
                }
                if items.contains(&FactorItem::OtherWay) {
                    cmds.push(OtherWay);
                }
                if demo && f.is_push() {
                    cmds.push(Phone);
                }
            }
            cmds.push(Back);
            (cmds, text)
        }
    }
}

fn wizard_context(w: &Wizard, demo: bool) -> (Vec<Command>, bool) {
    use Command::*;
    let mut text = false;
    let cmds = match &w.step {
        WizardStep::Choose { .. } => vec![MoveUp, MoveDown, Activate, Back],
        WizardStep::GetApp | WizardStep::Handoff(_) | WizardStep::Starting { .. } => {
            vec![Activate, Back]
        }
        WizardStep::Target(t) => {
            text = true;
            let mut c = vec![Activate];
            if is_phone(&t.kind) {
                c.extend([NextField, PrevField]);
            }
            c.push(Back);
            c
        }
        // Most needed first: the key bar drops from the end of this when narrow.
        WizardStep::Scan { .. } => {
            let mut c = vec![Activate];
            if demo && w.kind() == Some(&crate::domain::MethodKind::AuthenticatorPush) {
                c.push(Phone);
            }
            c.extend([Back, ShowText, Invert, Copy]);
            c
        }
        WizardStep::Approve { .. } => {
            let mut c = vec![];
            if demo {
                c.push(Phone);
            }
            c.push(Back);
            c
        }
        WizardStep::Failed { .. } => vec![Activate, Back],
        WizardStep::Code { .. } => vec![Activate, Back],
    };
    (cmds, text)
}
