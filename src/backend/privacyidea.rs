//! privacyIDEA adapter (in progress).
