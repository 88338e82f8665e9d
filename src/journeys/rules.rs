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

/// How long to wait for one push: as long as the provider says it lasts, at
/// most `PUSH_POLL_FOR`.
pub fn push_lasts(expires_in: Option<u64>) -> Duration {
    expires_in.map_or(PUSH_POLL_FOR, |s| Duration::from_secs(s).min(PUSH_POLL_FOR))
}

/// Said once when a push starts to wait; its outcome follows as a line of its own.
pub const WAITING_FOR_APPROVAL: &str = "Waiting for approval…";

/// How a wait for approval ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    Approved,
    Denied,
    TimedOut,
}

/// The outcome of a wait, as a line that reads on its own (a screen reader
/// may say it long after the waiting line): "Waiting for approval… approved".
pub fn approval(outcome: Approval) -> String {
    let word = match outcome {
        Approval::Approved => "approved",
        Approval::Denied => "denied",
        Approval::TimedOut => "timed out",
    };
    format!("{WAITING_FOR_APPROVAL} {word}")
}

/// A countdown's milestone, said as a line when the time left falls to it
/// between two looks (`before`, then `now`): each whole minute ("4 minutes
/// left", "1 minute left"), then "30 seconds left"; never one line a second,
/// never the time the wait starts with. Where several passed at once, the last.
pub fn time_left(before: Duration, now: Duration) -> Option<String> {
    if now.is_zero() {
        return None;
    }
    let secs = now.as_secs() + u64::from(now.subsec_nanos() > 0);
    let milestone = if secs <= 30 {
        30
    } else {
        secs.div_ceil(60) * 60
    };
    (Duration::from_secs(milestone) < before).then(|| match milestone {
        30 => "30 seconds left".to_string(),
        60 => "1 minute left".to_string(),
        m => format!("{} minutes left", m / 60),
    })
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

/// Polls of a new authenticator app (its activation, then its test
/// notification), at most: as long as the enrollment lives, or
/// `PUSH_POLL_FOR` when the server does not say.
pub fn enrollment_polls(expires_in: Option<u64>) -> u32 {
    let lives = expires_in.map_or(PUSH_POLL_FOR, Duration::from_secs);
    (lives.as_millis() / PUSH_POLL_EVERY.as_millis()).max(1) as u32
}

/// How long a new app's setup stays open, said under it.
pub fn expires_in(secs: u64) -> String {
    format!("This expires in {} minutes.", secs.div_ceil(60).max(1))
}

/// The prompt for a new method's code.
pub const ENROLL_CODE_PROMPT: &str = "Enter the code (an empty line cancels):";

/// After a wrong code for a new authenticator app: the same QR code still works.
pub const QR_STILL_WORKS: &str = "The QR code above still works.";

/// What is said after a new method was saved.
pub fn added(name: &str) -> String {
    format!("Added {name}. You can use it the next time you sign in.")
}

/// What is said after a new number or address replaced the old one.
pub fn changed(name: &str) -> String {
    format!("Changed: {name} is verified and in use.")
}

/// Said when the user stops adding a method.
pub const ADD_CANCELLED: &str = "Cancelled: nothing was added.";

/// Said when adding a method failed: the begun enrollment is gone too.
pub const NOTHING_ADDED: &str = "Nothing was added.";

/// Said when a new authenticator's test notification is sent (then the
/// number to match, on its own line).
pub const TEST_NOTIFICATION: &str =
    "Let's try it out: approve the notification we're sending to your app.";

/// The number to type in the app, on a line of its own.
pub fn number_to_match(number: u32) -> String {
    format!("Number to match: {number}")
}

/// Said when a new authenticator app never answered.
pub const TEST_UNANSWERED: &str = "the test notification timed out without an answer";

/// Asked before deleting an app password.
pub fn delete_app_password(name: &str) -> String {
    format!("Delete the app password {name}? The app that uses it stops signing in.")
}

/// Said after an app password was deleted.
pub fn app_password_deleted(name: &str) -> String {
    format!("Deleted the app password {name}.")
}

/// Said under a new app password.
pub const APP_PASSWORD_SHOWN_ONCE: &str = "Copy it now: it is not shown again. Use it in the app in place of your password; it cannot sign in to Security info.";

/// Asked before a new set of recovery codes replaces `left` unused ones.
pub fn replace_recovery_codes(left: u32) -> String {
    format!(
        "You still have {left} unused recovery codes; a new set makes them stop working. Go on?"
    )
}

/// Said under new recovery codes.
pub fn keep_recovery_codes(count: usize) -> String {
    format!(
        "Keep these {count} codes somewhere safe: each signs in once, in place of a second factor \
         (\"Use a recovery code\"). They are not shown again."
    )
}

/// What signing out everywhere ends, said before the user confirms it.
pub const SIGN_OUT_EVERYWHERE_ENDS: [&str; 2] = [
    "Sign out everywhere ends every session on every device, this one included.",
    "It also forgets every remembered device, so the next sign-in anywhere asks for a second factor.",
];

/// "I lost my phone", the same words in the TUI, plain mode and the CLI.
pub mod lost_phone {
    pub const INTRO: &str = "I lost my phone: let's make sure it cannot sign in as you.";
    pub const WHICH: &str = "Which device is lost?";
    pub const KEEP_ALL: &str = "Skip: keep every device";
    pub const SIGN_OUT: &str = "Sign out everywhere? Every session on every device ends (the lost \
                                phone's too, and this one), and every \"Don't ask again\" is forgotten.";
    pub const SIGNED_OUT: &str = "Signed out everywhere, this client included.";
    pub const ADD: &str = "Add a new sign-in method now?";
    pub const ADD_AFTER_SIGN_IN: &str =
        "To add a new method, sign in again (this client was signed out too).";
}

/// Typed to confirm signing out everywhere.
pub const SIGN_OUT_EVERYWHERE_WORDS: &str = "sign out everywhere";

/// Said after signing out everywhere.
pub const SIGNED_OUT_EVERYWHERE: &str =
    "Signed out everywhere. The next sign-in on any device will ask for a second factor.";

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

/// Said after a rename.
pub fn renamed(device: bool, name: &str) -> String {
    let what = if device { "device" } else { "method" };
    format!("Renamed the {what} to {name}.")
}

/// What is said after the default changed.
pub fn now_default(name: &str) -> String {
    format!("{name} is now your default sign-in method.")
}

/// Added to the polling interval each time a provider answers `slow_down` (RFC 8628 §3.5).
pub const SLOW_DOWN: Duration = Duration::from_secs(5);

/// Said when a browser step's code expired before it was used.
pub const BROWSER_EXPIRED: &str =
    "the code expired before the sign-in was finished in the browser; start again";

/// The browser step, in one sentence.
pub fn open_in_browser(url: &str, code: &str) -> String {
    format!("To finish, open {url} in a browser on any device and enter the code {code}")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// The lines a countdown says when looked at every `step` from `lasts` down.
    fn said(lasts: Duration, step: Duration) -> Vec<String> {
        let mut lines = Vec::new();
        let mut before = lasts;
        let mut elapsed = Duration::ZERO;
        while elapsed < lasts {
            elapsed += step;
            let now = lasts.saturating_sub(elapsed);
            lines.extend(super::time_left(before, now));
            before = now;
        }
        lines
    }

    #[test]
    fn a_countdown_says_its_milestones_once_each_never_every_second() {
        let second = Duration::from_secs(1);
        assert_eq!(
            said(Duration::from_secs(300), second),
            [
                "4 minutes left",
                "3 minutes left",
                "2 minutes left",
                "1 minute left",
                "30 seconds left"
            ]
        );
        assert_eq!(
            said(Duration::from_secs(120), Duration::from_millis(1300)),
            ["1 minute left", "30 seconds left"]
        );
        // A look that comes late says the milestone it is at, once.
        assert_eq!(
            said(Duration::from_secs(100), Duration::from_secs(45)),
            ["1 minute left", "30 seconds left"]
        );
        assert!(said(Duration::from_secs(20), second).is_empty());
    }

    #[test]
    fn a_wait_lasts_what_the_provider_says_within_the_bound() {
        assert_eq!(super::push_lasts(Some(120)), Duration::from_secs(120));
        assert_eq!(super::push_lasts(Some(9_999)), super::PUSH_POLL_FOR);
        assert_eq!(super::push_lasts(None), super::PUSH_POLL_FOR);
    }

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
