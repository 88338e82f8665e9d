//! Plain mode's pages: numbered lists, and changes confirmed by a typed word.

use super::After;
use super::add::split;
use super::change::change;
use super::io::Io;
use crate::app::effects::Deps;
use crate::app::state::{Change, method_name};
use crate::backend::BackendError;
use crate::domain::{ActivityEvent, ActivityKind, Method};
use crate::journeys::asker::Confirm;
use crate::journeys::{lost_phone, rules, sign_out};
use crate::present::{date, moment, origin};
use std::io::{BufRead, Write};

type Next = anyhow::Result<Option<After>>;

pub async fn change_default<R: BufRead, W: Write>(
    io: &mut Io<R, W>,
    deps: &Deps,
    methods: &[Method],
) -> Next {
    let usable: Vec<&Method> = methods
        .iter()
        .filter(|m| m.usable_mfa && !m.is_default)
        .collect();
    if usable.is_empty() {
        io.say("No other method can be the default.")?;
        return Ok(None);
    }
    io.say("Which method should be your default?")?;
    let names: Vec<String> = usable.iter().map(|m| method_name(m)).collect();
    let Some(i) = io.choose(&names)? else {
        return Ok(Some(After::Quit));
    };
    change(
        io,
        deps,
        Change::SetDefault {
            id: usable[i].id.clone(),
            name: names[i].clone(),
        },
    )
    .await
}

pub async fn delete_method<R: BufRead, W: Write>(
    io: &mut Io<R, W>,
    deps: &Deps,
    methods: &[Method],
) -> Next {
    if methods.is_empty() {
        io.say("You have no sign-in methods.")?;
        return Ok(None);
    }
    io.say("Which method should be deleted?")?;
    let names: Vec<String> = methods.iter().map(method_name).collect();
    let Some(i) = io.choose(&names)? else {
        return Ok(Some(After::Quit));
    };
    let m = &methods[i];
    io.say(&format!(
        "You will no longer be able to sign in with {}.",
        names[i]
    ))?;
    if !io.confirm_word("delete")? {
        io.say("Nothing was deleted.")?;
        return Ok(None);
    }
    let name = crate::app::state::confirm_name(m);
    change(
        io,
        deps,
        Change::DeleteMethod {
            id: m.id.clone(),
            name,
            label: names[i].clone(),
            confirm: None,
        },
    )
    .await
}

pub async fn devices<R: BufRead, W: Write>(
    io: &mut Io<R, W>,
    deps: &Deps,
    methods: &[Method],
) -> Next {
    let list = match deps.backend.devices().await {
        Ok(l) => l,
        Err(e) => return say_err(io, e),
    };
    io.say(&format!("Devices ({}):", list.len()))?;
    let names: Vec<String> = list
        .iter()
        .map(|d| {
            format!(
                "{}, {}, added {}, last used {}",
                d.name,
                d.platform,
                date(d.added),
                date(d.last_used)
            )
        })
        .collect();
    if list.is_empty() {
        return Ok(None);
    }
    io.say("Choose a device to delete (lost, stolen or old), or the last number to go back:")?;
    let mut items = names;
    items.push("Back".into());
    let Some(i) = io.choose(&items)? else {
        return Ok(Some(After::Quit));
    };
    let Some(d) = list.get(i) else {
        return Ok(None);
    };
    let on_it: Vec<String> = methods
        .iter()
        .filter(|m| m.device_id.as_deref() == Some(&d.id))
        .map(|m| m.kind.title())
        .collect();
    io.say(&format!(
        "This removes {} and the sign-in methods on it: {}.",
        d.name,
        on_it.join(", ")
    ))?;
    if !io.confirm_word("delete")? {
        io.say("Nothing was deleted.")?;
        return Ok(None);
    }
    change(
        io,
        deps,
        Change::DeleteDevice {
            id: d.id.clone(),
            name: d.name.clone(),
            confirm: None,
        },
    )
    .await
}

pub async fn sessions<R: BufRead, W: Write>(io: &mut Io<R, W>, deps: &Deps) -> Next {
    let list = match deps.backend.sessions().await {
        Ok(l) => l,
        Err(e) => return say_err(io, e),
    };
    io.say(&format!(
        "Sessions ({}). Choose one to sign it out, or the last number to go back:",
        list.len()
    ))?;
    let mut items: Vec<String> = list
        .iter()
        .map(|s| {
            let this = if s.current { " (this session)" } else { "" };
            format!(
                "{}{this}, {}, signed in {}, last active {}",
                s.client,
                s.ip,
                date(s.signed_in),
                date(s.last_active)
            )
        })
        .collect();
    items.push("Back".into());
    let Some(i) = io.choose(&items)? else {
        return Ok(Some(After::Quit));
    };
    let Some(s) = list.get(i) else {
        return Ok(None);
    };
    if !io.confirm_word("sign out")? {
        return Ok(None);
    }
    change(
        io,
        deps,
        Change::RevokeSession {
            id: s.id.clone(),
            current: s.current,
        },
    )
    .await
}

/// Recent activity, newest first, one line per event and a page at a time.
pub async fn activity<R: BufRead, W: Write>(io: &mut Io<R, W>, deps: &Deps) -> Next {
    let mut before: Option<String> = None;
    loop {
        let page = match deps.backend.activity(before.as_deref()).await {
            Ok(p) => p,
            // Not an error: this provider keeps none a user can read here.
            Err(BackendError::NotSupported(why)) => {
                io.say(&format!("Recent activity is not available here: {why}."))?;
                return Ok(None);
            }
            Err(e) => return say_err(io, e),
        };
        if before.is_none() {
            io.say(&format!(
                "Recent activity, newest first, times in UTC ({} shown):",
                page.events.len()
            ))?;
        }
        if page.events.is_empty() {
            io.say("No recent activity.")?;
        }
        for e in &page.events {
            io.say(&activity_line(e))?;
        }
        let Some(next) = page.next else {
            return Ok(None);
        };
        let Some(i) = io.choose(&["Show older activity".to_string(), "Back".to_string()])? else {
            return Ok(Some(After::Quit));
        };
        if i != 0 {
            return Ok(None);
        }
        before = Some(next);
    }
}

/// "2026-12-07 06:02: Signed in, from laptop, 127.0.0.1, with Authenticator app (Pixel 8)".
fn activity_line(e: &ActivityEvent) -> String {
    let mut line = format!("{}: {}", moment(e.at), e.kind.label());
    if e.kind != ActivityKind::SignIn {
        line.push_str(&format!(", {}", e.what));
    }
    if e.client.is_some() || e.ip.is_some() {
        line.push_str(&format!(
            ", from {}",
            origin(e.client.as_deref(), e.ip.as_deref())
        ));
    }
    if let Some(f) = &e.factor {
        line.push_str(&format!(", with {f}"));
    }
    line
}

pub async fn remembered<R: BufRead, W: Write>(io: &mut Io<R, W>, deps: &Deps) -> Next {
    let list = match deps.backend.remembered_devices().await {
        Ok(l) => l,
        Err(e) => return say_err(io, e),
    };
    io.say(&format!(
        "Remembered devices ({}). Choose one to revoke, or the last number to go back:",
        list.len()
    ))?;
    let mut items: Vec<String> = list
        .iter()
        .map(|r| {
            let this = if r.current { " (this client)" } else { "" };
            format!(
                "{}{this}, remembered {}, expires {}",
                r.client,
                date(r.created),
                date(r.expires)
            )
        })
        .collect();
    items.push("Back".into());
    let Some(i) = io.choose(&items)? else {
        return Ok(Some(After::Quit));
    };
    let Some(r) = list.get(i) else {
        return Ok(None);
    };
    io.say("The next sign-in from that client will ask for your second factor again.")?;
    if !io.confirm_word("revoke")? {
        return Ok(None);
    }
    change(
        io,
        deps,
        Change::ForgetDevice {
            id: r.id.clone(),
            current: r.current,
        },
    )
    .await
}

pub async fn sign_out_everywhere<R: BufRead, W: Write>(io: &mut Io<R, W>, deps: &Deps) -> Next {
    let user = deps.backend.account().await.ok().map(|a| a.username);
    let journey = sign_out::everywhere(
        &*deps.backend,
        &deps.keeper,
        io,
        user.as_deref(),
        Confirm::Ask,
    );
    match split(journey.await)? {
        Ok(true) => {
            io.say(rules::SIGNED_OUT_EVERYWHERE)?;
            Ok(Some(After::SignIn))
        }
        Ok(false) => {
            io.say("Nothing was changed.")?;
            Ok(None)
        }
        Err(e) => say_err(io, e),
    }
}

/// "I lost my phone": the shared journey, then back to the menu (or to
/// sign-in, when it signed out everywhere).
pub async fn lost_phone<R: BufRead, W: Write>(io: &mut Io<R, W>, deps: &Deps) -> Next {
    let user = deps.backend.account().await.ok().map(|a| a.username);
    let journey = lost_phone::run(&*deps.backend, &deps.keeper, io, user.as_deref());
    match split(journey.await)? {
        Ok(summary) if summary.signed_out => Ok(Some(After::SignIn)),
        Ok(_) => Ok(None),
        Err(e) => say_err(io, e),
    }
}

pub async fn outbox<R: BufRead, W: Write>(io: &mut Io<R, W>, deps: &Deps) -> Next {
    let Some(demo) = &deps.demo else {
        return Ok(None);
    };
    match demo.outbox().await {
        Ok(list) if list.is_empty() => io.say("Nothing sent yet.")?,
        Ok(list) => {
            for m in list {
                io.say(&format!(
                    "{} {} to {}: {}",
                    m.sent_at, m.channel, m.recipient, m.body
                ))?;
            }
        }
        Err(e) => io.say(&format!("Error: {e}"))?,
    }
    Ok(None)
}

fn say_err<R: BufRead, W: Write>(io: &mut Io<R, W>, e: BackendError) -> Next {
    io.say(&format!("Error: {e}"))?;
    Ok(matches!(e, BackendError::SignInRequired).then_some(After::SignIn))
}
