// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The command line in a real pseudo-terminal of 80×24 against the real
//! reference server, read back through a terminal emulator: what a person
//! sees on the screen (not the scrollback) while the command waits for them.

mod common;
mod pty_support;

use common::World;
use pty_support::{Pty, decode_screen};
use secinfo::server::Settings;

const USER: &str = "erin@contoso.test";

/// A signed-in user of a real server, and a `cols`×`rows` PTY running
/// `secinfo ARGS` with that world's config, dirs and passphrase.
fn signed_in_pty(world: &World, args: &str, cols: u16, rows: u16) -> Pty {
    let uri = world.user_with_totp(USER);
    let login = world.login(USER, &uri);
    assert!(login.status.success(), "{}", common::text(&login.stderr));
    in_pty_sized(world, args, cols, rows)
}

fn in_pty(world: &World, args: &str) -> Pty {
    in_pty_sized(world, args, 80, 24)
}

fn in_pty_sized(world: &World, args: &str, cols: u16, rows: u16) -> Pty {
    let home = world.dir.path().display().to_string();
    let config = world.config_path().display().to_string();
    let args = format!("{args} --passphrase-from {}", world.pass_arg());
    let (data, state) = (format!("{home}/data"), format!("{home}/state"));
    Pty::start_sized(
        &[
            ("SECINFO_CONFIG", &config),
            ("SECINFO_ARGS", &args),
            ("SECINFO_DATA_DIR", &data),
            ("SECINFO_STATE_DIR", &state),
        ],
        cols,
        rows,
    )
}

/// The rows of the visible screen, trimmed.
fn rows(p: &Pty) -> Vec<String> {
    p.parser
        .screen()
        .rows(0, 80)
        .map(|r| r.trim_end().to_string())
        .collect()
}

fn secret_of(uri: &str) -> String {
    uri.split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .unwrap_or_else(|| panic!("no secret in {uri}"))
        .to_string()
}

#[test]
fn a_user_adds_an_authenticator_app_on_an_80x24_terminal_and_scans_the_visible_qr() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let world = rt.block_on(World::start_with(Settings::default()));
    let mut p = signed_in_pty(&world, "methods add totp", 80, 24);
    p.wait_for("Enter the code (an empty line cancels):", 30);

    // Everything at once on the visible screen: the code, the key, the prompt.
    let screen = p.parser.screen().contents();
    let decoded = decode_screen(p.parser.screen());
    assert_eq!(decoded.len(), 1, "one QR code decodes from:\n{screen}");
    let uri = &decoded[0];
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let key = secinfo::present::grouped(&secret_of(uri));
    let side: Vec<String> = rows(&p)
        .iter()
        .map(|r| r.trim_start_matches([' ', '▀', '▄', '█']).to_string())
        .collect();
    let at = side
        .iter()
        .position(|r| r == "Secret key:")
        .unwrap_or_else(|| panic!("no key beside the code:\n{screen}"));
    let key_rows = side[at + 1..]
        .iter()
        .take_while(|r| r.split(' ').all(|g| (1..=4).contains(&g.len())))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        key_rows, key,
        "the key beside the code, in groups:\n{screen}"
    );
    let last = rows(&p).into_iter().rev().find(|r| !r.is_empty()).unwrap();
    assert_eq!(
        last, "Enter the code (an empty line cancels):",
        "the prompt on the last line:\n{screen}"
    );
    let said = side
        .iter()
        .filter(|r| !r.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        said.contains("To see the URI as text, type u at the prompt."),
        "says how to see the URI:\n{screen}"
    );

    // The URI on demand: the full one, of which the code holds the short form.
    p.send(b"u\r");
    p.wait_for("URI: otpauth://", 10);
    let full = p
        .parser
        .screen()
        .contents()
        .split("URI: ")
        .nth(1)
        .map(|t| t.split("Enter the code").next().unwrap().replace('\n', ""))
        .unwrap();
    assert_eq!(&secinfo::qr::short_otpauth(full.trim()), uri);

    // The code from the scanned QR saves the method on the server.
    p.send(format!("{}\r", common::totp_now(uri)).as_bytes());
    p.wait_for("Added", 30);
    let (exit, text) = p.finish();
    assert_eq!(exit, "0", "{text}");
    drop(rt);
}

#[test]
fn below_80_columns_the_key_and_uri_come_first_then_a_qr_code_that_still_scans() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let world = rt.block_on(World::start_with(Settings::default()));
    let mut p = signed_in_pty(&world, "methods add totp", 60, 50);
    p.wait_for("Enter the code (an empty line cancels):", 30);
    let screen = p.parser.screen().contents();
    let key_at = screen.find("Secret key: ").expect("the key as text");
    let uri_at = screen.find("URI: otpauth://").expect("the URI as text");
    let qr_at = screen.find('█').expect("the QR code");
    assert!(key_at < qr_at && uri_at < qr_at, "text first:\n{screen}");
    let decoded = decode_screen(p.parser.screen());
    assert_eq!(decoded.len(), 1, "{screen}");
    p.send(format!("{}\r", common::totp_now(&decoded[0])).as_bytes());
    p.wait_for("Added", 30);
    let (exit, text) = p.finish();
    assert_eq!(exit, "0", "{text}");
    drop(rt);
}

/// Signs in to plain mode typing into the terminal, as a screen-reader user
/// would, with `plain_echo_codes` set as given; returns the code typed.
fn plain_sign_in(echo_codes: bool) -> (Pty, String, tokio::runtime::Runtime, World) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let world = rt.block_on(World::start_with(Settings::default()));
    let uri = world.user_with_totp(USER);
    let profile = std::fs::read_to_string(world.config_path()).unwrap();
    world.write_config(&format!(
        "[ui]\nplain_echo_codes = {echo_codes}\n\n{profile}"
    ));
    let mut p = in_pty(&world, "--plain");
    p.wait_for("Username:", 30);
    p.send(format!("{USER}\r").as_bytes());
    p.wait_for("Password:", 10);
    p.wait_for_echo(false, 10);
    p.send(format!("{}\r", common::PASSWORD).as_bytes());
    p.wait_for("Enter y or n:", 30);
    p.send(b"n\r");
    p.wait_for("Enter the code:", 10);
    p.wait_for_echo(echo_codes, 10);
    let code = common::totp_now(&uri);
    p.send(format!("{code}\r").as_bytes());
    p.wait_for("Signed in as", 30);
    (p, code, rt, world)
}

#[test]
fn in_plain_mode_a_typed_code_is_shown_so_a_screen_reader_says_it_but_the_password_never_is() {
    let (mut p, code, rt, world) = plain_sign_in(true);
    p.send(b"\x04");
    let (exit, text) = p.finish();
    assert_eq!(exit, "0", "{text}");
    let typed = text
        .split("Enter the code:")
        .nth(1)
        .and_then(|t| t.split("Verified.").next())
        .unwrap();
    assert_eq!(typed.trim(), code, "the code shows as typed:\n{text}");
    assert!(!text.contains(common::PASSWORD), "{text}");
    drop((rt, world));
}

#[test]
fn with_plain_echo_codes_false_neither_the_code_nor_the_password_shows() {
    let (mut p, code, rt, world) = plain_sign_in(false);
    let screen = p.parser.screen().contents();
    assert!(screen.contains("Verified."), "{screen}");
    p.send(b"\x04");
    let (exit, text) = p.finish();
    assert_eq!(exit, "0", "{text}");
    assert!(!text.contains(&code), "the code stays hidden:\n{text}");
    assert!(!text.contains(common::PASSWORD), "{text}");
    drop((rt, world));
}
