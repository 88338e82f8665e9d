//! What Microsoft says when it refuses, in words a person can act on:
//! Graph's error JSON ("Microsoft Graph error responses and resource types"),
//! the claims challenge in `WWW-Authenticate` ("Claims challenges, claims
//! requests and client capabilities"), and the sign-in server's AADSTS codes
//! ("Microsoft Entra authentication and authorization error codes").

use crate::backend::oauth::OAuthError;
use crate::backend::{BackendError, Refusal};
use base64::Engine;
use serde::Deserialize;

/// The claims that ask for a fresh MFA, as the authentication methods API
/// overview documents for self-service changes older than 10 minutes.
pub const FRESH_MFA_CLAIMS: &str =
    r#"{"access_token":{"amr":{"essential":true,"values":["ngcmfa"]}}}"#;

/// `{"error":{"code","message","innerError":{...}}}`.
#[derive(Deserialize, Debug, Default)]
pub struct GraphErrorBody {
    #[serde(default)]
    pub error: GraphError,
}

#[derive(Deserialize, Debug, Default)]
pub struct GraphError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "innerError")]
    pub inner: Option<InnerError>,
}

#[derive(Deserialize, Debug, Default)]
pub struct InnerError {
    #[serde(default)]
    pub code: Option<String>,
}

/// The authentication-methods backend sometimes wraps its own JSON in
/// `message`: `{"ErrorCode":"badRequest","Message":"..."}`.
#[derive(Deserialize)]
struct Wrapped {
    #[serde(rename = "ErrorCode")]
    code: Option<String>,
    #[serde(rename = "Message")]
    message: Option<String>,
}

impl GraphError {
    pub fn parse(body: &[u8]) -> GraphError {
        let mut e = serde_json::from_slice::<GraphErrorBody>(body)
            .map(|b| b.error)
            .unwrap_or_default();
        if let Ok(w) = serde_json::from_str::<Wrapped>(&e.message) {
            if let Some(m) = w.message {
                e.message = m;
            }
            if let (Some(c), None) = (w.code, &e.inner) {
                e.inner = Some(InnerError { code: Some(c) });
            }
        }
        e
    }

    /// The most specific machine code Graph gave.
    pub fn code(&self) -> &str {
        self.inner
            .as_ref()
            .and_then(|i| i.code.as_deref())
            .filter(|c| !c.is_empty())
            .unwrap_or(&self.code)
    }
}

/// The decoded `claims` of a `WWW-Authenticate: Bearer ... error="insufficient_claims", claims="<base64>"`.
pub fn claims_challenge(www_authenticate: &str) -> Option<String> {
    if !www_authenticate.contains("insufficient_claims") {
        return None;
    }
    let start = www_authenticate.find("claims=\"")? + "claims=\"".len();
    let rest = &www_authenticate[start..];
    let encoded = &rest[..rest.find('"')?];
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ];
    let bytes = engines.iter().find_map(|e| {
        e.decode(encoded)
            .or_else(|_| e.decode(encoded.trim_end_matches('=')))
            .ok()
    });
    let bytes = bytes.or_else(|| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded.trim_end_matches('='))
            .ok()
    })?;
    let text = String::from_utf8(bytes).ok()?;
    // Only JSON is passed on to the sign-in server.
    serde_json::from_str::<serde_json::Value>(&text).ok()?;
    Some(text)
}

/// What the sign-in server's refusal means, by its AADSTS number.
pub fn aadsts_words(code: u64) -> Option<&'static str> {
    Some(match code {
        50076 | 50079 => {
            "your organization wants multi-factor authentication for this sign-in; sign in again and complete it in the browser"
        }
        50097 => "your organization only allows sign-in from a registered device",
        50105 => "your account is not assigned to this app; ask your administrator for access",
        50126 => "wrong username or password",
        50057 => "your account is disabled; ask your administrator",
        50034 => "this account does not exist in the organization",
        50020 => {
            "this account is from another organization than the one this profile names (tenant)"
        }
        50132 | 50133 | 50173 => {
            "your sign-in was revoked (a password change or \"sign out everywhere\"); sign in again"
        }
        53000 | 53001 => {
            "Conditional Access wants a compliant or managed device, which a device-code sign-in from here cannot show"
        }
        53003 => {
            "Conditional Access blocked this sign-in (your organization may not allow device-code sign-in); ask your administrator, or use the portal in a browser"
        }
        65001 => {
            "this app has not been given consent for what it asks; ask your administrator to grant it"
        }
        70000 => "the sign-in is no longer valid; sign in again",
        70016 => "the sign-in has not been finished in the browser yet",
        70019 | 70020 => "the sign-in code expired; start again",
        700016 => {
            "the profile's client_id is not an app in this organization; check tenant and client_id"
        }
        700082 => "your sign-in expired after a long time unused; sign in again",
        7000218 => {
            "the app registration does not allow public client flows; an administrator must turn on \"Allow public client flows\""
        }
        90002 => "the profile's tenant does not exist; check tenant",
        90094 | 90095 => {
            "your organization's administrator must approve this app's permissions first"
        }
        _ => return None,
    })
}

/// A refused sign-in in plain words, with the AADSTS code for support.
pub fn sign_in_words(e: OAuthError) -> BackendError {
    let codes = match &e {
        OAuthError::Refused { codes, .. } | OAuthError::InvalidGrant { codes } => codes.clone(),
        _ => Vec::new(),
    };
    let Some((code, words)) = codes.iter().find_map(|c| aadsts_words(*c).map(|w| (*c, w))) else {
        return BackendError::from(e);
    };
    match code {
        50126 => BackendError::InvalidCredentials,
        50132 | 50133 | 50173 | 70000 | 700082 => BackendError::SignInRequired,
        _ => BackendError::rejected(
            Refusal::Other {
                code: format!("AADSTS{code}"),
            },
            format!("Microsoft refused the sign-in: {words} (AADSTS{code})"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_message_gives_its_inner_code_and_words() {
        let e = GraphError::parse(
            br#"{"error":{"code":"badRequest","message":"{\"ErrorCode\":\"invalidPhoneNumber\",\"Message\":\"The phone number is not valid.\"}"}}"#,
        );
        assert_eq!(e.code(), "invalidPhoneNumber");
        assert_eq!(e.message, "The phone number is not valid.");
    }

    #[test]
    fn the_claims_challenge_is_decoded_from_the_header() {
        // "Claims challenges, claims requests and client capabilities": the example header.
        let h = r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19""#;
        assert_eq!(
            claims_challenge(h).as_deref(),
            Some(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#)
        );
        assert_eq!(claims_challenge(r#"Bearer error="invalid_token""#), None);
    }

    #[test]
    fn a_conditional_access_block_is_said_plainly_with_its_code() {
        let e = sign_in_words(OAuthError::Refused {
            error: "invalid_grant".into(),
            description: "AADSTS53003: Access has been blocked by Conditional Access policies."
                .into(),
            codes: vec![53003],
        });
        let said = e.to_string();
        assert!(
            said.contains("Conditional Access") && said.contains("AADSTS53003"),
            "{said}"
        );
    }
}
