//! The demo's tokens: a plain JSON file (0600) in the demo's own data dir.
//! Allowed for the demo only: its account and server are throwaway, local and
//! seeded, and the demo must work on a machine with no keyring and no
//! passphrase. Real profiles never use this store; it refuses other profiles.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{Credentials, SecretsError, SessionStore, StoreInfo};

pub struct DemoStore {
    path: PathBuf,
    profile: String,
    lock: Mutex<()>,
}

impl std::fmt::Debug for DemoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoStore")
            .field("path", &self.path)
            .field("profile", &self.profile)
            .finish()
    }
}

type Map = BTreeMap<String, Credentials>;

impl DemoStore {
    /// Tokens of `profile` (the demo profile) in `<demo_data_dir>/demo-tokens.json`.
    pub fn new(demo_data_dir: &Path, profile: &str) -> Self {
        Self {
            path: demo_data_dir.join("demo-tokens.json"),
            profile: profile.to_string(),
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check(&self, profile: &str) -> Result<(), SecretsError> {
        if profile == self.profile {
            Ok(())
        } else {
            Err(SecretsError::Unavailable(format!(
                "the demo's token file only holds the demo profile ({}), not {profile}",
                self.profile
            )))
        }
    }

    fn file_error(&self, reason: String) -> SecretsError {
        SecretsError::File {
            path: self.path.display().to_string(),
            reason,
        }
    }

    fn read(&self) -> Result<Map, SecretsError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&zeroize::Zeroizing::new(bytes))
                .map_err(|_| self.file_error("it is not a readable demo token file".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
            Err(e) => Err(self.file_error(format!("cannot read it: {e}"))),
        }
    }

    fn write(&self, map: &Map) -> Result<(), SecretsError> {
        let bytes = zeroize::Zeroizing::new(
            serde_json::to_vec_pretty(map)
                .map_err(|e| self.file_error(format!("cannot encode: {e}")))?,
        );
        let dir = self.path.parent().unwrap_or(Path::new("."));
        crate::paths::ensure_private_dir(dir)
            .map_err(|e| self.file_error(format!("cannot create its folder: {e}")))?;
        let tmp = dir.join(format!(
            ".demo-tokens.tmp-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let result = (|| -> std::io::Result<()> {
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            let mut f = o.open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        result.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            self.file_error(format!("cannot write it: {e}"))
        })
    }
}

impl SessionStore for DemoStore {
    fn load(&self, profile: &str, username: &str) -> Result<Option<Credentials>, SecretsError> {
        self.check(profile)?;
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.read()?.remove(username))
    }

    fn save(
        &self,
        profile: &str,
        username: &str,
        credentials: &Credentials,
    ) -> Result<(), SecretsError> {
        self.check(profile)?;
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.read()?;
        map.insert(username.to_string(), credentials.clone());
        self.write(&map)
    }

    fn forget(&self, profile: &str, username: &str) -> Result<(), SecretsError> {
        self.check(profile)?;
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.read()?;
        if map.remove(username).is_some() {
            self.write(&map)?;
        }
        Ok(())
    }

    fn info(&self) -> StoreInfo {
        StoreInfo {
            name: "the demo's token file (plain JSON, demo only)".into(),
            why: format!(
                "the demo profile keeps its throwaway tokens beside its own database ({}, readable only by you); \
                 real profiles use the encrypted secret file",
                self.path.display()
            ),
            persistence: "kept across reboots, until the demo's data is deleted".into(),
        }
    }
}
