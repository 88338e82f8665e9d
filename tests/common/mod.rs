//! Shared by the CLI journey tests: a real reference server on an ephemeral
//! loopback port over a temp SQLite file, a config pointing at it, and the
//! real `secinfo` binary run with its own config, data and state dirs.
#![allow(dead_code)]

use secinfo::secrets::SecretString;
use secinfo::server::{self, RunningServer, Settings, admin};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
    let mut child = Command::new(env!("CARGO_BIN_EXE_secinfo"))
        .args(args)
        .env("SECINFO_CONFIG", config)
        .env("SECINFO_DATA_DIR", home.join("data"))
        .env("SECINFO_STATE_DIR", home.join("state"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("SECINFO_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn totp_now(uri: &str) -> String {
    let totp = totp_rs::Totp::from_url_unchecked(uri).unwrap();
    totp.generate_current().to_string()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
