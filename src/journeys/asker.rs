//! What a linear front end (the CLI, plain mode) does for a journey: say a
//! line, ask a question. The journey decides what to say and when; the front
//! end decides only how it looks (stderr or plain lines, numbered or inline).

use crate::backend::BackendError;
use crate::secrets::SecretString;

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

    /// A code, read without echo where it can be. `None`: the user cancelled.
    fn code(&mut self, prompt: &str) -> Result<Option<SecretString>, Self::Error>;

    /// A yes/no question; anything but yes is no.
    fn yes(&mut self, question: &str) -> Result<bool, Self::Error>;

    /// True only when `name` is typed exactly (the last-method override).
    fn typed_name(&mut self, name: &str) -> Result<bool, Self::Error>;

    /// A link to open on another device: as text, and as a QR code where the
    /// front end can draw one.
    fn link(&mut self, url: &str) -> Result<(), Self::Error> {
        self.say(url)
    }
}
