// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Changing security info from the TUI against the real reference server:
//! rename a device, change a phone number (re-verified), change the password,
//! app passwords (shown once) and recovery codes, plus the pure form rules.

#[path = "tui_support/driver.rs"]
mod driver;
mod server_support;
mod tui_support;

use crossterm::event::KeyCode;
use driver::Driver;
use secinfo::app::state::*;
use secinfo::app::{Effect, update};
use secinfo::domain::MethodKind;
use server_support::World;
use tui_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_renames_the_phone_behind_the_authenticator_app() {
    let world = World::default().await;
    let mut d = Driver::signed_in(&world, false).await;
    d.row_action(MethodKind::AuthenticatorPush, "Rename device")
        .await;
    let Some(Overlay::Form(f)) = &d.state.overlay else {
        panic!("{:?}", d.state.overlay)
    };
    assert_eq!(
        f.fields[0].value.expose(),
        "Alice's phone",
        "the old name to edit"
    );
    for _ in 0.."Alice's phone".len() {
        d.press(KeyCode::Backspace).await;
    }
    d.type_text("Work Pixel").await;
    d.press(KeyCode::Enter).await;
    let n = d.state.notice.clone().unwrap();
    assert_eq!(n.tone, Tone::Success, "{}", n.text);
    let methods = d.state.methods.ready().unwrap();
    let on_device: Vec<_> = methods.iter().filter(|m| m.device_id.is_some()).collect();
    assert!(!on_device.is_empty());
    assert!(
        on_device.iter().all(|m| m.detail == "Work Pixel"),
        "{on_device:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_changes_the_phone_number_and_it_changes_only_after_the_new_one_is_verified() {
    let world = World::default().await;
    let mut d = Driver::signed_in(&world, false).await;
    d.row_action(MethodKind::Phone, "Change").await;
    assert!(matches!(&d.state.wizard, Some(w) if w.replaces.is_some()));
    d.type_text("425 555 0199").await;
    d.press(KeyCode::Enter).await;
    let w = d.state.wizard.clone().unwrap();
    assert!(
        matches!(w.step, WizardStep::Code { .. }),
        "{:?} {:?}",
        w.step,
        w.error
    );
    let before = d
        .state
        .methods
        .ready()
        .unwrap()
        .iter()
        .find(|m| m.kind == MethodKind::Phone)
        .unwrap()
        .detail
        .clone();
    assert!(before.ends_with("23"), "unchanged until verified: {before}");
    let code = world.last_code("+14255550199");
    d.type_text(&code).await;
    d.press(KeyCode::Enter).await;
    assert!(d.state.wizard.is_none(), "{:?}", d.state.wizard);
    assert_eq!(d.state.notice.as_ref().unwrap().tone, Tone::Success);
    let phone = d
        .state
        .methods
        .ready()
        .unwrap()
        .iter()
        .find(|m| m.kind == MethodKind::Phone)
        .unwrap()
        .detail
        .clone();
    assert!(phone.ends_with("99"), "{phone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_changes_the_password_after_a_mismatch_is_caught_without_losing_the_form() {
    let world = World::default().await;
    let mut d = Driver::signed_in(&world, false).await;
    d.row_action(MethodKind::Password, "Change password").await;
    d.type_text(&world.demo.password).await;
    d.press(KeyCode::Tab).await;
    d.type_text("a-much-longer-new-passphrase").await;
    d.press(KeyCode::Tab).await;
    d.type_text("a-much-longer-new-passphrasX").await;
    d.press(KeyCode::Enter).await;
    let Some(Overlay::Form(f)) = &d.state.overlay else {
        panic!("the form stays open")
    };
    assert_eq!(
        f.error.as_deref(),
        Some("The new passwords do not match; type the new one twice.")
    );
    assert_eq!(f.fields[0].value.expose(), world.demo.password);
    d.press(KeyCode::Backspace).await;
    d.type_text("e").await;
    d.press(KeyCode::Enter).await;
    let n = d.state.notice.clone().unwrap();
    assert_eq!(n.tone, Tone::Success, "{}", n.text);
    // The new password signs in; the old one no longer does.
    let ok = world
        .login_as(
            &world.demo.username,
            "a-much-longer-new-passphrase",
            "other",
            None,
        )
        .await;
    assert!(ok.status.is_success(), "{}", ok.body);
    let old = world
        .login_as(&world.demo.username, &world.demo.password, "other", None)
        .await;
    assert!(!old.status.is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_creates_an_app_password_sees_it_once_and_deletes_it() {
    let world = World::default().await;
    let mut d = Driver::signed_in(&world, false).await;
    d.open_home(HomeItem::AppPasswords).await;
    assert_eq!(d.state.screen, Screen::AppPasswords);
    assert!(d.state.app_passwords.ready().is_some());
    d.press(KeyCode::Enter).await;
    d.press(KeyCode::Enter).await;
    let Some(Overlay::Form(f)) = &d.state.overlay else {
        panic!("{:?}", d.state.overlay)
    };
    assert_eq!(
        f.error.as_deref(),
        Some("Type a name for the app password.")
    );
    d.type_text("Thunderbird").await;
    d.press(KeyCode::Enter).await;
    let Some(Overlay::ShowOnce(s)) = d.state.overlay.clone() else {
        panic!("{:?}", d.state.overlay)
    };
    let secret = s.secrets[0].expose().to_string();
    assert!(secret.len() >= 12, "a real password");
    // Copy goes out as OSC 52; closing drops it for good.
    let fx = update(&mut d.state, ch('c'));
    assert!(matches!(&fx[..], [Effect::Copy { text }] if text.expose() == secret));
    d.press(KeyCode::Enter).await;
    assert!(d.state.overlay.is_none());
    assert!(
        !format!("{:?}", d.state).contains(&secret),
        "never kept after closing"
    );
    let list = &d.state.app_passwords.ready().unwrap().0;
    assert_eq!(
        list.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["Thunderbird"]
    );
    // Delete with confirmation naming it.
    d.press(KeyCode::Char('d')).await;
    let Some(Overlay::Confirm(c)) = &d.state.overlay else {
        panic!("{:?}", d.state.overlay)
    };
    assert_eq!(c.title, "Delete app password Thunderbird?");
    d.press(KeyCode::Tab).await;
    d.press(KeyCode::Enter).await;
    assert_eq!(d.state.notice.as_ref().unwrap().tone, Tone::Success);
    assert!(d.state.app_passwords.ready().unwrap().0.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_generates_recovery_codes_then_replaces_them() {
    let world = World::default().await;
    let mut d = Driver::signed_in(&world, false).await;
    d.open_home(HomeItem::RecoveryCodes).await;
    assert_eq!(d.state.recovery_left, Loadable::Ready(None));
    d.press(KeyCode::Enter).await;
    d.press(KeyCode::Tab).await;
    d.press(KeyCode::Enter).await;
    let Some(Overlay::ShowOnce(s)) = d.state.overlay.clone() else {
        panic!("{:?}", d.state.overlay)
    };
    let n = s.secrets.len() as u32;
    assert!(n >= 5);
    assert_eq!(d.state.recovery_left, Loadable::Ready(Some(n)));
    d.press(KeyCode::Esc).await;
    // Regenerating says the old set stops working.
    d.press(KeyCode::Enter).await;
    let Some(Overlay::Confirm(c)) = &d.state.overlay else {
        panic!("{:?}", d.state.overlay)
    };
    assert_eq!(c.title, "Replace your recovery codes?");
    assert!(c.lines.iter().any(|l| l.contains("stop working")));
    d.press(KeyCode::Tab).await;
    d.press(KeyCode::Enter).await;
    let Some(Overlay::ShowOnce(s2)) = d.state.overlay.clone() else {
        panic!()
    };
    assert_ne!(s2.secrets[0].expose(), s.secrets[0].expose());
}

#[test]
fn snapshot_forms_and_secret_dialogs() {
    let mut s = home();
    s.overlay = Some(Overlay::Form(Form {
        title: "Change password".into(),
        lines: vec!["Your other sessions are signed out when the password changes.".into()],
        fields: vec![
            FormField::new("Current password", "old", true),
            FormField::new("New password    ", "new", true),
            FormField::new("New again       ", "", true),
        ],
        focus: 2,
        error: Some("The new passwords do not match; type the new one twice.".into()),
        purpose: FormPurpose::ChangePassword,
    }));
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    t.draw(|f| secinfo::ui::render(&s, f)).unwrap();
    insta::assert_snapshot!("change_password_form", t.backend());
    let text: String = t
        .backend()
        .buffer()
        .content
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(
        !text.contains("old") && text.contains("•••"),
        "passwords drawn as dots"
    );
    s.overlay = Some(Overlay::ShowOnce(ShowOnce {
        title: "App password Thunderbird".into(),
        lines: vec!["Type this in the app instead of your password. It is shown only now.".into()],
        secrets: vec![secinfo::secrets::SecretString::new("abcd-efgh-ijkl-mnop")],
        copied: false,
    }));
    t.draw(|f| secinfo::ui::render(&s, f)).unwrap();
    insta::assert_snapshot!("app_password_shown_once", t.backend());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_password_policy_is_said_in_the_form_with_everything_still_typed() {
    let world = World::default().await;
    let mut d = Driver::signed_in(&world, false).await;
    d.row_action(MethodKind::Password, "Change password").await;
    d.type_text(&world.demo.password).await;
    d.press(KeyCode::Tab).await;
    d.type_text("short").await;
    d.press(KeyCode::Tab).await;
    d.type_text("short").await;
    d.press(KeyCode::Enter).await;
    let Some(Overlay::Form(f)) = &d.state.overlay else {
        panic!("the form comes back: {:?}", d.state.notice)
    };
    let said = f.error.clone().unwrap();
    assert!(said.contains("password"), "the server's reason: {said}");
    assert_eq!(f.fields[0].value.expose(), world.demo.password);
    assert_eq!(f.fields[1].value.expose(), "short");
    // Wrong current password: said the same way.
    d.press(KeyCode::Esc).await;
    d.row_action(MethodKind::Password, "Change password").await;
    d.type_text("not-my-password").await;
    d.press(KeyCode::Tab).await;
    d.type_text("a-much-longer-new-passphrase").await;
    d.press(KeyCode::Tab).await;
    d.type_text("a-much-longer-new-passphrase").await;
    d.press(KeyCode::Enter).await;
    let Some(Overlay::Form(f)) = &d.state.overlay else {
        panic!("the form comes back: {:?}", d.state.notice)
    };
    assert!(f.error.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_renames_a_device_from_the_devices_screen() {
    let world = World::default().await;
    let mut d = Driver::signed_in(&world, false).await;
    d.open_home(HomeItem::Devices).await;
    assert_eq!(d.state.screen, Screen::Devices);
    d.press(KeyCode::Enter).await;
    let Some(Overlay::Menu(m)) = &d.state.overlay else {
        panic!("{:?}", d.state.overlay)
    };
    assert_eq!(m.items[0].label, "Rename device");
    d.press(KeyCode::Enter).await;
    for _ in 0.."Alice's phone".len() {
        d.press(KeyCode::Backspace).await;
    }
    d.type_text("Old Pixel").await;
    d.press(KeyCode::Enter).await;
    assert_eq!(d.state.notice.as_ref().unwrap().tone, Tone::Success);
    let names: Vec<_> = d
        .state
        .devices
        .ready()
        .unwrap()
        .iter()
        .map(|x| x.name.clone())
        .collect();
    assert_eq!(names, ["Old Pixel"]);
}

fn app_password(id: &str, name: &str) -> secinfo::domain::AppPassword {
    secinfo::domain::AppPassword {
        id: id.into(),
        name: name.into(),
        created: day(3),
        last_used: day(20),
    }
}

fn on_app_passwords(services: Vec<(String, String)>) -> State {
    let mut s = home();
    s.screen = Screen::AppPasswords;
    s.app_passwords = Loadable::Ready((vec![app_password("ap1", "Thunderbird")], services));
    s
}

#[test]
fn app_password_form_picks_a_service_when_the_backend_has_them_and_keeps_the_name() {
    let mut s = on_app_passwords(vec![
        ("mail".into(), "Mail (IMAP/SMTP)".into()),
        ("dav".into(), "Calendar and contacts".into()),
    ]);
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    type_text(&mut s, "Phone mail");
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Down);
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    t.draw(|f| secinfo::ui::render(&s, f)).unwrap();
    insta::assert_snapshot!("app_password_form_with_services", t.backend());
    let fx = press(&mut s, KeyCode::Enter);
    assert!(matches!(
        &fx[..],
        [Effect::CreateAppPassword { name, service: Some(svc), .. }] if name == "Phone mail" && svc == "dav"
    ));
    // Empty name: said in the form, nothing sent.
    let mut s = on_app_passwords(vec![]);
    press(&mut s, KeyCode::Enter);
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    let Some(Overlay::Form(f)) = &s.overlay else {
        panic!()
    };
    assert_eq!(
        f.error.as_deref(),
        Some("Type a name for the app password.")
    );
}

#[test]
fn app_password_and_recovery_screens_at_80x24() {
    let s = on_app_passwords(vec![]);
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    t.draw(|f| secinfo::ui::render(&s, f)).unwrap();
    insta::assert_snapshot!("app_passwords_screen", t.backend());
    let mut s = home();
    s.screen = Screen::RecoveryCodes;
    s.recovery_left = Loadable::Ready(Some(7));
    t.draw(|f| secinfo::ui::render(&s, f)).unwrap();
    insta::assert_snapshot!("recovery_codes_screen", t.backend());
    let fx = press(&mut s, KeyCode::Enter);
    assert!(fx.is_empty());
    let Some(Overlay::Confirm(c)) = &s.overlay else {
        panic!()
    };
    assert_eq!(c.title, "Replace your recovery codes?");
    press(&mut s, KeyCode::Tab);
    let fx = press(&mut s, KeyCode::Enter);
    assert!(
        matches!(&fx[..], [Effect::GenerateRecoveryCodes { .. }]),
        "{fx:?}"
    );
}

#[test]
fn row_menus_offer_the_right_change_for_each_kind() {
    let mut s = home();
    let mut methods = alice_methods();
    let mut pw = method("m5", secinfo::domain::MethodKind::Password, "", false);
    pw.usable_mfa = false;
    methods.push(pw);
    s.methods = Loadable::Ready(methods.clone());
    let labels = |s: &mut State, i: usize| {
        s.home_focus = 2 + i;
        press(s, KeyCode::Enter);
        let Some(Overlay::Menu(m)) = s.overlay.take() else {
            panic!()
        };
        m.items.into_iter().map(|x| x.label).collect::<Vec<_>>()
    };
    assert!(labels(&mut s, 0).contains(&"Rename device".to_string()));
    assert!(labels(&mut s, 2).contains(&"Change".to_string()));
    let pw = labels(&mut s, 4);
    assert!(pw.contains(&"Change password".to_string()), "{pw:?}");
    assert!(!pw.contains(&"Make this the default".to_string()), "{pw:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_changes_the_default_from_the_dialog_then_deleting_it_names_the_next_default() {
    let world = World::default().await;
    let mut d = Driver::signed_in(&world, false).await;
    d.open_home(HomeItem::ChangeDefault).await;
    let Some(Overlay::Menu(m)) = d.state.overlay.clone() else {
        panic!("{:?}", d.state.overlay)
    };
    assert_eq!(m.title, "Change default sign-in method");
    let methods = d.state.methods.ready().unwrap().clone();
    let eligible: Vec<String> = methods
        .iter()
        .filter(|m| m.usable_mfa)
        .map(method_name)
        .collect();
    let offered: Vec<String> = m
        .items
        .iter()
        .map(|i| i.label.clone())
        .filter(|l| l != "Cancel")
        .collect();
    assert_eq!(offered, eligible, "only usable MFA methods");
    let email = m
        .items
        .iter()
        .position(|i| i.label.starts_with("Email"))
        .unwrap();
    for _ in 0..email {
        d.press(KeyCode::Down).await;
    }
    d.press(KeyCode::Enter).await;
    let now = d.state.methods.ready().unwrap();
    assert!(now.iter().find(|m| m.is_default).unwrap().kind == MethodKind::Email);
    // Delete the (new) default: the confirmation says so, the result names the successor.
    d.row_action(MethodKind::Email, "Delete").await;
    let Some(Overlay::Confirm(c)) = d.state.overlay.clone() else {
        panic!("{:?}", d.state.overlay)
    };
    assert!(c.title.contains("Email"), "{}", c.title);
    assert!(
        c.lines.iter().any(|l| l.contains("default")),
        "{:?}",
        c.lines
    );
    d.press(KeyCode::Tab).await;
    d.press(KeyCode::Enter).await;
    let n = d.state.notice.clone().unwrap();
    assert_eq!(n.tone, Tone::Success);
    let next = d
        .state
        .methods
        .ready()
        .unwrap()
        .iter()
        .find(|m| m.is_default)
        .map(method_name)
        .unwrap();
    assert!(
        n.text
            .contains(&format!("Your default sign-in method is now {next}.")),
        "{}",
        n.text
    );
}
