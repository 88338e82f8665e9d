//! The device authorization grant (RFC 8628): ask for a user code, then ask
//! the token endpoint whether the person has finished in a browser. One poll
//! per call: the pacing (interval, +5 s on `slow_down`, the deadline) is the
//! browser journey's, written once for every provider.

use super::token::{self, ErrorWire};
use super::{OAuthClient, OAuthError, TokenSet};
use crate::backend::BrowserStep;
use crate::secrets::SecretString;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// RFC 8628 §3.2: the interval when the server names none.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// One poll's answer, short of a refusal.
#[derive(Debug, Clone, PartialEq)]
pub enum DevicePoll {
    /// Not finished in the browser yet.
    Pending,
    /// Polling too fast: the caller waits 5 s longer from now on.
    SlowDown,
    Granted(TokenSet),
}

#[derive(Deserialize)]
struct AuthorizationWire {
    device_code: String,
    user_code: String,
    // Azure AD v1 spelled it `verification_url`.
    #[serde(alias = "verification_url")]
    verification_uri: String,
    verification_uri_complete: Option<String>,
    #[serde(deserialize_with = "seconds")]
    expires_in: u64,
    #[serde(default, deserialize_with = "maybe_seconds")]
    interval: Option<u64>,
}

impl OAuthClient {
    /// Ask for a user code (RFC 8628 §3.1). `claims`: a JSON claims request
    /// (OpenID Connect §5.5), sent as is: a provider's step-up challenge.
    pub async fn start_device(
        &self,
        scopes: &[&str],
        claims: Option<&str>,
    ) -> Result<BrowserStep, OAuthError> {
        let scope = scopes.join(" ");
        let form = [
            ("client_id", self.client_id.as_str()),
            ("scope", scope.as_str()),
            ("claims", claims.unwrap_or_default()),
        ];
        let (status, body) =
            token::post_form(&self.http, &self.endpoints.device_authorization, &form).await?;
        if !status.is_success() {
            return Err(refusal(token::error_of(status, &body)?));
        }
        let a: AuthorizationWire = token::parse(&body)?;
        if a.device_code.is_empty() || a.user_code.is_empty() {
            return Err(OAuthError::Malformed(
                "the sign-in server sent an empty device or user code".into(),
            ));
        }
        Ok(BrowserStep {
            verification_uri: a.verification_uri,
            verification_uri_complete: a.verification_uri_complete,
            user_code: a.user_code,
            interval: a
                .interval
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_INTERVAL),
            expires_in: Duration::from_secs(a.expires_in),
            handle: SecretString::new(a.device_code),
        })
    }

    /// Ask once whether `step` was finished (RFC 8628 §3.4, §3.5). After the
    /// first success the same code is never sent again: some servers revoke
    /// the whole grant when a spent device code comes back.
    pub async fn poll_device(&self, step: &BrowserStep) -> Result<DevicePoll, OAuthError> {
        let key = fingerprint(&step.handle);
        if self.spent().contains(&key) {
            return Err(OAuthError::AlreadyUsed);
        }
        let form = [
            ("grant_type", GRANT_TYPE),
            ("client_id", self.client_id.as_str()),
            ("device_code", step.handle.expose()),
        ];
        match token::post(&self.http, &self.endpoints.token, &form).await? {
            Ok(tokens) => {
                self.spent().insert(key);
                Ok(DevicePoll::Granted(tokens))
            }
            Err(e) => match e.error.as_str() {
                "authorization_pending" => Ok(DevicePoll::Pending),
                "slow_down" => Ok(DevicePoll::SlowDown),
                _ => Err(refusal(e)),
            },
        }
    }

    fn spent(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        // A poisoned lock only means another task panicked mid-insert; the set is still usable.
        self.spent.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a refused device or token request means, by RFC 8628 §3.5 and
/// RFC 6749 §5.2 names (and Microsoft's spellings of them).
pub(super) fn refusal(e: ErrorWire) -> OAuthError {
    match e.error.as_str() {
        "expired_token" | "code_expired" => OAuthError::Expired,
        "access_denied" | "authorization_declined" => OAuthError::Declined,
        "bad_verification_code" => OAuthError::UnknownCode,
        "invalid_grant" => OAuthError::InvalidGrant {
            codes: e.error_codes,
        },
        _ => OAuthError::Refused {
            error: e.error,
            description: e.error_description.unwrap_or_default(),
            codes: e.error_codes,
        },
    }
}

/// Spent device codes are remembered by hash: the code itself is a secret.
fn fingerprint(code: &SecretString) -> String {
    hex::encode(Sha256::digest(code.expose().as_bytes()))
}

/// Seconds as a JSON number or, from older servers, a string.
fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    maybe_seconds(d)?.ok_or_else(|| serde::de::Error::custom("missing seconds"))
}

fn maybe_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Secs {
        Number(u64),
        Text(String),
    }
    match Option::<Secs>::deserialize(d)? {
        None => Ok(None),
        Some(Secs::Number(n)) => Ok(Some(n)),
        Some(Secs::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("not a number of seconds: {t:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_come_as_numbers_or_strings_and_interval_defaults_to_five() {
        let a: AuthorizationWire = serde_json::from_str(
            r#"{"device_code":"d","user_code":"U","verification_url":"https://x/device","expires_in":"900"}"#,
        )
        .unwrap();
        assert_eq!(a.expires_in, 900);
        assert_eq!(a.interval, None);
        assert_eq!(a.verification_uri, "https://x/device");
    }

    #[test]
    fn microsoft_and_rfc_names_for_the_same_refusal_agree() {
        let e = |name: &str| ErrorWire {
            error: name.into(),
            error_description: None,
            error_codes: vec![],
        };
        assert_eq!(refusal(e("authorization_declined")), OAuthError::Declined);
        assert_eq!(refusal(e("access_denied")), OAuthError::Declined);
        assert_eq!(refusal(e("expired_token")), OAuthError::Expired);
    }
}
