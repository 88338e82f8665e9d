//! `methods add`, `methods change` and `methods verify`: the shared "Add
//! sign-in method" journey on the command line. The QR code and the text a
//! person copies go to stdout; questions and progress to stderr. Codes are
//! read from stdin, never taken as arguments. Anything that ends the journey
//! before the method is saved (end of input, Ctrl-C, a denied test
//! notification, an error) cancels the pending enrollment on the server.

use super::account::with_step_up;
use super::prompt::Terminal;
use super::{Context, Failure, Global, Outcome, contact, exit, output, prompt};
use crate::backend::BackendError;
use crate::domain::{Enrollment, EnrollmentState, MethodKind, method_name};
use crate::journeys::add::{self, Adding};
use crate::journeys::rules;
use clap::{Subcommand, ValueEnum};
use std::io::IsTerminal;

#[derive(Debug, Subcommand)]
pub enum AddCommand {
    /// An authenticator app that shows codes (TOTP): scan the QR code, then type a code.
    Totp {
        /// Print {schema, enrollment_id, uri, secret} and exit; finish with `methods verify`.
        #[arg(long)]
        json: bool,
        /// What to call it in the list ("Work phone"); the server's name otherwise.
        #[arg(long)]
        name: Option<String>,
    },
    /// The authenticator app with notifications: activate it, then approve a test notification.
    Authenticator {
        /// What to call it in the list ("Work phone"); the phone's own name otherwise.
        #[arg(long)]
        name: Option<String>,
    },
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
    matches!(command, AddCommand::Totp { json: true, .. })
}

pub async fn add(g: &Global, ctx: &Context, command: AddCommand) -> Outcome {
    let kind = match &command {
        AddCommand::Totp { .. } => MethodKind::Totp,
        AddCommand::Authenticator { .. } => MethodKind::AuthenticatorPush,
        AddCommand::Email { .. } => MethodKind::Email,
        AddCommand::Phone { kind, .. } => kind.kind(),
        AddCommand::SecurityKey => MethodKind::SecurityKey,
        AddCommand::Passkey => MethodKind::Passkey,
    };
    let caps = ctx.backend.capabilities().await?;
    if let Some(why) = add::unavailable(&caps, &kind) {
        return Err(Failure::new(exit::NOT_SUPPORTED, "not_supported", why));
    }
    // Checked before anything is sent, so a typo costs no code.
    let target = match &command {
        AddCommand::Email { address } => Some(email_address(address)?),
        AddCommand::Phone {
            number, country, ..
        } => Some(phone_number(number, country.as_deref())?),
        _ => None,
    };
    if let AddCommand::Totp { json: true, .. } = command {
        return start_for_a_script(ctx, &kind).await;
    }
    let name = match &command {
        AddCommand::Totp { name, .. } | AddCommand::Authenticator { name } => name.as_deref(),
        _ => None,
    };
    let adding = Adding::Method {
        kind: &kind,
        target: target.as_deref(),
        name,
    };
    run(g, ctx, adding).await
}

/// `methods add totp --json`: begin, print what a script needs, and leave the
/// enrollment open for `methods verify`.
async fn start_for_a_script(ctx: &Context, kind: &MethodKind) -> Outcome {
    let enrollment = with_step_up(ctx, || ctx.backend.begin_enrollment(kind, None)).await?;
    let out = output::EnrollmentStarted {
        schema: output::SCHEMA,
        enrollment_id: enrollment.id.clone(),
        uri: enrollment
            .qr_payload
            .as_ref()
            .map(|s| s.expose().to_string()),
        secret: enrollment.secret.as_ref().map(|s| s.expose().to_string()),
    };
    Ok(output::print_json(&out)?)
}

fn cancelled() -> Failure {
    Failure::cancelled("nothing was added")
}

/// Runs the shared journey on the terminal and says what was added.
async fn run(g: &Global, ctx: &Context, adding: Adding<'_>) -> Outcome {
    let mut terminal = Terminal::listening(g.plain);
    let added = add::add(&*ctx.backend, &mut terminal, adding)
        .await?
        .ok_or_else(cancelled)?;
    say!("{}", added.message());
    Ok(())
}

fn email_address(typed: &str) -> Result<String, Failure> {
    let address = typed.trim();
    if contact::valid_email(address) {
        return Ok(address.to_string());
    }
    Err(Failure::new(
        exit::USAGE,
        "usage",
        format!("'{address}' is not an email address; enter one such as name@example.com"),
    ))
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
        MethodKind::Email => email_address(new)?,
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
    let adding = Adding::Contact {
        method_id: id,
        target: &target,
    };
    run(g, ctx, adding).await
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
    let code = add::checked_code(&code).map_err(|m| Failure::new(exit::USAGE, "usage", m))?;
    match ctx
        .backend
        .verify_enrollment(&enrollment, Some(&code))
        .await
    {
        Ok(EnrollmentState::Done(method)) => {
            say!("{}", rules::added(&method_name(&method)));
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
