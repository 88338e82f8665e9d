//! `secinfo phone`: the simulated authenticator phone. It answers a server
//! on this computer only (the reference server or the demo), so it is built
//! with the `server` feature, as they are.

use super::{Failure, Outcome, exit, prompt};
use crate::phone::{Phone, PhoneError, Pick, describe};
use crate::protocol::PendingPush;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PhoneArgs {
    /// The phone's data dir (default: the demo's phone without a config, else <data dir>/phone).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: PhoneCommand,
}

#[derive(Debug, Subcommand)]
pub enum PhoneCommand {
    /// Add an account from an activation link (the QR code's text). The link is a
    /// one-time secret: give `-` (or nothing) to read it from stdin rather than
    /// leave it in the shell's history and the process list.
    Activate {
        #[arg(default_value = "-")]
        payload: String,
        #[arg(long, default_value = "Simulated phone")]
        name: String,
    },
    /// Sign-ins waiting for approval.
    Pending(super::JsonFlag),
    /// Approve a waiting sign-in: type the number the signing-in screen shows.
    /// When several wait, give --id (from `phone pending`) or choose when asked.
    Approve {
        #[arg(long)]
        number: u32,
        /// The request to approve, as `phone pending` lists it.
        #[arg(long, value_name = "ID")]
        id: Option<String>,
    },
    /// Deny a waiting sign-in (--id, or choose when several wait).
    Deny {
        #[arg(long, value_name = "ID")]
        id: Option<String>,
    },
    /// The current code of the account's authenticator (TOTP).
    Code { username: Option<String> },
    /// Drop an account from the phone (like the app's "Remove account").
    RemoveAccount { username: String },
    /// Accounts on this phone.
    Accounts(super::JsonFlag),
}

impl PhoneCommand {
    pub fn wants_json(&self) -> bool {
        matches!(self, Self::Pending(j) | Self::Accounts(j) if j.json)
    }
}

fn phone_failure(e: crate::phone::PhoneError) -> Failure {
    Failure::new(exit::FAILURE, "phone", e.to_string())
}

/// Answers the request `id` names, or the only one waiting; when several
/// wait, lists them (account, client, place, time) and asks which. Never guesses:
/// no answer (end of input, `--no-input` on a terminal) is a usage error.
async fn answer_one(
    phone: &Phone,
    id: Option<&str>,
    number: Option<u32>,
) -> Result<PendingPush, Failure> {
    let pick = Pick {
        push_id: id,
        username: None,
    };
    let list = match phone.answer(pick, number).await {
        Err(PhoneError::SeveralPending(list)) => list,
        other => return other.map_err(phone_failure),
    };
    esay!("{} sign-ins are waiting on this phone:", list.len());
    for (i, p) in list.iter().enumerate() {
        esay!("  {}. {}  (id {})", i + 1, describe(p), p.push_id);
    }
    let chosen = prompt::line(&format!("Which one? Enter 1-{}: ", list.len()))
        .and_then(|a| a.trim().parse::<usize>().ok())
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| list.get(i));
    let Some(chosen) = chosen else {
        return Err(prompt::missing(
            "which sign-in to answer was not chosen; give --id ID",
        ));
    };
    let pick = Pick {
        push_id: Some(&chosen.push_id),
        username: None,
    };
    phone.answer(pick, number).await.map_err(phone_failure)
}

pub async fn phone(a: PhoneArgs) -> Outcome {
    // The demo's server lives only while a process runs it: bring one up over the demo database.
    let demo_mode = a.dir.is_none() && !crate::paths::config_file().exists();
    let demo = if demo_mode {
        Some(
            crate::demo::start()
                .await
                .map_err(|e| Failure::new(exit::FAILURE, "demo", e.to_string()))?,
        )
    } else {
        None
    };
    let dir = match (&a.dir, &demo) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) => d.phone_dir(),
        (None, None) => crate::paths::data_dir().join("phone"),
    };
    let mut phone = Phone::open(&dir).map_err(phone_failure)?;
    if let Some(d) = &demo {
        phone = phone.with_server_url(&d.url);
    }
    match a.command {
        PhoneCommand::Activate { payload, name } => {
            let payload = match payload.as_str() {
                "-" => super::prompt::line("Activation link: ")
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .ok_or_else(|| {
                        Failure::new(
                            exit::USAGE,
                            "usage",
                            "no activation link given (end of input)",
                        )
                    })?,
                _ => payload,
            };
            let r = phone
                .activate(&payload, &name)
                .await
                .map_err(phone_failure)?;
            say!(
                "Added {} on this phone (device {}).",
                r.username,
                r.device_id
            );
        }
        PhoneCommand::Pending(j) => {
            let list = phone.pending().await.map_err(phone_failure)?;
            if j.json {
                return Ok(super::output::print_json(
                    &super::output::PhonePending::new(&list),
                )?);
            }
            if list.is_empty() {
                say!("Nothing waiting.");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|p| {
                    vec![
                        p.push_id.clone(),
                        p.username.clone(),
                        p.client.clone(),
                        p.ip.clone(),
                        p.created_at.clone(),
                    ]
                })
                .collect();
            super::lists::print_table(&["ID", "ACCOUNT", "CLIENT", "FROM", "ASKED"], &rows);
        }
        PhoneCommand::Approve { number, id } => {
            let push = answer_one(&phone, id.as_deref(), Some(number)).await?;
            say!("Approved the sign-in of {}.", describe(&push));
        }
        PhoneCommand::Deny { id } => {
            let push = answer_one(&phone, id.as_deref(), None).await?;
            say!("Denied the sign-in of {}.", describe(&push));
        }
        PhoneCommand::Code { username } => {
            let code = phone.code(username.as_deref()).map_err(phone_failure)?;
            say!("{}", code.expose());
        }
        PhoneCommand::RemoveAccount { username } => {
            phone
                .remove_account(&username)
                .await
                .map_err(phone_failure)?;
            say!("Removed {username} from this phone.");
        }
        PhoneCommand::Accounts(j) => {
            let accounts = phone.accounts();
            if j.json {
                return Ok(super::output::print_json(
                    &super::output::PhoneAccounts::new(&accounts),
                )?);
            }
            let rows: Vec<Vec<String>> = accounts
                .iter()
                .map(|a| vec![a.username.clone(), a.name.clone(), a.device_id.clone()])
                .collect();
            super::lists::print_table(&["ACCOUNT", "PHONE", "DEVICE"], &rows);
        }
    }
    Ok(())
}
