//! Which store holds the secret file's key, decided once at start-up:
//! the OS keyring if one really works, else a passphrase (its derived key
//! cached in the kernel session keyring when that works), else nothing —
//! never a plaintext file. `StoreInfo` records the choice and the reasons.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use zeroize::Zeroizing;

use super::file::{FileKey, FileStore, Header, KdfParams, KeyOrigin, new_file_id, read_header};
use super::keyring::{OsKeyring, SessionCache};
use super::passphrase::{PassphraseSource, Prompter, derive_key, terminal_prompter};
use super::{NoStore, SecretString, SecretsError, SessionStore, StoreInfo};

/// What the user asked for (config `secrets.store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreChoice {
    /// The OS keyring when it works, else a passphrase.
    #[default]
    Auto,
    /// Only the OS keyring.
    Keyring,
    /// Only a passphrase, even where an OS keyring exists.
    Passphrase,
}

/// Everything `open_store` needs to know.
pub struct StoreOptions {
    /// The data dir; the file is `<data_dir>/secrets.bin` unless `file` is set.
    pub data_dir: PathBuf,
    pub file: Option<PathBuf>,
    pub choice: StoreChoice,
    pub passphrase: PassphraseSource,
    /// Whether a person can be asked (a terminal is attached).
    pub interactive: bool,
    /// Cache the passphrase-derived key in the kernel session keyring.
    pub cache_key: bool,
    /// Argon2id cost for a new file (existing files keep theirs).
    pub kdf: KdfParams,
    pub prompter: Prompter,
}

impl StoreOptions {
    /// The defaults: automatic choice, prompt on the terminal if there is one.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        use std::io::IsTerminal;
        Self {
            data_dir: data_dir.into(),
            file: None,
            choice: StoreChoice::Auto,
            passphrase: PassphraseSource::Prompt,
            interactive: std::io::stdin().is_terminal(),
            cache_key: true,
            kdf: KdfParams::default(),
            prompter: terminal_prompter(),
        }
    }

    pub fn secret_file(&self) -> PathBuf {
        self.file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secrets.bin"))
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("file", &self.secret_file())
            .field("choice", &self.choice)
            .field("passphrase", &self.passphrase)
            .field("interactive", &self.interactive)
            .field("cache_key", &self.cache_key)
            .finish_non_exhaustive()
    }
}

const KEYRING_NAME_PASSPHRASE_CACHED: &str = "passphrase, key cached in the kernel session keyring";
const KEYRING_NAME_PASSPHRASE_EVERY_RUN: &str = "passphrase, asked on every run";
const EVERY_RUN: &str = "asked on every run";

/// How the key will be obtained, decided without asking anyone.
enum Plan {
    Keyring {
        keyring: OsKeyring,
        why: String,
    },
    Passphrase {
        cache: Result<SessionCache, String>,
        why: String,
    },
    Nothing {
        reason: String,
    },
}

fn plan(opts: &StoreOptions, header: Option<&Header>) -> Plan {
    let path = opts.secret_file();
    let cache = || {
        if opts.cache_key {
            SessionCache::probe()
        } else {
            Err("key caching is turned off in the settings".into())
        }
    };
    match (header.map(|h| h.origin), opts.choice) {
        (Some(KeyOrigin::OsKeyring), StoreChoice::Passphrase) => Plan::Nothing {
            reason: format!(
                "{} is locked with a key in the OS keyring, but the settings ask for a passphrase; \
                 delete the file to start over (you will sign in again)",
                path.display()
            ),
        },
        (Some(KeyOrigin::OsKeyring), _) => match OsKeyring::probe() {
            Ok(keyring) => Plan::Keyring {
                why: format!(
                    "{} is locked with a key kept in {}",
                    path.display(),
                    keyring.name
                ),
                keyring,
            },
            Err(e) => Plan::Nothing {
                reason: format!(
                    "{} is locked with a key in the OS keyring, which is not available now: {e}; \
                     sign in from a desktop session, or delete the file to start over with a passphrase",
                    path.display()
                ),
            },
        },
        (Some(KeyOrigin::Passphrase(_)), StoreChoice::Keyring) => Plan::Nothing {
            reason: format!(
                "{} is locked with a passphrase, but the settings ask for the OS keyring only; \
                 set the store to auto or passphrase, or delete the file to start over",
                path.display()
            ),
        },
        (Some(KeyOrigin::Passphrase(_)), _) => Plan::Passphrase {
            cache: cache(),
            why: format!("{} is locked with a passphrase", path.display()),
        },
        (None, StoreChoice::Passphrase) => Plan::Passphrase {
            cache: cache(),
            why: "the settings ask for a passphrase".into(),
        },
        (None, choice) => match OsKeyring::probe() {
            Ok(keyring) => Plan::Keyring {
                why: format!("{} works (checked with a test entry)", keyring.name),
                keyring,
            },
            Err(e) if choice == StoreChoice::Keyring => Plan::Nothing {
                reason: format!("the settings ask for the OS keyring, but {e}"),
            },
            Err(e) => Plan::Passphrase {
                cache: cache(),
                why: format!("no OS keyring: {e}"),
            },
        },
    }
}

fn passphrase_info(cache: &Result<SessionCache, String>, why: &str) -> StoreInfo {
    match cache {
        Ok(c) => StoreInfo {
            name: KEYRING_NAME_PASSPHRASE_CACHED.into(),
            why: format!("{why}; the key derived from it is cached in the kernel keyring"),
            persistence: c.persistence.clone(),
        },
        Err(e) => StoreInfo {
            name: KEYRING_NAME_PASSPHRASE_EVERY_RUN.into(),
            why: format!("{why}; the key cannot be cached: {e}"),
            persistence: EVERY_RUN.into(),
        },
    }
}

/// What `open_store` would use, without asking for a passphrase or unlocking
/// anything: for `secinfo doctor`.
pub fn describe_store(opts: &StoreOptions) -> StoreInfo {
    let header = match read_header(&opts.secret_file()) {
        Ok(h) => h,
        Err(e) => {
            return StoreInfo {
                name: "none".into(),
                why: e.to_string(),
                persistence: "nothing is kept".into(),
            };
        }
    };
    match plan(opts, header.as_ref()) {
        Plan::Keyring { keyring, why } => StoreInfo {
            name: keyring.name.into(),
            why,
            persistence: keyring.persistence.clone(),
        },
        Plan::Passphrase { cache, why } => {
            let cached = |h: &Header| {
                let key = cache
                    .as_ref()
                    .ok()
                    .and_then(|c| c.get_key(&h.id_hex()).ok().flatten());
                key.is_some_and(|k| h.accepts(&k))
            };
            let can_ask = opts.interactive || opts.passphrase != PassphraseSource::Prompt;
            match &header {
                _ if can_ask => passphrase_info(&cache, &why),
                None => NoStore {
                    reason: no_passphrase_reason(&why),
                }
                .info(),
                Some(h) if cached(h) => passphrase_info(&cache, &why),
                Some(_) => NoStore {
                    reason: needs_passphrase(&opts.secret_file()),
                }
                .info(),
            }
        }
        Plan::Nothing { reason } => NoStore { reason }.info(),
    }
}

fn needs_passphrase(path: &Path) -> String {
    format!(
        "{} needs its passphrase, and this run cannot ask for it (not on a terminal); \
         pass it with --passphrase @FILE or --passphrase fd:N",
        path.display()
    )
}

/// Open the secret store. `Ok(NoStore)` when no store can work here (the
/// reason says why; nothing is written). `Err` when the secret file exists
/// but cannot be opened as asked: wrong passphrase, damaged file, key lost.
pub fn open_store(opts: &StoreOptions) -> Result<Arc<dyn SessionStore>, SecretsError> {
    let store = choose_and_open(opts)?;
    let info = store.info();
    // Names and reasons only: no StoreInfo field ever holds a secret.
    tracing::info!(store = %info.name, why = %info.why, persistence = %info.persistence, "secret store opened");
    Ok(store)
}

fn choose_and_open(opts: &StoreOptions) -> Result<Arc<dyn SessionStore>, SecretsError> {
    let path = opts.secret_file();
    let header = read_header(&path)?;
    match plan(opts, header.as_ref()) {
        Plan::Nothing { reason } => Ok(Arc::new(NoStore { reason })),
        Plan::Keyring { keyring, why } => {
            let info = StoreInfo {
                name: keyring.name.into(),
                why,
                persistence: keyring.persistence.clone(),
            };
            Ok(Arc::new(open_with_keyring(&path, header, &keyring, info)?))
        }
        Plan::Passphrase { cache, why } => open_with_passphrase(opts, &path, header, cache, &why),
    }
}

/// `open_store`, with any error turned into a `NoStore` carrying it as the
/// reason: for callers that must go on without saved sign-ins.
pub fn open_store_or_none(opts: &StoreOptions) -> Arc<dyn SessionStore> {
    open_store(opts).unwrap_or_else(|e| {
        Arc::new(NoStore {
            reason: e.to_string(),
        })
    })
}

fn open_with_keyring(
    path: &Path,
    header: Option<Header>,
    keyring: &OsKeyring,
    info: StoreInfo,
) -> Result<FileStore, SecretsError> {
    let locked = |e: String| SecretsError::Locked(format!("{}: {e}", keyring.name));
    match header {
        Some(h) => {
            let key = keyring.get_key(&h.id_hex()).map_err(locked)?.ok_or_else(|| {
                SecretsError::Locked(format!(
                    "{} no longer holds the key of {}; delete the file to start over (you will sign in again)",
                    keyring.name,
                    path.display()
                ))
            })?;
            FileStore::open_or_create(path, h, key, info)
        }
        None => {
            let mut key = Zeroizing::new([0u8; 32]);
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, key.as_mut_slice());
            let h = Header::new(KeyOrigin::OsKeyring, new_file_id(), &key);
            keyring.set_key(&h.id_hex(), &key).map_err(locked)?;
            // Read it back before any file depends on it.
            match keyring.get_key(&h.id_hex()) {
                Ok(Some(back)) if back == key => {}
                _ => {
                    let _ = keyring.delete_key(&h.id_hex());
                    return Err(locked(
                        "the key read back differs from the one written".into(),
                    ));
                }
            }
            FileStore::open_or_create(path, h, key, info)
        }
    }
}

fn open_with_passphrase(
    opts: &StoreOptions,
    path: &Path,
    header: Option<Header>,
    cache: Result<SessionCache, String>,
    why: &str,
) -> Result<Arc<dyn SessionStore>, SecretsError> {
    let mut info = passphrase_info(&cache, why);
    let (header, params) = match header {
        Some(h) => {
            let KeyOrigin::Passphrase(p) = h.origin else {
                return Err(SecretsError::Locked(
                    "the file is not locked with a passphrase".into(),
                ));
            };
            (h, p)
        }
        None => {
            // The header is written with the file; its key check is only
            // known once the key is derived, so build it then.
            let id = new_file_id();
            let params = opts.kdf;
            let Some(pass) = get_new_passphrase(opts, path)? else {
                return Ok(Arc::new(NoStore {
                    reason: no_passphrase_reason(why),
                }));
            };
            let key = derive_key(&pass, &id, params)?;
            let header = Header::new(KeyOrigin::Passphrase(params), id, &key);
            cache_key(&cache, &header, &key, &mut info);
            return Ok(Arc::new(FileStore::open_or_create(
                path, header, key, info,
            )?));
        }
    };

    if let Ok(c) = &cache {
        match c.get_key(&header.id_hex()) {
            Ok(Some(key)) if header.accepts(&key) => {
                return Ok(Arc::new(FileStore::open_or_create(
                    path, header, key, info,
                )?));
            }
            // A stale key (the file was replaced): drop it and ask.
            Ok(Some(_)) => {
                let _ = c.delete_key(&header.id_hex());
            }
            _ => {}
        }
    }

    let key = unlock_existing(opts, path, &header, params)?;
    cache_key(&cache, &header, &key, &mut info);
    Ok(Arc::new(FileStore::open_or_create(
        path, header, key, info,
    )?))
}

fn no_passphrase_reason(why: &str) -> String {
    format!(
        "{why}, and no passphrase can be asked (not on a terminal); \
         pass one with --passphrase @FILE or --passphrase fd:N to keep sign-ins"
    )
}

fn cache_key(
    cache: &Result<SessionCache, String>,
    header: &Header,
    key: &FileKey,
    info: &mut StoreInfo,
) {
    if let Ok(c) = cache
        && let Err(e) = c.set_key(&header.id_hex(), key)
    {
        info.name = KEYRING_NAME_PASSPHRASE_EVERY_RUN.into();
        info.why = format!(
            "{}; caching the key in the kernel keyring failed: {e}",
            info.why
        );
        info.persistence = EVERY_RUN.into();
    }
}

const TRIES: usize = 3;

/// The passphrase for a new file: from the given source, or typed twice.
/// `None` when there is no way to get one.
fn get_new_passphrase(
    opts: &StoreOptions,
    path: &Path,
) -> Result<Option<SecretString>, SecretsError> {
    if let Some(read) = opts.passphrase.read_non_interactive() {
        return read.map(Some);
    }
    if !opts.interactive {
        return Ok(None);
    }
    for _ in 0..TRIES {
        let first = prompt(
            opts,
            &format!(
                "Choose a passphrase to protect secinfo's secrets ({}): ",
                path.display()
            ),
        )?;
        if first.is_empty() {
            continue;
        }
        let again = prompt(opts, "Type it again: ")?;
        if first == again {
            return Ok(Some(first));
        }
    }
    Err(SecretsError::Unavailable(
        "the passphrases typed did not match".into(),
    ))
}

fn unlock_existing(
    opts: &StoreOptions,
    path: &Path,
    header: &Header,
    params: KdfParams,
) -> Result<FileKey, SecretsError> {
    if let Some(read) = opts.passphrase.read_non_interactive() {
        let key = derive_key(&read?, &header.file_id, params)?;
        return if header.accepts(&key) {
            Ok(key)
        } else {
            Err(SecretsError::WrongPassphrase)
        };
    }
    if !opts.interactive {
        return Err(SecretsError::Locked(needs_passphrase(path)));
    }
    for _ in 0..TRIES {
        let pass = prompt(
            opts,
            &format!("Passphrase for secinfo's secrets ({}): ", path.display()),
        )?;
        let key = derive_key(&pass, &header.file_id, params)?;
        if header.accepts(&key) {
            return Ok(key);
        }
    }
    Err(SecretsError::WrongPassphrase)
}

fn prompt(opts: &StoreOptions, text: &str) -> Result<SecretString, SecretsError> {
    (opts.prompter)(text)
        .map_err(|e| SecretsError::Unavailable(format!("cannot read the passphrase: {e}")))
}

/// Drop the cached key of the secret file from the kernel keyring, so the
/// next run asks for the passphrase again ("lock now"). The file is kept.
pub fn forget_cached_key(opts: &StoreOptions) -> Result<(), SecretsError> {
    let Some(header) = read_header(&opts.secret_file())? else {
        return Ok(());
    };
    match SessionCache::probe() {
        Ok(cache) => cache
            .delete_key(&header.id_hex())
            .map_err(SecretsError::Unavailable),
        // Nothing can be cached where the kernel keyring does not work.
        Err(_) => Ok(()),
    }
}
