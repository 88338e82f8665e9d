// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! The fuzz targets (`fuzz/harness`) as bounded runs on stable Rust, inside
//! `./scripts/test`: each target first replays its whole committed corpus
//! (`fuzz/corpus/NAME/`, grown by `scripts/fuzz` with cargo-fuzz on nightly),
//! then runs a fixed number of new inputs: corpus entries mutated, and fresh
//! random bytes. A property that breaks panics inside the target; the input
//! is then written to `target/fuzz-failures/` and named in the failure, so
//! `cargo +nightly fuzz run NAME FILE` (or this test) reproduces it.
//!
//! The seed is fixed (override with `SECINFO_FUZZ_SEED`), so a run is repeatable.

#[path = "../fuzz/harness/mod.rs"]
mod harness;

use harness::Outcome;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

fn corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the committed corpus {} is missing: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Flip, insert, delete, splice: the cheap half of what libFuzzer does.
fn mutate(rng: &mut StdRng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        match rng.gen_range(0..5) {
            0 if !v.is_empty() => {
                let i = rng.gen_range(0..v.len());
                v[i] ^= 1 << rng.gen_range(0..8);
            }
            1 => {
                let i = rng.gen_range(0..=v.len());
                v.insert(i, rng.r#gen());
            }
            2 if !v.is_empty() => {
                let i = rng.gen_range(0..v.len());
                v.remove(i);
            }
            3 if !other.is_empty() => {
                let i = rng.gen_range(0..=v.len());
                let j = rng.gen_range(0..other.len());
                let k = rng.gen_range(j..=other.len().min(j + 64));
                v.splice(i..i, other[j..k].iter().copied());
            }
            _ if !v.is_empty() => {
                let i = rng.gen_range(0..v.len());
                v[i] = [0, 0xff, b'"', b'{', b'}', b'[', b'\n', 0x1b][rng.gen_range(0..8)];
            }
            _ => v.push(rng.r#gen()),
        }
    }
    v
}

struct Tally {
    executions: usize,
    taken: usize,
    refused: usize,
}

fn run(name: &str, executions: usize) -> Tally {
    let target = harness::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .unwrap();
    let seed: u64 = std::env::var("SECINFO_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(11);
    let mut rng =
        StdRng::seed_from_u64(seed ^ name.len() as u64 ^ (name.as_bytes()[0] as u64) << 8);
    let corpus = corpus(name);
    let mut tally = Tally {
        executions: 0,
        taken: 0,
        refused: 0,
    };
    let one = |input: &[u8], tally: &mut Tally| {
        match catch_unwind(AssertUnwindSafe(|| target(input))) {
            Ok(Outcome::Taken) => tally.taken += 1,
            Ok(Outcome::Refused) => tally.refused += 1,
            Err(_) => {
                let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
                std::fs::create_dir_all(&dir).unwrap();
                let file = dir.join(format!("{name}-{}", tally.executions));
                std::fs::write(&file, input).unwrap();
                panic!(
                    "fuzz target {name} broke a property (message above); the input is in {}; \
                     replay: cargo +nightly fuzz run {name} {} (in fuzz/)",
                    file.display(),
                    file.display()
                );
            }
        }
        tally.executions += 1;
    };
    for input in &corpus {
        one(input, &mut tally);
    }
    for _ in 0..executions {
        let input = if !corpus.is_empty() && rng.gen_bool(0.7) {
            let a = &corpus[rng.gen_range(0..corpus.len())];
            let b = &corpus[rng.gen_range(0..corpus.len())];
            mutate(&mut rng, a, b)
        } else {
            let len = rng.gen_range(0..512);
            (0..len).map(|_| rng.r#gen()).collect()
        };
        one(&input, &mut tally);
    }
    eprintln!(
        "fuzz {name}: {} executions ({} from the corpus), {} taken, {} refused",
        tally.executions,
        corpus.len(),
        tally.taken,
        tally.refused
    );
    assert_eq!(tally.executions, corpus.len() + executions);
    // Inputs that never get past the first check would prove nothing.
    assert!(tally.taken > 0, "no {name} input got past parsing");
    assert!(
        tally.refused > 0,
        "no {name} input was refused: the checks are not being reached"
    );
    tally
}

#[test]
fn the_otpauth_shortener_keeps_what_apps_need_for_any_input() {
    run("otpauth", 5_000);
}

#[test]
fn the_config_and_keymap_loaders_name_file_and_line_for_any_input() {
    run("config", 10_000);
}

#[test]
fn the_native_adapter_reads_any_reply_without_panicking_or_quoting_it() {
    run("native_replies", 20_000);
}

#[test]
fn the_privacyidea_adapter_reads_any_reply_without_panicking_or_quoting_it() {
    run("privacyidea_replies", 20_000);
}

#[test]
fn the_graph_adapter_reads_any_reply_without_panicking_or_quoting_it() {
    run("graph_replies", 20_000);
}

#[test]
fn the_server_answers_any_request_on_any_route_without_a_5xx() {
    run("server_requests", 1_500);
}
