//! Logs go to a file in the state dir, never to the terminal (the TUI owns
//! it). Secrets never reach a log line: they are `SecretString`s, redacted.

use std::fs::OpenOptions;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

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
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false),
        )
        .with(filter(std::env::var("SECINFO_LOG").ok().as_deref()))
        .try_init()
        .is_ok()
}

/// `SECINFO_LOG`: a level (`debug`), or levels by target
/// (`secinfo=trace,hyper=warn`); targets not named log at `info`, and so does
/// everything when it is unset or not understood.
/// `Targets` rather than `EnvFilter`: the same syntax for what is used here,
/// without the regex engine (half a megabyte of the binary).
fn filter(spec: Option<&str>) -> Targets {
    let info = || Targets::new().with_default(tracing::Level::INFO);
    match spec.map(str::trim) {
        None | Some("") => info(),
        Some(spec) => match spec.parse::<Targets>() {
            Ok(t) if t.default_level().is_none() => t.with_default(tracing::Level::INFO),
            Ok(t) => t,
            Err(_) => info(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::filter;
    use tracing::Level;

    #[test]
    fn secinfo_log_takes_a_level_or_levels_by_target_and_falls_back_to_info() {
        assert!(filter(Some("debug")).would_enable("secinfo::backend", &Level::DEBUG));
        assert!(!filter(None).would_enable("secinfo", &Level::DEBUG));
        assert!(filter(None).would_enable("secinfo", &Level::INFO));
        let by_target = filter(Some("secinfo=trace,hyper=warn"));
        assert!(by_target.would_enable("secinfo::http", &Level::TRACE));
        assert!(!by_target.would_enable("hyper::proto", &Level::INFO));
        assert!(!filter(Some("loud!")).would_enable("secinfo", &Level::DEBUG));
        assert!(filter(Some("loud!")).would_enable("secinfo", &Level::INFO));
    }
}
