// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! A change whose answer is lost is read back, never sent again: the fault
//! proxy lets each change reach the reference server (which carries it out)
//! and then holds the answer past the client's timeout, or resets the
//! connection before the server sees it. Each journey kind — delete, make
//! default, rename, delete an app password, sign out everywhere — tells the
//! person what reading the account again showed, and the change went out
//! exactly once. The TUI's effect runner and the CLI say the same.

mod common;
mod fault_proxy;
mod graph_server;
mod tui_support;

use fault_proxy::{Fault, FaultProxy, Quiet};
use secinfo::accounts::KnownAccounts;
use secinfo::app::Action;
use secinfo::app::effects::{self, Effect};
use secinfo::app::keymap::Keymap;
use secinfo::app::state::Change;
use secinfo::backend::native::NativeBackend;
use secinfo::backend::{Backend, BackendError, SignIn};
use secinfo::config::ThemeName;
use secinfo::journeys::asker::Confirm;
use secinfo::journeys::change::{self, Override, Target};
use secinfo::journeys::outcome::ANSWER_LOST_BUT_DONE;
use secinfo::journeys::{app_passwords, session::Keeper, sign_out};
use secinfo::secrets::SecretString;
use secinfo::server::{Settings, admin};
use secinfo::tui::{Context, prepare};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tui_support::MemoryStore;

/// A user with an authenticator app and a spare one, signed in through the proxy.
struct Account {
    world: common::World,
    proxy: FaultProxy,
    backend: NativeBackend,
    spare: String,
    username: String,
}

async fn account(username: &str) -> Account {
    let world = common::World::start().await;
    let proxy = FaultProxy::start(&world.server.url).await;
    let uri = world.user_with_totp(username);
    let (spare, _) =
        admin::add_totp(&world.db, username, "Spare phone", &Settings::default()).unwrap();
    let backend = NativeBackend::new(
        &proxy.url,
        "outcome",
        "unknown outcome",
        Duration::from_secs(2),
    )
    .unwrap();
    let SignIn::SecondFactor(ch) = backend
        .sign_in(username, &SecretString::new(common::PASSWORD))
        .await
        .unwrap()
    else {
        panic!("a second factor is asked")
    };
    let code = SecretString::new(common::totp_now(&uri));
    let first = ch
        .options
        .iter()
        .find(|o| o.method_id != spare)
        .unwrap()
        .method_id
        .clone();
    backend
        .answer_factor(&ch, &first, Some(&code), false)
        .await
        .unwrap();
    Account {
        world,
        proxy,
        backend,
        spare,
        username: username.into(),
    }
}

impl Account {
    async fn listed(&self, id: &str) -> bool {
        self.backend
            .methods()
            .await
            .unwrap()
            .iter()
            .any(|m| m.id == id)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_whose_answer_is_lost_is_checked_not_repeated_and_said_done() {
    let a = account("dora@outcome.test").await;
    let path = format!("/v1/me/methods/{}", a.spare);
    a.proxy.fail_once(Some("DELETE"), &path, Fault::Delay);
    let deleted = change::delete(
        &a.backend,
        &mut Quiet::default(),
        Target::Method(&a.spare),
        Override::Given(None),
    )
    .await
    .unwrap()
    .expect("not cancelled");
    assert!(deleted.answer_lost);
    let said = deleted.message();
    assert!(
        said.starts_with(ANSWER_LOST_BUT_DONE)
            && said.contains("Deleted Authenticator app (code) Spare phone"),
        "{said}"
    );
    assert_eq!(a.proxy.hits(), 1);
    assert_eq!(a.proxy.seen("DELETE", &path), 1, "the delete went out once");
    assert!(!a.listed(&a.spare).await, "the server did delete it");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_that_never_reached_the_server_is_said_to_be_still_there() {
    let a = account("ezra@outcome.test").await;
    let path = format!("/v1/me/methods/{}", a.spare);
    a.proxy.fail_once(Some("DELETE"), &path, Fault::Reset);
    let err = change::delete(
        &a.backend,
        &mut Quiet::default(),
        Target::Method(&a.spare),
        Override::Given(None),
    )
    .await
    .unwrap_err();
    let BackendError::Unconfirmed { message } = &err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("was reset before the server answered")
            && message
                .contains("Authenticator app (code) Spare phone is still there: nothing changed"),
        "{message}"
    );
    assert_eq!(a.proxy.seen("DELETE", &path), 1, "never sent again");
    assert!(a.listed(&a.spare).await);
    // The CLI's exit code for it: the server failed (5).
    assert_eq!(secinfo::cli::Failure::from(err).code, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_default_and_a_rename_whose_answers_are_lost_are_read_back() {
    let a = account("fern@outcome.test").await;
    a.proxy
        .fail_once(Some("PUT"), "/v1/me/default-method", Fault::Delay);
    let said = change::set_default(&a.backend, &mut Quiet::default(), &a.spare)
        .await
        .unwrap()
        .expect("not cancelled");
    assert!(said.starts_with(ANSWER_LOST_BUT_DONE), "{said}");
    assert_eq!(a.proxy.hits(), 1);
    assert_eq!(a.proxy.seen("PUT", "/v1/me/default-method"), 1);
    let methods = a.backend.methods().await.unwrap();
    assert!(methods.iter().any(|m| m.id == a.spare && m.is_default));

    let path = format!("/v1/me/methods/{}", a.spare);
    a.proxy.fail_once(Some("PATCH"), &path, Fault::Delay);
    let said = change::rename(
        &a.backend,
        &mut Quiet::default(),
        Target::Method(&a.spare),
        "Old tablet",
    )
    .await
    .unwrap()
    .expect("not cancelled");
    assert!(said.starts_with(ANSWER_LOST_BUT_DONE), "{said}");
    assert_eq!(a.proxy.seen("PATCH", &path), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_password_delete_and_sign_out_everywhere_whose_answers_are_lost_are_read_back() {
    let a = account("gail@outcome.test").await;
    let (made, _password) = a.backend.create_app_password("Mail", None).await.unwrap();
    let path = format!("/v1/me/app-passwords/{}", made.id);
    a.proxy.fail_once(Some("DELETE"), &path, Fault::Delay);
    let said = app_passwords::delete(&a.backend, &mut Quiet::default(), &made.id, Confirm::Given)
        .await
        .unwrap()
        .expect("not cancelled");
    assert!(said.starts_with(ANSWER_LOST_BUT_DONE), "{said}");
    assert_eq!(a.proxy.seen("DELETE", &path), 1);
    assert!(a.backend.app_passwords().await.unwrap().is_empty());

    a.proxy
        .fail_once(Some("POST"), "/v1/me/signout-everywhere", Fault::Delay);
    let keeper = Keeper::new(
        Arc::new(MemoryStore::default()),
        "test",
        Arc::new(Mutex::new(KnownAccounts::load(
            &a.world.dir.path().join("accounts.json"),
        ))),
    );
    let mut ask = Quiet::default();
    let done = sign_out::everywhere(
        &a.backend,
        &keeper,
        &mut ask,
        Some(&a.username),
        Confirm::Given,
    )
    .await
    .unwrap();
    assert!(done);
    assert_eq!(ask.said, [ANSWER_LOST_BUT_DONE]);
    assert_eq!(a.proxy.seen("POST", "/v1/me/signout-everywhere"), 1);
    assert_eq!(a.backend.methods().await, Err(BackendError::SignInRequired));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tui_reads_back_a_delete_whose_answer_is_lost_and_says_so() {
    let a = account("hana@outcome.test").await;
    let path = format!("/v1/me/methods/{}", a.spare);
    let url = a.proxy.url.clone();
    let ctx = Context {
        backend: Arc::new(a.backend),
        store: Arc::new(MemoryStore::default()),
        profile: "test".into(),
        server_url: url,
        demo: None,
        accounts: KnownAccounts::load(&a.world.dir.path().join("tui-accounts.json")),
        keymap: Keymap::default(),
        theme: ThemeName::Default,
        start: secinfo::app::Start::SignedIn,
    };
    let (_, deps, _) = prepare(ctx);
    a.proxy.fail_once(Some("DELETE"), &path, Fault::Delay);
    let change = Change::DeleteMethod {
        id: a.spare.clone(),
        name: "Spare phone".into(),
        label: "Authenticator app Spare phone".into(),
        confirm: None,
    };
    let actions = effects::run(Effect::Change { id: 7, change }, deps).await;
    let [
        Action::Changed {
            result: Ok(None),
            answer_lost: true,
            ..
        },
    ] = actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    assert_eq!(a.proxy.seen("DELETE", &path), 1, "the delete went out once");
    // What the status line then says is `update`'s half:
    // tui_update::a_delete_whose_answer_was_lost_but_is_done_says_both.
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_says_a_delete_whose_answer_was_lost_was_done() {
    let a = account("ivy@outcome.test").await;
    // The CLI signs in on its own, through the proxy, with a short timeout.
    let cli_uri = a.world.user_with_totp("jude@outcome.test");
    let (spare, _) = admin::add_totp(
        &a.world.db,
        "jude@outcome.test",
        "Spare phone",
        &Settings::default(),
    )
    .unwrap();
    a.world.write_config(&format!(
        "[profiles.test]\nbackend = \"native\"\nurl = \"{}\"\nsecret_store = \"passphrase\"\ntimeout_secs = 2\n",
        a.proxy.url
    ));
    let out = a.world.login("jude@outcome.test", &cli_uri);
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    let path = format!("/v1/me/methods/{spare}");
    a.proxy.fail_once(Some("DELETE"), &path, Fault::Delay);
    let pass = a.world.pass_arg();
    let world = &a.world;
    let out = tokio::task::block_in_place(|| {
        world.secinfo(
            &["methods", "delete", &spare, "--passphrase-from", &pass],
            "",
        )
    });
    let all = format!("{}{}", common::text(&out.stdout), common::text(&out.stderr));
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains(ANSWER_LOST_BUT_DONE)
            && all.contains("Deleted Authenticator app (code) Spare phone"),
        "{all}"
    );
    assert_eq!(a.proxy.seen("DELETE", &path), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_app_password_whose_answer_is_lost_is_found_and_said_unusable_not_made_twice() {
    let a = account("kit@outcome.test").await;
    a.proxy
        .fail_once(Some("POST"), "/v1/me/app-passwords", Fault::Delay);
    let err = app_passwords::create(&a.backend, &mut Quiet::default(), "Mail", None)
        .await
        .unwrap_err();
    let BackendError::Unconfirmed { message } = &err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("shows app password Mail was made")
            && message.contains("delete it and create another"),
        "{message}"
    );
    assert_eq!(
        a.proxy.seen("POST", "/v1/me/app-passwords"),
        1,
        "never resent"
    );
    let listed = a.backend.app_passwords().await.unwrap();
    assert_eq!(listed.len(), 1, "made once: {listed:?}");

    // Reset before it reaches the server: nothing was made, and it says so.
    a.proxy
        .fail_once(Some("POST"), "/v1/me/app-passwords", Fault::Reset);
    let err = app_passwords::create(&a.backend, &mut Quiet::default(), "Calendar", None)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("shows no new app password Calendar: nothing changed"),
        "{err}"
    );
    assert_eq!(a.backend.app_passwords().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_privacyidea_token_whose_answer_is_lost_is_looked_up_by_its_serial_and_removed() {
    use secinfo::backend::privacyidea::PrivacyIdea;
    use secinfo::domain::MethodKind;
    let (url, realm, password) = common::privacyidea_env();
    let proxy = FaultProxy::start(&url).await;
    let b = PrivacyIdea::new(&proxy.url, Some(realm), None, Duration::from_secs(4)).unwrap();
    b.sign_in("nora", &SecretString::new(password))
        .await
        .unwrap();
    for m in b.methods().await.unwrap() {
        b.delete_method(&m.id, Some(&m.detail)).await.unwrap();
    }
    // privacyIDEA makes the token; its answer never comes back.
    proxy.fail_once(Some("POST"), "/token/init", Fault::Delay);
    let err = b
        .begin_enrollment(&MethodKind::Totp, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unconfirmed", "{err:?}");
    assert!(
        err.to_string()
            .contains("the method it had started was removed, so nothing was added"),
        "{err}"
    );
    assert_eq!(proxy.seen("POST", "/token/init"), 1, "never made twice");
    assert!(
        b.methods().await.unwrap().is_empty(),
        "no token is left whose secret nobody saw"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_method_whose_answer_is_lost_is_not_begun_again_and_nothing_is_added() {
    use secinfo::domain::MethodKind;
    let a = account("otto@contoso.test").await;
    let before = a.backend.methods().await.unwrap().len();
    a.proxy
        .fail_once(Some("POST"), "/v1/me/enrollments", Fault::Delay);
    let err = a
        .backend
        .begin_enrollment(&MethodKind::Totp, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unconfirmed", "{err:?}");
    assert!(err.to_string().contains("nothing was added"), "{err}");
    assert_eq!(
        a.proxy.seen("POST", "/v1/me/enrollments"),
        1,
        "never begun twice"
    );
    assert_eq!(a.backend.methods().await.unwrap().len(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_graph_phone_whose_answer_is_lost_is_found_added_not_added_twice() {
    use secinfo::backend::graph::{GraphBackend, GraphSettings};
    use secinfo::domain::MethodKind;
    let server = graph_server::GraphServer::start().await;
    server
        .world()
        .methods
        .retain(|m| m["id"] != graph_server::ALT_MOBILE_ID);
    let proxy = FaultProxy::start(&server.url).await;
    server.world().base = proxy.url.clone();
    let mut s = GraphSettings::new(graph_server::TENANT, graph_server::CLIENT_ID);
    s.authority = proxy.url.clone();
    s.graph_url = proxy.url.clone();
    s.timeout = Duration::from_secs(2);
    let b = GraphBackend::new(&s).unwrap();
    let SignIn::Browser(step) = b.sign_in("", &SecretString::new("")).await.unwrap() else {
        panic!("Graph signs in in a browser")
    };
    secinfo::journeys::browser::finish(&b, &mut Quiet::default(), step)
        .await
        .unwrap();
    // A fresh second factor first (Graph's claims challenge), as the journeys do.
    let SignIn::Browser(step) = b.step_up().await.unwrap() else {
        panic!("Graph steps up in a browser")
    };
    secinfo::journeys::browser::finish(&b, &mut Quiet::default(), step)
        .await
        .unwrap();
    // Graph adds the number; its answer never comes back.
    proxy.fail_once(Some("POST"), "phoneMethods", Fault::Delay);
    let e = b
        .begin_enrollment(&MethodKind::AlternatePhone, Some("+1 425 555 0123"))
        .await;
    let e = e.unwrap();
    let method = e.finished.expect("read back, the phone is there");
    assert_eq!(method.kind, MethodKind::AlternatePhone);
    assert_eq!(proxy.seen("POST", "phoneMethods"), 1, "never added twice");
    assert!(
        server
            .method_ids()
            .contains(&graph_server::ALT_MOBILE_ID.to_string())
    );

    // Refused on the way (the request never reached Graph): said so, nothing added.
    server
        .world()
        .methods
        .retain(|m| m["id"] != graph_server::ALT_MOBILE_ID);
    proxy.fail_once(Some("POST"), "phoneMethods", Fault::Reset);
    let err = b
        .begin_enrollment(&MethodKind::AlternatePhone, Some("+1 425 555 0123"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unconfirmed", "{err:?}");
    assert!(
        err.to_string().contains("was not added: nothing changed"),
        "{err}"
    );
}
