//! Everything that can happen to the state: keys from the terminal and
//! results of effects coming back. Results carry the id of the request they
//! answer, so a late answer to something abandoned is dropped.

use crate::accounts::KnownAccount;
use crate::app::effects::Effect;
use crate::app::keymap::Command;
use crate::app::state::ReqId;
use crate::backend::{BackendError, BrowserPoll, FactorStarted, SignIn};
use crate::domain::{
    Account, ActivityPage, Capabilities, Device, Enrollment, EnrollmentState, Method,
    RememberedDevice, Session,
};
use crate::protocol::OutboxMessage;
use crossterm::event::KeyEvent;

type R<T> = Result<T, BackendError>;

// Each action is moved once into `update`; their size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Action {
    Key(KeyEvent),
    Cmd(Command),
    /// A character typed into the focused field.
    Char(char),
    Backspace,
    Paste(String),
    /// A click (mouse opt-in) on the `n`th focusable row of what is on show.
    Click(usize),
    /// The mouse wheel (opt-in): moves the focus like the arrow keys.
    Scroll {
        down: bool,
    },
    Tick,
    Resize,
    /// The start's kept sign-in was taken up (`kept`), or there was none.
    Resumed {
        id: ReqId,
        kept: bool,
    },
    /// The kept sign-in of a chosen account: `Ok(None)` when nothing usable is kept.
    Restored {
        id: ReqId,
        result: R<Option<Account>>,
    },
    PasswordChecked {
        id: ReqId,
        result: R<SignIn>,
    },
    FactorStarted {
        id: ReqId,
        result: R<FactorStarted>,
    },
    /// The pause before the next push poll is over.
    Waited {
        id: ReqId,
    },
    /// A code was checked or a push polled.
    FactorAnswered {
        id: ReqId,
        result: R<SignIn>,
    },
    SteppedUp {
        id: ReqId,
        result: R<SignIn>,
    },
    /// One poll of a browser step.
    BrowserPolled {
        id: ReqId,
        result: R<BrowserPoll>,
    },
    Account {
        id: ReqId,
        result: R<Account>,
    },
    Capabilities {
        id: ReqId,
        result: R<Capabilities>,
    },
    Methods {
        id: ReqId,
        result: R<Vec<Method>>,
    },
    Devices {
        id: ReqId,
        result: R<Vec<Device>>,
    },
    Sessions {
        id: ReqId,
        result: R<Vec<Session>>,
    },
    Remembered {
        id: ReqId,
        result: R<Vec<RememberedDevice>>,
    },
    /// A page of recent activity: the newest, or with `older` the one below those shown.
    Activity {
        id: ReqId,
        older: bool,
        result: R<ActivityPage>,
    },
    /// A change finished; `Ok(Some(text))` is what the server said about it (e.g. the new default).
    Changed {
        id: ReqId,
        result: R<Option<String>>,
        /// The server's answer was lost; reading the account again showed the change done.
        answer_lost: bool,
    },
    SignedOut {
        id: ReqId,
        result: R<()>,
    },
    /// Whether the sign-in was kept in the secret store.
    Kept(Result<(), String>),
    AccountsChanged(Vec<KnownAccount>),
    PhoneApproved {
        id: ReqId,
        result: Result<(), String>,
    },
    Outbox {
        id: ReqId,
        result: Result<Vec<OutboxMessage>, String>,
    },
    EnrollmentBegun {
        id: ReqId,
        result: R<Enrollment>,
    },
    EnrollmentChecked {
        id: ReqId,
        result: R<EnrollmentState>,
    },
    AppPasswords {
        id: ReqId,
        result: R<crate::app::state::AppPasswordList>,
    },
    AppPasswordCreated {
        id: ReqId,
        result: R<(crate::domain::AppPassword, crate::secrets::SecretString)>,
    },
    RecoveryLeft {
        id: ReqId,
        result: R<Option<u32>>,
    },
    RecoveryCodes {
        id: ReqId,
        result: R<Vec<crate::secrets::SecretString>>,
    },
    /// The demo's simulated phone scanned the activation payload.
    PhoneActivated {
        id: ReqId,
        result: Result<String, String>,
    },
    /// The server wants a fresh second factor before this request: step up, then send it again.
    StepUpNeeded(Box<Effect>),
}

impl Action {
    /// An answer that says "confirm it is you first".
    pub fn refused_for_step_up(&self) -> bool {
        use BackendError::StepUpRequired as S;
        matches!(
            self,
            Action::Changed { result: Err(S), .. }
                | Action::EnrollmentBegun { result: Err(S), .. }
                | Action::EnrollmentChecked { result: Err(S), .. }
                | Action::AppPasswordCreated { result: Err(S), .. }
                | Action::RecoveryCodes { result: Err(S), .. }
        )
    }
}
