//! Plain data shared by every layer: no I/O, no terminal, no HTTP.
//! The words follow DESIGN.md: a *method* proves it is you, a *device* is an
//! authenticator phone, a *session* is a signed-in client, a *remembered
//! device* is a "Don't ask again for N days" grant bound to one client.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Every kind of sign-in method the portal knows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    AuthenticatorPush,
    Totp,
    HardwareToken,
    Phone,
    AlternatePhone,
    OfficePhone,
    Email,
    SecurityKey,
    Passkey,
    /// Windows Hello for Business (Entra ID).
    WindowsHello,
    /// A platform credential, such as a Mac's Secure Enclave key (Entra ID).
    PlatformCredential,
    /// A Temporary Access Pass, a time-limited passcode an admin issues (Entra ID).
    TemporaryAccessPass,
    Password,
    AppPassword,
    RecoveryCodes,
    /// A provider-specific kind secinfo has no name for (e.g. a privacyIDEA token type).
    Other(String),
}

impl MethodKind {
    /// The portal's name for the kind, as a person reads it.
    pub fn title(&self) -> String {
        match self {
            Self::AuthenticatorPush => "Authenticator app".into(),
            Self::Totp => "Authenticator app (code)".into(),
            Self::HardwareToken => "Hardware token".into(),
            Self::Phone => "Phone".into(),
            Self::AlternatePhone => "Alternate phone".into(),
            Self::OfficePhone => "Office phone".into(),
            Self::Email => "Email".into(),
            Self::SecurityKey => "Security key".into(),
            Self::Passkey => "Passkey".into(),
            Self::WindowsHello => "Windows Hello for Business".into(),
            Self::PlatformCredential => "Platform credential".into(),
            Self::TemporaryAccessPass => "Temporary Access Pass".into(),
            Self::Password => "Password".into(),
            Self::AppPassword => "App password".into(),
            Self::RecoveryCodes => "Recovery codes".into(),
            Self::Other(t) => format!("Other ({t})"),
        }
    }

    /// Whether a method of this kind can ever count as a second factor.
    pub fn is_second_factor(&self) -> bool {
        !matches!(
            self,
            Self::Password | Self::AppPassword | Self::RecoveryCodes | Self::Other(_)
        )
    }

    /// The stable machine name used on the wire and in `--json`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AuthenticatorPush => "authenticator_push",
            Self::Totp => "totp",
            Self::HardwareToken => "hardware_token",
            Self::Phone => "phone",
            Self::AlternatePhone => "alternate_phone",
            Self::OfficePhone => "office_phone",
            Self::Email => "email",
            Self::SecurityKey => "security_key",
            Self::Passkey => "passkey",
            Self::WindowsHello => "windows_hello_for_business",
            Self::PlatformCredential => "platform_credential",
            Self::TemporaryAccessPass => "temporary_access_pass",
            Self::Password => "password",
            Self::AppPassword => "app_password",
            Self::RecoveryCodes => "recovery_codes",
            Self::Other(t) => t,
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "authenticator_push" => Self::AuthenticatorPush,
            "totp" => Self::Totp,
            "hardware_token" => Self::HardwareToken,
            "phone" => Self::Phone,
            "alternate_phone" => Self::AlternatePhone,
            "office_phone" => Self::OfficePhone,
            "email" => Self::Email,
            "security_key" => Self::SecurityKey,
            "passkey" => Self::Passkey,
            "windows_hello_for_business" => Self::WindowsHello,
            "platform_credential" => Self::PlatformCredential,
            "temporary_access_pass" => Self::TemporaryAccessPass,
            "password" => Self::Password,
            "app_password" => Self::AppPassword,
            "recovery_codes" => Self::RecoveryCodes,
            other => Self::Other(other.to_string()),
        }
    }
}

impl fmt::Display for MethodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title())
    }
}

/// One sign-in method on the account.
#[derive(Clone, Debug, PartialEq)]
pub struct Method {
    pub id: String,
    pub kind: MethodKind,
    /// What the portal shows beside the kind: a masked phone, a device name, an address.
    pub detail: String,
    pub created: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
    pub is_default: bool,
    /// Enabled, fully enrolled and accepted as a second factor.
    pub usable_mfa: bool,
    /// The device this method lives on (authenticator push/TOTP on a phone).
    pub device_id: Option<String>,
    /// Provider facts worth showing (serial, rollout state, fail count...).
    pub notes: Vec<(String, String)>,
}

/// An authenticator phone registered to the account.
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    pub id: String,
    pub name: String,
    pub platform: String,
    pub added: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
    /// False once the app on the phone dropped the account ("Remove account").
    pub reachable: bool,
}

/// A signed-in client.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub id: String,
    pub client: String,
    pub ip: String,
    pub signed_in: Option<DateTime<Utc>>,
    pub last_active: Option<DateTime<Utc>>,
    pub current: bool,
}

/// A "Don't ask again for N days" grant bound to one client.
#[derive(Clone, Debug, PartialEq)]
pub struct RememberedDevice {
    pub id: String,
    pub client: String,
    pub created: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    pub current: bool,
}

/// An app password (shown once on creation, then only its metadata).
#[derive(Clone, Debug, PartialEq)]
pub struct AppPassword {
    pub id: String,
    pub name: String,
    pub created: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
}

/// What kind of security event a line of recent activity is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActivityKind {
    SignIn,
    FailedSignIn,
    /// Signing in was paused after too many wrong passwords or codes.
    Lockout,
    /// A second factor proven again before a change.
    StepUp,
    Methods,
    Devices,
    /// Sessions ended, "Don't ask again" revoked, signed out everywhere.
    Sessions,
    Password,
    AppPasswords,
    RecoveryCodes,
    /// A kind this version does not know: shown as the provider named it.
    Other(String),
}

impl ActivityKind {
    /// The machine name on the wire and in `--json`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::SignIn => "sign_in",
            Self::FailedSignIn => "sign_in_failed",
            Self::Lockout => "lockout",
            Self::StepUp => "step_up",
            Self::Methods => "methods",
            Self::Devices => "devices",
            Self::Sessions => "sessions",
            Self::Password => "password",
            Self::AppPasswords => "app_passwords",
            Self::RecoveryCodes => "recovery_codes",
            Self::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "sign_in" => Self::SignIn,
            "sign_in_failed" => Self::FailedSignIn,
            "lockout" => Self::Lockout,
            "step_up" => Self::StepUp,
            "methods" => Self::Methods,
            "devices" => Self::Devices,
            "sessions" => Self::Sessions,
            "password" => Self::Password,
            "app_passwords" => Self::AppPasswords,
            "recovery_codes" => Self::RecoveryCodes,
            other => Self::Other(other.into()),
        }
    }

    /// A short label for a column, as a person reads it.
    pub fn label(&self) -> &str {
        match self {
            Self::SignIn => "Signed in",
            Self::FailedSignIn => "Sign-in failed",
            Self::Lockout => "Locked",
            Self::StepUp => "Confirmed",
            Self::Methods => "Methods",
            Self::Devices => "Devices",
            Self::Sessions => "Sessions",
            Self::Password => "Password",
            Self::AppPasswords => "App passwords",
            Self::RecoveryCodes => "Recovery codes",
            Self::Other(s) => s,
        }
    }

    /// Worth a second look: something failed or was locked.
    pub fn is_warning(&self) -> bool {
        matches!(self, Self::FailedSignIn | Self::Lockout)
    }
}

/// One security event on the account: who, from where, when, and what happened.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityEvent {
    pub at: Option<DateTime<Utc>>,
    pub kind: ActivityKind,
    /// What happened, as a sentence.
    pub what: String,
    /// The app or client it came from, when known.
    pub client: Option<String>,
    pub ip: Option<String>,
    /// For sign-ins: how it was proven (a method, "password only", a remembered device).
    pub factor: Option<String>,
}

/// A page of recent activity, newest first; `next` fetches the older page.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ActivityPage {
    pub events: Vec<ActivityEvent>,
    pub next: Option<String>,
}

/// Who is signed in.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    pub username: String,
    pub display_name: String,
}

/// Something a backend cannot do, and why (shown beside the disabled action).
#[derive(Clone, Debug, PartialEq)]
pub enum Ability {
    Yes,
    No {
        reason: String,
        portal_url: Option<String>,
    },
}

impl Ability {
    pub fn no(reason: impl Into<String>) -> Self {
        Self::No {
            reason: reason.into(),
            portal_url: None,
        }
    }
    pub fn is_yes(&self) -> bool {
        matches!(self, Self::Yes)
    }
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Yes => None,
            Self::No { reason, .. } => Some(reason),
        }
    }
}

/// What a backend can do for this user. The UI is driven by this alone:
/// no provider name is ever tested in UI code.
#[derive(Clone, Debug, PartialEq)]
pub struct Capabilities {
    pub list_methods: Ability,
    /// Kinds that can be enrolled, with the reason for each kind that cannot.
    pub enroll: Vec<(MethodKind, Ability)>,
    pub delete_methods: Ability,
    pub set_default: Ability,
    pub devices: Ability,
    pub sessions: Ability,
    pub remembered_devices: Ability,
    pub sign_out_everywhere: Ability,
    pub app_passwords: Ability,
    /// Rename a method (its description) or a device.
    pub rename: Ability,
    /// Change a phone method's number or an email method's address (re-verified).
    pub change_contact: Ability,
    pub change_password: Ability,
    pub recovery_codes: Ability,
    /// Recent activity: sign-ins, failed ones and changes.
    pub activity: Ability,
    /// Whether the default is one method or a kind of method (Graph's "preferred method").
    pub default_scope: DefaultScope,
    /// What the provider adds about signing out everywhere, said before it is
    /// confirmed ("it can take a few minutes to reach every app").
    pub sign_out_everywhere_note: Option<String>,
}

/// What "the default sign-in method" names on this backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DefaultScope {
    /// One method, chosen among the usable ones (the portal's list).
    #[default]
    PerMethod,
    /// A kind of method ("Authenticator app notification", "Text message"): the
    /// provider picks which method of that kind.
    PerKind,
}

impl Capabilities {
    pub fn can_enroll(&self, kind: &MethodKind) -> bool {
        self.enroll.iter().any(|(k, a)| k == kind && a.is_yes())
    }
}

/// A second factor offered during sign-in.
#[derive(Clone, Debug, PartialEq)]
pub struct FactorOption {
    pub method_id: String,
    pub kind: MethodKind,
    pub label: String,
}

/// A method being added: what the user needs to see to finish it.
#[derive(Clone, Debug, PartialEq)]
pub struct Enrollment {
    pub id: String,
    pub kind: MethodKind,
    /// What to draw as a QR code: an otpauth:// URI or an activation payload.
    pub qr_payload: Option<crate::secrets::SecretString>,
    /// The TOTP secret in base32, for "Can't scan the image?".
    pub secret: Option<crate::secrets::SecretString>,
    /// For authenticator activation by hand: the code and URL to type.
    pub manual: Vec<(String, String)>,
    /// Where a verification code went (masked).
    pub sent_to: Option<String>,
    pub expires_in: Option<u64>,
    /// Set when the provider created the method at once (some add a phone or
    /// an email without a code): nothing is left to do but say so.
    pub finished: Option<Method>,
}

/// Where an enrollment stands after a verify or poll.
#[derive(Clone, Debug, PartialEq)]
pub enum EnrollmentState {
    /// The phone activated; approve the test notification showing `number`.
    AwaitingApproval { number: Option<u32> },
    /// Still waiting on the phone.
    Pending,
    /// Saved: the new method.
    Done(Method),
}

/// Mask all but the last `keep` characters of a phone number or address part.
pub fn mask_phone(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(|c| c.is_ascii_digit()).collect();
    let keep = 2.min(digits.len());
    let tail: String = digits[digits.len() - keep..].iter().collect();
    let prefix = if number.starts_with('+') {
        let cc: String = number
            .chars()
            .skip(1)
            .take_while(|c| c.is_ascii_digit())
            .take(1)
            .collect();
        format!("+{cc} ")
    } else {
        String::new()
    };
    format!(
        "{prefix}{}{tail}",
        "X".repeat(
            digits
                .len()
                .saturating_sub(keep + prefix.len().saturating_sub(2))
        )
    )
}

/// Mask an email address the way the portal does: `a****@contoso.test`.
pub fn mask_email(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!(
                "{first}{}@{domain}",
                "*".repeat(local.chars().count().saturating_sub(1).max(1))
            )
        }
        None => address.to_string(),
    }
}

/// What the user types to override the last-method guard for a method.
pub fn confirm_name(m: &Method) -> String {
    if m.detail.is_empty() {
        m.kind.title()
    } else {
        m.detail.clone()
    }
}

/// The portal's name for a method: "Phone +1 XXXXXXXX23".
pub fn method_name(m: &Method) -> String {
    if m.detail.is_empty() {
        m.kind.title()
    } else {
        format!("{} {}", m.kind.title(), m.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_machine_names() {
        for k in [
            MethodKind::AuthenticatorPush,
            MethodKind::Totp,
            MethodKind::Email,
            MethodKind::Other("spass".into()),
        ] {
            assert_eq!(MethodKind::parse(k.as_str()), k);
        }
    }

    #[test]
    fn activity_kinds_round_trip_through_their_machine_names() {
        for k in [
            ActivityKind::SignIn,
            ActivityKind::FailedSignIn,
            ActivityKind::RecoveryCodes,
            ActivityKind::Other("token_synced".into()),
        ] {
            assert_eq!(ActivityKind::parse(k.as_str()), k);
        }
    }

    #[test]
    fn passwords_never_count_as_second_factors() {
        assert!(!MethodKind::Password.is_second_factor());
        assert!(!MethodKind::AppPassword.is_second_factor());
        assert!(MethodKind::Totp.is_second_factor());
    }

    #[test]
    fn email_is_masked_but_domain_kept() {
        assert_eq!(mask_email("alice@contoso.test"), "a****@contoso.test");
    }

    #[test]
    fn phone_keeps_only_last_two_digits() {
        let m = mask_phone("+14255550123");
        assert!(m.ends_with("23"), "{m}");
        assert!(!m.contains("555"), "{m}");
    }
}
