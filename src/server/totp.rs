//! TOTP with the server's settings: ±1 step window; replay is checked by the
//! caller against the method's last accepted step.

use super::Settings;
use rand::RngCore;
use totp_rs::{Builder, Secret, Totp};

/// A fresh 160-bit secret, base32 without padding (what authenticator apps expect).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut bytes);
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

pub fn build(secret_b32: &str, account: &str, settings: &Settings) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_b32).ok()?;
    Some(
        Builder::new()
            .with_secret(secret)
            .with_digits(settings.totp_digits.clamp(6, 8) as u8)
            .with_step_duration(settings.totp_step.max(1))
            .with_skew(1)
            .with_account_name(account.replace(':', "_"))
            .with_issuer(Some(settings.totp_issuer.replace(':', "_")))
            .build_noncompliant(),
    )
}

/// The otpauth:// URI an authenticator app imports.
pub fn uri(secret_b32: &str, account: &str, settings: &Settings) -> Option<String> {
    build(secret_b32, account, settings)?.to_url().ok()
}

/// The step a code matches within the window, if any.
pub fn matching_step(secret_b32: &str, code: &str, settings: &Settings) -> Option<i64> {
    let totp = build(secret_b32, "x", settings)?;
    let now = u64::try_from(super::db::now()).ok()?;
    totp.check(code.trim(), now).map(|s| s as i64)
}
