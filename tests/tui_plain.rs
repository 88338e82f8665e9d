// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! `--plain` against the real reference server: a transcript read top to
//! bottom, numbered choices, "Enter a number:" prompts, no escape codes.

mod server_support;
mod tui_support;

use secinfo::accounts::KnownAccounts;
use secinfo::app::keymap::Keymap;
use secinfo::app::state::DemoInfo;
use secinfo::backend::native::NativeBackend;
use secinfo::config::ThemeName;
use secinfo::secrets::NoStore;
use secinfo::server::Settings;
use secinfo::tui::Context;
use server_support::World;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Session {
    out: Shared,
    seen: usize,
    input: Option<std::io::PipeWriter>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Session {
    fn start(world: &World, state_dir: &std::path::Path) -> Session {
        Self::start_with(
            world,
            state_dir,
            Arc::new(NoStore {
                reason: "tests keep nothing".into(),
            }),
        )
    }

    fn start_with(
        world: &World,
        state_dir: &std::path::Path,
        store: Arc<dyn secinfo::secrets::SessionStore>,
    ) -> Session {
        Self::start_ctx(world, state_dir, store, None)
    }

    /// The demo: its banner, and its simulated phone offered where a phone would approve.
    fn start_demo(world: &World, state_dir: &std::path::Path) -> Session {
        let demo = DemoInfo {
            username: world.demo.username.clone(),
            password: world.demo.password.clone(),
            db_path: world.db.clone(),
            phone_dir: world.phone_dir.clone(),
        };
        let store = Arc::new(NoStore {
            reason: "tests keep nothing".into(),
        });
        Self::start_ctx(world, state_dir, store, Some(demo))
    }

    fn start_ctx(
        world: &World,
        state_dir: &std::path::Path,
        store: Arc<dyn secinfo::secrets::SessionStore>,
        demo: Option<DemoInfo>,
    ) -> Session {
        let backend = NativeBackend::new(
            &world.server.url,
            "plain-test",
            "secinfo plain test",
            Duration::from_secs(10),
        )
        .unwrap();
        let ctx = Context {
            backend: Arc::new(backend),
            store,
            profile: "test".into(),
            server_url: world.server.url.clone(),
            demo,
            accounts: KnownAccounts::load(&state_dir.join("accounts.json")),
            keymap: Keymap::default(),
            theme: ThemeName::Default,
            start: secinfo::app::Start::SignIn,
        };
        let (reader, writer) = std::io::pipe().unwrap();
        let out = Shared::default();
        let sink = out.clone();
        let task = tokio::spawn(async move {
            secinfo::plain::run_with(
                ctx,
                std::io::BufReader::new(reader),
                sink,
                secinfo::plain::Secrets::FromInput,
            )
            .await
        });
        Session {
            out,
            seen: 0,
            input: Some(writer),
            task,
        }
    }

    fn text(&self) -> String {
        String::from_utf8(self.out.0.lock().unwrap().clone()).unwrap()
    }

    /// Waits for `needle` after what was already read; returns the new text up to it.
    async fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let all = self.text();
            if let Some(i) = all[self.seen..].find(needle) {
                let got = all[self.seen..self.seen + i + needle.len()].to_string();
                self.seen += i + needle.len();
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {needle:?}; transcript:\n{all}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn send(&mut self, line: &str) {
        let w = self.input.as_mut().unwrap();
        writeln!(w, "{line}").unwrap();
    }

    async fn finish(mut self) -> String {
        self.input.take();
        let text = self.out.clone();
        self.task.await.unwrap().unwrap();
        String::from_utf8(text.0.lock().unwrap().clone()).unwrap()
    }
}

/// The number in front of the choice named `label` (else the first containing it).
fn number_of(text: &str, label: &str) -> String {
    let choices: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.split_once(". "))
        .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        .collect();
    let exact = choices.iter().find(|(_, rest)| *rest == label);
    exact
        .or_else(|| choices.iter().find(|(_, rest)| rest.contains(label)))
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| panic!("no choice {label:?} in:\n{text}"))
}

fn latest_code(world: &World) -> String {
    let sent = secinfo::server::outbox(&world.db, None).unwrap();
    let body = &sent.last().expect("a code was sent").body;
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() >= 6)
        .expect("a code in the message")
        .to_string()
}

async fn sign_in_by_email(s: &mut Session, world: &World, remember: &str) {
    s.expect("Username:").await;
    s.send(&world.demo.username);
    s.expect("Password:").await;
    s.send(&world.demo.password);
    let choices = s.expect("Enter a number:").await;
    assert!(choices.contains("Verify your identity"), "{choices}");
    s.send(&number_of(&choices, "mail"));
    s.expect("Enter y or n:").await;
    s.send(remember);
    s.expect("Enter the code").await;
    s.send(&latest_code(world));
    s.expect("Signed in as").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_plain_demo_the_simulated_phone_adds_the_authenticator_app_and_approves_sign_ins() {
    let world = World::start(Settings::default()).await;
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start_demo(&world, state.path());
    s.expect("This is the demo").await;
    sign_in_by_email(&mut s, &world, "n").await;
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Add sign-in method"));
    let kinds = s.expect("Enter a number:").await;
    s.send(&number_of(&kinds, "Authenticator app"));
    s.expect("A name for it in your list").await;
    s.send("");
    s.expect("Activate the demo's simulated phone with it? Enter y or n:")
        .await;
    s.send("y");
    let asked = s
        .expect("Approve it on the demo's simulated phone? Enter y or n:")
        .await;
    assert!(asked.contains("Number to match: "), "{asked}");
    s.send("y");
    let added = s.expect("Added Authenticator app").await;
    assert!(
        added.contains("Waiting for approval…\nWaiting for approval… approved\n"),
        "the test notification's wait and its outcome, as lines: {added}"
    );

    // Signing in again: the push is approved on the same simulated phone.
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Sign out"));
    let picker = s.expect("Enter a number:").await;
    s.send(&number_of(&picker, &world.demo.username));
    s.expect("Password:").await;
    s.send(&world.demo.password);
    let choices = s.expect("Enter a number:").await;
    s.send(&number_of(&choices, "Approve a request on Simulated phone"));
    s.expect("Enter y or n:").await;
    s.send("n");
    let asked = s
        .expect("Approve it on the demo's simulated phone? Enter y or n:")
        .await;
    assert!(
        asked.contains("enter this number to sign in.\nNumber to match: "),
        "{asked}"
    );
    s.send("y");
    s.expect("Signed in as").await;
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Quit"));
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_reader_user_signs_in_with_an_emailed_code_and_reads_security_info() {
    let world = World::start(Settings::default()).await;
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start(&world, state.path());
    sign_in_by_email(&mut s, &world, "n").await;
    let home = s.expect("Enter a number:").await;
    assert!(
        home.contains("Your sign-in will not be kept: "),
        "the store's refusal is said once: {home}"
    );
    let last_choice = home
        .lines()
        .rev()
        .find(|l| {
            l.split_once(". ")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        })
        .unwrap();
    assert!(last_choice.ends_with(". Quit"), "Quit comes last: {home}");
    let order = [
        "Security info",
        "Default sign-in method: ",
        "Your sign-in methods (",
        "What would you like to do?",
        "1. Change default sign-in method",
        "Enter a number:",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|t| {
            home.find(t)
                .unwrap_or_else(|| panic!("{t:?} missing:\n{home}"))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "reads top to bottom:\n{home}"
    );
    s.send(&number_of(&home, "Sessions"));
    let sessions = s.expect("Enter a number:").await;
    assert!(sessions.contains("(this session)"), "{sessions}");
    s.send(&number_of(&sessions, "Back"));
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Recent activity"));
    let activity = s.expect("Enter a number:").await;
    let newest = activity
        .lines()
        .skip_while(|l| !l.starts_with("Recent activity, newest first"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        newest.contains(": Signed in, from secinfo") && newest.contains(", with Email"),
        "one line says who signed in, from where and how: {activity}"
    );
    s.send("99");
    s.expect("Please enter a number from 1 to").await;
    s.send(&number_of(&home, "Quit"));
    let all = s.finish().await;
    if std::env::var_os("SHOW_TRANSCRIPT").is_some() {
        eprintln!("{all}");
    }
    assert!(!all.contains('\u{1b}'), "no escape codes");
    assert!(
        !all.contains(&world.demo.password),
        "the password is not echoed back"
    );
    assert!(
        !all.chars().any(|c| ('\u{2500}'..='\u{259f}').contains(&c)),
        "no drawing characters"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_everywhere_in_plain_mode_returns_to_the_account_list() {
    let world = World::start(Settings::default()).await;
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start(&world, state.path());
    sign_in_by_email(&mut s, &world, "n").await;
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Sign out everywhere"));
    let ask = s.expect("to confirm, or press Enter to cancel:").await;
    assert!(ask.contains("asks for a second factor"), "{ask}");
    s.send("sign out everywhere");
    s.expect("Signed out everywhere.").await;
    let picker = s.expect("Enter a number:").await;
    assert!(
        picker.contains("choose the account you want to sign in with")
            || picker.contains("Choose the account"),
        "{picker}"
    );
    assert!(picker.contains(&world.demo.username), "{picker}");
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_remembered_sign_in_a_change_asks_the_second_factor_again() {
    let world = World::start(Settings::default()).await;
    let state = tempfile::tempdir().unwrap();
    let store = Arc::new(tui_support::MemoryStore::default());
    let mut s = Session::start_with(&world, state.path(), store);
    sign_in_by_email(&mut s, &world, "y").await;
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Sign out"));
    let picker = s.expect("Enter a number:").await;
    s.send(&number_of(&picker, &world.demo.username));
    s.expect("Password:").await;
    s.send(&world.demo.password);
    let signed = s.expect("Signed in as").await;
    assert!(
        !signed.contains("Verify your identity"),
        "remembered: no second factor:\n{signed}"
    );
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Delete a sign-in method"));
    let which = s.expect("Enter a number:").await;
    s.send(&number_of(&which, "Email"));
    s.expect("Type delete to confirm").await;
    s.send("delete");
    s.expect("This change needs you to confirm it is you.")
        .await;
    let choices = s.expect("Enter a number:").await;
    s.send(&number_of(&choices, "Text"));
    s.expect("Enter the code").await;
    s.send(&latest_code(&world));
    s.expect("Verified.").await;
    s.expect("Deleted Email").await;
    let home = s.expect("Enter a number:").await;
    assert!(
        !home.contains("Email a"),
        "the email method is gone:\n{home}"
    );
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_reader_user_adds_a_code_app_from_the_key_as_text_and_manages_app_passwords() {
    let world = World::start(Settings::default()).await;
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start(&world, state.path());
    sign_in_by_email(&mut s, &world, "n").await;
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Add sign-in method"));
    let kinds = s.expect("Enter a number:").await;
    assert!(
        kinds.contains("Which method would you like to add?"),
        "{kinds}"
    );
    assert!(
        kinds.contains("Security key (not available: "),
        "unavailable kinds say why: {kinds}"
    );
    s.send(&number_of(&kinds, "Authenticator app (code)"));
    s.expect("A name for it in your list").await;
    s.send("Work phone");
    let shown = s.expect("Enter the code (an empty line cancels)").await;
    // Text first, no drawing characters: the key in groups of four and the URI.
    assert!(!shown.contains('█') && !shown.contains('▀'), "{shown}");
    let uri = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("URI: "))
        .unwrap_or_else(|| panic!("no URI in {shown}"))
        .to_string();
    let key_line = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("Secret key: "))
        .unwrap_or_else(|| panic!("no key in {shown}"))
        .to_string();
    assert!(
        key_line.split(' ').all(|g| g.len() <= 4) && uri.contains(&key_line.replace(' ', "")),
        "{key_line} / {uri}"
    );
    let totp = totp_rs::Totp::from_url_unchecked(&uri).unwrap();
    s.send("000000");
    s.expect("not right").await;
    s.send(&totp.generate_current().to_string());
    s.expect("Added Authenticator app (code) Work phone.").await;

    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "App passwords"));
    let page = s.expect("Enter a number:").await;
    assert!(page.contains("App passwords (0):"), "{page}");
    s.send(&number_of(&page, "Create an app password"));
    s.expect("Name").await;
    s.send("Thunderbird");
    let shown = s.expect("it is not shown again").await;
    assert!(shown.contains("App password for Thunderbird:"), "{shown}");
    let page = s.expect("Enter a number:").await;
    assert!(page.contains("App passwords (1):"), "{page}");
    assert!(page.contains("Thunderbird, created "), "{page}");
    s.send(&number_of(&page, "Delete an app password"));
    let which = s.expect("Enter a number:").await;
    s.send(&number_of(&which, "Thunderbird"));
    s.expect("Delete the app password Thunderbird? The app that uses it stops signing in.")
        .await;
    s.send("y");
    s.expect("Deleted the app password Thunderbird.").await;
    let page = s.expect("Enter a number:").await;
    assert!(page.contains("App passwords (0):"), "{page}");
    s.send(&number_of(&page, "Back"));
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Quit"));
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_default_in_plain_mode_names_the_new_default_and_change_default_lists_eligible_methods()
 {
    let world = World::start(Settings::default()).await;
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start(&world, state.path());
    sign_in_by_email(&mut s, &world, "n").await;
    let home = s.expect("Enter a number:").await;
    let default = home
        .lines()
        .find_map(|l| l.strip_prefix("Default sign-in method: "))
        .unwrap()
        .to_string();
    s.send(&number_of(&home, "Delete a sign-in method"));
    let which = s.expect("Enter a number:").await;
    s.send(&number_of(&which, &default));
    s.expect("Type delete to confirm").await;
    s.send("delete");
    let said = s.expect("Enter a number:").await;
    assert!(said.contains("Deleted "), "{said}");
    assert!(
        said.contains("Your default sign-in method is now "),
        "the successor is named: {said}"
    );
    s.send(&number_of(&said, "Change default sign-in method"));
    let eligible = s.expect("Enter a number:").await;
    assert!(
        eligible.contains("Which method should be your default?"),
        "{eligible}"
    );
    assert!(
        !eligible.contains("Password"),
        "only usable MFA methods: {eligible}"
    );
    s.send(&number_of(&eligible, "Email"));
    s.expect("is now your default sign-in method.").await;
    let home = s.expect("Enter a number:").await;
    assert!(home.contains("Default sign-in method: Email"), "{home}");
    s.send(&number_of(&home, "Quit"));
    s.finish().await;
}

impl Session {
    /// The change needs a fresh second factor: choose the emailed code and type it.
    async fn confirm_it_is_me(&mut self, world: &World, what: &str) {
        let asked = self
            .expect("This change needs you to confirm it is you.")
            .await;
        assert!(!asked.contains("Error"), "{what}: {asked}");
        let choices = self.expect("Enter a number:").await;
        self.send(&number_of(&choices, "mail"));
        self.expect("Enter the code").await;
        self.send(&latest_code(world));
        self.expect("Verified.").await;
    }
}

/// Past the server's window for a fresh second factor (1 s; it counts whole seconds).
async fn let_the_sign_in_get_old() {
    tokio::time::sleep(Duration::from_millis(2100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_plain_mode_every_change_after_the_window_steps_up_then_goes_through() {
    let world = World::start(Settings {
        mfa_max_age: 1,
        ..Settings::default()
    })
    .await;
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start(&world, state.path());
    sign_in_by_email(&mut s, &world, "n").await;

    // Add an authenticator code app.
    let home = s.expect("Enter a number:").await;
    let_the_sign_in_get_old().await;
    s.send(&number_of(&home, "Add sign-in method"));
    let kinds = s.expect("Enter a number:").await;
    s.send(&number_of(&kinds, "Authenticator app (code)"));
    s.expect("A name for it in your list").await;
    s.send("");
    s.confirm_it_is_me(&world, "add TOTP").await;
    let shown = s.expect("Enter the code (an empty line cancels)").await;
    let totp = totp_rs::Totp::from_url_unchecked(uri_in(&shown)).unwrap();
    s.send(&totp.generate_current().to_string());
    s.expect("Added Authenticator app (code)").await;

    // Add a phone.
    let home = s.expect("Enter a number:").await;
    let_the_sign_in_get_old().await;
    s.send(&number_of(&home, "Add sign-in method"));
    let kinds = s.expect("Enter a number:").await;
    s.send(&number_of(&kinds, "Phone"));
    s.expect("Country calling code").await;
    s.send("");
    s.expect("Phone number").await;
    s.send("2025550188");
    s.confirm_it_is_me(&world, "add phone").await;
    s.expect("We sent a code to").await;
    s.expect("Enter the code (an empty line cancels)").await;
    s.send(&latest_code(&world));
    s.expect("Added Phone").await;

    // Create an app password.
    let home = s.expect("Enter a number:").await;
    let_the_sign_in_get_old().await;
    s.send(&number_of(&home, "App passwords"));
    let page = s.expect("Enter a number:").await;
    s.send(&number_of(&page, "Create an app password"));
    s.expect("Name").await;
    s.send("Thunderbird");
    s.confirm_it_is_me(&world, "create an app password").await;
    s.expect("App password for Thunderbird:").await;
    let page = s.expect("Enter a number:").await;
    s.send(&number_of(&page, "Back"));

    // Generate recovery codes.
    let home = s.expect("Enter a number:").await;
    let_the_sign_in_get_old().await;
    s.send(&number_of(&home, "Recovery codes"));
    s.expect("Generate a set now?").await;
    s.send("y");
    s.confirm_it_is_me(&world, "generate recovery codes").await;
    s.expect("Your recovery codes").await;

    // Make the new phone the default.
    let home = s.expect("Enter a number:").await;
    let_the_sign_in_get_old().await;
    s.send(&number_of(&home, "Change default sign-in method"));
    let eligible = s.expect("Enter a number:").await;
    s.send(&number_of(&eligible, "88"));
    s.confirm_it_is_me(&world, "change the default").await;
    s.expect("is now your default sign-in method.").await;

    // Delete the code app.
    let home = s.expect("Enter a number:").await;
    assert!(home.contains("Default sign-in method: Phone"), "{home}");
    let_the_sign_in_get_old().await;
    s.send(&number_of(&home, "Delete a sign-in method"));
    let which = s.expect("Enter a number:").await;
    s.send(&number_of(&which, "Authenticator app (code)"));
    s.expect("Type delete to confirm").await;
    s.send("delete");
    s.confirm_it_is_me(&world, "delete").await;
    s.expect("Deleted Authenticator app (code)").await;
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Quit"));
    s.finish().await;
}

/// The `secinfo` binary against `world` with its own config, dirs and passphrase file.
fn cli(home: &std::path::Path, world: &World, args: &[&str]) -> std::process::Command {
    let config = home.join("config.toml");
    if !config.exists() {
        std::fs::write(
            &config,
            format!(
                "[profiles.test]\nbackend = \"native\"\nurl = \"{}\"\nsecret_store = \"passphrase\"\n",
                world.server.url
            ),
        )
        .unwrap();
        std::fs::write(home.join("passphrase"), "a passphrase for this test\n").unwrap();
    }
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_secinfo"));
    let pass = format!("@{}", home.join("passphrase").display());
    c.args(args)
        .args(["--passphrase-from", &pass])
        .env("SECINFO_CONFIG", &config)
        .env("SECINFO_DATA_DIR", home.join("data"))
        .env("SECINFO_STATE_DIR", home.join("state"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("SECINFO_PROFILE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    c
}

/// An answer to give once `prompt` has appeared `n` times, made from what was said so far.
type Answer<'a> = (&'a str, usize, &'a dyn Fn(&str) -> String);

/// Feeds `answers` one per prompt: each waits until `prompt` appears `n` times on stderr.
fn cli_talk(mut cmd: std::process::Command, answers: &[Answer]) -> (String, String) {
    use std::io::Read;
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let err = Arc::new(Mutex::new(String::new()));
    let out = Arc::new(Mutex::new(String::new()));
    for (pipe, sink) in [
        (
            Box::new(child.stderr.take().unwrap()) as Box<dyn Read + Send>,
            err.clone(),
        ),
        (Box::new(child.stdout.take().unwrap()), out.clone()),
    ] {
        let mut pipe = pipe;
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut b) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&b[..n]));
            }
        });
    }
    for (prompt, n, answer) in answers {
        let deadline = Instant::now() + Duration::from_secs(30);
        while err.lock().unwrap().matches(prompt).count() < *n {
            assert!(
                Instant::now() < deadline,
                "no {prompt:?}: {}",
                err.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let said = format!("{}\n{}", out.lock().unwrap(), err.lock().unwrap());
        writeln!(stdin, "{}", answer(&said)).unwrap();
    }
    drop(stdin);
    let status = child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let (out, err) = (out.lock().unwrap().clone(), err.lock().unwrap().clone());
    assert!(status.success(), "{status}: {err}");
    (out, err)
}

fn line_starting(text: &str, start: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in {text}"))
        .to_string()
}

fn uri_in(text: &str) -> String {
    text.split_whitespace()
        .find(|w| w.starts_with("otpauth://"))
        .unwrap_or_else(|| panic!("no URI in {text}"))
        .to_string()
}

fn code_for(uri: &str) -> String {
    totp_rs::Totp::from_url_unchecked(uri)
        .unwrap()
        .generate_current()
        .to_string()
}

fn kinds_of(world: &World, username: &str) -> Vec<String> {
    let db = rusqlite::Connection::open(&world.db).unwrap();
    let mut q = db
        .prepare(
            "SELECT m.kind FROM methods m JOIN users u ON u.id = m.user_id \
             WHERE u.username = ?1 ORDER BY m.kind",
        )
        .unwrap();
    q.query_map([username], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_journey_in_plain_mode_and_the_cli_ends_the_same_and_is_said_the_same() {
    // TOTP steps of 2 s: the step-up's code is never the enrollment's (replays are refused).
    let world = World::start(Settings {
        totp_step: 2,
        ..Settings::default()
    })
    .await;
    let password = "a-long-test-password";
    for user in ["pat@contoso.test", "kim@contoso.test"] {
        secinfo::server::admin::add_user(&world.db, user, "New User", &password.into()).unwrap();
    }

    // Plain mode: sign in, add a code app, delete it past the last-method guard.
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start(&world, state.path());
    s.expect("Username:").await;
    s.send("pat@contoso.test");
    s.expect("Password:").await;
    s.send(password);
    s.expect("Signed in as").await;
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Add sign-in method"));
    let kinds = s.expect("Enter a number:").await;
    s.send(&number_of(&kinds, "Authenticator app (code)"));
    s.expect("A name for it in your list").await;
    s.send("");
    let shown = s.expect("Enter the code (an empty line cancels)").await;
    let uri = uri_in(&shown);
    s.send(&code_for(&uri));
    let home = s.expect("Enter a number:").await;
    let plain_added = line_starting(&home, "Added ");
    s.send(&number_of(&home, "Delete a sign-in method"));
    let which = s.expect("Enter a number:").await;
    s.send(&number_of(&which, "Authenticator app (code)"));
    s.expect("Type delete to confirm").await;
    s.send("delete");
    s.expect("Enter the code").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    s.send(&code_for(&uri));
    let asked = s.expect("to confirm, or press Enter to cancel:").await;
    let name = asked
        .rsplit("Type ")
        .next()
        .and_then(|r| r.split(" to confirm").next())
        .unwrap()
        .to_string();
    s.send(&name);
    let said = s.expect("Enter a number:").await;
    let plain_said = said
        .lines()
        .find(|l| l.starts_with("Deleted "))
        .unwrap_or_else(|| panic!("{said}"))
        .to_string();
    s.send(&number_of(&said, "Quit"));
    s.finish().await;

    // The CLI: the same steps.
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let pw = |_: &str| password.to_string();
    cli_talk(
        cli(h, &world, &["login", "--username", "kim@contoso.test"]),
        &[("Password", 1, &pw)],
    );
    let code = |said: &str| code_for(&uri_in(said));
    let (out, _) = cli_talk(
        cli(h, &world, &["methods", "add", "totp"]),
        &[("Enter the code", 1, &code)],
    );
    let cli_uri = uri_in(&out);
    let cli_added = line_starting(&out, "Added ");
    let list = cli(h, &world, &["methods", "list", "--json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let totp = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "totp")
        .unwrap()
        .clone();
    let id = totp["id"].as_str().unwrap();
    let confirm = format!("--confirm={}", totp["detail"].as_str().unwrap());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let step_up = |_: &str| code_for(&cli_uri);
    let (out, _) = cli_talk(
        cli(h, &world, &["methods", "delete", id, &confirm]),
        &[("Enter the code", 1, &step_up)],
    );
    let cli_said = out
        .lines()
        .find(|l| l.starts_with("Deleted "))
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();

    assert_eq!(
        plain_added, cli_added,
        "the same words for the same addition"
    );
    assert_eq!(plain_said, cli_said, "the same words for the same outcome");
    assert!(
        kinds_of(&world, "pat@contoso.test").is_empty(),
        "the code app is gone (the password is not a stored method)"
    );
    assert_eq!(
        kinds_of(&world, "pat@contoso.test"),
        kinds_of(&world, "kim@contoso.test"),
        "the same result on the server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_lost_their_phone_deletes_it_adds_a_new_app_and_reads_what_changed() {
    let world = World::start(Settings::default()).await;
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start(&world, state.path());
    sign_in_by_email(&mut s, &world, "n").await;
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "I lost my phone"));

    // The devices, with the methods on each, then which one is lost.
    let shown = s.expect("Which device is lost?").await;
    assert!(
        shown.contains("Alice's phone") && shown.contains("Authenticator app (code)"),
        "{shown}"
    );
    let which = s.expect("Enter a number:").await;
    s.send(&number_of(&which, "Alice's phone"));
    let asked = s.expect("Enter y or n:").await;
    assert!(
        asked.contains("Delete the device Alice's phone and "),
        "{asked}"
    );
    s.send("y");
    s.expect("Deleted device Alice's phone").await;

    // Skip signing out everywhere; add a code app at once.
    s.expect("Sign out everywhere?").await;
    s.expect("Enter y or n:").await;
    s.send("n");
    s.expect("Add a new sign-in method now? Enter y or n:")
        .await;
    s.send("y");
    let kinds = s.expect("Enter a number:").await;
    s.send(&number_of(&kinds, "Authenticator app (code)"));
    let shown = s.expect("Enter the code (an empty line cancels)").await;
    s.send(&code_for(&uri_in(&shown)));
    let summary = s.expect("Enter a number:").await;
    let changed = summary
        .split("What changed:")
        .nth(1)
        .unwrap_or_else(|| panic!("a summary: {summary}"));
    assert!(
        changed.contains("Deleted device Alice's phone"),
        "{changed}"
    );
    assert!(
        changed.contains("Added Authenticator app (code)"),
        "{changed}"
    );
    s.send(&number_of(&summary, "Quit"));
    s.finish().await;

    let kinds = kinds_of(&world, &world.demo.username);
    assert!(
        !kinds.contains(&"authenticator_push".to_string()),
        "the lost phone's push method is gone: {kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "totp").count(),
        1,
        "the new code app, not the lost one: {kinds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_reader_user_revokes_dont_ask_again_then_deletes_a_lost_device() {
    let world = World::start(Settings::default()).await;
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start(&world, state.path());
    sign_in_by_email(&mut s, &world, "y").await;
    let user = world.demo.username.clone();
    assert_eq!(
        world.rows_of("remembered", &user),
        1,
        "\"Don't ask again\" was ticked"
    );

    // Remembered devices: this client, revoked by typing the word.
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Remembered devices"));
    let list = s.expect("Enter a number:").await;
    s.send(&number_of(&list, "(this client)"));
    s.expect("Type revoke to confirm, or press Enter to cancel:")
        .await;
    s.send("revoke");
    let home = s.expect("Enter a number:").await;
    assert_eq!(world.rows_of("remembered", &user), 0, "{home}");

    // Devices: the phone and what goes with it, deleted by typing the word.
    s.send(&number_of(&home, "Devices"));
    let list = s.expect("Enter a number:").await;
    s.send(&number_of(&list, "Alice's phone"));
    let said = s
        .expect("Type delete to confirm, or press Enter to cancel:")
        .await;
    assert!(
        said.contains(
            "This removes Alice's phone and the sign-in methods on it: Authenticator app"
        ),
        "the confirmation names what goes: {said}"
    );
    s.send("delete");
    s.expect("Deleted device Alice's phone").await;
    let home = s.expect("Enter a number:").await;
    assert_eq!(world.rows_of("devices", &user), 0, "{home}");
    s.send(&number_of(&home, "Quit"));
    let all = s.finish().await;
    assert!(!all.contains('\u{1b}'), "no escape codes");
}

/// The password, then a push (not remembered), up to the waiting line: what was said.
async fn password_then_push(s: &mut Session, world: &World) -> String {
    s.expect("Password:").await;
    s.send(&world.demo.password);
    let choices = s.expect("Enter a number:").await;
    s.send(&number_of(&choices, "Approve a request"));
    s.expect("Enter y or n:").await;
    s.send("n");
    s.expect("Waiting for approval…\n").await
}

/// The number plain mode said to match, once the push was sent.
fn number_said(said: &str) -> u32 {
    line_starting(said, "Number to match: ")
        .trim_start_matches("Number to match: ")
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_reader_user_hears_the_wait_for_approval_as_lines_approved_denied_and_timed_out() {
    // The push waits 4 s here, so "timed out" comes without a long wait.
    let world = World::start(Settings {
        push_ttl: 4,
        ..Settings::default()
    })
    .await;
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start(&world, state.path());
    s.expect("Username:").await;
    s.send(&world.demo.username);

    // Approved on the phone.
    let sent = password_then_push(&mut s, &world).await;
    world.phone().approve(number_said(&sent)).await.unwrap();
    let said = s.expect("Signed in as").await;
    assert!(
        said.starts_with("Waiting for approval… approved\n"),
        "{said}"
    );

    // Denied on the phone: the user is offered the other ways again.
    let home = s.expect("Enter a number:").await;
    s.send(&number_of(&home, "Sign out"));
    let picker = s.expect("Enter a number:").await;
    s.send(&number_of(&picker, &world.demo.username));
    password_then_push(&mut s, &world).await;
    world.phone().deny().await.unwrap();
    let said = s.expect("Enter a number:").await;
    assert!(said.starts_with("Waiting for approval… denied\n"), "{said}");

    // Not answered: timed out, and no line a second while it waited.
    s.send(&number_of(&said, "Approve a request"));
    s.expect("Waiting for approval…\n").await;
    let said = s.expect("Waiting for approval… timed out\n").await;
    let between: Vec<&str> = said.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        between,
        ["Waiting for approval… timed out"],
        "a 4-second wait passes no milestone, so nothing else is said"
    );
    s.expect("Sign in\n").await;
    s.finish().await;
}
