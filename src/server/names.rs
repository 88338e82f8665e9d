//! Every name the server stores and later shows (client names, device names
//! and platforms, enrollment names, app password names, renames) passes
//! through here: names reach terminals, the phone and notice emails, so
//! control characters (escape sequences, OSC 52) and bidi overrides
//! (which reverse what a reader sees) never get in, and length is capped.

use super::error::{ApiError, ApiResult};

/// The longest name kept, in characters.
pub const MAX_NAME: usize = 60;

/// C0 and C1 controls, DEL, and the Unicode bidi controls and marks.
fn unwanted(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{200E}' | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}')
}

/// Clean a name the client sent (unwanted characters dropped, runs of
/// whitespace made one space, trimmed, at most [`MAX_NAME`] characters);
/// `fallback` when nothing is left.
pub fn clean(raw: &str, fallback: &str) -> String {
    // Tabs and newlines become spaces (they separate words), other controls go.
    let kept: String = raw
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !unwanted(*c))
        .collect();
    let name: String = kept
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_NAME)
        .collect();
    if name.is_empty() {
        fallback.to_string()
    } else {
        name
    }
}

/// A name the user typed on purpose (rename, app password): refused rather
/// than silently changed, so they see what will be stored.
pub fn user_chosen(raw: &str) -> ApiResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(unwanted) {
        return Err(ApiError::bad_request(format!(
            "a name needs 1 to {MAX_NAME} printable characters"
        )));
    }
    Ok(name.to_string())
}

/// For targets such as an email address, checked elsewhere for shape.
pub fn has_unwanted(raw: &str) -> bool {
    raw.chars().any(unwanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_overrides_are_dropped_and_length_capped() {
        assert_eq!(
            clean("evil\x1b]0;TITLE\x07\x1b[31mRED", "x"),
            "evil]0;TITLE[31mRED"
        );
        assert_eq!(clean("abc\u{202E}fed.exe", "x"), "abcfed.exe");
        assert_eq!(clean("  two\t\nwords  ", "x"), "two words");
        assert_eq!(clean(&"é".repeat(10_000), "x").chars().count(), MAX_NAME);
        assert_eq!(clean("\x1b\x07", "Phone"), "Phone");
    }

    #[test]
    fn a_typed_name_with_controls_is_refused_not_changed() {
        assert!(user_chosen("Work laptop").is_ok());
        assert!(user_chosen("bad\x1b[2J").is_err());
        assert!(user_chosen("\u{202E}evil").is_err());
        assert!(user_chosen(&"a".repeat(MAX_NAME + 1)).is_err());
        assert!(user_chosen("   ").is_err());
    }
}
