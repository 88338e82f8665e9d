//! "Finish in a browser", for sign-in and step-up: show the page and the
//! code, poll at the provider's pace (`journeys::browser::Pacing`, the same
//! rule the CLI and plain mode follow), and hand what the provider said once
//! it is finished to `proceed`. A leaf: it names no other screen's handler.

use crate::app::effects::Effect;
use crate::app::keymap::Command;
use crate::app::state::{BrowserWait, Purpose, ReqId, Screen, SignInStep, State};
use crate::backend::{BackendError, BrowserPoll, BrowserStep, SignIn};
use crate::journeys::rules;
use crate::secrets::SecretString;

/// The browser step on screen, for sign-in or a step-up.
fn wait_mut(state: &mut State) -> Option<&mut BrowserWait> {
    if let Some(s) = &mut state.step_up {
        return s.browser.as_mut();
    }
    match (&state.screen, &mut state.signin) {
        (Screen::SignIn, SignInStep::Browser(b)) => Some(b),
        _ => None,
    }
}

/// A new browser step: shown at once, first asked after the provider's interval.
pub(super) fn begin(
    state: &mut State,
    step: BrowserStep,
    purpose: Purpose,
) -> (BrowserWait, Vec<Effect>) {
    let mut wait = BrowserWait::new(step, purpose);
    let fx = next_poll(state, &mut wait);
    (wait, fx)
}

fn next_poll(state: &mut State, wait: &mut BrowserWait) -> Vec<Effect> {
    let Some(delay) = wait.pacing.next_wait() else {
        wait.pending = None;
        wait.error = Some(capitalized(rules::BROWSER_EXPIRED));
        return Vec::new();
    };
    let id = state.next_id();
    wait.pending = Some(id);
    vec![Effect::PollBrowser {
        id,
        step: wait.step.clone(),
        delay,
    }]
}

/// What one poll leads to.
pub(super) enum Polled {
    /// Keep waiting (the next poll), or stop with the error on screen.
    Waiting(Vec<Effect>),
    /// Finished in the browser: what the provider said, for `proceed`.
    Finished(Purpose, Box<SignIn>),
}

/// The provider's answer to one poll.
pub(super) fn polled(
    state: &mut State,
    id: ReqId,
    result: Result<BrowserPoll, BackendError>,
) -> Polled {
    let Some(wait) = wait_mut(state) else {
        return Polled::Waiting(Vec::new());
    };
    if wait.pending != Some(id) {
        return Polled::Waiting(Vec::new());
    }
    let mut wait = wait.clone();
    wait.pending = None;
    let fx = match result {
        Ok(BrowserPoll::Finished(done)) => return Polled::Finished(wait.purpose, Box::new(done)),
        Ok(poll) => {
            wait.pacing.heard(&poll);
            next_poll(state, &mut wait)
        }
        Err(e) => {
            wait.error = Some(capitalized(&e.to_string()));
            Vec::new()
        }
    };
    if let Some(slot) = wait_mut(state) {
        *slot = wait;
    }
    Polled::Waiting(fx)
}

/// Keys on the browser step: copy the code; `None` for Back (the caller knows where back is).
pub(super) fn command(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    let wait = wait_mut(state)?;
    match cmd {
        Command::Copy => {
            let code = wait.step.user_code.clone();
            super::note(
                state,
                format!("Copied the code {code}."),
                crate::app::state::Tone::Info,
            );
            Some(vec![Effect::Copy {
                text: SecretString::new(code),
            }])
        }
        Command::Back => None,
        _ => Some(Vec::new()),
    }
}

/// The error text, or the expiry, as the screen says it.
fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn step(expires: u64) -> BrowserStep {
        BrowserStep {
            verification_uri: "https://login.example.test/device".into(),
            verification_uri_complete: None,
            user_code: "WDJB-MJHT".into(),
            interval: Duration::from_secs(5),
            expires_in: Duration::from_secs(expires),
            handle: SecretString::new("device-code"),
        }
    }

    #[test]
    fn the_wait_slows_down_when_told_and_stops_when_the_code_expires() {
        let mut state = State::new(
            "p",
            "https://x.test",
            Default::default(),
            Default::default(),
        );
        state.screen = Screen::SignIn;
        let (wait, fx) = begin(&mut state, step(12), Purpose::StepUp);
        let id = wait.pending.unwrap();
        assert!(matches!(
            fx.as_slice(),
            [Effect::PollBrowser { delay, .. }] if *delay == Duration::from_secs(5)
        ));
        state.signin = SignInStep::Browser(wait);
        let Polled::Waiting(fx) = polled(&mut state, id, Ok(BrowserPoll::SlowDown)) else {
            panic!("not finished")
        };
        // 5 s waited of 12: a wait of 10 s would outlive the code.
        assert!(fx.is_empty(), "{fx:?}");
        let SignInStep::Browser(w) = &state.signin else {
            panic!()
        };
        assert_eq!(
            w.error.as_deref(),
            Some(capitalized(rules::BROWSER_EXPIRED).as_str())
        );
    }
}
