//! Everything a command needs, resolved once: the profile (or the demo),
//! its backend, the secret store, the known accounts, and the signed-in
//! account restored from the store.

use super::{Failure, Global, exit};
use crate::accounts::KnownAccounts;
use crate::backend::graph::{GraphBackend, GraphSettings};
use crate::backend::{Backend, Credentials, native::NativeBackend, privacyidea::PrivacyIdea};
use crate::config::{BackendKind, Config, Profile, SecretStoreChoice};
use crate::demo::{self, Demo};
use crate::journeys::session::Keeper;
use crate::secrets::{
    DemoStore, OrderedStore, PassphraseSource, SessionStore, StoreChoice, StoreOptions,
    open_store_or_none,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Context {
    pub profile: String,
    pub server_url: String,
    pub backend: Arc<dyn Backend>,
    /// An `OrderedStore`: the credentials hook saves in the background, in order.
    pub store: Arc<dyn SessionStore>,
    pub accounts: Arc<Mutex<KnownAccounts>>,
    pub config: Option<Config>,
    /// The signed-in account, once known: the credentials hook saves under it.
    pub username: Arc<Mutex<Option<String>>>,
    /// Present when running the demo; keeps its server alive.
    pub demo: Option<Demo>,
    /// The profile's pre-filled username, if configured.
    pub preset_username: Option<String>,
}

impl Context {
    /// Resolve config or demo; nothing talks to the network yet, except the
    /// demo starting its own in-process server.
    pub async fn open(g: &Global) -> Result<Self, Failure> {
        let path = crate::paths::config_file();
        let config = Config::load(&path)?;
        let accounts = Arc::new(Mutex::new(KnownAccounts::load(
            &KnownAccounts::default_path(),
        )));
        let passphrase = match &g.passphrase_from {
            Some(s) => PassphraseSource::parse(s)
                .map_err(|e| Failure::new(exit::USAGE, "usage", e.to_string()))?,
            None => PassphraseSource::Prompt,
        };
        let client_id = client_id()?;
        let client_name = format!("secinfo on {}", hostname());
        // A config of settings only ([ui], [keys]) still opens the demo, with those settings.
        let no_profiles = config.as_ref().is_none_or(|c| {
            c.profiles.is_empty() && c.default_profile.is_none() && g.profile.is_none()
        });
        let use_demo = no_profiles || g.profile.as_deref() == Some(demo::PROFILE);
        let (ctx, store) = if use_demo {
            if let Some(p) = &g.profile
                && p != demo::PROFILE
            {
                return Err(Failure::new(
                    exit::CONFIG,
                    "config",
                    format!(
                        "no config file at {}, so there is no profile '{p}' (run `secinfo config init`)",
                        path.display()
                    ),
                ));
            }
            let demo = demo::start()
                .await
                .map_err(|e| Failure::new(exit::FAILURE, "demo", e.to_string()))?;
            let backend =
                NativeBackend::new(&demo.url, &client_id, &client_name, Duration::from_secs(15))?;
            let store = OrderedStore::new(Arc::new(DemoStore::new(&demo.dir, demo::PROFILE)));
            let ctx = Self {
                profile: demo::PROFILE.into(),
                server_url: demo.url.clone(),
                backend: Arc::new(backend),
                store: store.clone(),
                accounts,
                config,
                username: Arc::new(Mutex::new(None)),
                demo: Some(demo),
                preset_username: None,
            };
            (ctx, store)
        } else {
            let cfg = config
                .as_ref()
                .ok_or_else(|| Failure::new(exit::CONFIG, "config", "no config"))?;
            let (name, profile) = cfg.profile(g.profile.as_deref(), &path)?;
            let backend = make_backend(profile, &client_id, &client_name)?;
            let mut opts = StoreOptions::new(crate::paths::data_dir());
            opts.choice = match profile.secret_store {
                SecretStoreChoice::Auto => StoreChoice::Auto,
                SecretStoreChoice::Keyring => StoreChoice::Keyring,
                SecretStoreChoice::Passphrase => StoreChoice::Passphrase,
            };
            opts.passphrase = passphrase;
            let store = OrderedStore::new(open_store_or_none(&opts));
            let ctx = Self {
                profile: name.clone(),
                server_url: profile.server_url(),
                backend,
                store: store.clone(),
                preset_username: profile.username.clone(),
                accounts,
                config: config.clone(),
                username: Arc::new(Mutex::new(None)),
                demo: None,
            };
            (ctx, store)
        };
        ctx.watch(store);
        Ok(ctx)
    }

    /// Save rotated tokens as soon as the adapter gets them; `store` is `self.store`.
    fn watch(&self, store: Arc<OrderedStore>) {
        let profile = self.profile.clone();
        let username = self.username.clone();
        self.backend
            .watch_credentials(Arc::new(move |c: &Credentials| {
                let who = username.lock().unwrap_or_else(|e| e.into_inner()).clone();
                // The hook runs inside a request: the write goes to the blocking pool.
                if let Some(who) = who {
                    store.save_in_background(&profile, &who, c);
                }
            }));
    }

    /// The profile's kept sign-ins: the shared session journey.
    pub fn keeper(&self) -> Keeper {
        Keeper::new(self.store.clone(), &self.profile, self.accounts.clone())
    }

    /// The account this profile used last, if any.
    pub fn last_account(&self) -> Option<String> {
        self.keeper().last_account()
    }

    /// Restore the last account's saved credentials; true when there were some.
    pub async fn restore(&self) -> bool {
        let Some(user) = self.last_account() else {
            return false;
        };
        self.restore_account(&user).await
    }

    pub async fn restore_account(&self, user: &str) -> bool {
        self.set_user(user);
        self.keeper().restore_quietly(&*self.backend, user).await
    }

    pub fn set_user(&self, user: &str) {
        *self.username.lock().unwrap_or_else(|e| e.into_inner()) = Some(user.to_string());
    }

    /// After a successful sign-in: remember the account and keep its tokens.
    /// `Some(why)` when the sign-in will not be kept.
    pub async fn signed_in(&self, user: &str, display_name: &str) -> Option<String> {
        self.set_user(user);
        self.keeper()
            .keep(&*self.backend, user, display_name)
            .await
            .err()
            .map(|e| format!("your sign-in will not be kept: {e}"))
    }

    /// Fail with "sign in again" unless a saved session was restored.
    pub async fn require_session(&self) -> Result<(), Failure> {
        if self.restore().await {
            Ok(())
        } else {
            Err(Failure::new(
                exit::SIGN_IN,
                "sign_in_required",
                "not signed in: run `secinfo login` first",
            ))
        }
    }
}

fn make_backend(
    profile: &Profile,
    client_id: &str,
    client_name: &str,
) -> Result<Arc<dyn Backend>, Failure> {
    let timeout = Duration::from_secs(profile.timeout_secs);
    Ok(match profile.backend {
        BackendKind::Native => Arc::new(NativeBackend::with_ca_file(
            &profile.url,
            client_id,
            client_name,
            timeout,
            profile.ca_file.as_deref(),
        )?),
        BackendKind::Privacyidea => Arc::new(PrivacyIdea::new(
            &profile.url,
            profile.realm.clone(),
            profile.ca_file.clone(),
            timeout,
        )?),
        BackendKind::Graph => Arc::new(GraphBackend::new(&graph_settings(profile, timeout))?),
    })
}

/// A Graph profile's settings; config loading already checked tenant and client_id.
fn graph_settings(profile: &Profile, timeout: Duration) -> GraphSettings {
    let mut s = GraphSettings::new(
        profile.tenant.as_deref().unwrap_or("organizations"),
        profile.client_id.as_deref().unwrap_or_default(),
    );
    let pick = |v: &Option<String>, default: String| v.clone().unwrap_or(default);
    s.authority = pick(&profile.authority, s.authority);
    s.graph_url = pick(&profile.graph_url, s.graph_url);
    s.portal_url = pick(&profile.portal_url, s.portal_url);
    s.timeout = timeout;
    s
}

/// This installation's id: remembered-device grants are bound to it.
fn client_id() -> Result<String, Failure> {
    let path = crate::paths::state_dir().join("client_id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim().to_string();
        if !id.is_empty() {
            return Ok(id);
        }
    }
    crate::paths::ensure_private_dir(&crate::paths::state_dir())?;
    let id = uuid::Uuid::new_v4().to_string();
    std::fs::write(&path, &id)?;
    Ok(id)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "this computer".into())
}
