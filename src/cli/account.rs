//! `login`, `logout`, `status`, `accounts`: the sign-in journey on the command line.

use super::prompt::Terminal;
use super::{Context, Failure, Global, Outcome, exit, output, prompt};
use crate::backend::{BackendError, Challenge, SignIn};
use crate::journeys::second_factor::{self, Remember};
use clap::{Args, Subcommand};

#[derive(Debug, Args, Default)]
pub struct LoginArgs {
    /// The account (default: the one used last). The password is asked, never taken as an argument.
    #[arg(long)]
    pub username: Option<String>,
    /// Tick "Don't ask again for N days" for this client.
    #[arg(long)]
    pub remember: bool,
    /// The outcome as JSON on stdout (documented in the README, "schema": 1); questions still go to stderr.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// List the accounts this client knows (the default).
    List(super::JsonFlag),
    /// Forget an account on this client (signs it out here).
    Remove { username: String },
}

pub async fn login(g: &Global, args: LoginArgs) -> Outcome {
    let ctx = Context::open(g).await?;
    let last = args
        .username
        .clone()
        .or_else(|| ctx.preset_username.clone())
        .or_else(|| ctx.last_account());
    if let Some(demo) = &ctx.demo {
        esay!(
            "This is the secinfo demo. Account: {}  Password: {}",
            demo.account.username,
            demo.account.password
        );
    }
    if ctx.backend.signs_in_with_browser() {
        return browser_login(&ctx, args.json).await;
    }
    let username = match args.username {
        Some(u) => u,
        None => {
            let hint = last
                .as_deref()
                .map(|l| format!(" [{l}]"))
                .unwrap_or_default();
            let typed = prompt::line(&format!("Username{hint}: ")).unwrap_or_default();
            match (typed.trim(), last) {
                ("", Some(l)) => l,
                ("", None) => {
                    return Err(prompt::missing(
                        "a username is needed: give it with --username NAME",
                    ));
                }
                (t, _) => t.to_string(),
            }
        }
    };
    // Brings back this account's "Don't ask again" grant, if it has one.
    ctx.set_user(&username);
    ctx.keeper()
        .restore_grant_only(&*ctx.backend, &username)
        .await;
    let password = prompt::secret("Password: ")
        .ok_or_else(|| Failure::new(exit::USAGE, "usage", "no password given"))?;
    let mut step = ctx.backend.sign_in(&username, &password).await?;
    drop(password);
    loop {
        match step {
            SignIn::Done { mfa_setup_required } => {
                signed_in_as(&ctx, Some(&username), args.json, mfa_setup_required).await?;
                if mfa_setup_required {
                    esay!(
                        "Let's keep your account secure: add a sign-in method with `secinfo methods add totp` \
                         (or `authenticator`, `email ADDRESS`, `phone NUMBER`), or in the app: \"+ Add sign-in method\"."
                    );
                }
                return Ok(());
            }
            SignIn::SecondFactor(challenge) => {
                step = second_factor(&ctx, &challenge, args.remember).await?;
            }
            SignIn::Browser(b) => {
                step = crate::journeys::browser::finish(&*ctx.backend, &mut Terminal::default(), b)
                    .await?;
            }
            SignIn::Pending => {
                return Err(Failure::new(
                    exit::BACKEND,
                    "unexpected",
                    "the server left the sign-in pending",
                ));
            }
        }
    }
}

/// A sign-in finished in a browser (OAuth device authorization): nothing is
/// asked here, and who signed in is known once it is done.
async fn browser_login(ctx: &Context, json: bool) -> Outcome {
    let mut step = ctx
        .backend
        .sign_in("", &crate::secrets::SecretString::new(""))
        .await?;
    while let SignIn::Browser(b) = step {
        step = crate::journeys::browser::finish(&*ctx.backend, &mut Terminal::default(), b).await?;
    }
    let SignIn::Done { mfa_setup_required } = step else {
        return Err(Failure::new(
            exit::BACKEND,
            "unexpected",
            "the sign-in server asked for a step outside the browser",
        ));
    };
    signed_in_as(ctx, None, json, mfa_setup_required).await
}

/// Keeps the sign-in and says who is signed in, and where. `username`: as
/// typed; `None` after a browser sign-in, which learns it from the account.
async fn signed_in_as(
    ctx: &Context,
    username: Option<&str>,
    json: bool,
    mfa_setup_required: bool,
) -> Outcome {
    let account = ctx.backend.account().await?;
    let username = username.unwrap_or(&account.username);
    let warning = ctx.signed_in(username, &account.display_name).await;
    if json {
        output::print_json(&output::LoggedIn {
            schema: output::SCHEMA,
            profile: ctx.profile.clone(),
            username: username.to_string(),
            display_name: account.display_name.clone(),
            mfa_setup_required,
            kept: warning.is_none(),
            note: warning.clone(),
        })?;
    }
    esay!(
        "Signed in as {} ({}) on {}.",
        account.display_name,
        account.username,
        ctx.profile
    );
    if let Some(w) = warning {
        esay!("Note: {w}");
    }
    Ok(())
}

/// "Verify your identity" on the terminal: the shared second-factor journey.
pub async fn second_factor(
    ctx: &Context,
    challenge: &Challenge,
    remember: bool,
) -> Result<SignIn, Failure> {
    let remember = if remember {
        Remember::Yes
    } else {
        Remember::No
    };
    second_factor::verify(
        &*ctx.backend,
        &mut Terminal::default(),
        challenge.clone(),
        remember,
    )
    .await?
    .ok_or_else(|| Failure::cancelled("not signed in"))
}

/// Run a change; if the server wants a fresh second factor, ask for it and retry once.
pub async fn with_step_up<T, F, Fut>(ctx: &Context, change: F) -> Result<T, Failure>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, BackendError>>,
{
    crate::journeys::step_up::guarded(&*ctx.backend, &mut Terminal::default(), change)
        .await??
        .ok_or_else(|| Failure::cancelled("nothing was changed"))
}

pub async fn logout(g: &Global) -> Outcome {
    let ctx = Context::open(g).await?;
    let Some(user) = ctx.last_account() else {
        esay!("Not signed in.");
        return Ok(());
    };
    ctx.restore_account(&user).await;
    // The grant stays: "Don't ask again" outlives a sign-out, as on the portal.
    ctx.keeper().sign_out(&*ctx.backend, &user).await?;
    esay!("Signed out of {} on {}.", user, ctx.profile);
    Ok(())
}

pub async fn status(g: &Global, json: bool) -> Outcome {
    let ctx = Context::open(g).await?;
    let restored = ctx.restore().await;
    let account = if restored {
        ctx.backend.account().await.ok()
    } else {
        None
    };
    let store = ctx.store.info();
    let out = output::Status {
        schema: 1,
        profile: ctx.profile.clone(),
        server: ctx.server_url.clone(),
        demo: ctx.demo.is_some(),
        signed_in: account.is_some(),
        username: account
            .as_ref()
            .map(|a| a.username.clone())
            .or(ctx.last_account()),
        display_name: account.as_ref().map(|a| a.display_name.clone()),
        secret_store: store.name.clone(),
        secret_persistence: store.persistence.clone(),
    };
    if json {
        output::print_json(&out)
    } else {
        say!(
            "Profile:  {}{}",
            out.profile,
            if out.demo { " (the built-in demo)" } else { "" }
        );
        say!("Server:   {}", out.server);
        match (&out.display_name, &out.username) {
            (Some(d), Some(u)) => say!("Signed in as {d} ({u})"),
            (None, Some(u)) => say!("Not signed in (last account: {u}); run `secinfo login`"),
            _ => say!("Not signed in; run `secinfo login`"),
        }
        say!(
            "Secrets:  {} ({})",
            out.secret_store,
            out.secret_persistence
        );
        Ok(())
    }
    .map_err(Into::into)
}

pub async fn accounts(g: &Global, command: Option<AccountsCommand>) -> Outcome {
    let ctx = Context::open(g).await?;
    match command.unwrap_or(AccountsCommand::List(super::JsonFlag { json: false })) {
        AccountsCommand::List(j) => {
            let all = ctx.keeper().all_accounts();
            let list = output::Accounts::from(all.as_slice());
            if j.json {
                output::print_json(&list)?;
            } else if list.accounts.is_empty() {
                say!("No accounts yet; run `secinfo login`.");
            } else {
                for a in &list.accounts {
                    say!("{}  {}  ({})", a.profile, a.username, a.display_name);
                }
            }
            Ok(())
        }
        AccountsCommand::Remove { username } => {
            let profile = ctx.profile.clone();
            if ctx.keeper().forget_account(&username).await {
                say!("Removed {username} from this client.");
                Ok(())
            } else {
                Err(Failure::new(
                    exit::FAILURE,
                    "not_found",
                    format!("{username} is not on the list of profile {profile}"),
                ))
            }
        }
    }
}
