//! "Verify your identity": choosing a second factor, entering a code or
//! waiting for a push with number matching. Shared by sign-in and step-up;
//! the caller decides what a finished verification means.

use super::step;
use crate::app::effects::Effect;
use crate::app::keymap::Command;
use crate::app::state::{Factor, FactorItem, Purpose, ReqId, State, Verify, VerifyStep};
use crate::backend::{BackendError, Challenge, FactorStarted, Refusal, SignIn};
use crate::journeys::rules;

/// A verification for `challenge`: the default factor starts at once (as the portal does).
pub(super) fn begin(
    state: &mut State,
    challenge: Challenge,
    purpose: Purpose,
) -> (Verify, Vec<Effect>) {
    let default = challenge
        .default_method_id
        .as_ref()
        .and_then(|d| challenge.options.iter().position(|o| &o.method_id == d))
        .or(if challenge.options.len() == 1 {
            Some(0)
        } else {
            None
        });
    let mut v = Verify {
        challenge,
        purpose,
        step: VerifyStep::Choose {
            focus: 0,
            error: None,
        },
    };
    let fx = match default {
        Some(i) => start(state, &mut v, i),
        None => {
            if v.challenge.options.is_empty() {
                v.step = VerifyStep::Choose {
                    focus: 0,
                    error: Some(
                        "This account has no second factor that secinfo can use here.".into(),
                    ),
                };
            }
            Vec::new()
        }
    };
    (v, fx)
}

fn start(state: &mut State, v: &mut Verify, index: usize) -> Vec<Effect> {
    let Some(option) = v.challenge.options.get(index).cloned() else {
        return Vec::new();
    };
    let id = state.next_id();
    let method_id = option.method_id.clone();
    v.step = VerifyStep::Factor(Factor::new(option, id));
    vec![Effect::StartFactor {
        id,
        challenge: v.challenge.clone(),
        method_id,
    }]
}

/// The verification on screen, mutably: a step-up's first, else sign-in's.
pub(super) fn verify_mut(state: &mut State) -> Option<&mut Verify> {
    if let Some(s) = &mut state.step_up {
        return s.verify.as_mut();
    }
    match (&state.screen, &mut state.signin) {
        (crate::app::state::Screen::SignIn, crate::app::state::SignInStep::Verify(v)) => Some(v),
        _ => None,
    }
}

pub(super) fn factor_mut(state: &mut State) -> Option<(Vec<FactorItem>, &mut Factor)> {
    let v = verify_mut(state)?;
    let items = match &v.step {
        VerifyStep::Factor(f) => v.factor_items(f),
        VerifyStep::Choose { .. } => return None,
    };
    match &mut v.step {
        VerifyStep::Factor(f) => Some((items, f)),
        VerifyStep::Choose { .. } => None,
    }
}

/// Keys on a verify screen. Returns `None` when the user backs out of it.
pub(super) fn command(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    enum Do {
        Nothing,
        Start(usize),
        Submit,
        Restart,
        Other,
    }
    let mut v = verify_mut(state)?.clone();
    let offers = v.offers_remember();
    let options = v.challenge.options.len();
    let items = match &v.step {
        VerifyStep::Factor(f) => v.factor_items(f),
        VerifyStep::Choose { .. } => Vec::new(),
    };
    let what = match &mut v.step {
        VerifyStep::Choose { focus, .. } => match cmd {
            Command::MoveUp | Command::MoveDown => {
                *focus = step(*focus, options, cmd == Command::MoveDown);
                Do::Nothing
            }
            Command::Activate => Do::Start(*focus),
            Command::Back => return None,
            _ => Do::Nothing,
        },
        VerifyStep::Factor(f) => match cmd {
            Command::MoveUp | Command::PrevField => {
                f.focus = step(f.focus, items.len(), false);
                Do::Nothing
            }
            Command::MoveDown | Command::NextField => {
                f.focus = step(f.focus, items.len(), true);
                Do::Nothing
            }
            Command::Toggle if offers => {
                f.remember = !f.remember;
                Do::Nothing
            }
            Command::Resend if items.contains(&FactorItem::Resend) => Do::Restart,
            Command::OtherWay if items.contains(&FactorItem::OtherWay) => Do::Other,
            Command::Activate => match items.get(f.focus) {
                Some(FactorItem::Code | FactorItem::Verify) => Do::Submit,
                Some(FactorItem::Remember) => {
                    f.remember = !f.remember;
                    Do::Nothing
                }
                Some(FactorItem::Resend) => Do::Restart,
                Some(FactorItem::OtherWay) => Do::Other,
                None => Do::Nothing,
            },
            Command::Back if options > 1 => Do::Other,
            Command::Back => return None,
            _ => Do::Nothing,
        },
    };
    let fx = match what {
        Do::Nothing => Vec::new(),
        Do::Start(i) => start(state, &mut v, i),
        Do::Submit => {
            let challenge = v.challenge.clone();
            match &mut v.step {
                VerifyStep::Factor(f) => submit(state, &challenge, f),
                VerifyStep::Choose { .. } => Vec::new(),
            }
        }
        Do::Restart => restart(state, &mut v),
        Do::Other => choose_other(&mut v),
    };
    if let Some(slot) = verify_mut(state) {
        *slot = v;
    }
    Some(fx)
}

/// "Sign in another way": the list of factors, the current one focused. Any push poll is abandoned.
fn choose_other(v: &mut Verify) -> Vec<Effect> {
    let focus = match &v.step {
        VerifyStep::Factor(f) => v
            .challenge
            .options
            .iter()
            .position(|o| o == &f.option)
            .unwrap_or(0),
        VerifyStep::Choose { focus, .. } => *focus,
    };
    v.step = VerifyStep::Choose { focus, error: None };
    Vec::new()
}

/// Resend: start the same factor again (a new push with a new number, or a new code).
fn restart(state: &mut State, v: &mut Verify) -> Vec<Effect> {
    let VerifyStep::Factor(f) = &v.step else {
        return Vec::new();
    };
    let remember = f.remember;
    let Some(i) = v.challenge.options.iter().position(|o| o == &f.option) else {
        return Vec::new();
    };
    let fx = start(state, v, i);
    if let VerifyStep::Factor(f) = &mut v.step {
        f.remember = remember;
    }
    fx
}

fn submit(state: &mut State, challenge: &Challenge, f: &mut Factor) -> Vec<Effect> {
    if f.answering.is_some() {
        return Vec::new();
    }
    if f.code.is_empty() {
        f.error = Some("Enter the code first.".into());
        return Vec::new();
    }
    let id = state.next_id();
    f.answering = Some(id);
    f.error = None;
    vec![Effect::Answer {
        id,
        challenge: challenge.clone(),
        method_id: f.option.method_id.clone(),
        code: Some(f.code.clone()),
        remember: f.remember,
    }]
}

/// Waits, then polls: the poll is built when the wait ends, so it carries
/// "Don't ask again" as ticked by then.
fn poll(state: &mut State, _challenge: &Challenge, f: &mut Factor) -> Vec<Effect> {
    if f.polls >= rules::push_polls() {
        f.answering = None;
        f.error = Some(format!(
            "{}: send it again or choose another way.",
            rules::PUSH_UNANSWERED
        ));
        return Vec::new();
    }
    f.polls += 1;
    let id = state.next_id();
    f.answering = Some(id);
    vec![Effect::Wait {
        id,
        delay: state.poll_every,
    }]
}

pub(super) fn waited(state: &mut State, id: ReqId) -> Vec<Effect> {
    let next = state.next_id + 1;
    let Some(v) = verify_mut(state) else {
        return Vec::new();
    };
    let challenge = v.challenge.clone();
    let VerifyStep::Factor(f) = &mut v.step else {
        return Vec::new();
    };
    if f.answering != Some(id) {
        return Vec::new();
    }
    f.answering = Some(next);
    let effect = Effect::Answer {
        id: next,
        challenge,
        method_id: f.option.method_id.clone(),
        code: None,
        remember: f.remember,
    };
    state.next_id = next;
    vec![effect]
}

pub(super) fn started(
    state: &mut State,
    id: ReqId,
    result: Result<FactorStarted, BackendError>,
) -> Vec<Effect> {
    let Some(v) = verify_mut(state) else {
        return Vec::new();
    };
    let challenge = v.challenge.clone();
    let VerifyStep::Factor(f) = &mut v.step else {
        return Vec::new();
    };
    if !f.started.settle(id, result.clone()) {
        return Vec::new();
    }
    match result {
        Ok(_) if f.is_push() => {
            let mut f2 = f.clone();
            let fx = poll(state, &challenge, &mut f2);
            put_factor(state, f2);
            fx
        }
        Ok(_) => Vec::new(),
        Err(e) => {
            f.error = Some(e.to_string());
            Vec::new()
        }
    }
}

fn put_factor(state: &mut State, f: Factor) {
    if let Some(v) = verify_mut(state)
        && let VerifyStep::Factor(slot) = &mut v.step
    {
        *slot = f;
    }
}

pub(super) fn answered(
    state: &mut State,
    id: ReqId,
    result: Result<SignIn, BackendError>,
) -> Vec<Effect> {
    let Some(v) = verify_mut(state) else {
        return Vec::new();
    };
    let VerifyStep::Factor(f) = &v.step else {
        return Vec::new();
    };
    if f.answering != Some(id) {
        return Vec::new();
    }
    let (challenge, purpose, mut f) = (v.challenge.clone(), v.purpose.clone(), f.clone());
    f.answering = None;
    match result {
        Ok(SignIn::Pending) if f.is_push() => {
            let fx = poll(state, &challenge, &mut f);
            put_factor(state, f);
            fx
        }
        Ok(SignIn::Pending) => {
            f.error = Some("The server is still waiting; try again.".into());
            put_factor(state, f);
            Vec::new()
        }
        Ok(next) => super::proceed(state, purpose, next),
        Err(e) => {
            let wrong = e.refusal().is_some_and(Refusal::is_wrong_code);
            f.wrong_codes += u32::from(wrong);
            if wrong && f.wrong_codes >= rules::WRONG_CODES {
                // As the CLI and plain mode do after the same number: start over from the choice.
                if let Some(v) = verify_mut(state) {
                    v.step = VerifyStep::Choose {
                        focus: 0,
                        error: Some(format!(
                            "{e}. That was {} wrong codes: choose how to confirm it is you again.",
                            rules::WRONG_CODES
                        )),
                    };
                }
                return Vec::new();
            }
            f.error = Some(e.to_string());
            if !f.is_push() {
                f.code = Default::default();
            }
            put_factor(state, f);
            Vec::new()
        }
    }
}
