//! Getting the passphrase: from a file, an inherited descriptor or the
//! terminal prompt (injected here), never from an argument value.

mod secrets_support;

use std::io::Write;
use std::os::fd::AsRawFd;

use secinfo::secrets::{PassphraseSource, SecretsError, open_store};
use secrets_support::*;

#[test]
fn passphrase_from_fd() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, mut writer) = std::io::pipe().unwrap();
    // A script writes one line and keeps its end open: reading stops at the
    // newline instead of waiting for the end of the stream.
    writer.write_all(b"piped passphrase\n").unwrap();
    let fd = reader.as_raw_fd();
    let source = PassphraseSource::parse(&format!("fd:{fd}")).unwrap();
    assert_eq!(source, PassphraseSource::Fd(fd));
    let mut opts = passphrase_opts(dir.path(), source);
    opts.cache_key = false;
    open_store(&opts)
        .unwrap()
        .save(PROFILE, USER, &tokens("fd"))
        .unwrap();

    // The next run gets the same passphrase from a file: same key.
    let mut from_file = passphrase_opts(
        dir.path(),
        PassphraseSource::File(passphrase_file(dir.path(), "piped passphrase")),
    );
    from_file.cache_key = false;
    assert_eq!(
        open_store(&from_file).unwrap().load(PROFILE, USER).unwrap(),
        Some(tokens("fd"))
    );

    // A wrong one on a descriptor is refused like any other.
    writer.write_all(b"something else\n").unwrap();
    assert!(matches!(
        open_store(&opts).err(),
        Some(SecretsError::WrongPassphrase)
    ));
    drop(writer);
    drop(reader);
}

#[test]
fn a_passphrase_is_never_taken_as_a_plain_value() {
    for bad in [
        "hunter2",
        "",
        "@",
        "fd:",
        "fd:-1",
        "fd:three",
        "env:SECINFO_PASS",
    ] {
        let err = PassphraseSource::parse(bad)
            .err()
            .unwrap_or_else(|| panic!("{bad:?} was accepted"));
        let msg = err.to_string();
        assert!(
            msg.contains("@FILE") || msg.contains("fd:") || msg.contains('@'),
            "{bad:?}: {msg}"
        );
        assert!(
            !msg.contains("hunter2"),
            "the refused value must not be echoed: {msg}"
        );
    }
    assert_eq!(
        PassphraseSource::parse("@/run/pass").unwrap(),
        PassphraseSource::File("/run/pass".into())
    );
    assert_eq!(
        PassphraseSource::parse("fd:3").unwrap(),
        PassphraseSource::Fd(3)
    );
}

#[test]
fn an_empty_or_missing_passphrase_file_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let missing = dir.path().join("missing");
    for (source, expected) in [
        (PassphraseSource::File(empty), "empty passphrase"),
        (PassphraseSource::File(missing), "cannot read"),
    ] {
        let mut opts = passphrase_opts(dir.path(), source);
        opts.file = Some(dir.path().join("data/secrets.bin"));
        let err = open_store(&opts).err().expect("no passphrase, no store");
        assert!(err.to_string().contains(expected), "{err}");
        assert!(!dir.path().join("data").exists());
    }
}

#[test]
fn the_first_passphrase_is_typed_twice_and_a_mismatch_asks_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = passphrase_opts(dir.path(), PassphraseSource::Prompt);
    opts.interactive = true;
    opts.cache_key = false;
    let prompter = ScriptedPrompter::answering(&["first try", "typo", "chosen one", "chosen one"]);
    prompter.install(&mut opts);
    let store = open_store(&opts).unwrap();
    store.save(PROFILE, USER, &tokens("typed")).unwrap();
    let asked = prompter.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 4);
    assert!(
        asked[0].starts_with("Choose a passphrase") && asked[1] == "Type it again: ",
        "{asked:?}"
    );

    let later = ScriptedPrompter::answering(&["chosen one"]);
    later.install(&mut opts);
    assert_eq!(
        open_store(&opts).unwrap().load(PROFILE, USER).unwrap(),
        Some(tokens("typed"))
    );
    assert_eq!(later.times_asked(), 1);
}
