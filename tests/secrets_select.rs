//! Which store `open_store` picks, on the real kernel keyring and real
//! D-Bus where the machine has them. Runs that must see a different
//! environment (no session bus, a later run in the same login session)
//! re-run the test in a child process.

mod secrets_support;

use secinfo::secrets::{
    PassphraseSource, SecretsError, StoreChoice, StoreOptions, describe_store, forget_cached_key,
    open_store,
};
use secrets_support::*;

const CACHED: &str = "passphrase, key cached in the kernel session keyring";
const EVERY_RUN: &str = "passphrase, asked on every run";

/// Options a later run would use: nothing to read the passphrase from, and
/// nobody to ask.
fn later_run_opts(file: &std::path::Path) -> StoreOptions {
    let mut o = passphrase_opts(file.parent().unwrap(), PassphraseSource::Prompt);
    o.file = Some(file.to_path_buf());
    o
}

#[test]
fn the_passphrase_is_asked_once_per_login_session() {
    if child_role().as_deref() == Some("later-run") {
        let file = std::path::PathBuf::from(std::env::var("SECINFO_TEST_FILE").unwrap());
        let store = open_store(&later_run_opts(&file))
            .expect("a later run in the same login session needs no passphrase");
        assert_eq!(store.load(PROFILE, USER).unwrap(), Some(tokens("session")));
        println!("LATER-RUN-LOADED {}", store.info().name);
        return;
    }
    // A fresh login: this thread (and the processes it starts) get their
    // own session keyring, like an SSH login through pam_keyinit.
    assert!(
        join_new_session_keyring(),
        "the kernel refused a session keyring"
    );

    let dir = tempfile::tempdir().unwrap();
    let opts = passphrase_opts(
        dir.path(),
        PassphraseSource::File(passphrase_file(dir.path(), "typed once")),
    );
    let first = open_store(&opts).unwrap();
    let info = first.info();
    assert_eq!(info.name, CACHED, "{info:?}");
    assert!(info.persistence.starts_with("until"), "{info:?}");
    first.save(PROFILE, USER, &tokens("session")).unwrap();
    drop(first);

    let file = opts.secret_file();
    let out = run_child(
        "the_passphrase_is_asked_once_per_login_session",
        "later-run",
        &[("SECINFO_TEST_FILE", file.to_str().unwrap())],
        &[],
        &[],
    );
    assert!(
        stdout(&out).contains(&format!("LATER-RUN-LOADED {CACHED}")),
        "{}",
        stdout(&out)
    );

    // "Lock now": the cached key is dropped, so the next run must ask.
    forget_cached_key(&opts).unwrap();
    let err = open_store(&later_run_opts(&file))
        .err()
        .expect("without the cached key the passphrase is needed");
    assert!(matches!(err, SecretsError::Locked(_)), "{err}");
    assert!(
        err.to_string().contains("needs its passphrase") && err.to_string().contains("@FILE"),
        "{err}"
    );
}

#[test]
fn without_a_session_keyring_the_passphrase_is_asked_on_every_run() {
    // After an SSH logout, a process left running (tmux, nohup) has a
    // revoked session keyring. Kernel credentials are per thread, so this
    // runs on a thread of its own.
    std::thread::spawn(|| {
        assert!(
            join_new_session_keyring() && revoke_session_keyring(),
            "could not set up a revoked session keyring"
        );
        let dir = tempfile::tempdir().unwrap();
        let opts = passphrase_opts(
            dir.path(),
            PassphraseSource::File(passphrase_file(dir.path(), "every time")),
        );

        assert_eq!(describe_store(&opts).name, EVERY_RUN);
        let first = open_store(&opts).unwrap();
        let info = first.info();
        assert_eq!(info.name, EVERY_RUN, "{info:?}");
        assert_eq!(info.persistence, "asked on every run");
        assert!(
            info.why.contains("cannot be cached") && info.why.contains("kernel keyring"),
            "{}",
            info.why
        );
        first.save(PROFILE, USER, &tokens("revoked")).unwrap();

        for run in 0..2 {
            let prompter = ScriptedPrompter::answering(&["every time"]);
            let mut typed = later_run_opts(&opts.secret_file());
            typed.interactive = true;
            prompter.install(&mut typed);
            let store = open_store(&typed).unwrap();
            assert_eq!(
                store.load(PROFILE, USER).unwrap(),
                Some(tokens("revoked")),
                "run {run}"
            );
            assert_eq!(prompter.times_asked(), 1, "run {run} must ask once");
            assert!(prompter.asked.lock().unwrap()[0].contains("Passphrase for secinfo's secrets"));
        }
        let err = open_store(&later_run_opts(&opts.secret_file()))
            .err()
            .unwrap();
        assert!(matches!(err, SecretsError::Locked(_)), "{err}");
    })
    .join()
    .unwrap();
}

#[test]
fn no_store_means_nothing_is_written() {
    if let Some(role) = child_role() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut opts = StoreOptions::new(&data);
        opts.interactive = false;
        opts.choice = if role == "keyring-only" {
            StoreChoice::Keyring
        } else {
            StoreChoice::Auto
        };
        ScriptedPrompter::default().install(&mut opts);

        let described = describe_store(&opts);
        let store = open_store(&opts).unwrap();
        let info = store.info();
        assert_eq!(info, described, "doctor must report what is used");
        assert_eq!(info.name, "none");
        assert_eq!(info.persistence, "not kept: you sign in on every run");
        assert!(
            info.why.contains("DBUS_SESSION_BUS_ADDRESS is not set"),
            "{}",
            info.why
        );
        if role == "auto" {
            assert!(
                info.why.contains("no passphrase can be asked") && info.why.contains("fd:N"),
                "{}",
                info.why
            );
        } else {
            assert!(
                info.why.contains("the settings ask for the OS keyring"),
                "{}",
                info.why
            );
        }
        let err = store.save(PROFILE, USER, &tokens("nowhere")).err().unwrap();
        assert!(!err.to_string().contains("PLAINTEXT-MARKER"));
        assert_eq!(store.load(PROFILE, USER).unwrap(), None);
        assert!(!data.exists(), "nothing may be written when no store works");
        println!("NO-STORE-OK {role}");
        return;
    }
    for role in ["auto", "keyring-only"] {
        let out = run_child(
            "no_store_means_nothing_is_written",
            role,
            &[],
            &["DBUS_SESSION_BUS_ADDRESS"],
            &[],
        );
        assert!(stdout(&out).contains(&format!("NO-STORE-OK {role}")));
    }
}

/// Auto without a usable Secret Service falls back to the passphrase and
/// says why, for each way the Secret Service can be missing.
#[test]
fn a_missing_secret_service_falls_back_to_the_passphrase_and_says_why() {
    if let Some(role) = child_role() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = passphrase_opts(
            dir.path(),
            PassphraseSource::File(passphrase_file(dir.path(), "fallback")),
        );
        opts.choice = StoreChoice::Auto;
        opts.cache_key = false;
        let store = open_store(&opts).unwrap();
        let why = store.info().why;
        assert_eq!(store.info().name, EVERY_RUN);
        let expected = match role.as_str() {
            "no-bus" => "there is no D-Bus session",
            "dead-bus" => "the Secret Service cannot be reached",
            // With no keyring daemon installed the bus says so; with one
            // installed, D-Bus starts it, but it has no unlocked keyring.
            _ if why.contains("is there but does not work") => "it may be locked",
            _ => "the D-Bus session has no Secret Service",
        };
        assert!(
            why.starts_with("no OS keyring: ") && why.contains(expected),
            "{role}: {why}"
        );
        store.save(PROFILE, USER, &tokens("fb")).unwrap();
        assert_eq!(
            open_store(&opts).unwrap().load(PROFILE, USER).unwrap(),
            Some(tokens("fb"))
        );
        println!("FALLBACK-OK {role}");
        return;
    }
    let name = "a_missing_secret_service_falls_back_to_the_passphrase_and_says_why";
    let out = run_child(name, "no-bus", &[], &["DBUS_SESSION_BUS_ADDRESS"], &[]);
    assert!(stdout(&out).contains("FALLBACK-OK no-bus"));
    let out = run_child(
        name,
        "dead-bus",
        &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")],
        &[],
        &[],
    );
    assert!(stdout(&out).contains("FALLBACK-OK dead-bus"));
    // A real session bus with no keyring daemon on it, where dbus-run-session
    // exists (it does on the project's machines; without it the two cases
    // above are what such a machine would see).
    if which("dbus-run-session").is_some() {
        let out = run_child(name, "session-bus", &[], &[], &["dbus-run-session", "--"]);
        assert!(stdout(&out).contains("FALLBACK-OK session-bus"));
    } else {
        println!("dbus-run-session not installed: covered by the no-bus and dead-bus runs");
    }
}

/// The real Secret Service: gnome-keyring on a private D-Bus session with
/// its own throwaway home, unlocked at start as a desktop login would.
/// Where gnome-keyring or dbus-run-session is not installed, the test
/// checks what such a machine does instead: the passphrase, with the reason.
#[test]
fn with_a_working_secret_service_the_key_lives_in_the_os_keyring() {
    let name = "with_a_working_secret_service_the_key_lives_in_the_os_keyring";
    match child_role().as_deref() {
        Some("ss-first") => {
            let file = std::path::PathBuf::from(std::env::var("SECINFO_TEST_FILE").unwrap());
            let store = open_store(&later_run_opts_auto(&file)).unwrap();
            let info = store.info();
            assert_eq!(info.name, "OS keyring (Secret Service)", "{info:?}");
            assert_eq!(info.persistence, "kept across reboots");
            assert!(
                info.why.contains("checked with a test entry"),
                "{}",
                info.why
            );
            store.save(PROFILE, USER, &tokens("ss")).unwrap();
            let bytes = std::fs::read(&file).unwrap();
            assert_eq!(
                bytes[9], 1,
                "the header records the OS keyring as the key's home"
            );
            assert!(!bytes.windows(16).any(|w| w == b"PLAINTEXT-MARKER"));
            // A later run in the same desktop session opens it unasked.
            let out = run_child(name, "ss-second", &[], &[], &[]);
            assert!(stdout(&out).contains("SS-SECOND-OK"), "{}", stdout(&out));
            println!("SS-FIRST-OK");
        }
        Some("ss-second") => {
            let file = std::path::PathBuf::from(std::env::var("SECINFO_TEST_FILE").unwrap());
            // The app opens its store from inside its tokio runtime, where
            // the blocking Secret Service client must not start its own.
            let rt = tokio::runtime::Runtime::new().unwrap();
            let store = rt.block_on(async { open_store(&later_run_opts_auto(&file)).unwrap() });
            assert_eq!(store.info().name, "OS keyring (Secret Service)");
            assert!(
                store
                    .info()
                    .why
                    .contains("is locked with a key kept in OS keyring"),
                "{}",
                store.info().why
            );
            assert_eq!(store.load(PROFILE, USER).unwrap(), Some(tokens("ss")));
            println!("SS-SECOND-OK");
        }
        Some("gone") => {
            let file = std::path::PathBuf::from(std::env::var("SECINFO_TEST_FILE").unwrap());
            let store = open_store(&later_run_opts_auto(&file)).unwrap();
            let info = store.info();
            assert_eq!(info.name, "none");
            assert!(
                info.why
                    .contains("locked with a key in the OS keyring, which is not available now"),
                "{}",
                info.why
            );
            assert!(
                file.exists(),
                "the file is kept for when the keyring is back"
            );
            println!("GONE-OK");
        }
        Some("no-secret-service") => {
            let file = std::path::PathBuf::from(std::env::var("SECINFO_TEST_FILE").unwrap());
            let mut opts = later_run_opts_auto(&file);
            opts.passphrase =
                PassphraseSource::File(passphrase_file(file.parent().unwrap(), "no keyring here"));
            let info = open_store(&opts).unwrap().info();
            assert!(info.name.starts_with("passphrase"), "{info:?}");
            assert!(info.why.starts_with("no OS keyring: "), "{}", info.why);
            forget_cached_key(&opts).unwrap();
            println!("NO-SS-OK");
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("data").join("secrets.bin");
            let env = [("SECINFO_TEST_FILE", file.to_str().unwrap())];
            if which("gnome-keyring-daemon").is_none() || which("dbus-run-session").is_none() {
                println!(
                    "gnome-keyring-daemon or dbus-run-session missing: checking the fallback instead"
                );
                let out = run_child(
                    name,
                    "no-secret-service",
                    &env,
                    &["DBUS_SESSION_BUS_ADDRESS"],
                    &[],
                );
                assert!(stdout(&out).contains("NO-SS-OK"));
                return;
            }
            let home = dir.path().join("home");
            let script = dir.path().join("desktop-login.sh");
            std::fs::write(
                &script,
                DESKTOP_LOGIN.replace("@HOME@", home.to_str().unwrap()),
            )
            .unwrap();
            let out = run_child(
                name,
                "ss-first",
                &env,
                &[],
                &["dbus-run-session", "--", "sh", script.to_str().unwrap()],
            );
            assert!(stdout(&out).contains("SS-FIRST-OK"), "{}", stdout(&out));
            // The daemon is gone with its session: this run cannot reach the
            // key, and says so instead of inventing a new one.
            let out = run_child(name, "gone", &env, &["DBUS_SESSION_BUS_ADDRESS"], &[]);
            assert!(stdout(&out).contains("GONE-OK"), "{}", stdout(&out));
        }
    }
}

fn later_run_opts_auto(file: &std::path::Path) -> StoreOptions {
    let mut o = later_run_opts(file);
    o.choice = StoreChoice::Auto;
    o
}

/// In the environment the tests inherit (a container or CI job usually has
/// no login session keyring, a developer's SSH login has one) the kernel
/// cache either works for the next process, or the store says it does not
/// and the next process must be given the passphrase.
#[test]
fn a_run_in_the_inherited_keyring_caches_the_key_or_says_why() {
    let name = "a_run_in_the_inherited_keyring_caches_the_key_or_says_why";
    if child_role().as_deref() == Some("next") {
        let file = std::path::PathBuf::from(std::env::var("SECINFO_TEST_FILE").unwrap());
        match open_store(&later_run_opts(&file)) {
            Ok(store) => {
                assert_eq!(
                    store.load(PROFILE, USER).unwrap(),
                    Some(tokens("inherited"))
                );
                println!("NEXT-OPENED");
            }
            Err(e) => println!("NEXT-LOCKED {e}"),
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let opts = passphrase_opts(
        dir.path(),
        PassphraseSource::File(passphrase_file(dir.path(), "inherited")),
    );
    let store = open_store(&opts).unwrap();
    let info = store.info();
    println!("inherited keyring: {info:?}");
    // Where the kernel keyring works for a login session, it must work in
    // the inherited one too (the store installs a session keyring itself).
    let works_in_a_login = std::thread::spawn(|| {
        let d = tempfile::tempdir().unwrap();
        join_new_session_keyring()
            && describe_store(&passphrase_opts(
                d.path(),
                PassphraseSource::File(passphrase_file(d.path(), "x")),
            ))
            .name
                == CACHED
    })
    .join()
    .unwrap();
    if works_in_a_login {
        assert_eq!(info.name, CACHED, "{info:?}");
    }
    store.save(PROFILE, USER, &tokens("inherited")).unwrap();
    let file = opts.secret_file();
    let out = run_child(
        name,
        "next",
        &[("SECINFO_TEST_FILE", file.to_str().unwrap())],
        &[],
        &[],
    );
    if info.name == CACHED {
        assert!(
            stdout(&out).contains("NEXT-OPENED"),
            "{info:?}\n{}",
            stdout(&out)
        );
        let id = file_id_hex(&file);
        assert_eq!(
            live_kernel_keys_named(&id),
            1,
            "one cached key, no stray copies"
        );
        forget_cached_key(&opts).unwrap();
        assert_eq!(
            live_kernel_keys_named(&id),
            0,
            "\"lock now\" leaves no copy of the key"
        );
    } else {
        assert_eq!(info.name, EVERY_RUN);
        assert!(info.why.contains("kernel keyring"), "{}", info.why);
        assert!(
            stdout(&out).contains("NEXT-LOCKED") && stdout(&out).contains("needs its passphrase")
        );
    }
}

/// A desktop login in miniature: gnome-keyring unlocked with the login
/// password on a private session bus, then the command. It waits until the
/// daemon owns its bus name and the default keyring exists, because a client
/// that asks earlier makes D-Bus start a second, locked daemon.
const DESKTOP_LOGIN: &str = r#"
export HOME='@HOME@' XDG_DATA_HOME='@HOME@/data' XDG_RUNTIME_DIR='@HOME@/run'
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
printf 'login-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
ask() { dbus-send --session --print-reply "$@" 2>/dev/null; }
for i in $(seq 1 100); do
  ask --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
      string:org.freedesktop.secrets | grep -q 'boolean true' &&
  ask --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.ReadAlias \
      string:default | grep -q 'object path "/org/freedesktop/secrets/collection/' && break
  sleep 0.1
done
exec "$@"
"#;

fn file_id_hex(file: &std::path::Path) -> String {
    let bytes = std::fs::read(file).unwrap();
    bytes[22..38].iter().map(|b| format!("{b:02x}")).collect()
}

/// Keys whose description contains `needle` and that are not invalidated,
/// as the kernel lists them in /proc/keys (flag `i` = invalidated).
fn live_kernel_keys_named(needle: &str) -> usize {
    std::fs::read_to_string("/proc/keys")
        .unwrap()
        .lines()
        .filter(|l| l.contains(needle))
        .filter(|l| !l.split_whitespace().nth(1).unwrap_or("").contains('i'))
        .count()
}
