//! Screens (in progress).
