//! Opening the app: the TUI, or the linear `--plain` mode.

use super::{Context, Failure, Global, Outcome, exit};
use crate::app::keymap::Keymap;
use crate::app::state::DemoInfo;
use crate::backend::Credentials;
use crate::secrets::{SecretsError, SessionStore, StoreInfo};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

/// Passes everything to the real store, noting whom it saves for, so tokens
/// rotated later (the credentials hook) go to the same account.
struct Tracking {
    inner: Arc<dyn SessionStore>,
    user: Arc<Mutex<Option<String>>>,
}

impl SessionStore for Tracking {
    fn load(&self, profile: &str, username: &str) -> Result<Option<Credentials>, SecretsError> {
        self.inner.load(profile, username)
    }
    fn save(&self, profile: &str, username: &str, c: &Credentials) -> Result<(), SecretsError> {
        *self.user.lock().unwrap_or_else(|e| e.into_inner()) = Some(username.to_string());
        self.inner.save(profile, username, c)
    }
    fn forget(&self, profile: &str, username: &str) -> Result<(), SecretsError> {
        self.inner.forget(profile, username)
    }
    fn info(&self) -> StoreInfo {
        self.inner.info()
    }
}

pub async fn open_app(g: &Global) -> Outcome {
    let ctx = Context::open(g).await?;
    // The kept sign-in is read after the first frame: a keyring can be slow.
    let start = match ctx.last_account() {
        Some(user) => {
            ctx.set_user(&user);
            crate::app::Start::Resume(user)
        }
        None => crate::app::Start::SignIn,
    };
    let keymap = match &ctx.config {
        Some(cfg) => {
            Keymap::with_overrides(&cfg.key_overrides()).map_err(|e| keymap_failure(cfg, &e))?
        }
        None => Keymap::default(),
    };
    let theme = ctx
        .config
        .as_ref()
        .map(|c| c.ui.theme)
        .unwrap_or_default()
        .honour_no_color(std::env::var_os("NO_COLOR").as_deref());
    let demo = ctx.demo.as_ref().map(|d| DemoInfo {
        username: d.account.username.clone(),
        password: d.account.password.clone(),
        db_path: d.db(),
        phone_dir: d.phone_dir(),
    });
    let store: Arc<dyn SessionStore> = Arc::new(Tracking {
        inner: ctx.store.clone(),
        user: ctx.username.clone(),
    });
    let plain = g.plain
        || std::env::var("TERM").is_ok_and(|t| t == "dumb")
        || !std::io::stdout().is_terminal();
    let tui_ctx = crate::tui::Context {
        backend: ctx.backend.clone(),
        store,
        profile: ctx.profile.clone(),
        server_url: ctx.server_url.clone(),
        demo,
        accounts: ctx
            .accounts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
        keymap,
        theme,
        start,
    };
    let echo_codes = ctx.config.as_ref().is_none_or(|c| c.ui.plain_echo_codes);
    let result = if plain {
        let stdin = std::io::stdin();
        crate::plain::run(tui_ctx, stdin.lock(), std::io::stdout(), echo_codes).await
    } else {
        let mouse = ctx.config.as_ref().is_some_and(|c| c.ui.mouse);
        crate::tui::run(tui_ctx, mouse).await
    };
    // Keep the demo server up until the app is done with it.
    drop(ctx);
    result.map_err(|e| Failure::new(exit::FAILURE, "app", format!("{e:#}")))
}

/// A bad `[keys]` entry, named by file, line and key like every config error.
fn keymap_failure(cfg: &crate::config::Config, e: &crate::app::keymap::KeymapError) -> Failure {
    use crate::app::keymap::KeymapError as K;
    let action = match e {
        K::UnknownAction { name, .. } => name,
        K::BadKey { action, .. } => action,
    };
    let path = crate::paths::config_file();
    let line = std::fs::read_to_string(&path)
        .map(|t| cfg.key_line(&t, action))
        .unwrap_or(1);
    Failure::new(
        exit::CONFIG,
        "config",
        format!("{}, line {line} (key 'keys.{action}'): {e}", path.display()),
    )
}
