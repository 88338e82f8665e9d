//! `password change`, `app-passwords`, `recovery-codes`: the secrets a person
//! is shown once. They go to stdout only at creation; the notes around them
//! to stderr. Every change goes through `with_step_up`.

use super::account::with_step_up;
use super::output;
use super::prompt::Terminal;
use super::{Context, Failure, Global, JsonFlag, Outcome, exit, prompt};
use crate::journeys::asker::Confirm;
use crate::journeys::dry_run::Destructive;
use crate::journeys::{app_passwords, recovery_codes, rules};
use crate::present::date;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum PasswordCommand {
    /// Change your password: the current one, then the new one twice, from stdin.
    Change,
}

#[derive(Debug, Subcommand)]
pub enum AppPasswordsCommand {
    /// List your app passwords (never the passwords themselves).
    List(JsonFlag),
    /// Create one for an app that cannot do MFA; the password is shown once.
    Create {
        name: String,
        /// The service it is for, where the backend has them.
        #[arg(long, value_name = "ID")]
        service: Option<String>,
        /// Print {schema, id, name, password}.
        #[arg(long)]
        json: bool,
    },
    /// Delete one: the app using it stops signing in.
    Delete {
        id: String,
        /// Don't ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Say what would be deleted; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecoveryCodesCommand {
    /// How many unused recovery codes remain.
    Status(JsonFlag),
    /// A new set, shown once; the old set stops working.
    Generate {
        /// Don't ask before replacing a set that still has codes.
        #[arg(long)]
        yes: bool,
        /// Print {schema, codes}.
        #[arg(long)]
        json: bool,
        /// Say what would be replaced; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub fn wants_json_app(c: &AppPasswordsCommand) -> bool {
    matches!(
        c,
        AppPasswordsCommand::List(JsonFlag { json: true })
            | AppPasswordsCommand::Create { json: true, .. }
    )
}

pub fn wants_json_recovery(c: &RecoveryCodesCommand) -> bool {
    matches!(
        c,
        RecoveryCodesCommand::Status(JsonFlag { json: true })
            | RecoveryCodesCommand::Generate { json: true, .. }
    )
}

async fn signed_in(g: &Global) -> Result<Context, Failure> {
    let ctx = Context::open(g).await?;
    ctx.require_session().await?;
    Ok(ctx)
}

pub async fn password(g: &Global, command: PasswordCommand) -> Outcome {
    let PasswordCommand::Change = command;
    let ctx = signed_in(g).await?;
    let missing = || prompt::missing("no password given; nothing was changed");
    let current = prompt::secret("Current password: ").ok_or_else(missing)?;
    let new = prompt::secret("New password: ").ok_or_else(missing)?;
    let again = prompt::secret("New password again: ").ok_or_else(missing)?;
    if new.expose() != again.expose() {
        return Err(Failure::new(
            exit::USAGE,
            "usage",
            "the two new passwords are not the same; nothing was changed",
        ));
    }
    drop(again);
    with_step_up(&ctx, || ctx.backend.change_password(&current, &new)).await?;
    say!("Your password was changed. Other sessions were signed out; this one stays signed in.");
    Ok(())
}

pub async fn app_passwords(g: &Global, command: AppPasswordsCommand) -> Outcome {
    let ctx = signed_in(g).await?;
    if let Some(reason) = ctx.backend.capabilities().await?.app_passwords.reason() {
        return Err(Failure::new(
            exit::NOT_SUPPORTED,
            "not_supported",
            reason.to_string(),
        ));
    }
    match command {
        AppPasswordsCommand::List(j) => {
            let list = ctx.backend.app_passwords().await?;
            if j.json {
                return Ok(output::print_json(&output::AppPasswords::new(&list))?);
            }
            if list.is_empty() {
                say!("No app passwords.");
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|a| {
                    vec![
                        a.id.clone(),
                        a.name.clone(),
                        date(a.created),
                        date(a.last_used),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                super::lists::print_table(&["ID", "NAME", "CREATED", "LAST USED"], &rows);
            }
            Ok(())
        }
        AppPasswordsCommand::Create {
            name,
            service,
            json,
        } => {
            let (app, password) = app_passwords::create(
                &*ctx.backend,
                &mut Terminal::default(),
                &name,
                service.as_deref(),
            )
            .await?
            .ok_or_else(|| Failure::cancelled("nothing was created"))?;
            if json {
                return Ok(output::print_json(&output::AppPasswordCreated {
                    schema: output::SCHEMA,
                    id: app.id.clone(),
                    name: app.name.clone(),
                    password: password.expose().to_string(),
                })?);
            }
            say!(
                "App password for \"{}\" ({}): {}",
                app.name,
                app.id,
                password.expose()
            );
            esay!("{}", rules::APP_PASSWORD_SHOWN_ONCE);
            Ok(())
        }
        AppPasswordsCommand::Delete {
            id, dry_run: true, ..
        } => super::lists::dry_run(&ctx, Destructive::DeleteAppPassword(&id)).await,
        AppPasswordsCommand::Delete { id, yes, .. } => {
            let confirm = if yes { Confirm::Given } else { Confirm::Ask };
            let said = app_passwords::delete(&*ctx.backend, &mut Terminal::default(), &id, confirm)
                .await?
                .ok_or_else(|| Failure::cancelled("nothing was changed"))?;
            say!("{said}");
            Ok(())
        }
    }
}

pub async fn recovery_codes(g: &Global, command: RecoveryCodesCommand) -> Outcome {
    let ctx = signed_in(g).await?;
    match command {
        RecoveryCodesCommand::Status(j) => {
            let left = ctx.backend.recovery_codes_left().await?;
            if j.json {
                return Ok(output::print_json(&output::RecoveryCodesStatus {
                    schema: output::SCHEMA,
                    generated: left.is_some(),
                    remaining: left,
                })?);
            }
            match left {
                Some(n) => say!("{n} unused recovery codes left."),
                None => {
                    say!("No recovery codes yet: `secinfo recovery-codes generate` makes a set.")
                }
            }
            Ok(())
        }
        RecoveryCodesCommand::Generate { dry_run: true, .. } => {
            super::lists::dry_run(&ctx, Destructive::GenerateRecoveryCodes).await
        }
        RecoveryCodesCommand::Generate { yes, json, .. } => {
            let confirm = if yes { Confirm::Given } else { Confirm::Ask };
            let codes = recovery_codes::generate(&*ctx.backend, &mut Terminal::default(), confirm)
                .await?
                .ok_or_else(|| Failure::cancelled("your codes are as they were"))?;
            if json {
                return Ok(output::print_json(&output::RecoveryCodes {
                    schema: output::SCHEMA,
                    codes: codes.iter().map(|c| c.expose().to_string()).collect(),
                })?);
            }
            for c in &codes {
                say!("{}", c.expose());
            }
            esay!("{}", rules::keep_recovery_codes(codes.len()));
            Ok(())
        }
    }
}
