//! The TUI's state machine run headless against the real reference server:
//! keys go through `update`, effects run for real, results come back as actions.
#![allow(dead_code)]

use crate::server_support::World;
use crate::tui_support::*;
use crossterm::event::KeyCode;
use secinfo::accounts::KnownAccounts;
use secinfo::app::effects::{self, Deps, Effect};
use secinfo::app::keymap::Keymap;
use secinfo::app::state::*;
use secinfo::app::{Action, update};
use secinfo::backend::native::NativeBackend;
use secinfo::backend::{Backend, Credentials};
use secinfo::config::ThemeName;
use secinfo::domain::MethodKind;
use secinfo::tui::{Context, prepare};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

pub struct Driver {
    pub state: State,
    pub deps: Deps,
    /// Polls that wait (push) run only when the test lets them.
    pub parked: Vec<Effect>,
}

impl Driver {
    /// At the sign-in screen, nobody signed in yet.
    pub async fn signed_out(world: &World) -> Driver {
        let backend = NativeBackend::new(
            &world.server.url,
            "tui-test",
            "secinfo TUI test",
            Duration::from_secs(10),
        )
        .unwrap();
        let dir = world.dir.path().join("state-out");
        let ctx = Context {
            backend: Arc::new(backend),
            store: Arc::new(MemoryStore::default()),
            profile: "test".into(),
            server_url: world.server.url.clone(),
            demo: None,
            accounts: KnownAccounts::load(&dir.join("accounts.json")),
            keymap: Keymap::default(),
            theme: ThemeName::Default,
            start: secinfo::app::Start::SignIn,
        };
        let (mut state, deps, start) = prepare(ctx);
        state.poll_every = Duration::from_millis(20);
        let first = secinfo::app::init(&mut state, start);
        let mut d = Driver {
            state,
            deps,
            parked: Vec::new(),
        };
        d.run(first).await;
        d
    }

    pub async fn signed_in(world: &World, demo: bool) -> Driver {
        let backend = NativeBackend::new(
            &world.server.url,
            "tui-test",
            "secinfo TUI test",
            Duration::from_secs(10),
        )
        .unwrap();
        let tokens = world.alice_signs_in("tui-test", false).await;
        backend.restore(Credentials {
            access_token: Some(tokens.access_token.clone()),
            refresh_token: Some(tokens.refresh_token.clone()),
            remembered_grant: None,
            access_expires_at: Some(chrono::Utc::now().timestamp() + tokens.expires_in as i64),
        });
        let dir = world.dir.path().join("state");
        let ctx = Context {
            backend: Arc::new(backend),
            store: Arc::new(MemoryStore::default()),
            profile: "test".into(),
            server_url: world.server.url.clone(),
            demo: demo.then(|| DemoInfo {
                username: world.demo.username.clone(),
                password: "shown on purpose".into(),
                db_path: world.db.clone(),
                phone_dir: world.phone_dir.clone(),
            }),
            accounts: KnownAccounts::load(&dir.join("accounts.json")),
            keymap: Keymap::default(),
            theme: ThemeName::Default,
            start: secinfo::app::Start::SignedIn,
        };
        let (mut state, deps, start) = prepare(ctx);
        state.poll_every = Duration::from_millis(20);
        let first = secinfo::app::init(&mut state, start);
        let mut d = Driver {
            state,
            deps,
            parked: Vec::new(),
        };
        d.run(first).await;
        assert!(d.state.methods.ready().is_some(), "Security info loaded");
        d
    }

    pub async fn run(&mut self, fx: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = fx.into();
        while let Some(e) = queue.pop_front() {
            if matches!(&e, Effect::VerifyEnrollment { delay, .. } if !delay.is_zero()) {
                self.parked.push(e);
                continue;
            }
            for a in effects::run(e, self.deps.clone()).await {
                queue.extend(update(&mut self.state, a));
            }
        }
    }

    pub async fn act(&mut self, a: Action) {
        let fx = update(&mut self.state, a);
        self.run(fx).await;
    }

    pub async fn press(&mut self, code: KeyCode) {
        self.act(key(code)).await;
    }

    pub async fn poll(&mut self) {
        for e in std::mem::take(&mut self.parked) {
            let mut fx = Vec::new();
            for a in effects::run(e, self.deps.clone()).await {
                fx.extend(update(&mut self.state, a));
            }
            self.run(fx).await;
        }
    }

    pub async fn add(&mut self, kind: MethodKind) {
        self.state.home_focus = 1;
        self.press(KeyCode::Enter).await;
        self.add_from_wizard(kind).await;
    }

    /// On "Which method would you like to add?": picks `kind`.
    pub async fn add_from_wizard(&mut self, kind: MethodKind) {
        let i = kind_choices(self.state.caps.ready().unwrap())
            .iter()
            .position(|c| c.kind == kind)
            .unwrap();
        for _ in 0..i {
            self.press(KeyCode::Down).await;
        }
        self.press(KeyCode::Enter).await;
    }
}

impl Driver {
    pub async fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.act(ch(c)).await;
        }
    }

    /// Focuses a home row and presses Enter.
    pub async fn open_home(&mut self, item: HomeItem) {
        self.state.home_focus = self
            .state
            .home_items()
            .iter()
            .position(|i| *i == item)
            .unwrap();
        self.press(KeyCode::Enter).await;
    }

    /// Opens the row menu of the first method of `kind`, and chooses `label` in it.
    pub async fn row_action(&mut self, kind: MethodKind, label: &str) {
        let i = self
            .state
            .methods
            .ready()
            .unwrap()
            .iter()
            .position(|m| m.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} method"));
        self.open_home(HomeItem::Method(i)).await;
        let Some(Overlay::Menu(m)) = &self.state.overlay else {
            panic!("no row menu: {:?}", self.state.overlay)
        };
        let at = m
            .items
            .iter()
            .position(|x| x.label == label)
            .unwrap_or_else(|| panic!("no {label:?} in {:?}", m.items));
        for _ in 0..at {
            self.press(KeyCode::Down).await;
        }
        self.press(KeyCode::Enter).await;
    }
}
