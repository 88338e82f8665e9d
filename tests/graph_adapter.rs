// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The Graph adapter over real HTTP against a Graph-shaped server
//! (`graph_server`, each fixture naming the Microsoft page it follows), driven
//! through the shared journeys where a person would be: sign-in by device
//! code, step-up then retry once, the last-method override. Each test checks
//! the exact requests the adapter sent.

mod graph_server;

use graph_server::*;
use secinfo::backend::graph::{DEFAULT_PORTAL_URL, GraphBackend, GraphSettings};
use secinfo::backend::{Backend, BackendError, BrowserPoll, Credentials, Refusal, SignIn};
use secinfo::domain::{Ability, DefaultScope, MethodKind};
use secinfo::journeys::asker::Asker;
use secinfo::journeys::{browser, change, step_up};
use secinfo::secrets::SecretString;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

const BASE_SCOPES: &str =
    "UserAuthenticationMethod.ReadWrite User.Read offline_access openid profile";

fn adapter(server: &GraphServer) -> GraphBackend {
    let mut s = GraphSettings::new(TENANT, CLIENT_ID);
    s.authority = server.url.clone();
    s.graph_url = server.url.clone();
    GraphBackend::new(&s).unwrap()
}

/// A linear front end that writes down what it is told.
#[derive(Default)]
struct Transcript {
    said: Vec<String>,
    names: VecDeque<bool>,
}

impl Asker for Transcript {
    type Error = BackendError;
    fn say(&mut self, line: &str) -> Result<(), BackendError> {
        self.said.push(line.to_string());
        Ok(())
    }
    fn choose(
        &mut self,
        _: &str,
        _: &[String],
        d: Option<usize>,
    ) -> Result<Option<usize>, BackendError> {
        Ok(d)
    }
    fn code(&mut self, _: &str) -> Result<Option<SecretString>, BackendError> {
        Ok(None)
    }
    fn yes(&mut self, _: &str) -> Result<bool, BackendError> {
        Ok(false)
    }
    fn typed_name(&mut self, _: &str) -> Result<bool, BackendError> {
        Ok(self.names.pop_front().unwrap_or(false))
    }
}

/// Signs in through the shared browser journey (the server approves on the second poll).
async fn signed_in(server: &GraphServer) -> GraphBackend {
    let b = adapter(server);
    let SignIn::Browser(step) = b.sign_in("", &SecretString::new("")).await.unwrap() else {
        panic!("Graph signs in in a browser")
    };
    let done = browser::finish(&b, &mut Transcript::default(), step)
        .await
        .unwrap();
    assert_eq!(
        done,
        SignIn::Done {
            mfa_setup_required: false
        }
    );
    b
}

fn is_uuid(s: &Option<String>) -> bool {
    s.as_deref()
        .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok())
}

#[tokio::test]
async fn user_signs_in_with_a_device_code_and_sees_every_method_type() {
    let server = GraphServer::start().await;
    server.world().approve_after_polls = None;
    let b = adapter(&server);
    assert!(b.signs_in_with_browser());

    let SignIn::Browser(step) = b.sign_in("", &SecretString::new("")).await.unwrap() else {
        panic!("Graph signs in in a browser")
    };
    assert_eq!(step.verification_uri, "https://microsoft.com/devicelogin");
    assert_eq!(step.verification_uri_complete, None);
    assert!(
        !format!("{step:?}").contains("DAQAB"),
        "the device code is a secret"
    );
    let asked = &server.seen("POST", &format!("/{TENANT}/oauth2/v2.0/devicecode"))[0];
    assert_eq!(
        asked.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let form = asked.form();
    assert_eq!(form["client_id"], CLIENT_ID);
    assert_eq!(form["scope"], BASE_SCOPES);
    assert!(
        !form.contains_key("claims"),
        "a first sign-in asks for no claims"
    );

    // Not finished in the browser yet, then finished.
    assert_eq!(b.poll_browser(&step).await.unwrap(), BrowserPoll::Pending);
    server.approve(&step.user_code);
    assert_eq!(
        b.poll_browser(&step).await.unwrap(),
        BrowserPoll::Finished(SignIn::Done {
            mfa_setup_required: false
        })
    );
    let polls = server.seen("POST", &format!("/{TENANT}/oauth2/v2.0/token"));
    assert_eq!(polls.len(), 2);
    for p in &polls {
        let f = p.form();
        assert_eq!(
            f["grant_type"],
            "urn:ietf:params:oauth:grant-type:device_code"
        );
        assert_eq!(f["client_id"], CLIENT_ID);
        assert!(f["device_code"].starts_with("DAQAB"));
    }
    // After the first success the code is never sent again (a replay could end the grant).
    assert!(b.poll_browser(&step).await.is_err());
    assert_eq!(
        server
            .seen("POST", &format!("/{TENANT}/oauth2/v2.0/token"))
            .len(),
        2
    );

    let me = b.account().await.unwrap();
    assert_eq!(
        (me.username.as_str(), me.display_name.as_str()),
        ("kim@contoso.onmicrosoft.com", "Kim Akers")
    );

    let methods = b.methods().await.unwrap();
    let kinds: Vec<MethodKind> = methods.iter().map(|m| m.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            MethodKind::AuthenticatorPush,
            MethodKind::Totp,
            MethodKind::Phone,
            MethodKind::AlternatePhone,
            MethodKind::OfficePhone,
            MethodKind::Email,
            MethodKind::Passkey,
            MethodKind::WindowsHello,
            MethodKind::Password,
            MethodKind::TemporaryAccessPass,
            MethodKind::PlatformCredential,
            MethodKind::HardwareToken,
            MethodKind::Other("qrCodePinAuthenticationMethod".into()),
        ]
    );
    let note = |i: usize, k: &str| {
        methods[i]
            .notes
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(methods[0].detail, "Contoso's iPhone");
    assert_eq!(note(0, "App version").as_deref(), Some("6.2401.0119"));
    assert_eq!(methods[2].detail, "+1 2065555555");
    assert_eq!(methods[5].detail, "kim@contoso.com");
    assert!(
        !methods[5].usable_mfa,
        "Entra uses email for password reset only"
    );
    assert_eq!(note(6, "Model").as_deref(), Some("NFC key"));
    assert_eq!(
        note(6, "AAGUID").as_deref(),
        Some("2fc0579f-8113-47ea-b116-555a8db9202a")
    );
    assert_eq!(note(10, "Platform").as_deref(), Some("macOS"));
    assert_eq!(note(11, "Serial number").as_deref(), Some("TOTP123456"));
    // The default is a kind ("push"): every Authenticator method is marked, nothing else.
    let defaults: Vec<_> = methods
        .iter()
        .filter(|m| m.is_default)
        .map(|m| m.kind.clone())
        .collect();
    assert_eq!(defaults, [MethodKind::AuthenticatorPush]);

    // Four pages, each asked for with the link Graph gave, and the preferences
    // once (alongside the first page, so in any order with it).
    let gets: Vec<String> = server
        .seen("GET", "/")
        .iter()
        .map(|s| s.target.clone())
        .collect();
    let (preferences, rest): (Vec<String>, Vec<String>) = gets
        .into_iter()
        .partition(|t| t == "/beta/me/authentication/signInPreferences");
    assert_eq!(preferences.len(), 1, "the preferences are read once");
    assert_eq!(
        rest,
        [
            "/v1.0/me?$select=id,displayName,userPrincipalName,mail",
            "/v1.0/me/authentication/methods",
            "/v1.0/me/authentication/methods?$skiptoken=4",
            "/v1.0/me/authentication/methods?$skiptoken=8",
            "/v1.0/me/authentication/methods?$skiptoken=12",
        ]
    );
    for s in server.seen("GET", "/") {
        assert_eq!(
            s.authorization.as_deref(),
            Some("Bearer at-1"),
            "{}",
            s.target
        );
        assert!(
            is_uuid(&s.client_request_id),
            "{}: {:?}",
            s.target,
            s.client_request_id
        );
    }
}

#[tokio::test]
async fn what_graph_cannot_do_is_a_handoff_with_the_portal_and_absent_lists_say_why() {
    let server = GraphServer::start().await;
    let b = signed_in(&server).await;
    let caps = b.capabilities().await.unwrap();
    assert_eq!(caps.default_scope, DefaultScope::PerKind);
    let enroll = |k: MethodKind| caps.enroll.iter().find(|(e, _)| *e == k).unwrap().1.clone();
    for k in [
        MethodKind::AuthenticatorPush,
        MethodKind::Totp,
        MethodKind::AppPassword,
        MethodKind::Passkey,
    ] {
        let Ability::No { portal_url, reason } = enroll(k.clone()) else {
            panic!("{k:?} cannot be added through Graph")
        };
        assert_eq!(portal_url.as_deref(), Some(DEFAULT_PORTAL_URL), "{reason}");
    }
    assert!(enroll(MethodKind::Phone).is_yes() && enroll(MethodKind::Email).is_yes());
    assert!(matches!(
        caps.app_passwords,
        Ability::No {
            portal_url: Some(_),
            ..
        }
    ));
    for absent in [
        &caps.sessions,
        &caps.remembered_devices,
        &caps.recovery_codes,
        &caps.devices,
    ] {
        assert!(!absent.is_yes());
    }
    assert!(caps.sign_out_everywhere.is_yes() && caps.set_default.is_yes());
    assert!(matches!(
        b.sessions().await,
        Err(BackendError::NotSupported(_))
    ));

    // With system-preferred MFA on, a default chosen here would not be used: say so.
    server.world().preferences["isSystemPreferredAuthenticationMethodEnabled"] = true.into();
    let reason = b
        .capabilities()
        .await
        .unwrap()
        .set_default
        .reason()
        .unwrap()
        .to_string();
    assert!(reason.contains("system-preferred MFA"), "{reason}");
}

#[tokio::test]
async fn deleting_a_key_past_the_mfa_window_steps_up_with_the_claims_and_goes_through_once() {
    let server = GraphServer::start().await;
    let b = signed_in(&server).await;
    let mut ask = Transcript::default();

    let deleted = change::delete(
        &b,
        &mut ask,
        change::Target::Method(FIDO_ID),
        change::Override::Ask,
    )
    .await
    .unwrap()
    .expect("not cancelled");
    assert_eq!(deleted.label, "Passkey Red key");
    assert!(
        ask.said.iter().any(|l| l.contains("confirm it is you")),
        "{:?}",
        ask.said
    );

    // The refusal, the step-up sign-in with the claims the challenge named, the retry.
    let deletes = server.seen("DELETE", "/");
    assert_eq!(deletes.len(), 2);
    for d in &deletes {
        assert_eq!(
            d.target,
            format!("/v1.0/me/authentication/fido2Methods/{FIDO_ID}")
        );
    }
    assert_eq!(deletes[0].authorization.as_deref(), Some("Bearer at-1"));
    let step_up = &server.seen("POST", &format!("/{TENANT}/oauth2/v2.0/devicecode"))[1];
    assert_eq!(step_up.form()["claims"], NGCMFA);
    assert_eq!(step_up.form()["scope"], BASE_SCOPES);
    assert_eq!(
        deletes[1].authorization.as_deref(),
        Some("Bearer at-2"),
        "the new token"
    );
    assert!(!server.method_ids().contains(&FIDO_ID.to_string()));
}

#[tokio::test]
async fn without_a_claims_challenge_entras_fresh_mfa_rule_still_steps_up_once() {
    let server = GraphServer::start().await;
    server.world().challenge_header = false;
    let b = signed_in(&server).await;
    let request = || b.delete_method(AUTHENTICATOR_ID, None);
    let confirm = |step| async {
        let SignIn::Browser(step) = step else {
            panic!("a browser step")
        };
        browser::finish(&b, &mut Transcript::default(), step)
            .await
            .map(|_| true)
    };
    let result = step_up::with_step_up(&b, confirm, request).await.unwrap();
    assert_eq!(result, Ok(Some(None)));
    let step_up = &server.seen("POST", &format!("/{TENANT}/oauth2/v2.0/devicecode"))[1];
    assert_eq!(step_up.form()["claims"], NGCMFA);
    assert_eq!(
        server.seen("DELETE", "/")[1].target,
        format!("/v1.0/me/authentication/microsoftAuthenticatorMethods/{AUTHENTICATOR_ID}")
    );
}

#[tokio::test]
async fn the_last_method_is_kept_unless_its_name_is_typed() {
    let server = GraphServer::start().await;
    server.world().methods.retain(|m| {
        m["id"] == AUTHENTICATOR_ID
            || m["id"] == PASSWORD_ID
            || m["@odata.type"] == "#microsoft.graph.emailAuthenticationMethod"
    });
    let b = signed_in(&server).await;

    let mut ask = Transcript::default();
    let kept = change::delete(
        &b,
        &mut ask,
        change::Target::Method(AUTHENTICATOR_ID),
        change::Override::Ask,
    )
    .await
    .unwrap();
    assert_eq!(kept, None, "not typed: cancelled");
    assert!(
        ask.said[0].contains("last way to prove it is you"),
        "{:?}",
        ask.said
    );
    assert!(server.seen("DELETE", "/").is_empty(), "nothing was sent");

    let mut ask = Transcript {
        names: VecDeque::from([true]),
        ..Default::default()
    };
    let gone = change::delete(
        &b,
        &mut ask,
        change::Target::Method(AUTHENTICATOR_ID),
        change::Override::Ask,
    )
    .await
    .unwrap();
    assert!(gone.is_some());
    assert!(!server.method_ids().contains(&AUTHENTICATOR_ID.to_string()));
}

#[tokio::test]
async fn a_phone_is_added_at_once_where_the_tenant_allows_it() {
    let server = GraphServer::start().await;
    server.world().methods.retain(|m| m["id"] != ALT_MOBILE_ID);
    let b = signed_in(&server).await;
    let request = || b.begin_enrollment(&MethodKind::AlternatePhone, Some("+14255550123"));
    let confirm = |step| async {
        let SignIn::Browser(step) = step else {
            panic!("a browser step")
        };
        browser::finish(&b, &mut Transcript::default(), step)
            .await
            .map(|_| true)
    };
    let enrollment = step_up::with_step_up(&b, confirm, request)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let added = enrollment.finished.expect("Graph adds it at once");
    assert_eq!(
        (added.kind, added.detail.as_str()),
        (MethodKind::AlternatePhone, "+1 4255550123")
    );
    let posts = server.seen("POST", "/v1.0/me/authentication/phoneMethods");
    assert_eq!(
        posts.len(),
        2,
        "refused for want of fresh MFA, then sent again"
    );
    assert_eq!(posts[1].content_type.as_deref(), Some("application/json"));
    assert_eq!(
        posts[1].json(),
        serde_json::json!({"phoneNumber": "+1 4255550123", "phoneType": "alternateMobile"})
    );

    // Changing the number: PATCH on the typed collection.
    let changed = b
        .begin_phone_change(ALT_MOBILE_ID, "+442071838750")
        .await
        .unwrap();
    assert_eq!(changed.finished.unwrap().detail, "+44 2071838750");
    let patch = &server.seen("PATCH", "/")[0];
    assert_eq!(
        patch.target,
        format!("/v1.0/me/authentication/phoneMethods/{ALT_MOBILE_ID}")
    );
    assert_eq!(
        patch.json(),
        serde_json::json!({"phoneNumber": "+44 2071838750", "phoneType": "alternateMobile"})
    );
}

#[tokio::test]
async fn a_tenant_that_refuses_self_service_phones_hands_off_to_the_portal() {
    let server = GraphServer::start().await;
    server.world().self_service_contact = false;
    let b = signed_in(&server).await;
    let request = || b.begin_enrollment(&MethodKind::Email, Some("kim.home@example.com"));
    let confirm = |step| async {
        let SignIn::Browser(step) = step else {
            panic!("a browser step")
        };
        browser::finish(&b, &mut Transcript::default(), step)
            .await
            .map(|_| true)
    };
    let refused = step_up::with_step_up(&b, confirm, request)
        .await
        .unwrap()
        .unwrap_err();
    let BackendError::Rejected {
        reason: Refusal::ConsentRequired { portal_url },
        message,
    } = refused
    else {
        panic!("a handoff, not {refused:?}")
    };
    assert_eq!(portal_url.as_deref(), Some(DEFAULT_PORTAL_URL));
    assert!(
        message.contains("Authorization_RequestDenied") && message.contains(DEFAULT_PORTAL_URL),
        "{message}"
    );
    let posts = server.seen("POST", "/v1.0/me/authentication/emailMethods");
    assert_eq!(posts.len(), 2);
    assert_eq!(
        posts[1].json(),
        serde_json::json!({"emailAddress": "kim.home@example.com"})
    );
}

#[tokio::test]
async fn the_default_is_a_kind_and_changes_through_sign_in_preferences() {
    let server = GraphServer::start().await;
    let b = signed_in(&server).await;
    let mut ask = Transcript::default();
    let totp = "b172893e-893e-b172-3e89-72b13e8972b1";
    let said = change::set_default(&b, &mut ask, totp)
        .await
        .unwrap()
        .expect("not cancelled");
    assert!(!said.is_empty());
    let patches = server.seen("PATCH", "/beta/me/authentication/signInPreferences");
    assert_eq!(
        patches.last().unwrap().json(),
        serde_json::json!({"userPreferredMethodForSecondaryAuthentication": "oath"})
    );
    let defaults: Vec<_> = b
        .methods()
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.is_default)
        .map(|m| m.kind)
        .collect();
    assert_eq!(defaults, [MethodKind::Totp, MethodKind::HardwareToken]);
}

#[tokio::test]
async fn the_home_screen_and_set_default_read_the_sign_in_preferences_once_and_a_later_read_asks_again()
 {
    let server = GraphServer::start().await;
    let b = signed_in(&server).await;
    let reads = || {
        server
            .seen("GET", "/beta/me/authentication/signInPreferences")
            .len()
    };
    // The home screen asks for the capabilities and the methods together; both need them.
    let (caps, methods) = futures::join!(b.capabilities(), b.methods());
    caps.unwrap();
    methods.unwrap();
    assert_eq!(reads(), 1, "asked together, read once");
    // A read asked for after that one finished is a new request: nothing is kept.
    b.methods().await.unwrap();
    assert_eq!(reads(), 2);
    // Set default reads the capabilities and the methods together too.
    let totp = "b172893e-893e-b172-3e89-72b13e8972b1";
    change::set_default(&b, &mut Transcript::default(), totp)
        .await
        .unwrap()
        .expect("not cancelled");
    assert_eq!(reads(), 3, "set default read them once");
    assert!(
        !server
            .seen("PATCH", "/beta/me/authentication/signInPreferences")
            .is_empty()
    );
}

/// A browser step is never needed for a scope: only an administrator can grant these.
async fn no_browser(_: SignIn) -> Result<bool, BackendError> {
    panic!("a scope is asked for by a refresh, not in a browser")
}

#[tokio::test]
async fn sign_out_everywhere_asks_for_its_scope_when_needed_then_ends_this_session_too() {
    let server = GraphServer::start().await;
    server
        .world()
        .consented
        .insert("User.RevokeSessions.All".into());
    let b = signed_in(&server).await;
    let request = || b.sign_out_everywhere();
    assert_eq!(
        step_up::with_step_up(&b, no_browser, request)
            .await
            .unwrap(),
        Ok(Some(()))
    );
    // Refused without the scope; a refresh asks for it; sent once more.
    let revokes = server.seen("POST", "/v1.0/me/revokeSignInSessions");
    assert_eq!(revokes.len(), 2);
    let refresh = server
        .seen("POST", &format!("/{TENANT}/oauth2/v2.0/token"))
        .pop()
        .unwrap()
        .form();
    assert_eq!(refresh["grant_type"], "refresh_token");
    assert_eq!(
        refresh["scope"],
        format!("{BASE_SCOPES} User.RevokeSessions.All")
    );
    assert_eq!(revokes[1].authorization.as_deref(), Some("Bearer at-2"));
    assert_eq!(
        b.credentials(),
        Credentials::default(),
        "our own tokens ended with the rest"
    );
    assert!(matches!(
        b.methods().await,
        Err(BackendError::SignInRequired)
    ));
}

#[tokio::test]
async fn where_no_administrator_granted_the_scope_sign_out_everywhere_names_it_and_hands_off() {
    let server = GraphServer::start().await;
    let b = signed_in(&server).await;
    let request = || b.sign_out_everywhere();
    let refused = step_up::with_step_up(&b, no_browser, request)
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(
        refused.refusal(),
        Some(Refusal::ConsentRequired {
            portal_url: Some(_)
        })
    ));
    let said = refused.to_string();
    assert!(
        said.contains("User.RevokeSessions.All") && said.contains("administrator"),
        "{said}"
    );
    assert_eq!(
        server.seen("POST", "/v1.0/me/revokeSignInSessions").len(),
        1
    );
    // The refused refresh spent nothing: the sign-in goes on.
    assert_eq!(b.account().await.unwrap().display_name, "Kim Akers");
}

#[tokio::test]
async fn where_the_organization_keeps_sign_out_everywhere_for_admins_it_hands_off() {
    let server = GraphServer::start().await;
    server
        .world()
        .consented
        .insert("User.RevokeSessions.All".into());
    server.world().revoke_needs_role = true;
    let b = signed_in(&server).await;
    let refused = b.sign_out_everywhere().await.unwrap_err();
    assert!(matches!(
        refused.refusal(),
        Some(Refusal::ConsentRequired {
            portal_url: Some(_)
        })
    ));
    assert!(
        refused.to_string().contains("keeps it for administrators"),
        "{refused}"
    );
    assert_eq!(
        server.seen("POST", "/v1.0/me/revokeSignInSessions").len(),
        2
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_and_the_rotated_token_reaches_the_store() {
    let server = GraphServer::start().await;
    let b = signed_in(&server).await;
    let saved: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let into = saved.clone();
    b.watch_credentials(Arc::new(move |c: &Credentials| {
        into.lock().unwrap().push(c.refresh_token.clone());
    }));
    server.world().expire_access_tokens();

    let me = b.account().await.unwrap();
    assert_eq!(me.username, "kim@contoso.onmicrosoft.com");
    let refresh = &server
        .seen("POST", &format!("/{TENANT}/oauth2/v2.0/token"))
        .last()
        .unwrap()
        .form();
    assert_eq!(refresh["grant_type"], "refresh_token");
    assert_eq!(refresh["refresh_token"], "rt-1");
    assert_eq!(refresh["scope"], BASE_SCOPES);
    assert_eq!(*saved.lock().unwrap(), [Some("rt-2".to_string())]);
    let gets = server.seen("GET", "/v1.0/me");
    assert_eq!(gets.len(), 2);
    assert_eq!(gets[1].authorization.as_deref(), Some("Bearer at-2"));

    // A refresh token the server no longer honours: sign in again, and it is dropped.
    server.world().expire_access_tokens();
    let mut gone = Credentials::default();
    gone.access_token = Some("at-gone".into());
    gone.refresh_token = Some("rt-gone".into());
    b.restore(gone);
    assert_eq!(b.methods().await.unwrap_err(), BackendError::SignInRequired);
    assert_eq!(b.credentials().refresh_token, None);
}

#[tokio::test]
async fn throttled_reads_are_retried_after_retry_after_and_throttled_writes_are_not() {
    let server = GraphServer::start().await;
    let b = signed_in(&server).await;
    server.world().throttle = 1;
    assert_eq!(b.account().await.unwrap().display_name, "Kim Akers");
    assert_eq!(
        server.seen("GET", "/v1.0/me?").len(),
        2,
        "the same GET, once more"
    );

    server.world().throttle = 1;
    let err = b
        .begin_enrollment(&MethodKind::Email, Some("kim@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::Throttled { .. }), "{err:?}");
    assert_eq!(
        server
            .seen("POST", "/v1.0/me/authentication/emailMethods")
            .len(),
        1
    );
}

#[tokio::test]
async fn a_next_page_link_to_another_host_is_not_followed_with_the_token() {
    let server = GraphServer::start().await;
    let b = signed_in(&server).await;
    server.world().base = "https://graph.example.net".into();
    let err = b.methods().await.unwrap_err();
    assert!(matches!(err, BackendError::Malformed(_)), "{err:?}");
    assert_eq!(
        server.seen("GET", "/v1.0/me/authentication/methods").len(),
        1
    );
}

#[tokio::test]
async fn a_refused_sign_in_is_said_plainly_with_its_aadsts_code() {
    let server = GraphServer::start().await;
    let mut s = GraphSettings::new(TENANT, "not-registered");
    s.authority = server.url.clone();
    s.graph_url = server.url.clone();
    let err = GraphBackend::new(&s)
        .unwrap()
        .sign_in("", &SecretString::new(""))
        .await
        .unwrap_err();
    let said = err.to_string();
    assert!(
        said.contains("AADSTS700016") && said.contains("client_id"),
        "{said}"
    );

    server.world().decline = true;
    let b = adapter(&server);
    let SignIn::Browser(step) = b.sign_in("", &SecretString::new("")).await.unwrap() else {
        panic!("a browser step")
    };
    let said = browser::finish(&b, &mut Transcript::default(), step)
        .await
        .unwrap_err()
        .to_string();
    assert!(said.contains("declined"), "{said}");
}

#[tokio::test]
async fn a_password_change_asks_for_its_scope_by_a_refresh_then_posts_both_passwords() {
    let server = GraphServer::start().await;
    server
        .world()
        .consented
        .insert("Directory.AccessAsUser.All".into());
    let b = signed_in(&server).await;
    let (old, new) = (
        SecretString::new("old-password"),
        SecretString::new("a-new-long-password"),
    );
    let request = || b.change_password(&old, &new);
    assert_eq!(
        step_up::with_step_up(&b, no_browser, request)
            .await
            .unwrap(),
        Ok(Some(()))
    );
    let refresh = server
        .seen("POST", &format!("/{TENANT}/oauth2/v2.0/token"))
        .pop()
        .unwrap()
        .form();
    assert_eq!(
        refresh["scope"],
        format!("{BASE_SCOPES} Directory.AccessAsUser.All")
    );
    let post = server
        .seen("POST", "/v1.0/me/changePassword")
        .pop()
        .unwrap();
    assert_eq!(
        post.json(),
        serde_json::json!({"currentPassword": "old-password", "newPassword": "a-new-long-password"})
    );
    assert_eq!(server.world().password, "a-new-long-password");
}

#[tokio::test]
async fn a_refused_read_names_the_permission_and_beta_preferences_are_optional() {
    let server = GraphServer::start().await;
    let b = signed_in(&server).await;
    server.world().forbidden = vec!["/beta/me/authentication/signInPreferences".into()];
    let methods = b.methods().await.unwrap();
    assert_eq!(methods.len(), 13, "the list is shown without the default");
    assert!(methods.iter().all(|m| !m.is_default));

    server.world().forbidden = vec!["/v1.0/me".into()];
    let said = b.account().await.unwrap_err().to_string();
    assert!(
        said.contains("User.Read") && said.contains("Authorization_RequestDenied"),
        "{said}"
    );
    let said = b.methods().await.unwrap_err().to_string();
    assert!(said.contains("UserAuthenticationMethod.Read"), "{said}");
}
