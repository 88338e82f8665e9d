//! The terminal runtime: owns the terminal, turns terminal events and effect
//! results into actions, runs `update`, spawns effects, redraws when the state
//! changed. Event-driven: nothing wakes it while idle except input; the spinner
//! ticks only while something is loading. The terminal is restored on quit, Ctrl-C, SIGTERM,
//! SIGINT, SIGHUP, errors and panics (ratatui's hook restores, then chains).

use crate::accounts::KnownAccounts;
use crate::app::effects::{self, DemoServices, Deps, Effect};
use crate::app::keymap::Keymap;
use crate::app::state::{DemoInfo, State};
use crate::app::{Action, Start, init, update};
use crate::backend::Backend;
use crate::config::ThemeName;
use crate::journeys::session::Keeper;
use crate::secrets::SessionStore;
use crossterm::event::{
    DisableMouseCapture, EnableMouseCapture, Event, EventStream, MouseButton, MouseEvent,
    MouseEventKind,
};
use futures::StreamExt;
use ratatui::DefaultTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// Everything the app needs from the outside, built by the CLI.
pub struct Context {
    pub backend: Arc<dyn Backend>,
    pub store: Arc<dyn SessionStore>,
    pub profile: String,
    pub server_url: String,
    pub demo: Option<DemoInfo>,
    pub accounts: KnownAccounts,
    pub keymap: Keymap,
    pub theme: ThemeName,
    pub start: Start,
}

/// The state and effect dependencies both modes start from.
pub fn prepare(ctx: Context) -> (State, Deps, Start) {
    let mut state = State::new(&ctx.profile, &ctx.server_url, ctx.keymap, ctx.theme);
    state.truecolor = crate::qr::QrPalette::from_env() == crate::qr::QrPalette::TrueColor;
    state.browser_sign_in = ctx.backend.signs_in_with_browser();
    let keeper = Keeper::new(ctx.store, &ctx.profile, Arc::new(Mutex::new(ctx.accounts)));
    state.accounts = keeper.accounts();
    // Only a build with the `server` feature has a demo (and its simulated phone).
    #[cfg(feature = "server")]
    let demo: Option<Arc<dyn DemoServices>> = ctx.demo.as_ref().map(|d| {
        Arc::new(DemoPanel {
            db: d.db_path.clone(),
            phone: d.phone_dir.clone(),
            server_url: ctx.server_url.clone(),
        }) as Arc<dyn DemoServices>
    });
    #[cfg(not(feature = "server"))]
    let demo: Option<Arc<dyn DemoServices>> = None;
    state.demo = ctx.demo;
    let deps = Deps {
        backend: ctx.backend,
        keeper,
        demo,
    };
    (state, deps, ctx.start)
}

/// The demo's simulated phone and outbox: only a build with the `server`
/// feature has a demo.
#[cfg(feature = "server")]
mod demo_panel {
    use crate::app::effects::{DemoServices, SimulatedPhone};
    use crate::protocol::OutboxMessage;
    use async_trait::async_trait;
    use std::path::PathBuf;

    /// The demo's simulated phone and outbox, reached the way `secinfo phone` and `serve outbox` do.
    pub(super) struct DemoPanel {
        pub(super) db: PathBuf,
        pub(super) phone: PathBuf,
        pub(super) server_url: String,
    }

    #[async_trait]
    impl SimulatedPhone for DemoPanel {
        async fn approve(&self, username: Option<&str>, number: u32) -> Result<(), String> {
            let phone = crate::phone::Phone::open(&self.phone).map_err(|e| e.to_string())?;
            let pick = crate::phone::Pick {
                push_id: None,
                username,
            };
            phone
                .with_server_url(&self.server_url)
                .answer(pick, Some(number))
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }
        async fn activate(&self, payload: &str) -> Result<String, String> {
            let mut phone = crate::phone::Phone::open(&self.phone).map_err(|e| e.to_string())?;
            let name = "Simulated phone";
            let resp = phone
                .activate(payload, name)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!("{name} activated for {}.", resp.username))
        }
    }

    #[async_trait]
    impl DemoServices for DemoPanel {
        async fn outbox(&self) -> Result<Vec<OutboxMessage>, String> {
            let db = self.db.clone();
            tokio::task::spawn_blocking(move || crate::demo::outbox(&db))
                .await
                .map_err(|e| e.to_string())?
        }
    }
}
#[cfg(feature = "server")]
use demo_panel::DemoPanel;

/// Leaves the alternate screen and raw mode (and gives the mouse back) however `run` ends.
struct Restore {
    mouse: bool,
}

impl Drop for Restore {
    fn drop(&mut self) {
        if self.mouse
            && let Err(e) = crossterm::execute!(std::io::stdout(), DisableMouseCapture)
        {
            tracing::warn!(error = %e, "could not give the mouse back to the terminal");
        }
        if let Err(e) = ratatui::try_restore() {
            tracing::warn!(error = %e, "could not restore the terminal");
        }
    }
}

/// `mouse`: the config's opt-in (click to focus and activate, wheel to scroll).
pub async fn run(ctx: Context, mouse: bool) -> anyhow::Result<()> {
    let (mut state, deps, start) = prepare(ctx);
    let first = init(&mut state, start);
    let mut terminal = ratatui::try_init()?;
    let _restore = Restore { mouse };
    if mouse {
        crossterm::execute!(std::io::stdout(), EnableMouseCapture)?;
    }
    tracing::info!(profile = %state.profile, "terminal UI started");
    let result = event_loop(&mut terminal, state, deps, first).await;
    tracing::info!(ok = result.is_ok(), "terminal UI ended");
    result
}

fn spawn(effects: Vec<Effect>, deps: &Deps, tx: &UnboundedSender<Action>) {
    for effect in effects {
        if let Effect::Copy { text } = &effect {
            copy_to_clipboard(text.expose());
            continue;
        }
        let (deps, tx) = (deps.clone(), tx.clone());
        tokio::spawn(async move {
            for action in effects::run(effect, deps).await {
                // The loop is gone only when the app is quitting; nothing to tell then.
                let _ = tx.send(action);
            }
        });
    }
}

/// What a mouse event means (only ever sent with `mouse = true`): a left
/// click on a focusable row, or the wheel. Anything else is ignored.
fn pointer(m: MouseEvent, hits: &crate::ui::Hits) -> Option<Action> {
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => hits.at(m.row).map(Action::Click),
        MouseEventKind::ScrollDown => Some(Action::Scroll { down: true }),
        MouseEventKind::ScrollUp => Some(Action::Scroll { down: false }),
        _ => None,
    }
}

fn ctrl_c() -> Action {
    Action::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('c'),
        crossterm::event::KeyModifiers::CONTROL,
    ))
}

/// OSC 52 goes to the same stdout ratatui draws on, between two frames.
fn copy_to_clipboard(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout();
    if let Err(e) = out
        .write_all(effects::osc52(text).as_bytes())
        .and_then(|()| out.flush())
    {
        tracing::warn!(error = %e, "could not send the clipboard sequence");
    }
}

/// The last effects before quitting (cancelling a pending enrollment) get a
/// moment to reach the server instead of being dropped with the runtime.
async fn finish(effects: Vec<Effect>, deps: &Deps) {
    let work = async {
        for e in effects {
            if matches!(e, Effect::CancelEnrollment { .. }) {
                effects::run(e, deps.clone()).await;
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(3), work)
        .await
        .is_err()
    {
        tracing::warn!("gave up cancelling the pending enrollment while quitting");
    }
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    mut state: State,
    deps: Deps,
    first: Vec<Effect>,
) -> anyhow::Result<()> {
    let (tx, mut rx) = unbounded_channel::<Action>();
    let mut events = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // Ctrl-C arrives as a key in raw mode; a SIGINT from elsewhere still ends cleanly.
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut tick = tokio::time::interval(Duration::from_millis(150));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    spawn(first, &deps, &tx);
    // Draw only when an action may have changed the state (a resize is an
    // action too): ignored keys, focus and mouse events cost no frame.
    let mut drawn: Option<u64> = None;
    let mut hits = crate::ui::Hits::default();
    loop {
        if drawn != Some(state.revision) {
            terminal.draw(|f| hits = crate::ui::draw(&state, f))?;
            drawn = Some(state.revision);
        }
        let action = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => Action::Key(k),
                Some(Ok(Event::Mouse(m))) => match pointer(m, &hits) {
                    Some(a) => a,
                    None => continue,
                },
                Some(Ok(Event::Resize(..))) => Action::Resize,
                Some(Ok(Event::Paste(s))) => Action::Paste(s),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(a) = rx.recv() => a,
            _ = tick.tick(), if state.is_loading() => Action::Tick,
            // Signals quit like Ctrl-C, so a pending enrollment is cancelled too.
            _ = sigterm.recv() => ctrl_c(),
            _ = sighup.recv() => ctrl_c(),
            _ = sigint.recv() => ctrl_c(),
        };
        #[cfg(debug_assertions)]
        if matches!(action, Action::Key(_))
            && std::env::var_os("SECINFO_TEST_PANIC").is_some_and(|v| v == "1")
        {
            panic!("SECINFO_TEST_PANIC=1: deliberate panic to test that the terminal is restored");
        }
        let fx = update(&mut state, action);
        if state.quit {
            finish(fx, &deps).await;
            return Ok(());
        }
        spawn(fx, &deps, &tx);
        // Take whatever else is already waiting before drawing again.
        while let Ok(a) = rx.try_recv() {
            let fx = update(&mut state, a);
            if state.quit {
                finish(fx, &deps).await;
                return Ok(());
            }
            spawn(fx, &deps, &tx);
        }
    }
}
