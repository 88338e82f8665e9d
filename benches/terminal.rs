//! The real binary in a pseudo-terminal (tests/pty_support), timed from the
//! outside: first byte, first frame and the frame that holds the list; the
//! bytes of those frames, of each selection move and while idle. Not
//! criterion: each run is a process start. `./scripts/bench` sets the env:
//!
//!   SECINFO_CONFIG, SECINFO_DATA_DIR, SECINFO_STATE_DIR, SECINFO_ARGS  the profile to open
//!   SECINFO_BIN  the binary (default: the one cargo built with this bench)
//!   BENCH_LABEL  a name for the line printed; BENCH_RUNS (10)
//!   BENCH_LIST   text that appears once the methods list is drawn
//!
//! Prints one line per figure, medians over the runs (plus min and max).

#[path = "../tests/pty_support/mod.rs"]
mod pty_support;

use pty_support::Pty;
use std::time::{Duration, Instant};

struct Run {
    first_byte: Duration,
    first_frame: Duration,
    list: Duration,
    first_frame_bytes: usize,
    list_bytes: usize,
    idle_bytes: usize,
    move_bytes: Vec<usize>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Everything that arrives within `quiet` of the last chunk (a frame is written in one burst).
fn drain(p: &mut Pty, quiet: Duration) -> usize {
    let before = p.raw.len();
    while p.pump(quiet) {}
    p.raw.len() - before
}

fn once(list_text: &str) -> Run {
    let pass: Vec<(String, String)> = ["SECINFO_CONFIG", "SECINFO_DATA_DIR", "SECINFO_STATE_DIR"]
        .into_iter()
        .chain(["SECINFO_ARGS", "SECINFO_BIN", "DBUS_SESSION_BUS_ADDRESS"])
        .filter_map(|k| env(k).map(|v| (k.to_string(), v)))
        .collect();
    let pass: Vec<(&str, &str)> = pass.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let start = Instant::now();
    let mut p = Pty::start(&pass);
    while p.raw.is_empty() {
        assert!(p.pump(Duration::from_secs(10)), "no output in 10 s");
    }
    let first_byte = start.elapsed();
    // The first frame: the first output that puts text on the screen, and its burst.
    while p.parser.screen().contents().trim().is_empty() {
        assert!(p.pump(Duration::from_secs(10)), "no frame in 10 s");
    }
    let first_frame = start.elapsed();
    let first_frame_bytes = p.raw.len() + drain(&mut p, Duration::from_millis(5));
    while !p.parser.screen().contents().contains(list_text) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{list_text:?} never shown; screen:\n{}",
            p.parser.screen().contents()
        );
        p.pump(Duration::from_millis(50));
    }
    let list = start.elapsed();
    let list_bytes = p.raw.len();
    // Settle, then idle: nothing should be written while nothing happens.
    drain(&mut p, Duration::from_millis(300));
    let idle_bytes = drain(&mut p, Duration::from_secs(2));
    let mut move_bytes = Vec::new();
    for key in [b"j", b"j", b"j", b"k", b"k", b"k"] {
        p.send(key);
        move_bytes.push(drain(&mut p, Duration::from_millis(150)));
    }
    p.send(b"q");
    let _ = p.finish();
    Run {
        first_byte,
        first_frame,
        list,
        first_frame_bytes,
        list_bytes,
        idle_bytes,
        move_bytes,
    }
}

fn stats<T: Copy + Ord + std::fmt::Debug>(mut v: Vec<T>) -> String {
    v.sort();
    format!(
        "median {:?} (min {:?}, max {:?})",
        v[v.len() / 2],
        v[0],
        v[v.len() - 1]
    )
}

fn us(d: Duration) -> u64 {
    d.as_micros() as u64
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let label = env("BENCH_LABEL").unwrap_or_else(|| "demo".into());
    let runs: usize = env("BENCH_RUNS").and_then(|r| r.parse().ok()).unwrap_or(10);
    let list_text = env("BENCH_LIST").unwrap_or_else(|| "Alice's phone".into());
    let all: Vec<Run> = (0..runs).map(|_| once(&list_text)).collect();
    let col = |f: fn(&Run) -> u64| stats(all.iter().map(f).collect());
    println!("[{label}] runs: {runs}");
    println!(
        "[{label}] first byte (µs):      {}",
        col(|r| us(r.first_byte))
    );
    println!(
        "[{label}] first frame (µs):     {}",
        col(|r| us(r.first_frame))
    );
    println!("[{label}] list drawn (µs):      {}", col(|r| us(r.list)));
    println!(
        "[{label}] first frame (bytes):  {}",
        col(|r| r.first_frame_bytes as u64)
    );
    println!(
        "[{label}] until list (bytes):   {}",
        col(|r| r.list_bytes as u64)
    );
    println!(
        "[{label}] idle 2 s (bytes):     {}",
        col(|r| r.idle_bytes as u64)
    );
    let moves: Vec<u64> = all
        .iter()
        .flat_map(|r| r.move_bytes.iter().map(|b| *b as u64))
        .collect();
    println!("[{label}] per move j/k (bytes): {}", stats(moves));
}
