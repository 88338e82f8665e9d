//! Microsoft Graph's JSON, as the resource pages document it (trimmed to
//! what secinfo reads). Every field is optional beyond `id`: Graph adds
//! properties over time and leaves many null.

use serde::Deserialize;

/// A page of a collection: `value` and, when there is more, `@odata.nextLink`.
#[derive(Deserialize)]
pub struct Page<T> {
    pub value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
}

/// Any `authenticationMethod` subtype ("authenticationMethod resource type"
/// and each `*AuthenticationMethod` resource page).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct MethodWire {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: String,
    pub id: String,
    pub display_name: Option<String>,
    pub created_date_time: Option<String>,
    pub last_used_date_time: Option<String>,
    // microsoftAuthenticatorAuthenticationMethod
    pub device_tag: Option<String>,
    pub phone_app_version: Option<String>,
    // phoneAuthenticationMethod
    pub phone_number: Option<String>,
    pub phone_type: Option<String>,
    pub sms_sign_in_state: Option<String>,
    // emailAuthenticationMethod
    pub email_address: Option<String>,
    // fido2AuthenticationMethod
    pub model: Option<String>,
    pub aa_guid: Option<String>,
    pub attestation_level: Option<String>,
    // windowsHelloForBusiness / platformCredential
    pub key_strength: Option<String>,
    pub platform: Option<String>,
    // temporaryAccessPassAuthenticationMethod
    pub start_date_time: Option<String>,
    pub lifetime_in_minutes: Option<u64>,
    pub is_usable_once: Option<bool>,
    pub is_usable: Option<bool>,
    pub method_usability_reason: Option<String>,
    // hardwareOathAuthenticationMethod (beta): the token it is bound to.
    pub device: Option<HardwareDevice>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct HardwareDevice {
    pub serial_number: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
}

/// `GET /beta/users/{id}/authentication/signInPreferences`.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct SignInPreferences {
    pub is_system_preferred_authentication_method_enabled: Option<bool>,
    pub user_preferred_method_for_secondary_authentication: Option<String>,
}

/// `GET /me?$select=id,displayName,userPrincipalName`.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub display_name: Option<String>,
    pub user_principal_name: Option<String>,
    pub mail: Option<String>,
}
