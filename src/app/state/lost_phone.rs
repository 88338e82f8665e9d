//! "I lost my phone" in the TUI: where the guided journey stands. Each step
//! is one of the usual dialogs; what was done is gathered for the summary.

use super::ReqId;

#[derive(Clone, Debug, PartialEq)]
pub struct LostPhone {
    pub step: LostStep,
    /// What the journey changed, one sentence each, for the summary.
    pub changed: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LostStep {
    /// Reading the devices and the methods on each.
    Loading(ReqId),
    /// "Which device is lost?", then its deletion confirmed or skipped.
    Device,
    /// "Sign out everywhere?"
    SignOut,
    /// "Add a new sign-in method now?"
    Add,
}
