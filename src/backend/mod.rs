//! The `Backend` trait every identity provider adapter implements, and the
//! one error type of this layer. Adapters: `native` (our reference server),
//! `privacyidea`, `graph` (Microsoft Entra, on the generic `oauth` client).
//! All of them talk HTTP through `http::HttpClient`.

pub mod first_connection;
pub mod graph;
pub mod http;
pub mod native;
pub mod oauth;
pub mod privacyidea;
pub mod token_cell;

use crate::domain::{
    Account, ActivityPage, AppPassword, Capabilities, Device, FactorOption, Method,
    RememberedDevice, Session,
};
use crate::domain::{Enrollment, EnrollmentState, MethodKind};
use crate::secrets::SecretString;
use async_trait::async_trait;
use std::time::Duration;

/// Errors a backend reports, each a sentence a person can act on.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum BackendError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the server did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection was reset or closed after the request went out, before an answer.
    #[error("the connection to {url} was reset before the server answered")]
    ConnectionLost { url: String },
    #[error("your sign-in has ended; sign in again")]
    SignInRequired,
    #[error("wrong username or password")]
    InvalidCredentials,
    /// The provider said no; `reason` is what the journeys act on, `message` is said to the user.
    #[error("{message}")]
    Rejected { reason: Refusal, message: String },
    #[error("too many attempts; try again in {retry_after} s")]
    Throttled { retry_after: u64 },
    #[error("confirm it is you: this change needs a fresh second factor")]
    StepUpRequired,
    #[error("{0}")]
    NotSupported(String),
    #[error("the server answered {status}: {message}")]
    Server { status: u16, message: String },
    #[error("the server sent something secinfo cannot read: {0}")]
    Malformed(String),
    #[error("refused: {0}")]
    Insecure(String),
    /// A change whose answer was lost, and reading the account again did not
    /// show it done (`journeys::outcome`): the message says what is known.
    #[error("{message}")]
    Unconfirmed { message: String },
}

impl BackendError {
    /// The machine code for `--json` errors and tests.
    pub fn code(&self) -> &str {
        match self {
            Self::Unreachable { .. } => "unreachable",
            Self::Timeout(_) => "timeout",
            Self::ConnectionLost { .. } => "connection_lost",
            Self::SignInRequired => "sign_in_required",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Rejected { reason, .. } => reason.code(),
            Self::Throttled { .. } => "throttled",
            Self::StepUpRequired => "step_up_required",
            Self::NotSupported(_) => "not_supported",
            Self::Server { .. } => "server_error",
            Self::Malformed(_) => "malformed_response",
            Self::Insecure(_) => "insecure",
            Self::Unconfirmed { .. } => "unconfirmed",
        }
    }
}

impl BackendError {
    pub fn rejected(reason: Refusal, message: impl Into<String>) -> Self {
        Self::Rejected {
            reason,
            message: message.into(),
        }
    }

    /// The request went out but no answer came (a timeout, a broken
    /// connection): it may have been carried out. Never resend it blindly.
    pub fn answer_lost(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::ConnectionLost { .. })
    }

    /// Why the provider refused, when it did.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Rejected { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// Why a provider refused a request, as far as the journeys tell reasons
/// apart. Adapters map their provider's codes to it, so no front end ever
/// compares a provider's strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Removing the last usable second factor needs the explicit override.
    LastMethod,
    /// A wrong code (or one that has expired).
    InvalidCode,
    /// A code that was already used once.
    CodeReused,
    /// The challenge, enrollment or code has expired: start again.
    Expired,
    /// The user denied the push on the phone.
    PushDenied,
    /// The number typed on the phone was not the one shown.
    WrongNumber,
    /// The push cannot reach its device (the app dropped the account).
    PushUnavailable,
    /// What the request names is not there (removed elsewhere, say).
    NotFound,
    /// The provider wants consent or a step only its own portal can do.
    ConsentRequired { portal_url: Option<String> },
    /// Anything else; `code` is the provider's own machine code, for `--json`.
    Other { code: String },
}

impl Refusal {
    /// The machine code in `--json` errors: stable across providers.
    pub fn code(&self) -> &str {
        use crate::protocol::codes as c;
        match self {
            Self::LastMethod => c::LAST_METHOD,
            Self::InvalidCode => c::INVALID_CODE,
            Self::CodeReused => c::CODE_REUSED,
            Self::Expired => c::CHALLENGE_EXPIRED,
            Self::PushDenied => c::PUSH_DENIED,
            Self::WrongNumber => c::WRONG_NUMBER,
            Self::PushUnavailable => c::PUSH_UNAVAILABLE,
            Self::NotFound => c::NOT_FOUND,
            Self::ConsentRequired { .. } => "consent_required",
            Self::Other { code } => code,
        }
    }

    /// The reason behind one of the native protocol's error codes.
    pub fn from_native(code: &str) -> Self {
        use crate::protocol::codes as c;
        match code {
            c::LAST_METHOD => Self::LastMethod,
            c::INVALID_CODE => Self::InvalidCode,
            c::CODE_REUSED => Self::CodeReused,
            c::CHALLENGE_EXPIRED => Self::Expired,
            c::PUSH_DENIED => Self::PushDenied,
            c::WRONG_NUMBER => Self::WrongNumber,
            c::PUSH_UNAVAILABLE => Self::PushUnavailable,
            c::NOT_FOUND => Self::NotFound,
            other => Self::Other { code: other.into() },
        }
    }

    /// A code the user can simply type again (the journeys count these).
    pub fn is_wrong_code(&self) -> bool {
        matches!(self, Self::InvalidCode | Self::CodeReused)
    }

    pub fn other(code: &str) -> Self {
        Self::Other { code: code.into() }
    }
}

fn not_yet(what: &str) -> BackendError {
    BackendError::NotSupported(format!("{what} is not available with this backend yet"))
}

pub type Result<T> = std::result::Result<T, BackendError>;

/// Where a sign-in stands after a step.
#[derive(Debug, Clone, PartialEq)]
pub enum SignIn {
    /// Signed in. `mfa_setup_required`: the account has no usable MFA method yet.
    Done { mfa_setup_required: bool },
    /// Choose a second factor and answer the challenge.
    SecondFactor(Challenge),
    /// A push is waiting on the phone: poll again.
    Pending,
    /// Finish in a browser (OAuth device authorization, RFC 8628): open the
    /// URL on any device and enter the code; meanwhile `poll_browser`.
    Browser(BrowserStep),
}

/// "Open this page and enter this code", and how to wait for it.
#[derive(Debug, Clone, PartialEq)]
pub struct BrowserStep {
    pub verification_uri: String,
    /// The same page with the code filled in, for a QR code.
    pub verification_uri_complete: Option<String>,
    pub user_code: String,
    /// How often the provider lets us ask whether it is done.
    pub interval: Duration,
    pub expires_in: Duration,
    /// The provider's handle to poll with (a device code): a secret, never shown.
    pub handle: SecretString,
}

/// The answer to one poll of a browser step.
#[derive(Debug, Clone, PartialEq)]
pub enum BrowserPoll {
    /// Not finished in the browser yet.
    Pending,
    /// Asking too often: wait longer between polls from now on.
    SlowDown,
    Finished(SignIn),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Challenge {
    pub id: String,
    pub options: Vec<FactorOption>,
    pub default_method_id: Option<String>,
    pub remember_days: u32,
    pub expires_in: u64,
}

/// What starting a factor produced: a number to match on the phone, or where a code went.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FactorStarted {
    pub number: Option<u32>,
    pub sent_to: Option<String>,
    /// For a push: how long it waits for an answer (s), where the provider says.
    pub expires_in: Option<u64>,
}

/// General facts about the server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    pub name: String,
    pub version: String,
    pub remember_days: u32,
}

/// What survives between runs for one account: kept in the secret store.
#[derive(
    Clone,
    Default,
    PartialEq,
    serde::Serialize,
    serde::Deserialize,
    zeroize::Zeroize,
    zeroize::ZeroizeOnDrop,
)]
pub struct Credentials {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub remembered_grant: Option<String>,
    /// Unix time the access token expires.
    pub access_expires_at: Option<i64>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "remembered_grant",
                &self.remembered_grant.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

pub type CredentialsHook = std::sync::Arc<dyn Fn(&Credentials) + Send + Sync>;

/// An identity provider, as secinfo needs it. Adapters keep their own
/// signed-in state (tokens) inside; `credentials()`/`restore()` move it to and
/// from the secret store.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Server name, version and settings; needs no sign-in.
    async fn server_info(&self) -> Result<ServerInfo>;
    /// What this user may do here. May need a sign-in (privacyIDEA reads policies).
    async fn capabilities(&self) -> Result<Capabilities>;

    /// True where sign-in happens in a browser (OAuth device authorization):
    /// no username or password is asked here, `sign_in` answers with a
    /// browser step, and who signed in is known from `account()` after it.
    fn signs_in_with_browser(&self) -> bool {
        false
    }
    async fn sign_in(&self, username: &str, password: &SecretString) -> Result<SignIn>;
    async fn start_factor(&self, challenge: &Challenge, method_id: &str) -> Result<FactorStarted>;
    /// Answer with a code, or poll a push with `None`.
    async fn answer_factor(
        &self,
        challenge: &Challenge,
        method_id: &str,
        code: Option<&SecretString>,
        remember: bool,
    ) -> Result<SignIn>;
    /// Ask for a fresh second factor before a security-info change. May answer
    /// with a challenge, or with a browser step (a provider's claims challenge).
    async fn step_up(&self) -> Result<SignIn>;
    /// Ask once whether a browser step has been finished.
    async fn poll_browser(&self, _step: &BrowserStep) -> Result<BrowserPoll> {
        Err(not_yet("finishing a sign-in in a browser"))
    }
    async fn sign_out(&self) -> Result<()>;

    async fn account(&self) -> Result<Account>;
    async fn methods(&self) -> Result<Vec<Method>>;
    /// `confirm`: the method's name, typed, to override the last-method guard.
    async fn delete_method(&self, id: &str, confirm: Option<&str>) -> Result<Option<String>>;
    async fn set_default_method(&self, id: &str) -> Result<()>;
    /// Where the default is a kind of method (`DefaultScope::PerKind`): make `kind` the default.
    async fn set_default_kind(&self, _kind: &MethodKind) -> Result<()> {
        Err(not_yet("choosing the default by kind"))
    }
    async fn devices(&self) -> Result<Vec<Device>>;
    async fn delete_device(&self, id: &str, confirm: Option<&str>) -> Result<()>;
    async fn sessions(&self) -> Result<Vec<Session>>;
    async fn revoke_session(&self, id: &str) -> Result<()>;
    async fn remembered_devices(&self) -> Result<Vec<RememberedDevice>>;
    async fn forget_device(&self, id: &str) -> Result<()>;
    async fn sign_out_everywhere(&self) -> Result<()>;
    /// Recent security events on the account, newest first, a page at a
    /// time; `before` is the `next` of the page before. `NotSupported`, with
    /// where else to look, where the provider shows a user none.
    async fn activity(&self, _before: Option<&str>) -> Result<ActivityPage> {
        Err(not_yet("recent activity"))
    }
    async fn app_passwords(&self) -> Result<Vec<AppPassword>> {
        Err(not_yet("app passwords"))
    }
    /// The services an app password can be for (`(id, description)`); empty when
    /// the backend has no such notion.
    async fn app_password_services(&self) -> Result<Vec<(String, String)>> {
        Ok(Vec::new())
    }
    /// Returns the new password, shown once. `service`: a provider's service id, if it has them.
    async fn create_app_password(
        &self,
        _name: &str,
        _service: Option<&str>,
    ) -> Result<(AppPassword, SecretString)> {
        Err(not_yet("creating app passwords"))
    }
    async fn delete_app_password(&self, _id: &str) -> Result<()> {
        Err(not_yet("deleting app passwords"))
    }
    /// Start adding a method of `kind`; `target` is the phone number or address where one is needed.
    async fn begin_enrollment(
        &self,
        _kind: &MethodKind,
        _target: Option<&str>,
    ) -> Result<Enrollment> {
        Err(not_yet("adding sign-in methods"))
    }
    /// Check an enrollment: with a code (TOTP, SMS, email) or by polling (push).
    async fn verify_enrollment(
        &self,
        _enrollment: &Enrollment,
        _code: Option<&SecretString>,
    ) -> Result<EnrollmentState> {
        Err(not_yet("adding sign-in methods"))
    }
    async fn cancel_enrollment(&self, _enrollment: &Enrollment) -> Result<()> {
        Ok(())
    }
    async fn rename_method(&self, _id: &str, _name: &str) -> Result<()> {
        Err(not_yet("renaming methods"))
    }
    async fn set_method_enabled(&self, _id: &str, _enabled: bool) -> Result<()> {
        Err(not_yet("disabling methods"))
    }
    async fn rename_device(&self, _id: &str, _name: &str) -> Result<()> {
        Err(not_yet("renaming devices"))
    }
    /// Change a phone method's number: a new code is sent there and must be verified
    /// (`verify_enrollment`) before the number changes.
    async fn begin_phone_change(&self, _method_id: &str, _number: &str) -> Result<Enrollment> {
        Err(not_yet("changing phone numbers"))
    }
    async fn change_password(&self, _current: &SecretString, _new: &SecretString) -> Result<()> {
        Err(not_yet("changing the password"))
    }
    /// How many unused recovery codes remain; `None` when none were ever generated.
    async fn recovery_codes_left(&self) -> Result<Option<u32>> {
        Err(not_yet("recovery codes"))
    }
    /// A new set of recovery codes (shown once); the old set stops working.
    async fn generate_recovery_codes(&self) -> Result<Vec<SecretString>> {
        Err(not_yet("recovery codes"))
    }

    /// Called whenever the adapter's credentials change on its own (a
    /// refresh-token rotation), so the new ones reach the secret store.
    fn watch_credentials(&self, _hook: CredentialsHook) {}

    /// The signed-in state to keep in the secret store.
    fn credentials(&self) -> Credentials;
    fn restore(&self, credentials: Credentials);
}
