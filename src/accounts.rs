//! Known accounts (in progress).
