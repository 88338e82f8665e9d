//! The reference identity server (in progress).
