//! Shared by the tests/secrets_*.rs journeys: options for a temp data dir,
//! a prompter that records what it was asked, and re-running one test in a
//! child process (a "later run" of secinfo, or a run in another environment).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use secinfo::backend::Credentials;
use secinfo::secrets::{PassphraseSource, SecretString, StoreChoice, StoreOptions};

pub const PROFILE: &str = "work";
pub const USER: &str = "alice@example.org";

/// Tokens that are easy to grep for in files.
pub fn tokens(tag: &str) -> Credentials {
    Credentials {
        access_token: Some(format!("access-{tag}-PLAINTEXT-MARKER")),
        refresh_token: Some(format!("refresh-{tag}-PLAINTEXT-MARKER")),
        remembered_grant: Some(format!("grant-{tag}-PLAINTEXT-MARKER")),
        access_expires_at: Some(1_900_000_000),
    }
}

/// A passphrase file, as a script would keep it (first line, newline ends it).
pub fn passphrase_file(dir: &Path, passphrase: &str) -> PathBuf {
    let p = dir.join("passphrase.txt");
    std::fs::write(&p, format!("{passphrase}\n")).unwrap();
    p
}

/// Records every prompt and answers from a list; panics if asked more.
#[derive(Clone, Default)]
pub struct ScriptedPrompter {
    pub asked: Arc<Mutex<Vec<String>>>,
    answers: Arc<Mutex<Vec<String>>>,
}

impl ScriptedPrompter {
    pub fn answering(answers: &[&str]) -> Self {
        let s = Self::default();
        s.answers
            .lock()
            .unwrap()
            .extend(answers.iter().rev().map(|a| a.to_string()));
        s
    }
    pub fn times_asked(&self) -> usize {
        self.asked.lock().unwrap().len()
    }
    pub fn install(&self, opts: &mut StoreOptions) {
        let me = self.clone();
        opts.prompter = Arc::new(move |text: &str| {
            me.asked.lock().unwrap().push(text.to_string());
            match me.answers.lock().unwrap().pop() {
                Some(a) => Ok(SecretString::new(a)),
                None => Err(std::io::Error::other(
                    "the test did not expect another prompt",
                )),
            }
        });
    }
}

/// Passphrase-only options on `dir`, non-interactive, with a prompter that
/// fails if it is used.
pub fn passphrase_opts(dir: &Path, source: PassphraseSource) -> StoreOptions {
    let mut o = StoreOptions::new(dir);
    o.choice = StoreChoice::Passphrase;
    o.passphrase = source;
    o.interactive = false;
    ScriptedPrompter::default().install(&mut o);
    o
}

/// The role this process plays when a test re-runs itself as a child.
pub fn child_role() -> Option<String> {
    std::env::var("SECINFO_SECRETS_TEST_ROLE").ok()
}

/// Run the test `name` of this test binary again in a child process with
/// `role` set, optionally under a wrapper command (e.g. `dbus-run-session --`).
pub fn run_child(
    name: &str,
    role: &str,
    envs: &[(&str, &str)],
    remove: &[&str],
    wrapper: &[&str],
) -> Output {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("SECINFO_SECRETS_TEST_ROLE", role);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    for k in remove {
        cmd.env_remove(k);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "child {name}/{role} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn which(cmd: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(cmd))
        .find(|p| p.is_file())
}

/// Give the calling thread a fresh session keyring, as a login does
/// (pam_keyinit). Kernel credentials are per thread, so other tests running
/// in parallel keep theirs; child processes spawned from here inherit it.
pub fn join_new_session_keyring() -> bool {
    // KEYCTL_JOIN_SESSION_KEYRING = 1; a NULL name makes an anonymous keyring.
    let r = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            1 as libc::c_long,
            std::ptr::null::<libc::c_char>(),
        )
    };
    r >= 0
}

/// Revoke the calling thread's session keyring: what a process left running
/// after an SSH logout sees (pam_keyinit `revoke`).
pub fn revoke_session_keyring() -> bool {
    // KEYCTL_REVOKE = 3, KEY_SPEC_SESSION_KEYRING = -3
    let r = unsafe { libc::syscall(libc::SYS_keyctl, 3 as libc::c_long, -3 as libc::c_long) };
    r == 0
}
