//! Plain mode's "Add sign-in method" (the secret and URI as text, never a
//! drawing), app passwords and recovery codes, as numbered questions. An
//! empty answer cancels, and a begun enrollment is cancelled on the server.

use super::After;
use super::change::{change, guarded};
use super::io::Io;
use crate::app::effects::Deps;
use crate::app::state::{Change, TargetForm, WIZARD_KINDS, is_phone, method_name};
use crate::backend::BackendError;
use crate::domain::{Ability, Enrollment, EnrollmentState, MethodKind};
use crate::present::{self, date, grouped};
use crate::qr::short_otpauth;
use std::io::{BufRead, Write};
use std::time::Duration;

type Next = anyhow::Result<Option<After>>;

fn gone(e: &BackendError) -> Option<After> {
    matches!(e, BackendError::SignInRequired).then_some(After::SignIn)
}

pub async fn add_method<R: BufRead, W: Write>(io: &mut Io<R, W>, deps: &Deps) -> Next {
    let caps = match deps.backend.capabilities().await {
        Ok(c) => c,
        Err(e) => {
            io.say(&format!("Error: {e}"))?;
            return Ok(gone(&e));
        }
    };
    let choices: Vec<(MethodKind, Ability)> = WIZARD_KINDS
        .iter()
        .filter_map(|k| caps.enroll.iter().find(|(kk, _)| kk == k).cloned())
        .collect();
    if choices.is_empty() {
        io.say("This server does not let you add sign-in methods here.")?;
        return Ok(None);
    }
    io.say("Which method would you like to add?")?;
    let items: Vec<String> = choices
        .iter()
        .map(|(k, a)| match a {
            Ability::Yes => k.title(),
            Ability::No { reason, portal_url } => format!(
                "{} (not available: {})",
                k.title(),
                present::unavailable(reason, portal_url.as_deref(), "add it")
            ),
        })
        .collect();
    let Some(i) = io.choose(&items)? else {
        return Ok(Some(After::Quit));
    };
    let (kind, ability) = &choices[i];
    if let Ability::No { reason, portal_url } = ability {
        let why = present::unavailable(reason, portal_url.as_deref(), "add it");
        io.say(&format!("{} cannot be added here: {why}.", kind.title()))?;
        return Ok(None);
    }
    let target = if is_phone(kind) || *kind == MethodKind::Email {
        match ask_target(io, kind.clone())? {
            Some(t) => Some(t),
            None => {
                io.say("Cancelled: nothing was added.")?;
                return Ok(None);
            }
        }
    } else {
        None
    };
    if *kind == MethodKind::AuthenticatorPush {
        io.say("Start by getting the app: install an authenticator app that approves sign-ins.")?;
    }
    let begin = || deps.backend.begin_enrollment(kind, target.as_deref());
    let e = match guarded(io, deps, begin).await? {
        Ok(Some(e)) => e,
        Ok(None) => {
            io.say("Cancelled: nothing was added.")?;
            return Ok(None);
        }
        Err(e) => {
            io.say(&format!("Could not start: {e}"))?;
            return Ok(gone(&e));
        }
    };
    let done = match (&e.finished, kind) {
        (Some(m), _) => Some(m.clone()),
        (None, MethodKind::AuthenticatorPush) => push(io, deps, &e).await?,
        (None, _) => code(io, deps, &e).await?,
    };
    match done {
        Some(m) => io.say(&format!("Added {}.", method_name(&m)))?,
        None => {
            if let Err(err) = deps.backend.cancel_enrollment(&e).await {
                tracing::warn!(code = err.code(), "could not cancel the enrollment");
            }
            io.say("Cancelled: nothing was added.")?;
        }
    }
    Ok(None)
}

/// Asks for the phone number (country first) or address until it is valid.
fn ask_target<R: BufRead, W: Write>(
    io: &mut Io<R, W>,
    kind: MethodKind,
) -> anyhow::Result<Option<String>> {
    let mut form = TargetForm::new(kind.clone());
    loop {
        if is_phone(&kind) {
            let prompt = format!(
                "Country calling code (1 US/Canada, 44 UK), or Enter for {}:",
                form.country
            );
            let Some(cc) = io.ask(&prompt)? else {
                return Ok(None);
            };
            if !cc.trim().is_empty() {
                form.country = cc.trim().trim_start_matches('+').to_string();
            }
            let Some(n) = io.ask("Phone number, without the country code (Enter cancels):")? else {
                return Ok(None);
            };
            form.input = n;
        } else {
            let Some(a) = io.ask("Email address (Enter cancels):")? else {
                return Ok(None);
            };
            form.input = a;
        }
        if form.input.trim().is_empty() {
            return Ok(None);
        }
        match form.target() {
            Ok(t) => return Ok(Some(t)),
            Err(why) => io.say(&why)?,
        }
    }
}

/// TOTP, phone, email: the details as text, then codes until one is right.
async fn code<R: BufRead, W: Write>(
    io: &mut Io<R, W>,
    deps: &Deps,
    e: &Enrollment,
) -> anyhow::Result<Option<crate::domain::Method>> {
    if let Some(secret) = &e.secret {
        io.say("In your authenticator app, choose to enter a setup key, and type this key:")?;
        io.say(&format!("  {}", grouped(secret.expose())))?;
    }
    if let Some(uri) = &e.qr_payload {
        io.say("Or the full setup link:")?;
        io.say(&format!("  {}", short_otpauth(uri.expose())))?;
    }
    if let Some(to) = &e.sent_to {
        io.say(&format!("We sent a code to {to}."))?;
    }
    loop {
        let Some(c) = io.ask_secret("Enter the 6-digit code (Enter cancels):")? else {
            return Ok(None);
        };
        if c.is_empty() {
            return Ok(None);
        }
        match deps.backend.verify_enrollment(e, Some(&c)).await {
            Ok(EnrollmentState::Done(m)) => return Ok(Some(m)),
            Ok(_) => io.say("The server has not accepted it yet; try the code again.")?,
            Err(BackendError::Rejected { message, .. }) => io.say(&format!("{message}."))?,
            Err(err) => {
                io.say(&format!("Error: {err}"))?;
                return Ok(None);
            }
        }
    }
}

/// Authenticator app: activation details as text, then the test notification.
async fn push<R: BufRead, W: Write>(
    io: &mut Io<R, W>,
    deps: &Deps,
    e: &Enrollment,
) -> anyhow::Result<Option<crate::domain::Method>> {
    io.say("In the app, add an account and enter these details:")?;
    for (k, v) in &e.manual {
        io.say(&format!("  {k}: {v}"))?;
    }
    if let Some(p) = &e.qr_payload {
        io.say(&format!("  Activation link: {}", p.expose()))?;
    }
    loop {
        let Some(a) =
            io.ask("When the app has added the account, press Enter (type c to cancel):")?
        else {
            return Ok(None);
        };
        if a.trim() == "c" {
            return Ok(None);
        }
        let mut said = None;
        // Bounded: the enrollment expires on the server anyway.
        for _ in 0..600 {
            match deps.backend.verify_enrollment(e, None).await {
                Ok(EnrollmentState::Done(m)) => return Ok(Some(m)),
                Ok(EnrollmentState::AwaitingApproval { number }) if said != Some(number) => {
                    said = Some(number);
                    io.say(
                        "Let's try it out: approve the notification we're sending to your app.",
                    )?;
                    if let Some(n) = number {
                        io.say(&format!("Enter this number in the app: {n}"))?;
                    }
                }
                Ok(_) => {}
                Err(BackendError::Rejected { message, .. }) => {
                    io.say(&format!("{message}."))?;
                    break;
                }
                Err(err) => {
                    io.say(&format!("Error: {err}"))?;
                    return Ok(None);
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

pub async fn app_passwords<R: BufRead, W: Write>(io: &mut Io<R, W>, deps: &Deps) -> Next {
    loop {
        let list = match deps.backend.app_passwords().await {
            Ok(l) => l,
            Err(e) => {
                io.say(&format!("Error: {e}"))?;
                return Ok(gone(&e));
            }
        };
        io.blank()?;
        io.say(&format!("App passwords ({}):", list.len()))?;
        for a in &list {
            io.say(&format!(
                "  {}, created {}, last used {}",
                a.name,
                date(a.created),
                date(a.last_used)
            ))?;
        }
        let items: Vec<String> = ["Create an app password", "Delete an app password", "Back"]
            .map(String::from)
            .to_vec();
        let Some(choice) = io.choose(&items)? else {
            return Ok(Some(After::Quit));
        };
        match choice {
            0 => {
                let Some(name) = io.ask("Name (the app it is for; Enter cancels):")? else {
                    return Ok(Some(After::Quit));
                };
                if name.trim().is_empty() {
                    continue;
                }
                let services = deps
                    .backend
                    .app_password_services()
                    .await
                    .unwrap_or_default();
                let service = if services.is_empty() {
                    None
                } else {
                    io.say("Which service is it for?")?;
                    let names: Vec<String> = services.iter().map(|(_, d)| d.clone()).collect();
                    let Some(i) = io.choose(&names)? else {
                        return Ok(Some(After::Quit));
                    };
                    Some(services[i].0.clone())
                };
                let create = || {
                    deps.backend
                        .create_app_password(name.trim(), service.as_deref())
                };
                match guarded(io, deps, create).await? {
                    Ok(Some((a, secret))) => {
                        io.say(&format!("App password for {}:", a.name))?;
                        io.say(&format!("  {}", secret.expose()))?;
                        io.say("It is shown only now: save it in the app.")?;
                    }
                    Ok(None) => io.say("Cancelled: nothing was created.")?,
                    Err(e) => {
                        io.say(&format!("Error: {e}"))?;
                        if let Some(next) = gone(&e) {
                            return Ok(Some(next));
                        }
                    }
                }
            }
            1 => {
                if list.is_empty() {
                    io.say("You have no app passwords.")?;
                    continue;
                }
                io.say("Which app password should be deleted?")?;
                let names: Vec<String> = list.iter().map(|a| a.name.clone()).collect();
                let Some(i) = io.choose(&names)? else {
                    return Ok(Some(After::Quit));
                };
                io.say(&format!(
                    "Apps that sign in with {} stop working.",
                    names[i]
                ))?;
                if !io.confirm_word("delete")? {
                    io.say("Nothing was deleted.")?;
                    continue;
                }
                let next = change(
                    io,
                    deps,
                    Change::DeleteAppPassword {
                        id: list[i].id.clone(),
                        name: names[i].clone(),
                    },
                )
                .await?;
                if next.is_some() {
                    return Ok(next);
                }
            }
            _ => return Ok(None),
        }
    }
}

pub async fn recovery_codes<R: BufRead, W: Write>(io: &mut Io<R, W>, deps: &Deps) -> Next {
    let left = match deps.backend.recovery_codes_left().await {
        Ok(l) => l,
        Err(e) => {
            io.say(&format!("Error: {e}"))?;
            return Ok(gone(&e));
        }
    };
    match left {
        Some(n) => {
            io.say(&format!("You have {n} unused recovery codes."))?;
            io.say("A new set replaces them: the old codes stop working.")?;
        }
        None => io.say("You have no recovery codes yet.")?,
    }
    if !io.confirm_word("generate")? {
        io.say("Nothing was changed.")?;
        return Ok(None);
    }
    let generate = || deps.backend.generate_recovery_codes();
    match guarded(io, deps, generate).await? {
        Ok(Some(codes)) => {
            io.say("Your recovery codes (each works once; shown only now):")?;
            for c in codes {
                io.say(&format!("  {}", c.expose()))?;
            }
            Ok(None)
        }
        Ok(None) => {
            io.say("Cancelled: nothing was changed.")?;
            Ok(None)
        }
        Err(e) => {
            io.say(&format!("Error: {e}"))?;
            Ok(gone(&e))
        }
    }
}
