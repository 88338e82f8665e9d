//! The encrypted secret file: one XChaCha20-Poly1305 box holding every
//! profile's credentials. The header is authenticated (it is the AEAD's
//! associated data), so a changed salt or parameter is detected, and it
//! carries a key check so "wrong key" and "damaged file" are told apart.
//!
//! Layout (all integers little-endian):
//! `magic(8) version(1) kdf(1) m_cost(4) t_cost(4) p_cost(4) file_id(16) key_check(16) nonce(24) ciphertext`

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{Credentials, SecretsError, SessionStore, StoreInfo};

const MAGIC: &[u8; 8] = b"SECINFO\0";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 8 + 1 + 1 + 12 + 16 + 16;
const NONCE_LEN: usize = 24;

/// The 32-byte key of the file, wiped on drop.
pub type FileKey = Zeroizing<[u8; 32]>;

/// Where the file's key comes from, as recorded in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// A random key kept in the OS keyring under this file's id.
    OsKeyring,
    /// Derived from a passphrase with Argon2id; the salt is the file id.
    Passphrase(KdfParams),
}

/// Argon2id cost parameters, stored in the header so they can change later
/// without breaking existing files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl Default for KdfParams {
    /// RFC 9106's second recommendation lowered to one lane: 64 MiB, 3 passes.
    fn default() -> Self {
        Self {
            m_cost: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

impl KdfParams {
    /// Refuse absurd values from a crafted file before allocating for them.
    fn plausible(&self) -> bool {
        (8..=1024 * 1024).contains(&self.m_cost)
            && (1..=64).contains(&self.t_cost)
            && (1..=16).contains(&self.p_cost)
    }
}

/// The unencrypted part of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub origin: KeyOrigin,
    /// Random per file: the Argon2 salt and the name of the key in keyrings.
    pub file_id: [u8; 16],
    key_check: [u8; 16],
}

impl Header {
    /// A fresh header for a new file, bound to `key`.
    pub fn new(origin: KeyOrigin, file_id: [u8; 16], key: &[u8; 32]) -> Self {
        Self {
            origin,
            file_id,
            key_check: key_check(key),
        }
    }

    /// The file id as text, used to name the key in a keyring.
    pub fn id_hex(&self) -> String {
        hex::encode(self.file_id)
    }

    /// Whether `key` is the one this file was written with.
    pub fn accepts(&self, key: &[u8; 32]) -> bool {
        // Not secret-dependent timing in any way that matters: the check is a
        // hash of the key, and a mismatch only says "wrong key".
        self.key_check == key_check(key)
    }

    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..8].copy_from_slice(MAGIC);
        out[8] = VERSION;
        let (kdf, p) = match self.origin {
            KeyOrigin::OsKeyring => (
                1u8,
                KdfParams {
                    m_cost: 0,
                    t_cost: 0,
                    p_cost: 0,
                },
            ),
            KeyOrigin::Passphrase(p) => (2u8, p),
        };
        out[9] = kdf;
        out[10..14].copy_from_slice(&p.m_cost.to_le_bytes());
        out[14..18].copy_from_slice(&p.t_cost.to_le_bytes());
        out[18..22].copy_from_slice(&p.p_cost.to_le_bytes());
        out[22..38].copy_from_slice(&self.file_id);
        out[38..54].copy_from_slice(&self.key_check);
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() >= MAGIC.len() && &bytes[..8] != MAGIC {
            return Err("it is not a secinfo secret file (unknown header)".into());
        }
        if bytes.len() < HEADER_LEN + NONCE_LEN {
            return Err("it is too short to be a secinfo secret file (truncated?)".into());
        }
        if bytes[8] != VERSION {
            return Err(format!(
                "it has format version {}, this secinfo reads version {VERSION}",
                bytes[8]
            ));
        }
        let u32_at =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let params = KdfParams {
            m_cost: u32_at(10),
            t_cost: u32_at(14),
            p_cost: u32_at(18),
        };
        let origin = match bytes[9] {
            1 => KeyOrigin::OsKeyring,
            2 if params.plausible() => KeyOrigin::Passphrase(params),
            2 => return Err("its key-derivation parameters are out of range (damaged?)".into()),
            other => return Err(format!("it names an unknown key source ({other})")),
        };
        let mut file_id = [0u8; 16];
        file_id.copy_from_slice(&bytes[22..38]);
        let mut key_check = [0u8; 16];
        key_check.copy_from_slice(&bytes[38..54]);
        Ok(Self {
            origin,
            file_id,
            key_check,
        })
    }
}

fn key_check(key: &[u8; 32]) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(b"secinfo secret file key check v1");
    h.update(key);
    let digest = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

fn file_error(path: &Path, reason: impl Into<String>) -> SecretsError {
    SecretsError::File {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Read only the header: enough to know which key the file needs.
/// `Ok(None)` when there is no file yet.
pub fn read_header(path: &Path) -> Result<Option<Header>, SecretsError> {
    match std::fs::read(path) {
        Ok(bytes) => Header::decode(&bytes)
            .map(Some)
            .map_err(|r| file_error(path, r)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(file_error(path, format!("cannot read it: {e}"))),
    }
}

type Map = BTreeMap<String, BTreeMap<String, Credentials>>;

/// The encrypted file as a `SessionStore`. Holds the unlocked key; every
/// change is a read-modify-write under a lock file, so two secinfo processes
/// do not lose each other's updates.
pub struct FileStore {
    path: PathBuf,
    header: Header,
    key: FileKey,
    info: StoreInfo,
    local: Mutex<()>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl FileStore {
    /// Open an existing file with `key`, or create an empty one with `header`
    /// when there is none. Fails with `WrongPassphrase` when the key does not
    /// fit, and with a `File` error when the file is damaged.
    pub fn open_or_create(
        path: impl Into<PathBuf>,
        header: Header,
        key: FileKey,
        info: StoreInfo,
    ) -> Result<Self, SecretsError> {
        let path = path.into();
        let store = Self {
            path,
            header,
            key,
            info,
            local: Mutex::new(()),
        };
        match read_header(&store.path)? {
            Some(on_disk) => {
                if !on_disk.accepts(&store.key) {
                    return Err(SecretsError::WrongPassphrase);
                }
                let store = Self {
                    header: on_disk,
                    ..store
                };
                store.read_map()?;
                Ok(store)
            }
            None => {
                if !store.header.accepts(&store.key) {
                    return Err(SecretsError::WrongPassphrase);
                }
                store.write_map(&Map::new())?;
                Ok(store)
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    fn read_map(&self) -> Result<Map, SecretsError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
            Err(e) => return Err(file_error(&self.path, format!("cannot read it: {e}"))),
        };
        let header = Header::decode(&bytes).map_err(|r| file_error(&self.path, r))?;
        if !header.accepts(&self.key) {
            return Err(SecretsError::WrongPassphrase);
        }
        let (aad, rest) = bytes.split_at(HEADER_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&self.key[..]));
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                file_error(
                    &self.path,
                    "it is damaged: its contents fail the integrity check",
                )
            })?;
        serde_json::from_slice(&plain)
            .map_err(|_| file_error(&self.path, "it decrypts but its contents are not readable"))
    }

    /// Write to a private temp file beside the target, then rename over it:
    /// a crash or full disk leaves the old file intact.
    fn write_map(&self, map: &Map) -> Result<(), SecretsError> {
        let plain = Zeroizing::new(
            serde_json::to_vec(map)
                .map_err(|e| file_error(&self.path, format!("cannot encode: {e}")))?,
        );
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = self.header.encode();
        let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&self.key[..]));
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .map_err(|_| file_error(&self.path, "encryption failed"))?;

        let dir = self.path.parent().unwrap_or(Path::new("."));
        crate::paths::ensure_private_dir(dir)
            .map_err(|e| file_error(&self.path, format!("cannot create its folder: {e}")))?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}-{:08x}",
            self.path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("secrets"),
            std::process::id(),
            rand::random::<u32>()
        ));
        let result = (|| -> std::io::Result<()> {
            let mut f = private_create(&tmp)?;
            f.write_all(&aad)?;
            f.write_all(&nonce)?;
            f.write_all(&ciphertext)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(file_error(
                &self.path,
                format!("cannot write it (the previous version is kept): {e}"),
            ));
        }
        Ok(())
    }

    fn update(&self, change: impl FnOnce(&mut Map)) -> Result<(), SecretsError> {
        let _local = self.local.lock().unwrap_or_else(|p| p.into_inner());
        let _lock = self.lock_file()?;
        let mut map = self.read_map()?;
        change(&mut map);
        self.write_map(&map)
    }

    /// An exclusive lock on `<file>.lock`, held for one read-modify-write.
    fn lock_file(&self) -> Result<File, SecretsError> {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        let f = private_create_or_open(Path::new(&name))
            .map_err(|e| file_error(&self.path, format!("cannot lock it: {e}")))?;
        f.lock()
            .map_err(|e| file_error(&self.path, format!("cannot lock it: {e}")))?;
        Ok(f)
    }
}

fn private_create(path: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

fn private_create_or_open(path: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

impl SessionStore for FileStore {
    fn load(&self, profile: &str, username: &str) -> Result<Option<Credentials>, SecretsError> {
        let _local = self.local.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.read_map()?;
        Ok(map
            .get_mut(profile)
            .and_then(|users| users.remove(username)))
    }

    fn save(
        &self,
        profile: &str,
        username: &str,
        credentials: &Credentials,
    ) -> Result<(), SecretsError> {
        self.update(|map| {
            map.entry(profile.to_string())
                .or_default()
                .insert(username.to_string(), credentials.clone());
        })
    }

    fn forget(&self, profile: &str, username: &str) -> Result<(), SecretsError> {
        self.update(|map| {
            if let Some(users) = map.get_mut(profile) {
                users.remove(username);
                if users.is_empty() {
                    map.remove(profile);
                }
            }
        })
    }

    fn info(&self) -> StoreInfo {
        self.info.clone()
    }
}

/// A new random file id (salt).
pub fn new_file_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut id);
    id
}
