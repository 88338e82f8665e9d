//! The native protocol's wire types, shared by the reference server
//! (`server/`) and the native adapter (`backend/native.rs`), so the two can
//! never drift. With the `server` feature every type derives `ToSchema`: `/openapi.json` is generated
//! from these and the handlers' `#[utoipa::path]` attributes.
//!
//! Times are RFC 3339 strings (UTC). Durations are seconds.

use serde::{Deserialize, Serialize};

/// Bump when a change breaks older clients.
pub const API_VERSION: &str = "v1";

/// The one error shape: `{ "error": { "code", "message" } }`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Machine code, stable: see [`codes`].
    pub code: String,
    /// A sentence for a person.
    pub message: String,
    /// Seconds until a throttled request may be retried (also sent as `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// Stable error codes.
pub mod codes {
    pub const BAD_REQUEST: &str = "bad_request";
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    pub const INVALID_CODE: &str = "invalid_code";
    pub const CODE_REUSED: &str = "code_reused";
    pub const CHALLENGE_EXPIRED: &str = "challenge_expired";
    pub const WRONG_NUMBER: &str = "wrong_number";
    pub const PUSH_DENIED: &str = "push_denied";
    pub const PUSH_UNAVAILABLE: &str = "push_unavailable";
    pub const THROTTLED: &str = "throttled";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const STEP_UP_REQUIRED: &str = "step_up_required";
    pub const LAST_METHOD: &str = "last_method";
    pub const NOT_FOUND: &str = "not_found";
    pub const REFRESH_REUSED: &str = "refresh_token_reused";
    pub const INTERNAL: &str = "internal";
}

/// `GET /v1/meta`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Meta {
    pub name: String,
    pub version: String,
    pub api: String,
    /// N in "Don't ask again for N days".
    pub remember_days: u32,
    /// Changes to security info need MFA within this many seconds.
    pub mfa_max_age_secs: u64,
    /// Method kinds this server can enroll (machine names, see `MethodKind::as_str`).
    pub enrollable: Vec<String>,
}

/// `POST /v1/auth/login`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Identifies this installation; remembered-device grants are bound to it.
    pub client_id: String,
    /// Shown in the sessions list ("secinfo on host").
    pub client_name: String,
    /// A "Don't ask again" grant from an earlier sign-in on this client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remembered_grant: Option<String>,
}

/// The answer to a password login, a second factor or a step-up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AuthResult {
    /// Signed in: tokens issued.
    SignedIn(Tokens),
    /// A second factor is needed: pick one of `methods` and answer `challenge_id`.
    MfaRequired(MfaChallenge),
    /// A push was sent and not answered yet: poll again.
    Pending,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    /// Access token lifetime in seconds.
    pub expires_in: u64,
    pub session_id: String,
    /// Issued when "Don't ask again" was ticked: keep it, send it at the next login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remembered_grant: Option<String>,
    /// The account has no usable MFA method yet: the client should go to the wizard.
    #[serde(default)]
    pub mfa_setup_required: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MfaChallenge {
    pub challenge_id: String,
    pub methods: Vec<MfaOption>,
    pub default_method_id: Option<String>,
    /// Seconds until the challenge expires.
    pub expires_in: u64,
    pub remember_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MfaOption {
    pub method_id: String,
    /// Machine kind name.
    pub kind: String,
    /// "Approve a request on Alice's phone", "Text +1 XXXXXXXX23".
    pub label: String,
}

/// `POST /v1/auth/mfa/send`: start a factor (send a push or a code).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MfaSendRequest {
    pub challenge_id: String,
    pub method_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MfaSent {
    /// For push with number matching: the number to type into the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    /// For codes: where it went, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
    /// For a push: how long it waits for an answer (s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

/// `POST /v1/auth/mfa`: answer the challenge (a code, or poll a push with `code: null`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MfaVerifyRequest {
    pub challenge_id: String,
    pub method_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// "Don't ask again for N days".
    #[serde(default)]
    pub remember: bool,
}

/// `POST /v1/auth/refresh`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: String,
    pub client_id: String,
}

/// `GET /v1/me`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub default_method_id: Option<String>,
    pub session_id: String,
}

/// `GET /v1/me/methods` items.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MethodDto {
    pub id: String,
    /// Machine kind name.
    pub kind: String,
    pub detail: String,
    pub created_at: Option<String>,
    pub last_used_at: Option<String>,
    pub is_default: bool,
    pub usable_mfa: bool,
    pub device_id: Option<String>,
}

/// `PUT /v1/me/default-method`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DefaultMethodRequest {
    pub method_id: String,
}

/// The answer to a delete: what became default, if the default was removed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeleteResult {
    pub new_default_method_id: Option<String>,
}

/// `GET /v1/me/devices` items.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeviceDto {
    pub id: String,
    pub name: String,
    pub platform: String,
    pub added_at: Option<String>,
    pub last_used_at: Option<String>,
    pub reachable: bool,
}

/// `GET /v1/me/sessions` items.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SessionDto {
    pub id: String,
    pub client: String,
    pub ip: String,
    pub signed_in_at: Option<String>,
    pub last_active_at: Option<String>,
    pub current: bool,
}

/// One event of `GET /v1/me/activity`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ActivityDto {
    pub id: String,
    pub at: String,
    /// `sign_in`, `sign_in_failed`, `lockout`, `step_up`, `methods`, `devices`,
    /// `sessions`, `password`, `app_passwords` or `recovery_codes`.
    pub kind: String,
    /// What happened, as a sentence.
    pub what: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// How a sign-in was proven.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<String>,
}

/// `GET /v1/me/activity`: newest first. Pass `next` as `before` for the older page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ActivityPageDto {
    pub events: Vec<ActivityDto>,
    #[serde(default)]
    pub next: Option<String>,
}

/// `GET /v1/me/trusted-devices` items.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TrustedDeviceDto {
    pub id: String,
    pub client: String,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
    pub current: bool,
}

/// `POST /v1/me/enrollments`: start adding a sign-in method.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct EnrollmentRequest {
    /// Machine kind name: authenticator_push, totp, phone, alternate_phone, email.
    pub kind: String,
    /// The phone number (E.164, e.g. +14255550123) or email address, for kinds that need one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// A name for the method (TOTP app) or the device (push).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Changing a phone number or address: the method this one replaces once
    /// verified (it keeps its place as default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// A method being added. Secrets (`qr_payload`, `secret`, `activation_code`)
/// are in the answer to the POST only; polls leave them out.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct EnrollmentDto {
    pub id: String,
    pub kind: String,
    /// `pending` (waiting for a code or for the phone to activate),
    /// `awaiting_approval` (a test notification showing `number` was sent), `done`.
    pub state: String,
    /// Seconds until the enrollment expires.
    pub expires_in: u64,
    /// What to draw as a QR code: an otpauth:// URI or an activation link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_payload: Option<String>,
    /// The TOTP secret in base32, for "Can't scan the image?".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// For activating the authenticator app by hand: the code and the server URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// Where a verification code went, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
    /// The number to type into the app to approve the test notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    /// The new method, once saved (`state` = `done`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<MethodDto>,
}

/// `POST /v1/me/enrollments/{id}/verify`: the code, or `null` to poll (push).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct EnrollmentVerifyRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// `PATCH /v1/me/methods/{id}` and `PATCH /v1/me/devices/{id}`: a new name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RenameRequest {
    pub name: String,
}

/// `POST /v1/me/password`. Other sessions are signed out afterwards.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// `GET /v1/me/app-passwords` items (the password itself is never listed).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AppPasswordDto {
    pub id: String,
    pub name: String,
    pub created_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// `POST /v1/me/app-passwords`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AppPasswordRequest {
    pub name: String,
}

/// The new app password, shown once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AppPasswordCreated {
    pub app_password: AppPasswordDto,
    pub password: String,
}

/// `GET /v1/legacy/ping` (HTTP basic auth with an app password): who it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LegacyPing {
    pub username: String,
    pub app_password: String,
}

/// `POST /v1/me/recovery-codes`: a new set (the old one stops working), shown once.
/// At sign-in they are offered as method id `recovery_code`, kind `recovery_codes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// `GET /v1/me/recovery-codes`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RecoveryCodesStatus {
    pub remaining: u32,
    pub total: u32,
    pub created_at: Option<String>,
}

/// `POST /v1/device/activate` (the authenticator app on the phone).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ActivateRequest {
    pub activation_code: String,
    /// Ed25519 public key, base64 (standard, padded).
    pub public_key: String,
    pub name: String,
    pub platform: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ActivateResponse {
    pub device_id: String,
    pub username: String,
    /// The otpauth:// URI of the TOTP method that lives on this device, so the
    /// app can also show codes (the secret is sent once, at activation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_uri: Option<String>,
}

/// A sign-in waiting for approval. The number to match is never revealed here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PendingPush {
    pub push_id: String,
    pub username: String,
    pub client: String,
    pub ip: String,
    pub created_at: String,
}

/// `POST /v1/device/{id}/pushes/{push_id}/approve|deny`. The signature is
/// Ed25519 over `"{action}:{push_id}:{number}"` (number empty for deny), base64.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PushAnswer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    pub signature: String,
}

/// Device requests other than answers are signed over `"{action}:{device_id}:{timestamp}"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeviceProof {
    pub timestamp: i64,
    /// New for every request (16–64 of A-Z a-z 0-9 - _): the server refuses it a second
    /// time, so a captured request cannot be replayed. Signed with the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub signature: String,
}

/// A "sent" SMS or email in the reference server's outbox (read from its database by `server::outbox`, `secinfo serve outbox` and the demo panel; no HTTP endpoint).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OutboxMessage {
    pub id: i64,
    pub channel: String,
    pub recipient: String,
    pub body: String,
    pub sent_at: String,
}
