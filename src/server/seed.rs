//! The demo world: alice with a phone (push + TOTP), a phone number and an
//! email; bob with an email only. Seeds an empty database once; the phone's
//! key is written into the simulated phone's directory exactly as
//! `secinfo phone activate` would, so pushes work from the first run.

use super::db;
use super::error::{ApiError, Result, ServerError};
use super::methods::{EMAIL, PHONE};
use super::password::Cost;
use super::{Settings, admin, device};
use crate::phone::Phone;
use crate::secrets::SecretString;
use std::path::Path;

pub const DEMO_USERNAME: &str = "alice@contoso.test";
pub const DEMO_PASSWORD: &str = "correct-horse-battery";
const DEMO_DISPLAY: &str = "Alice Smith";
const DEMO_PHONE_NAME: &str = "Alice's phone";
const BOB_USERNAME: &str = "bob@contoso.test";
const BOB_PASSWORD: &str = "staple-battery-horse";

pub use crate::demo::DemoAccount;

/// Seed an empty database (idempotent: a populated one is left as it is).
/// `server_url` is stored on the simulated phone; the demo, whose port
/// changes per run, updates it with `Phone::set_server_url` at each start.
pub fn seed_demo(db: &Path, phone_dir: &Path, server_url: &str) -> Result<DemoAccount> {
    let account = DemoAccount {
        username: DEMO_USERNAME.into(),
        display_name: DEMO_DISPLAY.into(),
        password: DEMO_PASSWORD.into(),
        other_username: BOB_USERNAME.into(),
        other_password: BOB_PASSWORD.into(),
        seeded: true,
    };
    db::migrate(db)?;
    let mut conn = db::open(db)?;
    // One immediate transaction: two processes starting the demo at once
    // cannot both seed.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let users: i64 = tx.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?;
    if users > 0 {
        return Ok(DemoAccount {
            seeded: false,
            ..account
        });
    }
    let alice = admin::insert_user(
        &tx,
        DEMO_USERNAME,
        DEMO_DISPLAY,
        &SecretString::new(DEMO_PASSWORD),
        Cost::Demo,
    )?;
    let bob = admin::insert_user(
        &tx,
        BOB_USERNAME,
        "Bob Jones",
        &SecretString::new(BOB_PASSWORD),
        Cost::Demo,
    )?;
    let (key, public_key) = crate::phone::new_key();
    let (device_id, totp_uri) = device::register(
        &tx,
        &Settings::default(),
        &alice,
        DEMO_PHONE_NAME,
        "Android",
        &public_key,
        None,
    )
    .map_err(|e: ApiError| ServerError::Invalid(e.message))?;
    admin::add_method(&tx, &alice, PHONE, "+1 425 555 0123", None)?;
    admin::add_method(&tx, &alice, EMAIL, "alice.personal@example.test", None)?;
    admin::add_method(&tx, &bob, EMAIL, "bob.personal@example.test", None)?;
    let mut phone = Phone::open(phone_dir).map_err(|e| ServerError::Invalid(e.to_string()))?;
    phone
        .install(crate::phone::NewAccount {
            device_id,
            username: DEMO_USERNAME.into(),
            name: DEMO_PHONE_NAME.into(),
            server_url: server_url.into(),
            key,
            totp_uri: Some(totp_uri),
        })
        .map_err(|e| ServerError::Invalid(e.to_string()))?;
    tx.commit()?;
    Ok(account)
}
