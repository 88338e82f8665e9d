//! The server key: 32 random bytes in a file beside the database
//! (`<db>.key`, owner-only), never in it. A copy of the database alone (a
//! backup, a dump, a stolen file) then holds no usable TOTP secret and no
//! recovery code that can be tested offline:
//! - TOTP secrets are sealed with XChaCha20-Poly1305 (`v1:` + base64 of
//!   nonce and ciphertext);
//! - recovery codes are stored as HMAC-SHA256 under the key (`h1:` + hex).
//!
//! A file rather than a table: a key kept in the same database would leak
//! with it. The price is that the key file must be backed up with the
//! database; without it the sealed secrets cannot be read, so start-up
//! refuses to invent a new key while sealed data exists.

use super::error::{ApiError, ApiResult, Result, ServerError};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use rusqlite::Connection;
use sha2::Sha256;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use zeroize::Zeroizing;

const SEALED: &str = "v1:";
const MACED: &str = "h1:";
const AAD: &[u8] = b"secinfo server secret v1";

pub struct ServerKey(Zeroizing<[u8; 32]>);

/// Where the key of the database at `db` lives.
pub fn key_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

fn cache() -> &'static Mutex<HashMap<PathBuf, Arc<ServerKey>>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<ServerKey>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The key of the database this connection is open on.
pub fn for_conn(conn: &Connection) -> ApiResult<Arc<ServerKey>> {
    let path = conn
        .path()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::internal("a database without a file has no server key"))?;
    load(Path::new(path), false).map_err(ApiError::from)
}

/// Read the key, creating it when `create` (the first start of a database).
pub fn load(db: &Path, create: bool) -> Result<Arc<ServerKey>> {
    let db = std::fs::canonicalize(db)?;
    let path = key_path(&db);
    // Trust the cache only while the file is there: `secinfo demo reset`
    // removes database and key together, and a new world gets a new key.
    if let Some(key) = cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&db)
        .filter(|_| path.exists())
    {
        return Ok(key.clone());
    }
    let key = match read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => make(&path)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ServerError::Invalid(format!(
                "the server key {} is missing: restore it from the backup of this database \
                 (the TOTP secrets in it cannot be read without it)",
                path.display()
            )));
        }
        other => other?,
    };
    let key = Arc::new(key);
    cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(db, key.clone());
    Ok(key)
}

fn read(path: &Path) -> std::io::Result<ServerKey> {
    let text = Zeroizing::new(std::fs::read_to_string(path)?);
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), &mut bytes[..]).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is not a server key (64 hex digits)", path.display()),
        )
    })?;
    Ok(ServerKey(bytes))
}

/// A new random key, written to a private temporary file and then linked
/// into place: of two processes starting at once, one key wins and both use it.
fn make(path: &Path) -> Result<ServerKey> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::thread_rng().fill_bytes(&mut bytes[..]);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let tmp = PathBuf::from(tmp);
    let written = write_private(&tmp, &Zeroizing::new(hex::encode(&bytes[..])));
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(ServerKey(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(read(path)?),
        Err(e) => Err(e.into()),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

impl ServerKey {
    /// HMAC-SHA256 of `data` under this key, for `purpose` (so one key
    /// serves several uses without their values ever matching).
    pub fn mac(&self, purpose: &str, data: &str) -> String {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.0[..])
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data.as_bytes());
        format!("{MACED}{}", hex::encode(mac.finalize().into_bytes()))
    }

    pub fn seal(&self, plaintext: &str) -> ApiResult<String> {
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: AAD,
                },
            )
            .map_err(|_| ApiError::internal("sealing a secret failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        use base64::Engine;
        Ok(format!(
            "{SEALED}{}",
            base64::engine::general_purpose::STANDARD.encode(out)
        ))
    }

    pub fn open(&self, sealed: &str) -> ApiResult<Zeroizing<String>> {
        use base64::Engine;
        let unreadable =
            || ApiError::internal("a sealed secret cannot be opened with this server key");
        let raw = sealed
            .strip_prefix(SEALED)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|raw| raw.len() > 24)
            .ok_or_else(unreadable)?;
        let (nonce, ciphertext) = raw.split_at(24);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: AAD,
                },
            )
            .map_err(|_| unreadable())?;
        String::from_utf8(plain)
            .map(Zeroizing::new)
            .map_err(|_| unreadable())
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&self.0[..]))
    }
}

/// Bring rows written before the key existed up to date (inside the
/// migration's transaction): seal plain TOTP secrets, and key the plain
/// SHA-256 recovery code hashes (an HMAC over the old hash, so no code has
/// to be known).
pub fn upgrade_rows(conn: &Connection, db: &Path) -> Result<()> {
    let sealed_rows: i64 = conn.query_row(
        "SELECT (SELECT COUNT(*) FROM methods WHERE secret LIKE 'v1:%')
              + (SELECT COUNT(*) FROM enrollments WHERE secret LIKE 'v1:%')
              + (SELECT COUNT(*) FROM recovery_codes WHERE code_hash LIKE 'h1:%')",
        [],
        |r| r.get(0),
    )?;
    let key = load(db, sealed_rows == 0)?;
    for table in ["methods", "enrollments"] {
        let plain: Vec<(String, String)> = conn
            .prepare(&format!(
                "SELECT id, secret FROM {table} WHERE secret IS NOT NULL AND secret NOT LIKE 'v1:%'"
            ))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (id, secret) in plain {
            let sealed = key
                .seal(&secret)
                .map_err(|e| ServerError::Invalid(e.message))?;
            conn.execute(
                &format!("UPDATE {table} SET secret = ?2 WHERE id = ?1"),
                rusqlite::params![id, sealed],
            )?;
        }
    }
    let plain: Vec<(i64, String)> = conn
        .prepare("SELECT id, code_hash FROM recovery_codes WHERE code_hash NOT LIKE 'h1:%'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, old) in plain {
        conn.execute(
            "UPDATE recovery_codes SET code_hash = ?2 WHERE id = ?1",
            rusqlite::params![id, key.mac(RECOVERY, &old)],
        )?;
    }
    Ok(())
}

/// The purpose recovery codes are keyed under (over the SHA-256 of the code).
pub const RECOVERY: &str = "recovery code";

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ServerKey {
        ServerKey(Zeroizing::new([7u8; 32]))
    }

    #[test]
    fn a_sealed_secret_opens_with_its_key_only() {
        let sealed = key().seal("JBSWY3DPEHPK3PXP").unwrap_or_default();
        assert!(sealed.starts_with("v1:") && !sealed.contains("JBSWY3DP"));
        assert_eq!(
            key().open(&sealed).map(|s| s.to_string()).ok().as_deref(),
            Some("JBSWY3DPEHPK3PXP")
        );
        let other = ServerKey(Zeroizing::new([8u8; 32]));
        assert!(other.open(&sealed).is_err());
        assert!(
            key().open("JBSWY3DPEHPK3PXP").is_err(),
            "plain text is not accepted"
        );
    }

    #[test]
    fn hmac_matches_rfc_4231_and_depends_on_the_purpose() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(b"Jefe")
            .unwrap_or_else(|_| unreachable!());
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_ne!(key().mac("a", "x"), key().mac("b", "x"));
    }
}
