//! "Finish in a browser" (OAuth 2.0 device authorization, RFC 8628): show
//! the page and the code, then poll at the provider's interval until it is
//! done, adding `SLOW_DOWN` whenever the provider says to slow down, and
//! giving up when the code expires. Sign-in and step-up both use it.

use super::asker::Asker;
use super::rules;
use crate::backend::{Backend, BackendError, BrowserPoll, BrowserStep, Refusal, SignIn};
use std::time::Duration;

/// When to ask the provider next: every `every` (the provider's interval,
/// plus `SLOW_DOWN` each time it says so), and not once the code would have
/// expired first. Counted in the waits themselves, so the TUI's pure update
/// and the async journey pace alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Pacing {
    pub every: Duration,
    pub left: Duration,
}

impl Pacing {
    pub fn new(step: &BrowserStep) -> Self {
        Self {
            every: step.interval,
            left: step.expires_in,
        }
    }

    /// The wait before the next poll; `None` once the code has expired.
    pub fn next_wait(&mut self) -> Option<Duration> {
        if self.every > self.left {
            return None;
        }
        self.left -= self.every;
        Some(self.every)
    }

    /// What a poll said about the pace.
    pub fn heard(&mut self, poll: &BrowserPoll) {
        if *poll == BrowserPoll::SlowDown {
            self.every += rules::SLOW_DOWN;
        }
    }
}

/// The error once the code expired before the browser step was finished.
pub fn expired() -> BackendError {
    BackendError::rejected(Refusal::Expired, rules::BROWSER_EXPIRED)
}

/// Shows `step` and waits for it. What the provider said once it was finished.
pub async fn finish<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    step: BrowserStep,
) -> Result<SignIn, A::Error> {
    ask.say(&rules::open_in_browser(
        &step.verification_uri,
        &step.user_code,
    ))?;
    if let Some(full) = &step.verification_uri_complete {
        ask.say(&format!("Or open {full}, which has the code filled in."))?;
    }
    ask.link(
        step.verification_uri_complete
            .as_deref()
            .unwrap_or(&step.verification_uri),
    )?;
    let mut pacing = Pacing::new(&step);
    loop {
        let Some(wait) = pacing.next_wait() else {
            return Err(expired().into());
        };
        tokio::time::sleep(wait).await;
        match backend.poll_browser(&step).await? {
            BrowserPoll::Finished(done) => return Ok(done),
            poll => pacing.heard(&poll),
        }
    }
}
