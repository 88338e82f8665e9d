//! Terminal runtime (in progress).
