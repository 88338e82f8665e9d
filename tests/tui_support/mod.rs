//! Domain values and key helpers for the pure TUI tests (no backend needed:
//! update and render are pure functions of state).
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use secinfo::accounts::KnownAccount;
use secinfo::app::keymap::Keymap;
use secinfo::app::state::State;
use secinfo::app::{Action, Effect, update};
use secinfo::backend::Challenge;
use secinfo::backend::Credentials;
use secinfo::config::ThemeName;
use secinfo::domain::*;
use secinfo::secrets::{SecretsError, SessionStore, StoreInfo};
use std::collections::HashMap;
use std::sync::Mutex;

pub fn state() -> State {
    State::new(
        "work",
        "https://id.contoso.test",
        Keymap::default(),
        ThemeName::Default,
    )
}

pub fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> Action {
    key(KeyCode::Char(c))
}

pub fn ctrl(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(s, key(code))
}

pub fn type_text(s: &mut State, text: &str) {
    for c in text.chars() {
        assert!(update(s, ch(c)).is_empty());
    }
}

pub fn day(d: u32) -> Option<chrono::DateTime<Utc>> {
    Some(Utc.with_ymd_and_hms(2026, 11, d, 9, 30, 0).unwrap())
}

pub fn method(id: &str, kind: MethodKind, detail: &str, default: bool) -> Method {
    Method {
        id: id.into(),
        kind,
        detail: detail.into(),
        created: day(2),
        last_used: day(20),
        is_default: default,
        usable_mfa: true,
        device_id: None,
        notes: vec![],
    }
}

pub fn alice_methods() -> Vec<Method> {
    let mut push = method("m1", MethodKind::AuthenticatorPush, "Pixel 8", true);
    push.device_id = Some("d1".into());
    let mut totp = method("m2", MethodKind::Totp, "Pixel 8", false);
    totp.device_id = Some("d1".into());
    vec![
        push,
        totp,
        method("m3", MethodKind::Phone, "+1 XXXXXXXX23", false),
        method("m4", MethodKind::Email, "a****@contoso.test", false),
    ]
}

pub fn all_caps() -> Capabilities {
    Capabilities {
        list_methods: Ability::Yes,
        enroll: vec![
            (MethodKind::AuthenticatorPush, Ability::Yes),
            (MethodKind::Totp, Ability::Yes),
            (
                MethodKind::SecurityKey,
                Ability::no("a terminal cannot talk to a security key"),
            ),
        ],
        delete_methods: Ability::Yes,
        set_default: Ability::Yes,
        devices: Ability::Yes,
        sessions: Ability::Yes,
        remembered_devices: Ability::Yes,
        sign_out_everywhere: Ability::Yes,
        app_passwords: Ability::no("not built yet"),
        rename: Ability::Yes,
        change_contact: Ability::Yes,
        change_password: Ability::Yes,
        recovery_codes: Ability::Yes,
        activity: Ability::Yes,
        default_scope: secinfo::domain::DefaultScope::PerMethod,
        sign_out_everywhere_note: None,
    }
}

pub fn alice() -> Account {
    Account {
        username: "alice@contoso.test".into(),
        display_name: "Alice Example".into(),
    }
}

pub fn option(id: &str, kind: MethodKind, label: &str) -> FactorOption {
    FactorOption {
        method_id: id.into(),
        kind,
        label: label.into(),
    }
}

pub fn challenge(default: Option<&str>) -> Challenge {
    Challenge {
        id: "ch1".into(),
        options: vec![
            option(
                "m1",
                MethodKind::AuthenticatorPush,
                "Approve a request on my Authenticator app (Pixel 8)",
            ),
            option(
                "m2",
                MethodKind::Totp,
                "Use a verification code from my authenticator app",
            ),
            option(
                "m4",
                MethodKind::Email,
                "Email a code to a****@contoso.test",
            ),
        ],
        default_method_id: default.map(String::from),
        remember_days: 30,
        expires_in: 300,
    }
}

pub fn devices() -> Vec<Device> {
    vec![Device {
        id: "d1".into(),
        name: "Pixel 8".into(),
        platform: "Android".into(),
        added: day(2),
        last_used: day(30),
        reachable: true,
    }]
}

pub fn sessions() -> Vec<Session> {
    vec![
        Session {
            id: "s1".into(),
            client: "secinfo on laptop".into(),
            ip: "127.0.0.1".into(),
            signed_in: day(30),
            last_active: day(30),
            current: true,
        },
        Session {
            id: "s2".into(),
            client: "Browser on phone".into(),
            ip: "10.0.0.7".into(),
            signed_in: day(12),
            last_active: day(28),
            current: false,
        },
    ]
}

pub fn remembered() -> Vec<RememberedDevice> {
    vec![RememberedDevice {
        id: "r1".into(),
        client: "secinfo on laptop".into(),
        created: day(3),
        expires: Some(Utc.with_ymd_and_hms(2027, 1, 2, 0, 0, 0).unwrap()),
        current: true,
    }]
}

pub fn known(username: &str, name: &str) -> KnownAccount {
    KnownAccount {
        profile: "work".into(),
        username: username.into(),
        display_name: name.into(),
        last_used: 0,
    }
}

/// A state signed in and showing Security info with everything loaded.
pub fn home() -> State {
    let mut s = state();
    let fx = secinfo::app::init(&mut s, secinfo::app::Start::SignedIn);
    for e in fx {
        let a = match e {
            Effect::LoadAccount { id } => Action::Account {
                id,
                result: Ok(alice()),
            },
            Effect::LoadCapabilities { id } => Action::Capabilities {
                id,
                result: Ok(all_caps()),
            },
            Effect::LoadMethods { id } => Action::Methods {
                id,
                result: Ok(alice_methods()),
            },
            other => panic!("unexpected first effect {other:?}"),
        };
        update(&mut s, a);
    }
    s
}

/// The id of the single effect that loads or changes something.
pub fn id_of(e: &Effect) -> u64 {
    match e {
        Effect::Restore { id, .. }
        | Effect::SignIn { id, .. }
        | Effect::StartFactor { id, .. }
        | Effect::Answer { id, .. }
        | Effect::Wait { id, .. }
        | Effect::StepUp { id }
        | Effect::LoadAccount { id }
        | Effect::LoadCapabilities { id }
        | Effect::LoadMethods { id }
        | Effect::LoadDevices { id }
        | Effect::LoadSessions { id }
        | Effect::LoadRemembered { id }
        | Effect::LoadActivity { id, .. }
        | Effect::Change { id, .. }
        | Effect::SignOut { id, .. }
        | Effect::PhoneApprove { id, .. }
        | Effect::LoadOutbox { id } => *id,
        other => panic!("{other:?} has no id"),
    }
}

/// Keeps what it is given, in memory: the secret store's contract without a keyring.
#[derive(Default)]
pub struct MemoryStore(Mutex<HashMap<(String, String), Credentials>>);

impl SessionStore for MemoryStore {
    fn load(&self, p: &str, u: &str) -> Result<Option<Credentials>, SecretsError> {
        Ok(self.0.lock().unwrap().get(&(p.into(), u.into())).cloned())
    }
    fn save(&self, p: &str, u: &str, c: &Credentials) -> Result<(), SecretsError> {
        self.0
            .lock()
            .unwrap()
            .insert((p.into(), u.into()), c.clone());
        Ok(())
    }
    fn forget(&self, p: &str, u: &str) -> Result<(), SecretsError> {
        self.0.lock().unwrap().remove(&(p.into(), u.into()));
        Ok(())
    }
    fn info(&self) -> StoreInfo {
        StoreInfo {
            name: "memory".into(),
            why: "test".into(),
            persistence: "this test".into(),
        }
    }
}

/// A page of recent activity: a sign-in, a failed one from elsewhere, a change.
pub fn activity_page(next: Option<&str>) -> ActivityPage {
    let event = |kind, what: &str, client: &str, ip: &str, factor: Option<&str>, d| ActivityEvent {
        at: day(d),
        kind,
        what: what.into(),
        client: Some(client.into()),
        ip: Some(ip.into()),
        factor: factor.map(str::to_string),
    };
    ActivityPage {
        events: vec![
            event(
                ActivityKind::SignIn,
                "signed in",
                "secinfo on laptop",
                "203.0.113.7",
                Some("Authenticator app (Pixel 8)"),
                7,
            ),
            event(
                ActivityKind::FailedSignIn,
                "wrong password",
                "Unknown app",
                "198.51.100.23",
                None,
                6,
            ),
            event(
                ActivityKind::Methods,
                "the sign-in method Email (a****@contoso.test) was added",
                "secinfo on laptop",
                "203.0.113.7",
                None,
                5,
            ),
        ],
        next: next.map(str::to_string),
    }
}
