//! privacyIDEA adapter: a user manages their own tokens through privacyIDEA's
//! self-service REST API (`/auth`, `/token/`, `/validate/check`).
//!
//! Sign-in is `/auth` with username + password, plus a challenge-response
//! second factor when a `login_mode=privacyIDEA` policy asks for one. There is
//! no refresh token: the JWT is kept with its expiry and, once it has expired,
//! every call answers `SignInRequired`. The password is never kept.
//! What the user may do comes from the rights privacyIDEA grants them.

mod activity;
mod enroll;
mod tokens;
mod wire;

use super::http::HttpClient;
use super::token_cell::TokenCell;
use super::{
    Backend, BackendError, Challenge, Credentials, FactorStarted, Refusal, Result, ServerInfo,
    SignIn,
};
use crate::domain::{
    Account, AppPassword, Capabilities, Device, Enrollment, EnrollmentState, FactorOption, Method,
    MethodKind, RememberedDevice, Session,
};
use crate::secrets::SecretString;
use async_trait::async_trait;
use chrono::Utc;
use reqwest::Method as Verb;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;
use wire::{Api, Outcome, Reply, code};

pub use tokens::{NO_DEFAULT, NO_DEVICES, NO_REMEMBERED, NO_SESSIONS, NO_SIGN_OUT_EVERYWHERE};

/// The description new tokens get until the user renames them.
const NEW_TOKEN_DESCRIPTION: &str = "added with secinfo";
/// How long a JWT is assumed to live when it names no expiry (privacyIDEA's default).
const DEFAULT_JWT_LIFETIME: i64 = 3600;

pub struct PrivacyIdea {
    api: Api,
    realm: Option<String>,
    tokens: TokenCell,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The user a challenge-response sign-in is under way for.
    pending_sign_in: Option<(String, Option<String>)>,
    /// Challenges sent to prove a new email/SMS token where no verify policy did so: serial -> transaction.
    enrollment_challenges: HashMap<String, String>,
}

/// A service ID app passwords can be made for (`GET /serviceid/`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceId {
    pub name: String,
    pub description: String,
}

impl PrivacyIdea {
    /// `realm`: sent with every sign-in unless the username names one (`alice@realm`).
    /// `ca_file`: an extra PEM root for a server with a private CA.
    pub fn new(
        url: &str,
        realm: Option<String>,
        ca_file: Option<PathBuf>,
        timeout: Duration,
    ) -> Result<Self> {
        let http = HttpClient::new(url, timeout, ca_file.as_deref())?;
        Ok(Self {
            api: Api::new(http),
            realm: realm.filter(|r| !r.trim().is_empty()),
            tokens: TokenCell::default(),
            state: Mutex::new(State::default()),
        })
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // A poisoned lock only means another task panicked mid-update; the data is still usable.
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// The JWT, while it is still valid; an expired one is dropped.
    fn jwt(&self) -> Result<String> {
        self.tokens.edit(|c| {
            let now = Utc::now().timestamp();
            match (&c.access_token, c.access_expires_at) {
                (Some(_), Some(exp)) if exp <= now => {
                    c.access_token = None;
                    c.access_expires_at = None;
                    Err(BackendError::SignInRequired)
                }
                (Some(t), _) => Ok(t.clone()),
                (None, _) => Err(BackendError::SignInRequired),
            }
        })
    }

    fn claims(&self) -> Result<wire::Claims> {
        wire::claims(&self.jwt()?)
    }

    fn accept_jwt(&self, jwt: &str) {
        let exp = wire::claims(jwt)
            .ok()
            .and_then(|c| c.exp)
            .unwrap_or_else(|| Utc::now().timestamp() + DEFAULT_JWT_LIFETIME);
        self.tokens.update(|c| {
            c.access_token = Some(jwt.to_string());
            c.access_expires_at = Some(exp);
        });
        self.with_state(|s| s.pending_sign_in = None);
    }

    /// A signed-in call; a refusal becomes the matching `BackendError`.
    async fn user_call(&self, verb: Verb, path: &str, params: &[(&str, &str)]) -> Result<Reply> {
        let jwt = self.jwt()?;
        match self.api.call(verb, path, Some(&jwt), params).await? {
            Outcome::Ok(reply) => Ok(reply),
            Outcome::Refused(e) => {
                let err = e.into_backend_error();
                if err == BackendError::SignInRequired {
                    self.tokens.edit(|c| c.access_token = None);
                }
                Err(err)
            }
        }
    }

    /// The user's tokens, every page of them. `filter`: extra query parameters.
    async fn tokens(&self, filter: &[(&str, &str)]) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        let mut page = 1u32;
        loop {
            let page_s = page.to_string();
            let mut params = vec![("page", page_s.as_str()), ("pagesize", "100")];
            params.extend_from_slice(filter);
            let reply = self.user_call(Verb::GET, "token/", &params).await?;
            let list = reply.value["tokens"]
                .as_array()
                .ok_or_else(|| BackendError::Malformed("the token list has no 'tokens'".into()))?;
            all.extend(list.iter().cloned());
            match reply.value["next"].as_u64() {
                Some(next) if next > page as u64 && !list.is_empty() => page = next as u32,
                _ => return Ok(all),
            }
        }
    }

    async fn token(&self, serial: &str) -> Result<Value> {
        self.tokens(&[("serial", serial)])
            .await?
            .into_iter()
            .find(|t| t["serial"].as_str() == Some(serial))
            .ok_or_else(|| {
                BackendError::rejected(
                    Refusal::NotFound,
                    format!(
                        "the method {serial} no longer exists on the server; it may have been removed elsewhere"
                    ),
                )
            })
    }

    /// The service IDs app passwords can be made for.
    pub async fn service_ids(&self) -> Result<Vec<ServiceId>> {
        let reply = self.user_call(Verb::GET, "serviceid/", &[]).await?;
        let map = reply.value.as_object().ok_or_else(|| {
            BackendError::Malformed("the service ID list is not an object".into())
        })?;
        let mut ids: Vec<ServiceId> = map
            .iter()
            .map(|(name, v)| ServiceId {
                name: name.clone(),
                description: v["description"].as_str().unwrap_or("").to_string(),
            })
            .collect();
        ids.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(ids)
    }

    fn sign_in_reply(&self, username: &str, realm: Option<&str>, reply: Reply) -> Result<SignIn> {
        if let Some(jwt) = reply.value["token"].as_str() {
            // An administrator's token lists and changes everybody's tokens: secinfo
            // is the page for one's own, so it does not keep one.
            let role = wire::claims(jwt).map(|c| c.role).unwrap_or_default();
            if role == "admin" || reply.value["role"].as_str() == Some("admin") {
                return Err(BackendError::rejected(
                    Refusal::other("admin_account"),
                    format!(
                        "{username} is a privacyIDEA administrator; secinfo manages your own tokens, \
                         so sign in with your user account"
                    ),
                ));
            }
            self.accept_jwt(jwt);
            return Ok(SignIn::Done {
                mfa_setup_required: false,
            });
        }
        if reply.authentication.as_deref() == Some("CHALLENGE") {
            let challenge = challenge_from(&reply.detail)?;
            self.with_state(|s| {
                s.pending_sign_in = Some((username.to_string(), realm.map(str::to_string)))
            });
            return Ok(SignIn::SecondFactor(challenge));
        }
        Err(BackendError::Malformed(
            "privacyIDEA's /auth reply has neither a token nor a challenge".into(),
        ))
    }

    fn sign_in_realm<'a>(&'a self, username: &str) -> Option<&'a str> {
        if username.contains('@') {
            None
        } else {
            self.realm.as_deref()
        }
    }

    /// `/validate/check`, which needs no sign-in.
    async fn check(&self, params: &[(&str, &str)]) -> Result<Reply> {
        match self
            .api
            .call(Verb::POST, "validate/check", None, params)
            .await?
        {
            Outcome::Ok(r) => Ok(r),
            Outcome::Refused(e) => Err(e.into_backend_error()),
        }
    }
}

fn detail_message(detail: &Value, fallback: &str) -> String {
    detail["message"]
        .as_str()
        .filter(|m| !m.is_empty())
        .unwrap_or(fallback)
        .to_string()
}

/// A privacyIDEA challenge (`detail.multi_challenge`) as secinfo's sign-in challenge.
fn challenge_from(detail: &Value) -> Result<Challenge> {
    let id = detail["transaction_id"]
        .as_str()
        .ok_or_else(|| BackendError::Malformed("the challenge has no transaction_id".into()))?
        .to_string();
    let options: Vec<FactorOption> = detail["multi_challenge"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|c| FactorOption {
                    method_id: c["serial"].as_str().unwrap_or("").to_string(),
                    kind: tokens::kind_of(&serde_json::json!({"tokentype": c["type"]})),
                    label: c["message"]
                        .as_str()
                        .unwrap_or("Enter the code")
                        .to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let expires_in = detail["multi_challenge"][0]["attributes"]["valid_until"]
        .as_str()
        .and_then(|s| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok())
        .map(|t| (t.and_utc().timestamp() - Utc::now().timestamp()).max(0) as u64)
        .unwrap_or(120);
    Ok(Challenge {
        default_method_id: options.first().map(|o| o.method_id.clone()),
        id,
        options,
        remember_days: 0,
        expires_in,
    })
}

fn required<'a>(v: &'a Value, what: &str) -> Result<&'a str> {
    v.as_str()
        .ok_or_else(|| BackendError::Malformed(format!("privacyIDEA's reply has no {what}")))
}

#[async_trait]
impl Backend for PrivacyIdea {
    async fn app_password_services(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .service_ids()
            .await?
            .into_iter()
            .map(|s| (s.name, s.description))
            .collect())
    }

    async fn server_info(&self) -> Result<ServerInfo> {
        match self.api.call(Verb::GET, "healthz/", None, &[]).await? {
            Outcome::Ok(r) if r.value["status"].as_str() == Some("ready") => {}
            Outcome::Ok(r) => {
                // Its status word, cleaned and short; never the rest of what it sent.
                let status = match r.value["status"].as_str() {
                    Some(s) if s.len() <= 40 => format!("it says \"{}\"", crate::present::clean(s)),
                    _ => "it did not say it is ready".to_string(),
                };
                return Err(BackendError::Server {
                    status: 503,
                    message: format!("privacyIDEA is not ready: {status}"),
                });
            }
            Outcome::Refused(e) => return Err(e.into_backend_error()),
        }
        // Every privacyIDEA reply names its version, even a refusal; /healthz/ is the exception.
        let version = match self.api.call(Verb::GET, "auth/rights", None, &[]).await? {
            Outcome::Ok(r) => r.version,
            Outcome::Refused(e) => e.version,
        };
        Ok(ServerInfo {
            name: "privacyIDEA".into(),
            version: version.unwrap_or_else(|| "unknown".into()),
            remember_days: 0,
        })
    }

    async fn activity(&self, before: Option<&str>) -> Result<crate::domain::ActivityPage> {
        self.audit(before).await
    }

    async fn capabilities(&self) -> Result<Capabilities> {
        let claims = self.claims()?;
        // The types the user may enroll are asked for live: enrollment policies can
        // depend on the client and change while the JWT lives.
        let live = self.user_call(Verb::GET, "auth/rights", &[]).await?;
        let enrollable: Vec<String> = live
            .value
            .as_object()
            .map(|types| types.keys().cloned().collect())
            .unwrap_or_default();
        Ok(tokens::capabilities(
            &claims.rights,
            &enrollable,
            self.api.http.base().as_str(),
        ))
    }

    async fn sign_in(&self, username: &str, password: &SecretString) -> Result<SignIn> {
        let realm = self.sign_in_realm(username);
        let mut params = vec![("username", username), ("password", password.expose())];
        if let Some(r) = realm {
            params.push(("realm", r));
        }
        match self.api.call(Verb::POST, "auth", None, &params).await? {
            Outcome::Ok(reply) => self.sign_in_reply(username, realm, reply),
            Outcome::Refused(e) if e.status == 401 || e.code == code::WRONG_CREDENTIALS => {
                Err(BackendError::InvalidCredentials)
            }
            Outcome::Refused(e) => Err(e.into_backend_error()),
        }
    }

    async fn start_factor(
        &self,
        _challenge: &Challenge,
        _method_id: &str,
    ) -> Result<FactorStarted> {
        // privacyIDEA sends every challenged token's code when the password is checked.
        Ok(FactorStarted::default())
    }

    async fn answer_factor(
        &self,
        challenge: &Challenge,
        _method_id: &str,
        code: Option<&SecretString>,
        _remember: bool,
    ) -> Result<SignIn> {
        let code = code.ok_or_else(|| {
            BackendError::NotSupported(
                "approving a privacyIDEA push sign-in is not supported; enter a code".into(),
            )
        })?;
        let (username, realm) = self
            .with_state(|s| s.pending_sign_in.clone())
            .ok_or(BackendError::SignInRequired)?;
        let mut params = vec![
            ("username", username.as_str()),
            ("password", code.expose()),
            ("transaction_id", challenge.id.as_str()),
        ];
        if let Some(r) = realm.as_deref() {
            params.push(("realm", r));
        }
        match self.api.call(Verb::POST, "auth", None, &params).await? {
            Outcome::Ok(reply) => self.sign_in_reply(&username, realm.as_deref(), reply),
            Outcome::Refused(e) if e.status == 401 => Err(BackendError::rejected(
                Refusal::InvalidCode,
                "that code is not right (or has expired)",
            )),
            Outcome::Refused(e) => Err(e.into_backend_error()),
        }
    }

    async fn step_up(&self) -> Result<SignIn> {
        Err(BackendError::NotSupported(
            "privacyIDEA does not ask for a fresh second factor before changes".into(),
        ))
    }

    async fn sign_out(&self) -> Result<()> {
        // The JWT is stateless: privacyIDEA has nothing to revoke, so forgetting it is signing out.
        self.tokens.restore(Credentials::default());
        self.with_state(|s| s.pending_sign_in = None);
        Ok(())
    }

    async fn account(&self) -> Result<Account> {
        let c = self.claims()?;
        let display_name = if c.realm.is_empty() {
            c.username.clone()
        } else {
            format!("{}@{}", c.username, c.realm)
        };
        Ok(Account {
            username: c.username,
            display_name,
        })
    }

    async fn methods(&self) -> Result<Vec<Method>> {
        Ok(self.tokens(&[]).await?.iter().map(tokens::method).collect())
    }

    async fn delete_method(&self, id: &str, confirm: Option<&str>) -> Result<Option<String>> {
        // privacyIDEA itself lets a user delete their last token; secinfo keeps its
        // rule that the last usable second factor goes only with a typed confirmation.
        let methods = self.methods().await?;
        if let Some(m) = methods.iter().find(|m| m.id == id)
            && m.usable_mfa
            && methods.iter().filter(|o| o.usable_mfa).count() == 1
            && confirm != Some(m.detail.as_str())
        {
            return Err(BackendError::rejected(
                Refusal::LastMethod,
                format!(
                    "{} ({}) is your last way to prove it is you; without it anyone with your password can \
                     sign in. To remove it anyway, confirm with its name \"{}\"",
                    m.kind.title(),
                    m.detail,
                    m.detail
                ),
            ));
        }
        self.user_call(Verb::DELETE, &format!("token/{}", enc(id)), &[])
            .await?;
        self.with_state(|s| s.enrollment_challenges.remove(id));
        Ok(None)
    }

    async fn set_default_method(&self, _id: &str) -> Result<()> {
        Err(BackendError::NotSupported(NO_DEFAULT.into()))
    }

    async fn devices(&self) -> Result<Vec<Device>> {
        Err(BackendError::NotSupported(NO_DEVICES.into()))
    }

    async fn delete_device(&self, _id: &str, _confirm: Option<&str>) -> Result<()> {
        Err(BackendError::NotSupported(NO_DEVICES.into()))
    }

    async fn sessions(&self) -> Result<Vec<Session>> {
        Err(BackendError::NotSupported(NO_SESSIONS.into()))
    }

    async fn revoke_session(&self, _id: &str) -> Result<()> {
        Err(BackendError::NotSupported(NO_SESSIONS.into()))
    }

    async fn remembered_devices(&self) -> Result<Vec<RememberedDevice>> {
        Err(BackendError::NotSupported(NO_REMEMBERED.into()))
    }

    async fn forget_device(&self, _id: &str) -> Result<()> {
        Err(BackendError::NotSupported(NO_REMEMBERED.into()))
    }

    async fn sign_out_everywhere(&self) -> Result<()> {
        Err(BackendError::NotSupported(NO_SIGN_OUT_EVERYWHERE.into()))
    }

    async fn app_passwords(&self) -> Result<Vec<AppPassword>> {
        Ok(self
            .tokens(&[("type", "applspec")])
            .await?
            .iter()
            .map(tokens::app_password)
            .collect())
    }

    async fn create_app_password(
        &self,
        name: &str,
        service: Option<&str>,
    ) -> Result<(AppPassword, SecretString)> {
        self.new_app_password(name, service).await
    }

    async fn delete_app_password(&self, id: &str) -> Result<()> {
        self.user_call(Verb::DELETE, &format!("token/{}", enc(id)), &[])
            .await
            .map(drop)
    }

    async fn begin_enrollment(
        &self,
        kind: &MethodKind,
        target: Option<&str>,
    ) -> Result<Enrollment> {
        self.enroll(kind, target).await
    }

    async fn verify_enrollment(
        &self,
        enrollment: &Enrollment,
        code: Option<&SecretString>,
    ) -> Result<EnrollmentState> {
        self.prove(enrollment, code).await
    }

    async fn cancel_enrollment(&self, enrollment: &Enrollment) -> Result<()> {
        self.with_state(|s| s.enrollment_challenges.remove(&enrollment.id));
        match self
            .user_call(Verb::DELETE, &format!("token/{}", enc(&enrollment.id)), &[])
            .await
        {
            Ok(_) => Ok(()),
            // Already gone is what cancelling wanted.
            Err(BackendError::Rejected {
                reason: Refusal::NotFound,
                ..
            }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn rename_method(&self, id: &str, name: &str) -> Result<()> {
        self.user_call(
            Verb::POST,
            &format!("token/description/{}", enc(id)),
            &[("description", name)],
        )
        .await
        .map(drop)
    }

    async fn set_method_enabled(&self, id: &str, enabled: bool) -> Result<()> {
        let verb = if enabled { "enable" } else { "disable" };
        self.user_call(Verb::POST, &format!("token/{verb}/{}", enc(id)), &[])
            .await
            .map(drop)
    }

    fn credentials(&self) -> Credentials {
        self.tokens.get()
    }

    fn restore(&self, credentials: Credentials) {
        self.tokens.restore(credentials);
    }
}

/// A serial as one path segment.
use super::http::segment as enc;
