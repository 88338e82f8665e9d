//! The journeys, each written once: what to ask the server, in which order,
//! and the rules between (when to step up, how often and how long to poll,
//! how many wrong codes, what to say after). The CLI and plain mode run them
//! as async functions, asking their questions through small callbacks; the
//! TUI's pure `update` follows the same rules through `rules`.

pub mod add;
pub mod app_passwords;
pub mod asker;
pub mod browser;
pub mod change;
pub mod dry_run;
pub mod lost_phone;
pub mod outcome;
pub mod recovery_codes;
pub mod rules;
pub mod second_factor;
pub mod session;
pub mod sign_out;
pub mod step_up;

pub use asker::Asker;
pub use step_up::with_step_up;
