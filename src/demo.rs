//! The demo default: with no config file, secinfo runs the reference server
//! in-process on a loopback port over a seeded database in the user's data
//! dir, kept across runs, so the TUI and every CLI command see one world.
//! Each process runs its own server on its own port; they share the SQLite
//! file, so that is safe.
//!
//! The server is the `server` feature: a client-only build has no demo, and
//! `start` says so and how to get one.

#[cfg(feature = "server")]
use crate::server::{self, RunningServer, Settings};
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

/// The demo's public credentials (they are printed on screen: not secrets).
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: String,
    pub display_name: String,
    pub password: String,
    /// A second account, for the "choose an account" journeys.
    pub other_username: String,
    pub other_password: String,
    /// False when the database already held a world and was left alone.
    pub seeded: bool,
}

/// A running demo: the in-process server and the seeded account.
pub struct Demo {
    /// The in-process server's `http://127.0.0.1:PORT`.
    pub url: String,
    pub account: DemoAccount,
    pub dir: PathBuf,
    /// Serves for as long as the demo lives.
    #[cfg(feature = "server")]
    _server: RunningServer,
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
    #[error(
        "this build of secinfo has no embedded demo (it was built without the `server` feature). \
         Configure a profile with `secinfo config init`, or build the demo with `cargo build --release` (default features)"
    )]
    NotBuilt,
}

/// Start (seeding on first run) the demo server.
#[cfg(not(feature = "server"))]
pub async fn start() -> Result<Demo, DemoError> {
    Err(DemoError::NotBuilt)
}

/// Start (seeding on first run) the demo server.
#[cfg(feature = "server")]
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
        url: server.url.clone(),
        account,
        dir,
        _server: server,
    })
}

/// The demo outbox's messages ("sent" codes and notices), read from its database.
pub fn outbox(db: &Path) -> Result<Vec<crate::protocol::OutboxMessage>, String> {
    #[cfg(feature = "server")]
    return server::outbox(db, None).map_err(|e| e.to_string());
    #[cfg(not(feature = "server"))]
    return Err(format!(
        "{} (no outbox at {})",
        DemoError::NotBuilt,
        db.display()
    ));
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
