//! The changes Graph lets users make to their own security info, each on the
//! endpoint its documentation names: delete on the typed collection, add or
//! change a phone or an email, the default kind (beta signInPreferences),
//! sign out everywhere (revokeSignInSessions) and the password
//! (changePassword). What Graph refuses becomes a handoff to the portal.

use super::call::Op;
use super::methods::{self, graph_phone};
use super::{GraphBackend, PASSWORD_SCOPE, REVOKE_SCOPE};
use crate::backend::http::segment;
use crate::backend::{BackendError, Refusal, Result};
use crate::domain::{Enrollment, Method, MethodKind, confirm_name, method_name};
use crate::secrets::SecretString;
use reqwest::Method as Verb;
use serde_json::json;

impl GraphBackend {
    /// "Delete <type>AuthenticationMethod": `DELETE /me/authentication/<collection>/{id}` → 204.
    pub(super) async fn delete(&self, id: &str, confirm: Option<&str>) -> Result<()> {
        let (m, collection) = self.find(id).await?;
        let Some(c) = collection.filter(|c| c.self_delete) else {
            return Err(BackendError::rejected(
                Refusal::ConsentRequired {
                    portal_url: Some(self.portal_url.clone()),
                },
                format!(
                    "Microsoft does not let users delete a {} themselves; an administrator can, or see {}",
                    m.kind.title().to_lowercase(),
                    self.portal_url
                ),
            ));
        };
        // Graph keeps no last-method rule for users; the journey core's rule is kept here.
        let others = self.listed(|l| {
            l.values()
                .filter(|(o, _)| o.usable_mfa && o.id != m.id)
                .count()
        });
        let name = confirm_name(&m);
        if m.usable_mfa && others == 0 && confirm != Some(name.as_str()) {
            return Err(BackendError::rejected(
                Refusal::LastMethod,
                format!(
                    "{} is your last way to prove it is you; without it anyone with your password can sign in. \
                     To remove it anyway, confirm with its name \"{name}\"",
                    method_name(&m)
                ),
            ));
        }
        let path = format!("{}/me/authentication/{}/{}", c.version, c.path, segment(id));
        self.call(
            Verb::DELETE,
            &path,
            None,
            Op::Change {
                what: "delete this method",
            },
        )
        .await?;
        self.listed(|l| l.remove(id));
        Ok(())
    }

    /// "Update signInPreferences" (beta): the default is a kind of method.
    pub(super) async fn set_preference(&self, kind: &MethodKind) -> Result<()> {
        let Some(value) = methods::preference_of(kind) else {
            return Err(BackendError::rejected(
                Refusal::other("not_a_default_kind"),
                format!(
                    "Microsoft Entra cannot make {} the default sign-in method",
                    kind.title()
                ),
            ));
        };
        let body = json!({ "userPreferredMethodForSecondaryAuthentication": value });
        self.call(
            Verb::PATCH,
            "beta/me/authentication/signInPreferences",
            Some(&body),
            Op::Change {
                what: "change your default sign-in method",
            },
        )
        .await?;
        Ok(())
    }

    /// "Create phoneMethod" / "Create emailMethod": Graph adds it at once,
    /// where the tenant lets users do it themselves; else the handoff.
    pub(super) async fn add_contact(
        &self,
        kind: &MethodKind,
        target: Option<&str>,
    ) -> Result<Enrollment> {
        let target = target.unwrap_or_default().trim();
        let (collection, body) = match kind {
            MethodKind::Email => (
                "emailMethods",
                json!({ "emailAddress": checked_email(target)? }),
            ),
            k => match phone_type(k) {
                Some(t) => (
                    "phoneMethods",
                    json!({ "phoneNumber": graph_phone(&checked_phone(target)?), "phoneType": t }),
                ),
                None => {
                    return Err(self.handoff(
                        "notSupported",
                        &format!("add {}", k.title().to_lowercase()),
                        "Microsoft Graph has no API for it",
                    ));
                }
            },
        };
        let sent = self
            .call(
                Verb::POST,
                &format!("v1.0/me/authentication/{collection}"),
                Some(&body),
                Op::Change {
                    what: "add this method",
                },
            )
            .await;
        let resp = match sent {
            Err(lost) if lost.answer_lost() => return self.added_or_not(kind, target, lost).await,
            other => other?,
        };
        let wire: super::wire::MethodWire = crate::backend::http::decode_json(resp).await?;
        let method = methods::method(&wire);
        Ok(finished(method))
    }

    /// The answer to adding a number or address was lost: Graph adds it in
    /// one step, so the methods are read again and it is either there (added)
    /// or not (nothing changed); never added twice.
    async fn added_or_not(
        &self,
        kind: &MethodKind,
        target: &str,
        lost: BackendError,
    ) -> Result<Enrollment> {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let same = |detail: &str| match kind {
            MethodKind::Email => detail.eq_ignore_ascii_case(target),
            _ => !digits(target).is_empty() && digits(detail) == digits(target),
        };
        match self.list_methods().await {
            Ok(list) => match list
                .into_iter()
                .find(|m| m.kind == *kind && same(&m.detail))
            {
                Some(method) => {
                    tracing::info!("an addition's answer was lost, but the method is there");
                    Ok(finished(method))
                }
                None => Err(BackendError::Unconfirmed {
                    message: format!(
                        "{lost}, and reading your methods again shows {target} was not added: \
                         nothing changed. You can try again."
                    ),
                }),
            },
            Err(_) => Err(BackendError::Unconfirmed {
                message: format!(
                    "{lost}, and secinfo cannot tell whether {target} was added; \
                     look at your methods before trying again"
                ),
            }),
        }
    }

    /// "Update phoneMethod" / "Update emailMethod": `PATCH` → 204.
    pub(super) async fn change_contact(&self, id: &str, target: &str) -> Result<Enrollment> {
        let (mut m, _) = self.find(id).await?;
        let (collection, body, detail) = match &m.kind {
            MethodKind::Email => {
                let address = checked_email(target)?;
                ("emailMethods", json!({ "emailAddress": address }), address)
            }
            k => match phone_type(k) {
                Some(t) => {
                    let number = graph_phone(&checked_phone(target)?);
                    (
                        "phoneMethods",
                        json!({ "phoneNumber": number, "phoneType": t }),
                        number,
                    )
                }
                None => {
                    return Err(BackendError::rejected(
                        Refusal::other("not_a_contact"),
                        format!("{} has no number or address to change", method_name(&m)),
                    ));
                }
            },
        };
        let path = format!("v1.0/me/authentication/{collection}/{}", segment(id));
        self.call(
            Verb::PATCH,
            &path,
            Some(&body),
            Op::Change {
                what: "change this method",
            },
        )
        .await?;
        m.detail = detail;
        self.listed(|l| l.remove(id));
        Ok(finished(m))
    }

    /// "user: revokeSignInSessions": every refresh token and browser
    /// session of the user ends, this client's too.
    pub(super) async fn revoke_sessions(&self) -> Result<()> {
        self.call(
            Verb::POST,
            "v1.0/me/revokeSignInSessions",
            None,
            Op::Extra {
                scope: REVOKE_SCOPE,
                what: "sign you out everywhere",
            },
        )
        .await?;
        // Our own refresh token is among those revoked (within minutes).
        self.oauth.forget();
        Ok(())
    }

    /// "user: changePassword": `{currentPassword, newPassword}` → 204.
    pub(super) async fn change_own_password(
        &self,
        current: &SecretString,
        new: &SecretString,
    ) -> Result<()> {
        let body = json!({ "currentPassword": current.expose(), "newPassword": new.expose() });
        self.call(
            Verb::POST,
            "v1.0/me/changePassword",
            Some(&body),
            Op::Extra {
                scope: PASSWORD_SCOPE,
                what: "change your password",
            },
        )
        .await?;
        Ok(())
    }
}

fn finished(method: Method) -> Enrollment {
    Enrollment {
        id: method.id.clone(),
        kind: method.kind.clone(),
        qr_payload: None,
        secret: None,
        manual: Vec::new(),
        sent_to: None,
        expires_in: None,
        finished: Some(method),
    }
}

/// Graph's `phoneType` for a phone kind.
fn phone_type(kind: &MethodKind) -> Option<&'static str> {
    match kind {
        MethodKind::Phone => Some("mobile"),
        MethodKind::AlternatePhone => Some("alternateMobile"),
        MethodKind::OfficePhone => Some("office"),
        _ => None,
    }
}

fn checked_phone(typed: &str) -> Result<String> {
    crate::validate::phone(typed, None).map_err(|e| {
        BackendError::rejected(Refusal::other("invalid_phone"), format!("{typed:?}: {e}"))
    })
}

fn checked_email(typed: &str) -> Result<String> {
    crate::validate::email(typed).map_err(|e| {
        BackendError::rejected(Refusal::other("invalid_email"), format!("{typed:?}: {e}"))
    })
}
