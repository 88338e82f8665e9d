#![no_main]
//! See fuzz/harness/mod.rs; the same target runs on stable in tests/fuzz_stable.rs.

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::replies::graph(data);
});
