//! How values read to a person, the same in the TUI, plain mode and the CLI:
//! dates, secrets in groups, and "not available here" with the portal to use
//! instead. Plain strings only: each front end styles them its own way.

use chrono::{DateTime, Utc};

/// Text from a server or a user-chosen name, made safe for any terminal: C0
/// and C1 controls (escape sequences, OSC 52 clipboard writes, bells, line
/// breaks) and bidi overrides become U+FFFD, so what was there stays visible
/// but nothing acts. The one sanitizer: the TUI, plain mode and the CLI call it.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if unsafe_char(c) { '\u{fffd}' } else { c })
        .collect()
}

/// Greedy word wrap to `width` columns (long words are cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in clean(text).split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            out.push(head);
        }
        let need = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if need > width && !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A date as lists show it (`2025-03-07`), or `-` when there is none.
pub fn date(when: Option<DateTime<Utc>>) -> String {
    when.map_or_else(|| "-".into(), |d| d.format("%Y-%m-%d").to_string())
}

/// A moment as the activity shows it (`2025-03-07 14:05`, UTC), or `-`.
pub fn moment(when: Option<DateTime<Utc>>) -> String {
    when.map_or_else(|| "-".into(), |d| d.format("%Y-%m-%d %H:%M").to_string())
}

/// Where an event came from: `client, ip`, either, or `-`.
pub fn origin(client: Option<&str>, ip: Option<&str>) -> String {
    match (client, ip) {
        (Some(c), Some(i)) => format!("{c}, {i}"),
        (Some(one), None) | (None, Some(one)) => one.to_string(),
        (None, None) => "-".into(),
    }
}

/// `JBSWY3DPEHPK3PXP` as `JBSW Y3DP EHPK 3PXP`: easier to type into an app.
/// Whitespace already in the secret is dropped first, so the groups stay even.
pub fn grouped(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().filter(|c| !c.is_whitespace()).collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why something cannot be done here and, when the provider's own portal can
/// do it, where: "REASON. You can `action` at URL". For lines that already say
/// it is unavailable (a list item, an error prefix).
pub fn unavailable(reason: &str, portal_url: Option<&str>, action: &str) -> String {
    let reason = reason.trim_end_matches('.');
    match portal_url {
        Some(url) => format!("{reason}. You can {action} at {url}"),
        None => reason.to_string(),
    }
}

/// "Not available here: REASON. You can `action` at URL" (`action`: "add it", "do it").
pub fn not_available(reason: &str, portal_url: Option<&str>, action: &str) -> String {
    format!(
        "Not available here: {}",
        unavailable(reason, portal_url, action)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_osc52_and_bidi_overrides_are_neutralised() {
        let evil =
            "evil\x1b]0;TITLE\x07\x1b[31mRED\x1b]52;c;aGk=\x07\u{202e}gnp.exe\u{9b}31m\nnext";
        let safe = clean(evil);
        assert!(!safe.chars().any(unsafe_char), "{safe:?}");
        assert!(
            safe.starts_with("evil\u{fffd}]0;TITLE"),
            "what was there stays visible: {safe:?}"
        );
        assert_eq!(clean("Alice's phone · Pixel 8"), "Alice's phone · Pixel 8");
    }
    use chrono::TimeZone;

    #[test]
    fn dates_show_the_day_or_a_dash() {
        let when = Utc.with_ymd_and_hms(2025, 3, 7, 23, 59, 0).single();
        assert_eq!(date(when), "2025-03-07");
        assert_eq!(date(None), "-");
    }

    #[test]
    fn secrets_are_grouped_by_four() {
        assert_eq!(grouped("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
        assert_eq!(grouped("JBSW Y3DP EHP"), "JBSW Y3DP EHP");
        assert_eq!(grouped(""), "");
    }

    #[test]
    fn not_available_names_the_portal_when_there_is_one() {
        assert_eq!(
            not_available("this server cannot add it yet", None, "add it"),
            "Not available here: this server cannot add it yet"
        );
        assert_eq!(
            not_available(
                "a passkey needs a browser",
                Some("https://portal.test"),
                "add it"
            ),
            "Not available here: a passkey needs a browser. You can add it at https://portal.test"
        );
        assert_eq!(
            unavailable("no default here.", Some("https://p.test"), "do it"),
            "no default here. You can do it at https://p.test"
        );
    }
}
