// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! What the Graph adapter logs (at its most verbose) when Microsoft refuses:
//! the `request-id` and `client-request-id` support asks for, and never a
//! token or a device code. Its own test binary: the log subscriber is global.

mod graph_server;

use graph_server::*;
use secinfo::backend::Backend;
use secinfo::backend::graph::{GraphBackend, GraphSettings};
use secinfo::backend::{BrowserPoll, SignIn};
use secinfo::secrets::SecretString;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_refusal_is_logged_with_the_ids_support_asks_for_and_never_a_token() {
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .init();

    let server = GraphServer::start().await;
    let mut s = GraphSettings::new(TENANT, CLIENT_ID);
    s.authority = server.url.clone();
    s.graph_url = server.url.clone();
    let b = GraphBackend::new(&s).unwrap();
    let SignIn::Browser(step) = b.sign_in("", &SecretString::new("")).await.unwrap() else {
        panic!("a browser step")
    };
    assert_eq!(b.poll_browser(&step).await.unwrap(), BrowserPoll::Pending);
    assert!(matches!(
        b.poll_browser(&step).await.unwrap(),
        BrowserPoll::Finished(_)
    ));
    // A refresh, then a refusal.
    server.world().expire_access_tokens();
    assert!(b.methods().await.is_ok());
    server.world().forbidden = vec!["/v1.0/me".into()];
    assert!(b.account().await.is_err());

    let sent = server.seen("GET", "/v1.0/me?").pop().unwrap();
    let logged = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("request-id=c5e4f1b8-0000-4000-8000-000000000001")
            && logged.contains(&format!(
                "client-request-id={}",
                sent.client_request_id.unwrap()
            )),
        "{logged}"
    );
    assert!(logged.contains("Authorization_RequestDenied"), "{logged}");
    for secret in ["at-1", "rt-1", "at-2", "rt-2", "DAQABAAEAAAD", "Bearer "] {
        assert!(!logged.contains(secret), "{secret} was logged:\n{logged}");
    }
}
