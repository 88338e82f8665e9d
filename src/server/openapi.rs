//! The OpenAPI document, generated from the handlers' `#[utoipa::path]`
//! attributes and the `protocol` types.

use super::{account, activity, app_passwords, auth, device, enroll, me, recovery, sessions};
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
        activity::activity,
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
    modifiers(&Bearer, &CommonErrors),
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

/// The refusals any operation of a kind can give, in the one error shape,
/// added where a handler's own list leaves them out (schemathesis found
/// them undocumented): 400 for a body or parameter that does not parse
/// (every operation that takes either, and every write), 401 for a missing
/// or dead token (every signed-in operation), 404 for an id that names
/// nothing of the caller's (every operation that takes an id, in its path
/// or its body: every write does).
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |what: &str| {
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                (&mut item.get, false),
                (&mut item.put, true),
                (&mut item.post, true),
                (&mut item.delete, true),
                (&mut item.patch, true),
            ];
            for (op, writes) in ops {
                let Some(op) = op.as_mut() else { continue };
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let signed_in = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut add = |status: &str, what: &str| {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(what).into());
                };
                if writes || has_params {
                    add("400", "The request is not valid (its body or a parameter)");
                    add(
                        "404",
                        "What the request names was not found (or is not yours)",
                    );
                }
                if signed_in {
                    add("401", "No valid sign-in: sign in again");
                }
            }
        }
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
