//! `--plain`: the accessible linear mode. No raw mode, no escape codes, no
//! drawing characters: numbered lines read top to bottom and prompts such as
//! "Enter a number:". It calls the shared journeys (`crate::journeys`):
//! keeping and restoring the sign-in, the second factor, step-up, adding a
//! method, deleting one with the last-method override, and the rest.

mod add;
mod change;
mod io;
mod lists;
mod verify;

use crate::app::Start;
use crate::app::effects::Deps;
use crate::app::state::{DemoInfo, Purpose, method_name};
use crate::backend::SignIn;
use crate::journeys;
use crate::present::date;
use crate::tui::{Context, prepare};
use io::Io;
use std::io::{BufRead, Write};

/// Where plain mode reads the password and codes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secrets {
    /// From the terminal without echo when stdin is one, else from `input`.
    TerminalWhenPresent,
    /// Always from `input` (scripts, tests).
    FromInput,
}

/// Plain mode on `input`/`output`; the password is read without echo when
/// stdin is a terminal, and codes too unless `echo_codes` (the config's
/// `plain_echo_codes`, default true: a screen reader says what was typed).
pub async fn run(
    ctx: Context,
    input: impl BufRead,
    output: impl Write,
    echo_codes: bool,
) -> anyhow::Result<()> {
    let io = Io::new(input, output, Secrets::TerminalWhenPresent).echo_codes(echo_codes);
    run_io(ctx, io).await
}

pub async fn run_with(
    ctx: Context,
    input: impl BufRead,
    output: impl Write,
    secrets: Secrets,
) -> anyhow::Result<()> {
    run_io(ctx, Io::new(input, output, secrets)).await
}

async fn run_io<R: BufRead, W: Write>(ctx: Context, mut io: Io<R, W>) -> anyhow::Result<()> {
    let (state, deps, start) = prepare(ctx);
    // Plain mode draws nothing first, so the kept sign-in is taken up at once.
    let signed_in = match start {
        Start::SignIn => false,
        Start::SignedIn => true,
        Start::Resume(username) => deps.keeper.restore_quietly(&*deps.backend, &username).await,
    };
    io.phone = deps
        .demo
        .clone()
        .map(|d| d as std::sync::Arc<dyn crate::journeys::asker::SimulatedPhone>);
    io.say("secinfo: Security info (plain mode)")?;
    io.say(&format!(
        "Profile {}, server {}",
        state.profile, state.server_url
    ))?;
    if let Some(d) = &state.demo {
        demo_banner(&mut io, d)?;
    }
    let mut accounts = state.accounts.clone();
    loop {
        let username = if signed_in_now(signed_in, &deps).await {
            None
        } else {
            match sign_in(&mut io, &deps, &mut accounts).await? {
                Some(u) => Some(u),
                None => return Ok(()),
            }
        };
        if let Some(username) = username {
            let display = deps
                .backend
                .account()
                .await
                .map(|a| a.display_name)
                .unwrap_or_else(|_| username.clone());
            if let Err(e) = deps.keeper.keep(&*deps.backend, &username, &display).await {
                io.say(&format!("Your sign-in will not be kept: {e}"))?;
            }
            accounts = deps.keeper.accounts();
        }
        match home(&mut io, &deps, state.demo.is_some()).await? {
            After::Quit => return Ok(()),
            After::SignIn => {}
        }
    }
}

async fn signed_in_now(at_start: bool, deps: &Deps) -> bool {
    at_start && deps.backend.account().await.is_ok()
}

fn demo_banner<R: BufRead, W: Write>(io: &mut Io<R, W>, d: &DemoInfo) -> anyhow::Result<()> {
    io.say("This is the demo: a local test server with a made-up account. Nothing here is real.")?;
    io.say(&format!("Demo username: {}", d.username))?;
    io.say(&format!("Demo password: {}", d.password))?;
    io.say("To use your own account, run: secinfo config init")
}

/// Signs in; returns the username, or `None` when the input ended.
async fn sign_in<R: BufRead, W: Write>(
    io: &mut Io<R, W>,
    deps: &Deps,
    accounts: &mut Vec<crate::accounts::KnownAccount>,
) -> anyhow::Result<Option<String>> {
    'sign_in: loop {
        io.blank()?;
        io.say("Sign in")?;
        let mut username = None;
        if !accounts.is_empty() {
            io.say("You have multiple accounts. Choose the account you want to sign in with.")?;
            let mut items: Vec<String> = accounts
                .iter()
                .map(|a| format!("{} ({})", a.display_name, a.username))
                .collect();
            items.push("Use another account".into());
            items.push("Remove an account from this list".into());
            let Some(i) = io.choose(&items)? else {
                return Ok(None);
            };
            if i == accounts.len() + 1 {
                let names: Vec<String> = accounts.iter().map(|a| a.username.clone()).collect();
                io.say("Which account should be removed from this list?")?;
                let Some(j) = io.choose(&names)? else {
                    return Ok(None);
                };
                deps.keeper.forget_account(&names[j]).await;
                *accounts = deps.keeper.accounts();
                io.say(&format!("Removed {} from this list.", names[j]))?;
                continue;
            }
            if let Some(a) = accounts.get(i) {
                let user = a.username.clone();
                if deps.keeper.restore(&*deps.backend, &user).await.is_some() {
                    io.say(&format!("Signed in as {user}."))?;
                    return Ok(Some(user));
                }
                username = Some(user);
            }
        }
        if deps.backend.signs_in_with_browser() {
            match browser_sign_in(io, deps).await? {
                Some(user) => return Ok(Some(user)),
                None => match io.ask("Press Enter to start again.")? {
                    Some(_) => continue 'sign_in,
                    None => return Ok(None),
                },
            }
        }
        let username = match username {
            Some(u) => {
                io.say(&format!("Username: {u}"))?;
                u
            }
            None => match io.ask("Username:")? {
                Some(u) if !u.trim().is_empty() => u.trim().to_string(),
                Some(_) => continue,
                None => return Ok(None),
            },
        };
        let Some(password) = io.ask_secret("Password:")? else {
            return Ok(None);
        };
        deps.keeper
            .restore_grant_only(&*deps.backend, &username)
            .await;
        let result = deps.backend.sign_in(&username, &password).await;
        drop(password);
        let mut step = match result {
            Ok(step) => step,
            Err(e) => {
                io.say(&format!("Error: {e}"))?;
                continue;
            }
        };
        loop {
            step = match step {
                SignIn::Done { .. } => break,
                SignIn::SecondFactor(ch) => {
                    let purpose = Purpose::SignIn {
                        username: username.clone(),
                    };
                    if !verify::run(io, deps, ch, purpose).await? {
                        continue 'sign_in;
                    }
                    break;
                }
                SignIn::Browser(b) => {
                    match journeys::browser::finish(&*deps.backend, io, b).await {
                        Ok(next) => next,
                        Err(e) => {
                            io.say(&format!("Error: {e}"))?;
                            continue 'sign_in;
                        }
                    }
                }
                SignIn::Pending => {
                    io.say("The server is still working on it; try again.")?;
                    continue 'sign_in;
                }
            }
        }
        io.say(&format!("Signed in as {username}."))?;
        return Ok(Some(username));
    }
}

/// A provider that signs in only in a browser: its page and code, then who
/// signed in. `None`: it did not finish (said why); the caller starts again.
async fn browser_sign_in<R: BufRead, W: Write>(
    io: &mut Io<R, W>,
    deps: &Deps,
) -> anyhow::Result<Option<String>> {
    let nothing = crate::secrets::SecretString::new("");
    let mut step = match deps.backend.sign_in("", &nothing).await {
        Ok(step) => step,
        Err(e) => {
            io.say(&format!("Error: {e}"))?;
            return Ok(None);
        }
    };
    while let SignIn::Browser(b) = step {
        step = match journeys::browser::finish(&*deps.backend, io, b).await {
            Ok(next) => next,
            Err(e) => {
                io.say(&format!("Error: {e}"))?;
                return Ok(None);
            }
        };
    }
    if !matches!(step, SignIn::Done { .. }) {
        io.say("The provider asked for a step this client cannot take in a browser sign-in.")?;
        return Ok(None);
    }
    match deps.backend.account().await {
        Ok(account) => {
            io.say(&format!("Signed in as {}.", account.username))?;
            Ok(Some(account.username))
        }
        Err(e) => {
            io.say(&format!("Error: {e}"))?;
            Ok(None)
        }
    }
}

/// The main menu's entries, in the order they are offered.
#[derive(Clone, Copy)]
enum Choice {
    ChangeDefault,
    Add,
    Delete,
    Devices,
    Sessions,
    Remembered,
    AppPasswords,
    RecoveryCodes,
    Activity,
    LostPhone,
    SignOutEverywhere,
    Outbox,
    SignOut,
    Quit,
}

impl Choice {
    fn label(self) -> &'static str {
        match self {
            Self::ChangeDefault => "Change default sign-in method",
            Self::Add => "Add sign-in method",
            Self::Delete => "Delete a sign-in method",
            Self::Devices => "Devices",
            Self::Sessions => "Sessions",
            Self::Remembered => "Remembered devices",
            Self::AppPasswords => "App passwords",
            Self::RecoveryCodes => "Recovery codes",
            Self::Activity => "Recent activity",
            Self::LostPhone => "I lost my phone",
            Self::SignOutEverywhere => "Sign out everywhere",
            Self::Outbox => "Show sent codes (demo outbox)",
            Self::SignOut => "Sign out",
            Self::Quit => "Quit",
        }
    }
}

enum After {
    Quit,
    SignIn,
}

async fn home<R: BufRead, W: Write>(
    io: &mut Io<R, W>,
    deps: &Deps,
    demo: bool,
) -> anyhow::Result<After> {
    loop {
        io.blank()?;
        io.say("Security info")?;
        let methods = match deps.backend.methods().await {
            Ok(m) => m,
            Err(e) => {
                io.say(&format!("Could not load your sign-in methods: {e}"))?;
                if matches!(e, crate::backend::BackendError::SignInRequired) {
                    return Ok(After::SignIn);
                }
                Vec::new()
            }
        };
        let default = methods
            .iter()
            .find(|m| m.is_default)
            .map(method_name)
            .unwrap_or_else(|| "none".into());
        io.say(&format!("Default sign-in method: {default}"))?;
        io.say(&format!("Your sign-in methods ({}):", methods.len()))?;
        for m in &methods {
            let default = if m.is_default { ", default" } else { "" };
            io.say(&format!(
                "  {}{default}, added {}",
                method_name(m),
                date(m.created)
            ))?;
        }
        io.say("What would you like to do?")?;
        // Quit is last, as in every menu; the demo's outbox comes before it.
        let mut items = vec![
            Choice::ChangeDefault,
            Choice::Add,
            Choice::Delete,
            Choice::Devices,
            Choice::Sessions,
            Choice::Remembered,
            Choice::AppPasswords,
            Choice::RecoveryCodes,
            Choice::Activity,
            Choice::LostPhone,
            Choice::SignOutEverywhere,
        ];
        if demo {
            items.push(Choice::Outbox);
        }
        items.extend([Choice::SignOut, Choice::Quit]);
        let labels: Vec<String> = items.iter().map(|c| c.label().to_string()).collect();
        let Some(choice) = io.choose(&labels)? else {
            return Ok(After::Quit);
        };
        let next = match items[choice] {
            Choice::ChangeDefault => lists::change_default(io, deps, &methods).await?,
            Choice::Add => add::add_method(io, deps).await?,
            Choice::Delete => lists::delete_method(io, deps, &methods).await?,
            Choice::Devices => lists::devices(io, deps, &methods).await?,
            Choice::Sessions => lists::sessions(io, deps).await?,
            Choice::Remembered => lists::remembered(io, deps).await?,
            Choice::Activity => lists::activity(io, deps).await?,
            Choice::SignOutEverywhere => lists::sign_out_everywhere(io, deps).await?,
            Choice::LostPhone => lists::lost_phone(io, deps).await?,
            Choice::SignOut => {
                let user = deps.backend.account().await.ok().map(|a| a.username);
                let signed_out = match user {
                    Some(user) => deps.keeper.sign_out(&*deps.backend, &user).await,
                    None => deps.backend.sign_out().await,
                };
                if let Err(e) = signed_out {
                    // This client is signed out all the same; the server's session expires.
                    tracing::warn!(code = e.code(), "the server did not end the session");
                }
                io.say("You are signed out.")?;
                return Ok(After::SignIn);
            }
            Choice::Quit => return Ok(After::Quit),
            Choice::AppPasswords => add::app_passwords(io, deps).await?,
            Choice::RecoveryCodes => add::recovery_codes(io, deps).await?,
            Choice::Outbox => lists::outbox(io, deps).await?,
        };
        if let Some(after) = next {
            return Ok(after);
        }
    }
}
