//! "Lost device? Sign out everywhere": say what it ends, have the user type
//! it (it cannot be undone), step up when the server wants it, then forget
//! this client's kept sign-in too, grant and all.

use super::asker::{Asker, Confirm};
use super::outcome::{ANSWER_LOST_BUT_DONE, Check, Settled, settle};
use super::rules;
use super::session::Keeper;
use super::step_up::guarded;
use crate::backend::{Backend, BackendError};

/// Signs out every session of `username`. `Ok(false)`: the user did not confirm.
pub async fn everywhere<A: Asker>(
    backend: &dyn Backend,
    keeper: &Keeper,
    ask: &mut A,
    username: Option<&str>,
    confirm: Confirm,
) -> Result<bool, A::Error> {
    if confirm == Confirm::Ask {
        for line in rules::SIGN_OUT_EVERYWHERE_ENDS {
            ask.say(line)?;
        }
        if let Some(note) = backend
            .capabilities()
            .await
            .ok()
            .and_then(|c| c.sign_out_everywhere_note)
        {
            ask.say(&note)?;
        }
        if !ask.typed_name(rules::SIGN_OUT_EVERYWHERE_WORDS)? {
            return Ok(false);
        }
    }
    let request = || async {
        let result = backend.sign_out_everywhere().await;
        settle(backend, result, &Check::SignedOutEverywhere).await
    };
    match guarded(backend, ask, request).await? {
        Ok(Some(settled)) => {
            if settled == Settled::AnswerLost {
                ask.say(ANSWER_LOST_BUT_DONE)?;
            }
        }
        Ok(None) => return Ok(false),
        // The server ended this session first: it is done all the same.
        Err(BackendError::SignInRequired) => {}
        Err(e) => return Err(e.into()),
    }
    if let Some(user) = username
        && let Err(e) = keeper.forget_sign_in(user).await
    {
        tracing::warn!(error = %e, "cannot forget the kept sign-in");
    }
    Ok(true)
}
