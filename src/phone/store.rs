//! The phone's key material on disk: one `account-<device_id>.json` per
//! account, mode 0600, in a 0700 directory, written atomically.

use super::{AccountInfo, PhoneError, Result};
use crate::secrets::SecretString;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;
use std::path::{Path, PathBuf};

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    device_id: String,
    username: String,
    name: String,
    server_url: String,
    /// The Ed25519 private key seed, base64.
    key: String,
    totp_uri: Option<String>,
}

impl Drop for Stored {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.key.zeroize();
        if let Some(u) = &mut self.totp_uri {
            u.zeroize();
        }
    }
}

/// One account on the phone, with its private key.
pub(super) struct Account {
    pub(super) info: AccountInfo,
    pub(super) key: SigningKey,
    pub(super) totp_uri: Option<SecretString>,
}

pub(super) fn storage(path: &Path, e: impl std::fmt::Display) -> PhoneError {
    PhoneError::Storage {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Every account stored in `dir` (created if missing).
pub(super) fn read_all(dir: &Path) -> Result<Vec<Account>> {
    crate::paths::ensure_private_dir(dir).map_err(|e| storage(dir, e))?;
    let mut accounts = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| storage(dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("account-") && n.ends_with(".json"))
        })
        .collect();
    files.sort();
    for path in files {
        let text =
            zeroize::Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| storage(&path, e))?);
        let stored: Stored = serde_json::from_str(&text).map_err(|e| storage(&path, e))?;
        let seed: [u8; 32] = STANDARD
            .decode(&stored.key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| storage(&path, "the key is not a 32-byte base64 value"))?;
        accounts.push(Account {
            info: AccountInfo {
                username: stored.username.clone(),
                device_id: stored.device_id.clone(),
                name: stored.name.clone(),
                server_url: stored.server_url.clone(),
            },
            key: SigningKey::from_bytes(&seed),
            totp_uri: stored.totp_uri.as_deref().map(SecretString::new),
        });
    }
    Ok(accounts)
}

pub(super) fn file(dir: &Path, device_id: &str) -> PathBuf {
    let safe: String = device_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    dir.join(format!("account-{safe}.json"))
}

pub(super) fn save(dir: &Path, a: &Account) -> Result<()> {
    let stored = Stored {
        device_id: a.info.device_id.clone(),
        username: a.info.username.clone(),
        name: a.info.name.clone(),
        server_url: a.info.server_url.clone(),
        key: STANDARD.encode(a.key.to_bytes()),
        totp_uri: a.totp_uri.as_ref().map(|u| u.expose().to_string()),
    };
    let text = zeroize::Zeroizing::new(
        serde_json::to_string_pretty(&stored).map_err(|e| storage(dir, e))?,
    );
    let path = file(dir, &a.info.device_id);
    write_private(&path, text.as_bytes()).map_err(|e| storage(&path, e))
}

/// Write a file only its owner can read, replacing it atomically.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
