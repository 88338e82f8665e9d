//! App state machine (in progress).
