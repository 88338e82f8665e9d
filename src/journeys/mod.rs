//! The journeys, each written once: what to ask the server, in which order,
//! and the rules between (when to step up, how often and how long to poll,
//! how many wrong codes, what to say after). The CLI and plain mode run them
//! as async functions, asking their questions through small callbacks; the
//! TUI's pure `update` follows the same rules through `rules`.

pub mod rules;
pub mod step_up;

pub use step_up::with_step_up;
