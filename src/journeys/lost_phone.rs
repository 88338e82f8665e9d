//! "I lost my phone", as one guided journey no portal offers in one place:
//! the devices and the methods on each; delete the lost one (the last-method
//! rules and step-up as everywhere); end every session or only the "Don't
//! ask again" grants; add a new method at once; then a summary of what
//! changed. Each step can be skipped, and nothing is done without a
//! question that names it. Signing in with another method or a recovery
//! code, when needed, comes before (the front end's sign-in).

use super::add::{self, Adding};
use super::asker::{Asker, Confirm};
use super::change::{self, Override, Target};
use super::rules::lost_phone as words;
use super::session::Keeper;
use super::sign_out;
use crate::backend::Backend;
use crate::domain::{Device, Method, MethodKind, method_name};

/// What the journey changed, one sentence each, in order.
#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    pub changed: Vec<String>,
    /// Signed out everywhere: this client must sign in again.
    pub signed_out: bool,
}

impl Summary {
    pub fn lines(&self) -> Vec<String> {
        if self.changed.is_empty() {
            return vec!["Nothing was changed.".into()];
        }
        let mut lines = vec!["What changed:".to_string()];
        lines.extend(self.changed.iter().map(|c| format!("  {c}")));
        lines
    }
}

/// A device and the methods that live on it, as the user sees them.
pub fn on_device<'a>(device: &Device, methods: &'a [Method]) -> Vec<&'a Method> {
    methods
        .iter()
        .filter(|m| m.device_id.as_deref() == Some(device.id.as_str()))
        .collect()
}

/// "Pixel 8 (Android): Authenticator app, Authenticator app (code)": a device
/// as the journey lists it, with what goes if it is deleted.
pub fn device_line(device: &Device, methods: &[Method]) -> String {
    // Each method here is named after the device already: its kind says enough.
    let on: Vec<String> = on_device(device, methods)
        .into_iter()
        .map(|m| m.kind.title())
        .collect();
    let on = if on.is_empty() {
        "no sign-in methods".to_string()
    } else {
        on.join(", ")
    };
    format!("{} ({}): {on}", device.name, device.platform)
}

pub async fn run<A: Asker>(
    backend: &dyn Backend,
    keeper: &Keeper,
    ask: &mut A,
    username: Option<&str>,
) -> Result<Summary, A::Error> {
    let mut summary = Summary::default();
    ask.say(words::INTRO)?;

    // 1-2. The devices, and the methods on each.
    let devices = backend.devices().await?;
    let methods = backend.methods().await?;
    if devices.is_empty() {
        ask.say("No authenticator device is registered to your account.")?;
    } else {
        ask.say("Your devices and the sign-in methods on each:")?;
        for d in &devices {
            ask.say(&format!("  {}", device_line(d, &methods)))?;
        }
    }

    // 3. Delete the lost device.
    if !devices.is_empty() {
        let mut items: Vec<String> = devices.iter().map(|d| d.name.clone()).collect();
        items.push(words::KEEP_ALL.into());
        if let Some(i) = ask.choose(words::WHICH, &items, None)?
            && let Some(d) = devices.get(i)
        {
            let on: Vec<String> = on_device(d, &methods)
                .into_iter()
                .map(method_name)
                .collect();
            let what = if on.is_empty() {
                format!("Delete the device {}?", d.name)
            } else {
                format!("Delete the device {} and {}?", d.name, on.join(", "))
            };
            if ask.yes(&what)?
                && let Some(done) =
                    change::delete(backend, ask, Target::Device(&d.id), Override::Ask).await?
            {
                let said = done.message();
                ask.say(&said)?;
                summary.changed.push(said);
            }
        }
    }

    // 4. End every session, or at least the "Don't ask again" grants.
    if ask.yes(words::SIGN_OUT)? {
        if sign_out::everywhere(backend, keeper, ask, username, Confirm::Given).await? {
            summary.changed.push(words::SIGNED_OUT.into());
            summary.signed_out = true;
        }
    } else {
        let grants = backend.remembered_devices().await.unwrap_or_default();
        let others: Vec<_> = grants.iter().filter(|g| !g.current).collect();
        if !others.is_empty() {
            let names: Vec<&str> = others.iter().map(|g| g.client.as_str()).collect();
            let q = format!(
                "Revoke \"Don't ask again\" on {} other client(s) ({})?",
                others.len(),
                names.join(", ")
            );
            if ask.yes(&q)? {
                for g in others {
                    backend.forget_device(&g.id).await?;
                    summary
                        .changed
                        .push(format!("Revoked \"Don't ask again\" for {}.", g.client));
                }
            }
        }
    }

    // 5. A new method at once, while signed in.
    if summary.signed_out {
        ask.say(words::ADD_AFTER_SIGN_IN)?;
    } else if ask.yes(words::ADD)? {
        let caps = backend.capabilities().await?;
        let kinds: Vec<MethodKind> = caps
            .enroll
            .iter()
            .filter(|(_, a)| a.is_yes())
            .map(|(k, _)| k.clone())
            .collect();
        let mut items: Vec<String> = kinds.iter().map(MethodKind::title).collect();
        items.push("Skip".into());
        if let Some(i) = ask.choose("Which method?", &items, None)?
            && let Some(kind) = kinds.get(i)
        {
            let target = match target_for(ask, kind)? {
                Contact::Given(t) => Some(t),
                Contact::NotNeeded => None,
                Contact::Skipped => return finish(ask, summary),
            };
            let adding = Adding::Method {
                kind,
                target: target.as_deref(),
                name: None,
            };
            if let Some(added) = add::add(backend, ask, adding).await? {
                let said = added.message();
                ask.say(&said)?;
                summary.changed.push(said);
            }
        }
    }
    finish(ask, summary)
}

// 6. The summary.
fn finish<A: Asker>(ask: &mut A, summary: Summary) -> Result<Summary, A::Error> {
    for line in summary.lines() {
        ask.say(&line)?;
    }
    Ok(summary)
}

enum Contact {
    Given(String),
    NotNeeded,
    Skipped,
}

/// The number or address a phone or email method needs, asked until valid.
fn target_for<A: Asker>(ask: &mut A, kind: &MethodKind) -> Result<Contact, A::Error> {
    let phone = matches!(
        kind,
        MethodKind::Phone | MethodKind::AlternatePhone | MethodKind::OfficePhone
    );
    if !phone && *kind != MethodKind::Email {
        return Ok(Contact::NotNeeded);
    }
    loop {
        let prompt = if phone {
            "Phone number with its country code, such as +1 425 555 0123 (empty skips):"
        } else {
            "Email address (empty skips):"
        };
        let Some(typed) = ask.text(prompt)?.filter(|t| !t.trim().is_empty()) else {
            return Ok(Contact::Skipped);
        };
        let checked = if phone {
            crate::validate::phone(&typed, None).map_err(|e| e.to_string())
        } else {
            crate::validate::email(&typed).map_err(|e| e.to_string())
        };
        match checked {
            Ok(t) => return Ok(Contact::Given(t)),
            Err(why) => ask.say(&format!("{why}; try again."))?,
        }
    }
}
