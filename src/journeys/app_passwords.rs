//! App passwords: create one (stepping up when the server wants it; the
//! password is shown once) and delete one (asked first). Written once for
//! plain mode and the CLI; the TUI says the same sentences from `rules`.

use super::asker::{Asker, Confirm};
use super::change::{find, said};
use super::outcome::{Check, settle};
use super::rules;
use super::step_up::guarded;
use crate::backend::Backend;
use crate::domain::AppPassword;
use crate::secrets::SecretString;

/// Creates an app password named `name` for `service`. `Ok(None)`: cancelled.
pub async fn create<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    name: &str,
    service: Option<&str>,
) -> Result<Option<(AppPassword, SecretString)>, A::Error> {
    let name = name.trim();
    let request = || super::outcome::create_app_password(backend, name, service);
    Ok(guarded(backend, ask, request).await??)
}

/// Deletes the app password `id`, after asking unless `confirm` is `Given`.
/// `Ok(None)`: the user said no; `Ok(Some(sentence))`: deleted.
pub async fn delete<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    id: &str,
    confirm: Confirm,
) -> Result<Option<String>, A::Error> {
    let list = backend.app_passwords().await?;
    let name = find(&list, |a| a.id == id, "app password", id)?
        .name
        .clone();
    if confirm == Confirm::Ask && !ask.yes(&rules::delete_app_password(&name))? {
        return Ok(None);
    }
    let check = Check::AppPasswordGone {
        id: id.into(),
        name: name.clone(),
    };
    let request = || async { settle(backend, backend.delete_app_password(id).await, &check).await };
    let deleted = guarded(backend, ask, request).await??;
    Ok(deleted.map(|s| said(&s, rules::app_password_deleted(&name))))
}
