//! The real binary in a pseudo-terminal (80×24 unless said), read back through a
//! terminal emulator (vt100): what a person would see.
#![allow(dead_code)]

#[path = "../qr_support/mod.rs"]
mod qr_support;

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

pub struct Pty {
    rx: Receiver<Vec<u8>>,
    writer: Box<dyn Write + Send>,
    pub parser: vt100::Parser,
    pub raw: Vec<u8>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    pub dirs: tempfile::TempDir,
    /// Kept for as long as the reader needs it, and to read the terminal's modes.
    master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    /// Runs secinfo under `sh`, which then prints the exit status and the tty settings.
    /// `SECINFO_ARGS` in `env` go on the command line.
    pub fn start(env: &[(&str, &str)]) -> Pty {
        Self::start_sized(env, 80, 24)
    }

    /// `start` on a terminal of `cols`×`rows`.
    pub fn start_sized(env: &[(&str, &str)], cols: u16, rows: u16) -> Pty {
        let dirs = tempfile::tempdir().unwrap();
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new("sh");
        cmd.args([
            "-c",
            "\"$SECINFO_BIN\" $SECINFO_ARGS; echo \"EXIT=$?\"; stty -a; echo STTY-DONE",
        ]);
        cmd.env("SECINFO_BIN", env!("CARGO_BIN_EXE_secinfo"));
        cmd.env("TERM", "xterm-256color");
        cmd.env("SECINFO_DATA_DIR", dirs.path().join("data"));
        cmd.env("SECINFO_STATE_DIR", dirs.path().join("state"));
        cmd.env("SECINFO_CONFIG", dirs.path().join("no-config.toml"));
        cmd.env("SECINFO_ARGS", "");
        cmd.env_remove("DBUS_SESSION_BUS_ADDRESS");
        cmd.env_remove("NO_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut b = [0u8; 8192];
            while let Ok(n) = reader.read(&mut b) {
                if n == 0 || tx.send(b[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let parser = vt100::Parser::new(
            NonZeroU16::new(rows).unwrap(),
            NonZeroU16::new(cols).unwrap(),
            0,
        );
        Pty {
            rx,
            writer,
            parser,
            raw: Vec::new(),
            child,
            dirs,
            master: pair.master,
        }
    }

    pub fn pump(&mut self, wait: Duration) -> bool {
        match self.rx.recv_timeout(wait) {
            Ok(b) => {
                self.parser.process(&b);
                self.raw.extend_from_slice(&b);
                true
            }
            Err(_) => false,
        }
    }

    pub fn wait_for(&mut self, what: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !self.parser.screen().contents().contains(what)
            && !String::from_utf8_lossy(&self.raw).contains(what)
        {
            assert!(
                Instant::now() < deadline,
                "waited for {what:?}; screen:\n{}",
                self.parser.screen().contents()
            );
            self.pump(Duration::from_millis(100));
        }
        // Let the frame finish (a spinner never goes quiet, so cap the wait).
        let settle = Instant::now() + Duration::from_millis(800);
        while Instant::now() < settle && self.pump(Duration::from_millis(200)) {}
    }

    /// Waits until `what` is no longer on screen (an Esc right before another key would read as Alt-key).
    pub fn wait_gone(&mut self, what: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.parser.screen().contents().contains(what) {
            assert!(
                Instant::now() < deadline,
                "{what:?} stayed; screen:\n{}",
                self.parser.screen().contents()
            );
            self.pump(Duration::from_millis(100));
        }
    }

    /// Whether the terminal echoes what is typed now (its ECHO mode).
    pub fn echoes(&self) -> bool {
        let fd = self.master.as_raw_fd().expect("a unix pty");
        let mut t = std::mem::MaybeUninit::<libc::termios>::zeroed();
        // SAFETY: tcgetattr fills the termios it is given; fd is the open master.
        assert_eq!(unsafe { libc::tcgetattr(fd, t.as_mut_ptr()) }, 0);
        let t = unsafe { t.assume_init() };
        t.c_lflag & libc::ECHO != 0
    }

    /// Waits until the program has set echo `on` or off (a hidden read turns it
    /// off after its prompt shows): typing before that would be echoed.
    pub fn wait_for_echo(&mut self, on: bool, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.echoes() != on {
            assert!(
                Instant::now() < deadline,
                "echo stayed {}; screen:\n{}",
                !on,
                self.parser.screen().contents()
            );
            self.pump(Duration::from_millis(20));
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// After secinfo ended: its exit status, and whether the terminal is back to normal.
    pub fn finish(&mut self) -> (String, String) {
        self.wait_for("STTY-DONE", 30);
        let _ = self.child.wait();
        let text = String::from_utf8_lossy(&self.raw).to_string();
        let exit = text
            .split("EXIT=")
            .nth(1)
            .map(|r| r.chars().take_while(char::is_ascii_digit).collect())
            .unwrap_or_default();
        assert!(
            !self.parser.screen().alternate_screen(),
            "left the alternate screen"
        );
        (exit, text)
    }
}

/// The QR code as the terminal shows it: each cell's glyph and colors (reverse
/// video honoured) back into pixels, read by a real QR decoder.
pub fn decode_screen(screen: &vt100::Screen) -> Vec<String> {
    let luma = |c: vt100::Color, fg: bool| match c {
        vt100::Color::Idx(16) | vt100::Color::Idx(0) => 0u8,
        vt100::Color::Idx(231) | vt100::Color::Idx(15) => 255,
        vt100::Color::Rgb(r, g, b) => {
            ((r as u32 * 299 + g as u32 * 587 + b as u32 * 114) / 1000) as u8
        }
        // The theme's own colors: light text on a dark background.
        vt100::Color::Default => {
            if fg {
                255
            } else {
                0
            }
        }
        _ => 128,
    };
    let (rows, cols) = screen.size();
    qr_support::decode(qr_support::raster(cols.get(), rows.get(), |cx, cy| {
        let Some(c) = screen.cell(cy, cx) else {
            return (String::new(), 0, 0);
        };
        let (mut fg, mut bg) = (luma(c.fgcolor(), true), luma(c.bgcolor(), false));
        if c.inverse() {
            std::mem::swap(&mut fg, &mut bg);
        }
        (c.contents().to_string(), fg, bg)
    }))
}
