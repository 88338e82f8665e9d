//! Every screen drawn at 80×24 through ratatui's TestBackend. Text goes into
//! insta snapshots; styles (focus marker, colors) and the hardware cursor are
//! asserted separately because text snapshots do not capture them.

mod tui_support;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Position;
use ratatui::style::{Color, Modifier};
use secinfo::app::state::*;
use secinfo::app::{Action, Effect, update};
use secinfo::backend::{BackendError, FactorStarted, SignIn};
use secinfo::config::ThemeName;
use tui_support::*;

fn draw(s: &State, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| secinfo::ui::render(s, f)).unwrap();
    t
}

fn screen(s: &State) -> Terminal<TestBackend> {
    draw(s, 80, 24)
}

fn row_text(buf: &Buffer, y: u16) -> String {
    (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol().to_string())
        .collect()
}

fn find_row(buf: &Buffer, needle: &str) -> u16 {
    (0..buf.area.height)
        .find(|y| row_text(buf, *y).contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not on screen"))
}

/// The focused row: marker "> ", reversed + bold, and the cursor on it.
fn assert_focus(t: &mut Terminal<TestBackend>, needle: &str) {
    let buf = t.backend().buffer().clone();
    let y = find_row(&buf, needle);
    let text = row_text(&buf, y);
    let x = text.find("> ").expect("focus marker") as u16;
    let cell = &buf[(x + 2, y)];
    assert!(
        cell.modifier.contains(Modifier::REVERSED | Modifier::BOLD),
        "focus visible without color: {cell:?}"
    );
    assert_eq!(
        t.get_cursor_position().unwrap().y,
        y,
        "hardware cursor on the focused row"
    );
}

fn demo_info() -> DemoInfo {
    DemoInfo {
        username: "alice@contoso.test".into(),
        password: "correct-horse".into(),
        db_path: "/tmp/demo.db".into(),
        phone_dir: "/tmp/phone".into(),
    }
}

fn loaded_home() -> State {
    let mut s = home();
    s.spinner = 0;
    s
}

#[test]
fn home_loaded() {
    let s = loaded_home();
    let mut t = screen(&s);
    insta::assert_snapshot!(t.backend());
    assert_focus(&mut t, "Default sign-in method");
    let buf = t.backend().buffer().clone();
    let y = find_row(&buf, "Sign out everywhere");
    let x = row_text(&buf, y).find("Sign out everywhere").unwrap() as u16;
    assert_eq!(buf[(x, y)].fg, Color::Red, "danger role");
    let status = row_text(&buf, 23);
    assert!(
        status.contains("profile: work") && status.contains("https://id.contoso.test"),
        "{status}"
    );
}

#[test]
fn home_loading() {
    let mut s = state();
    secinfo::app::init(&mut s, secinfo::app::Start::SignedIn);
    insta::assert_snapshot!(screen(&s).backend());
}

#[test]
fn home_error() {
    let mut s = loaded_home();
    s.methods = Loadable::Failed(BackendError::Unreachable {
        url: "https://id.contoso.test".into(),
        reason: "connection refused".into(),
    });
    insta::assert_snapshot!(screen(&s).backend());
}

#[test]
fn home_empty() {
    let mut s = loaded_home();
    s.methods = Loadable::Ready(vec![]);
    insta::assert_snapshot!(screen(&s).backend());
}

#[test]
fn home_with_focus_on_a_method_in_mono_has_no_color_but_a_visible_focus() {
    let mut s = loaded_home();
    s.theme = ThemeName::Mono;
    s.home_focus = 3;
    let mut t = screen(&s);
    assert_focus(&mut t, "Authenticator app (code)");
    let buf = t.backend().buffer();
    for y in 0..24 {
        for x in 0..80 {
            let c = &buf[(x, y)];
            assert!(
                c.fg == Color::Reset && c.bg == Color::Reset,
                "color at {x},{y} in mono: {c:?}"
            );
        }
    }
}

#[test]
fn home_reflows_when_small_and_keeps_focus_in_view() {
    let mut s = loaded_home();
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::SignOutEverywhere)
        .unwrap();
    let mut t = draw(&s, 60, 14);
    assert_focus(&mut t, "Sign out everywhere");
    let mut t = draw(&s, 120, 40);
    assert_focus(&mut t, "Sign out everywhere");
}

#[test]
fn server_text_with_control_characters_is_drawn_safely() {
    let mut s = loaded_home();
    let mut ms = alice_methods();
    ms[0].detail = "Pixel\u{1b}[31m 8".into();
    s.methods = Loadable::Ready(ms);
    let t = screen(&s);
    let all: String = (0..24).map(|y| row_text(t.backend().buffer(), y)).collect();
    assert!(!all.contains('\u{1b}'));
}

#[test]
fn signin_accounts() {
    let mut s = state();
    s.accounts = vec![
        known("alice@contoso.test", "Alice Example"),
        known("bob@contoso.test", "Bob Builder"),
    ];
    secinfo::app::init(&mut s, secinfo::app::Start::SignIn);
    let mut t = screen(&s);
    insta::assert_snapshot!(t.backend());
    assert_focus(&mut t, "Alice Example");
}

#[test]
fn signin_password_with_error() {
    let mut s = state();
    secinfo::app::init(&mut s, secinfo::app::Start::SignIn);
    type_text(&mut s, "alice@contoso.test");
    press(&mut s, KeyCode::Tab);
    type_text(&mut s, "s3cr3t");
    let fx = press(&mut s, KeyCode::Enter);
    update(
        &mut s,
        Action::PasswordChecked {
            id: id_of(&fx[0]),
            result: Err(BackendError::InvalidCredentials),
        },
    );
    let mut t = screen(&s);
    insta::assert_snapshot!(t.backend());
    assert!(
        !format!("{:?}", t.backend().buffer()).contains("s3cr3t"),
        "the password is never drawn"
    );
    let buf = t.backend().buffer().clone();
    let y = find_row(&buf, "Password");
    let cursor = t.get_cursor_position().unwrap();
    assert_eq!(
        cursor,
        Position {
            x: 1 + 2 + "Password".len() as u16 + 2,
            y
        },
        "cursor in the empty password field"
    );
}

fn verify_state(default: Option<&str>) -> (State, u64) {
    let mut s = state();
    secinfo::app::init(&mut s, secinfo::app::Start::SignIn);
    type_text(&mut s, "alice@contoso.test");
    press(&mut s, KeyCode::Tab);
    type_text(&mut s, "pw");
    let fx = press(&mut s, KeyCode::Enter);
    let fx = update(
        &mut s,
        Action::PasswordChecked {
            id: id_of(&fx[0]),
            result: Ok(SignIn::SecondFactor(challenge(default))),
        },
    );
    let id = fx.first().map(id_of).unwrap_or(0);
    (s, id)
}

#[test]
fn verify_choose() {
    let (s, _) = verify_state(None);
    let mut t = screen(&s);
    insta::assert_snapshot!(t.backend());
    assert_focus(&mut t, "Approve a request");
}

#[test]
fn verify_code_sent_by_email() {
    let (mut s, id) = verify_state(Some("m4"));
    update(
        &mut s,
        Action::FactorStarted {
            id,
            result: Ok(FactorStarted {
                number: None,
                sent_to: Some("a****@contoso.test".into()),
                expires_in: None,
            }),
        },
    );
    type_text(&mut s, "12");
    let mut t = screen(&s);
    insta::assert_snapshot!(t.backend());
    assert_focus(&mut t, "Code");
}

#[test]
fn verify_push_waiting_with_number() {
    let (mut s, id) = verify_state(Some("m1"));
    update(
        &mut s,
        Action::FactorStarted {
            id,
            result: Ok(FactorStarted {
                number: Some(42),
                sent_to: None,
                expires_in: None,
            }),
        },
    );
    s.spinner = 0;
    let mut t = screen(&s);
    insta::assert_snapshot!(t.backend());
    assert_focus(&mut t, "Don't ask again for 30 days");
    let buf = t.backend().buffer().clone();
    let y = find_row(&buf, "42");
    let x = row_text(&buf, y).find("42").unwrap() as u16;
    assert!(
        buf[(x, y)].modifier.contains(Modifier::BOLD),
        "the number stands out"
    );
}

#[test]
fn demo_banner_and_simulated_phone() {
    let (mut s, id) = verify_state(Some("m1"));
    s.demo = Some(demo_info());
    update(
        &mut s,
        Action::FactorStarted {
            id,
            result: Ok(FactorStarted {
                number: Some(42),
                sent_to: None,
                expires_in: None,
            }),
        },
    );
    s.spinner = 0;
    insta::assert_snapshot!("demo_push", screen(&s).backend());
    update(&mut s, ch('p'));
    type_text(&mut s, "42");
    insta::assert_snapshot!("demo_phone_panel", screen(&s).backend());
}

#[test]
fn step_up_before_a_change() {
    let mut s = loaded_home();
    let refused = Effect::Change {
        id: 98,
        change: Change::DeleteMethod {
            id: "m3".into(),
            name: "+1 XXXXXXXX23".into(),
            label: "Phone +1 XXXXXXXX23".into(),
            confirm: None,
        },
    };
    let fx = update(&mut s, Action::StepUpNeeded(Box::new(refused)));
    let [Effect::StepUp { id }] = fx[..] else {
        panic!("{fx:?}")
    };
    update(
        &mut s,
        Action::SteppedUp {
            id,
            result: Ok(SignIn::SecondFactor(challenge(None))),
        },
    );
    insta::assert_snapshot!(screen(&s).backend());
}

fn list_screen(screen: Screen) -> State {
    let mut s = loaded_home();
    s.screen = screen;
    s.devices = Loadable::Ready(devices());
    s.sessions = Loadable::Ready(sessions());
    s.remembered = Loadable::Ready(remembered());
    s
}

#[test]
fn devices_screen() {
    let mut t = screen(&list_screen(Screen::Devices));
    insta::assert_snapshot!(t.backend());
    assert_focus(&mut t, "Pixel 8");
}

#[test]
fn sessions_mark_this_one() {
    let mut t = screen(&list_screen(Screen::Sessions));
    insta::assert_snapshot!(t.backend());
    assert_focus(&mut t, "(this one)");
}

#[test]
fn recent_activity_marks_a_failed_sign_in_without_color() {
    let mut s = list_screen(Screen::Activity);
    s.activity = Loadable::Ready(activity_page(Some("2")));
    s.theme = secinfo::config::ThemeName::Mono;
    let mut t = screen(&s);
    insta::assert_snapshot!(t.backend());
    assert_focus(&mut t, "Signed in");
    let failed = row_text(
        t.backend().buffer(),
        find_row(t.backend().buffer(), "wrong password"),
    );
    assert!(failed.contains("! Sign-in failed"), "{failed}");
}

#[test]
fn recent_activity_columns_take_the_width_there_is() {
    let mut s = list_screen(Screen::Activity);
    s.activity = Loadable::Ready(activity_page(None));
    let t = draw(&s, 120, 24);
    let row = row_text(
        t.backend().buffer(),
        find_row(t.backend().buffer(), "was added"),
    );
    assert!(
        row.contains("the sign-in method Email (a****@contoso.test) was added"),
        "at 120 columns nothing is cut: {row}"
    );
}

#[test]
fn remembered_devices_mark_this_one() {
    let t = screen(&list_screen(Screen::Remembered));
    insta::assert_snapshot!(t.backend());
}

#[test]
fn confirm_delete_device_dialog() {
    let mut s = list_screen(Screen::Devices);
    update(&mut s, ch('d'));
    let mut t = screen(&s);
    insta::assert_snapshot!(t.backend());
    assert_focus(&mut t, "[ Cancel ]");
    let buf = t.backend().buffer().clone();
    let y = find_row(&buf, "[ Delete device ]");
    let x = row_text(&buf, y).find("[ Delete device ]").unwrap() as u16;
    assert_eq!(
        buf[(x, y)].fg,
        Color::Red,
        "the destructive button is in the danger role"
    );
}

#[test]
fn sign_out_everywhere_confirmation() {
    let mut s = loaded_home();
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::SignOutEverywhere)
        .unwrap();
    press(&mut s, KeyCode::Enter);
    insta::assert_snapshot!(screen(&s).backend());
}

#[test]
fn last_method_type_the_name() {
    let mut s = loaded_home();
    s.overlay = Some(Overlay::TypeName(TypeName {
        title: "This is your last sign-in method".into(),
        lines: vec![
            "Deleting it leaves the account without a second factor.".into(),
            "Without it, signing in needs only your password.".into(),
            "To delete it anyway, type Pixel 8 and press Enter.".into(),
        ],
        expected: "Pixel 8".into(),
        input: "Pix".into(),
        change: Change::DeleteDevice {
            id: "d1".into(),
            name: "Pixel 8".into(),
            confirm: None,
        },
        error: None,
    }));
    insta::assert_snapshot!(screen(&s).backend());
}

#[test]
fn add_method_menu_shows_what_cannot_be_added_and_why() {
    let mut s = loaded_home();
    s.home_focus = 1;
    press(&mut s, KeyCode::Enter);
    insta::assert_snapshot!(screen(&s).backend());
}

#[test]
fn help() {
    let mut s = loaded_home();
    update(&mut s, ch('?'));
    insta::assert_snapshot!(screen(&s).backend());
}

#[test]
fn high_contrast_focus_is_black_on_yellow() {
    let mut s = loaded_home();
    s.theme = ThemeName::HighContrast;
    let t = screen(&s);
    let buf = t.backend().buffer();
    let y = find_row(buf, "Default sign-in method");
    let cell = &buf[(3, y)];
    assert_eq!((cell.fg, cell.bg), (Color::Black, Color::Yellow));
}

#[test]
fn demo_outbox_panel() {
    let mut s = loaded_home();
    s.demo = Some(demo_info());
    s.overlay = Some(Overlay::Outbox(Loadable::Ready(vec![SentMessage {
        channel: "email".into(),
        recipient: "alice@contoso.test".into(),
        body: "Your Contoso verification code is 314159.".into(),
        sent_at: "2026-12-01T08:00:00Z".into(),
    }])));
    insta::assert_snapshot!(screen(&s).backend());
}

/// Each row as runs of one style: `x..x fg/bg MODS "text"`, so a theme's
/// snapshot shows where every colour and modifier falls, not just the text.
fn styled_rows(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut runs: Vec<(u16, u16, String, String)> = Vec::new();
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            let style = format!("{:?}/{:?} {:?}", c.fg, c.bg, c.modifier);
            match runs.last_mut() {
                Some(r) if r.2 == style => {
                    r.1 = x;
                    r.3.push_str(c.symbol());
                }
                _ => runs.push((x, x, style, c.symbol().to_string())),
            }
        }
        let shown: Vec<String> = runs
            .into_iter()
            .filter(|r| r.2 != "Reset/Reset NONE" || !r.3.trim().is_empty())
            .map(|(a, b, s, t)| format!("{a}..{b} {s} {:?}", t.trim_end()))
            .collect();
        out.push_str(&format!("{y:2}: {}\n", shown.join(" | ")));
    }
    out
}

#[test]
fn every_theme_styles_security_info_by_role() {
    for theme in [
        ThemeName::Default,
        ThemeName::HighContrast,
        ThemeName::Light,
        ThemeName::Mono,
    ] {
        let mut s = loaded_home();
        s.theme = theme;
        s.notice = Some(Notice {
            text: "Could not delete: the server answered 500".into(),
            tone: Tone::Error,
        });
        let t = screen(&s);
        insta::assert_snapshot!(
            format!("theme_{theme:?}"),
            styled_rows(t.backend().buffer())
        );
        // Focus shows without colour in every theme: reversed or on its own background.
        let buf = t.backend().buffer();
        let y = find_row(buf, "Default sign-in method");
        let cell = &buf[(3, y)];
        assert!(
            cell.modifier.contains(Modifier::REVERSED) || cell.bg != Color::Reset,
            "{theme:?}: {cell:?}"
        );
    }
}

#[test]
fn the_light_theme_has_no_yellow_or_cyan_text_on_its_background() {
    let mut s = loaded_home();
    s.theme = ThemeName::Light;
    let t = screen(&s);
    let buf = t.backend().buffer();
    for c in buf.content() {
        let on_background = c.bg == Color::Reset && !c.modifier.contains(Modifier::REVERSED);
        let faint = matches!(
            c.fg,
            Color::Yellow | Color::LightYellow | Color::Cyan | Color::LightCyan | Color::White
        );
        assert!(
            !(on_background && faint && !c.symbol().trim().is_empty()),
            "{c:?}"
        );
    }
}

#[test]
fn below_a_screens_minimum_size_it_says_so_instead_of_cutting_columns() {
    let s = list_screen(Screen::Sessions);
    let t = draw(&s, 60, 24);
    let all: String = (0..24).map(|y| row_text(t.backend().buffer(), y)).collect();
    assert!(
        all.contains("Terminal too small: need 71×10, it is 60×24."),
        "{all}"
    );
    assert!(all.contains("--plain"), "{all}");
    let t = draw(&loaded_home(), 80, 9);
    let all: String = (0..9).map(|y| row_text(t.backend().buffer(), y)).collect();
    assert!(all.contains("need 56×10, it is 80×9"), "{all}");
}

#[test]
fn table_columns_share_the_width_and_an_address_keeps_its_domain() {
    let mut s = loaded_home();
    let mut ms = alice_methods();
    ms[3].detail = "a.very.long.mailbox.name@mail.contoso-example.test".into();
    s.methods = Loadable::Ready(ms);
    let t = draw(&s, 80, 24);
    let row = row_text(
        t.backend().buffer(),
        find_row(t.backend().buffer(), "Email"),
    );
    assert!(
        row.contains("…") && row.contains("contoso-example.test 2026-11-02"),
        "the domain stays, and a space before the date: {row}"
    );
    let t = draw(&s, 120, 24);
    let row = row_text(
        t.backend().buffer(),
        find_row(t.backend().buffer(), "Email"),
    );
    assert!(
        row.contains("a.very.long.mailbox.name@mail.contoso-example.test"),
        "with room nothing is cut: {row}"
    );
    assert!(row.contains("2026-11-02"), "the date is whole: {row}");
}

#[test]
fn in_the_demo_at_80x24_every_home_row_is_in_view() {
    let mut s = loaded_home();
    s.demo = Some(demo_info());
    let t = screen(&s);
    let all: Vec<String> = (0..24).map(|y| row_text(t.backend().buffer(), y)).collect();
    for row in [
        "I lost my phone",
        "Lost device? Sign out everywhere",
        "   Sign out ",
    ] {
        assert!(
            all.iter().any(|l| l.contains(row)),
            "{row:?} is below the fold:\n{}",
            all.join("\n")
        );
    }
}

/// With many methods only the rows around the focus are drawn (a frame costs
/// the same with 1,000 as with 10): the focused row and its neighbours show,
/// at the top, in the middle and at the end of the list.
#[test]
fn a_long_list_scrolls_to_the_focused_method() {
    let mut s = loaded_home();
    s.methods = secinfo::app::state::Loadable::Ready(
        (0..1000)
            .map(|i| {
                method(
                    &format!("m{i}"),
                    secinfo::domain::MethodKind::Phone,
                    &format!("Phone {i}"),
                    false,
                )
            })
            .collect(),
    );
    for (focus, shown) in [(2, "Phone 0"), (502, "Phone 500"), (1001, "Phone 999")] {
        s.home_focus = focus;
        let t = screen(&s);
        let text = t.backend().to_string();
        assert!(text.contains(shown), "{shown} at focus {focus}:\n{text}");
    }
    s.home_focus = 1001 + 3;
    let t = screen(&s);
    let text = t.backend().to_string();
    assert!(
        text.contains("Phone 999") && text.contains("Sessions"),
        "{text}"
    );
}
