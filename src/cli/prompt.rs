//! Questions on the terminal. Prompts go to stderr so stdout stays clean for
//! `--json`; secrets are read without echo on a terminal, or as a line from
//! a pipe (scripts), and never taken as arguments.

use crate::secrets::SecretString;
use std::io::{BufRead, IsTerminal, Write};

/// Ask and read one line; `None` at end of input.
pub fn line(question: &str) -> Option<String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut s = String::new();
    match std::io::stdin().lock().read_line(&mut s) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(s.trim_end_matches(['\n', '\r']).to_string()),
    }
}

/// Ask for a secret: no echo on a terminal.
pub fn secret(question: &str) -> Option<SecretString> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(question)
            .ok()
            .map(SecretString::new)
    } else {
        line(question).map(|s| SecretString::new(s.trim()))
    }
}

/// A yes/no question; only "y" or "yes" is yes.
pub fn confirm(question: &str) -> bool {
    line(&format!("{question} [y/N] "))
        .is_some_and(|a| matches!(a.trim().to_lowercase().as_str(), "y" | "yes"))
}
