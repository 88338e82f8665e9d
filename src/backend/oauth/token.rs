//! The token endpoint of any OAuth 2.0 server (RFC 6749 §5): form-encoded
//! requests, the token response, and its error shape, with the extensions
//! Microsoft adds (`error_codes`, the AADSTS numbers). Nothing here knows a
//! provider: adapters word the refusals their own way.

use super::OAuthError;
use crate::backend::http::{self, HttpClient};
use crate::secrets::SecretString;
use serde::Deserialize;

/// What a token endpoint gave: kept only as long as it takes to store it.
#[derive(Clone, PartialEq)]
pub struct TokenSet {
    pub access_token: SecretString,
    /// Absent when the server keeps the old one (no rotation).
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<u64>,
    /// The scopes granted, space-separated, when the server says.
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenWire {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    scope: Option<String>,
}

/// RFC 6749 §5.2, plus Microsoft's `error_codes`.
#[derive(Deserialize)]
pub(super) struct ErrorWire {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_codes: Vec<u64>,
}

/// POST `form` to `path` and read a token response; an OAuth error comes
/// back as `Err(Protocol)` for the caller to interpret (device polling reads
/// `authorization_pending` that way).
pub(super) async fn post(
    http: &HttpClient,
    path: &str,
    form: &[(&str, &str)],
) -> Result<Result<TokenSet, ErrorWire>, OAuthError> {
    let (status, body) = post_form(http, path, form).await?;
    if status.is_success() {
        let t: TokenWire = parse(&body)?;
        return Ok(Ok(TokenSet {
            access_token: SecretString::new(t.access_token),
            refresh_token: t.refresh_token.map(SecretString::new),
            expires_in: t.expires_in,
            scope: t.scope,
        }));
    }
    Ok(Err(error_of(status, &body)?))
}

/// A form POST through the shared client, whatever the answer's status.
pub(super) async fn post_form(
    http: &HttpClient,
    path: &str,
    form: &[(&str, &str)],
) -> Result<(reqwest::StatusCode, Vec<u8>), OAuthError> {
    // An empty value is left out: OAuth reads an empty parameter as absent, some servers reject it.
    let present: Vec<(&str, &str)> = form
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let req = http::form_body(http.request(reqwest::Method::POST, path)?, &present);
    // POST is never retried by the client: a device code or a refresh token
    // spent twice ends the sign-in.
    let resp = http.send_any(req).await?;
    let status = resp.status();
    let bytes = http::read_capped(resp).await?;
    Ok((status, bytes))
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, OAuthError> {
    // By kind and place only: serde's own message quotes the value it met (a token?).
    serde_json::from_slice(body).map_err(|e| {
        OAuthError::Malformed(format!(
            "{} ({})",
            http::json_problem(&e),
            http::describe(body)
        ))
    })
}

/// The error body of a refused request; a body without one is the status.
pub(super) fn error_of(status: reqwest::StatusCode, body: &[u8]) -> Result<ErrorWire, OAuthError> {
    serde_json::from_slice::<ErrorWire>(body).map_err(|_| {
        OAuthError::Malformed(format!(
            "the sign-in server answered {} with {}",
            status.as_u16(),
            http::describe(body)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the graph_replies fuzz target within 206 inputs: serde's
    /// message quoted the token that stood where a number or object belonged.
    #[test]
    fn a_malformed_sign_in_reply_is_described_never_quoted() {
        let body = br#""sat_TOKEN_IN_THE_WRONG_PLACE""#;
        let err = parse::<TokenWire>(body).err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains("does not have the expected shape"), "{err}");
        assert!(!err.contains("sat_TOKEN"), "{err}");
    }
}
