//! "Add sign-in method": the wizard's steps. The pending enrollment is kept
//! here so leaving the wizard at any step can cancel it on the server.

use crate::app::state::ReqId;
use crate::domain::{Ability, Capabilities, Enrollment, MethodKind};
use crate::qr::{QrCode, short_otpauth};
use crate::secrets::SecretString;
use crate::validate;

/// Kinds the wizard offers, in the portal's order (app passwords have their own screen).
pub const WIZARD_KINDS: [MethodKind; 8] = [
    MethodKind::AuthenticatorPush,
    MethodKind::Totp,
    MethodKind::Phone,
    MethodKind::AlternatePhone,
    MethodKind::OfficePhone,
    MethodKind::Email,
    MethodKind::SecurityKey,
    MethodKind::Passkey,
];

/// One line of "Which method would you like to add?".
#[derive(Clone, Debug, PartialEq)]
pub struct KindChoice {
    pub kind: MethodKind,
    pub ability: Ability,
}

/// The choices the capabilities allow, the unavailable ones kept (shown disabled with the reason).
pub fn kind_choices(caps: &Capabilities) -> Vec<KindChoice> {
    WIZARD_KINDS
        .iter()
        .filter_map(|k| {
            caps.enroll
                .iter()
                .find(|(kk, _)| kk == k)
                .map(|(_, a)| KindChoice {
                    kind: k.clone(),
                    ability: a.clone(),
                })
        })
        .collect()
}

pub fn is_phone(kind: &MethodKind) -> bool {
    matches!(
        kind,
        MethodKind::Phone | MethodKind::AlternatePhone | MethodKind::OfficePhone
    )
}

#[derive(Clone, Debug, PartialEq)]
pub struct Wizard {
    /// First sign-in without any second factor: "Let's keep your account secure".
    pub first_run: bool,
    pub step: WizardStep,
    /// Begun on the server and not finished: cancelled when the wizard is left.
    pub enrollment: Option<Enrollment>,
    /// The enrollment's QR code, encoded once when it arrives (not on every frame).
    pub qr: Option<QrCode>,
    /// The backend call in flight (begin, verify or poll).
    pub pending: Option<ReqId>,
    pub error: Option<String>,
    /// Draw the QR code's negative (terminals that swap colors).
    pub inverted: bool,
    /// "Can't scan the image?": the secret and URI as text.
    pub show_text: bool,
    /// The demo's simulated phone activating or approving.
    pub phone_busy: Option<ReqId>,
    pub phone_said: Option<Result<String, String>>,
    /// Changing this method's number or address instead of adding a method.
    pub replaces: Option<String>,
    /// Wrong codes and polls so far: both are limited (`journeys::rules`).
    pub wrong_codes: u32,
    pub polls: u32,
}

impl Wizard {
    pub fn new(first_run: bool) -> Self {
        Self {
            first_run,
            step: WizardStep::Choose { focus: 0 },
            enrollment: None,
            qr: None,
            pending: None,
            error: None,
            inverted: false,
            show_text: false,
            phone_busy: None,
            phone_said: None,
            replaces: None,
            wrong_codes: 0,
            polls: 0,
        }
    }

    /// Keep the enrollment the server began, with its QR code encoded once:
    /// the short form of an otpauth URI, or the push activation payload.
    pub fn set_enrollment(&mut self, enrollment: Enrollment) {
        self.qr = enrollment
            .qr_payload
            .as_ref()
            .and_then(|payload| QrCode::new(&short_otpauth(payload.expose())).ok());
        self.enrollment = Some(enrollment);
        self.wrong_codes = 0;
        self.polls = 0;
    }

    pub fn kind(&self) -> Option<&MethodKind> {
        match &self.step {
            WizardStep::Choose { .. } => None,
            WizardStep::GetApp => Some(&MethodKind::AuthenticatorPush),
            WizardStep::Handoff(k) | WizardStep::Starting { kind: k, .. } => Some(k),
            WizardStep::Target(t) => Some(&t.kind),
            _ => self.enrollment.as_ref().map(|e| &e.kind),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum WizardStep {
    /// "Which method would you like to add?"
    Choose { focus: usize },
    /// Authenticator app: "Start by getting the app".
    GetApp,
    /// Security key / passkey: needs a browser.
    Handoff(MethodKind),
    /// Phone number or email address to send a code to.
    Target(TargetForm),
    /// Asking the server to begin; the form comes back on an error, nothing typed lost.
    Starting {
        kind: MethodKind,
        form: Option<TargetForm>,
    },
    /// The activation QR (push) or the otpauth QR with the code field (TOTP).
    Scan { code: SecretString },
    /// Push: the phone activated; approve the test notification.
    Approve { number: Option<u32> },
    /// Push: the test notification was denied or timed out.
    Failed { message: String },
    /// Phone / email: enter the code that was sent.
    Code { code: SecretString },
}

#[derive(Clone, Debug, PartialEq)]
pub struct TargetForm {
    pub kind: MethodKind,
    /// Country calling code digits (phones only), e.g. "1" or "44".
    pub country: String,
    pub input: String,
    /// Phones: 0 country, 1 number. Email: always 1.
    pub focus: usize,
}

impl TargetForm {
    pub fn new(kind: MethodKind) -> Self {
        let phone = is_phone(&kind);
        Self {
            kind,
            country: if phone { "1".into() } else { String::new() },
            input: String::new(),
            focus: 1,
        }
    }

    /// The E.164 number or the address, or why it is not one.
    pub fn target(&self) -> Result<String, String> {
        if is_phone(&self.kind) {
            e164(&self.country, &self.input)
        } else {
            email(&self.input)
        }
    }
}

/// The E.164 number from the form's two fields, or what to fix in the
/// wizard's words. The rule is `crate::validate::phone`; the form adds one of
/// its own: the country code goes in Country, not in the number.
pub fn e164(country: &str, number: &str) -> Result<String, String> {
    let Ok(cc) = validate::country_code(country) else {
        return Err("The country code is 1 to 3 digits, such as 1 (US) or 44 (UK).".into());
    };
    if number.trim().starts_with('+') {
        return Err("Enter the number without the country code; that goes in Country.".into());
    }
    validate::phone(number, Some(&cc)).map_err(|_| {
        format!(
            "That is not a phone number: enter digits only, {} to {} of them after the country code.",
            8usize.saturating_sub(cc.len()).max(1),
            15 - cc.len()
        )
    })
}

/// The address, trimmed, if it is one (`crate::validate::email`).
pub fn email(input: &str) -> Result<String, String> {
    validate::email(input)
        .map_err(|_| "That is not an email address: it looks like name@example.com.".to_string())
}
