//! "Finish in a browser" (an OAuth device code) on screen, for sign-in and
//! step-up alike: the page, the code, its QR code, and the paced wait.

use super::{Purpose, ReqId};
use crate::backend::BrowserStep;
use crate::journeys::browser::Pacing;
use crate::qr::QrCode;

#[derive(Clone, Debug, PartialEq)]
pub struct BrowserWait {
    pub step: BrowserStep,
    pub purpose: Purpose,
    pub pacing: Pacing,
    /// The page with the code filled in (or the bare page), encoded once.
    pub qr: Option<QrCode>,
    /// The poll waiting or in flight.
    pub pending: Option<ReqId>,
    /// The code expired, or the provider refused: nothing more is polled.
    pub error: Option<String>,
}

impl BrowserWait {
    pub fn new(step: BrowserStep, purpose: Purpose) -> Self {
        let page = step
            .verification_uri_complete
            .as_deref()
            .unwrap_or(&step.verification_uri);
        let qr = QrCode::new(page).ok();
        Self {
            pacing: Pacing::new(&step),
            step,
            purpose,
            qr,
            pending: None,
            error: None,
        }
    }

    /// The page to open (with the code filled in when the provider gives one).
    pub fn page(&self) -> &str {
        self.step
            .verification_uri_complete
            .as_deref()
            .unwrap_or(&self.step.verification_uri)
    }
}
