//! "Verify your identity", for sign-in and step-up alike: choose a method
//! (no question when there is one), then approve the push or type the code.
//! The rules: one question only when there is a choice, push polled every
//! `PUSH_POLL_EVERY` for at most `PUSH_POLL_FOR`, `WRONG_CODES` wrong codes,
//! "r" sends a code again and "c" chooses another way.

use super::asker::Asker;
use super::rules::{self, Approval};
use crate::backend::{Backend, BackendError, Challenge, Refusal, SignIn};
use crate::domain::MethodKind;
use crate::secrets::SecretString;
use std::time::Duration;
use tokio::time::Instant;

/// "Don't ask again for N days on this computer".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remember {
    No,
    Yes,
    /// Ask, once a method is chosen (as the portal's checkbox beside the code).
    Ask,
}

/// Meets `challenge`. `Ok(None)`: the user cancelled. Otherwise what the
/// server said after the second factor (signed in, or a further challenge).
pub async fn verify<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    mut challenge: Challenge,
    remember: Remember,
) -> Result<Option<SignIn>, A::Error> {
    if challenge.options.is_empty() {
        return Err(BackendError::rejected(
            Refusal::other("no_method"),
            "the server offers no second factor for this account",
        )
        .into());
    }
    ask.say("Verify your identity")?;
    let mut chosen = None;
    let mut remember = match remember {
        Remember::Ask if challenge.remember_days == 0 => Remember::No,
        other => other,
    };
    loop {
        let index = match chosen.take() {
            Some(i) => i,
            None => match choose(ask, &challenge)? {
                Some(i) => i,
                None => return Ok(None),
            },
        };
        let option = challenge.options[index].clone();
        if remember == Remember::Ask {
            let q = format!(
                "Don't ask again for {} days on this computer?",
                challenge.remember_days
            );
            remember = if ask.yes(&q)? {
                Remember::Yes
            } else {
                Remember::No
            };
        }
        let remember = remember == Remember::Yes;
        let started = backend.start_factor(&challenge, &option.method_id).await?;
        let outcome = if option.kind == MethodKind::AuthenticatorPush {
            if let Some(n) = started.number {
                // The number on its own line, before any waiting: a screen reader says it clearly.
                ask.say("Open your Authenticator app and enter this number to sign in.")?;
                ask.say(&rules::number_to_match(n))?;
                if let Some(phone) = ask.simulated_phone() {
                    // Signed in already (a step-up): only this account's request.
                    let me = backend.account().await.ok().map(|a| a.username);
                    super::asker::approve_on(&*phone, ask, me.as_deref(), n).await?;
                }
            } else {
                ask.say("Approve the sign-in request in your Authenticator app.")?;
            }
            let lasts = rules::push_lasts(started.expires_in);
            wait_for_push(backend, ask, &challenge, &option.method_id, remember, lasts).await?
        } else {
            if let Some(to) = &started.sent_to {
                ask.say(&format!("We sent a code to {to}."))?;
            }
            let resend = started.sent_to.is_some();
            let other_ways = challenge.options.len() > 1;
            read_codes(
                backend,
                ask,
                &challenge,
                &option.method_id,
                remember,
                resend,
                other_ways,
            )
            .await?
        };
        match outcome {
            Step::Done(SignIn::SecondFactor(next)) => challenge = next,
            Step::Done(done @ SignIn::Done { .. }) => {
                ask.say("Verified.")?;
                return Ok(Some(done));
            }
            Step::Done(other) => return Ok(Some(other)),
            Step::Cancelled => return Ok(None),
            Step::Again => chosen = Some(index),
            Step::OtherWay => {}
        }
    }
}

enum Step {
    Done(SignIn),
    Cancelled,
    /// Send the code (or the push) again.
    Again,
    /// Back to the list of methods.
    OtherWay,
}

fn choose<A: Asker>(ask: &mut A, challenge: &Challenge) -> Result<Option<usize>, A::Error> {
    if challenge.options.len() == 1 {
        return Ok(Some(0));
    }
    let default = challenge
        .options
        .iter()
        .position(|o| Some(&o.method_id) == challenge.default_method_id.as_ref());
    let items: Vec<String> = challenge
        .options
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mark = if Some(i) == default { " (default)" } else { "" };
            format!("{}{mark}", o.label)
        })
        .collect();
    ask.choose("Choose how to confirm it is you:", &items, default)
}

/// Polls the push; says that it waits, the countdown's milestones (never
/// a line a second) and how the wait ended, each as a line.
async fn wait_for_push<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    challenge: &Challenge,
    method_id: &str,
    remember: bool,
    lasts: Duration,
) -> Result<Step, A::Error> {
    ask.say(rules::WAITING_FOR_APPROVAL)?;
    let since = Instant::now();
    let mut left = lasts;
    for _ in 0..rules::push_polls() {
        match backend
            .answer_factor(challenge, method_id, None, remember)
            .await
        {
            Ok(SignIn::Pending) => {
                let now = lasts.saturating_sub(since.elapsed());
                if let Some(line) = rules::time_left(left, now) {
                    ask.say(&line)?;
                }
                left = now;
                tokio::time::sleep(rules::PUSH_POLL_EVERY).await;
            }
            Ok(done) => {
                ask.say(&rules::approval(Approval::Approved))?;
                return Ok(Step::Done(done));
            }
            Err(BackendError::Rejected { reason, message }) => {
                let denied = matches!(reason, Refusal::PushDenied | Refusal::WrongNumber);
                if denied {
                    ask.say(&rules::approval(Approval::Denied))?;
                } else if reason == Refusal::Expired {
                    ask.say(&rules::approval(Approval::TimedOut))?;
                }
                if denied && challenge.options.len() > 1 {
                    ask.say(&format!("{message}."))?;
                    return Ok(Step::OtherWay);
                }
                return Err(BackendError::Rejected { reason, message }.into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    ask.say(&rules::approval(Approval::TimedOut))?;
    Err(BackendError::rejected(Refusal::Expired, rules::PUSH_UNANSWERED).into())
}

#[allow(clippy::too_many_arguments)]
async fn read_codes<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    challenge: &Challenge,
    method_id: &str,
    remember: bool,
    resend: bool,
    other_ways: bool,
) -> Result<Step, A::Error> {
    let prompt = rules::code_prompt(resend, other_ways);
    let mut wrong = 0;
    loop {
        let Some(code) = ask.code(&prompt)? else {
            return Ok(Step::Cancelled);
        };
        match code.expose().trim() {
            "r" if resend => return Ok(Step::Again),
            "c" if other_ways => return Ok(Step::OtherWay),
            "" => continue,
            _ => {}
        }
        let code = SecretString::new(code.expose().trim());
        match backend
            .answer_factor(challenge, method_id, Some(&code), remember)
            .await
        {
            Ok(step) => return Ok(Step::Done(step)),
            Err(BackendError::Rejected { reason, message }) if reason.is_wrong_code() => {
                wrong += 1;
                if wrong >= rules::WRONG_CODES {
                    return Err(BackendError::Rejected { reason, message }.into());
                }
                ask.say(&rules::try_again(&message))?;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
