//! `methods add` and `methods verify`: the "Add sign-in method" wizard on the
//! command line. The QR code and the text a person copies go to stdout;
//! questions and progress to stderr. Codes are read from stdin, never taken as
//! arguments. Anything that ends the wizard before the method is saved (end of
//! input, Ctrl-C, a denied test notification, an error) cancels the pending
//! enrollment on the server, so nothing is left half-enrolled.

use super::account::with_step_up;
use super::{Context, Failure, Global, Outcome, contact, exit, output, prompt};
use crate::backend::{BackendError, Refusal};
use crate::domain::{Ability, Enrollment, EnrollmentState, Method, MethodKind};
use crate::present::{self, grouped};
use crate::protocol::codes;
use crate::qr::{QrCode, QrPalette, ansi_lines, plain_lines, short_otpauth};
use crate::secrets::SecretString;
use clap::{Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum AddCommand {
    /// An authenticator app that shows codes (TOTP): scan the QR code, then type a code.
    Totp {
        /// Print {schema, enrollment_id, uri, secret} and exit; finish with `methods verify`.
        #[arg(long)]
        json: bool,
    },
    /// The authenticator app with notifications: activate it, then approve a test notification.
    Authenticator,
    /// An email address: a code is sent there.
    Email { address: String },
    /// A phone number for text messages: a code is sent there.
    Phone {
        /// In international format (+1 425 555 0123), or with --country.
        number: String,
        #[arg(long, value_enum, default_value_t = PhoneKind::Phone)]
        kind: PhoneKind,
        /// The country of a number typed without + (ISO code such as US, or calling code such as 44).
        #[arg(long, value_name = "CC")]
        country: Option<String>,
    },
    /// A security key (needs a browser: explained and handed off).
    SecurityKey,
    /// A passkey (needs a browser: explained and handed off).
    Passkey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PhoneKind {
    Phone,
    #[value(name = "alternate_phone", alias = "alternate-phone")]
    AlternatePhone,
    #[value(name = "office_phone", alias = "office-phone")]
    OfficePhone,
}

impl PhoneKind {
    fn kind(self) -> MethodKind {
        match self {
            Self::Phone => MethodKind::Phone,
            Self::AlternatePhone => MethodKind::AlternatePhone,
            Self::OfficePhone => MethodKind::OfficePhone,
        }
    }
}

/// Whether `methods add` was asked for JSON (errors then go out as JSON too).
pub fn wants_json(command: &AddCommand) -> bool {
    matches!(command, AddCommand::Totp { json: true })
}

pub async fn add(g: &Global, ctx: &Context, command: AddCommand) -> Outcome {
    let kind = match &command {
        AddCommand::Totp { .. } => MethodKind::Totp,
        AddCommand::Authenticator => MethodKind::AuthenticatorPush,
        AddCommand::Email { .. } => MethodKind::Email,
        AddCommand::Phone { kind, .. } => kind.kind(),
        AddCommand::SecurityKey => MethodKind::SecurityKey,
        AddCommand::Passkey => MethodKind::Passkey,
    };
    let caps = ctx.backend.capabilities().await?;
    if !caps.can_enroll(&kind) {
        let reason = match caps.enroll.iter().find(|(k, _)| *k == kind) {
            Some((_, Ability::No { reason, portal_url })) => {
                present::unavailable(reason, portal_url.as_deref(), "add it")
            }
            _ => "this backend cannot add it".into(),
        };
        return Err(Failure::new(
            exit::NOT_SUPPORTED,
            "not_supported",
            format!("{} cannot be added here: {reason}", kind.title()),
        ));
    }
    // Checked before anything is sent, so a typo costs no code.
    let target = match &command {
        AddCommand::Email { address } => {
            let address = address.trim();
            if !contact::valid_email(address) {
                return Err(Failure::new(
                    exit::USAGE,
                    "usage",
                    format!(
                        "'{address}' is not an email address; enter one such as name@example.com"
                    ),
                ));
            }
            Some(address.to_string())
        }
        AddCommand::Phone {
            number, country, ..
        } => Some(phone_number(number, country.as_deref())?),
        _ => None,
    };
    let interrupt = Interrupt::listen();
    let enrollment = with_step_up(ctx, || {
        ctx.backend.begin_enrollment(&kind, target.as_deref())
    })
    .await?;
    if let Some(method) = &enrollment.finished {
        saved(method);
        return Ok(());
    }
    if let AddCommand::Totp { json: true } = command {
        let out = output::EnrollmentStarted {
            schema: output::SCHEMA,
            enrollment_id: enrollment.id.clone(),
            uri: enrollment
                .qr_payload
                .as_ref()
                .map(|s| s.expose().to_string()),
            secret: enrollment.secret.as_ref().map(|s| s.expose().to_string()),
        };
        return Ok(output::print_json(&out)?);
    }
    let mut wizard = Wizard {
        ctx,
        enrollment: &enrollment,
        interrupt,
        plain: g.plain,
    };
    let result = match kind {
        MethodKind::Totp => {
            wizard.show_totp();
            wizard.read_codes().await
        }
        MethodKind::AuthenticatorPush => wizard.authenticator().await,
        _ => wizard.code_sent().await,
    };
    settle(ctx, &enrollment, result).await
}

/// Saved: say so. Anything else: cancel on the server, so nothing half-enrolled
/// stays behind (an expired one is already gone).
async fn settle(
    ctx: &Context,
    enrollment: &Enrollment,
    result: Result<Method, Failure>,
) -> Outcome {
    match result {
        Ok(method) => {
            saved(&method);
            Ok(())
        }
        Err(f) => {
            if let Err(e) = ctx.backend.cancel_enrollment(enrollment).await {
                tracing::warn!(error = %e, "cancelling the enrollment failed");
            }
            Err(f)
        }
    }
}

/// `methods change ID NEW`: a phone number or an address, re-verified. The old
/// one stays until the code sent to the new one comes back (and keeps its place as default).
pub async fn change(
    g: &Global,
    ctx: &Context,
    id: &str,
    new: &str,
    country: Option<&str>,
) -> Outcome {
    let method = ctx
        .backend
        .methods()
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| {
            Failure::new(
                exit::USAGE,
                "not_found",
                format!("there is no method {id} on your account (see `secinfo methods list`)"),
            )
        })?;
    let target = match method.kind {
        MethodKind::Email => {
            let address = new.trim();
            if !contact::valid_email(address) {
                return Err(Failure::new(
                    exit::USAGE,
                    "usage",
                    format!(
                        "'{address}' is not an email address; enter one such as name@example.com"
                    ),
                ));
            }
            address.to_string()
        }
        MethodKind::Phone | MethodKind::AlternatePhone | MethodKind::OfficePhone => {
            phone_number(new, country)?
        }
        _ => {
            return Err(Failure::new(
                exit::USAGE,
                "usage",
                format!(
                    "only a phone number or an address can be changed; {} can be renamed with `secinfo methods rename`",
                    method.kind.title()
                ),
            ));
        }
    };
    let interrupt = Interrupt::listen();
    let enrollment = with_step_up(ctx, || ctx.backend.begin_phone_change(id, &target)).await?;
    let mut wizard = Wizard {
        ctx,
        enrollment: &enrollment,
        interrupt,
        plain: g.plain,
    };
    let result = wizard.code_sent().await;
    settle(ctx, &enrollment, result).await
}

/// `methods verify ENROLLMENT_ID`: finish a scripted enrollment with a code from stdin.
/// A wrong code leaves the enrollment open for another try.
pub async fn verify(ctx: &Context, enrollment_id: &str) -> Outcome {
    let enrollment = Enrollment {
        id: enrollment_id.to_string(),
        kind: MethodKind::Other(String::new()),
        qr_payload: None,
        secret: None,
        manual: Vec::new(),
        sent_to: None,
        expires_in: None,
        finished: None,
    };
    let code = prompt::secret("Enter the code: ")
        .ok_or_else(|| Failure::new(exit::USAGE, "usage", "no code given (end of input)"))?;
    let code = checked_code(&code).map_err(|m| Failure::new(exit::USAGE, "usage", m))?;
    match ctx
        .backend
        .verify_enrollment(&enrollment, Some(&code))
        .await
    {
        Ok(EnrollmentState::Done(method)) => {
            saved(&method);
            Ok(())
        }
        Ok(_) => Err(Failure::new(
            exit::REFUSED,
            "pending",
            "this enrollment is not finished by a code; run `secinfo methods add` again",
        )),
        Err(BackendError::Rejected { reason, message }) if reason.is_wrong_code() => {
            Err(Failure::new(
                exit::SIGN_IN,
                reason.code(),
                format!(
                    "{message} (the enrollment stays open: run `secinfo methods verify {enrollment_id}` again)"
                ),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn saved(method: &Method) {
    println!(
        "Saved: {} - {} ({}).",
        method.kind.title(),
        method.detail,
        method.id
    );
    if method.is_default {
        println!("It is your default sign-in method.");
    }
}

fn phone_number(number: &str, country: Option<&str>) -> Result<String, Failure> {
    let usage = |m: String| Failure::new(exit::USAGE, "usage", m);
    let cc = match country {
        Some(c) => Some(contact::calling_code(c).ok_or_else(|| {
            usage(format!(
                "'{c}' is not a country secinfo knows; give its calling code instead, e.g. --country 44"
            ))
        })?),
        None if contact::needs_country(number) && std::io::stdin().is_terminal() => {
            eprintln!("{number} has no country code (it does not start with +).");
            let typed = prompt::line("Country (ISO code such as US, or calling code such as 44): ")
                .unwrap_or_default();
            Some(contact::calling_code(&typed).ok_or_else(|| {
                usage(format!("'{}' is not a country; {}", typed.trim(), contact::COUNTRY_HELP))
            })?)
        }
        None => None,
    };
    contact::e164(number, cc.as_deref()).map_err(usage)
}

/// The digits of a code, or what is wrong with it (checked before it is sent).
fn checked_code(code: &SecretString) -> Result<SecretString, String> {
    let digits: String = code
        .expose()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 10 {
        Err("enter the code's digits only".into())
    } else {
        Ok(SecretString::new(digits))
    }
}

/// Ctrl-C, noticed from the start of the wizard to its end.
struct Interrupt(tokio::sync::watch::Receiver<bool>);

impl Interrupt {
    fn listen() -> Self {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(true);
            }
        });
        Self(rx)
    }

    async fn wait(&mut self) {
        if self.0.wait_for(|hit| *hit).await.is_err() {
            // No signal handler could be installed: Ctrl-C keeps its default meaning.
            std::future::pending::<()>().await;
        }
    }
}

enum Answer {
    Given(SecretString),
    Ended,
    Interrupted,
}

fn cancelled() -> Failure {
    Failure::new(exit::REFUSED, "cancelled", "cancelled; nothing was added")
}

struct Wizard<'a> {
    ctx: &'a Context,
    enrollment: &'a Enrollment,
    interrupt: Interrupt,
    plain: bool,
}

impl Wizard<'_> {
    /// Ask on stderr, read a secret from stdin; Ctrl-C wins over a pending read.
    async fn ask(&mut self, question: &str) -> Answer {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let question = question.to_string();
        // A plain thread, not spawn_blocking: a read still waiting after Ctrl-C
        // must not keep the runtime (and the process) from ending.
        std::thread::spawn(move || {
            let _ = tx.send(prompt::secret(&question));
        });
        tokio::select! {
            a = rx => match a {
                Ok(Some(s)) => Answer::Given(s),
                _ if std::io::stdin().is_terminal() => {
                    // On a terminal Ctrl-C ends the hidden read first, then raises
                    // SIGINT: let the signal say what happened.
                    match tokio::time::timeout(Duration::from_millis(300), self.interrupt.wait()).await {
                        Ok(()) => Answer::Interrupted,
                        Err(_) => Answer::Ended,
                    }
                }
                _ => Answer::Ended,
            },
            _ = self.interrupt.wait() => Answer::Interrupted,
        }
    }

    /// Rich QR only where it will be drawn right: a color terminal, not --plain.
    fn fancy(&self) -> bool {
        !self.plain
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    }

    fn print_qr(&self, payload: &str) {
        match QrCode::new(payload) {
            Ok(code) => {
                let code = code.palette(QrPalette::from_env());
                let lines = if self.fancy() {
                    ansi_lines(&code)
                } else {
                    plain_lines(&code)
                };
                for line in lines {
                    println!("{line}");
                }
            }
            Err(e) => eprintln!("The QR code cannot be drawn ({e}); use the text instead."),
        }
    }

    fn show_totp(&self) {
        let uri = self.enrollment.qr_payload.as_ref().map(|u| u.expose());
        let secret = self.enrollment.secret.as_ref().map(|s| grouped(s.expose()));
        let text = || {
            if let Some(s) = &secret {
                println!("Secret key: {s}");
            }
            if let Some(u) = uri {
                println!("URI: {u}");
            }
        };
        let Some(uri) = uri else {
            text();
            return;
        };
        let qr = short_otpauth(uri);
        if self.fancy() {
            println!("Scan this QR code with your authenticator app:");
            self.print_qr(&qr);
            println!("Can't scan the image? Enter this in the app instead:");
            text();
        } else {
            // Text first: a screen reader or a script reads it without the drawing.
            text();
            if self.plain {
                println!(
                    "(The QR code is left out in --plain mode: type the secret key into the app.)"
                );
            } else {
                println!("Or scan this QR code:");
                self.print_qr(&qr);
            }
        }
        if let Some(t) = self.enrollment.expires_in {
            eprintln!("This expires in {} minutes.", t.div_ceil(60).max(1));
        }
    }

    async fn code_sent(&mut self) -> Result<Method, Failure> {
        match &self.enrollment.sent_to {
            Some(to) => eprintln!("We sent a code to {to}."),
            None => eprintln!("We sent a code."),
        }
        self.read_codes().await
    }

    /// Read codes until one is right; a wrong one keeps the enrollment (and the QR) as it is.
    async fn read_codes(&mut self) -> Result<Method, Failure> {
        loop {
            let code = match self.ask("Enter the code: ").await {
                Answer::Given(c) => c,
                Answer::Ended => {
                    return Err(Failure::new(
                        exit::USAGE,
                        "usage",
                        "no code given (end of input); nothing was added",
                    ));
                }
                Answer::Interrupted => return Err(cancelled()),
            };
            let code = match checked_code(&code) {
                Ok(c) => c,
                Err(m) => {
                    eprintln!("{m}; try again.");
                    continue;
                }
            };
            match self
                .ctx
                .backend
                .verify_enrollment(self.enrollment, Some(&code))
                .await
            {
                Ok(EnrollmentState::Done(m)) => return Ok(m),
                Ok(_) => eprintln!("Not finished yet; enter the code again."),
                Err(BackendError::Rejected { reason, message }) if reason.is_wrong_code() => {
                    let still = if self.enrollment.kind == MethodKind::Totp {
                        " The QR code above still works."
                    } else {
                        ""
                    };
                    eprintln!("{}.{still}", message.trim_end_matches('.'));
                }
                Err(BackendError::Rejected {
                    reason: Refusal::Expired,
                    message,
                }) => {
                    return Err(expired(&message));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Activation QR and text, wait for the phone, then the test notification.
    async fn authenticator(&mut self) -> Result<Method, Failure> {
        let payload = self.enrollment.qr_payload.as_ref().map(|p| p.expose());
        println!("In your authenticator app, add an account and scan this QR code:");
        if let Some(p) = payload
            && !self.plain
        {
            self.print_qr(p);
        }
        println!("Can't scan the image? Enter this in the app instead:");
        for (label, value) in &self.enrollment.manual {
            println!("{label}: {value}");
        }
        if let Some(p) = payload {
            println!("Activation link: {p}");
        }
        eprintln!("Waiting for the app to be activated (Ctrl-C cancels)...");
        let waiting_since = std::time::Instant::now();
        // The server says "expired" for the enrollment and for its test notification alike:
        // while the enrollment itself is young, it was the notification.
        let enrollment_expired = || {
            self.enrollment
                .expires_in
                .is_some_and(|secs| waiting_since.elapsed().as_secs() >= secs)
        };
        let mut shown = None;
        loop {
            match self
                .ctx
                .backend
                .verify_enrollment(self.enrollment, None)
                .await
            {
                Ok(EnrollmentState::Done(m)) => return Ok(m),
                Ok(EnrollmentState::Pending) => {}
                Ok(EnrollmentState::AwaitingApproval { number }) => {
                    if shown != Some(number) {
                        match number {
                            Some(n) => eprintln!(
                                "Let's try it out: approve the notification we're sending to your app. Number to match: {n}"
                            ),
                            None => eprintln!(
                                "Let's try it out: approve the notification we're sending to your app."
                            ),
                        }
                        shown = Some(number);
                    }
                }
                Err(BackendError::Rejected { reason, message }) => {
                    let why = match reason {
                        Refusal::PushDenied => "the test notification was denied on the phone",
                        Refusal::WrongNumber => "the number entered on the phone did not match",
                        Refusal::Expired if shown.is_some() || !enrollment_expired() => {
                            "the test notification timed out without an answer"
                        }
                        Refusal::Expired => return Err(expired(&message)),
                        _ => return Err(BackendError::Rejected { reason, message }.into()),
                    };
                    return Err(Failure::new(
                        exit::REFUSED,
                        reason.code(),
                        format!(
                            "{why}; nothing was added. Run `secinfo methods add authenticator` to try again."
                        ),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(700)) => {}
                _ = self.interrupt.wait() => return Err(cancelled()),
            }
        }
    }
}

fn expired(message: &str) -> Failure {
    Failure::new(
        exit::REFUSED,
        codes::CHALLENGE_EXPIRED,
        format!("{message}; nothing was added"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_grouped_in_fours() {
        assert_eq!(
            super::grouped("JBSWY3DPEHPK3PXPAB"),
            "JBSW Y3DP EHPK 3PXP AB"
        );
    }
}
