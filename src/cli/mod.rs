//! The command line: clap subcommands mirroring every screen, `--json`
//! output with `"schema": 1`, and stable exit codes (see README).

/// `println!` for a line that may hold text from a server or a user-chosen
/// name: it goes through the one sanitizer (`present::clean`) first.
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", $crate::present::clean(&format!($($arg)*)))
    };
}

/// `say!` for stderr.
macro_rules! esay {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::present::clean(&format!($($arg)*)))
    };
}

mod account;
mod contact;
mod context;
mod doctor;
mod enroll;
mod lists;
mod ops;
pub mod output;
mod passwords;
#[cfg(feature = "server")]
mod phone;
mod prompt;
#[cfg(feature = "server")]
mod serve;
mod server_cmds;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub use context::Context;

#[derive(Debug, Parser)]
#[command(
    name = "secinfo",
    version,
    about = "Your sign-in methods and security info, in a terminal"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct Global {
    /// The configured profile to use (default: the config's default_profile, else the demo).
    #[arg(long, global = true, env = "SECINFO_PROFILE")]
    pub profile: Option<String>,
    /// Linear mode for screen readers: numbered lines, no drawing characters, no cursor movement.
    #[arg(long, global = true, env = "SECINFO_PLAIN")]
    pub plain: bool,
    /// Where the secret-store passphrase comes from, for scripts: @FILE or fd:N (never the passphrase itself).
    #[arg(long, global = true, value_name = "@FILE|fd:N")]
    pub passphrase_from: Option<String>,
    /// Never ask: a missing answer is a usage error (exit 2) that says how to give it.
    #[arg(long, global = true, env = "SECINFO_NO_INPUT")]
    pub no_input: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in (password, then a second factor) and keep the session.
    Login(account::LoginArgs),
    /// Sign out of this client.
    Logout,
    /// Who is signed in, where, and until when.
    Status(JsonFlag),
    /// The accounts this client knows.
    Accounts {
        #[command(subcommand)]
        command: Option<account::AccountsCommand>,
    },
    /// Sign-in methods on your account.
    Methods {
        #[command(subcommand)]
        command: lists::MethodsCommand,
    },
    /// Authenticator devices (phones) registered to your account.
    Devices {
        #[command(subcommand)]
        command: lists::DevicesCommand,
    },
    /// Signed-in clients.
    Sessions {
        #[command(subcommand)]
        command: lists::SessionsCommand,
    },
    /// Recent activity: sign-ins, failed ones, lockouts and changes, newest first.
    Activity(lists::ActivityArgs),
    /// "Don't ask again for N days" grants.
    Remembered {
        #[command(subcommand)]
        command: lists::RememberedCommand,
    },
    /// Your password.
    Password {
        #[command(subcommand)]
        command: passwords::PasswordCommand,
    },
    /// Passwords for apps that cannot do MFA (shown once when created).
    AppPasswords {
        #[command(subcommand)]
        command: passwords::AppPasswordsCommand,
    },
    /// One-time codes for when your phone is lost (shown once when generated).
    RecoveryCodes {
        #[command(subcommand)]
        command: passwords::RecoveryCodesCommand,
    },
    /// Sign out everywhere: revoke every session, token and remembered device.
    SignoutAll {
        /// Don't ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Say what would end; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// "I lost my phone": delete it and its methods, end sessions, add a new method, one step at a time.
    LostPhone {
        /// Show the devices and what the journey would offer; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: the devices and their methods as {schema, devices}.
        #[arg(long)]
        json: bool,
    },
    /// Check config, secret store, server, clock and terminal.
    Doctor(JsonFlag),
    // Boxed: its settings are many times the size of every other command.
    /// Run the reference identity server.
    #[cfg(feature = "server")]
    Serve(Box<serve::ServeArgs>),
    /// Administer the reference server's database.
    #[cfg(feature = "server")]
    Admin(serve::AdminArgs),
    /// The simulated authenticator phone.
    #[cfg(feature = "server")]
    Phone(phone::PhoneArgs),
    /// The built-in demo.
    Demo {
        #[command(subcommand)]
        command: server_cmds::DemoCommand,
    },
    /// The config file.
    Config {
        #[command(subcommand)]
        command: server_cmds::ConfigCommand,
    },
    /// Shell completions, written to stdout (e.g. `secinfo completions bash > /etc/bash_completion.d/secinfo`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The manual page (roff), written to stdout (e.g. `secinfo man | man -l -`).
    Man,
}

#[derive(Debug, Args, Clone, Copy)]
pub struct JsonFlag {
    /// Machine-readable output (documented in the README, "schema": 1).
    #[arg(long)]
    pub json: bool,
}

/// Stable exit codes.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const SIGN_IN: u8 = 3;
    pub const NOT_SUPPORTED: u8 = 4;
    pub const BACKEND: u8 = 5;
    pub const CONFIG: u8 = 6;
    pub const REFUSED: u8 = 7;
}

/// An error at the edge: a message for the user and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub kind: String,
    pub message: String,
    /// The provider's refusal behind it, when there was one (typed, never read from `kind`).
    pub refusal: Option<crate::backend::Refusal>,
}

impl Failure {
    pub fn new(code: u8, kind: &str, message: impl Into<String>) -> Self {
        Self {
            code,
            kind: kind.to_string(),
            message: message.into(),
            refusal: None,
        }
    }

    /// The user said no, or stopped: `what` says what stayed as it was.
    pub fn cancelled(what: &str) -> Self {
        Self::new(exit::REFUSED, "cancelled", format!("cancelled; {what}"))
    }
}

impl From<crate::backend::BackendError> for Failure {
    fn from(e: crate::backend::BackendError) -> Self {
        use crate::backend::BackendError as E;
        let code = match &e {
            E::SignInRequired | E::InvalidCredentials => exit::SIGN_IN,
            E::Rejected { reason, .. } if reason.is_wrong_code() => exit::SIGN_IN,
            E::NotSupported(_) => exit::NOT_SUPPORTED,
            E::Rejected { .. } | E::StepUpRequired | E::Throttled { .. } => exit::REFUSED,
            E::Insecure(_) => exit::CONFIG,
            _ => exit::BACKEND,
        };
        let mut message = e.to_string();
        if matches!(e, E::SignInRequired) {
            message.push_str(" (run `secinfo login`)");
        }
        Self {
            code,
            kind: e.code().to_string(),
            refusal: e.refusal().cloned(),
            message,
        }
    }
}

impl From<crate::config::ConfigError> for Failure {
    fn from(e: crate::config::ConfigError) -> Self {
        Self::new(exit::CONFIG, "config", e.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Self::new(exit::FAILURE, "io", e.to_string())
    }
}

pub type Outcome = Result<(), Failure>;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if !runs_until_stopped(&cli.command) {
        ends_quietly_when_the_reader_goes();
    }
    prompt::set_no_input(cli.global.no_input);
    let json = wants_json(&cli.command);
    let _log = crate::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("secinfo: cannot start: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            tracing::warn!(kind = %f.kind, code = f.code, "command failed");
            if json {
                let body = serde_json::json!({ "schema": 1, "error": { "kind": f.kind, "message": f.message } });
                eprintln!("{body}");
            } else {
                eprintln!("secinfo: {}", crate::present::clean(&f.message));
            }
            ExitCode::from(f.code)
        }
    }
}

/// The TUI and the server run until stopped; every other command is a filter-like one-shot.
fn runs_until_stopped(command: &Option<Command>) -> bool {
    match command {
        None => true,
        #[cfg(feature = "server")]
        Some(Command::Serve(_)) => true,
        Some(_) => false,
    }
}

fn wants_json(command: &Option<Command>) -> bool {
    use lists::*;
    match command {
        Some(Command::Status(j) | Command::Doctor(j)) => j.json,
        Some(Command::LostPhone { json, .. }) => *json,
        Some(Command::Methods {
            command: MethodsCommand::List(j),
        }) => j.json,
        Some(Command::Methods {
            command: MethodsCommand::Add { what },
        }) => enroll::wants_json(what),
        Some(Command::AppPasswords { command }) => passwords::wants_json_app(command),
        Some(Command::RecoveryCodes { command }) => passwords::wants_json_recovery(command),
        Some(Command::Devices {
            command: DevicesCommand::List(j),
        }) => j.json,
        Some(Command::Sessions {
            command: SessionsCommand::List(j),
        }) => j.json,
        Some(Command::Remembered {
            command: RememberedCommand::List(j),
        }) => j.json,
        Some(Command::Activity(a)) => a.json,
        Some(Command::Login(a)) => a.json,
        #[cfg(feature = "server")]
        Some(Command::Phone(a)) => a.command.wants_json(),
        _ => false,
    }
}

async fn run(cli: Cli) -> Outcome {
    let g = cli.global;
    match cli.command {
        None => ops::open_app(&g).await,
        Some(Command::Login(a)) => account::login(&g, a).await,
        Some(Command::Logout) => account::logout(&g).await,
        Some(Command::Status(j)) => account::status(&g, j.json).await,
        Some(Command::Accounts { command }) => account::accounts(&g, command).await,
        Some(Command::Methods { command }) => lists::methods(&g, command).await,
        Some(Command::Devices { command }) => lists::devices(&g, command).await,
        Some(Command::Sessions { command }) => lists::sessions(&g, command).await,
        Some(Command::Remembered { command }) => lists::remembered(&g, command).await,
        Some(Command::Activity(a)) => lists::activity(&g, a).await,
        Some(Command::Password { command }) => passwords::password(&g, command).await,
        Some(Command::AppPasswords { command }) => passwords::app_passwords(&g, command).await,
        Some(Command::RecoveryCodes { command }) => passwords::recovery_codes(&g, command).await,
        Some(Command::SignoutAll { yes, dry_run }) => lists::signout_all(&g, yes, dry_run).await,
        Some(Command::LostPhone { dry_run, json }) => lists::lost_phone(&g, dry_run, json).await,
        Some(Command::Doctor(j)) => doctor::run(&g, j.json).await,
        #[cfg(feature = "server")]
        Some(Command::Serve(a)) => serve::serve(*a).await,
        #[cfg(feature = "server")]
        Some(Command::Admin(a)) => serve::admin(a),
        #[cfg(feature = "server")]
        Some(Command::Phone(a)) => phone::phone(a).await,
        Some(Command::Demo { command }) => server_cmds::demo(command),
        Some(Command::Config { command }) => server_cmds::config(command),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "secinfo", &mut std::io::stdout());
            Ok(())
        }
        Some(Command::Man) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
            Ok(())
        }
    }
}

/// `secinfo methods list --json | head -c 200`: when the reader goes away,
/// end as every Unix tool does (SIGPIPE), not with a panic from `println!`.
/// Not for `serve` (sockets never raise it: Rust writes them with
/// MSG_NOSIGNAL) nor the TUI, which keeps its own terminal.
fn ends_quietly_when_the_reader_goes() {
    #[cfg(unix)]
    // SAFETY: called at start-up, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Where `config init` writes, for messages.
pub fn config_path() -> PathBuf {
    crate::paths::config_file()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
