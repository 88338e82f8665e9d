//! Questions on the terminal. Prompts go to stderr so stdout stays clean for
//! `--json`; secrets are read without echo on a terminal, or as a line from
//! a pipe (scripts), and never taken as arguments.

use super::{Failure, exit};
use crate::journeys::Asker;
use crate::journeys::asker::Setup;
use crate::qr::{QrCode, QrPalette, ansi_lines, plain_lines};
use crate::secrets::SecretString;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// `--no-input`: nothing is asked on a terminal (answers piped on stdin
/// are still read: that is not asking).
static NO_INPUT: AtomicBool = AtomicBool::new(false);

pub fn set_no_input(on: bool) {
    NO_INPUT.store(on, Ordering::SeqCst);
}

/// Whether a question may be put: not with --no-input on a terminal.
fn may_ask() -> bool {
    !NO_INPUT.load(Ordering::SeqCst) || !std::io::stdin().is_terminal()
}

/// Ask and read one line; `None` at end of input (or under --no-input).
pub fn line(question: &str) -> Option<String> {
    let mut s = String::new();
    read_into(question, &mut s).then_some(s)
}

/// Ask and read one line into `buf`, its line break cut off in place (no copy
/// is made: `buf` may be a wiped buffer for a secret). False at end of input.
fn read_into(question: &str, buf: &mut String) -> bool {
    if !may_ask() {
        return false;
    }
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    match std::io::stdin().lock().read_line(buf) {
        Ok(0) | Err(_) => false,
        Ok(_) => {
            let kept = buf.trim_end_matches(['\n', '\r']).len();
            buf.truncate(kept);
            true
        }
    }
}

/// Ask for a secret: no echo on a terminal.
pub fn secret(question: &str) -> Option<SecretString> {
    if !may_ask() {
        return None;
    }
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(question)
            .ok()
            .map(SecretString::new)
    } else {
        // From a pipe: the line is read into a buffer that is wiped, roomy
        // enough that growing it leaves no copies behind for any usual secret.
        let mut s = zeroize::Zeroizing::new(String::with_capacity(1024));
        read_into(question, &mut s).then(|| SecretString::new(s.trim()))
    }
}

/// A yes/no question; only "y" or "yes" is yes.
pub fn confirm(question: &str) -> bool {
    line(&format!("{question} [y/N] "))
        .is_some_and(|a| matches!(a.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// The terminal as a journey's questioner: prompts on stderr, and an answer
/// that never comes (end of input) is a usage error naming what was missing.
#[derive(Default)]
pub struct Terminal {
    /// Set by Ctrl-C once `listening` installed the handler: the journey
    /// stops and cleans up instead of the process dying mid-way.
    interrupted: Option<Arc<AtomicBool>>,
    /// `--plain`: no drawings, the QR code left out.
    plain: bool,
}

impl Terminal {
    /// A terminal for a journey that must clean up on Ctrl-C (a begun enrollment).
    pub fn listening(plain: bool) -> Self {
        let flag = Arc::new(AtomicBool::new(false));
        let set = flag.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                set.store(true, Ordering::SeqCst);
            }
        });
        Self {
            interrupted: Some(flag),
            plain,
        }
    }

    fn hit(&self) -> bool {
        self.interrupted
            .as_ref()
            .is_some_and(|f| f.load(Ordering::SeqCst))
    }

    /// Reads a secret on its own thread, so Ctrl-C wins over a read that
    /// waits. `None` when the user interrupted.
    fn interruptible_secret(&self, question: String) -> Result<Option<SecretString>, Failure> {
        let (tx, rx) = channel();
        // A plain thread: a read still waiting after Ctrl-C must not keep the process alive.
        std::thread::spawn(move || {
            let _ = tx.send(secret(&question));
        });
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(Some(s)) => return Ok(Some(s)),
                Ok(None) | Err(RecvTimeoutError::Disconnected) => {
                    // On a terminal Ctrl-C ends the hidden read first, then raises
                    // SIGINT: give the signal a moment to say what happened.
                    let since = Instant::now();
                    while std::io::stdin().is_terminal()
                        && !self.hit()
                        && since.elapsed() < Duration::from_millis(300)
                    {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    return if self.hit() {
                        Ok(None)
                    } else {
                        Err(missing("no code given"))
                    };
                }
                Err(RecvTimeoutError::Timeout) if self.hit() => return Ok(None),
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Rich QR only where it will be drawn right: a color terminal, not --plain.
    fn fancy(&self) -> bool {
        !self.plain
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    }

    fn print_qr(&self, payload: &str) {
        match QrCode::new(payload) {
            Ok(code) => {
                let code = code.palette(QrPalette::from_env());
                let lines = if self.fancy() {
                    ansi_lines(&code)
                } else {
                    plain_lines(&code)
                };
                for line in lines {
                    println!("{line}");
                }
            }
            Err(e) => eprintln!("The QR code cannot be drawn ({e}); use the text instead."),
        }
    }
}

/// An answer that never came: what was missing, and how to give it.
pub fn missing(what: &str) -> Failure {
    let how = if may_ask() {
        "(end of input)".to_string()
    } else {
        "(--no-input is set: pipe the answer on stdin, or give it as an option where there is one)"
            .to_string()
    };
    Failure::new(exit::USAGE, "usage", format!("{what} {how}"))
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
        if self.interrupted.is_some() {
            return self.interruptible_secret(format!("{prompt} "));
        }
        secret(&format!("{prompt} "))
            .map(Some)
            .ok_or_else(|| missing("no code given"))
    }

    /// The text on stdout (it is what a person copies), the QR code beside
    /// it: drawn first on a color terminal, after the text otherwise (a
    /// screen reader or a script reads the text first), left out in --plain.
    fn setup(&mut self, setup: &Setup) -> Result<(), Failure> {
        let text = || {
            for (label, value) in &setup.text {
                println!("{}", crate::present::clean(&format!("{label}: {value}")));
            }
        };
        match &setup.qr {
            Some(qr) if self.fancy() => {
                println!("{}", setup.scan);
                self.print_qr(qr);
                println!("Can't scan the image? Enter this in the app instead:");
                text();
            }
            Some(qr) if !self.plain => {
                println!("{}", setup.by_hand);
                text();
                println!("Or scan this QR code:");
                self.print_qr(qr);
            }
            _ => {
                println!("{}", setup.by_hand);
                text();
                if setup.qr.is_some() {
                    println!(
                        "(The QR code is left out in --plain mode: type the details into the app.)"
                    );
                }
            }
        }
        Ok(())
    }

    fn interrupted(&self) -> bool {
        self.hit()
    }

    /// On a color terminal, the link as a QR code for a phone (stdout).
    fn link(&mut self, url: &str) -> Result<(), Failure> {
        if self.fancy() {
            println!("Or scan this QR code with your phone:");
            self.print_qr(url);
        }
        Ok(())
    }

    fn text(&mut self, prompt: &str) -> Result<Option<String>, Failure> {
        line(&format!("{prompt} "))
            .map(Some)
            .ok_or_else(|| missing("no answer given"))
    }

    fn yes(&mut self, question: &str) -> Result<bool, Failure> {
        if !may_ask() {
            return Err(missing(&format!(
                "\"{question}\" needs an answer (--yes gives it)"
            )));
        }
        Ok(confirm(question))
    }

    fn typed_name(&mut self, name: &str) -> Result<bool, Failure> {
        if !may_ask() {
            return Err(missing(&format!(
                "this needs \"{name}\" typed to confirm (--yes or --confirm=NAME gives it)"
            )));
        }
        Ok(line(&format!("Type {name} to confirm: ")).is_some_and(|a| a.trim() == name))
    }
}
