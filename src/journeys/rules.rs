//! The rules every front end follows, as constants and pure functions, so the
//! TUI's `update`, plain mode and the CLI cannot drift apart.

use std::time::Duration;

/// Pause between two polls of a push (sign-in, step-up or a new authenticator's test).
pub const PUSH_POLL_EVERY: Duration = Duration::from_secs(1);

/// How long to keep polling one push before saying it was not answered. The
/// server expires it sooner (two minutes by default); this bounds a server
/// that never does.
pub const PUSH_POLL_FOR: Duration = Duration::from_secs(300);

/// Polls of one push, at most.
pub fn push_polls() -> u32 {
    (PUSH_POLL_FOR.as_millis() / PUSH_POLL_EVERY.as_millis()) as u32
}

/// Wrong codes in a row before a front end stops asking (the server may lock sooner).
pub const WRONG_CODES: u32 = 3;
