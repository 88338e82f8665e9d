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

/// What is said when a push was never answered.
pub const PUSH_UNANSWERED: &str = "the sign-in request was not answered in time";

/// The prompt for a code: what else can be typed there.
pub fn code_prompt(resend: bool, other_ways: bool) -> String {
    match (resend, other_ways) {
        (true, true) => "Enter the code (r sends it again, c chooses another way):".into(),
        (true, false) => "Enter the code (r sends it again):".into(),
        (false, true) => "Enter the code (c chooses another way):".into(),
        (false, false) => "Enter the code:".into(),
    }
}

/// A wrong code, said once: the server's reason, then what to do.
pub fn try_again(message: &str) -> String {
    let message = message.trim_end_matches('.');
    let mut chars = message.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    // Some servers already say it ("…; check it and try again"): say it once.
    let then = if message.to_lowercase().contains("try again") {
        ""
    } else {
        " Try again."
    };
    format!("{first}{}.{then}", chars.as_str())
}

/// Said before the typed-name override of the last-method guard.
pub const LAST_METHOD_WARNING: &str = "Without it, signing in needs only your password.";

/// What is said after deleting a method: its name, and the method that became
/// the default when it was the default.
pub fn after_delete(label: &str, new_default: Option<&str>) -> String {
    match new_default {
        Some(next) => format!("Deleted {label}. Your default sign-in method is now {next}."),
        None => format!("Deleted {label}."),
    }
}

/// Said when a change needs a fresh second factor first.
pub const STEP_UP_NEEDED: &str = "This change needs you to confirm it is you.";

/// What is said after the default changed.
pub fn now_default(name: &str) -> String {
    format!("{name} is now your default sign-in method.")
}

/// Added to the polling interval each time a provider answers `slow_down` (RFC 8628 §3.5).
pub const SLOW_DOWN: Duration = Duration::from_secs(5);

/// Said when a browser step's code expired before it was used.
pub const BROWSER_EXPIRED: &str =
    "the code expired before the sign-in was finished in the browser; start again";

/// Where the TUI meets a browser step it cannot show yet (the CLI and plain mode can).
pub const BROWSER_STEP_IN_CLI: &str = "This provider finishes this step in a browser, which this screen cannot show yet: \
     run `secinfo login` (or use --plain), which shows the page and the code";

/// The browser step, in one sentence.
pub fn open_in_browser(url: &str, code: &str) -> String {
    format!("To finish, open {url} in a browser on any device and enter the code {code}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_wrong_code_is_said_once() {
        assert_eq!(
            super::try_again("that code is not right; check it and try again"),
            "That code is not right; check it and try again."
        );
        assert_eq!(
            super::try_again("that code is not right (or has expired)"),
            "That code is not right (or has expired). Try again."
        );
    }
}
