//! Step-up then retry once: the server refuses a security-info change until
//! the user has met a second factor recently. The journey asks the server
//! for a step-up challenge, lets the front end meet it, and sends the same
//! request again. A second refusal is the server's last word.

use super::asker::Asker;
use super::browser;
use super::rules;
use super::second_factor::{self, Remember};
use crate::backend::{Backend, BackendError, SignIn};

/// Runs `request`. When the server wants a fresh second factor, `confirm`
/// meets the step-up (a challenge, or a browser step; true once met, false
/// when the user cancels) and `request` runs once more.
///
/// The outer error is the front end's own (its input ended, say); the inner
/// result is the server's answer, `Ok(None)` when the user cancelled.
///
/// Plain closures returning futures rather than async closures: the futures
/// of async closures are not provably `Send`, and plain mode runs on tokio.
pub async fn with_step_up<T, E, Confirm, Met, Request, Answer>(
    backend: &dyn Backend,
    confirm: Confirm,
    mut request: Request,
) -> Result<Result<Option<T>, BackendError>, E>
where
    Confirm: FnOnce(SignIn) -> Met,
    Met: Future<Output = Result<bool, E>>,
    Request: FnMut() -> Answer,
    Answer: Future<Output = Result<T, BackendError>>,
{
    match request().await {
        Err(BackendError::StepUpRequired) => {}
        other => return Ok(other.map(Some)),
    }
    match backend.step_up().await {
        Ok(SignIn::Done { .. }) => {}
        Ok(step @ (SignIn::SecondFactor(_) | SignIn::Browser(_))) => {
            if !confirm(step).await? {
                return Ok(Ok(None));
            }
        }
        Ok(SignIn::Pending) => {
            return Ok(Err(BackendError::Malformed(
                "the server answered a step-up with neither a challenge nor a sign-in".into(),
            )));
        }
        Err(e) => return Ok(Err(e)),
    }
    Ok(request().await.map(Some))
}

/// `with_step_up` for a linear front end: the step-up is the shared
/// second-factor journey, asked through `ask`.
pub async fn guarded<A, T, Request, Answer>(
    backend: &dyn Backend,
    ask: &mut A,
    request: Request,
) -> Result<Result<Option<T>, BackendError>, A::Error>
where
    A: Asker,
    Request: FnMut() -> Answer,
    Answer: Future<Output = Result<T, BackendError>>,
{
    let confirm = move |mut step| async move {
        ask.say(rules::STEP_UP_NEEDED)?;
        loop {
            step = match step {
                SignIn::SecondFactor(challenge) => {
                    match second_factor::verify(backend, ask, challenge, Remember::No).await? {
                        Some(next) => next,
                        None => return Ok(false),
                    }
                }
                SignIn::Browser(b) => browser::finish(backend, ask, b).await?,
                SignIn::Done { .. } => return Ok(true),
                SignIn::Pending => return Ok(false),
            }
        }
    };
    with_step_up(backend, confirm, request).await
}
