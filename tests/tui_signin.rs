//! Sign-in through the state machine: password, second factor (push with
//! number matching, codes), "Don't ask again", the account picker, the demo phone.

mod tui_support;

use crossterm::event::KeyCode;
use secinfo::app::state::*;
use secinfo::app::{Action, Effect, update};
use secinfo::backend::{BackendError, FactorStarted, Refusal, SignIn};
use tui_support::*;

fn sign_in_with_password(s: &mut State) -> Vec<Effect> {
    type_text(s, "alice@contoso.test");
    press(s, KeyCode::Tab);
    type_text(s, "q-is-typed-not-quit");
    press(s, KeyCode::Enter)
}

#[test]
fn user_signs_in_with_a_push_and_number_matching_and_ticks_dont_ask_again() {
    let mut s = state();
    secinfo::app::init(&mut s, secinfo::app::Start::SignIn);
    let fx = sign_in_with_password(&mut s);
    assert!(!s.quit, "q typed into the password field is text");
    let [
        Effect::SignIn {
            id,
            username,
            password,
        },
    ] = fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    assert_eq!(username, "alice@contoso.test");
    assert_eq!(password.expose(), "q-is-typed-not-quit");
    assert!(
        !format!("{fx:?}").contains("q-is-typed"),
        "the password never shows in Debug"
    );

    let fx = update(
        &mut s,
        Action::PasswordChecked {
            id: *id,
            result: Ok(SignIn::SecondFactor(challenge(Some("m1")))),
        },
    );
    let [Effect::StartFactor { id, method_id, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(method_id, "m1", "the default method starts right away");
    let fx = update(
        &mut s,
        Action::FactorStarted {
            id: *id,
            result: Ok(FactorStarted {
                number: Some(42),
                sent_to: None,
                expires_in: None,
            }),
        },
    );
    let [Effect::Wait { id, .. }] = fx.as_slice() else {
        panic!("a push is polled after a pause: {fx:?}")
    };
    // The checkbox is the first item on the push screen; Space ticks it
    // while waiting, and the poll that follows carries it.
    update(&mut s, ch(' '));
    let fx = update(&mut s, Action::Waited { id: *id });
    let [
        Effect::Answer {
            id,
            code: None,
            remember: true,
            ..
        },
    ] = fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    let fx = update(
        &mut s,
        Action::FactorAnswered {
            id: *id,
            result: Ok(SignIn::Pending),
        },
    );
    let [Effect::Wait { id, .. }] = fx.as_slice() else {
        panic!("still waiting: polls again after a pause: {fx:?}")
    };
    let fx = update(&mut s, Action::Waited { id: *id });
    let [Effect::Answer { id, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    let fx = update(
        &mut s,
        Action::FactorAnswered {
            id: *id,
            result: Ok(SignIn::Done {
                mfa_setup_required: false,
            }),
        },
    );
    assert!(matches!(s.signin, SignInStep::Finishing { .. }));
    let account_id = fx
        .iter()
        .find(|e| matches!(e, Effect::LoadAccount { .. }))
        .map(id_of)
        .unwrap();
    let fx = update(
        &mut s,
        Action::Account {
            id: account_id,
            result: Ok(alice()),
        },
    );
    assert_eq!(s.screen, Screen::Home);
    assert_eq!(
        fx,
        vec![Effect::Keep {
            username: "alice@contoso.test".into(),
            display_name: "Alice Example".into()
        }]
    );
}

fn at_factor_screen(default: Option<&str>) -> (State, u64) {
    let mut s = state();
    secinfo::app::init(&mut s, secinfo::app::Start::SignIn);
    let fx = sign_in_with_password(&mut s);
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
fn cancelling_a_push_returns_to_the_choice_and_a_late_approval_is_ignored() {
    let (mut s, id) = at_factor_screen(Some("m1"));
    let fx = update(
        &mut s,
        Action::FactorStarted {
            id,
            result: Ok(FactorStarted {
                number: Some(7),
                sent_to: None,
                expires_in: None,
            }),
        },
    );
    let poll = id_of(&fx[0]);
    press(&mut s, KeyCode::Esc);
    let SignInStep::Verify(v) = &s.signin else {
        panic!()
    };
    assert!(
        matches!(v.step, VerifyStep::Choose { focus: 0, .. }),
        "Esc is Sign in another way"
    );
    let fx = update(
        &mut s,
        Action::FactorAnswered {
            id: poll,
            result: Ok(SignIn::Done {
                mfa_setup_required: false,
            }),
        },
    );
    assert!(fx.is_empty());
    assert_eq!(s.screen, Screen::SignIn);
}

#[test]
fn user_signs_in_another_way_with_a_code_and_a_wrong_code_is_cleared() {
    let (mut s, _) = at_factor_screen(None);
    let SignInStep::Verify(v) = &s.signin else {
        panic!()
    };
    assert!(
        matches!(v.step, VerifyStep::Choose { .. }),
        "no default: the list of methods shows"
    );
    update(&mut s, ch('j'));
    let fx = press(&mut s, KeyCode::Enter);
    let [Effect::StartFactor { id, method_id, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(method_id, "m2");
    update(
        &mut s,
        Action::FactorStarted {
            id: *id,
            result: Ok(FactorStarted::default()),
        },
    );
    type_text(&mut s, "123456");
    let fx = press(&mut s, KeyCode::Enter);
    let [
        Effect::Answer {
            id,
            code: Some(code),
            ..
        },
    ] = fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    assert_eq!(code.expose(), "123456");
    let wrong = BackendError::Rejected {
        reason: Refusal::from_native("invalid_code"),
        message: "That code is not right.".into(),
    };
    update(
        &mut s,
        Action::FactorAnswered {
            id: *id,
            result: Err(wrong),
        },
    );
    let SignInStep::Verify(v) = &s.signin else {
        panic!()
    };
    let VerifyStep::Factor(f) = &v.step else {
        panic!()
    };
    assert_eq!(f.error.as_deref(), Some("That code is not right."));
    assert!(
        f.code.is_empty(),
        "a wrong code is cleared for the next try"
    );
}

#[test]
fn a_sent_code_can_be_resent_from_its_link() {
    let (mut s, _) = at_factor_screen(Some("m4"));
    let SignInStep::Verify(v) = &s.signin else {
        panic!()
    };
    let VerifyStep::Factor(f) = &v.step else {
        panic!()
    };
    let items = v.factor_items(f);
    assert_eq!(
        items,
        vec![
            FactorItem::Code,
            FactorItem::Verify,
            FactorItem::Remember,
            FactorItem::Resend,
            FactorItem::OtherWay
        ]
    );
    for _ in 0..3 {
        press(&mut s, KeyCode::Tab);
    }
    let fx = press(&mut s, KeyCode::Enter);
    assert!(matches!(fx.as_slice(), [Effect::StartFactor { method_id, .. }] if method_id == "m4"));
}

#[test]
fn ctrl_c_quits_even_in_a_text_field_and_q_quits_elsewhere() {
    let mut s = state();
    secinfo::app::init(&mut s, secinfo::app::Start::SignIn);
    update(&mut s, ctrl('c'));
    assert!(s.quit);
    let mut s = home();
    update(&mut s, ch('q'));
    assert!(s.quit);
}

#[test]
fn the_account_picker_restores_a_kept_sign_in_or_asks_for_the_password() {
    let mut s = state();
    s.accounts = vec![
        known("alice@contoso.test", "Alice Example"),
        known("bob@contoso.test", "Bob"),
    ];
    secinfo::app::init(&mut s, secinfo::app::Start::SignIn);
    assert_eq!(s.signin, SignInStep::Accounts { focus: 0 });
    let fx = press(&mut s, KeyCode::Enter);
    let [Effect::Restore { id, username }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(username, "alice@contoso.test");
    update(
        &mut s,
        Action::Restored {
            id: *id,
            result: Ok(None),
        },
    );
    let SignInStep::Password(form) = &s.signin else {
        panic!("{:?}", s.signin)
    };
    assert_eq!(
        (form.username.as_str(), form.focus),
        ("alice@contoso.test", 1)
    );
    press(&mut s, KeyCode::Esc);
    update(&mut s, ch('j'));
    let fx = update(&mut s, ch('d'));
    assert_eq!(
        fx,
        vec![Effect::ForgetAccount {
            username: "bob@contoso.test".into()
        }]
    );
    assert_eq!(s.accounts.len(), 1);
    assert_eq!(
        s.signin,
        SignInStep::Accounts { focus: 1 },
        "focus stays in place: now Use another account"
    );
    press(&mut s, KeyCode::Enter);
    assert_eq!(
        s.signin,
        SignInStep::Password(PasswordForm::default()),
        "Use another account"
    );
}

#[test]
fn the_demo_phone_approves_the_request_of_the_account_signing_in_with_the_typed_number() {
    let (mut s, id) = at_factor_screen(Some("m1"));
    s.demo = Some(DemoInfo {
        username: "alice@contoso.test".into(),
        password: "demo".into(),
        db_path: "/tmp/x.db".into(),
        phone_dir: "/tmp/phone".into(),
    });
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
    update(&mut s, ch('p'));
    assert!(matches!(s.overlay, Some(Overlay::Phone(_))));
    type_text(&mut s, "4x2");
    let fx = press(&mut s, KeyCode::Enter);
    // The panel knows whose sign-in it approves: never another account's request.
    assert!(
        matches!(fx.as_slice(), [Effect::PhoneApprove { number: 42, username: Some(u), .. }] if u == "alice@contoso.test"),
        "{fx:?}"
    );
}

#[test]
fn three_wrong_codes_send_the_user_back_to_the_choice_as_the_cli_and_plain_mode_do() {
    let (mut s, id) = at_factor_screen(Some("m4"));
    update(
        &mut s,
        Action::FactorStarted {
            id,
            result: Ok(FactorStarted::default()),
        },
    );
    for attempt in 1..=secinfo::journeys::rules::WRONG_CODES {
        type_text(&mut s, "000000");
        let fx = press(&mut s, KeyCode::Enter);
        update(
            &mut s,
            Action::FactorAnswered {
                id: id_of(&fx[0]),
                result: Err(BackendError::rejected(
                    Refusal::InvalidCode,
                    "that code is not right",
                )),
            },
        );
        let SignInStep::Verify(v) = &s.signin else {
            panic!()
        };
        match (&v.step, attempt < secinfo::journeys::rules::WRONG_CODES) {
            (VerifyStep::Factor(f), true) => {
                assert_eq!(f.error.as_deref(), Some("that code is not right"))
            }
            (VerifyStep::Choose { error, .. }, false) => assert!(
                error
                    .as_deref()
                    .is_some_and(|e| e.contains("3 wrong codes")),
                "{error:?}"
            ),
            (step, _) => panic!("attempt {attempt}: {step:?}"),
        }
    }
}

#[test]
fn a_push_nobody_answers_stops_polling_and_says_so() {
    let (mut s, id) = at_factor_screen(Some("m1"));
    let mut fx = update(
        &mut s,
        Action::FactorStarted {
            id,
            result: Ok(FactorStarted {
                number: Some(7),
                sent_to: None,
                expires_in: None,
            }),
        },
    );
    let mut polls = 0;
    while let [Effect::Wait { id, .. }] = fx.as_slice() {
        polls += 1;
        let fx2 = update(&mut s, Action::Waited { id: *id });
        fx = update(
            &mut s,
            Action::FactorAnswered {
                id: id_of(&fx2[0]),
                result: Ok(SignIn::Pending),
            },
        );
    }
    assert_eq!(polls, secinfo::journeys::rules::push_polls());
    let SignInStep::Verify(v) = &s.signin else {
        panic!()
    };
    let VerifyStep::Factor(f) = &v.step else {
        panic!()
    };
    assert!(
        f.error
            .as_deref()
            .is_some_and(|e| e.contains("not answered")),
        "{:?}",
        f.error
    );
}
