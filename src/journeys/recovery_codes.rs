//! Recovery codes: a new set replaces the old, so the user is asked first
//! while unused codes are left; the step-up comes before the codes are made,
//! and the codes are shown once.

use super::asker::{Asker, Confirm};
use super::rules;
use super::step_up::guarded;
use crate::backend::Backend;
use crate::secrets::SecretString;

/// Generates a new set. `Ok(None)`: the user kept the old codes.
pub async fn generate<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    confirm: Confirm,
) -> Result<Option<Vec<SecretString>>, A::Error> {
    let left = backend.recovery_codes_left().await?;
    if let Some(n) = left.filter(|n| *n > 0)
        && confirm == Confirm::Ask
        && !ask.yes(&rules::replace_recovery_codes(n))?
    {
        return Ok(None);
    }
    Ok(guarded(backend, ask, || backend.generate_recovery_codes()).await??)
}
