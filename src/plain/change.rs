//! Plain mode's changes: step-up once when the server wants a fresh second
//! factor, and the typed-name override of the last-method guard.

use super::io::Io;
use super::{After, verify};
use crate::app::Action;
use crate::app::effects::{self, Deps, Effect};
use crate::app::state::{Change, Purpose};
use crate::backend::{BackendError, Refusal};
use crate::journeys;
use std::io::{BufRead, Write};

type Next = anyhow::Result<Option<After>>;

async fn apply(deps: &Deps, change: &Change) -> Result<Option<String>, BackendError> {
    let actions = effects::run(
        Effect::Change {
            id: 0,
            change: change.clone(),
        },
        deps.clone(),
    )
    .await;
    match actions.into_iter().next() {
        Some(Action::Changed { result, .. }) => result,
        Some(Action::StepUpNeeded(_)) => Err(BackendError::StepUpRequired),
        _ => Err(BackendError::Malformed("no answer".into())),
    }
}

/// Runs a request that may need a fresh second factor: asks for one (plain
/// mode's verify) and sends it again, once. `Ok(None)`: the user cancelled.
pub async fn guarded<T, R: BufRead, W: Write, Answer>(
    io: &mut Io<R, W>,
    deps: &Deps,
    request: impl FnMut() -> Answer,
) -> anyhow::Result<Result<Option<T>, BackendError>>
where
    Answer: Future<Output = Result<T, BackendError>>,
{
    let confirm = move |challenge| async move {
        io.say("This change needs a fresh second factor.")?;
        verify::run(io, deps, challenge, Purpose::StepUp).await
    };
    journeys::with_step_up(&*deps.backend, confirm, request).await
}

/// Sends a change; step-up once, last-method override by typed name.
pub async fn change<R: BufRead, W: Write>(
    io: &mut Io<R, W>,
    deps: &Deps,
    mut change: Change,
) -> Next {
    loop {
        let sent = change.clone();
        match guarded(io, deps, || apply(deps, &sent)).await? {
            Ok(None) => {
                io.say("Cancelled: nothing was changed.")?;
                return Ok(None);
            }
            Ok(Some(said)) => {
                io.say("Done.")?;
                // After deleting the default, the server names the method that took its place.
                if let (Change::DeleteMethod { .. }, Some(id)) = (&change, said)
                    && let Ok(ms) = deps.backend.methods().await
                    && let Some(m) = ms.iter().find(|m| m.id == id)
                {
                    io.say(&format!(
                        "Your default sign-in method is now {}.",
                        crate::app::state::method_name(m)
                    ))?;
                }
                return Ok(match change {
                    Change::SignOutEverywhere | Change::RevokeSession { current: true, .. } => {
                        Some(After::SignIn)
                    }
                    _ => None,
                });
            }
            Err(BackendError::StepUpRequired) => {
                io.say("Could not confirm it is you. Nothing was changed.")?;
                return Ok(None);
            }
            Err(BackendError::Rejected {
                reason: Refusal::LastMethod,
                message,
            }) => {
                let name = match &mut change {
                    Change::DeleteMethod { name, confirm, .. }
                    | Change::DeleteDevice { name, confirm, .. }
                        if confirm.is_none() =>
                    {
                        *confirm = Some(name.clone());
                        name.clone()
                    }
                    _ => {
                        io.say(&format!("Error: {message}"))?;
                        return Ok(None);
                    }
                };
                io.say(&message)?;
                io.say("Without it, signing in needs only your password.")?;
                if !io.confirm_word(&name)? {
                    io.say("Nothing was deleted.")?;
                    return Ok(None);
                }
            }
            Err(BackendError::SignInRequired) => {
                io.say("Your sign-in has ended; sign in again.")?;
                return Ok(Some(After::SignIn));
            }
            Err(e) => {
                io.say(&format!("Error: {e}"))?;
                return Ok(None);
            }
        }
    }
}
