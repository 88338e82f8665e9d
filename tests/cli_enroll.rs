// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Adding sign-in methods from the command line against the real server:
//! the printed QR code scans to the server's URI and its code saves the
//! method; scripts enroll with --json; wrong codes, bad input, denied test
//! notifications and expiry leave nothing half-enrolled.

mod common;
mod qr_support;
use common::*;
use secinfo::server::Settings;
use std::io::Write;
use std::process::ChildStdin;

const USER: &str = "erin@contoso.test";

async fn signed_in_world(settings: Settings) -> World {
    let world = World::start_with(settings).await;
    let uri = world.user_with_totp(USER);
    let out = world.login(USER, &uri);
    assert!(out.status.success(), "{}", text(&out.stderr));
    world
}

fn methods_json(world: &World) -> serde_json::Value {
    let out = world.secinfo(
        &[
            "methods",
            "list",
            "--json",
            "--passphrase-from",
            &world.pass_arg(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn kinds(world: &World) -> Vec<String> {
    methods_json(world)["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap().to_string())
        .collect()
}

fn spawn(world: &World, args: &[&str]) -> (Live, ChildStdin) {
    let pass = world.pass_arg();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--passphrase-from", &pass]);
    let mut child = world.command(&all).spawn().unwrap();
    let stdin = child.stdin.take().unwrap();
    (Live::start_with_stdout(child), stdin)
}

fn line_after(seen: &str, label: &str) -> String {
    seen.lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} in:\n{seen}"))
        .trim()
        .to_string()
}

/// The plain QR lines on stdout (half blocks; the ink is the light modules),
/// drawn as pixels and read by a real decoder.
fn scan_plain_qr(stdout: &str) -> Vec<String> {
    let rows: Vec<Vec<char>> = stdout
        .lines()
        .filter(|l| !l.is_empty() && l.chars().all(|c| " ▀▄█".contains(c)))
        .filter(|l| l.chars().any(|c| c != ' '))
        .map(|l| l.chars().collect())
        .collect();
    assert!(!rows.is_empty(), "no QR code in:\n{stdout}");
    const SCALE: usize = 4;
    const MARGIN: usize = 8;
    let cols = rows.iter().map(Vec::len).max().unwrap();
    let (w, h) = (
        cols * SCALE + 2 * MARGIN,
        rows.len() * 2 * SCALE + 2 * MARGIN,
    );
    let mut px = vec![255u8; w * h];
    for (ry, row) in rows.iter().enumerate() {
        for (cx, c) in row.iter().enumerate() {
            let (top_ink, bottom_ink) = match c {
                '█' => (true, true),
                '▀' => (true, false),
                '▄' => (false, true),
                _ => (false, false),
            };
            for (half, ink) in [(0, top_ink), (1, bottom_ink)] {
                let value = if ink { 255 } else { 0 };
                for dy in 0..SCALE {
                    for dx in 0..SCALE {
                        let x = MARGIN + cx * SCALE + dx;
                        let y = MARGIN + (ry * 2 + half) * SCALE + dy;
                        px[y * w + x] = value;
                    }
                }
            }
        }
    }
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| px[y * w + x]);
    img.detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, s)| s))
        .collect()
}

/// A code that is surely not the current one (nor its neighbours).
fn wrong_code(uri: &str) -> String {
    let totp = totp_rs::Totp::from_url_unchecked(uri).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let near: Vec<String> = (0..3)
        .map(|i| {
            totp.generate(now + i * totp.step() - totp.step())
                .to_string()
        })
        .collect();
    (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn user_adds_a_totp_app_by_scanning_the_printed_qr() {
    let world = signed_in_world(Settings::default()).await;
    let (mut live, mut stdin) = spawn(&world, &["methods", "add", "totp"]);
    live.wait_for("Enter the code");
    let stdout = live.out.lock().unwrap().clone();

    let server_uri = line_after(&stdout, "URI: ");
    let secret = line_after(&stdout, "Secret key: ");
    let decoded = scan_plain_qr(&stdout);
    assert_eq!(decoded.len(), 1, "{decoded:?} from:\n{stdout}");
    let scanned = totp_rs::Totp::from_url_unchecked(&decoded[0]).unwrap();
    let chosen = totp_rs::Totp::from_url_unchecked(&server_uri).unwrap();
    for t in [59, 1_764_000_000, 2_000_000_000] {
        assert_eq!(
            scanned.generate(t).to_string(),
            chosen.generate(t).to_string(),
            "same secret"
        );
    }
    assert_eq!(scanned.issuer(), chosen.issuer());
    assert_eq!(scanned.account_name(), chosen.account_name());
    assert_eq!(
        (scanned.digits(), scanned.step()),
        (chosen.digits(), chosen.step())
    );
    assert!(
        decoded[0].contains(&format!("secret={}", secret.replace(' ', ""))),
        "the secret in groups of four is the one in the QR code: {}",
        decoded[0]
    );
    assert!(chosen.account_name().contains(USER), "{server_uri}");

    // The code the scanning app would show saves the method.
    let code = scanned.generate_current().to_string();
    stdin.write_all(format!("{code}\n").as_bytes()).unwrap();
    assert!(live.finish().success(), "{}", live.err.lock().unwrap());
    assert!(
        live.out
            .lock()
            .unwrap()
            .contains("Added Authenticator app (code)")
    );
    assert_eq!(kinds(&world).iter().filter(|k| *k == "totp").count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn scripts_enroll_totp_with_json_then_verify() {
    let world = signed_in_world(Settings::default()).await;
    let pass = world.pass_arg();
    let out = world.secinfo(
        &[
            "methods",
            "add",
            "totp",
            "--json",
            "--passphrase-from",
            &pass,
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], 1);
    let id = doc["enrollment_id"].as_str().unwrap();
    let uri = doc["uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(doc["secret"].as_str().unwrap()));
    // Nothing is listed until the code comes back.
    assert_eq!(kinds(&world).iter().filter(|k| *k == "totp").count(), 1);

    let wrong = world.secinfo(
        &["methods", "verify", id, "--passphrase-from", &pass],
        &format!("{}\n", wrong_code(uri)),
    );
    assert_eq!(wrong.status.code(), Some(3), "{}", text(&wrong.stderr));
    assert!(text(&wrong.stderr).contains("stays open"));

    let done = world.secinfo(
        &["methods", "verify", id, "--passphrase-from", &pass],
        &format!("{}\n", totp_now(uri)),
    );
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert_eq!(kinds(&world).iter().filter(|k| *k == "totp").count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_code_keeps_the_enrollment_open_and_a_retry_works() {
    let world = signed_in_world(Settings::default()).await;
    let (mut live, mut stdin) = spawn(&world, &["methods", "add", "totp"]);
    live.wait_for("Enter the code");
    let uri = line_after(&live.out.lock().unwrap(), "URI: ");

    stdin
        .write_all(format!("{}\n", wrong_code(&uri)).as_bytes())
        .unwrap();
    let seen = live.wait_for("The QR code above still works");
    assert!(seen.contains("not right"), "{seen}");
    stdin
        .write_all(format!("{}\n", totp_now(&uri)).as_bytes())
        .unwrap();
    assert!(live.finish().success(), "{}", live.err.lock().unwrap());
    assert_eq!(kinds(&world).iter().filter(|k| *k == "totp").count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn user_adds_an_email_with_the_code_from_the_outbox() {
    let world = signed_in_world(Settings::default()).await;
    let (mut live, mut stdin) = spawn(&world, &["methods", "add", "email", "erin@example.test"]);
    let seen = live.wait_for("Enter the code");
    assert!(
        seen.contains("We sent a code to e***@example.test"),
        "{seen}"
    );
    let code = last_code(&world.db, "email");
    stdin.write_all(format!("{code}\n").as_bytes()).unwrap();
    assert!(live.finish().success(), "{}", live.err.lock().unwrap());
    let doc = methods_json(&world);
    let email = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "email")
        .expect("the email is listed");
    assert_eq!(email["detail"], "e***@example.test");
    // The holder hears of it.
    let mail = secinfo::server::outbox(&world.db, None).unwrap();
    assert!(
        mail.iter().any(|m| m.body.contains("was added")),
        "{mail:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_phone_number_is_refused_before_anything_is_sent() {
    let world = signed_in_world(Settings::default()).await;
    let pass = world.pass_arg();
    let before = secinfo::server::outbox(&world.db, None).unwrap().len();
    for (args, says) in [
        (vec!["phone", "call me maybe"], "E.164"),
        (vec!["phone", "4255550123"], "--country"),
        (vec!["phone", "+12"], "8 to 15 digits"),
        (
            vec!["phone", "4255550123", "--country", "Atlantis"],
            "calling code",
        ),
        (vec!["email", "erin at example"], "not an email address"),
    ] {
        let mut all = vec!["methods", "add"];
        all.extend(args.iter().copied());
        all.extend(["--passphrase-from", &pass]);
        let out = world.secinfo(&all, "");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(
        secinfo::server::outbox(&world.db, None).unwrap().len(),
        before
    );

    // With the country given, the same national number works.
    let (mut live, mut stdin) = spawn(
        &world,
        &[
            "methods",
            "add",
            "phone",
            "(425) 555-0123",
            "--country",
            "US",
        ],
    );
    live.wait_for("Enter the code");
    stdin
        .write_all(format!("{}\n", last_code(&world.db, "sms")).as_bytes())
        .unwrap();
    assert!(live.finish().success(), "{}", live.err.lock().unwrap());
    let sms = secinfo::server::outbox(&world.db, None).unwrap();
    assert!(sms.iter().any(|m| m.recipient == "+14255550123"), "{sms:?}");
    assert!(kinds(&world).contains(&"phone".to_string()));
}

/// The rest of the line after `label`, once the whole line has arrived.
fn value_after(buffer: &std::sync::Mutex<String>, label: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let seen = buffer.lock().unwrap().clone();
        if let Some(rest) = seen.rsplit(label).next().filter(|_| seen.contains(label))
            && let Some((value, _)) = rest.split_once('\n')
        {
            return value.trim().to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {label:?} in:\n{seen}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Start `methods add authenticator` and activate the simulated phone from the printed link.
fn activate_phone(world: &World) -> (Live, ChildStdin, String, String) {
    let (live, stdin, dir) = activate_phone_only(world);
    let number = value_after(&live.err, "Number to match: ");
    assert!(number.parse::<u32>().is_ok(), "{number}");
    (live, stdin, dir, number)
}

fn activate_phone_only(world: &World) -> (Live, ChildStdin, String) {
    let (live, stdin) = spawn(world, &["methods", "add", "authenticator"]);
    let link = value_after(&live.out, "Activation link: ");
    let seen = live.out.lock().unwrap().clone();
    assert!(seen.contains("Code: ") && seen.contains("URL: "), "{seen}");
    let phone_dir = world.dir.path().join("phone");
    let dir = phone_dir.to_str().unwrap().to_string();
    let act = world.secinfo(&["phone", "--dir", &dir, "activate", &link], "");
    assert!(act.status.success(), "{}", text(&act.stderr));
    (live, stdin, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn user_adds_an_authenticator_app_activating_the_phone_and_approving_the_test_push() {
    let world = signed_in_world(Settings::default()).await;
    let (mut live, _stdin, dir, number) = activate_phone(&world);
    let ok = world.secinfo(
        &["phone", "--dir", &dir, "approve", "--number", &number],
        "",
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(live.finish().success(), "{}", live.err.lock().unwrap());
    assert!(live.out.lock().unwrap().contains("Added Authenticator app"));
    assert!(kinds(&world).contains(&"authenticator_push".to_string()));

    // The phone can be renamed afterwards.
    let pass = world.pass_arg();
    let devices = world.secinfo(
        &["devices", "list", "--json", "--passphrase-from", &pass],
        "",
    );
    let doc: serde_json::Value = serde_json::from_slice(&devices.stdout).unwrap();
    let id = doc["devices"][0]["id"].as_str().unwrap().to_string();
    let renamed = world.secinfo(
        &[
            "devices",
            "rename",
            &id,
            "Erin's work phone",
            "--passphrase-from",
            &pass,
        ],
        "",
    );
    assert!(renamed.status.success(), "{}", text(&renamed.stderr));
    let devices = world.secinfo(
        &["devices", "list", "--json", "--passphrase-from", &pass],
        "",
    );
    let doc: serde_json::Value = serde_json::from_slice(&devices.stdout).unwrap();
    assert_eq!(doc["devices"][0]["name"], "Erin's work phone");
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_test_push_leaves_nothing_half_enrolled() {
    let world = signed_in_world(Settings::default()).await;
    let (mut live, _stdin, dir, _number) = activate_phone(&world);
    let deny = world.secinfo(&["phone", "--dir", &dir, "deny"], "");
    assert!(deny.status.success(), "{}", text(&deny.stderr));
    let status = live.finish();
    assert_eq!(status.code(), Some(7));
    let err = live.err.lock().unwrap().clone();
    assert!(
        err.contains("denied on the phone") && err.contains("Nothing was added."),
        "{err}"
    );

    assert!(!kinds(&world).contains(&"authenticator_push".to_string()));
    let pass = world.pass_arg();
    let devices = world.secinfo(
        &["devices", "list", "--json", "--passphrase-from", &pass],
        "",
    );
    let doc: serde_json::Value = serde_json::from_slice(&devices.stdout).unwrap();
    assert_eq!(doc["devices"].as_array().unwrap().len(), 0, "{doc}");
}

#[tokio::test(flavor = "multi_thread")]
async fn end_of_input_cancels_the_enrollment_on_the_server() {
    let world = signed_in_world(Settings::default()).await;
    let pass = world.pass_arg();
    let out = world.secinfo(
        &[
            "methods",
            "add",
            "email",
            "erin@example.test",
            "--passphrase-from",
            &pass,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("Nothing was added."));
    // The code sent before is worthless now: the enrollment is gone.
    let enrollments: i64 = rusqlite::Connection::open(&world.db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM enrollments", [], |r| r.get(0))
        .unwrap();
    assert_eq!(enrollments, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_enrollment_is_refused_clearly() {
    let world = signed_in_world(Settings {
        enrollment_ttl: 0,
        ..Settings::default()
    })
    .await;
    let pass = world.pass_arg();
    let out = world.secinfo(
        &[
            "methods",
            "add",
            "totp",
            "--json",
            "--passphrase-from",
            &pass,
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let verify = world.secinfo(
        &[
            "methods",
            "verify",
            doc["enrollment_id"].as_str().unwrap(),
            "--passphrase-from",
            &pass,
        ],
        &format!("{}\n", totp_now(doc["uri"].as_str().unwrap())),
    );
    assert_eq!(verify.status.code(), Some(7));
    assert!(
        text(&verify.stderr).contains("took too long and it expired; start again"),
        "{}",
        text(&verify.stderr)
    );
    assert_eq!(kinds(&world).iter().filter(|k| *k == "totp").count(), 1);
}

/// Luma of a vt100 cell color; only the QR's explicit palette counts as dark or light.
fn vt_luma(c: vt100::Color) -> u8 {
    match c {
        vt100::Color::Idx(16) | vt100::Color::Rgb(0, 0, 0) => 0,
        vt100::Color::Idx(231) | vt100::Color::Rgb(255, 255, 255) => 255,
        _ => 128,
    }
}

/// `secinfo ARGS` in a pseudo-terminal, its screen kept by a vt100 parser.
struct Term {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    writer: Box<dyn Write + Send>,
    parser: vt100::Parser,
    raw: Vec<u8>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    size: (u16, u16),
}

impl Term {
    fn start(world: &World, args: &[&str], env: &[(&str, &str)]) -> Term {
        use portable_pty::{CommandBuilder, PtySize, native_pty_system};
        use std::io::Read;
        let (rows, cols) = (60u16, 160u16);
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_secinfo"));
        let pass = world.pass_arg();
        cmd.args(args);
        cmd.args(["--passphrase-from", &pass]);
        cmd.env("SECINFO_CONFIG", world.config_path());
        cmd.env("SECINFO_DATA_DIR", world.dir.path().join("data"));
        cmd.env("SECINFO_STATE_DIR", world.dir.path().join("state"));
        cmd.env("TERM", "xterm-256color");
        for k in [
            "NO_COLOR",
            "COLORTERM",
            "SECINFO_PROFILE",
            "DBUS_SESSION_BUS_ADDRESS",
        ] {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut b = [0u8; 8192];
            while let Ok(n) = reader.read(&mut b) {
                if n == 0 || tx.send(b[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        // Keep the master alive as long as the reader needs it.
        std::mem::forget(pair.master);
        let parser = vt100::Parser::new(
            std::num::NonZeroU16::new(rows).unwrap(),
            std::num::NonZeroU16::new(cols).unwrap(),
            0,
        );
        Term {
            rx,
            writer,
            parser,
            raw: Vec::new(),
            child,
            size: (rows, cols),
        }
    }

    fn wait_for(&mut self, what: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !self.parser.screen().contents().contains(what) {
            assert!(
                std::time::Instant::now() < deadline,
                "waited for {what:?}; screen:\n{}",
                self.parser.screen().contents()
            );
            if let Ok(b) = self.rx.recv_timeout(std::time::Duration::from_millis(100)) {
                self.parser.process(&b);
                self.raw.extend_from_slice(&b);
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// The screen as pixels: half blocks honour their cell's fg/bg; anything else is grey.
    fn scan(&self) -> Vec<String> {
        let screen = self.parser.screen();
        let (rows, cols) = self.size;
        qr_support::decode(qr_support::raster(cols, rows, |x, y| {
            match screen.cell(y, x) {
                Some(c) => (
                    c.contents().to_string(),
                    vt_luma(c.fgcolor()),
                    vt_luma(c.bgcolor()),
                ),
                None => (String::new(), 128, 128),
            }
        }))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn in_a_terminal_the_colored_qr_scans_and_its_code_saves_the_method() {
    let world = signed_in_world(Settings::default()).await;
    let mut term = Term::start(&world, &["methods", "add", "totp"], &[]);
    term.wait_for("Enter the code");
    let decoded = term.scan();
    let contents = term.parser.screen().contents();
    assert_eq!(decoded.len(), 1, "{contents}");
    // Beside the code, the full URI waits until it is asked for.
    assert!(!contents.contains("URI: "), "{contents}");
    term.send(b"u\r");
    term.wait_for("URI: ");
    let server_uri = line_after(&term.parser.screen().contents(), "URI: ");
    let scanned = totp_rs::Totp::from_url_unchecked(&decoded[0]).unwrap();
    let chosen = totp_rs::Totp::from_url_unchecked(&server_uri).unwrap();
    assert_eq!(
        scanned.generate(1_764_000_000).to_string(),
        chosen.generate(1_764_000_000).to_string()
    );
    assert_eq!(
        (scanned.issuer(), scanned.account_name()),
        (chosen.issuer(), chosen.account_name())
    );
    // Explicit palette colors (16 on 231), never the themeable named ones.
    assert!(String::from_utf8_lossy(&term.raw).contains("\x1b[0;38;5;16;48;5;231m"));

    term.send(format!("{}\r", scanned.generate_current()).as_bytes());
    term.wait_for("Added Authenticator app (code)");
    assert!(term.child.wait().unwrap().success());
    assert_eq!(kinds(&world).iter().filter(|k| *k == "totp").count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_no_color_the_secret_and_uri_come_first_without_colors() {
    let world = signed_in_world(Settings::default()).await;
    let mut term = Term::start(&world, &["methods", "add", "totp"], &[("NO_COLOR", "1")]);
    term.wait_for("Enter the code");
    let contents = term.parser.screen().contents();
    let secret_at = contents.find("Secret key: ").unwrap();
    let qr_at = contents.find('█').unwrap();
    assert!(secret_at < qr_at, "{contents}");
    assert!(contents.find("URI: ").unwrap() < qr_at);
    let raw = String::from_utf8_lossy(&term.raw).to_string();
    assert!(!raw.contains("\x1b[0;38;"), "no colors with NO_COLOR");
    term.send(b"\x03");
    term.wait_for("cancelled; nothing was added");
    assert_eq!(term.child.wait().unwrap().exit_code(), 7);
    let enrollments: i64 = rusqlite::Connection::open(&world.db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM enrollments", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        enrollments, 0,
        "Ctrl-C in the terminal cancelled it on the server"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_mid_enrollment_cancels_it_on_the_server() {
    let world = signed_in_world(Settings::default()).await;
    let (mut live, _stdin) = spawn(&world, &["methods", "add", "email", "erin@example.test"]);
    live.wait_for("Enter the code");
    let count = || -> i64 {
        rusqlite::Connection::open(&world.db)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM enrollments", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(), 1);
    let pid = live.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = live.finish();
    assert_eq!(status.code(), Some(7), "{}", live.err.lock().unwrap());
    assert!(
        live.err
            .lock()
            .unwrap()
            .contains("cancelled; nothing was added")
    );
    assert_eq!(count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_number_is_changed_by_verifying_the_new_one() {
    let world = signed_in_world(Settings::default()).await;
    let old = secinfo::server::admin::add_phone(&world.db, USER, "+14255550100").unwrap();
    let (mut live, mut stdin) = spawn(
        &world,
        &["methods", "change", &old, "07700 900123", "--country", "GB"],
    );
    live.wait_for("Enter the code");
    // Until the new number answers, the old one is still there.
    assert!(
        methods_json(&world)["methods"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == old.as_str())
    );
    let sent = secinfo::server::outbox(&world.db, None).unwrap();
    assert_eq!(sent.last().unwrap().recipient, "+447700900123");
    stdin
        .write_all(format!("{}\n", last_code(&world.db, "sms")).as_bytes())
        .unwrap();
    assert!(live.finish().success(), "{}", live.err.lock().unwrap());
    let doc = methods_json(&world);
    let phones: Vec<&serde_json::Value> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "phone")
        .collect();
    assert_eq!(phones.len(), 1, "{doc}");
    assert_ne!(phones[0]["id"], old.as_str());
    assert!(phones[0]["detail"].as_str().unwrap().ends_with("23"));

    // A TOTP app is renamed, not changed.
    let totp = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "totp")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pass = world.pass_arg();
    let refused = world.secinfo(
        &[
            "methods",
            "change",
            &totp,
            "+14255550100",
            "--passphrase-from",
            &pass,
        ],
        "",
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("methods rename"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unanswered_test_push_times_out_and_nothing_is_left() {
    // The test notification expires the moment it is sent.
    let world = signed_in_world(Settings {
        push_ttl: 0,
        ..Settings::default()
    })
    .await;
    let (mut live, _stdin, _dir) = activate_phone_only(&world);
    assert_eq!(live.finish().code(), Some(7));
    let err = live.err.lock().unwrap().clone();
    assert!(
        err.contains("timed out without an answer") && err.contains("Nothing was added."),
        "{err}"
    );
    let pass = world.pass_arg();
    let devices = world.secinfo(
        &["devices", "list", "--json", "--passphrase-from", &pass],
        "",
    );
    let doc: serde_json::Value = serde_json::from_slice(&devices.stdout).unwrap();
    assert_eq!(doc["devices"].as_array().unwrap().len(), 0, "{doc}");
    assert!(!kinds(&world).contains(&"authenticator_push".to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_security_key_is_explained_and_handed_off_to_a_browser() {
    let world = signed_in_world(Settings::default()).await;
    let pass = world.pass_arg();
    for what in ["security-key", "passkey"] {
        let out = world.secinfo(&["methods", "add", what, "--passphrase-from", &pass], "");
        assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("needs a browser (WebAuthn)"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_mode_gives_the_secret_and_uri_without_a_drawing() {
    let world = signed_in_world(Settings::default()).await;
    let pass = world.pass_arg();
    let out = world.secinfo(
        &[
            "methods",
            "add",
            "totp",
            "--plain",
            "--passphrase-from",
            &pass,
        ],
        "",
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Secret key: ") && stdout.contains("URI: otpauth://"),
        "{stdout}"
    );
    assert!(!stdout.contains('█') && !stdout.contains('▀'), "{stdout}");
    // End of input: nothing is left open on the server.
    assert_eq!(out.status.code(), Some(2));
    let enrollments: i64 = rusqlite::Connection::open(&world.db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM enrollments", [], |r| r.get(0))
        .unwrap();
    assert_eq!(enrollments, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_phone_takes_its_one_time_activation_link_from_stdin_not_the_command_line() {
    let world = signed_in_world(Settings::default()).await;
    let (mut live, _stdin) = spawn(&world, &["methods", "add", "authenticator"]);
    let link = value_after(&live.out, "Activation link: ");
    let dir = world.dir.path().join("phone").to_str().unwrap().to_string();
    let act = world.secinfo(&["phone", "--dir", &dir, "activate"], &format!("{link}\n"));
    assert!(act.status.success(), "{}", text(&act.stderr));
    assert!(
        text(&act.stdout).contains("Added "),
        "{}",
        text(&act.stdout)
    );
    let nothing = world.secinfo(&["phone", "--dir", &dir, "activate", "-"], "");
    assert_eq!(nothing.status.code(), Some(2), "no link is a usage error");
    let _ = live.child.kill();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_authenticator_app_gets_the_name_given_when_adding_it() {
    let world = signed_in_world(Settings::default()).await;
    let (mut live, mut stdin) = spawn(&world, &["methods", "add", "totp", "--name", "Work phone"]);
    live.wait_for("Enter the code");
    let uri = line_after(&live.out.lock().unwrap(), "URI: ");
    stdin
        .write_all(format!("{}\n", totp_now(&uri)).as_bytes())
        .unwrap();
    assert!(live.finish().success(), "{}", live.err.lock().unwrap());
    assert!(
        live.out
            .lock()
            .unwrap()
            .contains("Added Authenticator app (code) Work phone."),
        "{}",
        live.out.lock().unwrap()
    );
    let pass = world.pass_arg();
    let list = world.secinfo(
        &["methods", "list", "--json", "--passphrase-from", &pass],
        "",
    );
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(
        doc["methods"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["kind"] == "totp" && m["detail"] == "Work phone"),
        "{doc}"
    );
}
