//! Line input and output for plain mode: one fact per line, numbered choices.

use super::Secrets;
use crate::journeys::asker::SimulatedPhone;
use crate::secrets::SecretString;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

pub struct Io<R, W> {
    input: R,
    output: W,
    secrets: Secrets,
    /// Codes show as they are typed (the config's `plain_echo_codes`).
    echo_codes: bool,
    /// The demo's simulated phone, offered where a real one would approve.
    pub phone: Option<Arc<dyn SimulatedPhone>>,
}

impl<R: BufRead, W: Write> Io<R, W> {
    pub fn new(input: R, output: W, secrets: Secrets) -> Self {
        Self {
            input,
            output,
            secrets,
            echo_codes: true,
            phone: None,
        }
    }

    /// Whether codes show as they are typed; a password never does.
    pub fn echo_codes(mut self, on: bool) -> Self {
        self.echo_codes = on;
        self
    }

    /// A code: shown as it is typed when so configured, else as a secret.
    pub fn ask_code(&mut self, prompt: &str) -> anyhow::Result<Option<SecretString>> {
        if self.echo_codes {
            return Ok(self.ask(prompt)?.map(|s| SecretString::new(s.trim())));
        }
        self.ask_secret(prompt)
    }

    /// A password or code: without echo on a terminal, never kept as a plain String.
    pub fn ask_secret(&mut self, prompt: &str) -> anyhow::Result<Option<SecretString>> {
        if self.secrets == Secrets::TerminalWhenPresent && std::io::stdin().is_terminal() {
            writeln!(self.output, "{prompt}")?;
            self.output.flush()?;
            let read = blocking(rpassword::read_password);
            return Ok(read.ok().map(SecretString::new));
        }
        // From a pipe: read into a wiped buffer, roomy enough not to leave copies as it grows.
        writeln!(self.output, "{prompt}")?;
        self.output.flush()?;
        let mut line = zeroize::Zeroizing::new(String::with_capacity(1024));
        let input = &mut self.input;
        if blocking(|| input.read_line(&mut line))? == 0 {
            return Ok(None);
        }
        Ok(Some(SecretString::new(line.trim())))
    }

    pub fn say(&mut self, line: &str) -> anyhow::Result<()> {
        writeln!(self.output, "{}", crate::present::clean(line))?;
        Ok(self.output.flush()?)
    }

    pub fn blank(&mut self) -> anyhow::Result<()> {
        self.say("")
    }

    /// Prints `prompt` and reads one line; `None` when the input has ended.
    pub fn ask(&mut self, prompt: &str) -> anyhow::Result<Option<String>> {
        writeln!(self.output, "{prompt}")?;
        self.output.flush()?;
        let mut line = String::new();
        let input = &mut self.input;
        if blocking(|| input.read_line(&mut line))? == 0 {
            return Ok(None);
        }
        Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
    }

    /// Numbered items, then "Enter a number:" until one is given; `None` when the input ended.
    pub fn choose(&mut self, items: &[String]) -> anyhow::Result<Option<usize>> {
        for (i, item) in items.iter().enumerate() {
            self.say(&format!("{}. {item}", i + 1))?;
        }
        loop {
            let Some(answer) = self.ask("Enter a number:")? else {
                return Ok(None);
            };
            match answer.trim().parse::<usize>() {
                Ok(n) if (1..=items.len()).contains(&n) => return Ok(Some(n - 1)),
                _ => self.say(&format!("Please enter a number from 1 to {}.", items.len()))?,
            }
        }
    }

    /// Asks for a word; true only when it is typed exactly.
    pub fn confirm_word(&mut self, word: &str) -> anyhow::Result<bool> {
        let prompt = format!("Type {word} to confirm, or press Enter to cancel:");
        Ok(self.ask(&prompt)?.is_some_and(|a| a.trim() == word))
    }
}

/// Reading input blocks; on a multi-threaded runtime let the other tasks (the
/// in-process demo server) keep running meanwhile.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}
