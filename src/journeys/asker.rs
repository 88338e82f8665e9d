//! What a linear front end (the CLI, plain mode) does for a journey: say a
//! line, ask a question. The journey decides what to say and when; the front
//! end decides only how it looks (stderr or plain lines, numbered or inline).

use crate::backend::BackendError;
use crate::secrets::SecretString;
use async_trait::async_trait;
use std::sync::Arc;

pub trait Asker {
    /// The front end's own failure (input that ended, an I/O error). A
    /// backend error becomes one when a journey cannot go on.
    type Error: From<BackendError>;

    /// One line for the user.
    fn say(&mut self, line: &str) -> Result<(), Self::Error>;

    /// One of `items`; `default` is what an empty answer means where the
    /// front end offers one. `None`: the user cancelled.
    fn choose(
        &mut self,
        question: &str,
        items: &[String],
        default: Option<usize>,
    ) -> Result<Option<usize>, Self::Error>;

    /// A line of text (a phone number, an address). `None`: the user cancelled.
    fn text(&mut self, _prompt: &str) -> Result<Option<String>, Self::Error> {
        Ok(None)
    }

    /// A code, read without echo where it can be. `None`: the user cancelled.
    fn code(&mut self, prompt: &str) -> Result<Option<SecretString>, Self::Error>;

    /// A yes/no question; anything but yes is no.
    fn yes(&mut self, question: &str) -> Result<bool, Self::Error>;

    /// True only when `name` is typed exactly (the last-method override).
    fn typed_name(&mut self, name: &str) -> Result<bool, Self::Error>;

    /// A link the journey has already said as text, as a QR code for a
    /// phone where the front end can draw one (nothing where it cannot).
    fn link(&mut self, _url: &str) -> Result<(), Self::Error> {
        Ok(())
    }

    /// What to set up an app with: a QR code where the front end draws one,
    /// and always the same as text (screen readers, --plain, a second device).
    fn setup(&mut self, setup: &Setup) -> Result<(), Self::Error> {
        self.say(setup.by_hand)?;
        for (label, value) in setup.text.iter().chain(&setup.link) {
            self.say(&format!("  {label}: {value}"))?;
        }
        if let Some(note) = &setup.note {
            self.say(note)?;
        }
        Ok(())
    }

    /// The user asked to stop (Ctrl-C) while the journey waits on the server.
    fn interrupted(&self) -> bool {
        false
    }

    /// The demo's simulated phone, where the front end has one to offer.
    fn simulated_phone(&self) -> Option<Arc<dyn SimulatedPhone>> {
        None
    }
}

/// The demo's simulated phone: offered where a real phone would scan or approve.
#[async_trait]
pub trait SimulatedPhone: Send + Sync {
    /// Activates the phone from an activation payload; says what was added.
    async fn activate(&self, payload: &str) -> Result<String, String>;
    /// Approves the request of `username` (when known) with `number`: the
    /// phone answers only a request it can tell apart, never "the newest".
    async fn approve(&self, username: Option<&str>, number: u32) -> Result<(), String>;
}

/// Whether a journey asks before an irreversible step (the CLI's `--yes` gives it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    Ask,
    Given,
}

/// A new app's setup: what to scan, and the same as text to type.
pub struct Setup {
    /// Said above the QR code.
    pub scan: &'static str,
    /// Said above the text, when it is all the user gets.
    pub by_hand: &'static str,
    /// The QR code's payload (a short otpauth URI, an activation link).
    pub qr: Option<String>,
    /// Label and value, in the order to type them.
    pub text: Vec<(String, String)>,
    /// The long one (the full URI, the activation link), after `text`: a
    /// front end short of room may show it only when asked.
    pub link: Option<(String, String)>,
    /// Whether a code prompt follows (where "show the link" can be asked).
    pub code_follows: bool,
    /// Said last ("This expires in 10 minutes.").
    pub note: Option<String>,
}

/// In the demo, offers to approve a notification on the simulated phone.
pub async fn approve_on<A: Asker>(
    phone: &dyn SimulatedPhone,
    ask: &mut A,
    username: Option<&str>,
    number: u32,
) -> Result<(), A::Error> {
    if ask.yes("Approve it on the demo's simulated phone?")?
        && let Err(why) = phone.approve(username, number).await
    {
        ask.say(&format!("The simulated phone could not: {why}"))?;
    }
    Ok(())
}
