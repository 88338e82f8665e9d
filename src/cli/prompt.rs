//! Questions on the terminal. Prompts go to stderr so stdout stays clean for
//! `--json`; secrets are read without echo on a terminal, or as a line from
//! a pipe (scripts), and never taken as arguments.

use super::{Failure, exit};
use crate::journeys::Asker;
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

/// The terminal as a journey's questioner: prompts on stderr, and an answer
/// that never comes (end of input) is a usage error naming what was missing.
pub struct Terminal;

fn missing(what: &str) -> Failure {
    Failure::new(exit::USAGE, "usage", format!("{what} (end of input)"))
}

impl Asker for Terminal {
    type Error = Failure;

    fn say(&mut self, line: &str) -> Result<(), Failure> {
        eprintln!("{}", crate::present::clean(line));
        Ok(())
    }

    fn choose(
        &mut self,
        question: &str,
        items: &[String],
        default: Option<usize>,
    ) -> Result<Option<usize>, Failure> {
        eprintln!("{question}");
        for (i, item) in items.iter().enumerate() {
            eprintln!("  {}. {item}", i + 1);
        }
        let hint = default.map(|d| format!(" [{}]", d + 1)).unwrap_or_default();
        let answer = line(&format!("Choose 1-{}{hint}: ", items.len()))
            .ok_or_else(|| missing("nothing chosen"))?;
        match (answer.trim(), default) {
            ("", Some(d)) => Ok(Some(d)),
            (n, _) => n
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=items.len()).contains(n))
                .map(|n| Some(n - 1))
                .ok_or_else(|| {
                    Failure::new(
                        exit::USAGE,
                        "usage",
                        format!("'{n}' is not one of 1-{}", items.len()),
                    )
                }),
        }
    }

    fn code(&mut self, prompt: &str) -> Result<Option<SecretString>, Failure> {
        secret(&format!("{prompt} "))
            .map(Some)
            .ok_or_else(|| missing("no code given"))
    }

    fn yes(&mut self, question: &str) -> Result<bool, Failure> {
        Ok(confirm(question))
    }

    fn typed_name(&mut self, name: &str) -> Result<bool, Failure> {
        Ok(line(&format!("Type {name} to confirm: ")).is_some_and(|a| a.trim() == name))
    }
}
