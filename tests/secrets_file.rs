//! The encrypted secret file, with real Argon2id and XChaCha20-Poly1305 on
//! real files. The kernel key cache is turned off here (`cache_key = false`)
//! so each open really derives the key from the passphrase; the cache has
//! its own journeys in secrets_select.rs.

mod secrets_support;

use secinfo::secrets::{PassphraseSource, SecretsError, StoreOptions, open_store};
use secrets_support::*;

fn file_opts(dir: &std::path::Path, passphrase: &str) -> StoreOptions {
    let mut o = passphrase_opts(
        dir,
        PassphraseSource::File(passphrase_file(dir, passphrase)),
    );
    o.file = Some(dir.join("data").join("secrets.bin"));
    o.cache_key = false;
    o
}

#[test]
fn tokens_survive_a_restart_with_the_passphrase_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let opts = file_opts(dir.path(), "correct horse battery staple");

    let first_run = open_store(&opts).unwrap();
    let info = first_run.info();
    assert_eq!(info.name, "passphrase, asked on every run");
    assert_eq!(info.persistence, "asked on every run");
    assert!(
        info.why.contains("the settings ask for a passphrase"),
        "{}",
        info.why
    );
    assert!(
        info.why.contains("key caching is turned off"),
        "{}",
        info.why
    );
    first_run.save(PROFILE, USER, &tokens("one")).unwrap();
    first_run
        .save("other-profile", "bob", &tokens("bob"))
        .unwrap();
    drop(first_run);

    let second_run = open_store(&opts).unwrap();
    assert_eq!(second_run.load(PROFILE, USER).unwrap(), Some(tokens("one")));
    assert_eq!(
        second_run.load("other-profile", "bob").unwrap(),
        Some(tokens("bob"))
    );
    assert_eq!(second_run.load(PROFILE, "nobody").unwrap(), None);

    second_run.forget(PROFILE, USER).unwrap();
    let third_run = open_store(&opts).unwrap();
    assert_eq!(third_run.load(PROFILE, USER).unwrap(), None);
    assert_eq!(
        third_run.load("other-profile", "bob").unwrap(),
        Some(tokens("bob"))
    );
}

#[test]
fn wrong_passphrase_is_refused_and_the_file_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let right = file_opts(dir.path(), "the right one");
    let store = open_store(&right).unwrap();
    store.save(PROFILE, USER, &tokens("keep")).unwrap();
    drop(store);
    let path = right.secret_file();
    let before = std::fs::read(&path).unwrap();

    let wrong_dir = tempfile::tempdir().unwrap();
    let mut wrong = file_opts(wrong_dir.path(), "not the right one");
    wrong.file = Some(path.clone());
    let err = open_store(&wrong)
        .err()
        .expect("a wrong passphrase must not open the file");
    assert!(matches!(err, SecretsError::WrongPassphrase), "{err}");
    assert_eq!(err.to_string(), "wrong passphrase");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file must be untouched"
    );

    // Typed wrong three times on a terminal: refused, still untouched.
    let prompter = ScriptedPrompter::answering(&["nope", "nope again", "still no"]);
    let typed_dir = tempfile::tempdir().unwrap();
    let mut typed = file_opts(typed_dir.path(), "unused");
    typed.file = Some(path.clone());
    typed.passphrase = PassphraseSource::Prompt;
    typed.interactive = true;
    prompter.install(&mut typed);
    assert!(matches!(
        open_store(&typed).err(),
        Some(SecretsError::WrongPassphrase)
    ));
    assert_eq!(prompter.times_asked(), 3);
    assert_eq!(std::fs::read(&path).unwrap(), before);

    assert_eq!(
        open_store(&right).unwrap().load(PROFILE, USER).unwrap(),
        Some(tokens("keep"))
    );
}

#[test]
fn corrupt_file_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let opts = file_opts(dir.path(), "pass phrase");
    open_store(&opts)
        .unwrap()
        .save(PROFILE, USER, &tokens("x"))
        .unwrap();
    let path = opts.secret_file();
    let good = std::fs::read(&path).unwrap();

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "one flipped ciphertext byte",
            flip(&good, good.len() - 3),
            "integrity check",
        ),
        ("cut short", good[..40].to_vec(), "too short"),
        (
            "not ours",
            b"hello, this is some other file entirely".to_vec(),
            "not a secinfo secret file",
        ),
        ("empty", Vec::new(), "too short"),
        (
            "absurd cost in the header",
            {
                let mut b = good.clone();
                b[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
                b
            },
            "out of range",
        ),
    ];
    for (what, bytes, expected) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let err = open_store(&opts)
            .err()
            .unwrap_or_else(|| panic!("{what}: opened a damaged file"));
        let msg = err.to_string();
        assert!(matches!(err, SecretsError::File { .. }), "{what}: {msg}");
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains(expected),
            "{what}: {msg}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{what}: a damaged file must not be overwritten"
        );
    }

    // A changed cost parameter is caught too: the header is authenticated.
    let mut tampered = good.clone();
    tampered[14] = 2;
    std::fs::write(&path, &tampered).unwrap();
    let err = open_store(&opts).err().unwrap();
    assert!(
        matches!(
            err,
            SecretsError::WrongPassphrase | SecretsError::File { .. }
        ),
        "{err}"
    );
}

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at] ^= 0x01;
    b
}

#[test]
fn file_is_0600_and_contains_no_plaintext_token() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let opts = file_opts(dir.path(), "a passphrase");
    let store = open_store(&opts).unwrap();
    store.save(PROFILE, USER, &tokens("secret")).unwrap();
    let path = opts.secret_file();
    let first = std::fs::read(&path).unwrap();

    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "secret file mode {mode:o}");
    let dir_mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700, "data dir mode {dir_mode:o}");
    for needle in [
        "PLAINTEXT-MARKER",
        "access-secret",
        "alice@example.org",
        "work",
        "a passphrase",
    ] {
        assert!(
            !contains(&first, needle.as_bytes()),
            "the file shows {needle:?} in plain text"
        );
    }

    // Each write uses a fresh nonce: the same content encrypts differently.
    store.save(PROFILE, USER, &tokens("secret")).unwrap();
    let second = std::fs::read(&path).unwrap();
    assert_eq!(first[..54], second[..54], "the header stays");
    assert_ne!(
        first[54..78],
        second[54..78],
        "the nonce must change on every write"
    );
    assert_ne!(first[78..], second[78..]);

    // No temp file is left behind; only the file and its lock.
    let mut names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["secrets.bin", "secrets.bin.lock"]);

    // Debug output of the store and of the tokens shows no secret.
    let debug = format!("{:?} {:?}", tokens("secret"), store.info());
    assert!(!debug.contains("PLAINTEXT-MARKER"), "{debug}");
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn two_stores_on_one_file_keep_each_others_changes() {
    let dir = tempfile::tempdir().unwrap();
    let opts = file_opts(dir.path(), "shared");
    let a = open_store(&opts).unwrap();
    let b = open_store(&opts).unwrap();
    std::thread::scope(|s| {
        for i in 0..8 {
            let (a, b) = (&a, &b);
            s.spawn(move || {
                a.save(PROFILE, &format!("a{i}"), &tokens(&format!("a{i}")))
                    .unwrap()
            });
            s.spawn(move || {
                b.save(PROFILE, &format!("b{i}"), &tokens(&format!("b{i}")))
                    .unwrap()
            });
        }
    });
    let c = open_store(&opts).unwrap();
    for i in 0..8 {
        assert_eq!(
            c.load(PROFILE, &format!("a{i}")).unwrap(),
            Some(tokens(&format!("a{i}")))
        );
        assert_eq!(
            c.load(PROFILE, &format!("b{i}")).unwrap(),
            Some(tokens(&format!("b{i}")))
        );
    }
}

/// A write that fails half way (here: the file-size limit, as a full disk
/// would) leaves the previous file as it was and no temp file behind.
#[test]
fn a_failed_write_keeps_the_previous_file() {
    if child_role().as_deref() == Some("small-fsize-limit") {
        let dir = std::path::PathBuf::from(std::env::var("SECINFO_TEST_DIR").unwrap());
        let opts = file_opts(&dir, "limits");
        let path = opts.secret_file();
        let before = std::fs::read(&path).unwrap();
        unsafe {
            // Without this the kernel kills the process (SIGXFSZ) instead
            // of failing the write.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 4096,
                rlim_max: libc::RLIM_INFINITY,
            };
            assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
        }
        let store = open_store(&opts).unwrap();
        let mut big = tokens("big");
        big.refresh_token = Some("r".repeat(64 * 1024));
        let err = store
            .save(PROFILE, USER, &big)
            .expect_err("the write must fail");
        let msg = err.to_string();
        assert!(msg.contains("the previous version is kept"), "{msg}");
        assert!(
            !msg.contains("rrrr") && !msg.contains("PLAINTEXT-MARKER"),
            "{msg}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(store.load(PROFILE, USER).unwrap(), Some(tokens("small")));
        println!("FAILED-WRITE-OK");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let opts = file_opts(dir.path(), "limits");
    open_store(&opts)
        .unwrap()
        .save(PROFILE, USER, &tokens("small"))
        .unwrap();
    let out = run_child(
        "a_failed_write_keeps_the_previous_file",
        "small-fsize-limit",
        &[("SECINFO_TEST_DIR", dir.path().to_str().unwrap())],
        &[],
        &[],
    );
    assert!(stdout(&out).contains("FAILED-WRITE-OK"));
    let names: Vec<_> = std::fs::read_dir(opts.secret_file().parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains(".tmp-")),
        "temp file left behind: {names:?}"
    );
}
