//! privacyIDEA tokens as secinfo methods, and the user's rights as capabilities.

use crate::domain::{
    Ability, AppPassword, Capabilities, DefaultScope, Method, MethodKind, mask_email, mask_phone,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

/// The secinfo kind of a privacyIDEA token type.
pub fn kind_of(token: &Value) -> MethodKind {
    let ty = token["tokentype"]
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    let hardware = token["info"]["tokenkind"].as_str() == Some("hardware");
    match ty.as_str() {
        "totp" | "hotp" if hardware => MethodKind::HardwareToken,
        "totp" | "hotp" => MethodKind::Totp,
        "email" => MethodKind::Email,
        "sms" => MethodKind::Phone,
        "applspec" => MethodKind::AppPassword,
        "webauthn" => MethodKind::SecurityKey,
        "passkey" => MethodKind::Passkey,
        "push" => MethodKind::AuthenticatorPush,
        other => MethodKind::Other(other.to_string()),
    }
}

/// privacyIDEA's token type for a kind secinfo can enroll here.
pub fn type_for(kind: &MethodKind) -> Option<&'static str> {
    match kind {
        MethodKind::Totp => Some("totp"),
        MethodKind::Email => Some("email"),
        MethodKind::Phone => Some("sms"),
        MethodKind::AppPassword => Some("applspec"),
        _ => None,
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// `info` values are strings; dates come as RFC 3339 or as `2026-11-25 09:56:45.789444+0000`.
fn date(v: &Value) -> Option<DateTime<Utc>> {
    let s = v.as_str()?;
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%z"))
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        })
}

pub fn is_enrolled(token: &Value) -> bool {
    matches!(text(token, "rollout_state"), "" | "enrolled")
}

pub fn method(token: &Value) -> Method {
    let kind = kind_of(token);
    let serial = text(token, "serial").to_string();
    let description = text(token, "description").trim().to_string();
    let info = &token["info"];
    let active = token["active"].as_bool().unwrap_or(true);
    let revoked = token["revoked"].as_bool().unwrap_or(false);
    let locked = token["locked"].as_bool().unwrap_or(false);
    let rollout = text(token, "rollout_state");
    let target = match kind {
        MethodKind::Email => info["email"].as_str().map(mask_email),
        MethodKind::Phone => info["phone"].as_str().map(mask_phone),
        _ => None,
    };
    let detail = match (description.is_empty(), target) {
        (false, Some(t)) => format!("{description} ({t})"),
        (false, None) => description.clone(),
        (true, Some(t)) => t,
        (true, None) => serial.clone(),
    };
    let mut notes = vec![
        ("Serial".to_string(), serial.clone()),
        ("Type".to_string(), text(token, "tokentype").to_string()),
        (
            "State".to_string(),
            if active { "active" } else { "disabled" }.to_string(),
        ),
        (
            "Rollout".to_string(),
            if rollout.is_empty() {
                "enrolled"
            } else {
                rollout
            }
            .to_string(),
        ),
    ];
    if !description.is_empty() {
        notes.push(("Description".into(), description));
    }
    if let Some(fail) = token["failcount"].as_i64() {
        let max = token["maxfail"]
            .as_i64()
            .map(|m| format!(" of {m}"))
            .unwrap_or_default();
        notes.push(("Failed attempts".into(), format!("{fail}{max}")));
    }
    if revoked {
        notes.push(("Revoked".into(), "yes".into()));
    }
    if locked {
        notes.push(("Locked".into(), "yes".into()));
    }
    if let Some(service) = info["service_id"].as_str() {
        notes.push(("Service".into(), service.to_string()));
    }
    Method {
        id: serial,
        usable_mfa: kind.is_second_factor() && active && !revoked && !locked && is_enrolled(token),
        kind,
        detail,
        created: date(&info["creation_date"]),
        last_used: date(&info["last_auth"]),
        is_default: false,
        device_id: None,
        notes,
    }
}

pub fn app_password(token: &Value) -> AppPassword {
    let description = text(token, "description").trim();
    let service = token["info"]["service_id"].as_str().unwrap_or("");
    let name = match (description.is_empty(), service.is_empty()) {
        (false, true) => description.to_string(),
        (false, false) => format!("{description} ({service})"),
        (true, false) => service.to_string(),
        (true, true) => text(token, "serial").to_string(),
    };
    AppPassword {
        id: text(token, "serial").to_string(),
        name,
        created: date(&token["info"]["creation_date"]),
        last_used: date(&token["info"]["last_auth"]),
    }
}

pub const NO_DEFAULT: &str =
    "privacyIDEA has no default method: every token of yours is tried when you sign in";
pub const NO_DEVICES: &str =
    "privacyIDEA lists tokens, not phones: each authenticator shows up under your methods";
pub const NO_SESSIONS: &str = "privacyIDEA keeps no sign-in sessions: each sign-in is a self-contained token that expires on its own";
pub const NO_REMEMBERED: &str =
    "privacyIDEA lets only administrators list or revoke remembered devices; ask yours";
pub const NO_SIGN_OUT_EVERYWHERE: &str = "privacyIDEA has no way for you to end your other sign-ins; they expire on \
     their own (an administrator can end them all by changing the server key)";

pub fn right_missing(what: &str, action: &str) -> Ability {
    Ability::no(format!(
        "your privacyIDEA policy does not allow you to {what} (user action '{action}' is not granted)"
    ))
}

/// Capabilities from what privacyIDEA grants this user: `rights` are the
/// user actions of their policies (the JWT's `rights`, fixed at sign-in);
/// `enrollable` the token types they may enroll now (`GET /auth/rights`).
/// A policy the admin set shows up as the reason beside the disabled action.
/// `portal`: the privacyIDEA web UI, for what a terminal cannot do.
pub fn capabilities(rights: &[String], enrollable: &[String], portal: &str) -> Capabilities {
    let has = |a: &str| rights.iter().any(|r| r.eq_ignore_ascii_case(a));
    let may_enroll = |action: &str| {
        let ty = action.trim_start_matches("enroll").to_ascii_lowercase();
        enrollable.iter().any(|t| t.eq_ignore_ascii_case(&ty))
    };
    let enrollable = |kind: &MethodKind, action: &str, what: &str| -> (MethodKind, Ability) {
        let ability = if may_enroll(action) {
            Ability::Yes
        } else {
            right_missing(&format!("add {what}"), action)
        };
        (kind.clone(), ability)
    };
    let browser_only = |kind: MethodKind, action: &str, what: &str| -> (MethodKind, Ability) {
        let ability = if may_enroll(action) {
            Ability::No {
                reason: format!(
                    "{what} needs a browser (WebAuthn); add it in the privacyIDEA web portal"
                ),
                portal_url: Some(portal.to_string()),
            }
        } else {
            right_missing(&format!("add {what}"), action)
        };
        (kind, ability)
    };
    let enroll = vec![
        enrollable(&MethodKind::Totp, "enrollTOTP", "authenticator apps (TOTP)"),
        enrollable(&MethodKind::Email, "enrollEMAIL", "email tokens"),
        enrollable(&MethodKind::Phone, "enrollSMS", "SMS tokens"),
        enrollable(&MethodKind::AppPassword, "enrollAPPLSPEC", "app passwords"),
        browser_only(MethodKind::SecurityKey, "enrollWEBAUTHN", "a security key"),
        browser_only(MethodKind::Passkey, "enrollPASSKEY", "a passkey"),
        (
            MethodKind::AuthenticatorPush,
            if may_enroll("enrollPUSH") {
                Ability::No {
                    reason: "privacyIDEA push needs its smartphone app and a push gateway; add it in the \
                             privacyIDEA web portal"
                        .into(),
                    portal_url: Some(portal.to_string()),
                }
            } else {
                right_missing("add push tokens", "enrollPUSH")
            },
        ),
    ];
    Capabilities {
        list_methods: Ability::Yes,
        enroll,
        delete_methods: if has("delete") {
            Ability::Yes
        } else {
            right_missing("delete tokens", "delete")
        },
        activity: if has(super::activity::RIGHT) {
            Ability::Yes
        } else {
            super::activity::not_allowed()
        },
        set_default: Ability::no(NO_DEFAULT),
        devices: Ability::no(NO_DEVICES),
        sessions: Ability::no(NO_SESSIONS),
        remembered_devices: Ability::no(NO_REMEMBERED),
        sign_out_everywhere: Ability::no(NO_SIGN_OUT_EVERYWHERE),
        app_passwords: if may_enroll("enrollAPPLSPEC") {
            Ability::Yes
        } else {
            right_missing("create app passwords", "enrollAPPLSPEC")
        },
        rename: if has("setdescription") {
            Ability::Yes
        } else {
            right_missing("rename tokens", "setdescription")
        },
        change_contact: Ability::no(
            "privacyIDEA keeps a token's number or address fixed: add a new token and delete the old one",
        ),
        change_password: Ability::no(
            "privacyIDEA checks your password against your organisation's user store; change it there",
        ),
        recovery_codes: Ability::no(
            "privacyIDEA has no recovery codes for users here; ask your administrator for a backup (paper) token",
        ),
        default_scope: DefaultScope::PerMethod,
        sign_out_everywhere_note: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_listed_totp_token_becomes_a_usable_authenticator_app() {
        let t = json!({"serial":"TOTP0001","tokentype":"totp","description":"my phone","active":true,
            "revoked":false,"locked":false,"rollout_state":"enrolled","failcount":1,"maxfail":10,
            "info":{"creation_date":"2026-11-25T09:56:40+00:00","last_auth":"2026-11-25 09:56:45.789444+0000",
                    "tokenkind":"software"}});
        let m = method(&t);
        assert_eq!(
            (m.kind.clone(), m.detail.as_str(), m.usable_mfa),
            (MethodKind::Totp, "my phone", true)
        );
        assert!(m.created.is_some() && m.last_used.is_some());
        assert!(
            m.notes
                .contains(&("Failed attempts".into(), "1 of 10".into()))
        );
    }

    #[test]
    fn a_disabled_or_unverified_token_is_not_a_usable_second_factor() {
        let disabled = json!({"serial":"E1","tokentype":"email","active":false,"info":{"email":"alice@example.com"}});
        let m = method(&disabled);
        assert!(!m.usable_mfa);
        assert_eq!(m.detail, "a****@example.com");
        let pending = json!({"serial":"T1","tokentype":"totp","active":true,"rollout_state":"verify","info":{}});
        assert!(!method(&pending).usable_mfa);
        let hw =
            json!({"serial":"H1","tokentype":"hotp","active":true,"info":{"tokenkind":"hardware"}});
        assert_eq!(method(&hw).kind, MethodKind::HardwareToken);
        assert_eq!(
            method(&json!({"tokentype":"yubikey"})).kind,
            MethodKind::Other("yubikey".into())
        );
    }

    #[test]
    fn a_right_the_policy_withholds_is_a_disabled_action_with_its_reason() {
        let caps = capabilities(
            &["delete".into(), "enrollTOTP".into()],
            &["totp".into()],
            "https://pi.example/",
        );
        assert!(caps.can_enroll(&MethodKind::Totp));
        assert!(!caps.can_enroll(&MethodKind::Email));
        assert!(
            caps.app_passwords
                .reason()
                .unwrap_or("")
                .contains("enrollAPPLSPEC")
        );
        assert!(!caps.sign_out_everywhere.is_yes());
    }
}
