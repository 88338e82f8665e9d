//! One Graph request, the way every adapter call makes it: the bearer token,
//! a `client-request-id` of our own, one refresh on 401, a scope asked for
//! only when a request needs it (incremental consent), and a refusal read
//! from Graph's error JSON into what the journeys act on: a step-up (claims
//! challenge, or Entra's fresh-MFA rule for self-service changes), the
//! organization's "no" (a handoff to the portal), throttling, or the missing
//! permission named.

use super::GraphBackend;
use super::errors::{self, GraphError};
use crate::backend::http::{self, read_capped};
use crate::backend::{BackendError, Refusal, Result};
use reqwest::{Method as Verb, Response, StatusCode};
use std::time::Duration;

/// What a request is, which decides what its refusal means.
#[derive(Clone, Copy, Debug)]
pub(super) enum Op {
    /// Reading; a 403 names the delegated permission it needs.
    Read { permission: &'static str },
    /// A change to the user's own methods or preferences: a 403 first asks
    /// for fresh MFA; after one, it is the organization's "no".
    Change { what: &'static str },
    /// Needs a scope the sign-in did not ask for (incremental consent): an
    /// administrator grants it, so it is asked for by a refresh, not in a browser.
    Extra {
        scope: &'static str,
        what: &'static str,
    },
}

/// Fresh MFA counts this long (the authentication methods API overview: 10 minutes).
const FRESH_MFA: Duration = Duration::from_secs(10 * 60);

impl GraphBackend {
    /// Send `verb path` (relative to the Graph base, e.g. `v1.0/me`) with
    /// the bearer token; any non-success becomes the matching error.
    pub(super) async fn call(
        &self,
        verb: Verb,
        path: &str,
        body: Option<&serde_json::Value>,
        op: Op,
    ) -> Result<Response> {
        let token = match self.oauth.access_token() {
            Some(t) => t,
            None => {
                self.refresh(None).await?;
                self.oauth
                    .access_token()
                    .ok_or(BackendError::SignInRequired)?
            }
        };
        let resp = self.send(&verb, path, body, &token).await?;
        let resp = if resp.status() == StatusCode::UNAUTHORIZED && challenge(&resp).is_none() {
            // The access token expired or was revoked: one refresh, then the user signs in again.
            self.refresh(Some(&token)).await?;
            let fresh = self
                .oauth
                .access_token()
                .ok_or(BackendError::SignInRequired)?;
            let again = self.send(&verb, path, body, &fresh).await?;
            if again.status() == StatusCode::UNAUTHORIZED && challenge(&again).is_none() {
                tracing::warn!(ids = %log_ids(&again), "Microsoft Graph refused a refreshed token");
                self.oauth.forget();
                return Err(BackendError::SignInRequired);
            }
            again
        } else {
            resp
        };
        if resp.status().is_success() {
            return Ok(resp);
        }
        if let Op::Extra { scope, what } = op
            && resp.status() == StatusCode::FORBIDDEN
            && challenge(&resp).is_none()
        {
            tracing::info!(ids = %log_ids(&resp), scope, "Graph refused; asking for the scope");
            return self
                .with_scope(&verb, path, body, &token, scope, what)
                .await;
        }
        Err(self.refused(resp, op).await)
    }

    /// Ask for `scope` by a refresh, then send once more. A scope nobody
    /// granted, or a second refusal with it, is the organization's "no".
    async fn with_scope(
        &self,
        verb: &Verb,
        path: &str,
        body: Option<&serde_json::Value>,
        stale: &str,
        scope: &'static str,
        what: &'static str,
    ) -> Result<Response> {
        let mut scopes = super::BASE_SCOPES.to_vec();
        scopes.push(scope);
        let why = match self.oauth.widen(Some(stale), &scopes).await {
            Err(crate::backend::oauth::OAuthError::Http(e)) => return Err(e),
            Err(e) => {
                tracing::info!(error = %e, scope, "scope not granted");
                "which only an administrator can grant to this app, and none has"
            }
            Ok(()) => {
                let token = self
                    .oauth
                    .access_token()
                    .ok_or(BackendError::SignInRequired)?;
                let again = self.send(verb, path, body, &token).await?;
                if again.status().is_success() {
                    return Ok(again);
                }
                if again.status() != StatusCode::FORBIDDEN || challenge(&again).is_some() {
                    return Err(self.refused(again, Op::Extra { scope, what }).await);
                }
                tracing::warn!(ids = %log_ids(&again), scope, "Graph refused with the scope granted");
                "and your organization keeps it for administrators"
            }
        };
        Err(BackendError::rejected(
            Refusal::ConsentRequired {
                portal_url: Some(self.portal_url.clone()),
            },
            format!(
                "Microsoft Entra would not let this app {what}: that needs the permission {scope}, \
                 {why}; you can do it at {}",
                self.portal_url
            ),
        ))
    }

    /// A GET answered with JSON.
    pub(super) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        op: Op,
    ) -> Result<T> {
        http::decode_json(self.call(Verb::GET, path, None, op).await?).await
    }

    async fn send(
        &self,
        verb: &Verb,
        path: &str,
        body: Option<&serde_json::Value>,
        token: &str,
    ) -> Result<Response> {
        let mut req = self
            .graph
            .request(verb.clone(), path)?
            .bearer_auth(token)
            .header("client-request-id", uuid::Uuid::new_v4().to_string())
            .header("return-client-request-id", "true");
        if let Some(b) = body {
            req = crate::backend::http::json_body(req, b)?;
        }
        self.graph.send_any(req).await
    }

    async fn refused(&self, resp: Response, op: Op) -> BackendError {
        let status = resp.status();
        let claims = challenge(&resp);
        let retry_after = http::retry_after(&resp);
        let ids = log_ids(&resp);
        let body = read_capped(resp).await.unwrap_or_default();
        let e = GraphError::parse(&body);
        tracing::warn!(status = status.as_u16(), code = e.code(), %ids, "Microsoft Graph refused");
        let said = if e.message.is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else {
            e.message.clone()
        };
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN if claims.is_some() => {
                // Conditional Access or the fresh-MFA rule names the claims to satisfy.
                self.step_ups(|w| w.claims = claims);
                BackendError::StepUpRequired
            }
            StatusCode::FORBIDDEN => self.forbidden(op, e.code(), &said),
            StatusCode::NOT_FOUND => BackendError::rejected(
                Refusal::NotFound,
                format!(
                    "Microsoft Graph has no such item (it may have been removed elsewhere): {said}"
                ),
            ),
            StatusCode::TOO_MANY_REQUESTS => BackendError::Throttled {
                retry_after: retry_after.map_or(1, |d| d.as_secs().max(1)),
            },
            s if s.is_client_error() => BackendError::rejected(
                Refusal::Other {
                    code: e.code().to_string(),
                },
                format!("Microsoft Graph refused: {said} ({})", e.code()),
            ),
            s => BackendError::Server {
                status: s.as_u16(),
                message: match retry_after {
                    Some(d) => format!("{said}; try again in {} s", d.as_secs()),
                    None => said,
                },
            },
        }
    }

    /// A 403 without a claims challenge, by what was asked.
    fn forbidden(&self, op: Op, code: &str, said: &str) -> BackendError {
        match op {
            Op::Read { permission } => BackendError::rejected(
                Refusal::Other { code: code.into() },
                format!(
                    "Microsoft Graph refused ({code}): this needs the delegated permission {permission}, \
                     which your organization has not granted to this app"
                ),
            ),
            Op::Change { what } => {
                if !self.mfa_is_fresh() {
                    // Entra refuses self-service changes without MFA in the last 10 minutes.
                    self.step_ups(|w| w.claims = Some(errors::FRESH_MFA_CLAIMS.to_string()));
                    return BackendError::StepUpRequired;
                }
                self.handoff(code, what, said)
            }
            // Reached only with a claims challenge or after `with_scope`: the organization's "no".
            Op::Extra { what, .. } => self.handoff(code, what, said),
        }
    }

    /// The organization's "no" to a change the user may make at the portal.
    pub(super) fn handoff(&self, code: &str, what: &str, said: &str) -> BackendError {
        BackendError::rejected(
            Refusal::ConsentRequired {
                portal_url: Some(self.portal_url.clone()),
            },
            format!(
                "Your organization does not let this app {what} ({code}: {said}); \
                 you can do it at {}",
                self.portal_url
            ),
        )
    }

    fn mfa_is_fresh(&self) -> bool {
        self.step_ups(|w| w.mfa_at.is_some_and(|t| t.elapsed() < FRESH_MFA))
    }
}

/// The claims of a `WWW-Authenticate` claims challenge, if the answer has one.
fn challenge(resp: &Response) -> Option<String> {
    resp.headers()
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .find_map(errors::claims_challenge)
}

/// `request-id` and `client-request-id`, which Microsoft support asks for.
fn log_ids(resp: &Response) -> String {
    let h = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string()
    };
    format!(
        "request-id={} client-request-id={}",
        h("request-id"),
        h("client-request-id")
    )
}
