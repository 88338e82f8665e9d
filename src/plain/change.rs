//! Plain mode's changes, through the shared journeys: step-up once when the
//! server wants a fresh second factor, the last-method override by typed
//! name, and the same words after as every front end.

use super::After;
use super::io::Io;
use crate::app::effects::{Deps, apply};
use crate::app::state::Change;
use crate::backend::BackendError;
use crate::journeys;
use crate::journeys::change::{Override, Target};
use std::io::{BufRead, Write};

type Next = anyhow::Result<Option<After>>;

/// Runs a request that may need a fresh second factor: asks for one (the
/// shared second-factor journey) and sends it again, once. `Ok(None)`: cancelled.
pub async fn guarded<T, R: BufRead, W: Write, Answer>(
    io: &mut Io<R, W>,
    deps: &Deps,
    request: impl FnMut() -> Answer,
) -> anyhow::Result<Result<Option<T>, BackendError>>
where
    Answer: Future<Output = Result<T, BackendError>>,
{
    journeys::step_up::guarded(&*deps.backend, io, request).await
}

/// Sends a change and says how it went.
pub async fn change<R: BufRead, W: Write>(io: &mut Io<R, W>, deps: &Deps, change: Change) -> Next {
    let target = match &change {
        Change::DeleteMethod { id, .. } => Some(Target::Method(id)),
        Change::DeleteDevice { id, .. } => Some(Target::Device(id)),
        _ => None,
    };
    let outcome = match (target, &change) {
        (Some(target), _) => journeys::change::delete(&*deps.backend, io, target, Override::Ask)
            .await
            .map(|done| done.map(|d| d.message())),
        (None, Change::SetDefault { id, .. }) => {
            journeys::change::set_default(&*deps.backend, io, id).await
        }
        (None, _) => guarded(io, deps, || apply(&*deps.backend, &change))
            .await
            .and_then(|sent| Ok(sent?.map(|_| "Done.".to_string()))),
    };
    let said = match outcome {
        Ok(said) => said,
        Err(e) => match e.downcast::<BackendError>() {
            Ok(BackendError::SignInRequired) => {
                io.say("Your sign-in has ended; sign in again.")?;
                return Ok(Some(After::SignIn));
            }
            Ok(BackendError::StepUpRequired) => {
                io.say("Could not confirm it is you. Nothing was changed.")?;
                return Ok(None);
            }
            Ok(refused) => {
                io.say(&format!("Error: {refused}"))?;
                return Ok(None);
            }
            Err(other) => return Err(other),
        },
    };
    let Some(said) = said else {
        io.say("Cancelled: nothing was changed.")?;
        return Ok(None);
    };
    io.say(&said)?;
    Ok(match change {
        Change::SignOutEverywhere | Change::RevokeSession { current: true, .. } => {
            Some(After::SignIn)
        }
        _ => None,
    })
}
