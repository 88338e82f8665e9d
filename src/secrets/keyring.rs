//! The two keyrings the file key can live in, both through keyring-core:
//! the OS keyring (Secret Service, macOS Keychain, Windows Credential
//! Manager), which keeps the file's random key across reboots, and the Linux
//! kernel keyring (keyutils), which only caches a passphrase-derived key for
//! the login session. Every store is probed with a real write, read and
//! delete before it is trusted.

use std::sync::Arc;

use keyring_core::api::{CredentialPersistence, CredentialStore};
use keyring_core::{Entry, Error as KeyringError};
use zeroize::Zeroizing;

use super::file::FileKey;

const SERVICE: &str = "secinfo";

/// Describe a keyring error without ever including the bytes some variants
/// carry (they may be the secret itself).
pub fn describe(e: &KeyringError) -> String {
    match e {
        KeyringError::PlatformFailure(p) => format!("the keyring failed: {p}"),
        KeyringError::NoStorageAccess(p) => format!("the keyring refused access: {p}"),
        KeyringError::NoEntry => "no such entry".into(),
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => {
            "the keyring returned unexpected data".into()
        }
        KeyringError::BadStoreFormat(s) => format!("the keyring is damaged: {s}"),
        KeyringError::TooLong(what, n) => format!("{what} is longer than the keyring allows ({n})"),
        KeyringError::Invalid(what, why) => format!("the keyring rejected {what}: {why}"),
        KeyringError::Ambiguous(_) => "the keyring holds several matching entries".into(),
        KeyringError::NoDefaultStore => "no keyring is configured".into(),
        KeyringError::NotSupportedByStore(s) => format!("the keyring cannot do this: {s}"),
        _ => "the keyring failed".into(),
    }
}

fn key_from(bytes: Vec<u8>) -> Result<FileKey, String> {
    let bytes = Zeroizing::new(bytes);
    let arr: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| "the stored key has the wrong length".to_string())?;
    Ok(Zeroizing::new(arr))
}

/// Write, read back and delete a random value: the only proof a store works.
fn probe(
    set: impl Fn(&[u8]) -> Result<(), KeyringError>,
    get: impl Fn() -> Result<Vec<u8>, KeyringError>,
    delete: impl Fn() -> Result<(), KeyringError>,
) -> Result<(), String> {
    let value: [u8; 16] = rand::random();
    set(&value).map_err(|e| format!("writing a test entry: {}", describe(&e)))?;
    let back = get().map_err(|e| format!("reading the test entry back: {}", describe(&e)));
    let deleted = delete().map_err(|e| format!("deleting the test entry: {}", describe(&e)));
    if back? != value {
        return Err("the test entry read back differs from what was written".into());
    }
    deleted
}

fn probe_user() -> String {
    format!("probe-{}-{:08x}", std::process::id(), rand::random::<u32>())
}

fn file_key_user(file_id_hex: &str) -> String {
    format!("file-key-{file_id_hex}")
}

/// The platform's own keyring, holding the file's random key.
pub struct OsKeyring {
    /// Always `Some` until dropped (see `Drop`).
    store: Option<Arc<CredentialStore>>,
    /// For people: "OS keyring (Secret Service)".
    pub name: &'static str,
    /// For people: "kept across reboots".
    pub persistence: String,
}

impl OsKeyring {
    /// Find the platform keyring and prove it works. `Err` says why not, in
    /// words a person understands.
    pub fn probe() -> Result<Self, String> {
        off_runtime(|| {
            let (store, name) = platform_store()?;
            let persistence = match store.persistence() {
                CredentialPersistence::UntilDelete => "kept across reboots".to_string(),
                CredentialPersistence::UntilReboot => "until reboot".to_string(),
                CredentialPersistence::UntilLogout => "until logout".to_string(),
                CredentialPersistence::EntryOnly | CredentialPersistence::ProcessOnly => {
                    return Err(format!("{name} keeps nothing after this process ends"));
                }
                _ => "as long as the OS keyring keeps it".to_string(),
            };
            let user = probe_user();
            let entry = Entry::new_in_store(&store, SERVICE, &user).map_err(|e| describe(&e))?;
            probe(
                |v| entry.set_secret(v),
                || entry.get_secret(),
                || entry.delete_credential(),
            )
            .map_err(|e| {
                format!("{name} is there but does not work ({e}); it may be locked or have no default keyring")
            })?;
            Ok(Self {
                store: Some(store),
                name,
                persistence,
            })
        })
    }

    /// The key of the file with this id, if the keyring has it.
    pub fn get_key(&self, file_id_hex: &str) -> Result<Option<FileKey>, String> {
        let user = file_key_user(file_id_hex);
        off_runtime(|| {
            let e = Entry::new_in_store(self.store()?, SERVICE, &user).map_err(|e| describe(&e))?;
            match e.get_secret() {
                Ok(bytes) => key_from(bytes).map(Some),
                Err(KeyringError::NoEntry) => Ok(None),
                Err(e) => Err(describe(&e)),
            }
        })
    }

    pub fn set_key(&self, file_id_hex: &str, key: &FileKey) -> Result<(), String> {
        let user = file_key_user(file_id_hex);
        off_runtime(|| {
            let e = Entry::new_in_store(self.store()?, SERVICE, &user).map_err(|e| describe(&e))?;
            e.set_secret(key.as_slice()).map_err(|e| describe(&e))
        })
    }

    pub fn delete_key(&self, file_id_hex: &str) -> Result<(), String> {
        let user = file_key_user(file_id_hex);
        off_runtime(|| {
            let e = Entry::new_in_store(self.store()?, SERVICE, &user).map_err(|e| describe(&e))?;
            match e.delete_credential() {
                Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
                Err(e) => Err(describe(&e)),
            }
        })
    }
}

impl OsKeyring {
    fn store(&self) -> Result<&Arc<CredentialStore>, String> {
        self.store
            .as_ref()
            .ok_or_else(|| "the OS keyring was closed".to_string())
    }
}

/// Dropping the Secret Service client blocks on its own runtime too, so it
/// must not happen on a thread that drives the caller's runtime.
impl Drop for OsKeyring {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::spawn(move || drop(store)).join();
            } else {
                drop(store);
            }
        }
    }
}

/// The blocking Secret Service client runs its own runtime, which panics
/// inside another tokio runtime; a plain thread keeps it out of the caller's.
fn off_runtime<T: Send>(f: impl FnOnce() -> Result<T, String> + Send) -> Result<T, String> {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|_| Err("the keyring client crashed".into()))
    })
}

#[cfg(target_os = "linux")]
fn platform_store() -> Result<(Arc<CredentialStore>, &'static str), String> {
    const NAME: &str = "OS keyring (Secret Service)";
    // Without a session bus there is no Secret Service; connecting would only
    // fail later with a less helpful message.
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|v| v.is_empty()) {
        return Err(
            "no desktop keyring: there is no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set), \
                    as usual over SSH"
                .into(),
        );
    }
    let store = zbus_secret_service_keyring_store::Store::new().map_err(|e| {
        let detail = describe(&e);
        if detail.contains("ServiceUnknown") || detail.contains("org.freedesktop.secrets") {
            "no desktop keyring: the D-Bus session has no Secret Service (no gnome-keyring or KeePassXC running)"
                .to_string()
        } else {
            format!("the Secret Service cannot be reached: {detail}")
        }
    })?;
    Ok((store, NAME))
}

// Not compiled on this project's Linux machines: kept to the documented
// constructor of each store so there is little to get wrong.
#[cfg(target_os = "macos")]
fn platform_store() -> Result<(Arc<CredentialStore>, &'static str), String> {
    let store = apple_native_keyring_store::keychain::Store::new().map_err(|e| describe(&e))?;
    Ok((store, "OS keyring (macOS Keychain)"))
}

#[cfg(target_os = "windows")]
fn platform_store() -> Result<(Arc<CredentialStore>, &'static str), String> {
    let store = windows_native_keyring_store::Store::new().map_err(|e| describe(&e))?;
    Ok((store, "OS keyring (Windows Credential Manager)"))
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn platform_store() -> Result<(Arc<CredentialStore>, &'static str), String> {
    Err("secinfo knows no OS keyring on this platform".into())
}

/// The kernel keyring as a cache of a passphrase-derived key, so the
/// passphrase is asked once per login session rather than on every run.
#[cfg(target_os = "linux")]
pub struct SessionCache {
    store: Arc<linux_keyutils_keyring_store::Store>,
    /// For people: how long a cached key lasts.
    pub persistence: String,
}

#[cfg(target_os = "linux")]
impl SessionCache {
    /// Prove the kernel keyring takes a key in this process.
    pub fn probe() -> Result<Self, String> {
        let store = linux_keyutils_keyring_store::Store::new().map_err(|e| describe(&e))?;
        let cache = Self {
            store,
            persistence: String::new(),
        };
        let user = probe_user();
        probe(
            |v| cache.with_entry(&user, |e| e.set_secret(v)),
            || cache.with_entry(&user, |e| e.get_secret()),
            || cache.with_entry(&user, |e| e.delete_credential()),
        )
        .map_err(|e| {
            if e.contains("refused access") {
                format!(
                    "the kernel keyring refused access ({e}); this process has no login session keyring \
                     (containers, cron and services often have none; `keyctl session -` starts one)"
                )
            } else {
                format!("the kernel keyring does not work: {e}")
            }
        })?;
        let persistence = cache.persistence_now();
        Ok(Self {
            persistence,
            ..cache
        })
    }

    /// On a thread with no session keyring of its own, building an entry
    /// resolves "the session keyring" to the user-session keyring, and the
    /// store's next step (linking in the persistent keyring) makes the kernel
    /// install a new anonymous session keyring on the thread. The first
    /// write then lands in the user-session keyring, where the key is not
    /// possessed, so linking it into the persistent keyring fails with
    /// AccessDenied and the key stays behind, never deleted (measured here:
    /// one leaked key per run; a retry "works" but keeps the leak). Asking
    /// for the session keyring with "create" first installs it before the
    /// entry is built, so nothing fails and nothing leaks.
    fn with_entry<T>(
        &self,
        user: &str,
        op: impl Fn(&Entry) -> Result<T, KeyringError>,
    ) -> Result<T, KeyringError> {
        // A revoked session keyring makes this fail; the entry then fails
        // too, with the error the caller reports.
        let _ = linux_keyutils::KeyRing::from_special_id(
            linux_keyutils::KeyRingIdentifier::Session,
            true,
        );
        self.entry(user).and_then(|e| op(&e))
    }

    fn entry(&self, user: &str) -> Result<Entry, KeyringError> {
        use keyring_core::api::CredentialStoreApi;
        self.store.build(SERVICE, user, None)
    }

    fn persistence_now(&self) -> String {
        let days = std::fs::read_to_string("/proc/sys/kernel/keys/persistent_keyring_expiry")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(|s| s / 86_400);
        let linked = self.entry("persistence-check").ok().and_then(|e| {
            e.as_any()
                .downcast_ref::<linux_keyutils_keyring_store::Cred>()
                .map(|c| c.persistent.is_some())
        });
        match (linked, days) {
            (Some(true), Some(d)) if d > 0 => {
                format!("until reboot, or {d} days unused (kernel persistent keyring)")
            }
            (Some(true), _) => "until reboot (kernel persistent keyring)".into(),
            _ => "until logout".into(),
        }
    }

    pub fn get_key(&self, file_id_hex: &str) -> Result<Option<FileKey>, String> {
        match self.with_entry(&file_key_user(file_id_hex), |e| e.get_secret()) {
            Ok(bytes) => key_from(bytes).map(Some),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(describe(&e)),
        }
    }

    pub fn set_key(&self, file_id_hex: &str, key: &FileKey) -> Result<(), String> {
        self.with_entry(&file_key_user(file_id_hex), |e| {
            e.set_secret(key.as_slice())
        })
        .map_err(|e| describe(&e))
    }

    pub fn delete_key(&self, file_id_hex: &str) -> Result<(), String> {
        match self.with_entry(&file_key_user(file_id_hex), |e| e.delete_credential()) {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(describe(&e)),
        }
    }
}

/// Elsewhere there is no kernel keyring: the passphrase is asked every run.
#[cfg(not(target_os = "linux"))]
pub struct SessionCache {
    pub persistence: String,
}

#[cfg(not(target_os = "linux"))]
impl SessionCache {
    pub fn probe() -> Result<Self, String> {
        Err("there is no kernel session keyring on this platform".into())
    }
    pub fn get_key(&self, _: &str) -> Result<Option<FileKey>, String> {
        Ok(None)
    }
    pub fn set_key(&self, _: &str, _: &FileKey) -> Result<(), String> {
        Err("no kernel keyring".into())
    }
    pub fn delete_key(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
}
