//! Render timings through ratatui's TestBackend (no terminal I/O): one frame of
//! the home screen with 1,000 methods, the QR screen, and for comparison the
//! cost of encoding that QR code, which the app does once per enrollment
//! (`Wizard::set_enrollment`), never per frame. `./scripts/bench` runs this;
//! BENCHMARKS.md keeps the figures.

#[path = "../tests/tui_support/mod.rs"]
mod tui_support;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use secinfo::app::state::{Loadable, State, Wizard, WizardStep};
use secinfo::domain::{Enrollment, MethodKind};
use secinfo::qr::{QrCode, short_otpauth};
use secinfo::secrets::SecretString;
use std::hint::black_box;
use tui_support::{home, method};

const URI: &str = "otpauth://totp/secinfo%20demo:alice%40contoso.test?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=secinfo%20demo&algorithm=SHA1&digits=6&period=30";

/// Signed in, everything loaded, 1,000 methods (the list scrolls).
fn home_with(n: usize) -> State {
    let mut s = home();
    s.spinner = 0;
    let methods = (0..n)
        .map(|i| {
            let kind = match i % 4 {
                0 => MethodKind::AuthenticatorPush,
                1 => MethodKind::Totp,
                2 => MethodKind::Phone,
                _ => MethodKind::Email,
            };
            method(&format!("m{i}"), kind, &format!("Device {i}"), i == 0)
        })
        .collect();
    s.methods = Loadable::Ready(methods);
    s
}

/// The authenticator app's "scan this code" step, its QR encoded as the app does.
fn qr_screen() -> State {
    let mut s = home();
    s.spinner = 0;
    let mut w = Wizard::new(false);
    w.set_enrollment(Enrollment {
        id: "enr_1".into(),
        kind: MethodKind::Totp,
        qr_payload: Some(SecretString::new(URI)),
        secret: Some(SecretString::new("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")),
        manual: vec![],
        sent_to: None,
        expires_in: Some(600),
        finished: None,
    });
    assert!(w.qr.is_some(), "the state holds the encoded QR code");
    w.step = WizardStep::Scan {
        code: SecretString::new(""),
    };
    s.wizard = Some(w);
    s
}

fn frame(c: &mut Criterion, name: &str, s: &State, w: u16, h: u16) {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    c.bench_function(name, |b| {
        b.iter(|| {
            t.draw(|f| secinfo::ui::render(black_box(s), f))
                .expect("draw");
        })
    });
}

fn benches(c: &mut Criterion) {
    let home = home_with(1_000);
    frame(c, "home 1000 methods 80x24", &home, 80, 24);
    frame(c, "home 1000 methods 200x60", &home, 200, 60);
    let qr = qr_screen();
    frame(c, "qr screen 80x24", &qr, 80, 24);
    frame(c, "qr screen 200x60", &qr, 200, 60);
    c.bench_function("qr encode (once per enrollment)", |b| {
        b.iter(|| QrCode::new(&short_otpauth(black_box(URI))).expect("encodes"))
    });
}

criterion_group!(render, benches);
criterion_main!(render);
