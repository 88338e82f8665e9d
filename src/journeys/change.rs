//! Deleting a method, with the last-method guard's override, and what is said
//! after, written once. The server enforces the guard; this journey only
//! knows how the user overrides it: by typing the method's name when asked,
//! or by giving it up front (the CLI's `--confirm=NAME`).

use super::asker::Asker;
use super::outcome::{ANSWER_LOST_BUT_DONE, Check, Settled, settle};
use super::rules;
use super::step_up::guarded;
use crate::backend::{Backend, BackendError, Refusal};
use crate::domain::{DefaultScope, confirm_name, method_name};

/// A finished delete, in the words every front end uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Deleted {
    pub label: String,
    /// The name of the method that became the default, when the default was deleted.
    pub new_default: Option<String>,
    /// The server's answer was lost; reading the account again showed it deleted.
    pub answer_lost: bool,
}

impl Deleted {
    pub fn message(&self) -> String {
        let said = rules::after_delete(&self.label, self.new_default.as_deref());
        if self.answer_lost {
            format!("{ANSWER_LOST_BUT_DONE} {said}")
        } else {
            said
        }
    }
}

/// The sentence, after "the answer was lost, but…" when it was.
pub(super) fn said<T>(settled: &Settled<T>, sentence: String) -> String {
    match settled {
        Settled::Answered(_) => sentence,
        Settled::AnswerLost => format!("{ANSWER_LOST_BUT_DONE} {sentence}"),
    }
}

/// How the last-method guard may be overridden.
#[derive(Debug, Clone, PartialEq)]
pub enum Override {
    /// Ask to type the name if the server refuses.
    Ask,
    /// Given up front (`None`: no override; the refusal is the answer).
    Given(Option<String>),
}

/// What is deleted: a method, or an authenticator device with its methods.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target<'a> {
    Method(&'a str),
    Device(&'a str),
}

/// Deletes `target`, stepping up when asked. `Ok(None)`: the user cancelled.
pub async fn delete<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    target: Target<'_>,
    how: Override,
) -> Result<Option<Deleted>, A::Error> {
    // The names the user sees and types, from the server's own list.
    let mut listed = None;
    let (label, name) = match target {
        Target::Method(id) => {
            let methods = backend.methods().await?;
            let m = find(&methods, |m| m.id == id, "method", id)?;
            let names = (method_name(m), confirm_name(m));
            listed = Some(methods);
            names
        }
        Target::Device(id) => {
            let devices = backend.devices().await?;
            let d = find(&devices, |d| d.id == id, "device", id)?;
            (
                format!("device {} and its sign-in methods", d.name),
                d.name.clone(),
            )
        }
    };
    let mut confirm = match &how {
        Override::Ask => None,
        Override::Given(name) => name.clone(),
    };
    let check = match target {
        Target::Method(id) => Check::MethodGone {
            id: id.into(),
            label: label.clone(),
        },
        Target::Device(id) => Check::DeviceGone {
            id: id.into(),
            name: name.clone(),
        },
    };
    loop {
        let sent = confirm.clone();
        let request = || async {
            let result = match target {
                Target::Method(id) => backend.delete_method(id, sent.as_deref()).await,
                Target::Device(id) => backend
                    .delete_device(id, sent.as_deref())
                    .await
                    .map(|()| None),
            };
            settle(backend, result, &check).await
        };
        match guarded(backend, ask, request).await? {
            Ok(None) => return Ok(None),
            Ok(Some(settled)) => {
                let answer_lost = settled == Settled::AnswerLost;
                // The new default was listed before the delete: no second round trip for its name.
                let new_default = settled.or(None);
                let methods = match (&new_default, listed) {
                    (None, _) => Vec::new(),
                    (Some(_), Some(methods)) => methods,
                    (Some(_), None) => backend.methods().await?,
                };
                let new_default =
                    new_default.and_then(|d| methods.iter().find(|m| m.id == d).map(method_name));
                return Ok(Some(Deleted {
                    label,
                    new_default,
                    answer_lost,
                }));
            }
            Err(BackendError::Rejected {
                reason: Refusal::LastMethod,
                message,
            }) if how == Override::Ask && confirm.is_none() => {
                ask.say(&message)?;
                ask.say(rules::LAST_METHOD_WARNING)?;
                if !ask.typed_name(&name)? {
                    return Ok(None);
                }
                confirm = Some(name.clone());
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The item of `list` with id `id`, or a refusal naming what was not found.
pub(super) fn find<'a, T>(
    list: &'a [T],
    is: impl Fn(&T) -> bool,
    what: &str,
    id: &str,
) -> Result<&'a T, BackendError> {
    list.iter().find(|x| is(x)).ok_or_else(|| {
        BackendError::rejected(
            Refusal::NotFound,
            format!("there is no {what} {id} on your account"),
        )
    })
}

/// Makes method `id` the default (or, where the backend's default is a kind
/// of method, its kind), stepping up when asked. `Ok(None)`: cancelled;
/// otherwise the sentence every front end says.
pub async fn set_default<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    id: &str,
) -> Result<Option<String>, A::Error> {
    // Independent: one round trip, not two.
    let (caps, methods) = futures::try_join!(backend.capabilities(), backend.methods())?;
    let method = find(&methods, |m| m.id == id, "method", id)?;
    let per_kind = caps.default_scope == DefaultScope::PerKind;
    let name = if per_kind {
        method.kind.title()
    } else {
        method_name(method)
    };
    let check = if per_kind {
        Check::KindDefault {
            kind: method.kind.clone(),
            name: name.clone(),
        }
    } else {
        Check::MethodDefault {
            id: id.into(),
            name: name.clone(),
        }
    };
    let request = || async {
        let result = if per_kind {
            backend.set_default_kind(&method.kind).await
        } else {
            backend.set_default_method(id).await
        };
        settle(backend, result, &check).await
    };
    Ok(guarded(backend, ask, request)
        .await??
        .map(|s| said(&s, rules::now_default(&name))))
}

/// Renames a method or a device, stepping up when asked. `Ok(None)`: the
/// user cancelled the step-up; `Ok(Some(sentence))`: renamed.
pub async fn rename<A: Asker>(
    backend: &dyn Backend,
    ask: &mut A,
    target: Target<'_>,
    name: &str,
) -> Result<Option<String>, A::Error> {
    let name = name.trim();
    let check = match target {
        Target::Method(id) => Check::MethodNamed {
            id: id.into(),
            name: name.into(),
        },
        Target::Device(id) => Check::DeviceNamed {
            id: id.into(),
            name: name.into(),
        },
    };
    let request = || async {
        let result = match target {
            Target::Method(id) => backend.rename_method(id, name).await,
            Target::Device(id) => backend.rename_device(id, name).await,
        };
        settle(backend, result, &check).await
    };
    let renamed = guarded(backend, ask, request).await??;
    Ok(renamed.map(|s| {
        said(
            &s,
            rules::renamed(matches!(target, Target::Device(_)), name),
        )
    }))
}
