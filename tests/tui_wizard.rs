// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! "Add sign-in method" in the TUI. Pure `update` tests of every step (happy
//! and sad paths) from domain values, snapshots of each step at 80×24 with
//! styles, and journeys against the real reference server: the TOTP QR code
//! drawn into a TestBackend is decoded, its code computed with totp-rs and
//! accepted by the server; the push app is added with the demo's simulated phone.

#[path = "tui_support/driver.rs"]
mod driver;
mod qr_support;
mod server_support;
mod tui_support;

use driver::Driver;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use secinfo::app::effects::{self, Effect};
use secinfo::app::state::*;
use secinfo::app::{Action, update};
use secinfo::backend::{BackendError, Refusal, SignIn};
use secinfo::config::ThemeName;
use secinfo::domain::*;
use secinfo::secrets::SecretString;
use server_support::World;
use std::time::Duration;
use tui_support::*;

const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const URI: &str = "otpauth://totp/secinfo%20demo:alice%40contoso.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=secinfo%20demo";

fn caps_with_everything() -> Capabilities {
    let mut c = all_caps();
    c.enroll = vec![
        (MethodKind::AuthenticatorPush, Ability::Yes),
        (MethodKind::Totp, Ability::Yes),
        (MethodKind::Phone, Ability::Yes),
        (MethodKind::Email, Ability::Yes),
        (
            MethodKind::SecurityKey,
            Ability::No {
                reason: "a security key needs a browser (WebAuthn)".into(),
                portal_url: Some("https://mysignins.contoso.test".into()),
            },
        ),
        (
            MethodKind::OfficePhone,
            Ability::no("this server cannot add it yet"),
        ),
    ];
    c
}

fn wizard_home() -> State {
    let mut s = home();
    // As the capabilities arrive: the portal links' QR codes are encoded then, once.
    let id = s.next_id();
    s.caps = Loadable::Loading(id);
    update(
        &mut s,
        Action::Capabilities {
            id,
            result: Ok(caps_with_everything()),
        },
    );
    assert!(s.caps.ready().is_some());
    s
}

fn totp_enrollment() -> Enrollment {
    Enrollment {
        id: "enr_1".into(),
        kind: MethodKind::Totp,
        qr_payload: Some(SecretString::new(URI)),
        secret: Some(SecretString::new(SECRET)),
        manual: vec![],
        sent_to: None,
        expires_in: Some(600),
        finished: None,
    }
}

fn push_enrollment() -> Enrollment {
    Enrollment {
        id: "enr_2".into(),
        kind: MethodKind::AuthenticatorPush,
        qr_payload: Some(SecretString::new(
            "secinfo://activate?code=ABCD-EFGH-JKLM&url=http%3A%2F%2F127.0.0.1%3A8080",
        )),
        secret: None,
        manual: vec![
            ("Code".into(), "ABCD-EFGH-JKLM".into()),
            ("URL".into(), "http://127.0.0.1:8080".into()),
        ],
        sent_to: None,
        expires_in: Some(600),
        finished: None,
    }
}

fn wiz(s: &State) -> &Wizard {
    s.wizard.as_ref().expect("the wizard is open")
}

/// Opens the wizard from the home screen and picks the kind at `index`.
fn choose(s: &mut State, kind: MethodKind) -> Vec<Effect> {
    s.home_focus = 1;
    assert!(press(s, KeyCode::Enter).is_empty());
    let i = kind_choices(s.caps.ready().unwrap())
        .iter()
        .position(|c| c.kind == kind)
        .unwrap();
    for _ in 0..i {
        press(s, KeyCode::Down);
    }
    press(s, KeyCode::Enter)
}

fn begin_id(fx: &[Effect]) -> u64 {
    match fx {
        [Effect::BeginEnrollment { id, .. }] => *id,
        other => panic!("expected a begin, got {other:?}"),
    }
}

fn verify_of(fx: &[Effect]) -> (u64, Option<String>, Duration) {
    match fx {
        [
            Effect::VerifyEnrollment {
                id, code, delay, ..
            },
        ] => (*id, code.as_ref().map(|c| c.expose().to_string()), *delay),
        other => panic!("expected a verify, got {other:?}"),
    }
}

fn totp_on_scan_step() -> State {
    let mut s = wizard_home();
    let fx = choose(&mut s, MethodKind::Totp);
    let id = begin_id(&fx);
    assert!(matches!(
        &fx[0],
        Effect::BeginEnrollment {
            kind: MethodKind::Totp,
            target: None,
            ..
        }
    ));
    update(
        &mut s,
        Action::EnrollmentBegun {
            id,
            result: Ok(totp_enrollment()),
        },
    );
    s
}

fn done_method(kind: MethodKind) -> Method {
    method("m9", kind, "", false)
}

// ---- update: every transition ------------------------------------------------------

#[test]
fn wizard_offers_only_what_the_server_can_add_and_says_why_for_the_rest() {
    let mut s = wizard_home();
    s.home_focus = 1;
    press(&mut s, KeyCode::Enter);
    assert_eq!(wiz(&s).step, WizardStep::Choose { focus: 0 });
    let kinds: Vec<_> = kind_choices(s.caps.ready().unwrap())
        .into_iter()
        .map(|c| (c.kind, c.ability.is_yes()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (MethodKind::AuthenticatorPush, true),
            (MethodKind::Totp, true),
            (MethodKind::Phone, true),
            (MethodKind::OfficePhone, false),
            (MethodKind::Email, true),
            (MethodKind::SecurityKey, false),
        ]
    );
    // A disabled kind says why and begins nothing.
    for _ in 0..3 {
        press(&mut s, KeyCode::Down);
    }
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert_eq!(
        wiz(&s).error.as_deref(),
        Some("Not available here: this server cannot add it yet")
    );
    // A security key gets its browser handoff page.
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Down);
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert_eq!(wiz(&s).step, WizardStep::Handoff(MethodKind::SecurityKey));
    press(&mut s, KeyCode::Esc);
    assert!(matches!(wiz(&s).step, WizardStep::Choose { .. }));
    // Esc on the first step closes without any server call.
    assert!(press(&mut s, KeyCode::Esc).is_empty());
    assert!(s.wizard.is_none());
}

#[test]
fn totp_wrong_code_keeps_the_qr_then_the_right_code_saves_and_returns_to_the_list() {
    let mut s = totp_on_scan_step();
    assert!(matches!(wiz(&s).step, WizardStep::Scan { .. }));
    // Letters are commands here (t, i, c), digits go into the code field.
    update(&mut s, ch('t'));
    assert!(wiz(&s).show_text);
    update(&mut s, ch('t'));
    update(&mut s, ch('i'));
    assert!(wiz(&s).inverted);
    // Too short: said, nothing sent.
    type_text(&mut s, "123");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert_eq!(
        wiz(&s).error.as_deref(),
        Some("Enter the 6-digit code first.")
    );
    type_text(&mut s, "456");
    let (id, code, delay) = verify_of(&press(&mut s, KeyCode::Enter));
    assert_eq!((code.as_deref(), delay), (Some("123456"), Duration::ZERO));
    update(
        &mut s,
        Action::EnrollmentChecked {
            id,
            result: Err(BackendError::Rejected {
                reason: Refusal::from_native("invalid_code"),
                message: "that code is not right; try again".into(),
            }),
        },
    );
    let w = wiz(&s);
    assert!(matches!(&w.step, WizardStep::Scan { code } if code.is_empty()));
    assert_eq!(
        w.error.as_deref(),
        Some("That code is not right; try again")
    );
    assert_eq!(
        w.enrollment,
        Some(totp_enrollment()),
        "the same QR code stays"
    );
    type_text(&mut s, "654321");
    let (id, code, _) = verify_of(&press(&mut s, KeyCode::Enter));
    assert_eq!(code.as_deref(), Some("654321"));
    let fx = update(
        &mut s,
        Action::EnrollmentChecked {
            id,
            result: Ok(EnrollmentState::Done(done_method(MethodKind::Totp))),
        },
    );
    assert!(s.wizard.is_none());
    assert!(matches!(fx.as_slice(), [Effect::LoadMethods { .. }]));
    let n = s.notice.as_ref().unwrap();
    assert_eq!(n.tone, Tone::Success);
    assert!(
        n.text.starts_with("Added Authenticator app (code)"),
        "{}",
        n.text
    );
    // Then the new app is named: the name it has, ready to be typed over.
    let Some(Overlay::Form(form)) = &s.overlay else {
        panic!("the new app is offered a name: {:?}", s.overlay)
    };
    assert_eq!(form.title, "Name your new authenticator app (code)");
    for _ in 0..form.fields[0].value.len() {
        press(&mut s, KeyCode::Backspace);
    }
    type_text(&mut s, "Work phone");
    let fx = press(&mut s, KeyCode::Enter);
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::Change { change: Change::RenameMethod { id, name }, .. }
            if id == "m9" && name == "Work phone")
        ),
        "{fx:?}"
    );
}

#[test]
fn leaving_or_quitting_mid_wizard_cancels_the_enrollment_on_the_server() {
    let mut s = totp_on_scan_step();
    let fx = press(&mut s, KeyCode::Esc);
    assert_eq!(
        fx,
        vec![Effect::CancelEnrollment {
            enrollment: totp_enrollment()
        }]
    );
    assert!(s.wizard.is_none());
    assert_eq!(
        s.notice.as_ref().unwrap().text,
        "Cancelled: nothing was added."
    );

    let mut s = totp_on_scan_step();
    let fx = update(&mut s, ch('q'));
    assert!(s.quit);
    assert!(matches!(fx.as_slice(), [Effect::CancelEnrollment { .. }]));

    let mut s = totp_on_scan_step();
    let fx = update(&mut s, ctrl('c'));
    assert!(s.quit);
    assert!(matches!(fx.as_slice(), [Effect::CancelEnrollment { .. }]));
}

#[test]
fn an_enrollment_the_server_begins_after_the_user_left_is_cancelled() {
    let mut s = wizard_home();
    let id = begin_id(&choose(&mut s, MethodKind::Totp));
    assert!(
        press(&mut s, KeyCode::Esc).is_empty(),
        "nothing to cancel yet"
    );
    let fx = update(
        &mut s,
        Action::EnrollmentBegun {
            id,
            result: Ok(totp_enrollment()),
        },
    );
    assert!(matches!(fx.as_slice(), [Effect::CancelEnrollment { .. }]));
    assert!(s.wizard.is_none());
}

#[test]
fn phone_number_is_validated_without_losing_what_was_typed() {
    let mut s = wizard_home();
    assert!(choose(&mut s, MethodKind::Phone).is_empty());
    assert!(matches!(&wiz(&s).step, WizardStep::Target(t) if t.country == "1"));
    type_text(&mut s, "425 555");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    let w = wiz(&s);
    assert!(
        w.error
            .as_deref()
            .unwrap()
            .starts_with("That is not a phone number")
    );
    assert!(matches!(&w.step, WizardStep::Target(t) if t.input == "425 555"));
    // Country field: Tab to it, change it, Tab back, finish the number.
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Backspace);
    type_text(&mut s, "44");
    press(&mut s, KeyCode::Tab);
    type_text(&mut s, " 0123");
    let fx = press(&mut s, KeyCode::Enter);
    let id = begin_id(&fx);
    assert!(matches!(
        &fx[0],
        Effect::BeginEnrollment { kind: MethodKind::Phone, target: Some(t), .. } if t == "+444255550123"
    ));
    // The server refuses it: back on the form, input kept.
    update(
        &mut s,
        Action::EnrollmentBegun {
            id,
            result: Err(BackendError::Rejected {
                reason: Refusal::from_native("invalid_target"),
                message: "that number cannot receive texts".into(),
            }),
        },
    );
    let w = wiz(&s);
    assert!(
        matches!(&w.step, WizardStep::Target(t) if t.input == "425 555 0123" && t.country == "44")
    );
    assert_eq!(
        w.error.as_deref(),
        Some("Could not start: that number cannot receive texts")
    );
}

#[test]
fn email_code_is_sent_then_verified() {
    let mut s = wizard_home();
    choose(&mut s, MethodKind::Email);
    type_text(&mut s, "alice@contoso");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert!(
        wiz(&s)
            .error
            .as_deref()
            .unwrap()
            .contains("not an email address")
    );
    type_text(&mut s, ".test");
    let id = begin_id(&press(&mut s, KeyCode::Enter));
    let mut e = totp_enrollment();
    e.kind = MethodKind::Email;
    e.qr_payload = None;
    e.secret = None;
    e.sent_to = Some("a****@contoso.test".into());
    update(&mut s, Action::EnrollmentBegun { id, result: Ok(e) });
    assert!(matches!(wiz(&s).step, WizardStep::Code { .. }));
    type_text(&mut s, "987654");
    let (id, code, _) = verify_of(&press(&mut s, KeyCode::Enter));
    assert_eq!(code.as_deref(), Some("987654"));
    update(
        &mut s,
        Action::EnrollmentChecked {
            id,
            result: Ok(EnrollmentState::Done(done_method(MethodKind::Email))),
        },
    );
    assert!(s.wizard.is_none());
}

#[test]
fn push_app_scan_then_approve_with_number_and_retry_after_a_denial() {
    let mut s = wizard_home();
    assert!(choose(&mut s, MethodKind::AuthenticatorPush).is_empty());
    assert_eq!(wiz(&s).step, WizardStep::GetApp);
    let id = begin_id(&press(&mut s, KeyCode::Enter));
    update(
        &mut s,
        Action::EnrollmentBegun {
            id,
            result: Ok(push_enrollment()),
        },
    );
    assert!(matches!(wiz(&s).step, WizardStep::Scan { .. }));
    // Digits are not typed anywhere on the push scan step.
    assert!(update(&mut s, ch('1')).is_empty());
    // Copy: the payload goes out as an OSC 52 effect, never drawn by render.
    let fx = update(&mut s, ch('c'));
    assert!(
        matches!(&fx[..], [Effect::Copy { text }] if text.expose().starts_with("secinfo://activate"))
    );
    let (id, code, delay) = verify_of(&press(&mut s, KeyCode::Enter));
    assert_eq!((code, delay), (None, Duration::ZERO));
    assert_eq!(wiz(&s).step, WizardStep::Approve { number: None });
    let (id, _, delay) = verify_of(&update(
        &mut s,
        Action::EnrollmentChecked {
            id,
            result: Ok(EnrollmentState::Pending),
        },
    ));
    assert_eq!(delay, s.poll_every);
    let fx = update(
        &mut s,
        Action::EnrollmentChecked {
            id,
            result: Ok(EnrollmentState::AwaitingApproval { number: Some(42) }),
        },
    );
    assert_eq!(wiz(&s).step, WizardStep::Approve { number: Some(42) });
    let (id, _, _) = verify_of(&fx);
    update(
        &mut s,
        Action::EnrollmentChecked {
            id,
            result: Err(BackendError::Rejected {
                reason: Refusal::from_native("push_denied"),
                message: "the test notification was denied on the phone; try again to send another"
                    .into(),
            }),
        },
    );
    assert!(matches!(&wiz(&s).step, WizardStep::Failed { message } if message.contains("denied")));
    assert!(wiz(&s).enrollment.is_some(), "still pending on the server");
    // Retry polls again (the server sends a fresh notification).
    let (id, _, _) = verify_of(&press(&mut s, KeyCode::Enter));
    let fx = update(
        &mut s,
        Action::EnrollmentChecked {
            id,
            result: Ok(EnrollmentState::Done(done_method(
                MethodKind::AuthenticatorPush,
            ))),
        },
    );
    assert!(s.wizard.is_none());
    assert!(matches!(fx.as_slice(), [Effect::LoadMethods { .. }]));
    assert_eq!(s.notice.as_ref().unwrap().tone, Tone::Success);
}

#[test]
fn push_timeout_then_cancel_leaves_nothing_half_enrolled() {
    let mut s = wizard_home();
    choose(&mut s, MethodKind::AuthenticatorPush);
    let id = begin_id(&press(&mut s, KeyCode::Enter));
    update(
        &mut s,
        Action::EnrollmentBegun {
            id,
            result: Ok(push_enrollment()),
        },
    );
    let (id, _, _) = verify_of(&press(&mut s, KeyCode::Enter));
    update(
        &mut s,
        Action::EnrollmentChecked {
            id,
            result: Err(BackendError::Rejected {
                reason: Refusal::from_native("challenge_expired"),
                message:
                    "the test notification expired without an answer; try again to send another"
                        .into(),
            }),
        },
    );
    assert!(matches!(&wiz(&s).step, WizardStep::Failed { message } if message.contains("expired")));
    let fx = press(&mut s, KeyCode::Esc);
    assert_eq!(
        fx,
        vec![Effect::CancelEnrollment {
            enrollment: push_enrollment()
        }]
    );
}

#[test]
fn first_sign_in_without_a_second_factor_goes_straight_into_the_wizard() {
    let mut s = state();
    s.signin = SignInStep::Password(PasswordForm {
        username: "new@contoso.test".into(),
        password: SecretString::new("pw"),
        focus: 2,
        error: None,
        pending: Some(7),
    });
    let fx = update(
        &mut s,
        Action::PasswordChecked {
            id: 7,
            result: Ok(SignIn::Done {
                mfa_setup_required: true,
            }),
        },
    );
    assert!(!fx.is_empty(), "Security info loads behind the wizard");
    let w = wiz(&s);
    assert!(w.first_run);
    assert_eq!(w.step, WizardStep::Choose { focus: 0 });
}

#[test]
fn e164_and_email_rules() {
    assert_eq!(e164("1", "(425) 555-0123").as_deref(), Ok("+14255550123"));
    assert_eq!(e164("+44", "020 7946 0958").as_deref(), Ok("+442079460958"));
    assert!(e164("1", "+1 425 555 0123").is_err());
    assert!(e164("", "4255550123").is_err());
    assert!(e164("1", "425 555 O123").is_err());
    assert!(e164("1", "12345").is_err());
    assert!(email("a@b.c").is_ok());
    for bad in [
        "alice",
        "@contoso.test",
        "a@contoso",
        "a b@c.d",
        "a@@c.d",
        "a@c..d",
    ] {
        assert!(email(bad).is_err(), "{bad}");
    }
}

#[test]
fn osc52_sequence_wraps_base64_of_the_text() {
    assert_eq!(*effects::osc52("hi"), "\x1b]52;c;aGk=\x07");
}

// ---- rendering: every step at 80×24 ------------------------------------------------

fn draw(s: &State, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| secinfo::ui::render(s, f)).unwrap();
    t
}

fn row_text(buf: &Buffer, y: u16) -> String {
    (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol().to_string())
        .collect()
}

fn screen_text(buf: &Buffer) -> String {
    (0..buf.area.height)
        .map(|y| row_text(buf, y))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The QR code's cells: the top-left block whose colors are palette 16/231.
fn qr_rect(buf: &Buffer) -> Rect {
    let is_qr = |x: u16, y: u16| {
        let c = &buf[(x, y)];
        matches!(
            (c.fg, c.bg),
            (Color::Indexed(16), Color::Indexed(231)) | (Color::Indexed(231), Color::Indexed(16))
        )
    };
    let w = (0..buf.area.width).take_while(|&x| is_qr(x, 0)).count() as u16;
    let h = (0..buf.area.height).take_while(|&y| is_qr(0, y)).count() as u16;
    Rect::new(0, 0, w, h)
}

#[test]
fn step_choose() {
    let mut s = wizard_home();
    s.home_focus = 1;
    press(&mut s, KeyCode::Enter);
    let t = draw(&s, 80, 24);
    insta::assert_snapshot!(t.backend());
    let buf = t.backend().buffer();
    let y = (0..24)
        .find(|&y| row_text(buf, y).contains("> Authenticator app"))
        .unwrap();
    assert!(
        buf[(3, y)]
            .modifier
            .contains(Modifier::REVERSED | Modifier::BOLD)
    );
    let y = (0..24)
        .find(|&y| row_text(buf, y).contains("Office phone"))
        .unwrap();
    assert_eq!(buf[(3, y)].fg, Color::DarkGray, "disabled kinds are muted");
}

#[test]
fn step_choose_disabled_with_portal_url_shows_it_as_text_and_qr() {
    let mut s = wizard_home();
    s.home_focus = 1;
    press(&mut s, KeyCode::Enter);
    for _ in 0..5 {
        press(&mut s, KeyCode::Down);
    }
    let t = draw(&s, 80, 24);
    insta::assert_snapshot!(t.backend());
    let text = screen_text(t.backend().buffer());
    assert!(text.contains("Add it at https://mysignins.contoso.test"));
    let buf = t.backend().buffer();
    assert!(
        buf.content
            .iter()
            .any(|c| c.fg == Color::Indexed(16) && c.bg == Color::Indexed(231)),
        "the portal's QR code is drawn"
    );
}

#[test]
fn step_get_the_app_and_handoff() {
    let mut s = wizard_home();
    choose(&mut s, MethodKind::AuthenticatorPush);
    insta::assert_snapshot!("step_get_the_app", draw(&s, 80, 24).backend());
    let mut s = wizard_home();
    choose(&mut s, MethodKind::SecurityKey);
    insta::assert_snapshot!("step_security_key_handoff", draw(&s, 80, 24).backend());
}

#[test]
fn step_totp_scan_at_80x24_gives_the_qr_the_full_height_with_instructions_beside_it() {
    let mut s = totp_on_scan_step();
    s.demo = Some(DemoInfo {
        username: "alice@contoso.test".into(),
        password: "pw".into(),
        db_path: "/tmp/x.db".into(),
        phone_dir: "/tmp/phone".into(),
    });
    type_text(&mut s, "12");
    let mut t = draw(&s, 80, 24);
    insta::assert_snapshot!(t.backend());
    let buf = t.backend().buffer().clone();
    let qr = qr_rect(&buf);
    assert_eq!((qr.width, qr.height), (45, 23), "4-module quiet zone, v5");
    assert!(
        !screen_text(&buf).contains("Demo: sign in as"),
        "no banner on the QR step"
    );
    // The cursor sits in the code field, right of the QR code.
    let pos = t.get_cursor_position().unwrap();
    assert!(pos.x > qr.width && row_text(&buf, pos.y).contains("Code"));
    let decoded = decode(&buf, qr, false);
    assert_eq!(decoded, vec![URI.to_string()]);
}

#[test]
fn step_totp_cant_scan_shows_the_secret_in_groups_and_the_uri() {
    let mut s = totp_on_scan_step();
    update(&mut s, ch('t'));
    let t = draw(&s, 80, 24);
    insta::assert_snapshot!(t.backend());
    let text = screen_text(t.backend().buffer());
    assert!(text.contains("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"));
    assert!(text.contains("otpauth://totp/secinfo%20demo:alice%40contoso.test?secret="));
}

#[test]
fn step_totp_wrong_code_is_said_beside_the_same_qr() {
    let mut s = totp_on_scan_step();
    type_text(&mut s, "111111");
    let (id, _, _) = verify_of(&press(&mut s, KeyCode::Enter));
    update(
        &mut s,
        Action::EnrollmentChecked {
            id,
            result: Err(BackendError::Rejected {
                reason: Refusal::from_native("invalid_code"),
                message: "that code is not right; try again".into(),
            }),
        },
    );
    let t = draw(&s, 80, 24);
    insta::assert_snapshot!(t.backend());
    let buf = t.backend().buffer();
    assert_eq!(decode(buf, qr_rect(buf), false), vec![URI.to_string()]);
    let y = (0..24)
        .find(|&y| row_text(buf, y).contains("That code is"))
        .unwrap();
    let x = row_text(buf, y).find("! That").unwrap();
    let x = row_text(buf, y)[..x].chars().count() as u16;
    assert_eq!(buf[(x, y)].fg, Color::Red);
}

#[test]
fn step_totp_inverted_is_the_negative_and_scans_where_colors_swap() {
    let mut s = totp_on_scan_step();
    update(&mut s, ch('i'));
    let t = draw(&s, 80, 24);
    let buf = t.backend().buffer();
    let qr = qr_rect(buf);
    assert_eq!(
        buf[(0, 0)].bg,
        Color::Indexed(16),
        "the quiet zone is dark now"
    );
    assert_eq!(decode(buf, qr, true), vec![URI.to_string()]);
}

#[test]
fn step_totp_on_a_truecolor_terminal_draws_exact_rgb_never_themeable_colors() {
    let mut s = totp_on_scan_step();
    s.truecolor = true;
    let t = draw(&s, 80, 24);
    let buf = t.backend().buffer();
    assert_eq!(
        buf[(0, 0)].bg,
        Color::Rgb(255, 255, 255),
        "the quiet zone is exact white"
    );
    let qr_cells: Vec<_> = (0..45).flat_map(|x| (0..23).map(move |y| (x, y))).collect();
    assert!(qr_cells.iter().all(|&(x, y)| {
        let c = &buf[(x, y)];
        matches!(c.fg, Color::Rgb(..)) && matches!(c.bg, Color::Rgb(..))
    }));
}

#[test]
fn step_totp_too_small_shows_the_text_form_and_the_size_needed() {
    let s = totp_on_scan_step();
    let t = draw(&s, 70, 20);
    insta::assert_snapshot!(t.backend());
    let text = screen_text(t.backend().buffer());
    assert!(
        text.contains("Enlarge the terminal to at least 75×22"),
        "{text}"
    );
    assert!(text.contains("GEZD GNBV"));
}

#[test]
fn step_totp_mono_puts_the_secret_and_uri_first() {
    let mut s = totp_on_scan_step();
    s.theme = ThemeName::Mono;
    let t = draw(&s, 80, 24);
    let text = screen_text(t.backend().buffer());
    assert!(text.contains("GEZD GNBV"));
    assert!(
        !t.backend()
            .buffer()
            .content
            .iter()
            .any(|c| c.bg == Color::Indexed(231))
    );
    // `t` brings the QR code back.
    update(&mut s, ch('t'));
    let t = draw(&s, 80, 24);
    assert_eq!(qr_rect(t.backend().buffer()).width, 45);
}

#[test]
fn step_push_scan_approve_and_failed() {
    let mut s = wizard_home();
    s.demo = Some(DemoInfo {
        username: "alice@contoso.test".into(),
        password: "pw".into(),
        db_path: "/tmp/x.db".into(),
        phone_dir: "/tmp/phone".into(),
    });
    choose(&mut s, MethodKind::AuthenticatorPush);
    let id = begin_id(&press(&mut s, KeyCode::Enter));
    update(
        &mut s,
        Action::EnrollmentBegun {
            id,
            result: Ok(push_enrollment()),
        },
    );
    let t = draw(&s, 80, 24);
    insta::assert_snapshot!("step_push_scan", t.backend());
    let buf = t.backend().buffer();
    assert_eq!(
        decode(buf, qr_rect(buf), false),
        vec![push_enrollment().qr_payload.unwrap().expose().to_string()]
    );
    update(&mut s, ch('t'));
    insta::assert_snapshot!("step_push_cant_scan", draw(&s, 80, 24).backend());
    update(&mut s, ch('t'));
    let (id, _, _) = verify_of(&press(&mut s, KeyCode::Enter));
    update(
        &mut s,
        Action::EnrollmentChecked {
            id,
            result: Ok(EnrollmentState::AwaitingApproval { number: Some(42) }),
        },
    );
    let t = draw(&s, 80, 24);
    insta::assert_snapshot!("step_push_approve", t.backend());
    let buf = t.backend().buffer();
    let y = (0..24).find(|&y| row_text(buf, y).trim() == "42").unwrap();
    assert_eq!(buf[(7, y)].fg, Color::Yellow);
    let (id, _, _) = verify_of(&[Effect::VerifyEnrollment {
        id: s.wizard.as_ref().unwrap().pending.unwrap(),
        enrollment: push_enrollment(),
        code: None,
        delay: Duration::ZERO,
    }]);
    update(
        &mut s,
        Action::EnrollmentChecked {
            id,
            result: Err(BackendError::Rejected {
                reason: Refusal::from_native("push_denied"),
                message: "the test notification was denied on the phone; try again to send another"
                    .into(),
            }),
        },
    );
    insta::assert_snapshot!("step_push_failed", draw(&s, 80, 24).backend());
}

#[test]
fn step_phone_number_and_code() {
    let mut s = wizard_home();
    choose(&mut s, MethodKind::Phone);
    type_text(&mut s, "425 555");
    press(&mut s, KeyCode::Enter);
    let mut t = draw(&s, 80, 24);
    insta::assert_snapshot!("step_phone_number_invalid", t.backend());
    let buf = t.backend().buffer().clone();
    let pos = t.get_cursor_position().unwrap();
    assert!(row_text(&buf, pos.y).contains("Phone number"));
    type_text(&mut s, " 0123");
    let id = begin_id(&press(&mut s, KeyCode::Enter));
    let mut e = totp_enrollment();
    e.kind = MethodKind::Phone;
    e.qr_payload = None;
    e.secret = None;
    e.sent_to = Some("+1 XXXXXXXX23".into());
    update(&mut s, Action::EnrollmentBegun { id, result: Ok(e) });
    type_text(&mut s, "12");
    insta::assert_snapshot!("step_phone_code", draw(&s, 80, 24).backend());
}

#[test]
fn step_first_run_title() {
    let mut s = wizard_home();
    s.wizard = Some(Wizard::new(true));
    let t = draw(&s, 80, 24);
    insta::assert_snapshot!(t.backend());
    assert!(row_text(t.backend().buffer(), 0).contains("Let's keep your account secure"));
}

// ---- decoding what is on screen ------------------------------------------------------

/// Pixels of the cells in `rect`, honouring fg/bg (and a terminal that swaps them).
fn decode(buf: &Buffer, rect: Rect, swapped: bool) -> Vec<String> {
    let luma = |c: Color| match c {
        Color::Indexed(16) => 0u8,
        Color::Indexed(231) => 255,
        _ => 128,
    };
    qr_support::decode(qr_support::raster(rect.width, rect.height, |cx, cy| {
        let c = &buf[(rect.x + cx, rect.y + cy)];
        let (mut fg, mut bg) = (luma(c.fg), luma(c.bg));
        if c.modifier.contains(Modifier::REVERSED) != swapped {
            std::mem::swap(&mut fg, &mut bg);
        }
        (c.symbol().to_string(), fg, bg)
    }))
}

// ---- journeys against the real server ------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_scans_the_totp_qr_on_screen_and_the_code_it_yields_is_accepted() {
    let world = World::default().await;
    let mut d = Driver::signed_in(&world, false).await;
    let before = d.state.methods.ready().unwrap().len();
    d.add(MethodKind::Totp).await;
    let w = wiz(&d.state);
    assert!(matches!(w.step, WizardStep::Scan { .. }), "{:?}", w.step);
    let server_uri = w.enrollment.as_ref().unwrap().qr_payload.clone().unwrap();
    let server_secret = w.enrollment.as_ref().unwrap().secret.clone().unwrap();

    // What a phone camera sees: the cells on the 80×24 screen.
    let t = draw(&d.state, 80, 24);
    let buf = t.backend().buffer();
    let rect = qr_rect(buf);
    assert!(rect.width >= 41 && rect.height <= 23, "{rect:?}");
    for y in rect.y..rect.bottom() {
        for x in rect.x..rect.right() {
            let c = &buf[(x, y)];
            assert_eq!((c.fg, c.bg), (Color::Indexed(16), Color::Indexed(231)));
        }
    }
    let decoded = decode(buf, rect, false);
    assert_eq!(decoded.len(), 1, "one code on screen");
    let uri = &decoded[0];
    assert_eq!(*uri, secinfo::qr::short_otpauth(server_uri.expose()));
    // The same secret, issuer and account as the server chose.
    let totp = totp_rs::Totp::from_url_unchecked(uri).unwrap();
    let server_totp = totp_rs::Totp::from_url_unchecked(server_uri.expose()).unwrap();
    for t in [59, 1_764_000_000, 2_000_000_000] {
        assert_eq!(
            totp.generate(t).to_string(),
            server_totp.generate(t).to_string(),
            "same secret"
        );
    }
    assert!(uri.contains(&format!("secret={}", server_secret.expose())));
    assert_eq!(totp.issuer(), server_totp.issuer());
    assert_eq!(totp.account_name(), server_totp.account_name());
    assert!(totp.account_name().contains(&world.demo.username));

    // A wrong code first: refused, the QR stays.
    let right = totp.generate_current().to_string();
    let wrong = server_support::wrong_code(&right);
    for c in wrong.chars() {
        d.act(ch(c)).await;
    }
    d.press(KeyCode::Enter).await;
    let w = wiz(&d.state);
    assert!(
        w.error.as_deref().unwrap().contains("not right"),
        "{:?}",
        w.error
    );
    assert!(matches!(w.step, WizardStep::Scan { .. }));

    let code = totp.generate_current().to_string();
    for c in code.chars() {
        d.act(ch(c)).await;
    }
    d.press(KeyCode::Enter).await;
    assert!(d.state.wizard.is_none(), "saved: {:?}", d.state.wizard);
    let n = d.state.notice.clone().unwrap();
    assert_eq!(n.tone, Tone::Success, "{}", n.text);
    let methods = d.state.methods.ready().unwrap();
    assert_eq!(methods.len(), before + 1);
    assert!(
        methods
            .iter()
            .any(|m| m.kind == MethodKind::Totp && m.usable_mfa)
    );
    assert!(
        world
            .notices(&world.demo.username)
            .iter()
            .any(|b| b.to_lowercase().contains("added")),
        "a security notice went to the account's email"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_mid_wizard_cancels_the_pending_enrollment_on_the_server() {
    let world = World::default().await;
    let mut d = Driver::signed_in(&world, false).await;
    d.add(MethodKind::Totp).await;
    let e = wiz(&d.state).enrollment.clone().unwrap();
    d.press(KeyCode::Esc).await;
    assert!(d.state.wizard.is_none());
    // The server no longer knows it: verifying it fails.
    let err = d
        .deps
        .backend
        .verify_enrollment(&e, Some(&SecretString::new("123456")))
        .await
        .unwrap_err();
    assert_ne!(err.code(), "invalid_code", "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_user_adds_the_authenticator_app_with_the_simulated_phone_in_one_terminal() {
    let world = World::default().await;
    let mut d = Driver::signed_in(&world, true).await;
    let devices_before = d.deps.backend.devices().await.unwrap().len();
    d.add(MethodKind::AuthenticatorPush).await;
    assert_eq!(wiz(&d.state).step, WizardStep::GetApp);
    d.press(KeyCode::Enter).await;
    assert!(matches!(wiz(&d.state).step, WizardStep::Scan { .. }));
    // p: the simulated phone scans the activation payload, then the test push comes.
    d.act(ch('p')).await;
    let said = wiz(&d.state).phone_said.clone();
    assert!(matches!(said, Some(Ok(_))), "{said:?}");
    let mut number = None;
    for _ in 0..50 {
        if let WizardStep::Approve { number: Some(n) } = wiz(&d.state).step {
            number = Some(n);
            break;
        }
        d.poll().await;
    }
    assert!(number.is_some(), "{:?}", wiz(&d.state).step);
    let t = draw(&d.state, 80, 24);
    assert!(screen_text(t.backend().buffer()).contains(&number.unwrap().to_string()));
    d.act(ch('p')).await;
    for _ in 0..50 {
        if d.state.wizard.is_none() {
            break;
        }
        d.poll().await;
    }
    assert!(d.state.wizard.is_none(), "{:?}", d.state.wizard);
    assert_eq!(d.state.notice.as_ref().unwrap().tone, Tone::Success);
    assert_eq!(
        d.deps.backend.devices().await.unwrap().len(),
        devices_before + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_without_a_second_factor_is_taken_straight_into_the_wizard_and_adds_a_code_app()
{
    let world = World::default().await;
    let password = SecretString::new("a-long-enough-passphrase");
    secinfo::server::admin::add_user(&world.db, "carol@contoso.test", "Carol", &password).unwrap();
    let mut d = Driver::signed_out(&world).await;
    for c in "carol@contoso.test".chars() {
        d.act(ch(c)).await;
    }
    d.press(KeyCode::Tab).await;
    for c in password.expose().chars() {
        d.act(ch(c)).await;
    }
    d.press(KeyCode::Enter).await;
    let w = wiz(&d.state);
    assert!(w.first_run, "{:?}", d.state.signin);
    assert_eq!(
        d.state.screen,
        Screen::Home,
        "Security info is behind the wizard"
    );
    let t = draw(&d.state, 80, 24);
    assert!(screen_text(t.backend().buffer()).contains("Let's keep your account secure"));
    d.add_from_wizard(MethodKind::Totp).await;
    let t = draw(&d.state, 80, 24);
    let buf = t.backend().buffer();
    let uri = decode(buf, qr_rect(buf), false)
        .pop()
        .expect("a code on screen");
    assert!(uri.contains("carol"), "{uri}");
    let code = totp_rs::Totp::from_url_unchecked(&uri)
        .unwrap()
        .generate_current()
        .to_string();
    for c in code.chars() {
        d.act(ch(c)).await;
    }
    d.press(KeyCode::Enter).await;
    assert!(d.state.wizard.is_none(), "{:?}", d.state.wizard);
    let ms = d.state.methods.ready().unwrap();
    assert!(
        ms.iter()
            .any(|m| m.kind == MethodKind::Totp && m.usable_mfa),
        "{ms:?}"
    );
}
