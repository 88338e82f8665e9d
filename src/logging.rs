//! Logs go to a file in the state dir, never to the terminal (the TUI owns
//! it). Secrets never reach a log line: they are `SecretString`s, redacted.

use std::fs::OpenOptions;
use tracing_subscriber::EnvFilter;

/// The log file's path.
pub fn log_file() -> std::path::PathBuf {
    crate::paths::state_dir().join("secinfo.log")
}

/// Start logging; returns false when the log file cannot be opened (then nothing is logged).
pub fn init() -> bool {
    let path = log_file();
    if let Some(dir) = path.parent()
        && crate::paths::ensure_private_dir(dir).is_err()
    {
        return false;
    }
    let Ok(file) = OpenOptions::new().create(true).append(true).open(&path) else {
        return false;
    };
    let filter = EnvFilter::try_from_env("SECINFO_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init()
        .is_ok()
}
