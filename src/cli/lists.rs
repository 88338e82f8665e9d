//! `methods`, `devices`, `sessions`, `remembered`, `signout-all`: the lists
//! on the Security info page and what can be done to their rows.

use super::output;
use super::prompt::Terminal;
use super::{Context, Failure, Global, JsonFlag, Outcome, exit};
use crate::backend::Refusal;
use crate::journeys::asker::Confirm;
use crate::journeys::change::{self, Override, Target};
use crate::journeys::dry_run::{self, Destructive};
use crate::journeys::lost_phone;
use crate::journeys::{rules, sign_out};
use crate::present::{date, moment, origin};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum MethodsCommand {
    /// List your sign-in methods.
    List(JsonFlag),
    /// Delete a method. Deleting your last usable MFA method needs --confirm=NAME.
    Delete {
        id: String,
        /// The method's name (its detail as listed), to delete your last usable MFA method.
        #[arg(long, value_name = "NAME")]
        confirm: Option<String>,
        /// Say what would be deleted; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Make a method the default for sign-in.
    Default { id: String },
    /// Add a sign-in method: the QR code or the code sent to you, then a code from stdin.
    Add {
        #[command(subcommand)]
        what: super::enroll::AddCommand,
    },
    /// Finish an enrollment started with `methods add totp --json`: the code is read from stdin.
    Verify { enrollment_id: String },
    /// Give a method a new name.
    Rename { id: String, name: String },
    /// Change a phone number or an address: a code is sent to the new one and read from stdin.
    Change {
        id: String,
        /// The new number (international format, or with --country) or address.
        new: String,
        /// The country of a number typed without + (ISO code such as US, or calling code such as 44).
        #[arg(long, value_name = "CC")]
        country: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    List(JsonFlag),
    /// Delete a lost, stolen or old device and the methods on it.
    Delete {
        id: String,
        #[arg(long, value_name = "NAME")]
        confirm: Option<String>,
        /// Say what would be deleted; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Give a device a new name.
    Rename {
        id: String,
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    List(JsonFlag),
    /// Sign out one session.
    Revoke {
        id: String,
        /// Say what would be signed out; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct ActivityArgs {
    /// Machine-readable output (documented in the README, "schema": 1).
    #[arg(long)]
    pub json: bool,
    /// The page older than this one: the cursor the page before ended with.
    #[arg(long, value_name = "CURSOR", conflicts_with = "all")]
    pub before: Option<String>,
    /// Every page, oldest last (up to the server's retention).
    #[arg(long)]
    pub all: bool,
}

/// `--all` stops here even if a server keeps naming more pages.
const MAX_ACTIVITY_PAGES: usize = 100;

#[derive(Debug, Subcommand)]
pub enum RememberedCommand {
    List(JsonFlag),
    /// Revoke one "Don't ask again" grant: that client will ask for MFA again.
    Revoke {
        id: String,
        /// Say what would be revoked; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

async fn signed_in(g: &Global) -> Result<Context, Failure> {
    let ctx = Context::open(g).await?;
    ctx.require_session().await?;
    Ok(ctx)
}

/// The last-method guard's refusal gets the hint the CLI needs.
/// Deletes through the shared journey; the guard's override is `--confirm=NAME` only.
async fn delete(ctx: &Context, target: Target<'_>, confirm: Option<String>) -> Outcome {
    let (Target::Method(id) | Target::Device(id)) = target;
    let deleted = change::delete(
        &*ctx.backend,
        &mut Terminal::default(),
        target,
        Override::Given(confirm),
    )
    .await
    .map_err(|e| match e.refusal {
        Some(Refusal::LastMethod) => Failure::new(
            exit::REFUSED,
            &e.kind,
            format!(
                "{} (to delete it anyway: --confirm=NAME, NAME as listed for {id})",
                e.message
            ),
        ),
        _ => e,
    })?;
    match deleted {
        Some(d) => say!("{}", d.message()),
        None => say!("Nothing was deleted."),
    }
    Ok(())
}

pub async fn methods(g: &Global, command: MethodsCommand) -> Outcome {
    let ctx = signed_in(g).await?;
    match command {
        MethodsCommand::List(j) => {
            let list = ctx.backend.methods().await?;
            if j.json {
                return Ok(output::print_json(&output::Methods::new(
                    &ctx.profile,
                    &list,
                ))?);
            }
            match list.iter().find(|m| m.is_default) {
                Some(d) => say!("Default sign-in method: {} - {}", d.kind.title(), d.detail),
                None => say!("Default sign-in method: none"),
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|m| {
                    vec![
                        m.id.clone(),
                        m.kind.title(),
                        m.detail.clone(),
                        date(m.created),
                    ]
                })
                .collect();
            print_table(&["ID", "METHOD", "DETAIL", "ADDED"], &rows);
            Ok(())
        }
        MethodsCommand::Delete {
            id, dry_run: true, ..
        } => dry_run(&ctx, Destructive::DeleteMethod(&id)).await,
        MethodsCommand::Delete { id, confirm, .. } => {
            delete(&ctx, Target::Method(&id), confirm).await
        }
        MethodsCommand::Default { id } => {
            match change::set_default(&*ctx.backend, &mut Terminal::default(), &id).await? {
                Some(said) => say!("{said}"),
                None => say!("Nothing was changed."),
            }
            Ok(())
        }
        MethodsCommand::Add { what } => super::enroll::add(g, &ctx, what).await,
        MethodsCommand::Verify { enrollment_id } => {
            super::enroll::verify(&ctx, &enrollment_id).await
        }
        MethodsCommand::Change { id, new, country } => {
            super::enroll::change(g, &ctx, &id, &new, country.as_deref()).await
        }
        MethodsCommand::Rename { id, name } => rename(&ctx, Target::Method(&id), &name).await,
    }
}

async fn rename(ctx: &Context, target: Target<'_>, name: &str) -> Outcome {
    let said = change::rename(&*ctx.backend, &mut Terminal::default(), target, name)
        .await?
        .ok_or_else(|| Failure::cancelled("nothing was changed"))?;
    say!("{said}");
    Ok(())
}

pub async fn devices(g: &Global, command: DevicesCommand) -> Outcome {
    let ctx = signed_in(g).await?;
    match command {
        DevicesCommand::List(j) => {
            let list = ctx.backend.devices().await?;
            if j.json {
                return Ok(output::print_json(&output::Devices::new(&list))?);
            }
            if list.is_empty() {
                say!("No authenticator devices.");
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|d| {
                    let note = if d.reachable {
                        ""
                    } else {
                        " (the app no longer has this account)"
                    };
                    vec![
                        d.id.clone(),
                        d.name.clone(),
                        d.platform.clone(),
                        date(d.added),
                        format!("{}{note}", date(d.last_used)),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                print_table(&["ID", "DEVICE", "PLATFORM", "ADDED", "LAST USED"], &rows);
            }
            Ok(())
        }
        DevicesCommand::Delete {
            id, dry_run: true, ..
        } => dry_run(&ctx, Destructive::DeleteDevice(&id)).await,
        DevicesCommand::Delete { id, confirm, .. } => {
            delete(&ctx, Target::Device(&id), confirm).await
        }
        DevicesCommand::Rename { id, name } => rename(&ctx, Target::Device(&id), &name).await,
    }
}

pub async fn sessions(g: &Global, command: SessionsCommand) -> Outcome {
    let ctx = signed_in(g).await?;
    match command {
        SessionsCommand::List(j) => {
            let list = ctx.backend.sessions().await?;
            if j.json {
                return Ok(output::print_json(&output::Sessions::new(&list))?);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|s| {
                    let this = if s.current { " (this session)" } else { "" };
                    vec![
                        s.id.clone(),
                        s.client.clone(),
                        s.ip.clone(),
                        format!("{}{this}", date(s.signed_in)),
                    ]
                })
                .collect();
            print_table(&["ID", "CLIENT", "IP", "SIGNED IN"], &rows);
            Ok(())
        }
        SessionsCommand::Revoke { id, dry_run: true } => {
            dry_run(&ctx, Destructive::RevokeSession(&id)).await
        }
        SessionsCommand::Revoke { id, .. } => {
            ctx.backend.revoke_session(&id).await?;
            say!("Signed out session {id}.");
            Ok(())
        }
    }
}

pub async fn activity(g: &Global, a: ActivityArgs) -> Outcome {
    let ctx = signed_in(g).await?;
    let mut page = ctx.backend.activity(a.before.as_deref()).await?;
    if a.all {
        let mut followed = std::collections::HashSet::new();
        while let Some(cursor) = page.next.take() {
            // A server that names a page again would keep this going for ever.
            if followed.len() == MAX_ACTIVITY_PAGES || !followed.insert(cursor.clone()) {
                break;
            }
            let older = ctx.backend.activity(Some(&cursor)).await?;
            page.events.extend(older.events);
            page.next = older.next;
        }
    }
    if a.json {
        return Ok(output::print_json(&output::Activity::new(&page))?);
    }
    if page.events.is_empty() {
        say!("No recent activity.");
    }
    let rows: Vec<Vec<String>> = page
        .events
        .iter()
        .map(|e| {
            vec![
                moment(e.at),
                e.kind.label().to_string(),
                e.what.clone(),
                origin(e.client.as_deref(), e.ip.as_deref()),
                e.factor.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print_table(&["WHEN (UTC)", "EVENT", "WHAT", "FROM", "HOW"], &rows);
    if let Some(next) = &page.next {
        say!("Older: secinfo activity --before {next}");
    }
    Ok(())
}

pub async fn remembered(g: &Global, command: RememberedCommand) -> Outcome {
    let ctx = signed_in(g).await?;
    match command {
        RememberedCommand::List(j) => {
            let list = ctx.backend.remembered_devices().await?;
            if j.json {
                return Ok(output::print_json(&output::Remembered::new(&list))?);
            }
            if list.is_empty() {
                say!("No remembered devices.");
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|r| {
                    let this = if r.current { " (this client)" } else { "" };
                    vec![
                        r.id.clone(),
                        r.client.clone(),
                        format!("{}{this}", date(r.expires)),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                print_table(&["ID", "CLIENT", "EXPIRES"], &rows);
            }
            Ok(())
        }
        RememberedCommand::Revoke { id, dry_run: true } => {
            dry_run(&ctx, Destructive::RevokeRemembered(&id)).await
        }
        RememberedCommand::Revoke { id, .. } => {
            ctx.backend.forget_device(&id).await?;
            say!("Revoked {id}: that client will ask for a second factor again.");
            Ok(())
        }
    }
}

/// `secinfo lost-phone`: the shared journey, after a sign-in if there is none
/// (with another method or a recovery code: the second factor offers both).
pub async fn lost_phone(g: &Global, dry: bool, json: bool) -> Outcome {
    let mut ctx = Context::open(g).await?;
    if !ctx.restore().await || ctx.backend.account().await.is_err() {
        if dry {
            ctx.require_session().await?;
        }
        esay!("First, sign in with another method or a recovery code.");
        super::account::login(g, super::account::LoginArgs::default()).await?;
        ctx = Context::open(g).await?;
        ctx.require_session().await?;
    }
    if dry {
        let devices = ctx.backend.devices().await?;
        let methods = ctx.backend.methods().await?;
        if json {
            return Ok(output::print_json(&output::LostPhonePlan::new(
                &devices, &methods,
            ))?);
        }
        for d in &devices {
            let on: Vec<String> = lost_phone::on_device(d, &methods)
                .into_iter()
                .map(crate::domain::method_name)
                .collect();
            say!("{}  {} ({}): {}", d.id, d.name, d.platform, on.join(", "));
        }
        say!(
            "Would offer, one at a time: delete the lost device and its methods, sign out \
             everywhere (or revoke \"Don't ask again\"), add a new method."
        );
        say!("{}", dry_run::NOTHING_CHANGED);
        return Ok(());
    }
    let user = ctx
        .username
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let keeper = ctx.keeper();
    let mut terminal = Terminal::listening(g.plain);
    lost_phone::run(&*ctx.backend, &keeper, &mut terminal, user.as_deref()).await?;
    Ok(())
}

/// A list as aligned columns on stdout.
pub(super) fn print_table(header: &[&str], rows: &[Vec<String>]) {
    for line in output::table(header, rows) {
        println!("{line}");
    }
}

/// `--dry-run`: what would happen, from the server's current state.
pub(super) async fn dry_run(ctx: &Context, step: Destructive<'_>) -> Outcome {
    say!("{}", dry_run::describe(&*ctx.backend, step).await?);
    say!("{}", dry_run::NOTHING_CHANGED);
    Ok(())
}

pub async fn signout_all(g: &Global, yes: bool, dry: bool) -> Outcome {
    let ctx = signed_in(g).await?;
    if dry {
        return dry_run(&ctx, Destructive::SignOutEverywhere).await;
    }
    if let Some(reason) = ctx
        .backend
        .capabilities()
        .await?
        .sign_out_everywhere
        .reason()
    {
        return Err(Failure::new(
            exit::NOT_SUPPORTED,
            "not_supported",
            reason.to_string(),
        ));
    }
    let user = ctx
        .username
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let confirm = if yes { Confirm::Given } else { Confirm::Ask };
    let keeper = ctx.keeper();
    let mut terminal = Terminal::default();
    if !sign_out::everywhere(
        &*ctx.backend,
        &keeper,
        &mut terminal,
        user.as_deref(),
        confirm,
    )
    .await?
    {
        return Err(Failure::cancelled("nothing was changed"));
    }
    say!("{}", rules::SIGNED_OUT_EVERYWHERE);
    Ok(())
}
