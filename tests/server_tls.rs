// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! `secinfo serve --tls-cert --tls-key`: the reference server speaks HTTPS
//! itself (rustls), and a profile trusts its private certificate authority
//! through `ca_file`, while a client without it refuses the certificate.

mod common;
mod serve_process;

use common::*;
use serve_process::{Served, free_port};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A private CA and a server certificate it signed for 127.0.0.1, as PEM files in `dir`.
fn private_ca(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "secinfo test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

#[test]
fn the_reference_server_speaks_tls_and_a_profile_trusts_its_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = private_ca(dir.path());
    let db = dir.path().join("server.db");
    let password = "a-long-test-password";
    let mut add = Command::new(env!("CARGO_BIN_EXE_secinfo"))
        .args([
            "admin",
            "--db",
            db.to_str().unwrap(),
            "user",
            "add",
            "tess@contoso.test",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(add.stdin.take().unwrap(), "{password}").unwrap();
    assert!(add.wait().unwrap().success());

    assert_eq!(db, dir.path().join("server.db"));
    let (_served, listen) = tls_server(dir.path(), &cert, &key);

    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let profile = |ca_line: &str| {
        format!(
            "[profiles.tls]\nbackend = \"native\"\nurl = \"https://{listen}\"\n{ca_line}\
             secret_store = \"passphrase\"\ntimeout_secs = 5\n"
        )
    };
    std::fs::write(
        home.join("passphrase"),
        "test passphrase for the secret file\n",
    )
    .unwrap();
    let pass = format!("@{}", home.join("passphrase").display());
    let secinfo = |config: &str, args: &[&str], stdin: &str| {
        std::fs::write(home.join("config.toml"), config).unwrap();
        let mut all = args.to_vec();
        all.extend(["--passphrase-from", &pass]);
        run_secinfo(&home, &home.join("config.toml"), &all, stdin)
    };

    // Without the CA: the certificate is refused, plainly.
    let refused = secinfo(
        &profile(""),
        &["login", "--username", "tess@contoso.test"],
        &format!("{password}\n"),
    );
    assert!(!refused.status.success());
    let said = text(&refused.stderr);
    assert!(said.to_lowercase().contains("certificate"), "{said}");

    // With it: TLS all the way, and the sign-in works.
    let with_ca = profile(&format!("ca_file = \"{}\"\n", ca.display()));
    let login = secinfo(
        &with_ca,
        &["login", "--username", "tess@contoso.test"],
        &format!("{password}\n"),
    );
    assert!(login.status.success(), "{}", text(&login.stderr));
    let doctor = secinfo(&with_ca, &["doctor", "--json"], "");
    let doc: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    assert!(
        doc["transport"]
            .as_str()
            .unwrap()
            .contains("TLS (rustls), certificate verified"),
        "{doc}"
    );
}

/// `secinfo serve` over TLS on a fresh database; its address.
fn tls_server(
    dir: &std::path::Path,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> (Served, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let served = Served(
        Command::new(env!("CARGO_BIN_EXE_secinfo"))
            .args([
                "serve",
                "--db",
                dir.join("server.db").to_str().unwrap(),
                "--listen",
                &listen,
            ])
            .args(["--tls-cert", cert.to_str().unwrap()])
            .args(["--tls-key", key.to_str().unwrap()])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(Instant::now() < deadline, "the server never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    (served, listen)
}

/// A TCP proxy to `upstream` that counts the connections it is asked for.
async fn counting_proxy(
    upstream: String,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    (addr, count)
}

/// What a start does: three requests at once, before any connection exists.
async fn three_at_once(client: &secinfo::backend::http::HttpClient) -> Vec<reqwest::Version> {
    let get = || async {
        let req = client.request(reqwest::Method::GET, "v1/meta").unwrap();
        client.send(req).await.unwrap().version()
    };
    let (a, b, c) = futures::join!(get(), get(), get());
    vec![a, b, c]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_known_to_speak_http2_gets_one_connection_for_the_requests_of_a_start() {
    use secinfo::backend::first_connection::Http2Servers;
    use secinfo::backend::http::HttpClient;
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = private_ca(dir.path());
    let (_served, listen) = tls_server(dir.path(), &cert, &key);
    let (proxy, connections) = counting_proxy(listen).await;
    let url = format!("https://{proxy}");
    let origin = url.clone();
    let servers = Http2Servers::at(dir.path().join("state").join("http2-servers"));
    let client = || {
        HttpClient::remembering(&url, Duration::from_secs(5), Some(&ca), servers.clone()).unwrap()
    };

    // The first start knows nothing of the server: its requests connect at once, as
    // they always did, and the server's answer (HTTP/2, by ALPN) is remembered.
    assert!(!servers.knows(&origin));
    let versions = three_at_once(&client()).await;
    assert_eq!(versions, [reqwest::Version::HTTP_2; 3]);
    let first = connections.load(Ordering::SeqCst);
    assert!(first >= 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !servers.knows(&origin) {
        assert!(
            Instant::now() < deadline,
            "the server's HTTP/2 was not remembered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The next start (a new client, as a new process makes): one connection carries all three.
    let versions = three_at_once(&client()).await;
    assert_eq!(versions, [reqwest::Version::HTTP_2; 3]);
    assert_eq!(
        connections.load(Ordering::SeqCst) - first,
        1,
        "one connection for the three"
    );
}
