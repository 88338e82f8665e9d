//! "Finish in a browser" (OAuth 2.0 device authorization, RFC 8628): show
//! the page and the code, then poll at the provider's interval until it is
//! done, adding `SLOW_DOWN` whenever the provider says to slow down, and
//! giving up when the code expires. Sign-in and step-up both use it.

use super::asker::Asker;
use super::rules;
use crate::backend::{Backend, BackendError, BrowserPoll, BrowserStep, Refusal, SignIn};
use tokio::time::Instant;

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
        ask.link(full)?;
    }
    let deadline = Instant::now() + step.expires_in;
    let mut every = step.interval;
    loop {
        if Instant::now() + every > deadline {
            return Err(BackendError::rejected(Refusal::Expired, rules::BROWSER_EXPIRED).into());
        }
        tokio::time::sleep(every).await;
        match backend.poll_browser(&step).await? {
            BrowserPoll::Pending => {}
            BrowserPoll::SlowDown => every += rules::SLOW_DOWN,
            BrowserPoll::Finished(done) => return Ok(done),
        }
    }
}
