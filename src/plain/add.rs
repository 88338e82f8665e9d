//! Plain mode's "Add sign-in method" (the shared journey; the secret and URI
//! as text, never a drawing), app passwords and recovery codes, as numbered
//! questions. An empty answer cancels.

use super::After;
use super::io::Io;
use crate::app::effects::Deps;
use crate::app::state::{TargetForm, WIZARD_KINDS, is_phone};
use crate::backend::BackendError;
use crate::domain::{Ability, MethodKind};
use crate::journeys::Asker;
use crate::journeys::add::{self, Adding};
use crate::journeys::asker::Confirm;
use crate::journeys::{app_passwords, recovery_codes, rules};
use crate::present::{self, date};
use std::io::{BufRead, Write};

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
    let (kind, _) = &choices[i];
    if let Some(why) = add::unavailable(&caps, kind) {
        io.say(&format!("{why}."))?;
        return Ok(None);
    }
    let target = if is_phone(kind) || *kind == MethodKind::Email {
        match ask_target(io, kind.clone())? {
            Some(t) => Some(t),
            None => {
                io.say(rules::ADD_CANCELLED)?;
                return Ok(None);
            }
        }
    } else {
        None
    };
    if *kind == MethodKind::AuthenticatorPush {
        io.say("Start by getting the app: install an authenticator app that approves sign-ins.")?;
    }
    let name = if matches!(kind, MethodKind::Totp | MethodKind::AuthenticatorPush) {
        io.ask("A name for it in your list, such as Work phone (Enter keeps the usual name):")?
            .filter(|n| !n.trim().is_empty())
    } else {
        None
    };
    let adding = Adding::Method {
        kind,
        target: target.as_deref(),
        name: name.as_deref(),
    };
    match split(add::add(&*deps.backend, io, adding).await)? {
        Ok(Some(added)) => {
            io.say(&added.message())?;
            Ok(None)
        }
        Ok(None) => {
            io.say(rules::ADD_CANCELLED)?;
            Ok(None)
        }
        Err(e) => {
            io.say(&format!("Error: {e}"))?;
            Ok(gone(&e))
        }
    }
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
                match split(
                    app_passwords::create(&*deps.backend, io, &name, service.as_deref()).await,
                )? {
                    Ok(Some((a, secret))) => {
                        io.say(&format!("App password for {}:", a.name))?;
                        io.say(&format!("  {}", secret.expose()))?;
                        io.say(rules::APP_PASSWORD_SHOWN_ONCE)?;
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
                match split(
                    app_passwords::delete(&*deps.backend, io, &list[i].id, Confirm::Ask).await,
                )? {
                    Ok(Some(said)) => io.say(&said)?,
                    Ok(None) => io.say("Nothing was deleted.")?,
                    Err(e) => {
                        io.say(&format!("Error: {e}"))?;
                        if let Some(next) = gone(&e) {
                            return Ok(Some(next));
                        }
                    }
                }
            }
            _ => return Ok(None),
        }
    }
}

pub async fn recovery_codes<R: BufRead, W: Write>(io: &mut Io<R, W>, deps: &Deps) -> Next {
    match deps.backend.recovery_codes_left().await {
        // The journey asks before a new set replaces these.
        Ok(Some(n)) if n > 0 => io.say(&format!("You have {n} unused recovery codes."))?,
        Ok(_) => {
            io.say("You have no unused recovery codes.")?;
            if !Asker::yes(io, "Generate a set now?")? {
                return Ok(None);
            }
        }
        Err(e) => {
            io.say(&format!("Error: {e}"))?;
            return Ok(gone(&e));
        }
    }
    match split(recovery_codes::generate(&*deps.backend, io, Confirm::Ask).await)? {
        Ok(Some(codes)) => {
            io.say("Your recovery codes:")?;
            for c in &codes {
                io.say(&format!("  {}", c.expose()))?;
            }
            io.say(&rules::keep_recovery_codes(codes.len()))?;
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

/// A journey's error: the server's answer (said and acted on by the caller),
/// or plain mode's own (its input or output failed), which ends it.
pub(super) fn split<T>(result: anyhow::Result<T>) -> anyhow::Result<Result<T, BackendError>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(e) => e.downcast::<BackendError>().map(Err),
    }
}
