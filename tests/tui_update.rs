//! The app's state machine, driven the way a user drives it: keys in, state
//! and effects out. No terminal, no backend: results are fed back as actions.

mod tui_support;

use crossterm::event::KeyCode;
use secinfo::app::keymap::{Command, Keymap, KeymapError};
use secinfo::app::state::*;
use secinfo::app::{Action, Effect, update};
use secinfo::backend::{BackendError, FactorStarted, Refusal, SignIn};
use std::collections::BTreeMap;
use tui_support::*;

fn focused(s: &State) -> HomeItem {
    s.home_items()[s.home_focus]
}

#[test]
fn arrows_and_vi_keys_move_the_focus_through_security_info_and_wrap() {
    let mut s = home();
    assert_eq!(focused(&s), HomeItem::ChangeDefault);
    press(&mut s, KeyCode::Down);
    assert_eq!(focused(&s), HomeItem::AddMethod);
    update(&mut s, ch('j'));
    assert_eq!(focused(&s), HomeItem::Method(0));
    update(&mut s, ch('k'));
    update(&mut s, ch('k'));
    assert_eq!(focused(&s), HomeItem::ChangeDefault);
    press(&mut s, KeyCode::Up);
    assert_eq!(
        focused(&s),
        HomeItem::SignOut,
        "moving up from the top wraps to the bottom"
    );
}

#[test]
fn a_kept_sign_in_is_taken_up_after_the_first_frame_then_security_info_loads() {
    let mut s = state();
    let fx = secinfo::app::init(&mut s, secinfo::app::Start::Resume("alice".into()));
    // The first frame is the home screen, loading: the keyring is read after it.
    assert_eq!(s.screen, Screen::Home);
    assert!(s.methods.is_loading() && s.is_loading());
    let [Effect::Resume { id, username }] = fx.as_slice() else {
        panic!("only the kept sign-in is read first: {fx:?}");
    };
    assert_eq!(username, "alice");
    let fx = update(
        &mut s,
        Action::Resumed {
            id: *id,
            kept: true,
        },
    );
    assert_eq!(
        fx.iter()
            .filter(|e| matches!(
                e,
                Effect::LoadAccount { .. }
                    | Effect::LoadCapabilities { .. }
                    | Effect::LoadMethods { .. }
            ))
            .count(),
        3,
        "then account, capabilities and methods load in parallel: {fx:?}"
    );
    assert_eq!(s.screen, Screen::Home);
}

#[test]
fn with_no_kept_sign_in_found_at_start_the_app_asks_to_sign_in() {
    let mut s = state();
    let fx = secinfo::app::init(&mut s, secinfo::app::Start::Resume("alice".into()));
    let [Effect::Resume { id, .. }] = fx.as_slice() else {
        panic!("{fx:?}");
    };
    let id = *id;
    // An answer for another request changes nothing.
    assert!(
        update(
            &mut s,
            Action::Resumed {
                id: id + 7,
                kept: false
            }
        )
        .is_empty()
    );
    assert_eq!(s.screen, Screen::Home);
    let fx = update(&mut s, Action::Resumed { id, kept: false });
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(s.screen, Screen::SignIn);
    assert!(!s.is_loading());
}

#[test]
fn security_info_shows_loading_then_data_and_ignores_stale_answers() {
    let mut s = state();
    let fx = secinfo::app::init(&mut s, secinfo::app::Start::SignedIn);
    assert_eq!(s.screen, Screen::Home);
    assert_eq!(
        fx.len(),
        3,
        "account, capabilities and methods load in parallel: {fx:?}"
    );
    assert!(s.methods.is_loading() && s.is_loading());
    let methods_id = fx
        .iter()
        .find(|e| matches!(e, Effect::LoadMethods { .. }))
        .map(id_of)
        .unwrap();
    update(
        &mut s,
        Action::Methods {
            id: methods_id + 100,
            result: Ok(vec![]),
        },
    );
    assert!(
        s.methods.is_loading(),
        "an answer to another request is dropped"
    );
    update(
        &mut s,
        Action::Methods {
            id: methods_id,
            result: Ok(alice_methods()),
        },
    );
    assert_eq!(s.methods.ready().map(Vec::len), Some(4));
}

#[test]
fn a_failed_load_is_a_visible_state_and_refresh_tries_again() {
    let mut s = home();
    let fx = update(&mut s, ch('r'));
    let id = fx
        .iter()
        .find(|e| matches!(e, Effect::LoadMethods { .. }))
        .map(id_of)
        .unwrap();
    let err = BackendError::Server {
        status: 500,
        message: "boom".into(),
    };
    update(
        &mut s,
        Action::Methods {
            id,
            result: Err(err.clone()),
        },
    );
    assert_eq!(s.methods, Loadable::Failed(err));
    assert_eq!(s.screen, Screen::Home, "the app keeps running");
    let fx = update(&mut s, ch('r'));
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadMethods { .. })));
}

#[test]
fn an_ended_sign_in_sends_the_user_back_to_sign_in() {
    let mut s = home();
    let fx = update(&mut s, ch('r'));
    let id = fx
        .iter()
        .find(|e| matches!(e, Effect::LoadMethods { .. }))
        .map(id_of)
        .unwrap();
    update(
        &mut s,
        Action::Methods {
            id,
            result: Err(BackendError::SignInRequired),
        },
    );
    assert_eq!(s.screen, Screen::SignIn);
    assert!(s.notice.as_ref().unwrap().text.contains("sign in again"));
}
#[test]
fn confirm_dialogs_start_on_cancel() {
    let mut s = home();
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::Method(2))
        .unwrap();
    update(&mut s, ch('d'));
    let Some(Overlay::Confirm(c)) = &s.overlay else {
        panic!("{:?}", s.overlay)
    };
    assert!(!c.yes_focused);
    let fx = press(&mut s, KeyCode::Enter);
    assert!(
        fx.is_empty() && s.overlay.is_none(),
        "Enter right away cancels"
    );
}

fn delete_phone(s: &mut State) -> Vec<Effect> {
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::Method(2))
        .unwrap();
    update(s, ch('d'));
    press(s, KeyCode::Tab);
    press(s, KeyCode::Enter)
}

#[test]
fn a_stale_change_asks_the_second_factor_again_and_retries_once() {
    let mut s = home();
    let fx = delete_phone(&mut s);
    let [
        Effect::Change {
            id: _,
            change:
                Change::DeleteMethod {
                    id: mid,
                    confirm: None,
                    ..
                },
        },
    ] = fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    assert_eq!(mid, "m3");
    let sent = fx[0].clone();
    // The effect runner hands a request refused for want of a fresh factor back whole.
    let fx = update(&mut s, Action::StepUpNeeded(Box::new(sent.clone())));
    let [Effect::StepUp { id }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    let mut ch = challenge(None);
    ch.options.truncate(2);
    let fx = update(
        &mut s,
        Action::SteppedUp {
            id: *id,
            result: Ok(SignIn::SecondFactor(ch)),
        },
    );
    assert!(fx.is_empty());
    let v = s.active_verify().expect("the step-up asks how to verify");
    assert!(!v.offers_remember(), "no 'Don't ask again' on a step-up");
    update(&mut s, ch_key('j'));
    let fx = press(&mut s, KeyCode::Enter);
    update(
        &mut s,
        Action::FactorStarted {
            id: id_of(&fx[0]),
            result: Ok(FactorStarted::default()),
        },
    );
    type_text(&mut s, "654321");
    let fx = press(&mut s, KeyCode::Enter);
    let fx = update(
        &mut s,
        Action::FactorAnswered {
            id: id_of(&fx[0]),
            result: Ok(SignIn::Done {
                mfa_setup_required: false,
            }),
        },
    );
    assert_eq!(fx, [sent], "the same request, under the same id");
    assert!(s.step_up.is_none());
    let fx = update(&mut s, Action::StepUpNeeded(Box::new(fx[0].clone())));
    assert!(fx.is_empty(), "only one retry");
    assert!(
        s.notice
            .as_ref()
            .unwrap()
            .text
            .contains("nothing was changed")
    );
}

fn ch_key(c: char) -> Action {
    tui_support::ch(c)
}

#[test]
fn a_delete_whose_answer_was_lost_but_is_done_says_both() {
    let mut s = home();
    let fx = delete_phone(&mut s);
    let fx = update(
        &mut s,
        Action::Changed {
            answer_lost: true,
            id: id_of(&fx[0]),
            result: Ok(None),
        },
    );
    let text = &s.notice.as_ref().unwrap().text;
    assert_eq!(
        text,
        &format!(
            "{} Deleted Phone +1 XXXXXXXX23.",
            secinfo::journeys::outcome::ANSWER_LOST_BUT_DONE
        )
    );
    assert!(
        fx.iter().any(|e| matches!(e, Effect::LoadMethods { .. })),
        "the list is read again: {fx:?}"
    );
}

#[test]
fn deleting_the_last_method_needs_its_name_typed() {
    let mut s = home();
    let fx = delete_phone(&mut s);
    let refused = BackendError::Rejected {
        reason: Refusal::from_native("last_method"),
        message: "This is your last sign-in method.".into(),
    };
    update(
        &mut s,
        Action::Changed {
            answer_lost: false,
            id: id_of(&fx[0]),
            result: Err(refused),
        },
    );
    let Some(Overlay::TypeName(t)) = &s.overlay else {
        panic!("{:?}", s.overlay)
    };
    assert_eq!(t.expected, "+1 XXXXXXXX23");
    type_text(&mut s, "+1 wrong");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    let Some(Overlay::TypeName(t)) = &s.overlay else {
        panic!()
    };
    assert!(t.error.is_some());
    s.overlay = Some(Overlay::TypeName(TypeName {
        input: String::new(),
        ..t.clone()
    }));
    type_text(&mut s, "+1 XXXXXXXX23");
    let fx = press(&mut s, KeyCode::Enter);
    assert!(
        matches!(fx.as_slice(), [Effect::Change { change: Change::DeleteMethod { confirm: Some(c), .. }, .. }] if c == "+1 XXXXXXXX23"),
        "{fx:?}"
    );
}

#[test]
fn sign_out_everywhere_explains_itself_then_returns_to_sign_in() {
    let mut s = home();
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::SignOutEverywhere)
        .unwrap();
    press(&mut s, KeyCode::Enter);
    let Some(Overlay::Confirm(c)) = &s.overlay else {
        panic!()
    };
    assert!(
        c.lines
            .join(" ")
            .contains("the next sign-in anywhere asks for a second factor")
    );
    press(&mut s, KeyCode::Tab);
    let fx = press(&mut s, KeyCode::Enter);
    assert!(matches!(
        fx.as_slice(),
        [Effect::Change {
            change: Change::SignOutEverywhere,
            ..
        }]
    ));
    let fx = update(
        &mut s,
        Action::Changed {
            answer_lost: false,
            id: id_of(&fx[0]),
            result: Ok(None),
        },
    );
    assert_eq!(s.screen, Screen::SignIn);
    assert_eq!(
        fx,
        vec![Effect::ForgetCredentials {
            username: "alice@contoso.test".into()
        }]
    );
}

#[test]
fn what_the_backend_cannot_do_says_so_and_never_fakes_success() {
    let mut s = home();
    let fx = delete_phone(&mut s);
    let no = BackendError::NotSupported(
        "deleting methods is not available with this backend yet".into(),
    );
    update(
        &mut s,
        Action::Changed {
            answer_lost: false,
            id: id_of(&fx[0]),
            result: Err(no),
        },
    );
    let n = s.notice.clone().unwrap();
    assert_eq!(
        (n.tone, n.text.as_str()),
        (
            Tone::Error,
            "deleting methods is not available with this backend yet"
        )
    );

    let mut caps = all_caps();
    caps.sessions = secinfo::domain::Ability::no("this server keeps no session list.");
    s.caps = Loadable::Ready(caps);
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::Sessions)
        .unwrap();
    let fx = press(&mut s, KeyCode::Enter);
    assert!(fx.is_empty() && s.screen == Screen::Home);
    assert!(
        s.notice
            .unwrap()
            .text
            .contains("this server keeps no session list")
    );
}

#[test]
fn signing_out_the_current_session_returns_to_sign_in() {
    let mut s = home();
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::Sessions)
        .unwrap();
    let fx = press(&mut s, KeyCode::Enter);
    update(
        &mut s,
        Action::Sessions {
            id: id_of(&fx[0]),
            result: Ok(sessions()),
        },
    );
    assert_eq!(s.screen, Screen::Sessions);
    let fx = update(&mut s, ch('d'));
    assert!(fx.is_empty(), "asks first");
    press(&mut s, KeyCode::Tab);
    let fx = press(&mut s, KeyCode::Enter);
    assert!(matches!(
        fx.as_slice(),
        [Effect::Change {
            change: Change::RevokeSession { current: true, .. },
            ..
        }]
    ));
    update(
        &mut s,
        Action::Changed {
            answer_lost: false,
            id: id_of(&fx[0]),
            result: Ok(None),
        },
    );
    assert_eq!(s.screen, Screen::SignIn);
}

#[test]
fn help_opens_on_question_mark_and_closes_on_escape() {
    let mut s = home();
    update(&mut s, ch('?'));
    assert_eq!(s.overlay, Some(Overlay::Help));
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, None);
}

#[test]
fn keys_can_be_rebound_by_action_name_and_mistakes_are_reported() {
    let mut o = BTreeMap::new();
    o.insert(
        "move_down".to_string(),
        vec!["n".to_string(), "ctrl-n".to_string()],
    );
    let km = Keymap::with_overrides(&o).unwrap();
    let mut s = home();
    s.keymap = km;
    update(&mut s, ch('n'));
    assert_eq!(focused(&s), HomeItem::AddMethod);
    update(&mut s, ch('j'));
    assert_eq!(focused(&s), HomeItem::AddMethod, "j is no longer bound");
    assert_eq!(
        s.keymap.describe(Command::MoveDown, false).as_deref(),
        Some("n/Ctrl-N")
    );

    let mut bad = BTreeMap::new();
    bad.insert("fly".to_string(), vec!["f".to_string()]);
    assert!(matches!(
        Keymap::with_overrides(&bad),
        Err(KeymapError::UnknownAction { .. })
    ));
    let mut bad = BTreeMap::new();
    bad.insert("quit".to_string(), vec!["hyper-x".to_string()]);
    assert!(matches!(
        Keymap::with_overrides(&bad),
        Err(KeymapError::BadKey { .. })
    ));
}

#[test]
fn the_password_row_cannot_be_deleted() {
    let mut s = home();
    let mut ms = alice_methods();
    let mut pw = method(
        "m0",
        secinfo::domain::MethodKind::Password,
        "Last updated 2026-11-01",
        false,
    );
    pw.usable_mfa = false;
    ms.insert(0, pw);
    s.methods = Loadable::Ready(ms);
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::Method(0))
        .unwrap();
    let fx = update(&mut s, ch('d'));
    assert!(fx.is_empty() && s.overlay.is_none());
    assert!(s.notice.unwrap().text.contains("only changed"));
}

#[test]
fn deleting_the_default_method_says_which_one_took_its_place() {
    let mut s = home();
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::Method(0))
        .unwrap();
    update(&mut s, ch('d'));
    let Some(Overlay::Confirm(c)) = &s.overlay else {
        panic!()
    };
    assert!(c.lines.join(" ").contains("default"), "{:?}", c.lines);
    press(&mut s, KeyCode::Tab);
    let fx = press(&mut s, KeyCode::Enter);
    update(
        &mut s,
        Action::Changed {
            answer_lost: false,
            id: id_of(&fx[0]),
            result: Ok(Some("m3".into())),
        },
    );
    let n = s.notice.unwrap();
    assert_eq!(
        n.text,
        "Deleted Authenticator app Pixel 8. Your default sign-in method is now Phone +1 XXXXXXXX23."
    );
}

#[test]
fn only_actions_that_may_change_the_screen_move_the_revision() {
    let mut s = home();
    let start = s.revision;
    // F12 is bound to nothing and the home screen has no field to type into.
    assert!(press(&mut s, KeyCode::F(12)).is_empty());
    assert_eq!(s.revision, start, "an unbound key asks for no redraw");
    let mut release =
        crossterm::event::KeyEvent::new(KeyCode::Down, crossterm::event::KeyModifiers::NONE);
    release.kind = crossterm::event::KeyEventKind::Release;
    update(&mut s, Action::Key(release));
    assert_eq!(s.revision, start, "a key release asks for no redraw");
    // Nothing to copy on Security info: the command is not offered there.
    update(&mut s, Action::Cmd(Command::Copy));
    assert_eq!(s.revision, start);

    press(&mut s, KeyCode::Down);
    assert_eq!(focused(&s), HomeItem::AddMethod);
    assert_ne!(s.revision, start, "a moved focus is redrawn");
    let moved = s.revision;
    update(&mut s, Action::Resize);
    assert_ne!(s.revision, moved, "a resize is redrawn");
}

#[test]
fn the_simulated_phone_panel_closes_by_itself_once_it_approved_and_says_so() {
    let mut s = home();
    s.overlay = Some(Overlay::Phone(PhonePanel {
        pending: Some(41),
        ..PhonePanel::default()
    }));
    update(
        &mut s,
        Action::PhoneApproved {
            id: 41,
            result: Ok(()),
        },
    );
    assert!(s.overlay.is_none(), "closed: {:?}", s.overlay);
    assert_eq!(
        s.notice.as_ref().map(|n| n.text.as_str()),
        Some("Approved on the simulated phone.")
    );

    // A refusal keeps it open, with the reason, for another try.
    s.overlay = Some(Overlay::Phone(PhonePanel {
        pending: Some(42),
        ..PhonePanel::default()
    }));
    update(
        &mut s,
        Action::PhoneApproved {
            id: 42,
            result: Err("no request with that number".into()),
        },
    );
    let Some(Overlay::Phone(p)) = &s.overlay else {
        panic!("kept open")
    };
    assert_eq!(p.result, Some(Err("no request with that number".into())));
}

fn open_activity(s: &mut State) -> u64 {
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::Activity)
        .unwrap();
    let fx = press(s, KeyCode::Enter);
    assert_eq!(s.screen, Screen::Activity);
    match fx.as_slice() {
        [Effect::LoadActivity { id, before: None }] => *id,
        other => panic!("the newest page is read first: {other:?}"),
    }
}

#[test]
fn recent_activity_reads_the_newest_page_then_older_ones_below_it() {
    let mut s = home();
    let id = open_activity(&mut s);
    update(
        &mut s,
        Action::Activity {
            id,
            older: false,
            result: Ok(activity_page(Some("cursor-1"))),
        },
    );
    assert_eq!(
        s.list_len(),
        4,
        "three events and the row that reads older ones"
    );
    // Enter on an event does nothing; Delete never deletes a record.
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert!(press(&mut s, KeyCode::Delete).is_empty());
    assert!(s.overlay.is_none());
    press(&mut s, KeyCode::Up);
    let fx = press(&mut s, KeyCode::Enter);
    let older = match fx.as_slice() {
        [
            Effect::LoadActivity {
                id,
                before: Some(c),
            },
        ] if c == "cursor-1" => *id,
        other => panic!("the last row reads the page after cursor-1: {other:?}"),
    };
    assert!(
        press(&mut s, KeyCode::Enter).is_empty(),
        "one older page is read at a time"
    );
    let mut more = activity_page(None);
    more.events.truncate(1);
    update(
        &mut s,
        Action::Activity {
            id: older + 1,
            older: true,
            result: Ok(activity_page(None)),
        },
    );
    assert_eq!(s.list_len(), 4, "an answer nobody asked for is dropped");
    update(
        &mut s,
        Action::Activity {
            id: older,
            older: true,
            result: Ok(more),
        },
    );
    let page = s.activity.ready().unwrap();
    assert_eq!(page.events.len(), 4, "the older page goes below");
    assert_eq!(page.next, None);
    assert_eq!(s.list_len(), 4, "no row to read more once there is none");
}

#[test]
fn where_the_provider_keeps_no_activity_the_home_screen_says_why() {
    let mut s = home();
    if let Loadable::Ready(c) = &mut s.caps {
        c.activity = secinfo::domain::Ability::No {
            reason: "Microsoft Entra lets only administrators read sign-ins through its API".into(),
            portal_url: Some("https://mysignins.microsoft.com".into()),
        };
    }
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::Activity)
        .unwrap();
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert_eq!(s.screen, Screen::Home);
    let notice = s
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(notice.contains("only administrators"), "{notice}");
    assert!(
        notice.contains("https://mysignins.microsoft.com"),
        "{notice}"
    );
}

fn open_lost_phone(s: &mut State) {
    s.home_focus = s
        .home_items()
        .iter()
        .position(|i| *i == HomeItem::LostPhone)
        .unwrap();
    let fx = press(s, KeyCode::Enter);
    let id = match fx.as_slice() {
        [Effect::LoadDevices { id }] => *id,
        other => panic!("the devices are read first: {other:?}"),
    };
    update(
        s,
        Action::Devices {
            id,
            result: Ok(devices()),
        },
    );
}

fn overlay_title(s: &State) -> String {
    match &s.overlay {
        Some(Overlay::Menu(m)) => m.title.clone(),
        Some(Overlay::Confirm(c)) => c.title.clone(),
        other => panic!("a question is on show: {other:?}"),
    }
}

#[test]
fn every_step_of_i_lost_my_phone_can_be_skipped_and_nothing_changes() {
    let mut s = home();
    open_lost_phone(&mut s);
    assert_eq!(overlay_title(&s), "Which device is lost?");
    assert!(press(&mut s, KeyCode::Esc).is_empty());
    assert_eq!(overlay_title(&s), "Sign out everywhere?");
    assert!(
        press(&mut s, KeyCode::Enter).is_empty(),
        "Cancel has the focus"
    );
    assert_eq!(overlay_title(&s), "Add a new sign-in method now?");
    press(&mut s, KeyCode::Esc);
    assert!(s.overlay.is_none() && s.lost_phone.is_none());
    assert_eq!(
        s.notice.as_ref().map(|n| n.text.as_str()),
        Some("Nothing was changed.")
    );
}

#[test]
fn signing_out_everywhere_from_i_lost_my_phone_ends_it_with_a_summary() {
    let mut s = home();
    open_lost_phone(&mut s);
    press(&mut s, KeyCode::Esc);
    press(&mut s, KeyCode::Tab);
    let fx = press(&mut s, KeyCode::Enter);
    let id = match fx.as_slice() {
        [
            Effect::Change {
                id,
                change: Change::SignOutEverywhere,
            },
        ] => *id,
        other => panic!("{other:?}"),
    };
    update(
        &mut s,
        Action::Changed {
            id,
            result: Ok(None),
            answer_lost: false,
        },
    );
    assert_eq!(s.screen, Screen::SignIn);
    assert!(s.lost_phone.is_none());
    let said = s
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(
        said.starts_with("What changed: Signed out everywhere, this client included.")
            && said.ends_with("sign in again (this client was signed out too)."),
        "{said}"
    );
}
