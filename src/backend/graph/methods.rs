//! Graph's method types as secinfo methods: every documented `@odata.type`
//! mapped to a kind with its details, unknown types kept by their name, and
//! for each type the typed collection that deletes it (there is no generic
//! DELETE). Sources: "authenticationMethod resource type" and the resource
//! page of each subtype; the method-type matrix in reference/backends.md.

use super::wire::MethodWire;
use crate::domain::{Method, MethodKind};
use chrono::{DateTime, Utc};

/// The password method's fixed id ("passwordAuthenticationMethod resource type").
pub const PASSWORD_ID: &str = "28c10230-6103-485e-b985-444c60001490";

/// Where one method type lives, and whether users may delete their own.
#[derive(Clone, Debug, PartialEq)]
pub struct Collection {
    /// Path under `/me/authentication/`, with its API version.
    pub version: &'static str,
    pub path: &'static str,
    pub self_delete: bool,
}

const fn col(version: &'static str, path: &'static str, self_delete: bool) -> Option<Collection> {
    Some(Collection {
        version,
        path,
        self_delete,
    })
}

/// The short type name: `#microsoft.graph.phoneAuthenticationMethod` → `phoneAuthenticationMethod`.
pub fn short_type(odata_type: &str) -> &str {
    odata_type
        .trim_start_matches('#')
        .trim_start_matches("microsoft.graph.")
}

/// The typed collection of a method type, where Graph has one.
pub fn collection(short: &str) -> Option<Collection> {
    match short {
        "microsoftAuthenticatorAuthenticationMethod" => {
            col("v1.0", "microsoftAuthenticatorMethods", true)
        }
        "softwareOathAuthenticationMethod" => col("v1.0", "softwareOathMethods", true),
        "phoneAuthenticationMethod" => col("v1.0", "phoneMethods", true),
        "emailAuthenticationMethod" => col("v1.0", "emailMethods", true),
        "fido2AuthenticationMethod" => col("v1.0", "fido2Methods", true),
        "windowsHelloForBusinessAuthenticationMethod" => {
            col("v1.0", "windowsHelloForBusinessMethods", true)
        }
        "passwordAuthenticationMethod" => col("v1.0", "passwordMethods", false),
        // Admins create and delete passes; users only see theirs.
        "temporaryAccessPassAuthenticationMethod" => {
            col("v1.0", "temporaryAccessPassMethods", false)
        }
        "platformCredentialAuthenticationMethod" => col("beta", "platformCredentialMethods", true),
        // Assigned by an admin; a user can only activate it.
        "hardwareOathAuthenticationMethod" => col("beta", "hardwareOathMethods", false),
        "passwordlessMicrosoftAuthenticatorAuthenticationMethod" => {
            col("beta", "passwordlessMicrosoftAuthenticatorMethods", true)
        }
        "externalAuthenticationMethod" => col("v1.0", "externalAuthenticationMethods", false),
        _ => None,
    }
}

fn time(s: &Option<String>) -> Option<DateTime<Utc>> {
    s.as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// One listed method as secinfo shows it. `is_default` is filled in later,
/// from the sign-in preferences.
pub fn method(w: &MethodWire) -> Method {
    let short = short_type(&w.odata_type);
    let name = w.display_name.clone().unwrap_or_default();
    let mut notes: Vec<(String, String)> = Vec::new();
    let mut note = |k: &str, v: &Option<String>| {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            notes.push((k.to_string(), v.to_string()));
        }
    };
    let (kind, detail, usable_mfa) = match short {
        "microsoftAuthenticatorAuthenticationMethod" => {
            note("App version", &w.phone_app_version);
            note("Device tag", &w.device_tag);
            (MethodKind::AuthenticatorPush, name, true)
        }
        "passwordlessMicrosoftAuthenticatorAuthenticationMethod" => {
            note("Sign-in", &Some("passwordless phone sign-in".into()));
            (MethodKind::AuthenticatorPush, name, true)
        }
        "softwareOathAuthenticationMethod" => (MethodKind::Totp, name, true),
        "phoneAuthenticationMethod" => {
            note("SMS sign-in", &w.sms_sign_in_state);
            let kind = match w.phone_type.as_deref() {
                Some("alternateMobile") => MethodKind::AlternatePhone,
                Some("office") => MethodKind::OfficePhone,
                _ => MethodKind::Phone,
            };
            (kind, w.phone_number.clone().unwrap_or_default(), true)
        }
        // Entra uses email for password reset only, never as a second factor.
        "emailAuthenticationMethod" => {
            note("Used for", &Some("password reset".into()));
            (
                MethodKind::Email,
                w.email_address.clone().unwrap_or_default(),
                false,
            )
        }
        "fido2AuthenticationMethod" => {
            note("Model", &w.model);
            note("AAGUID", &w.aa_guid);
            note("Attestation", &w.attestation_level);
            (MethodKind::Passkey, name, true)
        }
        "windowsHelloForBusinessAuthenticationMethod" => {
            note("Key strength", &w.key_strength);
            (MethodKind::WindowsHello, name, true)
        }
        "platformCredentialAuthenticationMethod" => {
            note("Platform", &w.platform);
            note("Key strength", &w.key_strength);
            (MethodKind::PlatformCredential, name, true)
        }
        "passwordAuthenticationMethod" => (MethodKind::Password, String::new(), false),
        "temporaryAccessPassAuthenticationMethod" => {
            note(
                "Usable",
                &w.is_usable
                    .map(|u| if u { "yes" } else { "no" }.to_string()),
            );
            note("Why", &w.method_usability_reason);
            note("Starts", &w.start_date_time);
            note(
                "Lifetime (minutes)",
                &w.lifetime_in_minutes.map(|m| m.to_string()),
            );
            note(
                "One use only",
                &w.is_usable_once
                    .map(|u| if u { "yes" } else { "no" }.to_string()),
            );
            (MethodKind::TemporaryAccessPass, String::new(), false)
        }
        "hardwareOathAuthenticationMethod" => {
            let device = w.device.clone().unwrap_or_default();
            note("Serial number", &device.serial_number);
            note("Manufacturer", &device.manufacturer);
            note("Model", &device.model);
            let detail = if name.is_empty() {
                device.serial_number.unwrap_or_default()
            } else {
                name
            };
            (MethodKind::HardwareToken, detail, true)
        }
        // A type secinfo does not know yet: shown by its name, never dropped.
        other => (MethodKind::Other(other.to_string()), name, false),
    };
    Method {
        id: w.id.clone(),
        kind,
        detail,
        created: time(&w.created_date_time),
        last_used: time(&w.last_used_date_time),
        is_default: false,
        usable_mfa,
        device_id: None,
        notes,
    }
}

/// The sign-in preference (`userDefaultAuthenticationMethodType`) a kind
/// stands for, where it can be the default second factor.
pub fn preference_of(kind: &MethodKind) -> Option<&'static str> {
    Some(match kind {
        MethodKind::AuthenticatorPush => "push",
        MethodKind::Totp | MethodKind::HardwareToken => "oath",
        MethodKind::Phone => "sms",
        MethodKind::AlternatePhone => "voiceAlternateMobile",
        MethodKind::OfficePhone => "voiceOffice",
        _ => return None,
    })
}

/// Whether methods of `kind` are the ones a preference names.
pub fn preferred(kind: &MethodKind, preference: &str) -> bool {
    match preference {
        "push" => *kind == MethodKind::AuthenticatorPush,
        "oath" => matches!(kind, MethodKind::Totp | MethodKind::HardwareToken),
        "sms" | "voiceMobile" => *kind == MethodKind::Phone,
        "voiceAlternateMobile" => *kind == MethodKind::AlternatePhone,
        "voiceOffice" => *kind == MethodKind::OfficePhone,
        _ => false,
    }
}

/// An E.164 number (`+14255550123`) the way Graph wants it: `+1 4255550123`.
/// Country calling codes are prefix-free: these are the one- and two-digit
/// ones (ITU-T E.164 assignments), every other code has three digits.
pub fn graph_phone(e164: &str) -> String {
    const SHORT: &[&str] = &[
        "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44",
        "45", "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
        "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95",
        "98",
    ];
    let Some(digits) = e164.strip_prefix('+') else {
        return e164.to_string();
    };
    if digits.contains(' ') {
        return e164.to_string();
    }
    let cc_len = SHORT
        .iter()
        .find(|c| digits.starts_with(*c))
        .map_or(3, |c| c.len())
        .min(digits.len());
    format!("+{} {}", &digits[..cc_len], &digits[cc_len..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_of_every_length_are_split_off() {
        assert_eq!(graph_phone("+14255550123"), "+1 4255550123");
        assert_eq!(graph_phone("+447700900123"), "+44 7700900123");
        assert_eq!(graph_phone("+353851234567"), "+353 851234567");
        assert_eq!(graph_phone("+1 4255550123"), "+1 4255550123");
    }

    #[test]
    fn an_unknown_type_is_kept_by_its_name() {
        let m = method(&MethodWire {
            odata_type: "#microsoft.graph.qrCodePinAuthenticationMethod".into(),
            id: "q1".into(),
            ..Default::default()
        });
        assert_eq!(
            m.kind,
            MethodKind::Other("qrCodePinAuthenticationMethod".into())
        );
        assert!(!m.usable_mfa);
    }
}
