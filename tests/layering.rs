//! The dependency rules of ARCHITECTURE.md, checked on the source so a stray
//! import fails the build's tests instead of waiting for a reviewer:
//! `app`, plain mode and the CLI never reach into `ui` (the terminal runtime
//! sits above both), and the shared helpers stay free of ratatui and I/O.

use std::fs;
use std::path::{Path, PathBuf};

fn source_files(relative: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let mut found = Vec::new();
    let mut pending = vec![root];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            let entries = fs::read_dir(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            pending.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
        } else if path.extension().is_some_and(|x| x == "rs") {
            found.push(path);
        }
    }
    assert!(!found.is_empty(), "no Rust files under {relative}");
    found
}

/// The code of a file without its comments (a doc comment may name `ui`).
fn code_of(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether the code names the module `module` of the crate: `crate::ui`,
/// `secinfo::ui`, or `ui` inside a `crate::{…}` group.
fn imports(code: &str, module: &str) -> bool {
    let direct = ["crate::", "secinfo::"].iter().any(|root| {
        code.contains(&format!("{root}{module}::")) || code.contains(&format!("{root}{module};"))
    });
    let grouped = code.match_indices("crate::{").any(|(at, _)| {
        let group = braced_group(&code[at + "crate::".len()..]);
        group
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| word == module)
    });
    direct || grouped
}

/// `{…}` at the start of `text`, nested groups included.
fn braced_group(text: &str) -> &str {
    let mut depth = 0;
    for (at, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth <= 1 => return &text[..=at],
            '}' => depth -= 1,
            _ => {}
        }
    }
    text
}

/// Files under `dirs` whose code breaks `rule`.
fn offenders(dirs: &[&str], breaks_rule: impl Fn(&str) -> bool) -> Vec<String> {
    dirs.iter()
        .flat_map(|dir| source_files(dir))
        .filter(|file| breaks_rule(&code_of(file)))
        .map(|file| file.display().to_string())
        .collect()
}

#[test]
fn app_plain_and_cli_never_import_ui() {
    let found = offenders(
        &["src/app", "src/plain", "src/plain.rs", "src/cli"],
        |code| imports(code, "ui"),
    );
    assert!(found.is_empty(), "these import crate::ui: {found:#?}");
}

#[test]
fn shared_helpers_need_no_terminal_library() {
    let found = offenders(&["src/qr", "src/present.rs", "src/validate.rs"], |code| {
        imports(code, "ui") || code.contains("ratatui")
    });
    assert!(found.is_empty(), "these draw with ratatui: {found:#?}");
}

#[test]
fn validation_does_no_io() {
    let found = offenders(&["src/validate.rs"], |code| {
        ["std::fs", "std::io", "std::net", "tokio", "reqwest"]
            .iter()
            .any(|io| code.contains(io))
    });
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_rule_catches_every_import_form() {
    assert!(imports("use crate::ui::theme::Theme;", "ui"));
    assert!(imports("use crate::{app, ui};", "ui"));
    assert!(imports(
        "use crate::{\n    app::State,\n    ui::render,\n};",
        "ui"
    ));
    assert!(imports("let t = crate::ui::theme::Theme::new(x);", "ui"));
    assert!(imports("use secinfo::ui::qr;", "ui"));
    assert!(imports("use crate::{app::{a, b}, ui};", "ui"));
    assert!(!imports("use crate::app::state::Wizard;", "ui"));
    assert!(!imports("use crate::{app, quick_ui};", "ui"));
}
