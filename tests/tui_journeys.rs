// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The TUI's state machine driven headless against the real reference
//! server: keys go through `update`, effects run for real (HTTP, the
//! simulated phone), results come back as actions. Only the terminal is missing.

mod server_support;
mod tui_support;

use crossterm::event::KeyCode;
use secinfo::accounts::KnownAccounts;
use secinfo::app::effects::{self, Deps, Effect};
use secinfo::app::keymap::Keymap;
use secinfo::app::state::*;
use secinfo::app::{Action, update};
use secinfo::backend::native::NativeBackend;
use secinfo::config::ThemeName;
use secinfo::server::Settings;
use secinfo::tui::{Context, prepare};
use server_support::World;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tui_support::{MemoryStore, ch, key};

struct Driver {
    state: State,
    deps: Deps,
    /// Push polls wait here until the test lets them run (after approving on the phone).
    parked: Vec<Effect>,
}

impl Driver {
    fn new(world: &World, store: Arc<MemoryStore>, state_dir: &std::path::Path) -> Driver {
        let backend = NativeBackend::new(
            &world.server.url,
            "tui-test",
            "secinfo TUI test",
            Duration::from_secs(10),
        )
        .unwrap();
        let ctx = Context {
            backend: Arc::new(backend),
            store,
            profile: "test".into(),
            server_url: world.server.url.clone(),
            demo: None,
            accounts: KnownAccounts::load(&state_dir.join("accounts.json")),
            keymap: Keymap::default(),
            theme: ThemeName::Default,
            start: secinfo::app::Start::SignIn,
        };
        let (mut state, deps, start) = prepare(ctx);
        state.poll_every = Duration::from_millis(10);
        let first = secinfo::app::init(&mut state, start);
        assert!(first.is_empty());
        Driver {
            state,
            deps,
            parked: Vec::new(),
        }
    }

    /// Applies an action and runs every effect it leads to, to the end.
    async fn act(&mut self, action: Action) {
        let mut queue: VecDeque<Effect> = update(&mut self.state, action).into();
        while let Some(e) = queue.pop_front() {
            if matches!(e, Effect::Wait { .. }) {
                self.parked.push(e);
                continue;
            }
            for a in effects::run(e, self.deps.clone()).await {
                queue.extend(update(&mut self.state, a));
            }
        }
    }

    async fn press(&mut self, code: KeyCode) {
        self.act(key(code)).await;
    }

    async fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.act(ch(c)).await;
        }
    }

    /// Lets the waiting push polls run once (a new wait is parked again).
    async fn poll(&mut self) {
        for e in std::mem::take(&mut self.parked) {
            let mut queue = VecDeque::from([e]);
            let mut first = true;
            while let Some(e) = queue.pop_front() {
                if !first && matches!(e, Effect::Wait { .. }) {
                    self.parked.push(e);
                    continue;
                }
                first = false;
                for a in effects::run(e, self.deps.clone()).await {
                    queue.extend(update(&mut self.state, a));
                }
            }
        }
    }

    fn push_number(&self) -> u32 {
        let v = self.state.active_verify().expect("verifying");
        let VerifyStep::Factor(f) = &v.step else {
            panic!("{:?}", v.step)
        };
        match &f.started {
            Loadable::Ready(s) => s.number.expect("number matching"),
            other => panic!("push not started: {other:?}"),
        }
    }

    /// Approves the push on the simulated phone and lets the app notice.
    async fn approve_on_phone(&mut self, world: &World) {
        let n = self.push_number();
        let phone = secinfo::phone::Phone::open(&world.phone_dir)
            .unwrap()
            .with_server_url(&world.server.url);
        phone.approve(n).await.unwrap();
        // Polls until the approval is seen (each poll yields one answer).
        for _ in 0..50 {
            if self.parked.is_empty() {
                break;
            }
            self.poll().await;
        }
    }

    async fn focus_home(&mut self, item: HomeItem) {
        self.state.home_focus = self
            .state
            .home_items()
            .iter()
            .position(|i| *i == item)
            .unwrap();
    }
}

async fn sign_in_with_password(d: &mut Driver, world: &World) {
    if let SignInStep::Password(f) = &d.state.signin
        && f.username.is_empty()
    {
        d.type_text(&world.demo.username).await;
        d.press(KeyCode::Tab).await;
    }
    d.type_text(&world.demo.password).await;
    d.press(KeyCode::Enter).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remembered_device_skips_mfa_then_a_change_steps_up_and_sign_out_everywhere_asks_again() {
    let world = World::start(Settings::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::default());
    let mut d = Driver::new(&world, store.clone(), dir.path());

    // First sign-in: push with number matching, "Don't ask again" ticked.
    sign_in_with_password(&mut d, &world).await;
    assert!(
        d.state.active_verify().is_some(),
        "a second factor is asked: {:?}",
        d.state.signin
    );
    d.act(ch(' ')).await;
    d.approve_on_phone(&world).await;
    assert_eq!(
        d.state.screen,
        Screen::Home,
        "{:?} {:?}",
        d.state.signin,
        d.state.notice
    );
    assert!(d.state.methods.ready().is_some_and(|m| !m.is_empty()));
    assert_eq!(d.state.accounts.len(), 1, "the account is on the list now");

    // Sign out here: the grant stays; the next sign-in skips the second factor.
    d.focus_home(HomeItem::SignOut).await;
    d.press(KeyCode::Enter).await;
    assert_eq!(d.state.signin, SignInStep::Accounts { focus: 0 });
    d.press(KeyCode::Enter).await;
    sign_in_with_password(&mut d, &world).await;
    assert_eq!(
        d.state.screen,
        Screen::Home,
        "remembered: no second factor; {:?}",
        d.state.signin
    );

    // A change now needs a fresh second factor: step up, then the change is retried once.
    let before = d.state.methods.ready().unwrap().len();
    let email = d
        .state
        .methods
        .ready()
        .unwrap()
        .iter()
        .position(|m| m.kind == secinfo::domain::MethodKind::Email)
        .unwrap();
    d.focus_home(HomeItem::Method(email)).await;
    d.act(ch('d')).await;
    d.press(KeyCode::Tab).await;
    d.press(KeyCode::Enter).await;
    assert!(
        d.state.step_up.is_some(),
        "step-up asked: {:?}",
        d.state.notice
    );
    d.approve_on_phone(&world).await;
    assert!(d.state.step_up.is_none());
    let n = d.state.notice.clone().expect("the result is said");
    assert_eq!(n.tone, Tone::Success, "{n:?}");
    assert_eq!(d.state.methods.ready().unwrap().len(), before - 1);

    // Sign out everywhere: back to sign-in, and the second factor is asked again.
    d.focus_home(HomeItem::SignOutEverywhere).await;
    d.press(KeyCode::Enter).await;
    d.press(KeyCode::Tab).await;
    d.press(KeyCode::Enter).await;
    assert_eq!(d.state.screen, Screen::SignIn, "{:?}", d.state.notice);
    d.press(KeyCode::Enter).await;
    sign_in_with_password(&mut d, &world).await;
    assert!(
        d.state.active_verify().is_some(),
        "the remembered device was revoked: {:?}",
        d.state.signin
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_number_on_the_phone_is_refused_and_the_app_keeps_waiting() {
    let world = World::start(Settings::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut d = Driver::new(&world, Arc::new(MemoryStore::default()), dir.path());
    sign_in_with_password(&mut d, &world).await;
    let n = d.push_number();
    let phone = secinfo::phone::Phone::open(&world.phone_dir)
        .unwrap()
        .with_server_url(&world.server.url);
    let wrong = if n == 99 { 98 } else { n + 1 };
    assert!(
        phone.approve(wrong).await.is_err(),
        "the phone cannot approve with the wrong number"
    );
    d.poll().await;
    assert_eq!(d.state.screen, Screen::SignIn, "not signed in");
    assert!(d.state.active_verify().is_some());
}

impl Driver {
    /// The change asked for a fresh second factor: approve it on the phone, or type the code sent.
    async fn confirm_it_is_me(&mut self, world: &World, what: &str) {
        assert!(
            self.state.step_up.is_some(),
            "{what}: a step-up is asked; notice {:?}, wizard {:?}, overlay {:?}",
            self.state.notice,
            self.state.wizard,
            self.state.overlay
        );
        let number = match &self.state.active_verify().map(|v| &v.step) {
            Some(VerifyStep::Factor(f)) => f.started.ready().and_then(|s| s.number),
            other => panic!("{what}: no factor started: {other:?}"),
        };
        match number {
            Some(_) => self.approve_on_phone(world).await,
            // The default is a phone now: the code it was sent.
            None => {
                self.type_text(&newest_code(world)).await;
                self.press(KeyCode::Enter).await;
            }
        }
        assert!(
            self.state.step_up.is_none(),
            "{what}: the step-up is over; notice {:?}",
            self.state.notice
        );
    }

    async fn pick_kind(&mut self, kind: secinfo::domain::MethodKind) {
        let i = kind_choices(self.state.caps.ready().unwrap())
            .iter()
            .position(|c| c.kind == kind)
            .unwrap();
        for _ in 0..i {
            self.press(KeyCode::Down).await;
        }
        self.press(KeyCode::Enter).await;
    }

    fn method_count(&self) -> usize {
        self.state.methods.ready().map_or(0, Vec::len)
    }
}

/// Past the server's window for a fresh second factor (1 s in these tests; it counts whole seconds).
async fn let_the_sign_in_get_old() {
    tokio::time::sleep(Duration::from_millis(2100)).await;
}

fn newest_code(world: &World) -> String {
    let sent = secinfo::server::outbox(&world.db, None).unwrap();
    let body = &sent.last().expect("a code was sent").body;
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a code in the message")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_sign_in_older_than_the_window_every_change_steps_up_on_the_phone_then_goes_through()
{
    use secinfo::domain::MethodKind;
    let world = World::start(Settings {
        mfa_max_age: 1,
        ..Settings::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut d = Driver::new(&world, Arc::new(MemoryStore::default()), dir.path());
    sign_in_with_password(&mut d, &world).await;
    d.approve_on_phone(&world).await;
    assert_eq!(d.state.screen, Screen::Home, "{:?}", d.state.notice);

    // Add an authenticator code app: the wizard waits under the step-up, then shows the QR.
    let_the_sign_in_get_old().await;
    let before = d.method_count();
    d.focus_home(HomeItem::AddMethod).await;
    d.press(KeyCode::Enter).await;
    d.pick_kind(MethodKind::Totp).await;
    d.confirm_it_is_me(&world, "add TOTP").await;
    let w = d.state.wizard.clone().expect("the wizard is still open");
    assert!(
        matches!(w.step, WizardStep::Scan { .. }),
        "{:?} {:?}",
        w.step,
        w.error
    );
    let uri = w.enrollment.unwrap().qr_payload.unwrap();
    let code = totp_rs::Totp::from_url_unchecked(uri.expose())
        .unwrap()
        .generate_current()
        .to_string();
    d.type_text(&code).await;
    d.press(KeyCode::Enter).await;
    assert!(d.state.wizard.is_none(), "{:?}", d.state.wizard);
    assert_eq!(d.method_count(), before + 1, "{:?}", d.state.notice);
    // The new app is offered a name; Esc keeps the one it has.
    assert!(
        matches!(d.state.overlay, Some(Overlay::Form(_))),
        "{:?}",
        d.state.overlay
    );
    d.press(KeyCode::Esc).await;
    assert!(d.state.overlay.is_none());

    // Add a phone: the code goes to the number only after the step-up.
    let_the_sign_in_get_old().await;
    d.focus_home(HomeItem::AddMethod).await;
    d.press(KeyCode::Enter).await;
    d.pick_kind(MethodKind::Phone).await;
    d.type_text("2025550199").await;
    d.press(KeyCode::Enter).await;
    d.confirm_it_is_me(&world, "add phone").await;
    let w = d.state.wizard.clone().expect("the wizard is still open");
    assert!(matches!(w.step, WizardStep::Code { .. }), "{:?}", w.step);
    d.type_text(&newest_code(&world)).await;
    d.press(KeyCode::Enter).await;
    assert_eq!(d.method_count(), before + 2, "{:?}", d.state.notice);

    // Create an app password: shown once after the step-up.
    let_the_sign_in_get_old().await;
    d.focus_home(HomeItem::AppPasswords).await;
    d.press(KeyCode::Enter).await;
    d.press(KeyCode::Enter).await;
    d.type_text("Thunderbird").await;
    d.press(KeyCode::Enter).await;
    d.confirm_it_is_me(&world, "create an app password").await;
    assert!(
        matches!(&d.state.overlay, Some(Overlay::ShowOnce(s)) if s.title.contains("Thunderbird")),
        "{:?} {:?}",
        d.state.overlay,
        d.state.notice
    );
    d.press(KeyCode::Esc).await;
    d.press(KeyCode::Esc).await;

    // Generate recovery codes.
    let_the_sign_in_get_old().await;
    d.focus_home(HomeItem::RecoveryCodes).await;
    d.press(KeyCode::Enter).await;
    d.press(KeyCode::Enter).await;
    d.press(KeyCode::Tab).await;
    d.press(KeyCode::Enter).await;
    d.confirm_it_is_me(&world, "generate recovery codes").await;
    assert!(
        matches!(&d.state.overlay, Some(Overlay::ShowOnce(s)) if s.secrets.len() >= 5),
        "{:?} {:?}",
        d.state.overlay,
        d.state.notice
    );
    d.press(KeyCode::Esc).await;
    d.press(KeyCode::Esc).await;
    assert_eq!(d.state.screen, Screen::Home);

    // Change the default to the new phone.
    let_the_sign_in_get_old().await;
    d.focus_home(HomeItem::ChangeDefault).await;
    d.press(KeyCode::Enter).await;
    let Some(Overlay::Menu(m)) = d.state.overlay.clone() else {
        panic!("{:?}", d.state.overlay)
    };
    let at = m
        .items
        .iter()
        .position(|i| i.label.contains("99"))
        .expect("the new phone is offered");
    for _ in 0..at {
        d.press(KeyCode::Down).await;
    }
    d.press(KeyCode::Enter).await;
    d.confirm_it_is_me(&world, "change the default").await;
    let default = d
        .state
        .methods
        .ready()
        .unwrap()
        .iter()
        .find(|m| m.is_default)
        .cloned();
    assert_eq!(
        default.map(|m| m.kind),
        Some(MethodKind::Phone),
        "{:?}",
        d.state.notice
    );

    // Delete the code app added above.
    let_the_sign_in_get_old().await;
    let totp = d
        .state
        .methods
        .ready()
        .unwrap()
        .iter()
        .position(|m| m.kind == MethodKind::Totp)
        .unwrap();
    d.focus_home(HomeItem::Method(totp)).await;
    d.act(ch('d')).await;
    d.press(KeyCode::Tab).await;
    d.press(KeyCode::Enter).await;
    d.confirm_it_is_me(&world, "delete").await;
    assert_eq!(d.method_count(), before + 1, "{:?}", d.state.notice);
    assert_eq!(d.state.notice.as_ref().unwrap().tone, Tone::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_step_up_leaves_the_wizard_as_it_was_and_adds_nothing() {
    use secinfo::domain::MethodKind;
    let world = World::start(Settings {
        mfa_max_age: 1,
        ..Settings::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut d = Driver::new(&world, Arc::new(MemoryStore::default()), dir.path());
    sign_in_with_password(&mut d, &world).await;
    d.approve_on_phone(&world).await;
    let_the_sign_in_get_old().await;
    let before = d.method_count();
    d.focus_home(HomeItem::AddMethod).await;
    d.press(KeyCode::Enter).await;
    d.pick_kind(MethodKind::Totp).await;
    assert!(
        d.state.step_up.is_some(),
        "{:?} {:?}",
        d.state.wizard,
        d.state.notice
    );
    d.parked.clear();
    // Esc leaves the push for the list of ways, then the step-up itself.
    for _ in 0..3 {
        if d.state.step_up.is_some() {
            d.press(KeyCode::Esc).await;
        }
    }
    assert!(d.state.step_up.is_none());
    let w = d.state.wizard.clone().expect("the wizard stays open");
    assert!(matches!(w.step, WizardStep::Choose { .. }), "{:?}", w.step);
    assert!(w.enrollment.is_none());
    assert_eq!(
        d.state.notice.as_ref().map(|n| n.text.as_str()),
        Some("Cancelled: nothing was changed.")
    );
    assert_eq!(d.method_count(), before);
}
