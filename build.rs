//! Release links fold identical functions (`--icf=all`, lld's identical code
//! folding): generic code instantiated for many types often compiles to the same
//! machine code, and one copy is enough (BENCHMARKS.md, "Size"). Only the final
//! link changes, so no dependency is rebuilt for it; debug builds are left as they are.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux_x86_64 = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux")
        && std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "x86_64");
    // rustc links with its own lld on x86_64 Linux (since 1.90), which knows the flag.
    if release && linux_x86_64 {
        println!("cargo::rustc-link-arg-bins=-Wl,--icf=all");
    }
}
