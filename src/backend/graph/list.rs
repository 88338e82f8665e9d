//! Reading the methods: `GET /me/authentication/methods` page by page
//! ("List methods": `@odata.nextLink` until there is none), with the default
//! kind from the sign-in preferences (beta).

use super::GraphBackend;
use super::call::Op;
use super::methods::{self, Collection};
use super::wire::{MethodWire, Page};
use crate::backend::{BackendError, Refusal, Result};
use crate::domain::Method;

/// More pages than any account has methods; a server that never stops is cut off.
const MAX_PAGES: usize = 50;
const READ: Op = Op::Read {
    permission: "UserAuthenticationMethod.Read",
};

/// One listed method. A property of an unexpected shape does not drop the
/// method: it is kept by its type and id, like a type secinfo does not know.
fn wire(v: serde_json::Value) -> MethodWire {
    let text = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let (odata_type, id) = (text("@odata.type"), text("id"));
    serde_json::from_value(v).unwrap_or_else(|e| {
        // Not serde's message: it quotes the value it met, which would put a
        // phone number or address (or worse) into the log.
        let problem = crate::backend::http::json_problem(&e);
        tracing::warn!(%odata_type, %problem, "a method Graph listed has an unexpected shape");
        MethodWire {
            odata_type,
            id,
            ..MethodWire::default()
        }
    })
}

impl GraphBackend {
    pub(super) async fn list_methods(&self) -> Result<Vec<Method>> {
        // The first page and the sign-in preferences do not depend on each
        // other: one round trip for both.
        let (first, preferences) = futures::join!(
            self.get_json::<Page<serde_json::Value>>("v1.0/me/authentication/methods", READ),
            self.preferences()
        );
        let mut page = first?;
        let mut wires: Vec<MethodWire> = Vec::new();
        for pages in 1..=MAX_PAGES {
            wires.extend(page.value.into_iter().map(wire));
            match page.next_link {
                Some(next) if pages < MAX_PAGES => {
                    page = self.get_json(&self.relative(&next)?, READ).await?;
                }
                _ => break,
            }
        }
        let preferences = match preferences {
            Ok(p) => Some(p),
            Err(e @ (BackendError::SignInRequired | BackendError::Unreachable { .. })) => {
                return Err(e);
            }
            // Beta, and not granted everywhere: the list is still worth showing.
            Err(e) => {
                tracing::info!(error = %e, "sign-in preferences not read");
                None
            }
        };
        let preferred = preferences
            .as_ref()
            .and_then(|p| p.user_preferred_method_for_secondary_authentication.clone());
        let system = preferences
            .as_ref()
            .and_then(|p| p.is_system_preferred_authentication_method_enabled)
            .unwrap_or(false);
        let mut list = Vec::with_capacity(wires.len());
        let mut known = std::collections::HashMap::new();
        for w in &wires {
            let mut m = methods::method(w);
            if let Some(p) = &preferred {
                m.is_default = m.usable_mfa && methods::preferred(&m.kind, p);
                if m.is_default && system {
                    m.notes.push((
                        "Default".into(),
                        "your choice; not used while system-preferred MFA is on".into(),
                    ));
                }
            }
            known.insert(
                m.id.clone(),
                (
                    m.clone(),
                    methods::collection(methods::short_type(&w.odata_type)),
                ),
            );
            list.push(m);
        }
        self.listed(|l| *l = known);
        Ok(list)
    }

    /// A method by id, with its collection: from the last listing, else listed again.
    pub(super) async fn find(&self, id: &str) -> Result<(Method, Option<Collection>)> {
        if let Some(found) = self.listed(|l| l.get(id).cloned()) {
            return Ok(found);
        }
        self.list_methods().await?;
        self.listed(|l| l.get(id).cloned()).ok_or_else(|| {
            BackendError::rejected(
                Refusal::NotFound,
                format!("there is no method {id} on your account"),
            )
        })
    }

    /// A `@odata.nextLink` as a path under the Graph base. A link to any
    /// other place is refused: the bearer token must not travel there.
    fn relative(&self, next: &str) -> Result<String> {
        let base = self.graph.base().as_str();
        next.strip_prefix(base).map(str::to_string).ok_or_else(|| {
            BackendError::Malformed(
                "Microsoft Graph's next page points outside its own address; not followed".into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_with_an_unexpected_property_is_kept_by_type_and_id() {
        let w = wire(serde_json::json!({
            "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
            "id": "tap-1",
            "lifetimeInMinutes": "sixty"
        }));
        assert_eq!(
            (w.odata_type.as_str(), w.id.as_str()),
            (
                "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
                "tap-1"
            )
        );
        assert_eq!(w.lifetime_in_minutes, None);
    }
}
