// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Every fault against every adapter, over real sockets: a fault proxy
//! (`fault_proxy`) stands in front of the real thing — the reference server,
//! the live privacyIDEA, the Graph-shaped server — and breaks the request
//! that lists the sign-in methods in each way of `Fault::all()`. For each
//! fault and adapter:
//! - the TUI (its state machine with real effects, drawn at 80×24) shows a
//!   clear error naming what went wrong, and the person can still act: the
//!   retry key, once the fault clears, lists the methods;
//! - the CLI (`secinfo methods list`, the real binary) exits with the
//!   documented code (5 for a failed server, 7 when throttled) and one clear
//!   line; once the fault clears, the same command succeeds;
//! - nothing panics (the CLI's stderr, and this process, which would abort the test).
//!
//! Client timeouts are short (2 s; 4 s for privacyIDEA) so the delay fault costs little.

mod common;
mod fault_proxy;
mod graph_server;
mod tui_support;

use crossterm::event::KeyCode;
use fault_proxy::{Fault, FaultProxy, Quiet};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use secinfo::accounts::KnownAccounts;
use secinfo::app::effects::{self, Deps, Effect};
use secinfo::app::keymap::Keymap;
use secinfo::app::state::{Loadable, State};
use secinfo::app::update;
use secinfo::backend::graph::{GraphBackend, GraphSettings};
use secinfo::backend::native::NativeBackend;
use secinfo::backend::privacyidea::PrivacyIdea;
use secinfo::backend::{Backend, BackendError, SignIn};
use secinfo::config::ThemeName;
use secinfo::secrets::SecretString;
use secinfo::tui::{Context, prepare};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;
use tui_support::{MemoryStore, key};

/// The client timeout: short, so the delay fault costs little.
const TIMEOUT: Duration = Duration::from_secs(2);
/// privacyIDEA (Python, sharing the machine with the whole test run) gets more.
const PI_TIMEOUT: Duration = Duration::from_secs(4);

/// The TUI's state machine with its real effects, signed in already.
struct Tui {
    state: State,
    deps: Deps,
}

impl Tui {
    async fn start(backend: Arc<dyn Backend>, url: &str, dir: &Path) -> Tui {
        let ctx = Context {
            backend,
            store: Arc::new(MemoryStore::default()),
            profile: "faults".into(),
            server_url: url.into(),
            demo: None,
            accounts: KnownAccounts::load(&dir.join("accounts.json")),
            keymap: Keymap::default(),
            theme: ThemeName::Default,
            start: secinfo::app::Start::SignedIn,
        };
        let (mut state, deps, start) = prepare(ctx);
        let first = secinfo::app::init(&mut state, start);
        let mut t = Tui { state, deps };
        t.run(first).await;
        assert!(t.state.methods.ready().is_some(), "Security info loaded");
        t
    }

    async fn run(&mut self, fx: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = fx.into();
        while let Some(e) = queue.pop_front() {
            for a in effects::run(e, self.deps.clone()).await {
                queue.extend(update(&mut self.state, a));
            }
        }
    }

    async fn press(&mut self, code: KeyCode) {
        let fx = update(&mut self.state, key(code));
        self.run(fx).await;
    }

    fn screen(&self) -> String {
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| secinfo::ui::render(&self.state, f)).unwrap();
        let buf = t.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }
}

/// The real `secinfo` binary with its own config, data and state, and the passphrase file.
struct Cli {
    home: PathBuf,
}

impl Cli {
    fn new(home: &Path, profile: &str) -> Cli {
        std::fs::write(home.join("config.toml"), profile).unwrap();
        std::fs::write(
            home.join("passphrase"),
            "test passphrase for the secret file\n",
        )
        .unwrap();
        Cli { home: home.into() }
    }

    async fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend([
            "--passphrase-from".into(),
            format!("@{}", self.home.join("passphrase").display()),
        ]);
        let (home, stdin) = (self.home.clone(), stdin.to_string());
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = all.iter().map(String::as_str).collect();
            common::run_secinfo(&home, &home.join("config.toml"), &args, &stdin)
        })
        .await
        .unwrap()
    }
}

/// What the person must be told for each fault (a phrase of the message),
/// and the CLI's documented exit code.
fn expected(fault: Fault, timeout: Duration) -> (String, u8) {
    let (phrase, exit) = expected_words(fault);
    match fault {
        Fault::Delay => (format!("did not answer within {timeout:?}"), exit),
        _ => (phrase.to_string(), exit),
    }
}

fn expected_words(fault: Fault) -> (&'static str, u8) {
    match fault {
        Fault::Delay => ("did not answer within", 5),
        Fault::Reset => ("was reset before the server answered", 5),
        Fault::Truncate => ("the reply broke off", 5),
        Fault::Status(429, Some(_)) => ("try again in 120 s", 7),
        Fault::Status(429, None) => ("too many attempts", 7),
        Fault::Status(503, Some(_)) => ("try again in 120 s", 5),
        Fault::Status(500, _) => ("answered 500", 5),
        Fault::Status(502, _) => ("answered 502", 5),
        Fault::Status(_, _) => ("answered 503", 5),
        Fault::Html => ("HTML", 5),
        Fault::WrongTypes => ("does not have the expected shape", 5),
        Fault::TooLarge => ("larger than 4 MiB", 5),
        Fault::Redirect => ("redirects elsewhere", 5),
    }
}

/// One adapter under every fault: `path` names its list-methods request.
async fn every_fault(
    adapter: &str,
    proxy: &FaultProxy,
    path: &str,
    timeout: Duration,
    tui: &mut Tui,
    cli: &Cli,
) {
    let mut report = Vec::new();
    for fault in Fault::all() {
        let (phrase, exit) = expected(fault, timeout);
        let phrase = phrase.as_str();
        proxy.fail(Some("GET"), path, fault);

        // The CLI: the documented exit code and one clear line.
        let out = cli.run(&["methods", "list"], "").await;
        let err = common::text(&out.stderr);
        assert!(
            proxy.hits() > 0,
            "{adapter}/{}: the fault was never hit",
            fault.name()
        );
        assert!(
            !err.contains("panicked"),
            "{adapter}/{}: {err}",
            fault.name()
        );
        assert_eq!(
            out.status.code(),
            Some(exit as i32),
            "{adapter}/{}: {err}",
            fault.name()
        );
        assert!(
            err.starts_with("secinfo: ") && err.contains(phrase),
            "{adapter}/{}: the CLI should say {phrase:?}, said {err:?}",
            fault.name()
        );

        // The TUI: the retry key meets the fault; the error is on the screen.
        tui.press(KeyCode::Char('r')).await;
        let Loadable::Failed(e) = &tui.state.methods else {
            panic!(
                "{adapter}/{}: the TUI loaded {:?}",
                fault.name(),
                tui.state.methods
            )
        };
        let e: BackendError = e.clone();
        let screen = tui.screen();
        let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("Could not load your sign-in methods") && flat.contains(phrase),
            "{adapter}/{}: the TUI should say {phrase:?} ({e}):\n{screen}",
            fault.name()
        );

        // The fault clears: the same key, and the same command, succeed.
        proxy.clear();
        tui.press(KeyCode::Char('r')).await;
        assert!(
            tui.state.methods.ready().is_some(),
            "{adapter}/{}: after the fault cleared the TUI has {:?}",
            fault.name(),
            tui.state.methods
        );
        let out = cli.run(&["methods", "list"], "").await;
        assert!(
            out.status.success(),
            "{adapter}/{}: after the fault cleared: {}",
            fault.name(),
            common::text(&out.stderr)
        );
        report.push(format!(
            "{adapter} | {} | {exit} | {}",
            fault.name(),
            err.trim()
        ));
    }
    println!("{}", report.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_fault_against_the_native_adapter_is_told_clearly_and_a_retry_succeeds() {
    let world = common::World::start().await;
    let proxy = FaultProxy::start(&world.server.url).await;
    let cli_uri = world.user_with_totp("ann@faults.test");
    let tui_uri = world.user_with_totp("ben@faults.test");
    let home = world.dir.path().join("cli");
    std::fs::create_dir_all(&home).unwrap();
    let cli = Cli::new(
        &home,
        &format!(
            "[profiles.test]\nbackend = \"native\"\nurl = \"{}\"\nsecret_store = \"passphrase\"\ntimeout_secs = 2\n",
            proxy.url
        ),
    );
    let code = common::totp_now(&cli_uri);
    let out = cli
        .run(
            &["login", "--username", "ann@faults.test"],
            &format!("{}\n\n{code}\n", common::PASSWORD),
        )
        .await;
    assert!(out.status.success(), "{}", common::text(&out.stderr));

    let b = NativeBackend::new(&proxy.url, "tui-faults", "fault matrix", TIMEOUT).unwrap();
    let SignIn::SecondFactor(ch) = b
        .sign_in("ben@faults.test", &SecretString::new(common::PASSWORD))
        .await
        .unwrap()
    else {
        panic!("a second factor is asked")
    };
    let code = SecretString::new(common::totp_now(&tui_uri));
    let method = ch.options[0].method_id.clone();
    b.answer_factor(&ch, &method, Some(&code), false)
        .await
        .unwrap();
    let mut tui = Tui::start(Arc::new(b), &proxy.url, world.dir.path()).await;

    every_fault("native", &proxy, "/v1/me/methods", TIMEOUT, &mut tui, &cli).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_fault_against_the_graph_adapter_is_told_clearly_and_a_retry_succeeds() {
    let server = graph_server::GraphServer::start().await;
    let proxy = FaultProxy::start(&server.url).await;
    // Page links name the proxy, as they name whatever host the client called.
    server.world().base = proxy.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(
        dir.path(),
        &format!(
            "[profiles.work]\nbackend = \"graph\"\ntenant = \"{}\"\nclient_id = \"{}\"\n\
             authority = \"{u}\"\ngraph_url = \"{u}\"\nsecret_store = \"passphrase\"\ntimeout_secs = 2\n",
            graph_server::TENANT,
            graph_server::CLIENT_ID,
            u = proxy.url
        ),
    );
    let out = cli.run(&["login"], "").await;
    assert!(out.status.success(), "{}", common::text(&out.stderr));

    let mut s = GraphSettings::new(graph_server::TENANT, graph_server::CLIENT_ID);
    s.authority = proxy.url.clone();
    s.graph_url = proxy.url.clone();
    s.timeout = TIMEOUT;
    let b = GraphBackend::new(&s).unwrap();
    let SignIn::Browser(step) = b.sign_in("", &SecretString::new("")).await.unwrap() else {
        panic!("Graph signs in in a browser")
    };
    secinfo::journeys::browser::finish(&b, &mut Quiet::default(), step)
        .await
        .unwrap();
    let mut tui = Tui::start(Arc::new(b), &proxy.url, dir.path()).await;

    every_fault(
        "graph",
        &proxy,
        "authentication/methods",
        TIMEOUT,
        &mut tui,
        &cli,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_fault_against_the_privacyidea_adapter_is_told_clearly_and_a_retry_succeeds() {
    let (url, realm, password) = common::privacyidea_env();
    let proxy = FaultProxy::start(&url).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(
        dir.path(),
        &format!(
            "[profiles.pi]\nbackend = \"privacyidea\"\nurl = \"{}\"\nrealm = \"{realm}\"\n\
             secret_store = \"passphrase\"\ntimeout_secs = {}\n",
            proxy.url,
            PI_TIMEOUT.as_secs()
        ),
    );
    let out = cli
        .run(&["login", "--username", "kate"], &format!("{password}\n"))
        .await;
    assert!(out.status.success(), "{}", common::text(&out.stderr));

    let b = PrivacyIdea::new(&proxy.url, Some(realm), None, PI_TIMEOUT).unwrap();
    let signed = b
        .sign_in("kate", &SecretString::new(password))
        .await
        .unwrap();
    assert!(matches!(signed, SignIn::Done { .. }), "{signed:?}");
    let mut tui = Tui::start(Arc::new(b), &proxy.url, dir.path()).await;

    every_fault("privacyIDEA", &proxy, "/token/", PI_TIMEOUT, &mut tui, &cli).await;
}
