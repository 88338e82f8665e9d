//! The provider contract, for the OAuth providers to come (Graph, Keycloak,
//! Okta), proven with a scripted test adapter: a sign-in that finishes in a
//! browser, a step-up answered by that same browser step, an enrollment that
//! finishes at once, a default chosen by kind, and abilities declared up
//! front so no screen finds a missing feature by failing.
//!
//! Time is tokio's paused clock: the polling cadence is checked exactly, and
//! no test waits for real.

mod tui_support;

use async_trait::async_trait;
use secinfo::app::state::*;
use secinfo::app::{Action, Effect, update};
use secinfo::backend::{
    Backend, BackendError, BrowserPoll, BrowserStep, Challenge, Credentials, FactorStarted,
    Refusal, Result, ServerInfo, SignIn,
};
use secinfo::domain::*;
use secinfo::journeys::Asker;
use secinfo::journeys::change::{self, Override, Target};
use secinfo::journeys::{browser, rules};
use secinfo::secrets::SecretString;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use tui_support::*;

/// What the scripted provider answers, and what it saw.
#[derive(Default)]
struct Script {
    /// Answers to `poll_browser`, in order; `Pending` when they run out.
    polls: VecDeque<BrowserPoll>,
    polled_at: Vec<Instant>,
    /// Changes refused with `StepUpRequired` until a browser step-up finished.
    needs_step_up: bool,
    stepped_up: bool,
    deleted: Vec<String>,
    default_kind: Option<MethodKind>,
    default_method: Option<String>,
}

struct Scripted {
    caps: Capabilities,
    methods: Vec<Method>,
    script: Mutex<Script>,
}

fn browser_step() -> BrowserStep {
    BrowserStep {
        verification_uri: "https://login.example.test/device".into(),
        verification_uri_complete: Some("https://login.example.test/device?code=WDJB-MJHT".into()),
        user_code: "WDJB-MJHT".into(),
        interval: Duration::from_secs(5),
        expires_in: Duration::from_secs(900),
        handle: SecretString::new("device-code-never-shown"),
    }
}

impl Scripted {
    fn new(script: Script) -> Scripted {
        let mut caps = all_caps();
        caps.default_scope = DefaultScope::PerKind;
        Scripted {
            caps,
            methods: alice_methods(),
            script: Mutex::new(script),
        }
    }

    fn script<T>(&self, f: impl FnOnce(&mut Script) -> T) -> T {
        f(&mut self.script.lock().unwrap())
    }

    fn guard(&self) -> Result<()> {
        self.script(|s| {
            if s.needs_step_up && !s.stepped_up {
                Err(BackendError::StepUpRequired)
            } else {
                Ok(())
            }
        })
    }
}

#[async_trait]
impl Backend for Scripted {
    async fn server_info(&self) -> Result<ServerInfo> {
        Ok(ServerInfo {
            name: "scripted".into(),
            version: "1".into(),
            remember_days: 0,
        })
    }
    async fn capabilities(&self) -> Result<Capabilities> {
        Ok(self.caps.clone())
    }
    async fn sign_in(&self, _: &str, _: &SecretString) -> Result<SignIn> {
        Ok(SignIn::Browser(browser_step()))
    }
    async fn poll_browser(&self, step: &BrowserStep) -> Result<BrowserPoll> {
        assert_eq!(step.handle.expose(), "device-code-never-shown");
        Ok(self.script(|s| {
            s.polled_at.push(Instant::now());
            let answer = s.polls.pop_front().unwrap_or(BrowserPoll::Pending);
            if matches!(answer, BrowserPoll::Finished(SignIn::Done { .. })) {
                s.stepped_up = true;
            }
            answer
        }))
    }
    async fn start_factor(&self, _: &Challenge, _: &str) -> Result<FactorStarted> {
        Ok(FactorStarted::default())
    }
    async fn answer_factor(
        &self,
        _: &Challenge,
        _: &str,
        _: Option<&SecretString>,
        _: bool,
    ) -> Result<SignIn> {
        Ok(SignIn::Pending)
    }
    async fn step_up(&self) -> Result<SignIn> {
        // A claims challenge: the provider wants the browser again.
        Ok(SignIn::Browser(browser_step()))
    }
    async fn sign_out(&self) -> Result<()> {
        Ok(())
    }
    async fn account(&self) -> Result<Account> {
        Ok(alice())
    }
    async fn methods(&self) -> Result<Vec<Method>> {
        Ok(self.methods.clone())
    }
    async fn delete_method(&self, id: &str, _: Option<&str>) -> Result<Option<String>> {
        self.guard()?;
        self.script(|s| s.deleted.push(id.to_string()));
        Ok(None)
    }
    async fn set_default_method(&self, id: &str) -> Result<()> {
        self.guard()?;
        self.script(|s| s.default_method = Some(id.to_string()));
        Ok(())
    }
    async fn set_default_kind(&self, kind: &MethodKind) -> Result<()> {
        self.guard()?;
        self.script(|s| s.default_kind = Some(kind.clone()));
        Ok(())
    }
    async fn devices(&self) -> Result<Vec<Device>> {
        Ok(Vec::new())
    }
    async fn delete_device(&self, _: &str, _: Option<&str>) -> Result<()> {
        Ok(())
    }
    async fn sessions(&self) -> Result<Vec<Session>> {
        Ok(Vec::new())
    }
    async fn revoke_session(&self, _: &str) -> Result<()> {
        Ok(())
    }
    async fn remembered_devices(&self) -> Result<Vec<RememberedDevice>> {
        Ok(Vec::new())
    }
    async fn forget_device(&self, _: &str) -> Result<()> {
        Ok(())
    }
    async fn sign_out_everywhere(&self) -> Result<()> {
        Ok(())
    }
    async fn begin_enrollment(
        &self,
        kind: &MethodKind,
        target: Option<&str>,
    ) -> Result<Enrollment> {
        // Like Graph's phoneMethods: the method exists as soon as it is asked for.
        Ok(Enrollment {
            id: "made-at-once".into(),
            kind: kind.clone(),
            qr_payload: None,
            secret: None,
            manual: Vec::new(),
            sent_to: None,
            expires_in: None,
            finished: Some(method(
                "m9",
                kind.clone(),
                target.unwrap_or("+1 XXXXXXXX99"),
                false,
            )),
        })
    }
    fn credentials(&self) -> Credentials {
        Credentials::default()
    }
    fn restore(&self, _: Credentials) {}
}

/// A linear front end that writes down what it is told and answers from a list.
#[derive(Default)]
struct Transcript {
    said: Vec<String>,
    links: Vec<String>,
    names: VecDeque<bool>,
}

impl Asker for Transcript {
    type Error = BackendError;
    fn say(&mut self, line: &str) -> std::result::Result<(), BackendError> {
        self.said.push(line.to_string());
        Ok(())
    }
    fn choose(
        &mut self,
        _: &str,
        _: &[String],
        default: Option<usize>,
    ) -> std::result::Result<Option<usize>, BackendError> {
        Ok(default)
    }
    fn code(&mut self, _: &str) -> std::result::Result<Option<SecretString>, BackendError> {
        Ok(None)
    }
    fn yes(&mut self, _: &str) -> std::result::Result<bool, BackendError> {
        Ok(false)
    }
    fn typed_name(&mut self, _: &str) -> std::result::Result<bool, BackendError> {
        Ok(self.names.pop_front().unwrap_or(false))
    }
    fn link(&mut self, url: &str) -> std::result::Result<(), BackendError> {
        self.links.push(url.to_string());
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn signing_in_in_a_browser_shows_the_page_and_code_and_polls_at_the_providers_pace() {
    let provider = Scripted::new(Script {
        polls: VecDeque::from([
            BrowserPoll::Pending,
            BrowserPoll::SlowDown,
            BrowserPoll::Pending,
            BrowserPoll::Finished(SignIn::Done {
                mfa_setup_required: false,
            }),
        ]),
        ..Script::default()
    });
    let mut ui = Transcript::default();
    let SignIn::Browser(step) = provider.sign_in("alice", &"pw".into()).await.unwrap() else {
        panic!("a browser step")
    };
    let start = Instant::now();
    let done = browser::finish(&provider, &mut ui, step).await.unwrap();
    assert_eq!(
        done,
        SignIn::Done {
            mfa_setup_required: false
        }
    );
    assert!(
        ui.said[0].contains("https://login.example.test/device")
            && ui.said[0].contains("WDJB-MJHT"),
        "{:?}",
        ui.said
    );
    assert_eq!(
        ui.links,
        ["https://login.example.test/device?code=WDJB-MJHT"]
    );
    assert!(
        !ui.said
            .iter()
            .any(|l| l.contains("device-code-never-shown")),
        "the device code is never shown"
    );
    // Every 5 s, then 5 s more after "slow down"; nothing after the first success.
    let gaps: Vec<u64> = provider.script(|s| {
        let mut last = start;
        s.polled_at
            .iter()
            .map(|t| {
                let gap = (*t - last).as_secs();
                last = *t;
                gap
            })
            .collect()
    });
    assert_eq!(gaps, [5, 5, 10, 10]);
    assert_eq!(rules::SLOW_DOWN, Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn a_browser_code_that_expires_unused_is_said_plainly() {
    let provider = Scripted::new(Script::default());
    let mut ui = Transcript::default();
    let mut step = browser_step();
    step.expires_in = Duration::from_secs(16);
    let err = browser::finish(&provider, &mut ui, step).await.unwrap_err();
    assert_eq!(err.refusal(), Some(&Refusal::Expired));
    assert_eq!(err.to_string(), rules::BROWSER_EXPIRED);
    assert_eq!(
        provider.script(|s| s.polled_at.len()),
        3,
        "polls at 5, 10 and 15 s, then stops"
    );
}

#[tokio::test(start_paused = true)]
async fn a_step_up_answered_by_a_browser_step_finishes_there_and_the_delete_goes_through() {
    let provider = Scripted::new(Script {
        needs_step_up: true,
        polls: VecDeque::from([BrowserPoll::Finished(SignIn::Done {
            mfa_setup_required: false,
        })]),
        ..Script::default()
    });
    let mut ui = Transcript::default();
    let deleted = change::delete(&provider, &mut ui, Target::Method("m4"), Override::Ask)
        .await
        .unwrap()
        .expect("not cancelled");
    assert_eq!(provider.script(|s| s.deleted.clone()), ["m4"]);
    assert_eq!(deleted.message(), "Deleted Email a****@contoso.test.");
    assert_eq!(ui.said[0], rules::STEP_UP_NEEDED);
    assert!(ui.said[1].contains("WDJB-MJHT"), "{:?}", ui.said);
}

#[tokio::test(start_paused = true)]
async fn where_the_default_is_a_kind_the_journey_sets_the_kind() {
    let provider = Scripted::new(Script::default());
    let mut ui = Transcript::default();
    let said = change::set_default(&provider, &mut ui, "m3")
        .await
        .unwrap()
        .expect("not cancelled");
    assert_eq!(
        provider.script(|s| s.default_kind.clone()),
        Some(MethodKind::Phone)
    );
    assert_eq!(provider.script(|s| s.default_method.clone()), None);
    assert_eq!(said, rules::now_default("Phone"));
}

#[test]
fn where_the_default_is_a_kind_the_tui_offers_each_kind_once() {
    let mut s = home();
    if let Loadable::Ready(c) = &mut s.caps {
        c.default_scope = DefaultScope::PerKind;
    }
    s.home_focus = 0;
    press(&mut s, crossterm::event::KeyCode::Enter);
    let Some(Overlay::Menu(m)) = &s.overlay else {
        panic!("{:?}", s.overlay)
    };
    let labels: Vec<&str> = m.items.iter().map(|i| i.label.as_str()).collect();
    let kinds: Vec<String> = alice_methods()
        .iter()
        .filter(|m| m.usable_mfa)
        .map(|m| m.kind.title())
        .fold(Vec::new(), |mut seen, k| {
            if !seen.contains(&k) {
                seen.push(k);
            }
            seen
        });
    assert_eq!(
        labels[..labels.len() - 1],
        kinds,
        "each usable kind once, then Cancel"
    );
    let phone = labels.iter().position(|l| *l == "Phone").unwrap();
    for _ in 0..phone {
        press(&mut s, crossterm::event::KeyCode::Down);
    }
    let fx = press(&mut s, crossterm::event::KeyCode::Enter);
    assert!(
        matches!(
            &fx[..],
            [Effect::Change {
                change: Change::SetDefaultKind {
                    kind: MethodKind::Phone,
                    ..
                },
                ..
            }]
        ),
        "{fx:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_enrollment_the_provider_finishes_at_once_closes_the_wizard_with_what_was_added() {
    let provider = Scripted::new(Script::default());
    let mut s = home();
    s.home_focus = 1;
    press(&mut s, crossterm::event::KeyCode::Enter);
    assert!(s.wizard.is_some(), "the wizard is open");
    let begun = provider
        .begin_enrollment(&MethodKind::Phone, Some("+1 XXXXXXXX99"))
        .await;
    s.wizard.as_mut().unwrap().pending = Some(77);
    let fx = update(
        &mut s,
        Action::EnrollmentBegun {
            id: 77,
            result: begun,
        },
    );
    assert!(s.wizard.is_none(), "nothing left to do: {:?}", s.wizard);
    let notice = s.notice.clone().expect("what was added is said");
    assert_eq!(
        notice.text,
        "Added Phone +1 XXXXXXXX99. You can use it the next time you sign in."
    );
    assert!(
        fx.iter().any(|e| matches!(e, Effect::LoadMethods { .. })),
        "the list reloads: {fx:?}"
    );
}

#[test]
fn what_a_provider_cannot_do_is_greyed_with_its_reason_before_anyone_tries() {
    let mut s = home();
    if let Loadable::Ready(c) = &mut s.caps {
        c.rename = Ability::no("this provider names devices itself");
        c.recovery_codes = Ability::no("this provider has no recovery codes");
    }
    // A method row: Rename is there, greyed, with the reason.
    let totp = s
        .home_items()
        .iter()
        .position(
            |i| matches!(i, HomeItem::Method(n) if alice_methods()[*n].kind == MethodKind::Totp),
        )
        .unwrap();
    s.home_focus = totp;
    press(&mut s, crossterm::event::KeyCode::Enter);
    let Some(Overlay::Menu(m)) = &s.overlay else {
        panic!("{:?}", s.overlay)
    };
    let rename = m
        .items
        .iter()
        .find(|i| i.label.starts_with("Rename"))
        .unwrap();
    assert!(
        rename
            .disabled
            .as_deref()
            .is_some_and(|why| why.contains("names devices itself")),
        "{rename:?}"
    );
    // Recovery codes: refused at once with the reason, no request sent.
    s.overlay = None;
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::RecoveryCodes)
        .unwrap();
    let fx = press(&mut s, crossterm::event::KeyCode::Enter);
    assert!(fx.is_empty(), "{fx:?}");
    assert!(
        s.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("no recovery codes")),
        "{:?}",
        s.notice
    );
}

/// The TUI against the scripted provider: effects run for real (paused clock).
struct Tui {
    state: State,
    deps: secinfo::app::effects::Deps,
    provider: std::sync::Arc<Scripted>,
    _dir: tempfile::TempDir,
}

impl Tui {
    fn new(script: Script, state: State) -> Tui {
        let provider = std::sync::Arc::new(Scripted::new(script));
        let dir = tempfile::tempdir().unwrap();
        let accounts = secinfo::accounts::KnownAccounts::load(&dir.path().join("accounts.json"));
        let deps = secinfo::app::effects::Deps {
            backend: provider.clone(),
            keeper: secinfo::journeys::session::Keeper::new(
                std::sync::Arc::new(MemoryStore::default()),
                "work",
                std::sync::Arc::new(Mutex::new(accounts)),
            ),
            demo: None,
        };
        Tui {
            state,
            deps,
            provider,
            _dir: dir,
        }
    }

    /// Runs `fx` and everything that follows, one effect at a time.
    async fn run(&mut self, fx: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = fx.into();
        while let Some(e) = queue.pop_front() {
            for a in secinfo::app::effects::run(e, self.deps.clone()).await {
                queue.extend(update(&mut self.state, a));
            }
        }
    }

    fn screen(&self) -> String {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        t.draw(|f| secinfo::ui::render(&self.state, f)).unwrap();
        let buf = t.backend().buffer().clone();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[tokio::test(start_paused = true)]
async fn in_the_tui_a_user_signs_in_in_a_browser_and_lands_on_security_info() {
    let script = Script {
        polls: [
            BrowserPoll::Pending,
            BrowserPoll::SlowDown,
            BrowserPoll::Finished(SignIn::Done {
                mfa_setup_required: false,
            }),
        ]
        .into(),
        ..Script::default()
    };
    let mut signin = state();
    secinfo::app::init(&mut signin, secinfo::app::Start::SignIn);
    let mut tui = Tui::new(script, signin);
    type_text(&mut tui.state, "alice@contoso.test");
    press(&mut tui.state, crossterm::event::KeyCode::Tab);
    type_text(&mut tui.state, "a password");
    let fx = press(&mut tui.state, crossterm::event::KeyCode::Enter);
    // The password goes out; the provider answers with the browser step.
    let [sign_in @ Effect::SignIn { .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    let answer = secinfo::app::effects::run(sign_in.clone(), tui.deps.clone()).await;
    let mut fx = Vec::new();
    for a in answer {
        fx.extend(update(&mut tui.state, a));
    }
    let shown = tui.screen();
    for needed in [
        "Finish signing in in a browser",
        "https://login.example.test/device",
        "WDJB-MJHT",
    ] {
        assert!(shown.contains(needed), "{needed:?} on screen:\n{shown}");
    }
    assert!(
        shown.contains('█') || shown.contains('▀'),
        "the page as a QR code beside the text at 80×24:\n{shown}"
    );
    assert!(!shown.contains("device-code-never-shown"));
    insta::assert_snapshot!("browser_sign_in_80x24", shown);

    let started = Instant::now();
    tui.run(fx).await;
    let at: Vec<u64> = tui
        .provider
        .script(|s| s.polled_at.clone())
        .iter()
        .map(|t| t.duration_since(started).as_secs())
        .collect();
    assert_eq!(
        at,
        vec![5, 10, 20],
        "paced, slowed down once, stopped after success"
    );
    assert_eq!(tui.state.screen, Screen::Home, "{:?}", tui.state.signin);
    assert!(tui.state.methods.ready().is_some(), "Security info loaded");
}

#[tokio::test(start_paused = true)]
async fn in_the_tui_a_step_up_answered_by_a_browser_step_finishes_there_and_the_delete_goes_through()
 {
    let script = Script {
        polls: [BrowserPoll::Finished(SignIn::Done {
            mfa_setup_required: false,
        })]
        .into(),
        needs_step_up: true,
        ..Script::default()
    };
    let mut tui = Tui::new(script, home());
    let target = alice_methods()[1].clone();
    let id = tui.state.next_id();
    let delete = Effect::Change {
        id,
        change: Change::DeleteMethod {
            id: target.id.clone(),
            name: confirm_name(&target),
            label: method_name(&target),
            confirm: None,
        },
    };
    let fx = update(&mut tui.state, Action::StepUpNeeded(Box::new(delete)));
    let [ask @ Effect::StepUp { .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    let mut next = Vec::new();
    for a in secinfo::app::effects::run(ask.clone(), tui.deps.clone()).await {
        next.extend(update(&mut tui.state, a));
    }
    let shown = tui.screen();
    assert!(
        shown.contains("Confirm it is you in a browser") && shown.contains("WDJB-MJHT"),
        "{shown}"
    );
    tui.run(next).await;
    assert_eq!(
        tui.provider.script(|s| s.deleted.clone()),
        vec![target.id.clone()],
        "sent again once the browser step was done"
    );
    assert!(tui.state.step_up.is_none());
}

#[tokio::test(start_paused = true)]
async fn in_the_tui_backing_out_of_the_browser_step_returns_to_the_password() {
    let mut signin = state();
    secinfo::app::init(&mut signin, secinfo::app::Start::SignIn);
    let mut tui = Tui::new(Script::default(), signin);
    type_text(&mut tui.state, "alice@contoso.test");
    press(&mut tui.state, crossterm::event::KeyCode::Tab);
    type_text(&mut tui.state, "a password");
    let fx = press(&mut tui.state, crossterm::event::KeyCode::Enter);
    for a in secinfo::app::effects::run(fx[0].clone(), tui.deps.clone()).await {
        update(&mut tui.state, a);
    }
    assert!(matches!(tui.state.signin, SignInStep::Browser(_)));
    press(&mut tui.state, crossterm::event::KeyCode::Esc);
    let SignInStep::Password(form) = &tui.state.signin else {
        panic!("{:?}", tui.state.signin)
    };
    assert_eq!(form.username, "alice@contoso.test");
}

#[tokio::test(start_paused = true)]
async fn in_the_tui_a_browser_only_provider_asks_for_no_password_and_keeps_who_signed_in() {
    let script = Script {
        polls: [BrowserPoll::Finished(SignIn::Done {
            mfa_setup_required: false,
        })]
        .into(),
        ..Script::default()
    };
    let mut signin = state();
    signin.browser_sign_in = true;
    secinfo::app::init(&mut signin, secinfo::app::Start::SignIn);
    let mut tui = Tui::new(script, signin);
    let shown = tui.screen();
    assert!(
        shown.contains("signs you in in a browser") && !shown.contains("Password"),
        "{shown}"
    );
    // Letters are not typed anywhere: there is no field.
    type_text(&mut tui.state, "x");
    let fx = press(&mut tui.state, crossterm::event::KeyCode::Enter);
    let [Effect::SignIn { username, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert!(username.is_empty(), "nothing asked: {username:?}");
    tui.run(fx).await;
    assert_eq!(tui.state.screen, Screen::Home, "{:?}", tui.state.signin);
    assert_eq!(
        tui.deps.keeper.last_account().as_deref(),
        Some(alice().username.as_str()),
        "kept under the account's own name"
    );
}
