//! privacyIDEA's wire format: every reply is `{"result":{"status","value"|"error"},"detail"}`,
//! errors carry a numeric code, and the JWT is sent as `PI-Authorization`.
//! Requests go out through the shared `HttpClient`'s client; the reply is read
//! here, because privacyIDEA's error body is not secinfo's native one and its
//! message (a policy's reason, a missing token) is what the user must see.

use super::super::http::HttpClient;
use super::super::{BackendError, Refusal, Result};
use base64::Engine as _;
use reqwest::{Method as Verb, StatusCode};
use serde_json::Value;

/// privacyIDEA's error codes secinfo tells apart (privacyidea/lib/error.py).
pub mod code {
    pub const WRONG_CREDENTIALS: i64 = 4031;
    pub const MISSING_RIGHT: i64 = 4306;
    pub const POLICY: i64 = 303;
    pub const TOKEN_NOT_FOUND: i64 = 601;
}

/// A privacyIDEA reply that succeeded: `result.value` and `detail`.
#[derive(Debug, Clone)]
pub struct Reply {
    pub value: Value,
    pub detail: Value,
    pub authentication: Option<String>,
    pub version: Option<String>,
}

/// A refusal with privacyIDEA's own code and message.
#[derive(Debug, Clone)]
pub struct PiError {
    pub status: u16,
    pub code: i64,
    pub message: String,
    pub version: Option<String>,
}

pub enum Outcome {
    Ok(Reply),
    Refused(PiError),
}

pub struct Api {
    pub http: HttpClient,
}

impl Api {
    pub fn new(http: HttpClient) -> Self {
        Self { http }
    }

    /// One call. `jwt`: the user's token, if the route needs one. GET and
    /// DELETE carry `params` in the query; other verbs as a JSON body.
    pub async fn call(
        &self,
        verb: Verb,
        path: &str,
        jwt: Option<&str>,
        params: &[(&str, &str)],
    ) -> Result<Outcome> {
        let mut req = if matches!(verb, Verb::GET | Verb::DELETE) {
            let mut target = path.to_string();
            if !params.is_empty() {
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params)
                    .finish();
                target = format!("{target}?{query}");
            }
            self.http.request(verb.clone(), &target)?
        } else {
            let body: serde_json::Map<String, Value> = params
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect();
            super::super::http::json_body(self.http.request(verb.clone(), path)?, &body)?
        };
        if let Some(t) = jwt {
            req = req.header("PI-Authorization", t);
        }
        req = req.header(reqwest::header::ACCEPT, "application/json");
        tracing::debug!(method = %verb, path, "privacyIDEA request");
        let (status, bytes) = self.http.send_raw(req).await?;
        parse_reply(status, &bytes)
    }
}

/// Read a privacyIDEA reply. A refusal the server explains is `Outcome::Refused`;
/// a body that is not privacyIDEA's JSON is an error of its own.
pub fn parse_reply(status: StatusCode, bytes: &[u8]) -> Result<Outcome> {
    let body: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(_) if status.is_success() => {
            return Err(BackendError::Malformed(format!(
                "not a privacyIDEA reply ({})",
                crate::backend::http::describe(bytes)
            )));
        }
        Err(_) => return Err(crate::backend::http::server_error(status, bytes, None)),
    };
    let result = &body["result"];
    // Successes carry "versionnumber": "3.14"; refusals only "version": "privacyIDEA 3.14".
    let version = body["versionnumber"]
        .as_str()
        .or_else(|| {
            body["version"]
                .as_str()
                .map(|v| v.trim_start_matches("privacyIDEA").trim())
        })
        .map(str::to_string);
    if status.is_success() && result["status"].as_bool() == Some(true) {
        return Ok(Outcome::Ok(Reply {
            value: result["value"].clone(),
            detail: body["detail"].clone(),
            authentication: result["authentication"].as_str().map(str::to_string),
            version,
        }));
    }
    let error = &result["error"];
    match (error["code"].as_i64(), error["message"].as_str()) {
        (Some(code), Some(message)) => Ok(Outcome::Refused(PiError {
            status: status.as_u16(),
            code,
            message: message.to_string(),
            version,
        })),
        _ if status.is_server_error() => Err(BackendError::Server {
            status: status.as_u16(),
            message: status.canonical_reason().unwrap_or("error").to_string(),
        }),
        _ if status.is_success() => Err(BackendError::Malformed(format!(
            "not a privacyIDEA reply: its JSON does not have the expected shape ({})",
            crate::backend::http::describe(bytes)
        ))),
        _ => Err(BackendError::Malformed(format!(
            "privacyIDEA answered {status} without an error message"
        ))),
    }
}

impl PiError {
    /// The general meaning of a refusal, outside sign-in (where 4031 means a wrong password).
    pub fn into_backend_error(self) -> BackendError {
        match (self.status, self.code) {
            (_, code::MISSING_RIGHT) => {
                BackendError::rejected(Refusal::other("forbidden"), self.message)
            }
            (401, _) => BackendError::SignInRequired,
            (429, _) => BackendError::Throttled { retry_after: 1 },
            (_, code::POLICY) => {
                BackendError::rejected(Refusal::other("policy_denied"), self.message)
            }
            (_, code::TOKEN_NOT_FOUND) => BackendError::rejected(
                Refusal::NotFound,
                format!(
                    "this method no longer exists on the server; it may have been removed elsewhere ({})",
                    self.message
                ),
            ),
            (s, _) if s >= 500 => BackendError::Server {
                status: s,
                message: self.message,
            },
            (_, _) => BackendError::rejected(Refusal::other("rejected"), self.message),
        }
    }
}

/// The claims secinfo reads from a privacyIDEA JWT. It is only read, never
/// trusted: the server checks the signature on every call.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Claims {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub realm: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub exp: Option<i64>,
    #[serde(default)]
    pub rights: Vec<String>,
}

pub fn claims(jwt: &str) -> Result<Claims> {
    let payload = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| BackendError::Malformed("the sign-in token is not a JWT".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| {
            BackendError::Malformed("the sign-in token's claims are not base64url".into())
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|_| BackendError::Malformed("the sign-in token's claims are not JSON".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_refusal_keeps_the_servers_reason() {
        let body = br#"{"detail":null,"result":{"error":{"code":303,"message":"User actions are defined, you are not allowed to enroll this token type!"},"status":false}}"#;
        let Outcome::Refused(e) = parse_reply(StatusCode::FORBIDDEN, body).unwrap() else {
            panic!("not refused")
        };
        let err = e.into_backend_error();
        assert_eq!(err.code(), "policy_denied");
        assert!(err.to_string().contains("not allowed to enroll"), "{err}");
    }

    #[test]
    fn an_html_error_page_is_a_server_error_not_a_crash() {
        let err = parse_reply(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>")
            .err()
            .unwrap();
        assert_eq!(err.code(), "server_error");
        let err = parse_reply(StatusCode::OK, b"<html>").err().unwrap();
        assert_eq!(err.code(), "malformed_response");
    }

    #[test]
    fn claims_are_read_from_the_jwt_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"username":"alice","realm":"default","role":"user","exp":1795604547,"rights":["delete"]}"#);
        let c = claims(&format!("eyJhbGciOiJIUzI1NiJ9.{payload}.sig")).unwrap();
        assert_eq!(
            (c.username.as_str(), c.exp, c.rights.len()),
            ("alice", Some(1795604547), 1)
        );
        assert!(claims("garbage").is_err());
    }
}
