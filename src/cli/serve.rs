//! Commands for whoever runs the reference server: `serve` and `admin`.
//! Only in builds with the `server` feature (the default).

use super::{Failure, Outcome, exit, prompt};
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
