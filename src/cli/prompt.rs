//! Questions on the terminal. Prompts go to stderr so stdout stays clean for
//! `--json`; secrets are read without echo on a terminal, or as a line from
//! a pipe (scripts), and never taken as arguments.

use super::{Failure, exit};
use crate::journeys::Asker;
use crate::journeys::asker::Setup;
use crate::present::{clean, wrap};
use crate::qr::{
    MIN_QUIET_ZONE, QUIET_ZONE, QrCode, QrPalette, ansi_lines, ansi_lines_quiet, plain_lines,
};
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
    /// A setup's link left out beside its QR code: typing `u` at the code
    /// prompt prints it.
    held_link: Option<(String, String)>,
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
            held_link: None,
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

    /// The setup as text, then its QR code: below 80 columns, where the
    /// two do not fit side by side, and without color.
    fn text_then_qr(&self, setup: &Setup, qr: &str) {
        println!("{}", setup.by_hand);
        for (label, value) in setup.text.iter().chain(&setup.link) {
            println!("{}", clean(&format!("{label}: {value}")));
        }
        println!("Or scan this QR code:");
        self.print_qr(qr);
        if let Some(note) = &setup.note {
            println!("{note}");
        }
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

/// Columns from which the CLI draws a QR code with its text beside it.
const SIDE_BY_SIDE_FROM: u16 = 80;
/// Spaces between the code and its text.
const GAP: usize = 2;
/// The narrowest text column drawn beside a code.
const MIN_SIDE: u16 = 24;

/// The setup as the QR code with its text beside it on a `cols`×`rows`
/// terminal, keeping the last row for the prompt: the largest quiet zone (4
/// down to 2) with which the code, the text and the prompt all show at once.
/// `None` where they cannot (below 80 columns, or too few rows).
fn beside(
    code: &QrCode,
    setup: &Setup,
    link_on_demand: bool,
    cols: u16,
    rows: u16,
) -> Option<Vec<String>> {
    if cols < SIDE_BY_SIDE_FROM {
        return None;
    }
    (MIN_QUIET_ZONE..=QUIET_ZONE).rev().find_map(|quiet| {
        let (w, h) = code.size_for(quiet);
        let side_w = cols
            .checked_sub(w.saturating_add(GAP as u16))
            .filter(|&s| s >= MIN_SIDE)?;
        let side = side_text(setup, link_on_demand, usize::from(side_w));
        let height = side.len().max(usize::from(h));
        if height >= usize::from(rows) {
            return None;
        }
        let qr = ansi_lines_quiet(code, quiet);
        let blank = " ".repeat(usize::from(w));
        Some(
            (0..height)
                .map(|i| {
                    let left = qr.get(i).map_or(blank.as_str(), String::as_str);
                    match side.get(i) {
                        Some(text) if !text.is_empty() => {
                            format!("{left}{:GAP$}{text}", "")
                        }
                        _ => left.to_string(),
                    }
                })
                .collect(),
        )
    })
}

/// What goes beside the code, wrapped to `width`: what to do, the details to
/// type instead, the link (or how to see it), the note.
fn side_text(setup: &Setup, link_on_demand: bool, width: usize) -> Vec<String> {
    let mut lines = wrap(&format!("{}.", setup.scan.trim_end_matches(':')), width);
    if !setup.text.is_empty() {
        lines.push(String::new());
        lines.extend(wrap(
            "Can't scan the image? Enter this in the app instead:",
            width,
        ));
    }
    let item = |lines: &mut Vec<String>, label: &str, value: &str| {
        lines.push(clean(&format!("{label}:")));
        lines.extend(
            wrap(value, width.saturating_sub(2))
                .into_iter()
                .map(|l| format!("  {l}")),
        );
    };
    for (label, value) in &setup.text {
        item(&mut lines, label, value);
    }
    match &setup.link {
        Some((label, _)) if link_on_demand => {
            lines.push(String::new());
            lines.extend(wrap(
                &format!("To see the {label} as text, type u at the prompt."),
                width,
            ));
        }
        Some((label, value)) => item(&mut lines, label, value),
        None => {}
    }
    if let Some(note) = &setup.note {
        lines.push(String::new());
        lines.extend(wrap(note, width));
    }
    lines
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
        loop {
            let typed = if self.interrupted.is_some() {
                self.interruptible_secret(format!("{prompt} "))?
            } else {
                Some(secret(&format!("{prompt} ")).ok_or_else(|| missing("no code given"))?)
            };
            match (&typed, &self.held_link) {
                (Some(t), Some((label, value))) if t.expose().trim().eq_ignore_ascii_case("u") => {
                    println!("{}", clean(&format!("{label}: {value}")));
                }
                _ => return Ok(typed),
            }
        }
    }

    /// The text on stdout (it is what a person copies) and the QR code: on a
    /// color terminal from 80 columns the code with the text beside it, sized
    /// so that the code, the text and the prompt under them show at once
    /// (a long link then waits for `u` at the code prompt); otherwise the
    /// text first (a screen reader or a script reads it first), then the code;
    /// in --plain the text only.
    fn setup(&mut self, setup: &Setup) -> Result<(), Failure> {
        match &setup.qr {
            Some(qr) if self.fancy() => {
                let on_demand = setup.code_follows && setup.link.is_some();
                let drawn = QrCode::new(qr).ok().and_then(|code| {
                    let (cols, rows) = crossterm::terminal::size().ok()?;
                    let code = code.palette(QrPalette::from_env());
                    beside(&code, setup, on_demand, cols, rows)
                });
                match drawn {
                    Some(lines) => {
                        for line in lines {
                            println!("{line}");
                        }
                        if on_demand {
                            self.held_link = setup.link.clone();
                        }
                    }
                    None => self.text_then_qr(setup, qr),
                }
            }
            Some(qr) if !self.plain => self.text_then_qr(setup, qr),
            _ => {
                println!("{}", setup.by_hand);
                for (label, value) in setup.text.iter().chain(&setup.link) {
                    println!("{}", clean(&format!("{label}: {value}")));
                }
                if setup.qr.is_some() {
                    println!(
                        "(The QR code is left out in --plain mode: type the details into the app.)"
                    );
                }
                if let Some(note) = &setup.note {
                    println!("{note}");
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A new code app's setup as the journey gives it, for a 32-character secret.
    fn totp_setup() -> Setup {
        let secret = "AEMHC5XTZU4R3HCGOSMSGOPZUFIXW2MW";
        let uri = format!(
            "otpauth://totp/secinfo%20demo:erin%40contoso.test?secret={secret}&issuer=secinfo%20demo&algorithm=SHA1&digits=6&period=30"
        );
        Setup {
            scan: "Scan this QR code with your authenticator app:",
            by_hand: "In your authenticator app, choose to enter a setup key, and type this:",
            qr: Some(crate::qr::short_otpauth(&uri)),
            text: vec![("Secret key".into(), crate::present::grouped(secret))],
            link: Some(("URI".into(), uri)),
            code_follows: true,
            note: Some("This expires in 10 minutes.".into()),
        }
    }

    /// What a terminal shows of a line: escapes left out.
    fn visible(line: &str) -> usize {
        let mut n = 0;
        let mut in_escape = false;
        for c in line.chars() {
            match (in_escape, c) {
                (false, '\x1b') => in_escape = true,
                (true, 'm') => in_escape = false,
                (true, _) => {}
                (false, _) => n += 1,
            }
        }
        n
    }

    #[test]
    fn from_80_columns_the_code_and_its_text_leave_the_last_of_24_rows_for_the_prompt() {
        let setup = totp_setup();
        let code = QrCode::new(setup.qr.as_deref().unwrap()).unwrap();
        let lines = beside(&code, &setup, true, 80, 24).expect("fits 80×24");
        assert!(lines.len() <= 23, "{} rows", lines.len());
        assert!(lines.iter().all(|l| visible(l) <= 80));
        let text = lines.join("\n");
        assert!(text.contains("  AEMH C5XT"), "{text}");
        assert!(!text.contains("otpauth://"), "the URI waits for u: {text}");
        assert!(text.contains("This expires in 10 minutes."), "{text}");
        // Where the code does not follow, the link is shown beside it instead.
        let shown = beside(&code, &setup, false, 120, 40).unwrap().join("\n");
        assert!(shown.contains("otpauth://"), "{shown}");
    }

    #[test]
    fn below_80_columns_or_too_few_rows_it_is_text_first_then_the_code() {
        let setup = totp_setup();
        let code = QrCode::new(setup.qr.as_deref().unwrap()).unwrap();
        assert!(beside(&code, &setup, true, 79, 50).is_none());
        let (_, tightest) = code.size_for(MIN_QUIET_ZONE);
        assert!(beside(&code, &setup, true, 80, tightest).is_none());
        assert!(beside(&code, &setup, true, 80, tightest + 1).is_some());
    }
}
