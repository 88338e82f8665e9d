//! Adding methods: TOTP, email and SMS tokens through `/token/init`, proven
//! either by privacyIDEA's verify-enrollment step (when an enrollment policy
//! holds new tokens back) or by `/validate/check`; app passwords as applspec tokens.

use super::{NEW_TOKEN_DESCRIPTION, PrivacyIdea, detail_message, required, tokens};
use crate::backend::{BackendError, Refusal, Result};
use crate::domain::{AppPassword, Enrollment, EnrollmentState, MethodKind};
use crate::secrets::SecretString;
use chrono::Utc;
use reqwest::Method as Verb;

impl PrivacyIdea {
    /// `/token/init` went out and no answer came: a token may exist whose
    /// secret nobody saw (a policy can save new tokens at once). It is looked
    /// up by the serial secinfo chose and removed; never made again blindly.
    async fn enrollment_lost(&self, serial: &str, lost: BackendError) -> BackendError {
        tracing::info!(error = %lost, "a new token's answer was lost; looking it up");
        let found = match self.tokens(&[("serial", serial)]).await {
            Ok(list) => list.iter().any(|t| t["serial"].as_str() == Some(serial)),
            Err(_) => {
                return BackendError::Unconfirmed {
                    message: format!(
                        "{lost}, and secinfo cannot tell whether a method was started; \
                         look at your methods before trying again"
                    ),
                };
            }
        };
        let said = match found {
            false => "reading your account again shows nothing was added",
            true => match self
                .user_call(
                    Verb::DELETE,
                    &format!("token/{}", crate::backend::http::segment(serial)),
                    &[],
                )
                .await
            {
                Ok(_) => "the method it had started was removed, so nothing was added",
                Err(_) => {
                    return BackendError::Unconfirmed {
                        message: format!(
                            "{lost}; it had started a method ({serial}) that could not be removed: \
                             delete it from your methods"
                        ),
                    };
                }
            },
        };
        BackendError::Unconfirmed {
            message: format!("{lost}; {said}. You can try again."),
        }
    }

    /// `/token/init` for a new TOTP, email or SMS token.
    pub(super) async fn enroll(
        &self,
        kind: &MethodKind,
        target: Option<&str>,
    ) -> Result<Enrollment> {
        let ty = match kind {
            MethodKind::AppPassword => {
                return Err(BackendError::NotSupported(
                    "app passwords are made under App passwords, for one of the server's services"
                        .into(),
                ));
            }
            other => tokens::type_for(other).ok_or_else(|| {
                BackendError::NotSupported(format!(
                    "secinfo cannot add a {} to privacyIDEA",
                    other.title()
                ))
            })?,
        };
        let target = target.map(str::trim).filter(|t| !t.is_empty());
        let mut params = vec![
            ("type", ty),
            ("genkey", "1"),
            ("description", NEW_TOKEN_DESCRIPTION),
        ];
        let sent_to = match (kind, target) {
            (MethodKind::Email, Some(addr)) => {
                params.push(("email", addr));
                Some(crate::domain::mask_email(addr))
            }
            (MethodKind::Phone, Some(number)) => {
                params.push(("phone", number));
                Some(crate::domain::mask_phone(number))
            }
            (MethodKind::Email, None) => {
                return Err(BackendError::rejected(
                    Refusal::other("bad_request"),
                    "enter an email address",
                ));
            }
            (MethodKind::Phone, None) => {
                return Err(BackendError::rejected(
                    Refusal::other("bad_request"),
                    "enter a phone number",
                ));
            }
            _ => None,
        };
        // A serial of secinfo's choosing: if the answer is lost, the token it
        // may have made can be looked up by it.
        let chosen = format!(
            "{}{}",
            ty.to_uppercase(),
            hex::encode_upper(rand::random::<[u8; 6]>())
        );
        params.push(("serial", &chosen));
        let reply = match self.user_call(Verb::POST, "token/init", &params).await {
            Err(e) if e.answer_lost() => return Err(self.enrollment_lost(&chosen, e).await),
            other => other?,
        };
        let serial = required(&reply.detail["serial"], "serial")?.to_string();
        let waiting = reply.detail["rollout_state"].as_str() == Some("verify");
        if !waiting && matches!(kind, MethodKind::Email | MethodKind::Phone) {
            self.trigger_proof(&serial).await?;
        }
        let (qr_payload, secret) = if *kind == MethodKind::Totp {
            let uri = required(&reply.detail["googleurl"]["value"], "otpauth URI")?;
            let secret = reply.detail["otpkey"]["value_b32"]
                .as_str()
                .map(SecretString::new);
            (Some(SecretString::new(uri)), secret)
        } else {
            (None, None)
        };
        Ok(Enrollment {
            id: serial.clone(),
            kind: kind.clone(),
            qr_payload,
            secret,
            manual: vec![("Serial".into(), serial)],
            sent_to,
            expires_in: None,
            finished: None,
        })
    }

    /// Finish an enrollment with the code the user typed: privacyIDEA's
    /// verify-enrollment step where a policy holds the token back, else `/validate/check`.
    pub(super) async fn prove(
        &self,
        enrollment: &Enrollment,
        code: Option<&SecretString>,
    ) -> Result<EnrollmentState> {
        let code = code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| BackendError::rejected(Refusal::InvalidCode, "enter the code"))?;
        let serial = enrollment.id.as_str();
        let token = self.token(serial).await?;
        let ty = token["tokentype"].as_str().unwrap_or("");
        if token["rollout_state"].as_str() == Some("verify") {
            // privacyIDEA's verify-enrollment flow: the second /token/init step.
            let verified = self
                .user_call(
                    Verb::POST,
                    "token/init",
                    &[("type", ty), ("serial", serial), ("verify", code.expose())],
                )
                .await;
            match verified {
                Ok(_) => {}
                Err(BackendError::Rejected { message, .. }) => {
                    return Err(BackendError::rejected(
                        Refusal::InvalidCode,
                        format!("that code is not right; try the current one ({message})"),
                    ));
                }
                Err(e) => return Err(e),
            }
        } else {
            // Enrolled at once: prove it with /validate/check, answering the challenge sent for it.
            let tx = self.with_state(|s| s.enrollment_challenges.get(serial).cloned());
            let mut params = vec![("serial", serial), ("pass", code.expose())];
            if let Some(t) = tx.as_deref() {
                params.push(("transaction_id", t));
            }
            let reply = self.check(&params).await?;
            if reply.authentication.as_deref() != Some("ACCEPT") {
                return Err(BackendError::rejected(
                    Refusal::InvalidCode,
                    format!(
                        "that code is not right; try the current one ({})",
                        detail_message(&reply.detail, "rejected")
                    ),
                ));
            }
            self.with_state(|s| s.enrollment_challenges.remove(serial));
        }
        Ok(EnrollmentState::Done(tokens::method(
            &self.token(serial).await?,
        )))
    }

    /// An applspec token for `service` (one of `service_ids`); the password comes back once.
    pub(super) async fn new_app_password(
        &self,
        name: &str,
        service: Option<&str>,
    ) -> Result<(AppPassword, SecretString)> {
        let service = match service {
            Some(s) => s.to_string(),
            None => {
                let ids = self.service_ids().await?;
                match ids.as_slice() {
                    [only] => only.name.clone(),
                    _ => {
                        let names: Vec<&str> = ids.iter().map(|i| i.name.as_str()).collect();
                        return Err(BackendError::rejected(
                            Refusal::other("service_required"),
                            format!(
                                "choose the service the app password is for: {}",
                                if names.is_empty() {
                                    "(the server defines none)".into()
                                } else {
                                    names.join(", ")
                                }
                            ),
                        ));
                    }
                }
            }
        };
        let description = if name.trim().is_empty() {
            NEW_TOKEN_DESCRIPTION
        } else {
            name.trim()
        };
        let reply = self
            .user_call(
                Verb::POST,
                "token/init",
                &[
                    ("type", "applspec"),
                    ("service_id", &service),
                    ("genkey", "1"),
                    ("description", description),
                ],
            )
            .await?;
        let serial = required(&reply.detail["serial"], "serial")?.to_string();
        let password = SecretString::new(required(&reply.detail["password"], "app password")?);
        let created = self.token(&serial).await.ok();
        let app = created
            .as_ref()
            .map(tokens::app_password)
            .unwrap_or(AppPassword {
                id: serial,
                name: format!("{description} ({service})"),
                created: Some(Utc::now()),
                last_used: None,
            });
        Ok((app, password))
    }

    /// Prove a new email/SMS/TOTP token where no verify policy made it wait: send
    /// its challenge (email/SMS) now, checked in `verify_enrollment`.
    pub(super) async fn trigger_proof(&self, serial: &str) -> Result<()> {
        let reply = self.check(&[("serial", serial), ("pass", "")]).await?;
        if let Some(tx) = reply.detail["transaction_id"].as_str() {
            let tx = tx.to_string();
            self.with_state(|s| s.enrollment_challenges.insert(serial.to_string(), tx));
            Ok(())
        } else {
            Err(BackendError::rejected(
                Refusal::other("send_failed"),
                detail_message(
                    &reply.detail,
                    "privacyIDEA did not send a code to the new method",
                ),
            ))
        }
    }
}
