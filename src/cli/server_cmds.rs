//! Commands for whoever runs the reference server, the simulated phone, the
//! demo and the config file: `serve`, `admin`, `phone`, `demo`, `config`.

use super::{Failure, Outcome, exit, prompt};
use crate::phone::{Phone, PhoneError, Pick, describe};
use crate::protocol::PendingPush;
use crate::secrets::SecretString;
use crate::server::{self, Settings, admin};
use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
    /// The SQLite database (created and migrated at start-up).
    #[arg(long, default_value = "secinfo-server.db")]
    pub db: PathBuf,
    /// Address to listen on. Without --tls-cert it speaks plain HTTP: keep it on loopback or put TLS in front.
    #[arg(long, default_value = "127.0.0.1:8700")]
    pub listen: SocketAddr,
    /// Serve HTTPS (rustls) with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Show the messages the server "sent" (codes and security notices).
    Outbox {
        #[arg(long)]
        db: PathBuf,
        /// Only messages to this phone number or address.
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn server_failure(e: server::ServerError) -> Failure {
    Failure::new(exit::FAILURE, "server", e.to_string())
}

pub async fn serve(a: ServeArgs) -> Outcome {
    if let Some(ServeCommand::Outbox { db, to, json }) = a.command {
        let messages = server::outbox(&db, to.as_deref()).map_err(server_failure)?;
        if json {
            super::output::print_json(&serde_json::json!({ "schema": 1, "messages": messages }))?;
        } else {
            for m in &messages {
                say!(
                    "{}  {} to {}: {}",
                    m.sent_at,
                    m.channel,
                    m.recipient,
                    m.body
                );
            }
        }
        return Ok(());
    }
    let tls = match (a.tls_cert, a.tls_key) {
        (Some(cert), Some(key)) => Some(server::Tls { cert, key }),
        _ => None,
    };
    if tls.is_none() && !a.listen.ip().is_loopback() {
        esay!(
            "warning: serving plain HTTP on {}; pass --tls-cert and --tls-key, or put a TLS proxy in front of it",
            a.listen
        );
    }
    let listener = tokio::net::TcpListener::bind(a.listen).await.map_err(|e| {
        Failure::new(
            exit::FAILURE,
            "io",
            format!("cannot listen on {}: {e}", a.listen),
        )
    })?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    esay!(
        "secinfo reference server on {scheme}://{} (database {})",
        a.listen,
        a.db.display()
    );
    match tls {
        Some(tls) => server::serve_tls(listener, &a.db, a.settings, tls).await,
        None => server::serve(listener, &a.db, a.settings).await,
    }
    .map_err(server_failure)
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    #[arg(long)]
    pub db: PathBuf,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from stdin (or asked without echo).
    Add {
        username: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Set a user's password (read from stdin); ends every session, token and app password.
    Passwd { username: String },
    /// Remove every MFA method, device and remembered grant of a user, and end every session, token, open sign-in, enrollment, recovery code and app password.
    ResetMfa { username: String },
    /// List users.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Print an activation link for an authenticator phone (`secinfo phone activate LINK`).
    Activation {
        username: String,
        /// The server's URL as the phone reaches it.
        #[arg(long, default_value = "http://127.0.0.1:8700")]
        url: String,
    },
}

fn new_password() -> Result<SecretString, Failure> {
    prompt::secret("New password: ")
        .ok_or_else(|| Failure::new(exit::USAGE, "usage", "no password given"))
}

pub fn admin(a: AdminArgs) -> Outcome {
    let db = &a.db;
    match a.command {
        AdminCommand::User(UserCommand::Add {
            username,
            display_name,
        }) => {
            let pw = new_password()?;
            admin::add_user(
                db,
                &username,
                display_name.as_deref().unwrap_or(&username),
                &pw,
            )
            .map_err(server_failure)?;
            say!("Added {username}.");
        }
        AdminCommand::User(UserCommand::Passwd { username }) => {
            admin::set_password(db, &username, &new_password()?).map_err(server_failure)?;
            say!("Password of {username} changed.");
        }
        AdminCommand::User(UserCommand::ResetMfa { username }) => {
            admin::reset_mfa(db, &username).map_err(server_failure)?;
            say!("MFA of {username} reset: the next sign-in goes straight to adding a method.");
        }
        AdminCommand::User(UserCommand::List { json }) => {
            let users = admin::list_users(db).map_err(server_failure)?;
            if json {
                super::output::print_json(&serde_json::json!({ "schema": 1, "users": users }))?;
            } else {
                for u in &users {
                    let locked = if u.locked { "  (locked)" } else { "" };
                    say!(
                        "{:<28} {:<20} {} MFA methods, {} devices{locked}",
                        u.username,
                        u.display_name,
                        u.mfa_methods,
                        u.devices
                    );
                }
            }
        }
        AdminCommand::User(UserCommand::Activation { username, url }) => {
            say!(
                "{}",
                admin::new_activation(db, &username, &url).map_err(server_failure)?
            );
        }
    }
    Ok(())
}

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
        phone = phone.with_server_url(&d.server.url);
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

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Forget the demo's world; the next run seeds it again.
    Reset,
}

pub fn demo(c: DemoCommand) -> Outcome {
    match c {
        DemoCommand::Reset => {
            let dir = crate::demo::reset()?;
            let accounts = crate::accounts::KnownAccounts::default_path();
            let mut known = crate::accounts::KnownAccounts::load(&accounts);
            let demo_users: Vec<String> = known
                .for_profile(crate::demo::PROFILE)
                .map(|a| a.username.clone())
                .collect();
            for u in demo_users {
                known.remove(crate::demo::PROFILE, &u)?;
            }
            say!(
                "Demo reset ({} removed). The next run starts over.",
                dir.display()
            );
            Ok(())
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented config file to start from.
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print where the config file is read from.
    Path,
}

pub fn config(c: ConfigCommand) -> Outcome {
    let path = super::config_path();
    match c {
        ConfigCommand::Path => say!("{}", path.display()),
        ConfigCommand::Init { force } => {
            if path.exists() && !force {
                return Err(Failure::new(
                    exit::FAILURE,
                    "exists",
                    format!("{} exists; pass --force to overwrite it", path.display()),
                ));
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, crate::config::EXAMPLE)?;
            say!(
                "Wrote {}. Edit the [profiles.work] table, then run `secinfo`.",
                path.display()
            );
        }
    }
    Ok(())
}
