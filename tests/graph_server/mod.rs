//! A Microsoft-Graph-shaped server for the Graph adapter's tests: the
//! sign-in server's device-code endpoints and the Graph endpoints secinfo
//! uses, answering with the request and response shapes Microsoft documents.
//! Each handler names the page it follows. Every request is recorded
//! (method, path and query, the headers that matter, the body) so tests
//! assert on exactly what the adapter sent.
//!
//! Deliberate differences from the real service, all for tests:
//! - the device code is approved by the test (`approve`), or after
//!   `approve_after_polls` polls, and `interval` is 0 (Microsoft says 5);
//! - tokens are opaque (`at-N`, `rt-N`) and remember their scopes and
//!   whether they came from a sign-in that met the fresh-MFA claims;
//! - `throttle` makes the next N Graph requests answer 429 with `Retry-After: 0`.
// Not every test uses every helper; handlers hand back the refusal response itself as the error.
#![allow(dead_code, clippy::result_large_err)]

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

pub const TENANT: &str = "contoso.onmicrosoft.com";
pub const CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
pub const MOBILE_ID: &str = "3179e48a-750b-4051-897c-87b9720928f7";
pub const ALT_MOBILE_ID: &str = "b6332ec1-7057-4abe-9331-3d72feddfe41";
pub const OFFICE_ID: &str = "e37fc753-ff3b-4958-9484-eaa9425c82bc";
pub const PASSWORD_ID: &str = "28c10230-6103-485e-b985-444c60001490";
pub const FIDO_ID: &str = "-2_GRUg2-HYz6_1YG4YRAQ2";
pub const AUTHENTICATOR_ID: &str = "_jpuR-TGZtk6aQCLF3BQjA2";
pub const NGCMFA: &str = r#"{"access_token":{"amr":{"essential":true,"values":["ngcmfa"]}}}"#;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub authorization: Option<String>,
    pub client_request_id: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

impl Seen {
    /// The form fields of a form-encoded body.
    pub fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Grant {
    pub scopes: BTreeSet<String>,
    /// From a sign-in that met the fresh-MFA claims (ngcmfa).
    pub fresh_mfa: bool,
}

#[derive(Debug)]
struct DeviceCode {
    user_code: String,
    grant: Grant,
    polls: u32,
    approved: bool,
    declined: bool,
    redeemed: bool,
}

pub struct World {
    pub base: String,
    pub requests: Vec<Seen>,
    pub methods: Vec<Value>,
    pub preferences: Value,
    /// The tenant lets users add and change their own phone and email.
    pub self_service_contact: bool,
    /// Scopes an administrator consented to, beyond the ones every sign-in gets.
    pub consented: BTreeSet<String>,
    /// The fresh-MFA refusal carries a claims challenge in `WWW-Authenticate`.
    pub challenge_header: bool,
    pub page_size: usize,
    /// Approve each device code by itself after this many polls (`None`: the test approves).
    pub approve_after_polls: Option<u32>,
    pub decline: bool,
    pub throttle: u32,
    /// revokeSignInSessions answers 403 even with its scope (a role the user lacks).
    pub revoke_needs_role: bool,
    /// GETs under these paths answer 403 (a permission the tenant did not grant).
    pub forbidden: Vec<String>,
    pub password: String,
    devices: HashMap<String, DeviceCode>,
    access: HashMap<String, Grant>,
    refresh: HashMap<String, Grant>,
    /// Device codes handed out, and tokens issued: numbered from 1.
    next: u32,
    issued: u32,
}

/// Scopes every sign-in is granted when it asks (user consent).
const USER_CONSENTABLE: &[&str] = &[
    "UserAuthenticationMethod.ReadWrite",
    "UserAuthenticationMethod.Read",
    "User.Read",
    "offline_access",
    "openid",
    "profile",
];

pub type Shared = Arc<Mutex<World>>;

pub struct GraphServer {
    /// The base of both the sign-in server and Graph (one server plays both).
    pub url: String,
    pub world: Shared,
}

impl GraphServer {
    pub async fn start() -> GraphServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let world: Shared = Arc::new(Mutex::new(World {
            base: url.clone(),
            requests: Vec::new(),
            methods: every_method(),
            preferences: json!({
                "@odata.context": "https://graph.microsoft.com/beta/$metadata#users('id')/authentication/signInPreferences",
                "isSystemPreferredAuthenticationMethodEnabled": false,
                "userPreferredMethodForSecondaryAuthentication": "push"
            }),
            self_service_contact: true,
            consented: BTreeSet::new(),
            challenge_header: true,
            page_size: 4,
            approve_after_polls: Some(1),
            decline: false,
            throttle: 0,
            revoke_needs_role: false,
            forbidden: Vec::new(),
            password: "old-password".into(),
            devices: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            next: 0,
            issued: 0,
        }));
        let app = router(world.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        GraphServer { url, world }
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    /// The requests whose path starts with `prefix` (the query is part of the path).
    pub fn seen(&self, method: &str, prefix: &str) -> Vec<Seen> {
        self.world()
            .requests
            .iter()
            .filter(|s| s.method == method && s.target.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// The person finishes the sign-in in the browser: enters `user_code` and approves.
    pub fn approve(&self, user_code: &str) {
        let mut w = self.world();
        let d = w
            .devices
            .values_mut()
            .find(|d| d.user_code == user_code)
            .expect("no such user code");
        d.approved = true;
    }

    /// Every token and device code this server handed out: what must never be seen.
    pub fn issued(&self) -> Vec<String> {
        let w = self.world();
        let mut all: Vec<String> = w.access.keys().chain(w.refresh.keys()).cloned().collect();
        all.extend(w.devices.keys().cloned());
        all
    }

    pub fn method_ids(&self) -> Vec<String> {
        self.world()
            .methods
            .iter()
            .map(|m| m["id"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// A Graph profile for the CLI pointed at this server.
    pub fn profile(&self) -> String {
        format!(
            "[profiles.work]\nbackend = \"graph\"\ntenant = \"{TENANT}\"\nclient_id = \"{CLIENT_ID}\"\n\
             authority = \"{u}\"\ngraph_url = \"{u}\"\nsecret_store = \"passphrase\"\ntimeout_secs = 5\n",
            u = self.url
        )
    }
}

/// One of each documented type, as its resource page shows it, plus one type
/// secinfo does not know.
pub fn every_method() -> Vec<Value> {
    vec![
        // "microsoftAuthenticatorAuthenticationMethod resource type" (JSON representation).
        json!({"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
               "id": AUTHENTICATOR_ID, "displayName": "Contoso's iPhone",
               "deviceTag": "SoftwareTokenActivated", "phoneAppVersion": "6.2401.0119",
               "createdDateTime": "2024-01-19T10:20:30Z"}),
        // "softwareOathAuthenticationMethod resource type".
        json!({"@odata.type": "#microsoft.graph.softwareOathAuthenticationMethod",
               "id": "b172893e-893e-b172-3e89-72b13e8972b1", "secretKey": null}),
        // "phoneAuthenticationMethod resource type": the three well-known ids.
        json!({"@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
               "id": MOBILE_ID, "phoneNumber": "+1 2065555555", "phoneType": "mobile", "smsSignInState": "ready"}),
        json!({"@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
               "id": ALT_MOBILE_ID, "phoneNumber": "+1 4255550199", "phoneType": "alternateMobile", "smsSignInState": "notSupported"}),
        json!({"@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
               "id": OFFICE_ID, "phoneNumber": "+1 4255550100x123", "phoneType": "office", "smsSignInState": "notSupported"}),
        // "emailAuthenticationMethod resource type".
        json!({"@odata.type": "#microsoft.graph.emailAuthenticationMethod",
               "id": "3ddfcfc8-9383-446f-83cc-3ab9be4be18f", "emailAddress": "kim@contoso.com"}),
        // "fido2AuthenticationMethod resource type".
        json!({"@odata.type": "#microsoft.graph.fido2AuthenticationMethod",
               "id": FIDO_ID, "displayName": "Red key", "createdDateTime": "2020-08-10T06:44:09Z",
               "aaGuid": "2fc0579f-8113-47ea-b116-555a8db9202a", "model": "NFC key",
               "attestationCertificates": ["dbe793efdf1945e2df25d93653a1e8a3268a9075"], "attestationLevel": "attested"}),
        // "windowsHelloForBusinessAuthenticationMethod resource type".
        json!({"@odata.type": "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
               "id": "whfb-6b3a2b1c", "displayName": "Jordan's Surface Book",
               "createdDateTime": "2021-05-06T12:00:00Z", "keyStrength": "normal"}),
        // "passwordAuthenticationMethod resource type": fixed id, password always null.
        json!({"@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
               "id": PASSWORD_ID, "password": null, "createdDateTime": "2020-01-01T00:00:00Z"}),
        // "temporaryAccessPassAuthenticationMethod resource type".
        json!({"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
               "id": "6f1ed2c3-f3dd-4d8e-b15d-4b9c5d3a1b9e", "temporaryAccessPass": null,
               "createdDateTime": "2022-06-02T16:21:09Z", "startDateTime": "2022-06-05T00:00:00Z",
               "lifetimeInMinutes": 60, "isUsableOnce": false, "isUsable": false, "methodUsabilityReason": "NotYetValid"}),
        // "platformCredentialAuthenticationMethod resource type" (beta).
        json!({"@odata.type": "#microsoft.graph.platformCredentialAuthenticationMethod",
               "id": "6ad9f6ec-d4d6-4e6b-a8f1-7c4d1f6b1d2a", "displayName": "Kim's MacBook",
               "createdDateTime": "2023-11-01T09:00:00Z", "keyStrength": "normal", "platform": "macOS"}),
        // "hardwareOathAuthenticationMethod resource type" (beta).
        json!({"@odata.type": "#microsoft.graph.hardwareOathAuthenticationMethod",
               "id": "aad49556-1111-2222-3333-444455556666", "displayName": "Token 1",
               "device": {"serialNumber": "TOTP123456", "manufacturer": "Contoso", "model": "Hardware Token 1000"}}),
        // A newer type (beta "qrCodePinAuthenticationMethod") that secinfo has no name for.
        json!({"@odata.type": "#microsoft.graph.qrCodePinAuthenticationMethod",
               "id": "qr-1", "createdDateTime": "2025-02-01T00:00:00Z"}),
    ]
}

fn router(world: Shared) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/devicecode", post(devicecode))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/v1.0/me", get(me))
        .route("/v1.0/me/authentication/methods", get(list_methods))
        .route(
            "/v1.0/me/authentication/phoneMethods",
            post(|s, h, b| create(s, h, b, "phoneMethods")),
        )
        .route(
            "/v1.0/me/authentication/emailMethods",
            post(|s, h, b| create(s, h, b, "emailMethods")),
        )
        .route(
            "/{version}/me/authentication/{collection}/{id}",
            axum::routing::delete(delete_method).patch(update_method),
        )
        .route(
            "/beta/me/authentication/signInPreferences",
            get(get_preferences).patch(patch_preferences),
        )
        .route("/v1.0/me/revokeSignInSessions", post(revoke))
        .route("/v1.0/me/changePassword", post(change_password))
        .layer(middleware::from_fn_with_state(world.clone(), record))
        .with_state(world)
}

/// Keeps every request, whole, for the tests' assertions.
async fn record(State(world): State<Shared>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let h = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    // Refusals the test asked for come before the handler: a missing permission, throttling.
    let early = {
        let mut w = world.lock().unwrap();
        w.requests.push(Seen {
            method: parts.method.to_string(),
            target: parts
                .uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            authorization: h("authorization"),
            client_request_id: h("client-request-id"),
            content_type: h("content-type"),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        });
        let graph = !parts.uri.path().contains("/oauth2/");
        let path = parts.uri.path();
        if parts.method == axum::http::Method::GET
            && w.forbidden.iter().any(|p| path.starts_with(p.as_str()))
        {
            Some(insufficient_privileges())
        } else if graph && w.throttle > 0 {
            w.throttle -= 1;
            // "Microsoft Graph throttling guidance": 429 with Retry-After (seconds).
            let mut resp = graph_error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests.",
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, "0".parse().unwrap());
            Some(resp)
        } else {
            None
        }
    };
    let client_request_id = h("client-request-id");
    let mut resp = match early {
        Some(resp) => resp,
        None => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
    };
    // "Microsoft Graph error responses": request-id on every answer, the client's id echoed.
    resp.headers_mut().insert(
        "request-id",
        "c5e4f1b8-0000-4000-8000-000000000001".parse().unwrap(),
    );
    if let Some(id) = client_request_id.and_then(|i| i.parse().ok()) {
        resp.headers_mut().insert("client-request-id", id);
    }
    resp
}

/// "Microsoft Graph error responses and resource types": the error JSON.
pub fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(
            json!({"error": {"code": code, "message": message, "innerError": {
            "date": "2026-12-07T03:00:00",
            "request-id": "c5e4f1b8-0000-4000-8000-000000000001",
            "client-request-id": "c5e4f1b8-0000-4000-8000-000000000002"}}}),
        ),
    )
        .into_response()
}

/// "Microsoft identity platform and the OAuth 2.0 device authorization grant flow": errors.
fn oauth_error(error: &str, code: u64, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error,
                    "error_description": format!("AADSTS{code}: {description} Trace ID: 0 Correlation ID: 0 Timestamp: 2026-12-07 03:00:00Z"),
                    "error_codes": [code], "timestamp": "2026-12-07 03:00:00Z",
                    "trace_id": "0", "correlation_id": "0"})),
    )
        .into_response()
}

fn form(body: &Bytes) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

impl World {
    fn issue(&mut self, grant: Grant) -> Value {
        self.issued += 1;
        let (at, rt) = (format!("at-{}", self.issued), format!("rt-{}", self.issued));
        self.access.insert(at.clone(), grant.clone());
        self.refresh.insert(rt.clone(), grant.clone());
        let scope: Vec<_> = grant.scopes.iter().cloned().collect();
        json!({"token_type": "Bearer", "scope": scope.join(" "), "expires_in": 3599,
               "ext_expires_in": 3599, "access_token": at, "refresh_token": rt,
               "id_token": "eyJ0eXAiOiJKV1QifQ.e30.sig"})
    }

    /// What a sign-in asking for `asked` is granted: what users may consent to, and what an admin did.
    fn granted(&self, asked: &str) -> BTreeSet<String> {
        asked
            .split_whitespace()
            .filter(|s| USER_CONSENTABLE.contains(s) || self.consented.contains(*s))
            .map(str::to_string)
            .collect()
    }

    /// Forget one access token, as if it expired: the next request gets a 401.
    pub fn expire_access_tokens(&mut self) {
        self.access.clear();
    }
}

/// "…device authorization grant flow": `POST /{tenant}/oauth2/v2.0/devicecode`.
async fn devicecode(
    State(world): State<Shared>,
    Path(_tenant): Path<String>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return oauth_error(
            "unauthorized_client",
            700016,
            "Application with identifier was not found in the directory.",
        );
    }
    let mut w = world.lock().unwrap();
    w.next += 1;
    let n = w.next;
    let user_code = format!("GRAPH{n:03}");
    let device_code = format!("DAQABAAEAAAD-device-{n}");
    let scopes = w.granted(f.get("scope").map(String::as_str).unwrap_or_default());
    let fresh_mfa = f.get("claims").is_some_and(|c| c.contains("ngcmfa"));
    w.devices.insert(
        device_code.clone(),
        DeviceCode {
            user_code: user_code.clone(),
            grant: Grant { scopes, fresh_mfa },
            polls: 0,
            approved: false,
            declined: false,
            redeemed: false,
        },
    );
    // No verification_uri_complete: Microsoft does not send one.
    Json(json!({"user_code": user_code, "device_code": device_code,
                "verification_uri": "https://microsoft.com/devicelogin",
                "expires_in": 900, "interval": 0,
                "message": format!("To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code {user_code} to authenticate.")}))
        .into_response()
}

/// "…device authorization grant flow" (polling) and "Refresh the access token".
async fn token(State(world): State<Shared>, Path(_tenant): Path<String>, body: Bytes) -> Response {
    let f = form(&body);
    let mut w = world.lock().unwrap();
    match f.get("grant_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:grant-type:device_code") => {
            let code = f.get("device_code").cloned().unwrap_or_default();
            let (auto, decline) = (w.approve_after_polls, w.decline);
            let Some(d) = w.devices.get_mut(&code) else {
                return oauth_error(
                    "bad_verification_code",
                    70000,
                    "The provided value for the input parameter 'device_code' is not valid.",
                );
            };
            if d.redeemed {
                return oauth_error(
                    "invalid_grant",
                    70000,
                    "The provided authorization code or refresh token has expired or was already used.",
                );
            }
            d.polls += 1;
            if decline || d.declined {
                d.declined = true;
                return oauth_error(
                    "authorization_declined",
                    70000,
                    "The user declined the sign-in.",
                );
            }
            if !d.approved && auto.is_none_or(|n| d.polls <= n) {
                return oauth_error(
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                );
            }
            d.redeemed = true;
            let grant = d.grant.clone();
            Json(w.issue(grant)).into_response()
        }
        Some("refresh_token") => {
            let rt = f.get("refresh_token").cloned().unwrap_or_default();
            let Some(mut grant) = w.refresh.remove(&rt) else {
                return oauth_error(
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being revoked.",
                );
            };
            // "Incremental and dynamic user consent": a refresh may name a scope
            // consented since; one nobody consented to is refused (AADSTS65001)
            // and the refresh token is not spent.
            let asked = f.get("scope").cloned().unwrap_or_default();
            let granted = w.granted(&asked);
            if let Some(more) = asked.split_whitespace().find(|s| !granted.contains(*s)) {
                let message = format!(
                    "The user or administrator has not consented to use the application with ID '{CLIENT_ID}' ({more})."
                );
                w.refresh.insert(rt, grant);
                return oauth_error("invalid_grant", 65001, &message);
            }
            grant.scopes = granted.union(&grant.scopes).cloned().collect();
            Json(w.issue(grant)).into_response()
        }
        _ => oauth_error(
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        ),
    }
}

/// The bearer's grant, or Graph's 401 ("Microsoft Graph error responses").
fn authed(w: &World, headers: &HeaderMap) -> Result<Grant, Response> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| w.access.get(t).cloned())
        .ok_or_else(|| {
            graph_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
            )
        })
}

/// The fresh-MFA rule of the "authentication methods API overview": a
/// self-service change without MFA in the last 10 minutes is a 403, with a
/// claims challenge ("Claims challenges, claims requests and client capabilities").
fn needs_fresh_mfa(w: &World, grant: &Grant) -> Result<(), Response> {
    if grant.fresh_mfa {
        return Ok(());
    }
    let mut resp = graph_error(
        StatusCode::FORBIDDEN,
        "accessDenied",
        "Multi-factor authentication within the last 10 minutes is required for this operation.",
    );
    if w.challenge_header {
        let claims = base64::engine::general_purpose::STANDARD.encode(NGCMFA);
        let value = format!(
            "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", \
             client_id=\"00000003-0000-0000-c000-000000000000\", error=\"insufficient_claims\", claims=\"{claims}\""
        );
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, value.parse().unwrap());
    }
    Err(resp)
}

fn insufficient_privileges() -> Response {
    graph_error(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

/// "Get a user": `GET /me`.
async fn me(State(world): State<Shared>, headers: HeaderMap) -> Response {
    let w = world.lock().unwrap();
    if let Err(r) = authed(&w, &headers) {
        return r;
    }
    Json(
        json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
                "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "displayName": "Kim Akers",
                "userPrincipalName": "kim@contoso.onmicrosoft.com", "mail": "kim@contoso.com"}),
    )
    .into_response()
}

/// "List methods": `GET /me/authentication/methods`, paged with `@odata.nextLink`.
async fn list_methods(
    State(world): State<Shared>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let w = world.lock().unwrap();
    if let Err(r) = authed(&w, &headers) {
        return r;
    }
    let skip: usize = uri
        .query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "$skiptoken")
                .and_then(|(_, v)| v.parse().ok())
        })
        .unwrap_or(0);
    let page: Vec<Value> = w
        .methods
        .iter()
        .skip(skip)
        .take(w.page_size)
        .cloned()
        .collect();
    let mut body = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('kim')/authentication/methods",
                          "value": page});
    if skip + w.page_size < w.methods.len() {
        body["@odata.nextLink"] = json!(format!(
            "{}/v1.0/me/authentication/methods?$skiptoken={}",
            w.base,
            skip + w.page_size
        ));
    }
    Json(body).into_response()
}

/// "Delete <type>AuthenticationMethod": `DELETE /me/authentication/<collection>/{id}` → 204.
async fn delete_method(
    State(world): State<Shared>,
    headers: HeaderMap,
    Path((_version, collection, id)): Path<(String, String, String)>,
) -> Response {
    let mut w = world.lock().unwrap();
    let grant = match authed(&w, &headers) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if let Err(r) = needs_fresh_mfa(&w, &grant) {
        return r;
    }
    let wanted = type_of(&collection);
    let before = w.methods.len();
    w.methods
        .retain(|m| !(m["id"] == id.as_str() && m["@odata.type"] == wanted));
    if w.methods.len() == before {
        return graph_error(
            StatusCode::NOT_FOUND,
            "itemNotFound",
            "The requested resource was not found.",
        );
    }
    StatusCode::NO_CONTENT.into_response()
}

fn type_of(collection: &str) -> String {
    let t = match collection {
        "microsoftAuthenticatorMethods" => "microsoftAuthenticatorAuthenticationMethod",
        "softwareOathMethods" => "softwareOathAuthenticationMethod",
        "phoneMethods" => "phoneAuthenticationMethod",
        "emailMethods" => "emailAuthenticationMethod",
        "fido2Methods" => "fido2AuthenticationMethod",
        "windowsHelloForBusinessMethods" => "windowsHelloForBusinessAuthenticationMethod",
        "platformCredentialMethods" => "platformCredentialAuthenticationMethod",
        other => other,
    };
    format!("#microsoft.graph.{t}")
}

/// "Create phoneMethod" / "Create emailMethod": 201 with the new method.
async fn create(
    State(world): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
    collection: &'static str,
) -> Response {
    let mut w = world.lock().unwrap();
    let grant = match authed(&w, &headers) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if let Err(r) = needs_fresh_mfa(&w, &grant) {
        return r;
    }
    if !w.self_service_contact {
        // microsoft-graph-docs#21841: "act on self is NOT supported" on older tenants.
        return insufficient_privileges();
    }
    let Ok(b) = serde_json::from_slice::<Value>(&body) else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unable to read JSON request payload.",
        );
    };
    let method = if collection == "phoneMethods" {
        let number = b["phoneNumber"].as_str().unwrap_or_default();
        // "phoneAuthenticationMethod": "+{country code} {number}x{extension}", else rejected.
        if !number.starts_with('+') || !number.contains(' ') {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "badRequest",
                "{\"ErrorCode\":\"invalidPhoneNumber\",\"Message\":\"The phone number is not in the expected format.\"}",
            );
        }
        let (id, kind) = match b["phoneType"].as_str() {
            Some("alternateMobile") => (ALT_MOBILE_ID, "alternateMobile"),
            Some("office") => (OFFICE_ID, "office"),
            _ => (MOBILE_ID, "mobile"),
        };
        if w.methods.iter().any(|m| m["id"] == id) {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "badRequest",
                "A phone method of this type already exists.",
            );
        }
        json!({"@odata.type": "#microsoft.graph.phoneAuthenticationMethod", "id": id,
               "phoneNumber": number, "phoneType": kind, "smsSignInState": "notConfigured"})
    } else {
        json!({"@odata.type": "#microsoft.graph.emailAuthenticationMethod",
               "id": "3ddfcfc8-9383-446f-83cc-3ab9be4be18f", "emailAddress": b["emailAddress"]})
    };
    w.methods.push(method.clone());
    (StatusCode::CREATED, Json(method)).into_response()
}

/// "Update phoneMethod" / "Update emailMethod": `PATCH` → 204.
async fn update_method(
    State(world): State<Shared>,
    headers: HeaderMap,
    Path((_version, collection, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let mut w = world.lock().unwrap();
    let grant = match authed(&w, &headers) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if let Err(r) = needs_fresh_mfa(&w, &grant) {
        return r;
    }
    if !w.self_service_contact {
        return insufficient_privileges();
    }
    let b: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let wanted = type_of(&collection);
    let Some(m) = w
        .methods
        .iter_mut()
        .find(|m| m["id"] == id.as_str() && m["@odata.type"] == wanted)
    else {
        return graph_error(
            StatusCode::NOT_FOUND,
            "itemNotFound",
            "The requested resource was not found.",
        );
    };
    for key in ["phoneNumber", "emailAddress"] {
        if b.get(key).is_some() {
            m[key] = b[key].clone();
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// "Get signInPreferences" (beta "Get authentication method states").
async fn get_preferences(State(world): State<Shared>, headers: HeaderMap) -> Response {
    let w = world.lock().unwrap();
    if let Err(r) = authed(&w, &headers) {
        return r;
    }
    Json(w.preferences.clone()).into_response()
}

/// "Update signInPreferences" (beta "Update authentication method states") → 204.
async fn patch_preferences(
    State(world): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut w = world.lock().unwrap();
    let grant = match authed(&w, &headers) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if let Err(r) = needs_fresh_mfa(&w, &grant) {
        return r;
    }
    let b: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let key = "userPreferredMethodForSecondaryAuthentication";
    let allowed = [
        "push",
        "oath",
        "voiceMobile",
        "voiceAlternateMobile",
        "voiceOffice",
        "sms",
    ];
    match b[key].as_str() {
        Some(v) if allowed.contains(&v) => {
            w.preferences[key] = json!(v);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => graph_error(
            StatusCode::BAD_REQUEST,
            "badRequest",
            "Invalid value for userPreferredMethodForSecondaryAuthentication.",
        ),
    }
}

/// "user: revokeSignInSessions": needs User.RevokeSessions.All; every refresh token ends.
async fn revoke(State(world): State<Shared>, headers: HeaderMap) -> Response {
    let mut w = world.lock().unwrap();
    let grant = match authed(&w, &headers) {
        Ok(g) => g,
        Err(r) => return r,
    };
    // learn.microsoft.com/answers/questions/2155798: non-admins may get 403 even so.
    if !grant.scopes.contains("User.RevokeSessions.All") || w.revoke_needs_role {
        return insufficient_privileges();
    }
    w.refresh.clear();
    Json(json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean", "value": true}))
        .into_response()
}

/// "user: changePassword": needs Directory.AccessAsUser.All → 204.
async fn change_password(State(world): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut w = world.lock().unwrap();
    let grant = match authed(&w, &headers) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !grant.scopes.contains("Directory.AccessAsUser.All") {
        return insufficient_privileges();
    }
    let b: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if b["currentPassword"].as_str() != Some(w.password.as_str()) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "badRequest",
            "Invalid current password.",
        );
    }
    w.password = b["newPassword"].as_str().unwrap_or_default().to_string();
    StatusCode::NO_CONTENT.into_response()
}
