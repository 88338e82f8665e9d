//! A generic OAuth 2.0 public client for a terminal: the device
//! authorization grant (RFC 8628) to sign in and to step up (with a claims
//! request), refresh-token rotation through the adapter's `TokenCell`, and
//! incremental scopes. No provider is named here: Microsoft Entra uses it
//! today; Keycloak and Okta serve the same grant at their own endpoints.

pub mod device;
pub mod token;

pub use device::DevicePoll;
pub use token::TokenSet;

use super::http::HttpClient;
use super::token_cell::TokenCell;
use super::{BackendError, Credentials, Refusal};
use std::collections::HashSet;
use std::sync::Mutex;

/// Where the server takes the requests, as paths under the client's base URL
/// (from discovery, RFC 8414 / OIDC: `device_authorization_endpoint`, `token_endpoint`).
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub device_authorization: String,
    pub token: String,
}

/// Why the authorization server said no, in RFC 8628 / RFC 6749 terms.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OAuthError {
    #[error("the sign-in code expired before it was used; start again")]
    Expired,
    #[error("the sign-in was declined in the browser")]
    Declined,
    #[error("the sign-in server does not know this sign-in code; start again")]
    UnknownCode,
    #[error("this sign-in code was already used")]
    AlreadyUsed,
    /// The grant (device code or refresh token) is no longer valid: sign in again.
    #[error("your sign-in has ended; sign in again")]
    InvalidGrant { codes: Vec<u64> },
    /// Any other refusal: the server's machine name, its words, and the
    /// provider's own numbers (Microsoft's AADSTS codes) when it sends them.
    #[error("the sign-in server refused ({error}): {description}")]
    Refused {
        error: String,
        description: String,
        codes: Vec<u64>,
    },
    #[error("the sign-in server sent something secinfo cannot read: {0}")]
    Malformed(String),
    #[error(transparent)]
    Http(#[from] BackendError),
}

impl From<OAuthError> for BackendError {
    fn from(e: OAuthError) -> Self {
        let message = e.to_string();
        match e {
            OAuthError::Http(inner) => inner,
            OAuthError::Malformed(m) => BackendError::Malformed(m),
            OAuthError::InvalidGrant { .. } => BackendError::SignInRequired,
            OAuthError::Expired | OAuthError::UnknownCode => {
                BackendError::rejected(Refusal::Expired, message)
            }
            OAuthError::Declined => {
                BackendError::rejected(Refusal::other("access_denied"), message)
            }
            OAuthError::AlreadyUsed => {
                BackendError::rejected(Refusal::other("already_used"), message)
            }
            OAuthError::Refused { error, .. } => {
                BackendError::rejected(Refusal::Other { code: error }, message)
            }
        }
    }
}

/// One registered public client at one authorization server.
pub struct OAuthClient {
    http: HttpClient,
    client_id: String,
    endpoints: Endpoints,
    /// Device codes that already gave tokens (by hash): never polled again.
    spent: Mutex<HashSet<String>>,
}

impl OAuthClient {
    pub fn new(http: HttpClient, client_id: &str, endpoints: Endpoints) -> Self {
        Self {
            http,
            client_id: client_id.to_string(),
            endpoints,
            spent: Mutex::default(),
        }
    }

    /// Trade a refresh token for new tokens (RFC 6749 §6). `scopes` may name
    /// more than the first sign-in did, where the server already has consent.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        scopes: &[&str],
    ) -> Result<TokenSet, OAuthError> {
        let scope = scopes.join(" ");
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("refresh_token", refresh_token),
            ("scope", scope.as_str()),
        ];
        token::post(&self.http, &self.endpoints.token, &form)
            .await?
            .map_err(device::refusal)
    }
}

/// An OAuth client with the signed-in state it produced: tokens kept in the
/// adapter's `TokenCell` (so rotations reach the secret store at once) and a
/// single-flight refresh.
pub struct OAuthSession {
    pub client: OAuthClient,
    tokens: TokenCell,
    /// How this provider words a refused refresh (its own error codes).
    words: fn(OAuthError) -> BackendError,
}

impl OAuthSession {
    pub fn new(client: OAuthClient, words: fn(OAuthError) -> BackendError) -> Self {
        Self {
            client,
            tokens: TokenCell::default(),
            words,
        }
    }

    pub fn tokens(&self) -> &TokenCell {
        &self.tokens
    }

    pub fn access_token(&self) -> Option<String> {
        self.tokens.access_token()
    }

    /// Keep new tokens and tell the secret store. A server that does not
    /// rotate sends no refresh token: the old one stays.
    pub fn accept(&self, t: &TokenSet) {
        self.tokens.update(|c| {
            c.access_token = Some(t.access_token.expose().to_string());
            if let Some(r) = &t.refresh_token {
                c.refresh_token = Some(r.expose().to_string());
            }
            c.access_expires_at = t
                .expires_in
                .and_then(|s| i64::try_from(s).ok())
                .map(|s| chrono::Utc::now().timestamp().saturating_add(s));
        });
    }

    /// Forget the tokens here (the server already ended them, or sign-out).
    pub fn forget(&self) {
        self.tokens.edit(|c| {
            c.access_token = None;
            c.refresh_token = None;
            c.access_expires_at = None;
        });
    }

    /// Refresh once for every request that saw `stale` as the access token.
    /// A refused refresh token is dropped: keeping a spent one would trip the
    /// server's reuse detection later.
    pub async fn refresh(&self, stale: Option<&str>, scopes: &[&str]) -> Result<(), BackendError> {
        self.tokens
            .refresh_once(stale, |refresh_token| async move {
                match self.client.refresh(&refresh_token, scopes).await {
                    Ok(t) => {
                        self.accept(&t);
                        Ok(())
                    }
                    // Not an answer about the token (no network, a proxy's page): keep it.
                    Err(OAuthError::Http(e)) => Err(e),
                    Err(OAuthError::Malformed(m)) => Err(BackendError::Malformed(m)),
                    Err(e) => {
                        self.forget();
                        Err((self.words)(e))
                    }
                }
            })
            .await
    }

    /// Incremental consent without a browser: a refresh asking for `scopes`
    /// (more than the sign-in asked). Where they were consented the new
    /// tokens carry them; where not, the server refuses and the tokens here
    /// stay as they were (the refresh token was not spent).
    pub async fn widen(&self, stale: Option<&str>, scopes: &[&str]) -> Result<(), OAuthError> {
        let mut refused = None;
        let slot = &mut refused;
        let outcome = self
            .tokens
            .refresh_once(stale, |refresh_token| async move {
                match self.client.refresh(&refresh_token, scopes).await {
                    Ok(t) => {
                        self.accept(&t);
                        Ok(())
                    }
                    Err(OAuthError::Http(e)) => Err(e),
                    Err(e) => {
                        *slot = Some(e);
                        Ok(())
                    }
                }
            })
            .await;
        match (outcome, refused) {
            (Err(e), _) => Err(OAuthError::Http(e)),
            (Ok(()), Some(e)) => Err(e),
            (Ok(()), None) => Ok(()),
        }
    }

    pub fn credentials(&self) -> Credentials {
        self.tokens.get()
    }
}
