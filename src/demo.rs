//! The demo default: with no config file, secinfo runs the reference server
//! in-process on a loopback port over a seeded database in the user's data
//! dir, kept across runs, so the TUI and every CLI command see one world.
//! Each process runs its own server on its own port; they share the SQLite
//! file, so that is safe.

use crate::server::{self, DemoAccount, RunningServer, Settings};
use std::path::{Path, PathBuf};

/// The profile name shown for the demo.
pub const PROFILE: &str = "demo";

/// The demo's own data dir (its database, its phone, its tokens).
pub fn dir() -> PathBuf {
    crate::paths::data_dir().join("demo")
}

pub fn db_path(dir: &Path) -> PathBuf {
    dir.join("server.db")
}

pub fn phone_dir(dir: &Path) -> PathBuf {
    dir.join("phone")
}

/// A running demo: the in-process server and the seeded account.
pub struct Demo {
    pub server: RunningServer,
    pub account: DemoAccount,
    pub dir: PathBuf,
}

impl Demo {
    pub fn db(&self) -> PathBuf {
        db_path(&self.dir)
    }
    pub fn phone_dir(&self) -> PathBuf {
        phone_dir(&self.dir)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot prepare the demo in {path}: {reason}")]
    Setup { path: String, reason: String },
}

/// Start (seeding on first run) the demo server.
pub async fn start() -> Result<Demo, DemoError> {
    let dir = dir();
    let fail = |e: &dyn std::fmt::Display| DemoError::Setup {
        path: dir.display().to_string(),
        reason: e.to_string(),
    };
    crate::paths::ensure_private_dir(&dir).map_err(|e| fail(&e))?;
    let server = server::spawn(&db_path(&dir), Settings::default())
        .await
        .map_err(|e| fail(&e))?;
    let account =
        server::seed_demo(&db_path(&dir), &phone_dir(&dir), &server.url).map_err(|e| fail(&e))?;
    tracing::info!(url = %server.url, seeded = account.seeded, "demo server started");
    Ok(Demo {
        server,
        account,
        dir,
    })
}

/// `secinfo demo reset`: forget the demo's world; the next run seeds anew.
pub fn reset() -> std::io::Result<PathBuf> {
    let dir = dir();
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(dir),
        Err(e) => Err(e),
    }
}
