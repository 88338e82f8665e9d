//! Step-up, for every screen: the server refused a request for want of a
//! fresh second factor. Ask for one (the sign-in's own verify flow), then send
//! the same request again, once. The effect runner hands back the refused
//! request whole (`Action::StepUpNeeded`), so no screen writes this again.
//! A leaf module: it returns effects and never calls a screen's handler
//! except through `update` with the refused request's own answer.

use super::note;
use super::verify;
use crate::app::effects::Effect;
use crate::app::keymap::Command;
use crate::app::state::{Purpose, ReqId, State, StepUp, Tone};
use crate::backend::{BackendError, SignIn};

/// `retry` was refused: step up, unless it already is the retry after one.
pub(super) fn needed(state: &mut State, retry: Effect) -> Vec<Effect> {
    if retry.req_id().is_some() && retry.req_id() == state.stepped_up_for {
        // Confirmed once already and still refused: the screen shows the refusal.
        return settle_refused(state, &retry);
    }
    // Whatever dialog sent it is done; the verify flow takes the screen.
    state.overlay = None;
    let ask = state.next_id();
    state.step_up = Some(StepUp {
        what: retry.purpose(),
        retry,
        pending: Some(ask),
        verify: None,
        browser: None,
        error: None,
    });
    vec![Effect::StepUp { id: ask }]
}

/// The server answered the step-up: a challenge to meet, or (rarely) already fine.
pub(super) fn stepped_up(
    state: &mut State,
    id: ReqId,
    result: Result<SignIn, BackendError>,
) -> Vec<Effect> {
    let Some(s) = &state.step_up else {
        return Vec::new();
    };
    if s.pending != Some(id) {
        return Vec::new();
    }
    match result {
        Ok(SignIn::Done { .. }) => resume(state),
        Ok(next @ (SignIn::SecondFactor(_) | SignIn::Browser(_))) => {
            super::proceed(state, Purpose::StepUp, next)
        }
        Ok(SignIn::Pending) | Err(_) => {
            let why = match result {
                Err(e) => e.to_string(),
                _ => "the server did not ask for a second factor".into(),
            };
            give_up(
                state,
                format!("Could not confirm it is you: {why}. Nothing was changed."),
                Tone::Error,
            )
        }
    }
}

/// Confirmed: send the refused request again, once, under its own id so the
/// screen that sent it takes the answer as if nothing had happened between.
pub(super) fn resume(state: &mut State) -> Vec<Effect> {
    let Some(s) = state.step_up.take() else {
        return Vec::new();
    };
    state.stepped_up_for = s.retry.req_id();
    vec![s.retry]
}

/// Keys while the step-up is on screen: the verify flow's, and Back to cancel.
pub(super) fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    let in_browser = state.step_up.as_ref().is_some_and(|s| s.browser.is_some());
    let handled = if in_browser {
        super::browser::command(state, cmd)
    } else {
        verify::command(state, cmd)
    };
    match handled {
        Some(fx) => fx,
        None if cmd == Command::Back => {
            give_up(state, "Cancelled: nothing was changed.", Tone::Info)
        }
        None => Vec::new(),
    }
}

/// Stop stepping up: the screen that sent the request settles as refused, then hears why.
fn give_up(state: &mut State, why: impl Into<String>, tone: Tone) -> Vec<Effect> {
    let Some(s) = state.step_up.take() else {
        return Vec::new();
    };
    let fx = settle_refused(state, &s.retry);
    note(state, why, tone);
    fx
}

fn settle_refused(state: &mut State, request: &Effect) -> Vec<Effect> {
    match request.failed(BackendError::StepUpRequired) {
        Some(answer) => super::update(state, answer),
        None => Vec::new(),
    }
}
