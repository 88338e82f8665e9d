//! Shared by the CLI journey tests: a real reference server on an ephemeral
//! loopback port over a temp SQLite file, a config pointing at it, and the
//! real `secinfo` binary run with its own config, data and state dirs.
#![allow(dead_code)]

use secinfo::secrets::SecretString;
use secinfo::server::{self, RunningServer, Settings, admin};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct World {
    pub dir: tempfile::TempDir,
    pub server: RunningServer,
    pub db: PathBuf,
}

pub const PASSWORD: &str = "a-long-test-password";

impl World {
    pub async fn start() -> World {
        Self::start_with(Settings::default()).await
    }

    pub async fn start_with(settings: Settings) -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.db");
        let server = server::spawn(&db, settings).await.unwrap();
        let world = World { dir, server, db };
        world.write_config(&format!(
            "[profiles.test]\nbackend = \"native\"\nurl = \"{}\"\nsecret_store = \"passphrase\"\ntimeout_secs = 5\n",
            world.server.url
        ));
        std::fs::write(
            world.passphrase_file(),
            "test passphrase for the secret file\n",
        )
        .unwrap();
        world
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn passphrase_file(&self) -> PathBuf {
        self.dir.path().join("passphrase")
    }

    /// A user with a password and an authenticator code app; returns the otpauth URI.
    pub fn user_with_totp(&self, username: &str) -> String {
        admin::add_user(
            &self.db,
            username,
            "Test User",
            &SecretString::new(PASSWORD),
        )
        .unwrap();
        let (_, uri) =
            admin::add_totp(&self.db, username, "Authenticator", &Settings::default()).unwrap();
        uri.expose().to_string()
    }

    /// The `secinfo` binary with this world's dirs; `stdin` is fed in full.
    pub fn secinfo(&self, args: &[&str], stdin: &str) -> Output {
        run_secinfo(self.dir.path(), &self.config_path(), args, stdin)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        command(self.dir.path(), &self.config_path(), args)
    }

    /// Sign in through the CLI: password, the TOTP option, the current code.
    pub fn login(&self, username: &str, uri: &str) -> Output {
        let pass = format!("@{}", self.passphrase_file().display());
        let code = totp_now(uri);
        // Choose the authenticator code method: it is the only option, so the default.
        self.secinfo(
            &["login", "--username", username, "--passphrase-from", &pass],
            &format!("{PASSWORD}\n\n{code}\n"),
        )
    }

    /// Args for a signed-in command: the passphrase file.
    pub fn pass_arg(&self) -> String {
        format!("@{}", self.passphrase_file().display())
    }
}

pub fn run_secinfo(home: &Path, config: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = command(home, config, args).spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The binary with this home's dirs, all pipes open.
pub fn command(home: &Path, config: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_secinfo"));
    c.args(args)
        .env("SECINFO_CONFIG", config)
        .env("SECINFO_DATA_DIR", home.join("data"))
        .env("SECINFO_STATE_DIR", home.join("state"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("SECINFO_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

pub fn totp_now(uri: &str) -> String {
    let totp = totp_rs::Totp::from_url_unchecked(uri).unwrap();
    totp.generate_current().to_string()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Collects a child's stderr as it comes, so a test can wait for a line.
pub struct Live {
    pub child: Child,
    pub err: Arc<Mutex<String>>,
    /// Stdout as it comes, when started with `start_with_stdout`.
    pub out: Arc<Mutex<String>>,
}

fn collect(mut reader: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let sink = Arc::new(Mutex::new(String::new()));
    let into = sink.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        // A read can end mid-character (QR half blocks are 3 bytes): keep the tail for the next one.
        let mut pending = Vec::new();
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            pending.extend_from_slice(&buf[..n]);
            let upto = match std::str::from_utf8(&pending) {
                Ok(_) => pending.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(_) => pending.len(),
            };
            let done: Vec<u8> = pending.drain(..upto).collect();
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&done));
        }
    });
    sink
}

impl Live {
    /// Collect stderr as it comes; stdout stays with the child for `wait_with_output`.
    pub fn start(mut child: Child) -> Live {
        let err = collect(child.stderr.take().unwrap());
        Live {
            child,
            err,
            out: Arc::default(),
        }
    }

    /// Like `start`, and stdout is collected live too (for text printed before a prompt).
    pub fn start_with_stdout(mut child: Child) -> Live {
        let out = collect(child.stdout.take().unwrap());
        let err = collect(child.stderr.take().unwrap());
        Live { child, err, out }
    }

    pub fn wait_for_out(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let seen = self.out.lock().unwrap().clone();
            if seen.contains(needle) {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {needle:?} on stdout; so far:\n{seen}\nstderr:\n{}",
                self.err.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait for the process to end; its exit status.
    pub fn finish(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader threads drain what is left.
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the process did not end; stderr:\n{}",
                self.err.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The number the signing-in screen shows for the phone.
    pub fn number_to_match(&self) -> String {
        let marker = "Number to match: ";
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let seen = self.wait_for(marker);
            let number: String = seen
                .rsplit(marker)
                .next()
                .unwrap()
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if seen.rsplit(marker).next().unwrap().contains('\n') && !number.is_empty() {
                return number;
            }
            assert!(Instant::now() < deadline, "no number in: {seen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let seen = self.err.lock().unwrap().clone();
            if seen.contains(needle) {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {needle:?}; stderr so far:\n{seen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The 6-digit code in the newest message of `channel` in the server's outbox.
pub fn last_code(db: &Path, channel: &str) -> String {
    let mail = secinfo::server::outbox(db, None).unwrap();
    let last = mail
        .iter()
        .rev()
        .find(|m| m.channel == channel)
        .expect("a code was sent");
    last.body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code")
        .to_string()
}

/// The live privacyIDEA's URL, realm and the test users' password: from the
/// environment (`./scripts/test` sets it) or the file `scripts/privacyidea/up` wrote.
pub fn privacyidea_env() -> (String, String, String) {
    let file = std::env::var_os("PI_ENV_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/privacyidea-run/env")
        });
    let mut vars: std::collections::HashMap<String, String> = std::fs::read_to_string(&file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim_matches('"').to_string()))
        .collect();
    for (k, v) in std::env::vars().filter(|(k, _)| k.starts_with("PI_")) {
        vars.insert(k, v);
    }
    let get = |k: &str| {
        vars.get(k).cloned().unwrap_or_else(|| {
            panic!(
                "{k} is not set: privacyIDEA is not running for the live tests. Run ./scripts/test, \
                 or scripts/privacyidea/up and set -a; . target/privacyidea-run/env"
            )
        })
    };
    (get("PI_URL"), get("PI_REALM"), get("PI_PASSWORD"))
}

/// What secinfo printed in a leak scan, by command; `run` adds to it.
#[derive(Default)]
pub struct Printed {
    pub stderr: Vec<(String, String)>,
    pub stdout: Vec<(String, String)>,
}

impl Printed {
    /// `cmd` at TRACE (with a backtrace on a panic), run to the end with
    /// `stdin`; what it printed is kept under `name`, and it must succeed.
    pub fn run(&mut self, name: String, mut cmd: Command, stdin: &str) -> Output {
        cmd.env("SECINFO_LOG", "trace")
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "1");
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        self.stderr.push((name.clone(), text(&out.stderr)));
        self.stdout.push((name.clone(), text(&out.stdout)));
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        out
    }
}
