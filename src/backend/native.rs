//! The native adapter: speaks secinfo's own protocol (`protocol.rs`) to the
//! reference server. Keeps the access/refresh tokens; on a 401 it rotates
//! the refresh token once and retries, and reports the new tokens through
//! the credentials hook so the secret store never holds a spent one.

use super::http::{HttpClient, json_body};
use super::token_cell::TokenCell;
use super::{
    Backend, BackendError, Challenge, Credentials, CredentialsHook, FactorStarted, Refusal, Result,
    ServerInfo, SignIn,
};
use crate::domain::{
    Ability, Account, ActivityEvent, ActivityKind, ActivityPage, AppPassword, Capabilities,
    DefaultScope, Device, Enrollment, EnrollmentState, FactorOption, Method, MethodKind,
    RememberedDevice, Session,
};
use crate::protocol as p;
use crate::secrets::SecretString;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method as Verb;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

pub struct NativeBackend {
    http: HttpClient,
    client_id: String,
    client_name: String,
    tokens: TokenCell,
    /// Challenges opened by a step-up: answered with the bearer token.
    step_up_challenges: Mutex<HashSet<String>>,
}

impl NativeBackend {
    pub fn new(url: &str, client_id: &str, client_name: &str, timeout: Duration) -> Result<Self> {
        Self::with_ca_file(url, client_id, client_name, timeout, None)
    }

    /// `new`, trusting the certificate authority in `ca_file` (PEM) as well as
    /// the system's: a reference server with an organization's own certificate.
    pub fn with_ca_file(
        url: &str,
        client_id: &str,
        client_name: &str,
        timeout: Duration,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Self> {
        Ok(Self {
            http: HttpClient::new(url, timeout, ca_file)?,
            client_id: client_id.to_string(),
            client_name: client_name.to_string(),
            tokens: TokenCell::default(),
            step_up_challenges: Mutex::default(),
        })
    }

    fn step_up_challenges<T>(&self, f: impl FnOnce(&mut HashSet<String>) -> T) -> T {
        // A poisoned lock only means another task panicked mid-update; the data is still usable.
        f(&mut self
            .step_up_challenges
            .lock()
            .unwrap_or_else(|e| e.into_inner()))
    }

    fn access_token(&self) -> Option<String> {
        self.tokens.access_token()
    }

    /// Store new tokens and tell whoever keeps them.
    fn accept_tokens(&self, t: &p::Tokens) {
        self.tokens.update(|c| {
            c.access_token = Some(t.access_token.clone());
            c.refresh_token = Some(t.refresh_token.clone());
            c.access_expires_at = Some(Utc::now().timestamp() + t.expires_in as i64);
            if let Some(g) = &t.remembered_grant {
                c.remembered_grant = Some(g.clone());
            }
        });
    }

    fn sign_in_state(&self, result: p::AuthResult) -> SignIn {
        match result {
            p::AuthResult::SignedIn(t) => {
                self.accept_tokens(&t);
                SignIn::Done {
                    mfa_setup_required: t.mfa_setup_required,
                }
            }
            p::AuthResult::MfaRequired(c) => SignIn::SecondFactor(challenge(c)),
            p::AuthResult::Pending => SignIn::Pending,
        }
    }

    /// Rotate the refresh token, once for every request that saw `stale` as
    /// the access token. On failure the tokens are dropped: the user must sign in.
    async fn refresh(&self, stale: Option<&str>) -> Result<()> {
        self.tokens
            .refresh_once(stale, |refresh_token| self.rotate(refresh_token))
            .await
    }

    async fn rotate(&self, refresh_token: String) -> Result<()> {
        let body = p::RefreshRequest {
            refresh_token,
            client_id: self.client_id.clone(),
        };
        let req = json_body(self.http.request(Verb::POST, "v1/auth/refresh")?, &body)?;
        match self.http.json::<p::AuthResult>(req).await {
            Ok(p::AuthResult::SignedIn(t)) => {
                self.accept_tokens(&t);
                Ok(())
            }
            Ok(_) => Err(BackendError::Malformed(
                "refresh did not return tokens".into(),
            )),
            Err(e) => {
                if matches!(
                    e,
                    BackendError::SignInRequired | BackendError::Rejected { .. }
                ) {
                    self.tokens.edit(|c| {
                        c.access_token = None;
                        c.refresh_token = None;
                    });
                }
                Err(match e {
                    BackendError::Rejected { .. } => BackendError::SignInRequired,
                    other => other,
                })
            }
        }
    }

    /// A bearer request; on 401 it refreshes once and retries.
    async fn authed(
        &self,
        verb: Verb,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<reqwest::Response> {
        let build = |token: Option<String>| -> Result<reqwest::RequestBuilder> {
            let token = token.ok_or(BackendError::SignInRequired)?;
            let mut req = self.http.request(verb.clone(), path)?.bearer_auth(token);
            if let Some(b) = &body {
                req = json_body(req, b)?;
            }
            Ok(req)
        };
        let token = match self.access_token() {
            Some(t) => t,
            None => {
                self.refresh(None).await?;
                self.access_token().ok_or(BackendError::SignInRequired)?
            }
        };
        match self.http.send(build(Some(token.clone()))?).await {
            Err(BackendError::SignInRequired) => {
                self.refresh(Some(&token)).await?;
                self.http.send(build(self.access_token())?).await
            }
            other => other,
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        super::http::decode_json(self.authed(Verb::GET, path, None).await?).await
    }

    /// A bearer request with a JSON body, answered with JSON.
    async fn send_json<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        verb: Verb,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let body = to_value(body)?;
        super::http::decode_json(self.authed(verb, path, Some(body)).await?).await
    }

    async fn enroll(&self, req: p::EnrollmentRequest) -> Result<Enrollment> {
        match self.send_json(Verb::POST, "v1/me/enrollments", &req).await {
            Ok(dto) => Ok(enrollment(dto)),
            // On this server an enrollment is no method until it is verified,
            // and an unverified one expires: the account is as it was.
            Err(lost) if lost.answer_lost() => Err(BackendError::Unconfirmed {
                message: format!(
                    "{lost}; an addition the server may have begun is no way to sign in until it \
                     is verified, and it expires by itself: nothing was added. You can try again."
                ),
            }),
            Err(e) => Err(e),
        }
    }

    async fn delete_with_confirm(
        &self,
        what: &str,
        id: &str,
        confirm: Option<&str>,
    ) -> Result<p::DeleteResult> {
        let mut path = format!("v1/me/{what}/{}", enc(id));
        if let Some(c) = confirm {
            path.push_str(&format!("?confirm={}", enc(c)));
        }
        super::http::decode_json(self.authed(Verb::DELETE, &path, None).await?).await
    }

    /// A second-factor call: with the bearer token (refreshed if it expired
    /// meanwhile) when it answers a step-up, else anonymous as sign-in is.
    async fn mfa_call<B: serde::Serialize>(
        &self,
        challenge_id: &str,
        path: &str,
        body: &B,
    ) -> Result<reqwest::Response> {
        if self.step_up_challenges(|c| c.contains(challenge_id)) {
            return self.authed(Verb::POST, path, Some(to_value(body)?)).await;
        }
        self.http
            .send(json_body(self.http.request(Verb::POST, path)?, body)?)
            .await
    }
}

fn to_value<B: serde::Serialize>(body: &B) -> Result<serde_json::Value> {
    serde_json::to_value(body).map_err(|e| BackendError::Malformed(e.to_string()))
}

fn enrollment(d: p::EnrollmentDto) -> Enrollment {
    let mut manual = Vec::new();
    if let Some(code) = d.activation_code {
        manual.push(("Code".to_string(), code));
    }
    if let Some(url) = d.server_url {
        manual.push(("URL".to_string(), url));
    }
    Enrollment {
        id: d.id,
        kind: MethodKind::parse(&d.kind),
        qr_payload: d.qr_payload.map(SecretString::new),
        secret: d.secret.map(SecretString::new),
        manual,
        sent_to: d.sent_to,
        expires_in: Some(d.expires_in),
        finished: None,
    }
}

fn enrollment_state(d: p::EnrollmentDto) -> Result<EnrollmentState> {
    match d.state.as_str() {
        "done" => d
            .method
            .map(|m| EnrollmentState::Done(method(m)))
            .ok_or_else(|| {
                BackendError::Malformed("a finished enrollment without its method".into())
            }),
        "awaiting_approval" => Ok(EnrollmentState::AwaitingApproval { number: d.number }),
        "pending" => Ok(EnrollmentState::Pending),
        other => Err(BackendError::Malformed(format!(
            "unknown enrollment state {other:?}"
        ))),
    }
}

fn app_password(a: p::AppPasswordDto) -> AppPassword {
    AppPassword {
        created: time(&a.created_at),
        last_used: time(&a.last_used_at),
        id: a.id,
        name: a.name,
    }
}

use super::http::segment as enc;

fn time(s: &Option<String>) -> Option<DateTime<Utc>> {
    s.as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn challenge(c: p::MfaChallenge) -> Challenge {
    Challenge {
        id: c.challenge_id,
        options: c
            .methods
            .into_iter()
            .map(|m| FactorOption {
                method_id: m.method_id,
                kind: MethodKind::parse(&m.kind),
                label: m.label,
            })
            .collect(),
        default_method_id: c.default_method_id,
        remember_days: c.remember_days,
        expires_in: c.expires_in,
    }
}

fn method(m: p::MethodDto) -> Method {
    Method {
        created: time(&m.created_at),
        last_used: time(&m.last_used_at),
        kind: MethodKind::parse(&m.kind),
        id: m.id,
        detail: m.detail,
        is_default: m.is_default,
        usable_mfa: m.usable_mfa,
        device_id: m.device_id,
        notes: Vec::new(),
    }
}

#[async_trait]
impl Backend for NativeBackend {
    async fn server_info(&self) -> Result<ServerInfo> {
        let meta: p::Meta = self
            .http
            .json(self.http.request(Verb::GET, "v1/meta")?)
            .await?;
        Ok(ServerInfo {
            name: meta.name,
            version: meta.version,
            remember_days: meta.remember_days,
        })
    }

    async fn capabilities(&self) -> Result<Capabilities> {
        let meta: p::Meta = self
            .http
            .json(self.http.request(Verb::GET, "v1/meta")?)
            .await?;
        let enroll = [
            MethodKind::AuthenticatorPush,
            MethodKind::Totp,
            MethodKind::Phone,
            MethodKind::AlternatePhone,
            MethodKind::OfficePhone,
            MethodKind::Email,
            MethodKind::SecurityKey,
            MethodKind::Passkey,
            MethodKind::AppPassword,
        ]
        .into_iter()
        .map(|k| {
            let ability = if matches!(k, MethodKind::SecurityKey | MethodKind::Passkey) {
                Ability::no(format!(
                    "a {} needs a browser (WebAuthn): a terminal cannot talk to it; add it from a browser",
                    k.title().to_lowercase()
                ))
            } else if matches!(k, MethodKind::AppPassword)
                || meta.enrollable.iter().any(|e| e == k.as_str())
            {
                Ability::Yes
            } else {
                Ability::no("this server cannot add it yet")
            };
            (k, ability)
        })
        .collect();
        Ok(Capabilities {
            list_methods: Ability::Yes,
            enroll,
            delete_methods: Ability::Yes,
            set_default: Ability::Yes,
            devices: Ability::Yes,
            sessions: Ability::Yes,
            remembered_devices: Ability::Yes,
            sign_out_everywhere: Ability::Yes,
            app_passwords: Ability::Yes,
            rename: Ability::Yes,
            change_contact: Ability::Yes,
            change_password: Ability::Yes,
            recovery_codes: Ability::Yes,
            activity: Ability::Yes,
            default_scope: DefaultScope::PerMethod,
            sign_out_everywhere_note: None,
        })
    }

    async fn sign_in(&self, username: &str, password: &SecretString) -> Result<SignIn> {
        let body = p::LoginRequest {
            username: username.to_string(),
            password: password.expose().to_string(),
            client_id: self.client_id.clone(),
            client_name: self.client_name.clone(),
            remembered_grant: self.tokens.get().remembered_grant.clone(),
        };
        let req = json_body(self.http.request(Verb::POST, "v1/auth/login")?, &body)?;
        let result = self.http.json::<p::AuthResult>(req).await;
        // A stale grant (revoked, expired, another client's) just means MFA is asked again.
        Ok(self.sign_in_state(result?))
    }

    async fn start_factor(&self, challenge: &Challenge, method_id: &str) -> Result<FactorStarted> {
        // An authenticator code is on the person's device already: the server
        // has nothing to send, so choosing it costs no round trip.
        let totp = challenge
            .options
            .iter()
            .any(|o| o.method_id == method_id && o.kind == MethodKind::Totp);
        if totp {
            return Ok(FactorStarted::default());
        }
        let body = p::MfaSendRequest {
            challenge_id: challenge.id.clone(),
            method_id: method_id.to_string(),
        };
        let resp = self
            .mfa_call(&challenge.id, "v1/auth/mfa/send", &body)
            .await?;
        let sent: p::MfaSent = super::http::decode_json(resp).await?;
        Ok(FactorStarted {
            number: sent.number,
            sent_to: sent.sent_to,
            expires_in: sent.expires_in,
        })
    }

    async fn answer_factor(
        &self,
        challenge: &Challenge,
        method_id: &str,
        code: Option<&SecretString>,
        remember: bool,
    ) -> Result<SignIn> {
        let body = p::MfaVerifyRequest {
            challenge_id: challenge.id.clone(),
            method_id: method_id.to_string(),
            code: code.map(|c| c.expose().to_string()),
            remember,
        };
        let resp = self.mfa_call(&challenge.id, "v1/auth/mfa", &body).await?;
        let result: p::AuthResult = super::http::decode_json(resp).await?;
        if !matches!(result, p::AuthResult::Pending) {
            self.step_up_challenges(|c| c.remove(&challenge.id));
        }
        Ok(self.sign_in_state(result))
    }

    async fn step_up(&self) -> Result<SignIn> {
        let resp = self.authed(Verb::POST, "v1/auth/step-up", None).await?;
        let result: p::AuthResult = super::http::decode_json(resp).await?;
        if let p::AuthResult::MfaRequired(c) = &result {
            self.step_up_challenges(|s| s.insert(c.challenge_id.clone()));
        }
        Ok(self.sign_in_state(result))
    }

    async fn sign_out(&self) -> Result<()> {
        let outcome = match self.access_token() {
            Some(_) => self
                .authed(Verb::POST, "v1/auth/logout", None)
                .await
                .map(drop),
            None => Ok(()),
        };
        self.tokens.edit(|c| {
            c.access_token = None;
            c.refresh_token = None;
            c.access_expires_at = None;
        });
        match outcome {
            Err(BackendError::SignInRequired) => Ok(()),
            other => other,
        }
    }

    async fn account(&self) -> Result<Account> {
        let me: p::Me = self.get("v1/me").await?;
        Ok(Account {
            username: me.username,
            display_name: me.display_name,
        })
    }

    async fn methods(&self) -> Result<Vec<Method>> {
        let list: Vec<p::MethodDto> = self.get("v1/me/methods").await?;
        Ok(list.into_iter().map(method).collect())
    }

    async fn delete_method(&self, id: &str, confirm: Option<&str>) -> Result<Option<String>> {
        Ok(self
            .delete_with_confirm("methods", id, confirm)
            .await?
            .new_default_method_id)
    }

    async fn set_default_method(&self, id: &str) -> Result<()> {
        let body = serde_json::to_value(p::DefaultMethodRequest {
            method_id: id.to_string(),
        })
        .map_err(|e| BackendError::Malformed(e.to_string()))?;
        self.authed(Verb::PUT, "v1/me/default-method", Some(body))
            .await
            .map(drop)
    }

    async fn devices(&self) -> Result<Vec<Device>> {
        let list: Vec<p::DeviceDto> = self.get("v1/me/devices").await?;
        Ok(list
            .into_iter()
            .map(|d| Device {
                added: time(&d.added_at),
                last_used: time(&d.last_used_at),
                id: d.id,
                name: d.name,
                platform: d.platform,
                reachable: d.reachable,
            })
            .collect())
    }

    async fn delete_device(&self, id: &str, confirm: Option<&str>) -> Result<()> {
        self.delete_with_confirm("devices", id, confirm)
            .await
            .map(drop)
    }

    async fn sessions(&self) -> Result<Vec<Session>> {
        let list: Vec<p::SessionDto> = self.get("v1/me/sessions").await?;
        Ok(list
            .into_iter()
            .map(|s| Session {
                signed_in: time(&s.signed_in_at),
                last_active: time(&s.last_active_at),
                id: s.id,
                client: s.client,
                ip: s.ip,
                current: s.current,
            })
            .collect())
    }

    async fn activity(&self, before: Option<&str>) -> Result<ActivityPage> {
        let path = match before {
            Some(cursor) => format!("v1/me/activity?before={}", enc(cursor)),
            None => "v1/me/activity".to_string(),
        };
        let page: p::ActivityPageDto = self.get(&path).await?;
        Ok(ActivityPage {
            events: page
                .events
                .into_iter()
                .map(|e| ActivityEvent {
                    at: time(&Some(e.at)),
                    kind: ActivityKind::parse(&e.kind),
                    what: e.what,
                    client: e.client,
                    ip: e.ip,
                    factor: e.factor,
                })
                .collect(),
            next: page.next,
        })
    }

    async fn revoke_session(&self, id: &str) -> Result<()> {
        self.authed(Verb::DELETE, &format!("v1/me/sessions/{}", enc(id)), None)
            .await
            .map(drop)
    }

    async fn remembered_devices(&self) -> Result<Vec<RememberedDevice>> {
        let list: Vec<p::TrustedDeviceDto> = self.get("v1/me/trusted-devices").await?;
        Ok(list
            .into_iter()
            .map(|t| RememberedDevice {
                created: time(&t.created_at),
                expires: time(&t.expires_at),
                id: t.id,
                client: t.client,
                current: t.current,
            })
            .collect())
    }

    async fn forget_device(&self, id: &str) -> Result<()> {
        self.authed(
            Verb::DELETE,
            &format!("v1/me/trusted-devices/{}", enc(id)),
            None,
        )
        .await
        .map(drop)
    }

    async fn sign_out_everywhere(&self) -> Result<()> {
        self.authed(Verb::POST, "v1/me/signout-everywhere", None)
            .await?;
        self.tokens.restore(Credentials::default());
        Ok(())
    }

    async fn app_passwords(&self) -> Result<Vec<AppPassword>> {
        let list: Vec<p::AppPasswordDto> = self.get("v1/me/app-passwords").await?;
        Ok(list.into_iter().map(app_password).collect())
    }

    async fn create_app_password(
        &self,
        name: &str,
        _service: Option<&str>,
    ) -> Result<(AppPassword, SecretString)> {
        let req = p::AppPasswordRequest {
            name: name.to_string(),
        };
        let created: p::AppPasswordCreated = self
            .send_json(Verb::POST, "v1/me/app-passwords", &req)
            .await?;
        Ok((
            app_password(created.app_password),
            SecretString::new(created.password),
        ))
    }

    async fn delete_app_password(&self, id: &str) -> Result<()> {
        self.authed(
            Verb::DELETE,
            &format!("v1/me/app-passwords/{}", enc(id)),
            None,
        )
        .await
        .map(drop)
    }

    async fn begin_enrollment(
        &self,
        kind: &MethodKind,
        target: Option<&str>,
    ) -> Result<Enrollment> {
        self.enroll(p::EnrollmentRequest {
            kind: kind.as_str().to_string(),
            target: target.map(str::to_string),
            name: None,
            replaces: None,
        })
        .await
    }

    async fn verify_enrollment(
        &self,
        enrollment: &Enrollment,
        code: Option<&SecretString>,
    ) -> Result<EnrollmentState> {
        let req = p::EnrollmentVerifyRequest {
            code: code.map(|c| c.expose().to_string()),
        };
        let dto: p::EnrollmentDto = self
            .send_json(
                Verb::POST,
                &format!("v1/me/enrollments/{}/verify", enc(&enrollment.id)),
                &req,
            )
            .await?;
        enrollment_state(dto)
    }

    async fn cancel_enrollment(&self, enrollment: &Enrollment) -> Result<()> {
        match self
            .authed(
                Verb::DELETE,
                &format!("v1/me/enrollments/{}", enc(&enrollment.id)),
                None,
            )
            .await
        {
            // Already gone (expired and swept, or cancelled elsewhere): nothing is left behind.
            Err(BackendError::Rejected {
                reason: Refusal::NotFound,
                ..
            }) => Ok(()),
            other => other.map(drop),
        }
    }

    async fn rename_method(&self, id: &str, name: &str) -> Result<()> {
        let body = to_value(&p::RenameRequest {
            name: name.to_string(),
        })?;
        self.authed(
            Verb::PATCH,
            &format!("v1/me/methods/{}", enc(id)),
            Some(body),
        )
        .await
        .map(drop)
    }

    async fn rename_device(&self, id: &str, name: &str) -> Result<()> {
        let body = to_value(&p::RenameRequest {
            name: name.to_string(),
        })?;
        self.authed(
            Verb::PATCH,
            &format!("v1/me/devices/{}", enc(id)),
            Some(body),
        )
        .await
        .map(drop)
    }

    async fn begin_phone_change(&self, method_id: &str, number: &str) -> Result<Enrollment> {
        let kind = self
            .methods()
            .await?
            .into_iter()
            .find(|m| m.id == method_id)
            .map(|m| m.kind)
            .ok_or_else(|| {
                BackendError::rejected(
                    Refusal::NotFound,
                    format!("there is no method {method_id} on your account"),
                )
            })?;
        self.enroll(p::EnrollmentRequest {
            kind: kind.as_str().to_string(),
            target: Some(number.to_string()),
            name: None,
            replaces: Some(method_id.to_string()),
        })
        .await
    }

    async fn change_password(&self, current: &SecretString, new: &SecretString) -> Result<()> {
        let body = to_value(&p::ChangePasswordRequest {
            current_password: current.expose().to_string(),
            new_password: new.expose().to_string(),
        })?;
        self.authed(Verb::POST, "v1/me/password", Some(body))
            .await
            .map(drop)
    }

    async fn recovery_codes_left(&self) -> Result<Option<u32>> {
        let status: p::RecoveryCodesStatus = self.get("v1/me/recovery-codes").await?;
        Ok((status.total > 0 || status.created_at.is_some()).then_some(status.remaining))
    }

    async fn generate_recovery_codes(&self) -> Result<Vec<SecretString>> {
        let resp = self
            .authed(Verb::POST, "v1/me/recovery-codes", None)
            .await?;
        let codes: p::RecoveryCodes = super::http::decode_json(resp).await?;
        Ok(codes.codes.into_iter().map(SecretString::new).collect())
    }

    fn watch_credentials(&self, hook: CredentialsHook) {
        self.tokens.watch(hook);
    }

    fn credentials(&self) -> Credentials {
        self.tokens.get()
    }

    fn restore(&self, credentials: Credentials) {
        self.tokens.restore(credentials);
    }
}
