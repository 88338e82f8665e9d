//! Commands for the demo and the config file: `demo`, `config` (`serve` and
//! `admin` are `serve.rs`, `phone` is `phone.rs`).

use super::{Failure, Outcome, exit};
use clap::Subcommand;

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
