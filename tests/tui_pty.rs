// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The real binary in a pseudo-terminal: the demo opens, keys work, and the
//! terminal is handed back intact (no alternate screen, no raw mode) on quit,
//! on SIGTERM and after a panic. Temp dirs keep it away from the user's demo.

mod common;
mod pty_support;

use pty_support::{Pty, decode_screen};
use std::time::Duration;

fn assert_cooked(stty: &str) {
    let words: Vec<&str> = stty.split_whitespace().collect();
    assert!(
        words.contains(&"icanon") && words.contains(&"echo"),
        "raw mode was left on:\n{stty}"
    );
}

/// The number the push screen asks to match.
fn number_on(screen: &str) -> String {
    let after = screen
        .split("Enter this number in the app:")
        .nth(1)
        .expect("a number to match");
    after.split_whitespace().next().unwrap().to_string()
}

#[test]
fn user_signs_in_to_the_demo_approving_the_push_on_the_simulated_phone_then_quits() {
    let mut p = Pty::start(&[]);
    p.wait_for("DEMO", 120);
    p.wait_for("Sign in", 60);
    let screen = p.parser.screen().contents();
    assert!(screen.contains("profile: demo"), "status line:\n{screen}");
    let password = screen
        .split(" / ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .expect("the demo shows its password")
        .to_string();
    // The one-line banner; the rest, with how to use a real account, under help (F1 in a field).
    p.send(b"\x1bOP");
    p.wait_for("secinfo config init", 30);
    p.send(b"\x1b");
    p.wait_gone("secinfo config init", 30);
    p.send(password.as_bytes());
    p.send(b"\r");
    p.wait_for("Enter this number in the app:", 30);
    let number = number_on(&p.parser.screen().contents());
    p.send(b"p");
    p.wait_for("Simulated phone", 10);
    p.send(number.as_bytes());
    p.send(b"\r");
    p.wait_for("Approved on the simulated phone", 30);
    p.send(b"\x1b");
    p.wait_gone("Simulated phone", 10);
    p.wait_for("Security info", 30);
    p.wait_for("Default sign-in method", 30);
    p.send(b"?");
    p.wait_for("Keys (change them", 10);
    p.send(b"\x1b");
    p.wait_gone("Keys (change them", 10);
    p.send(b"q");
    assert!(
        !String::from_utf8_lossy(&p.raw).contains("\x1b[?1000h"),
        "without the opt-in the mouse is left to the terminal (text selection over SSH)"
    );
    let log_path = p.dirs.path().join("state").join("secinfo.log");
    let (exit, text) = p.finish();
    assert_eq!(exit, "0", "{text}");
    assert_cooked(text.split("EXIT=").nth(1).unwrap());
    let log = std::fs::read_to_string(&log_path).expect("the log file exists");
    assert!(
        log.contains("terminal UI started"),
        "logs go to the file:\n{log}"
    );
    assert!(
        !log.contains(&password),
        "the password never reaches the log"
    );
}

#[test]
fn sigterm_restores_the_terminal() {
    let mut p = Pty::start(&[]);
    p.wait_for("Sign in", 120);
    let pid = p.child.process_id().expect("pid");
    // sh is the child; secinfo is its child.
    let out = std::process::Command::new("pkill")
        .args(["-TERM", "-P", &pid.to_string()])
        .status()
        .unwrap();
    assert!(out.success());
    let (_exit, text) = p.finish();
    assert_cooked(text.split("EXIT=").nth(1).unwrap());
}

#[test]
fn a_panic_still_restores_the_terminal() {
    let mut p = Pty::start(&[("SECINFO_TEST_PANIC", "1")]);
    p.wait_for("Sign in", 120);
    p.send(b"j");
    let (exit, text) = p.finish();
    assert_ne!(exit, "0", "{text}");
    assert!(
        text.contains("SECINFO_TEST_PANIC"),
        "the panic message is shown after restoring:\n{text}"
    );
    assert_cooked(text.split("EXIT=").nth(1).unwrap());
}

#[test]
fn no_color_means_no_color_codes_but_focus_still_shows() {
    let mut p = Pty::start(&[("NO_COLOR", "1")]);
    p.wait_for("Sign in", 120);
    let screen = p.parser.screen().contents();
    assert!(
        screen.contains("> Password"),
        "focus marker without color:\n{screen}"
    );
    p.send(b"\x03");
    let (exit, text) = p.finish();
    assert_eq!(exit, "0", "Ctrl-C quits cleanly: {text}");
    for sgr in ["38;5;", "48;5;", "38;2;", "48;2;"] {
        assert!(
            !text.contains(sgr),
            "NO_COLOR output has a color code {sgr:?}"
        );
    }
}

#[test]
fn user_adds_an_authenticator_app_by_scanning_the_qr_code_the_real_binary_draws() {
    let mut p = Pty::start(&[]);
    sign_in_to_the_demo_approving_on_the_simulated_phone(&mut p);
    // Add sign-in method → the second choice, the code app.
    p.send(b"j");
    p.send(b"\r");
    p.wait_for("Which method would you like to add?", 10);
    p.send(b"j");
    p.send(b"\r");
    p.wait_for("scan this QR code", 30);
    let decoded = decode_screen(p.parser.screen());
    assert_eq!(decoded.len(), 1, "{}", p.parser.screen().contents());
    let uri = decoded[0].clone();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains("alice"), "the account is in the label: {uri}");
    // The code colors are palette 16/231, which themes leave alone.
    let mut colors: Vec<_> = (0..24)
        .flat_map(|r| (0..40).map(move |c| (r, c)))
        .filter_map(|(r, c)| p.parser.screen().cell(r, c))
        .filter(|c| c.contents() == "▀" || c.contents() == "▄")
        .map(|c| (c.fgcolor(), c.bgcolor()))
        .collect();
    colors.dedup();
    assert_eq!(
        colors,
        vec![(vt100::Color::Idx(16), vt100::Color::Idx(231))]
    );
    // Copy: the same URI reaches the terminal's clipboard as OSC 52.
    p.send(b"c");
    p.wait_for("Copied the setup link", 10);
    let osc = secinfo::app::effects::osc52(&uri);
    assert!(
        String::from_utf8_lossy(&p.raw).contains(osc.as_str()),
        "OSC 52 with the URI was written"
    );
    let totp = totp_rs::Totp::from_url_unchecked(&uri).unwrap();
    let code = totp.generate_current().to_string();
    p.send(code.as_bytes());
    p.send(b"\r");
    p.wait_for("Added Authenticator app (code)", 30);
    // Named as it is added: the name it has is typed over.
    p.wait_for("Name your new authenticator app", 10);
    p.send(&[0x7f; 40]);
    p.send(b"Work phone\r");
    p.wait_gone("Name your new authenticator app", 10);
    p.wait_for("Renamed", 30);
    p.wait_for("Work phone", 30);
    quits_cleanly(&mut p);
}

#[test]
fn demo_user_adds_the_authenticator_app_with_the_simulated_phone_in_one_terminal() {
    let mut p = Pty::start(&[]);
    sign_in_to_the_demo_approving_on_the_simulated_phone(&mut p);
    p.send(b"j");
    p.send(b"\r");
    p.wait_for("Which method would you like to add?", 10);
    p.send(b"\r");
    p.wait_for("Start by getting the app", 10);
    p.send(b"\r");
    p.wait_for("(Next)", 30);
    let decoded = decode_screen(p.parser.screen());
    assert_eq!(decoded.len(), 1, "{}", p.parser.screen().contents());
    // p: the simulated phone scans the activation code, then gets the test notification.
    p.send(b"p");
    p.wait_for("Enter this number in the app:", 30);
    p.send(b"p");
    p.wait_for("Added Authenticator app", 30);
    keep_the_offered_name(&mut p);
    quits_cleanly(&mut p);
}

#[test]
fn demo_user_reads_their_own_sign_in_in_recent_activity() {
    let mut p = Pty::start(&[]);
    sign_in_to_the_demo_approving_on_the_simulated_phone(&mut p);
    // Up from the top wraps: Sign out, Sign out everywhere, I lost my phone, Recent activity.
    p.send(b"kkkk");
    p.send(b"\r");
    p.wait_for("When (UTC)", 30);
    p.wait_for("Signed in", 30);
    let screen = p.parser.screen().contents();
    let row = screen
        .lines()
        .find(|l| l.contains("Signed in"))
        .unwrap_or_default();
    assert!(row.contains("with Authenticator app"), "{screen}");
    assert!(row.contains("127.0.0.1"), "{screen}");
    p.send(b"\x1b");
    p.wait_for("Default sign-in method", 10);
    quits_cleanly(&mut p);
}

#[test]
fn demo_user_who_lost_their_phone_deletes_it_skips_signing_out_and_reads_what_changed() {
    let mut p = Pty::start(&[]);
    sign_in_to_the_demo_approving_on_the_simulated_phone(&mut p);
    // Up from the top wraps: Sign out, Sign out everywhere, then I lost my phone.
    p.send(b"kkk");
    p.send(b"\r");
    p.wait_for("Which device is lost?", 30);
    let screen = p.parser.screen().contents();
    assert!(
        screen.contains("Authenticator app") && screen.contains("Skip: keep every device"),
        "each device with the methods on it:\n{screen}"
    );
    p.send(b"\r");
    p.wait_for("Methods removed with it:", 10);
    // Cancel has the focus: Tab to the button that deletes.
    p.send(b"\t\r");
    p.wait_for("Sign out everywhere?", 30);
    p.send(b"\x1b");
    p.wait_for("Add a new sign-in method now?", 10);
    p.send(b"j\r");
    p.wait_for("What changed: Deleted device", 10);
    quits_cleanly(&mut p);
}

/// After a new authenticator app is saved, its name is offered: Esc keeps it.
fn keep_the_offered_name(p: &mut Pty) {
    p.wait_for("Name your new authenticator app", 10);
    p.send(b"\x1b");
    p.wait_gone("Name your new authenticator app", 10);
}

/// `q` quits, with exit status 0.
fn quits_cleanly(p: &mut Pty) {
    p.send(b"q");
    let (exit, text) = p.finish();
    assert_eq!(exit, "0", "{text}");
}

/// The screen row (1-based, as a terminal reports clicks) that holds `text`.
fn row_of(p: &Pty, text: &str) -> usize {
    let screen = p.parser.screen().contents();
    screen
        .lines()
        .position(|l| l.contains(text))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{text:?} is not on screen:\n{screen}"))
}

#[test]
fn with_the_mouse_opted_in_a_click_opens_a_row_and_the_wheel_moves_the_focus() {
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "[ui]\nmouse = true\n").unwrap();
    let mut p = Pty::start(&[("SECINFO_CONFIG", config.path().to_str().unwrap())]);
    sign_in_to_the_demo_approving_on_the_simulated_phone(&mut p);
    assert!(
        String::from_utf8_lossy(&p.raw).contains("\x1b[?1000h"),
        "the mouse is asked for"
    );
    // The wheel moves the focus like the arrow keys: down once, to "+ Add sign-in method".
    p.send(b"\x1b[<65;10;10M");
    p.wait_for("> + Add sign-in method", 10);
    // A click (SGR: press, release) on the Sessions row opens it.
    let row = row_of(&p, "Where you are signed in");
    p.send(format!("\x1b[<0;5;{row}M\x1b[<0;5;{row}m").as_bytes());
    p.wait_for("Sign out one you do not recognise", 10);
    p.send(b"q");
    let (exit, text) = p.finish();
    assert_eq!(exit, "0", "{text}");
    assert!(
        text.contains("\x1b[?1000l"),
        "the mouse is given back on quit"
    );
}

/// The demo's sign-in as a user does it: the password shown on the banner, then
/// the push approved by typing the number into the simulated phone panel.
fn sign_in_to_the_demo_approving_on_the_simulated_phone(p: &mut Pty) {
    p.wait_for("Sign in", 120);
    let screen = p.parser.screen().contents();
    let password = screen
        .split(" / ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .expect("the demo shows its password")
        .to_string();
    p.send(password.as_bytes());
    p.send(b"\r");
    p.wait_for("Enter this number in the app:", 30);
    let number = number_on(&p.parser.screen().contents());
    p.send(b"p");
    p.wait_for("Simulated phone", 10);
    p.send(number.as_bytes());
    p.send(b"\r");
    p.wait_for("Approved on the simulated phone", 30);
    p.send(b"\x1b");
    p.wait_gone("Simulated phone", 10);
    p.wait_for("Default sign-in method", 30);
}

/// The two bugs of issue 9, as a user met them: a kept session older than the
/// access token opened on "Pick an account" (two parallel refreshes looked like
/// token theft), and adding a method past the step-up window said "Could not
/// start" with no way to verify. Short windows make both happen in seconds.
#[test]
fn a_kept_session_opens_on_security_info_and_adding_a_method_past_the_window_steps_up() {
    use secinfo::server::{Settings, admin};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let settings = Settings {
        access_token_ttl: 2,
        mfa_max_age: 2,
        totp_step: 2,
        ..Settings::default()
    };
    let world = rt.block_on(common::World::start_with(settings.clone()));
    let user = "dave@x.test";
    admin::add_user(&world.db, user, "Dave", &common::PASSWORD.into()).unwrap();
    let (_, uri) = admin::add_totp(&world.db, user, "Authenticator", &settings).unwrap();
    let login = world.login(user, uri.expose());
    assert!(login.status.success(), "{}", common::text(&login.stderr));

    // Older than the access token and than the step-up window.
    // The server counts whole seconds: 3.1 s is past a 2 s window however the seconds fall.
    std::thread::sleep(Duration::from_millis(3100));
    // The same config, dirs and passphrase as the CLI sign-in.
    let home = world.dir.path().display().to_string();
    let config = world.config_path().display().to_string();
    let args = format!("--passphrase-from {}", world.pass_arg());
    let (data, state) = (format!("{home}/data"), format!("{home}/state"));
    let mut p = Pty::start(&[
        ("SECINFO_CONFIG", &config),
        ("SECINFO_ARGS", &args),
        ("SECINFO_DATA_DIR", &data),
        ("SECINFO_STATE_DIR", &state),
    ]);
    p.wait_for("Default sign-in method", 30);
    let screen = p.parser.screen().contents();
    assert!(
        !screen.contains("Sign in"),
        "opened on Security info:\n{screen}"
    );

    // Add sign-in method → the code app: the server wants a fresh second factor first.
    p.send(b"j");
    p.send(b"\r");
    p.wait_for("Which method would you like to add?", 10);
    p.send(b"j");
    p.send(b"\r");
    p.wait_for("This change needs a fresh second factor", 30);
    p.wait_for("Enter the code", 30);
    let code = common::totp_now(uri.expose());
    p.send(code.as_bytes());
    p.send(b"\r");
    p.wait_for("scan this QR code", 30);
    let decoded = decode_screen(p.parser.screen());
    assert_eq!(decoded.len(), 1, "{}", p.parser.screen().contents());
    let code = common::totp_now(&decoded[0]);
    p.send(code.as_bytes());
    p.send(b"\r");
    p.wait_for("Added Authenticator app (code)", 30);
    keep_the_offered_name(&mut p);
    quits_cleanly(&mut p);
    drop(rt);
}
