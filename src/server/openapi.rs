//! The OpenAPI document, generated from the handlers' `#[utoipa::path]`
//! attributes and the `protocol` types.

use super::{account, app_passwords, auth, device, enroll, me, recovery, sessions};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "secinfo native protocol", description = "The reference identity server behind secinfo's Security info page."),
    paths(
        auth::meta, auth::login, auth::mfa_send, auth::mfa_verify, auth::refresh, auth::logout, auth::step_up,
        me::me, me::methods, me::delete_method, me::set_default, me::devices, me::delete_device,
        sessions::sessions, sessions::revoke_session, sessions::trusted_devices, sessions::forget_trusted_device, sessions::signout_everywhere,
        account::change_password,
        account::rename_method,
        account::rename_device,
        app_passwords::list,
        app_passwords::create,
        app_passwords::delete,
        app_passwords::legacy_ping,
        recovery::status,
        recovery::regenerate,
        recovery::remove,
        enroll::begin,
        enroll::status,
        enroll::verify,
        enroll::cancel,
        device::activate, device::pending, device::approve, device::deny, device::unregister,
    ),
    modifiers(&Bearer),
    tags(
        (name = "meta", description = "Server facts"),
        (name = "auth", description = "Sign-in: password, second factor, tokens, step-up"),
        (name = "me", description = "The signed-in user's security info"),
        (name = "enroll", description = "Add sign-in method: begin, poll or verify, cancel"),
        (name = "legacy", description = "For clients that cannot do MFA: basic auth with an app password"),
        (name = "device", description = "The authenticator app on a phone (requests signed with its Ed25519 key)"),
    )
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

/// `GET /openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The document as JSON, for `secinfo serve --openapi` or docs.
pub fn json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}
