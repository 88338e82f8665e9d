//! Microsoft Entra ID through Microsoft Graph, for the signed-in user:
//! device-code sign-in (the generic `oauth` client against
//! `{authority}/{tenant}/oauth2/v2.0/*`), the methods on `/me/authentication`,
//! the changes Graph lets a user make, and an honest handoff to the portal for
//! the rest. Files: `wire` (JSON), `methods` (types → secinfo methods),
//! `call` (one request and its refusals), `changes` (writes), `errors`.

mod call;
mod changes;
pub mod errors;
mod list;
pub mod methods;
pub mod wire;

use super::http::HttpClient;
use super::oauth::{DevicePoll, Endpoints, OAuthClient, OAuthSession};
use super::{
    Backend, BackendError, BrowserPoll, BrowserStep, Challenge, Credentials, CredentialsHook,
    FactorStarted, Result, ServerInfo, SignIn,
};
use crate::domain::{
    Ability, Account, Capabilities, DefaultScope, Device, Enrollment, EnrollmentState, Method,
    MethodKind, RememberedDevice, Session,
};
use crate::secrets::SecretString;
use async_trait::async_trait;
use call::Op;
use methods::Collection;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com";
pub const DEFAULT_PORTAL_URL: &str = "https://mysignins.microsoft.com/security-info";
/// Where a user reads their own sign-ins: Graph's sign-in logs
/// (`/auditLogs/signIns`) need `AuditLog.Read.All`, which only an administrator holds.
const SIGN_INS_URL: &str = "https://mysignins.microsoft.com";
const NO_ACTIVITY: &str = "Microsoft Entra lets only administrators read sign-ins through its API; you see yours on the web";

/// What every sign-in asks for. More is asked (by a refresh) only when a change needs it.
pub const BASE_SCOPES: &[&str] = &[
    "UserAuthenticationMethod.ReadWrite",
    "User.Read",
    "offline_access",
    "openid",
    "profile",
];
/// `POST /me/revokeSignInSessions` ("user: revokeSignInSessions", permissions).
pub const REVOKE_SCOPE: &str = "User.RevokeSessions.All";
/// `POST /me/changePassword` ("user: changePassword", permissions).
pub const PASSWORD_SCOPE: &str = "Directory.AccessAsUser.All";

/// A Graph profile, resolved.
#[derive(Clone, Debug)]
pub struct GraphSettings {
    /// A tenant id, a domain, or `organizations`.
    pub tenant: String,
    pub client_id: String,
    pub authority: String,
    pub graph_url: String,
    pub portal_url: String,
    pub timeout: Duration,
}

impl GraphSettings {
    pub fn new(tenant: &str, client_id: &str) -> Self {
        Self {
            tenant: tenant.into(),
            client_id: client_id.into(),
            authority: DEFAULT_AUTHORITY.into(),
            graph_url: DEFAULT_GRAPH_URL.into(),
            portal_url: DEFAULT_PORTAL_URL.into(),
            timeout: super::http::DEFAULT_TIMEOUT,
        }
    }
}

/// Step-ups: the claims the next one must ask for, the ones under way, and
/// when the user last met a fresh MFA in one.
#[derive(Default)]
struct StepUps {
    /// A claims request from a challenge (or Entra's fresh-MFA claims).
    claims: Option<String>,
    /// User codes of browser steps started as a step-up.
    started: HashSet<String>,
    mfa_at: Option<Instant>,
}

pub struct GraphBackend {
    graph: HttpClient,
    oauth: OAuthSession,
    portal_url: String,
    step_ups: Mutex<StepUps>,
    /// Each listed method's typed collection, by id (deletes go there).
    listed: Mutex<HashMap<String, (Method, Option<Collection>)>>,
    /// The last sign-in preferences read, and when the read finished: see
    /// [`GraphBackend::preferences`].
    preferences: tokio::sync::Mutex<Option<(Instant, wire::SignInPreferences)>>,
}

impl GraphBackend {
    pub fn new(s: &GraphSettings) -> Result<Self> {
        let tenant = tenant_segment(&s.tenant);
        let login = HttpClient::new(&s.authority, s.timeout, None)?;
        let endpoints = Endpoints {
            device_authorization: format!("{tenant}/oauth2/v2.0/devicecode"),
            token: format!("{tenant}/oauth2/v2.0/token"),
        };
        let client = OAuthClient::new(login, &s.client_id, endpoints);
        Ok(Self {
            graph: HttpClient::new(&s.graph_url, s.timeout, None)?,
            oauth: OAuthSession::new(client, errors::sign_in_words),
            portal_url: s.portal_url.clone(),
            step_ups: Mutex::default(),
            listed: Mutex::default(),
            preferences: tokio::sync::Mutex::default(),
        })
    }

    fn step_ups<T>(&self, f: impl FnOnce(&mut StepUps) -> T) -> T {
        // A poisoned lock only means another task panicked mid-update; the data is still usable.
        f(&mut self.step_ups.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn listed<T>(
        &self,
        f: impl FnOnce(&mut HashMap<String, (Method, Option<Collection>)>) -> T,
    ) -> T {
        f(&mut self.listed.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A refresh asks for the base scopes only: Entra's tokens carry every
    /// scope consented for Graph anyway, and naming one that was refused
    /// (an admin-only scope nobody granted) would fail every later refresh.
    async fn refresh(&self, stale: Option<&str>) -> Result<()> {
        self.oauth.refresh(stale, BASE_SCOPES).await
    }

    /// Start a browser sign-in for the base scopes, with `claims` when a step-up asks for them.
    async fn browser(&self, claims: Option<&str>) -> Result<BrowserStep> {
        self.oauth
            .client
            .start_device(BASE_SCOPES, claims)
            .await
            .map_err(errors::sign_in_words)
    }

    fn handoff_ability(&self, reason: &str) -> Ability {
        Ability::No {
            reason: reason.into(),
            portal_url: Some(self.portal_url.clone()),
        }
    }

    fn absent(what: &str) -> BackendError {
        BackendError::NotSupported(format!(
            "Microsoft Graph has no self-service API for {what}"
        ))
    }

    /// The sign-in preferences, when Graph lets us read them. Reads asked for
    /// together share one request: the capabilities and the methods both need
    /// them, and the home screen and set default ask for both at once. A read
    /// that was still under way when this one was asked for answers it (as it
    /// would have, had they been one request); a read finished before is never
    /// reused, so a change is always seen by the next read.
    async fn preferences(&self) -> Result<wire::SignInPreferences> {
        let asked = Instant::now();
        let mut last = self.preferences.lock().await;
        if let Some((finished, read)) = &*last
            && *finished >= asked
        {
            return Ok(read.clone());
        }
        let read: wire::SignInPreferences = self
            .get_json(
                "beta/me/authentication/signInPreferences",
                Op::Read {
                    permission: "UserAuthenticationMethod.Read",
                },
            )
            .await?;
        *last = Some((Instant::now(), read.clone()));
        Ok(read)
    }
}

/// The tenant as a path segment: a domain or an id reads as it is; anything
/// else is percent-encoded so it cannot change which path is asked for.
fn tenant_segment(tenant: &str) -> String {
    let plain = tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if plain && !tenant.chars().all(|c| c == '.') {
        tenant.to_string()
    } else {
        super::http::segment(tenant)
    }
}

#[async_trait]
impl Backend for GraphBackend {
    async fn server_info(&self) -> Result<ServerInfo> {
        Ok(ServerInfo {
            name: "Microsoft Entra ID".into(),
            version: "Microsoft Graph v1.0".into(),
            remember_days: 0,
        })
    }

    async fn capabilities(&self) -> Result<Capabilities> {
        let cannot_add = |what: &str| {
            self.handoff_ability(&format!(
                "Microsoft does not let apps add {what}; add it at My Sign-ins, then Refresh here"
            ))
        };
        let enroll = vec![
            (
                MethodKind::AuthenticatorPush,
                cannot_add("Microsoft Authenticator"),
            ),
            (MethodKind::Totp, cannot_add("an authenticator app")),
            (MethodKind::Phone, Ability::Yes),
            (MethodKind::AlternatePhone, Ability::Yes),
            (MethodKind::OfficePhone, Ability::Yes),
            (MethodKind::Email, Ability::Yes),
            (
                MethodKind::Passkey,
                self.handoff_ability(
                    "a passkey needs a browser (WebAuthn), which a terminal cannot talk to",
                ),
            ),
            (
                MethodKind::SecurityKey,
                self.handoff_ability(
                    "a security key needs a browser (WebAuthn), which a terminal cannot talk to",
                ),
            ),
            (
                MethodKind::HardwareToken,
                cannot_add("hardware tokens (an administrator assigns them)"),
            ),
            (MethodKind::AppPassword, cannot_add("app passwords")),
        ];
        // System-preferred MFA overrides the user's choice: say so instead of offering it.
        let system_preferred = match self.oauth.access_token() {
            Some(_) => self
                .preferences()
                .await
                .ok()
                .and_then(|p| p.is_system_preferred_authentication_method_enabled)
                .unwrap_or(false),
            None => false,
        };
        let set_default = if system_preferred {
            self.handoff_ability(
                "system-preferred MFA is on for your account: at each sign-in Microsoft asks for the \
                 strongest method you have, so a default chosen here would not be used",
            )
        } else {
            Ability::Yes
        };
        Ok(Capabilities {
            list_methods: Ability::Yes,
            enroll,
            delete_methods: Ability::Yes,
            set_default,
            devices: Ability::no(
                "on Microsoft Entra each Authenticator app is a sign-in method: it is listed (and deleted) there",
            ),
            sessions: Ability::no("Microsoft Graph has no API for users to list their own sessions"),
            remembered_devices: self.handoff_ability(
                "Microsoft Graph has no API for \"Don't ask again\" grants; sign out everywhere ends them",
            ),
            sign_out_everywhere: Ability::Yes,
            app_passwords: self.handoff_ability("Microsoft Graph has no API for app passwords"),
            rename: Ability::no("Microsoft Graph does not let users rename their methods"),
            change_contact: Ability::Yes,
            change_password: Ability::Yes,
            recovery_codes: Ability::no("Microsoft Entra has no recovery codes"),
            activity: Ability::No {
                reason: NO_ACTIVITY.into(),
                portal_url: Some(SIGN_INS_URL.into()),
            },
            default_scope: DefaultScope::PerKind,
            // "revokeSignInSessions": a small delay of a few minutes may occur.
            sign_out_everywhere_note: Some(
                "Microsoft says it can take a few minutes to reach every app; \
                 this client is signed out at once."
                    .into(),
            ),
        })
    }

    fn signs_in_with_browser(&self) -> bool {
        true
    }

    async fn sign_in(&self, _username: &str, _password: &SecretString) -> Result<SignIn> {
        Ok(SignIn::Browser(self.browser(None).await?))
    }

    async fn poll_browser(&self, step: &BrowserStep) -> Result<BrowserPoll> {
        match self.oauth.client.poll_device(step).await {
            Ok(DevicePoll::Pending) => Ok(BrowserPoll::Pending),
            Ok(DevicePoll::SlowDown) => Ok(BrowserPoll::SlowDown),
            Ok(DevicePoll::Granted(tokens)) => {
                self.oauth.accept(&tokens);
                self.step_ups(|w| {
                    if w.started.remove(&step.user_code) {
                        w.mfa_at = Some(Instant::now());
                    }
                });
                Ok(BrowserPoll::Finished(SignIn::Done {
                    mfa_setup_required: false,
                }))
            }
            Err(e) => Err(errors::sign_in_words(e)),
        }
    }

    async fn start_factor(&self, _: &Challenge, _: &str) -> Result<FactorStarted> {
        Err(BackendError::NotSupported(
            "Microsoft asks for your second factor in the browser".into(),
        ))
    }

    async fn answer_factor(
        &self,
        _: &Challenge,
        _: &str,
        _: Option<&SecretString>,
        _: bool,
    ) -> Result<SignIn> {
        Err(BackendError::NotSupported(
            "Microsoft asks for your second factor in the browser".into(),
        ))
    }

    /// A browser sign-in with the claims the refusal named (a challenge's,
    /// else Entra's fresh-MFA claims).
    async fn step_up(&self) -> Result<SignIn> {
        let claims = self
            .step_ups(|w| w.claims.take())
            .unwrap_or_else(|| errors::FRESH_MFA_CLAIMS.to_string());
        let step = self.browser(Some(&claims)).await?;
        self.step_ups(|w| w.started.insert(step.user_code.clone()));
        Ok(SignIn::Browser(step))
    }

    /// Forgets the tokens here. Microsoft has no endpoint for a public client
    /// to end its refresh token; "sign out everywhere" ends them all.
    async fn sign_out(&self) -> Result<()> {
        self.oauth.forget();
        Ok(())
    }

    async fn account(&self) -> Result<Account> {
        let me: wire::Me = self
            .get_json(
                "v1.0/me?$select=id,displayName,userPrincipalName,mail",
                Op::Read {
                    permission: "User.Read",
                },
            )
            .await?;
        let username = me.user_principal_name.or(me.mail).unwrap_or_default();
        Ok(Account {
            display_name: me.display_name.unwrap_or_else(|| username.clone()),
            username,
        })
    }

    async fn methods(&self) -> Result<Vec<Method>> {
        self.list_methods().await
    }

    async fn delete_method(&self, id: &str, confirm: Option<&str>) -> Result<Option<String>> {
        self.delete(id, confirm).await.map(|()| None)
    }

    async fn set_default_method(&self, id: &str) -> Result<()> {
        let kind = self.find(id).await?.0.kind;
        self.set_default_kind(&kind).await
    }

    async fn set_default_kind(&self, kind: &MethodKind) -> Result<()> {
        self.set_preference(kind).await
    }

    async fn devices(&self) -> Result<Vec<Device>> {
        Err(Self::absent(
            "listing devices (each Authenticator app is a method)",
        ))
    }

    async fn delete_device(&self, _: &str, _: Option<&str>) -> Result<()> {
        Err(Self::absent(
            "devices (delete the Authenticator method instead)",
        ))
    }

    async fn sessions(&self) -> Result<Vec<Session>> {
        Err(Self::absent("listing your sessions"))
    }

    async fn revoke_session(&self, _: &str) -> Result<()> {
        Err(Self::absent(
            "ending one session (sign out everywhere ends them all)",
        ))
    }

    async fn remembered_devices(&self) -> Result<Vec<RememberedDevice>> {
        Err(Self::absent("\"Don't ask again\" grants"))
    }

    async fn forget_device(&self, _: &str) -> Result<()> {
        Err(Self::absent(
            "\"Don't ask again\" grants (sign out everywhere ends them)",
        ))
    }

    async fn sign_out_everywhere(&self) -> Result<()> {
        self.revoke_sessions().await
    }

    async fn activity(&self, _before: Option<&str>) -> Result<crate::domain::ActivityPage> {
        Err(BackendError::NotSupported(format!(
            "{NO_ACTIVITY}: {SIGN_INS_URL}"
        )))
    }

    async fn begin_enrollment(
        &self,
        kind: &MethodKind,
        target: Option<&str>,
    ) -> Result<Enrollment> {
        self.add_contact(kind, target).await
    }

    async fn verify_enrollment(
        &self,
        enrollment: &Enrollment,
        _code: Option<&SecretString>,
    ) -> Result<EnrollmentState> {
        // Graph adds phones and addresses at once: there is nothing to verify.
        enrollment
            .finished
            .clone()
            .map(EnrollmentState::Done)
            .ok_or_else(|| BackendError::Malformed("an enrollment Graph never started".into()))
    }

    async fn begin_phone_change(&self, method_id: &str, number: &str) -> Result<Enrollment> {
        self.change_contact(method_id, number).await
    }

    async fn change_password(&self, current: &SecretString, new: &SecretString) -> Result<()> {
        self.change_own_password(current, new).await
    }

    fn watch_credentials(&self, hook: CredentialsHook) {
        self.oauth.tokens().watch(hook);
    }

    fn credentials(&self) -> Credentials {
        self.oauth.credentials()
    }

    fn restore(&self, credentials: Credentials) {
        self.oauth.tokens().restore(credentials);
    }
}
