//! The app's state machine: state, actions, the pure `update`, the keymap and
//! the effects it asks for. No terminal here; `tui` drives it and `ui` draws it.

pub mod action;
pub mod effects;
pub mod keymap;
pub mod state;
pub mod update;

pub use action::Action;
pub use effects::Effect;
pub use state::State;
pub use update::{Start, init, update};
