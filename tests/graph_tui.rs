// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The TUI with a Microsoft Entra profile, against the Graph-shaped server
//! (`graph_server`): the real binary signs in by device code in a
//! pseudo-terminal and shows Security info; the same screens, driven through
//! `update` and the real adapter, are drawn at 80×24 for the home screen and
//! for the handoff Graph needs (Microsoft Authenticator is added at the
//! portal).

mod graph_server;
mod pty_support;
mod tui_support;

use graph_server::*;
use pty_support::Pty;
use secinfo::accounts::KnownAccounts;
use secinfo::app::effects::{self, Deps, Effect};
use secinfo::app::keymap::Keymap;
use secinfo::app::state::*;
use secinfo::app::update;
use secinfo::backend::graph::{GraphBackend, GraphSettings};
use secinfo::config::ThemeName;
use secinfo::domain::MethodKind;
use secinfo::tui::{Context, prepare};
use std::collections::VecDeque;
use std::sync::Arc;
use tui_support::*;

#[tokio::test(flavor = "multi_thread")]
async fn in_the_terminal_a_user_signs_in_by_device_code_and_deletes_a_passkey() {
    let server = GraphServer::start().await;
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(&config, server.profile()).unwrap();
    let passphrase = home.path().join("passphrase");
    std::fs::write(&passphrase, "test passphrase for the secret file\n").unwrap();
    let args = format!("--passphrase-from @{}", passphrase.display());
    tokio::task::block_in_place(|| {
        let mut p = Pty::start(&[
            ("SECINFO_CONFIG", config.to_str().unwrap()),
            ("SECINFO_ARGS", &args),
        ]);
        p.wait_for("signs you in in a browser", 30);
        assert!(
            !p.parser.screen().contents().contains("Password"),
            "no password is asked for"
        );
        p.send(b"\r");
        // The page and the code, then (the test server approves on its own) Security info.
        p.wait_for("GRAPH001", 30);
        assert!(
            String::from_utf8_lossy(&p.raw).contains("https://microsoft.com/devicelogin"),
            "the page is shown"
        );
        p.wait_for("Passkey", 30);
        p.wait_for("kim@contoso.onmicrosoft.com", 30);
        // Down to the passkey (the 7th method, after the two rows above the list), delete it.
        for _ in 0..8 {
            p.send(b"\x1b[B");
        }
        p.send(b"d");
        p.wait_for("Delete Passkey", 30);
        p.send(b"\t");
        p.send(b"\r");
        p.wait_for("Deleted Passkey Red key.", 30);
        p.send(b"q");
        let (exit, _) = p.finish();
        assert_eq!(exit, "0");
    });
    assert!(
        !server.method_ids().contains(&FIDO_ID.to_string()),
        "the passkey is gone on the server"
    );
}

/// The TUI's state machine over the real Graph adapter, effects run for real.
struct Tui {
    state: State,
    deps: Deps,
    url: String,
    _dir: tempfile::TempDir,
}

impl Tui {
    async fn signed_in(server: &GraphServer) -> Tui {
        let mut settings = GraphSettings::new(TENANT, CLIENT_ID);
        settings.authority = server.url.clone();
        settings.graph_url = server.url.clone();
        let backend = GraphBackend::new(&settings).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context {
            backend: Arc::new(backend),
            store: Arc::new(MemoryStore::default()),
            profile: "work".into(),
            server_url: server.url.clone(),
            demo: None,
            accounts: KnownAccounts::load(&dir.path().join("accounts.json")),
            keymap: Keymap::default(),
            theme: ThemeName::Default,
            start: secinfo::app::Start::SignIn,
        };
        let (mut state, deps, start) = prepare(ctx);
        assert!(state.browser_sign_in, "Graph signs in in a browser");
        let first = secinfo::app::init(&mut state, start);
        let mut tui = Tui {
            state,
            deps,
            url: server.url.clone(),
            _dir: dir,
        };
        tui.run(first).await;
        let fx = press(&mut tui.state, crossterm::event::KeyCode::Enter);
        tui.run(fx).await;
        assert_eq!(tui.state.screen, Screen::Home, "{:?}", tui.state.signin);
        tui
    }

    async fn run(&mut self, fx: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = fx.into();
        while let Some(e) = queue.pop_front() {
            for a in effects::run(e, self.deps.clone()).await {
                queue.extend(update(&mut self.state, a));
            }
        }
    }

    /// The 80×24 screen as text, the test server's port left out.
    fn screen(&self) -> String {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        t.draw(|f| secinfo::ui::render(&self.state, f)).unwrap();
        let buf = t.backend().buffer().clone();
        let text: Vec<String> = (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect();
        text.join("\n").replace(&self.url, "http://graph.test")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_graph_home_screen_at_80x24_lists_the_methods_and_says_the_default_is_per_kind() {
    let server = GraphServer::start().await;
    let tui = Tui::signed_in(&server).await;
    let shown = tui.screen();
    assert!(shown.contains("Passkey"), "{shown}");
    insta::assert_snapshot!("graph_home_80x24", shown);
}

#[tokio::test(flavor = "multi_thread")]
async fn adding_microsoft_authenticator_is_handed_off_to_the_portal_with_its_qr_code() {
    let server = GraphServer::start().await;
    let mut tui = Tui::signed_in(&server).await;
    let add = tui
        .state
        .home_items()
        .iter()
        .position(|i| matches!(i, HomeItem::AddMethod))
        .expect("an Add sign-in method row");
    tui.state.home_focus = add;
    press(&mut tui.state, crossterm::event::KeyCode::Enter);
    assert!(tui.state.wizard.is_some());
    // The first choice is the authenticator app, which Graph cannot add.
    let choices = kind_choices(tui.state.caps.ready().unwrap());
    assert_eq!(choices[0].kind, MethodKind::AuthenticatorPush);
    let shown = tui.screen();
    assert!(shown.contains("mysignins.microsoft.com"), "{shown}");
    assert!(
        shown.contains('█') || shown.contains('▀'),
        "the portal as a QR code: {shown}"
    );
    insta::assert_snapshot!("graph_handoff_80x24", shown);
}
