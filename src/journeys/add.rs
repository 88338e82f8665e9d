//! "Add sign-in method", every kind, and changing a phone number or address
//! (verified like a new method): start it (stepping up when the server wants
//! a fresh second factor), show what to scan or where the code went, then
//! codes until one is right, or the new app's activation and test
//! notification. The rules: `WRONG_CODES` wrong codes, polls paced by
//! `PUSH_POLL_EVERY` for as long as the enrollment lives, and anything that
//! ends the journey before the method is saved cancels the enrollment on the
//! server, so nothing is left half-added.

use super::asker::{Asker, Setup};
use super::rules::{self, Approval};
use super::step_up;
use crate::backend::{Backend, BackendError, Refusal};
use crate::domain::{Ability, Capabilities, Enrollment, EnrollmentState, Method, MethodKind};
use crate::present::{self, grouped};
use crate::qr::short_otpauth;
use crate::secrets::SecretString;
use std::time::Instant;

/// What to add.
#[derive(Clone, Copy, Debug)]
pub enum Adding<'a> {
    /// A new method; `target` is the phone number (E.164) or address, for
    /// those kinds; `name` names a new authenticator app ("Work phone").
    Method {
        kind: &'a MethodKind,
        target: Option<&'a str>,
        name: Option<&'a str>,
    },
    /// A new number or address for an existing phone or email method: the
    /// old one stays until the new one is verified.
    Contact { method_id: &'a str, target: &'a str },
}

/// Why `kind` cannot be added with this provider, in one sentence; `None` when it can.
pub fn unavailable(caps: &Capabilities, kind: &MethodKind) -> Option<String> {
    if caps.can_enroll(kind) {
        return None;
    }
    let why = match caps.enroll.iter().find(|(k, _)| k == kind) {
        Some((_, Ability::No { reason, portal_url })) => {
            present::unavailable(reason, portal_url.as_deref(), "add it")
        }
        _ => "this provider cannot add it".into(),
    };
    Some(format!("{} cannot be added here: {why}", kind.title()))
}

/// A method saved by the journey.
#[derive(Debug)]
pub struct Added {
    pub method: Method,
    /// A new number or address replaced the old one.
    pub replaced: bool,
}

impl Added {
    /// The one sentence every front end says after.
    pub fn message(&self) -> String {
        let name = crate::domain::method_name(&self.method);
        if self.replaced {
            rules::changed(&name)
        } else if self.method.is_default {
            format!("{} It is your default sign-in method.", rules::added(&name))
        } else {
            rules::added(&name)
        }
    }
}

/// Runs the journey. `Ok(Some(_))`: saved (the front end says `message()`).
/// `Ok(None)`: the user cancelled. On an error the journey has said that
/// nothing was added; the front end says why.
pub async fn add<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    adding: Adding<'_>,
) -> Result<Option<Added>, A::Error> {
    let begin = || async move {
        match adding {
            Adding::Method { kind, target, .. } => backend.begin_enrollment(kind, target).await,
            Adding::Contact { method_id, target } => {
                backend.begin_phone_change(method_id, target).await
            }
        }
    };
    let enrollment = match step_up::guarded(backend, ask, begin).await? {
        Ok(Some(e)) => e,
        Ok(None) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let outcome = match &enrollment.finished {
        Some(method) => Ok(Some(method.clone())),
        None => finish(backend, ask, &enrollment).await,
    };
    match outcome {
        Ok(Some(mut method)) => {
            if let Adding::Method {
                name: Some(name), ..
            } = adding
            {
                name_it(backend, ask, &mut method, name).await?;
            }
            Ok(Some(Added {
                method,
                replaced: matches!(adding, Adding::Contact { .. }),
            }))
        }
        Ok(None) => {
            cancel(backend, &enrollment).await;
            Ok(None)
        }
        Err(e) => {
            cancel(backend, &enrollment).await;
            ask.say(rules::NOTHING_ADDED)?;
            Err(e)
        }
    }
}

/// Names the saved method as the user asked; where the provider names it
/// itself, says so and keeps its name (the method is saved either way).
async fn name_it<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    method: &mut Method,
    name: &str,
) -> Result<(), A::Error> {
    let name = name.trim();
    if name.is_empty() || name == method.detail {
        return Ok(());
    }
    match step_up::guarded(backend, ask, || backend.rename_method(&method.id, name)).await? {
        Ok(Some(())) => method.detail = name.to_string(),
        Ok(None) => {}
        Err(e) => ask.say(&format!("It keeps the name {}: {e}.", method.detail))?,
    }
    Ok(())
}

/// Cancels a begun enrollment; a failure is only logged (it expires anyway).
async fn cancel(backend: &dyn Backend, enrollment: &Enrollment) {
    if let Err(e) = backend.cancel_enrollment(enrollment).await {
        tracing::warn!(code = e.code(), "cancelling the enrollment failed");
    }
}

async fn finish<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    enrollment: &Enrollment,
) -> Result<Option<Method>, A::Error> {
    match enrollment.kind {
        MethodKind::Totp => {
            ask.setup(&app_setup(enrollment))?;
            read_codes(backend, ask, enrollment).await
        }
        MethodKind::AuthenticatorPush => {
            ask.setup(&authenticator_setup(enrollment))?;
            wait_for_app(backend, ask, enrollment).await
        }
        _ => {
            match &enrollment.sent_to {
                Some(to) => ask.say(&format!("We sent a code to {to}."))?,
                None => ask.say("We sent a code.")?,
            }
            read_codes(backend, ask, enrollment).await
        }
    }
}

/// An authenticator app that shows codes: its QR code, secret and URI.
fn app_setup(e: &Enrollment) -> Setup {
    let mut text = Vec::new();
    if let Some(secret) = &e.secret {
        text.push(("Secret key".to_string(), grouped(secret.expose())));
    }
    Setup {
        scan: "Scan this QR code with your authenticator app:",
        by_hand: "In your authenticator app, choose to enter a setup key, and type this:",
        qr: e.qr_payload.as_ref().map(|u| short_otpauth(u.expose())),
        text,
        link: e
            .qr_payload
            .as_ref()
            .map(|uri| ("URI".to_string(), uri.expose().to_string())),
        code_follows: true,
        note: e.expires_in.map(rules::expires_in),
    }
}

/// The authenticator app with notifications: its activation QR code and details.
fn authenticator_setup(e: &Enrollment) -> Setup {
    Setup {
        scan: "In your authenticator app, add an account and scan this QR code:",
        by_hand: "In your authenticator app, add an account and enter these details:",
        qr: e.qr_payload.as_ref().map(|p| p.expose().to_string()),
        text: e.manual.clone(),
        link: e
            .qr_payload
            .as_ref()
            .map(|p| ("Activation link".to_string(), p.expose().to_string())),
        code_follows: false,
        note: None,
    }
}

/// The digits of a code, or what is wrong with it (checked before it is sent).
pub fn checked_code(code: &SecretString) -> Result<SecretString, String> {
    let digits: String = code
        .expose()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 10 {
        Err("Enter the code's digits only.".into())
    } else {
        Ok(SecretString::new(digits))
    }
}

/// Codes until one is right; a wrong one keeps the enrollment (and the QR code) as it is.
async fn read_codes<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    enrollment: &Enrollment,
) -> Result<Option<Method>, A::Error> {
    let mut wrong = 0;
    loop {
        let Some(typed) = ask.code(rules::ENROLL_CODE_PROMPT)? else {
            return Ok(None);
        };
        let code = match checked_code(&typed) {
            Ok(c) if c.expose().is_empty() => return Ok(None),
            Ok(c) => c,
            Err(why) => {
                ask.say(&why)?;
                continue;
            }
        };
        match backend.verify_enrollment(enrollment, Some(&code)).await {
            Ok(EnrollmentState::Done(m)) => return Ok(Some(m)),
            Ok(_) => ask.say("The server has not accepted it yet; enter the code again.")?,
            Err(BackendError::Rejected { reason, message }) if reason.is_wrong_code() => {
                wrong += 1;
                if wrong >= rules::WRONG_CODES {
                    return Err(BackendError::Rejected { reason, message }.into());
                }
                let mut said = rules::try_again(&message);
                if enrollment.kind == MethodKind::Totp {
                    said = format!("{said} {}", rules::QR_STILL_WORKS);
                }
                ask.say(&said)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The new app's activation, then its test notification, polled.
async fn wait_for_app<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    enrollment: &Enrollment,
) -> Result<Option<Method>, A::Error> {
    let phone = ask.simulated_phone();
    if let (Some(phone), Some(payload)) = (&phone, &enrollment.qr_payload)
        && ask.yes("Activate the demo's simulated phone with it?")?
    {
        match phone.activate(payload.expose()).await {
            Ok(said) => ask.say(&said)?,
            Err(why) => ask.say(&format!("The simulated phone could not: {why}"))?,
        }
    }
    ask.say("Waiting for the app to be activated...")?;
    let waiting_since = Instant::now();
    // The server says "expired" for the enrollment and for its test notification
    // alike: while the enrollment itself is young, it was the notification.
    let enrollment_expired = || {
        enrollment
            .expires_in
            .is_some_and(|secs| waiting_since.elapsed().as_secs() >= secs)
    };
    let mut shown = None;
    for _ in 0..rules::enrollment_polls(enrollment.expires_in) {
        if ask.interrupted() {
            return Ok(None);
        }
        match backend.verify_enrollment(enrollment, None).await {
            Ok(EnrollmentState::Done(m)) => {
                if shown.is_some() {
                    ask.say(&rules::approval(Approval::Approved))?;
                }
                return Ok(Some(m));
            }
            Ok(EnrollmentState::Pending) => {}
            Ok(EnrollmentState::AwaitingApproval { number }) if shown != Some(number) => {
                shown = Some(number);
                ask.say(rules::TEST_NOTIFICATION)?;
                if let Some(n) = number {
                    ask.say(&rules::number_to_match(n))?;
                }
                if let (Some(phone), Some(n)) = (&phone, number) {
                    let me = backend.account().await.ok().map(|a| a.username);
                    super::asker::approve_on(&**phone, ask, me.as_deref(), n).await?;
                }
                ask.say(rules::WAITING_FOR_APPROVAL)?;
            }
            Ok(EnrollmentState::AwaitingApproval { .. }) => {}
            Err(BackendError::Rejected { reason, message }) => {
                let outcome = match reason {
                    Refusal::PushDenied | Refusal::WrongNumber => Some(Approval::Denied),
                    Refusal::Expired => Some(Approval::TimedOut),
                    _ => None,
                };
                if let (Some(outcome), Some(_)) = (outcome, shown) {
                    ask.say(&rules::approval(outcome))?;
                }
                let why = match reason {
                    Refusal::PushDenied => "the test notification was denied on the phone",
                    Refusal::WrongNumber => "the number entered on the phone did not match",
                    Refusal::Expired if shown.is_some() || !enrollment_expired() => {
                        rules::TEST_UNANSWERED
                    }
                    _ => return Err(BackendError::Rejected { reason, message }.into()),
                };
                return Err(BackendError::rejected(reason, why).into());
            }
            Err(e) => return Err(e.into()),
        }
        if ask.interrupted() {
            return Ok(None);
        }
        tokio::time::sleep(rules::PUSH_POLL_EVERY).await;
    }
    if shown.is_some() {
        ask.say(&rules::approval(Approval::TimedOut))?;
    }
    Err(BackendError::rejected(Refusal::Expired, rules::TEST_UNANSWERED).into())
}

#[cfg(test)]
mod tests {
    use super::checked_code;
    use crate::secrets::SecretString;

    #[test]
    fn a_code_is_its_digits_with_spaces_and_dashes_dropped() {
        let ok = checked_code(&SecretString::new("123 456")).unwrap();
        assert_eq!(ok.expose(), "123456");
        assert_eq!(
            checked_code(&SecretString::new("12-34")).unwrap().expose(),
            "1234"
        );
        assert!(checked_code(&SecretString::new("12a456")).is_err());
        assert!(checked_code(&SecretString::new("12345678901")).is_err());
    }
}
