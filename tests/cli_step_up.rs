// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The command line past the server's step-up window (1 s here): every change
//! asks for the second factor again, through the same journey as plain mode
//! and the TUI, then goes through once.

mod common;
use common::*;
use secinfo::server::{Settings, admin};
use std::io::Write;
use std::time::{Duration, Instant};

/// Waits until `needle` has been printed `n` times on stderr.
fn wait_for_nth(live: &Live, needle: &str, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen = live.err.lock().unwrap().clone();
        if seen.matches(needle).count() >= n {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {needle:?} {n} times; stderr:\n{seen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Run {
    live: Live,
    stdin: std::process::ChildStdin,
}

impl Run {
    fn start(world: &World, args: &[&str]) -> Run {
        // Past the window: the last second factor is too old for a change.
        std::thread::sleep(Duration::from_millis(2100));
        let mut all: Vec<&str> = args.to_vec();
        let pass = world.pass_arg();
        all.extend(["--passphrase-from", &pass]);
        let mut child = world.command(&all).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        Run {
            live: Live::start_with_stdout(child),
            stdin,
        }
    }

    fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
    }

    /// The step-up: the emailed code, chosen from the list.
    fn confirm_it_is_me(&mut self, world: &World) {
        let seen = self.live.wait_for("Choose 1-");
        assert!(
            seen.contains("This change needs you to confirm it is you."),
            "{seen}"
        );
        let email = seen
            .lines()
            .find(|l| l.contains("Email") || l.contains("@example.test"))
            .and_then(|l| l.trim().split('.').next())
            .unwrap()
            .to_string();
        self.send(&email);
        self.live.wait_for("Enter the code");
        self.send(&last_code(&world.db, "email"));
        self.live.wait_for("Verified.");
    }

    fn finish(mut self) -> (String, String) {
        drop(self.stdin);
        let status = self.live.finish();
        let out = self.live.out.lock().unwrap().clone();
        let err = self.live.err.lock().unwrap().clone();
        assert!(status.success(), "{status}: {err}");
        (out, err)
    }
}

fn methods(world: &World) -> Vec<serde_json::Value> {
    let list = world.secinfo(
        &[
            "methods",
            "list",
            "--json",
            "--passphrase-from",
            &world.pass_arg(),
        ],
        "",
    );
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    doc["methods"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn past_the_window_every_cli_change_asks_for_the_second_factor_then_goes_through() {
    let world = World::start_with(Settings {
        mfa_max_age: 1,
        ..Settings::default()
    })
    .await;
    let user = "frank@contoso.test";
    let uri = world.user_with_totp(user);
    admin::add_email(&world.db, user, "frank@example.test").unwrap();
    assert!(world.login(user, &uri).status.success());

    // Add an authenticator code app: the step-up first, then the new app's code.
    let mut run = Run::start(&world, &["methods", "add", "totp"]);
    run.confirm_it_is_me(&world);
    let seen = wait_for_nth(&run.live, "Enter the code", 2);
    assert!(!seen.contains("Error"), "{seen}");
    let printed = run.live.wait_for_out("URI: ");
    let new_uri = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("URI: "))
        .unwrap()
        .to_string();
    run.send(&totp_now(&new_uri));
    let (out, _) = run.finish();
    assert!(out.contains("Added Authenticator app (code)"), "{out}");
    let totps = methods(&world)
        .iter()
        .filter(|m| m["kind"] == "totp")
        .count();
    assert_eq!(totps, 2);

    // Add a phone: the code goes to the number after the step-up.
    let mut run = Run::start(&world, &["methods", "add", "phone", "+12025550177"]);
    run.confirm_it_is_me(&world);
    wait_for_nth(&run.live, "Enter the code", 2);
    run.send(&last_code(&world.db, "sms"));
    run.finish();
    let phone = methods(&world)
        .into_iter()
        .find(|m| m["kind"] == "phone")
        .expect("the phone was added");

    // Create an app password.
    let mut run = Run::start(&world, &["app-passwords", "create", "Thunderbird"]);
    run.confirm_it_is_me(&world);
    let (out, _) = run.finish();
    assert!(
        out.trim().len() >= 12,
        "the password is printed once: {out}"
    );

    // Generate recovery codes.
    let mut run = Run::start(&world, &["recovery-codes", "generate", "--yes"]);
    run.confirm_it_is_me(&world);
    let (out, _) = run.finish();
    assert!(
        out.lines().filter(|l| !l.trim().is_empty()).count() >= 5,
        "{out}"
    );

    // Make the phone the default: said as every front end says it.
    let id = phone["id"].as_str().unwrap().to_string();
    let mut run = Run::start(&world, &["methods", "default", &id]);
    run.confirm_it_is_me(&world);
    let (out, _) = run.finish();
    assert!(out.contains("is now your default sign-in method."), "{out}");

    // Delete it: the default moves on, and the sentence names where.
    let mut run = Run::start(&world, &["methods", "delete", &id]);
    run.confirm_it_is_me(&world);
    let (out, _) = run.finish();
    assert!(
        out.contains("Deleted Phone") && out.contains("Your default sign-in method is now"),
        "{out}"
    );
    assert!(methods(&world).iter().all(|m| m["id"] != id.as_str()));
}
