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

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _served = Served(
        Command::new(env!("CARGO_BIN_EXE_secinfo"))
            .args(["serve", "--db", db.to_str().unwrap(), "--listen", &listen])
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

    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let profile = |ca_line: &str| {
        format!(
            "[profiles.tls]\nbackend = \"native\"\nurl = \"https://127.0.0.1:{port}\"\n{ca_line}\
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
