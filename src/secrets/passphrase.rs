//! Where a passphrase comes from, and the key derived from it.
//! A passphrase is never taken from an argument value or an environment
//! variable (both are visible to other users via /proc or `ps`): it is typed,
//! or read from a file (`@FILE`) or an inherited descriptor (`fd:N`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zeroize::Zeroizing;

use super::file::{FileKey, KdfParams};
use super::{SecretString, SecretsError};

/// The longest passphrase read from a file or descriptor.
const MAX_LEN: u64 = 4096;

/// How to get the passphrase when one is needed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PassphraseSource {
    /// Ask on the terminal, without echo.
    #[default]
    Prompt,
    /// The first line of this file.
    File(PathBuf),
    /// The first line read from this inherited file descriptor.
    Fd(i32),
}

impl PassphraseSource {
    /// `@/path/to/file` or `fd:N`. Anything else is refused, so a passphrase
    /// typed as an argument by mistake is not used (and not echoed back).
    pub fn parse(s: &str) -> Result<Self, SecretsError> {
        if let Some(path) = s.strip_prefix('@') {
            if path.is_empty() {
                return Err(bad_source(
                    "`@` must be followed by a file name, e.g. @/run/user/1000/secinfo-pass",
                ));
            }
            return Ok(Self::File(PathBuf::from(path)));
        }
        if let Some(n) = s.strip_prefix("fd:") {
            return match n.parse::<i32>() {
                Ok(fd) if fd >= 0 => Ok(Self::Fd(fd)),
                _ => Err(bad_source(
                    "`fd:` must be followed by a descriptor number, e.g. fd:3",
                )),
            };
        }
        Err(bad_source(
            "give the passphrase as @FILE or fd:N, never as the value itself",
        ))
    }

    /// Read the passphrase from a file or descriptor; `None` for `Prompt`.
    pub fn read_non_interactive(&self) -> Option<Result<SecretString, SecretsError>> {
        match self {
            Self::Prompt => None,
            Self::File(path) => Some(read_first_line(
                path,
                &format!("the passphrase file {}", path.display()),
            )),
            Self::Fd(fd) => Some(read_first_line(
                &fd_path(*fd),
                &format!("file descriptor {fd}"),
            )),
        }
    }
}

fn bad_source(msg: &str) -> SecretsError {
    SecretsError::Unavailable(format!("passphrase source: {msg}"))
}

/// Reopening the descriptor by path needs no unsafe code and leaves the
/// inherited descriptor itself untouched.
fn fd_path(fd: i32) -> PathBuf {
    if cfg!(target_os = "linux") {
        PathBuf::from(format!("/proc/self/fd/{fd}"))
    } else {
        PathBuf::from(format!("/dev/fd/{fd}"))
    }
}

// Unbuffered on purpose: a buffer would swallow bytes past the newline
// that belong to whoever reads the descriptor next.
#[allow(clippy::unbuffered_bytes)]
fn read_first_line(path: &Path, what: &str) -> Result<SecretString, SecretsError> {
    let f = std::fs::File::open(path)
        .map_err(|e| SecretsError::Unavailable(format!("cannot read {what}: {e}")))?;
    // Byte by byte up to the newline, so a writer that keeps its end open
    // (a script feeding a pipe) does not make us wait for EOF.
    let mut line = Zeroizing::new(Vec::new());
    for byte in f.take(MAX_LEN + 1).bytes() {
        let b = byte.map_err(|e| SecretsError::Unavailable(format!("cannot read {what}: {e}")))?;
        if b == b'\n' {
            break;
        }
        line.push(b);
    }
    if line.len() as u64 > MAX_LEN {
        return Err(SecretsError::Unavailable(format!(
            "{what} holds more than {MAX_LEN} bytes on its first line"
        )));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    let text = std::str::from_utf8(&line)
        .map_err(|_| SecretsError::Unavailable(format!("{what} is not UTF-8 text")))?;
    if text.is_empty() {
        return Err(SecretsError::Unavailable(format!(
            "{what} holds an empty passphrase"
        )));
    }
    Ok(SecretString::new(text))
}

/// Asks for a passphrase with this prompt text. Injectable so tests and the
/// TUI can supply their own; the default reads the terminal without echo.
pub type Prompter = Arc<dyn Fn(&str) -> std::io::Result<SecretString> + Send + Sync>;

/// Read from the controlling terminal (`/dev/tty`), echo off.
pub fn terminal_prompter() -> Prompter {
    Arc::new(|prompt: &str| rpassword::prompt_password(prompt).map(SecretString::new))
}

/// Argon2id(passphrase, salt) → 32-byte key.
pub fn derive_key(
    passphrase: &SecretString,
    salt: &[u8; 16],
    params: KdfParams,
) -> Result<FileKey, SecretsError> {
    let p = argon2::Params::new(params.m_cost, params.t_cost, params.p_cost, Some(32)).map_err(
        |e| SecretsError::Unavailable(format!("key derivation parameters rejected: {e}")),
    )?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.expose().as_bytes(), salt, key.as_mut())
        .map_err(|e| SecretsError::Unavailable(format!("key derivation failed: {e}")))?;
    Ok(key)
}
