//! Checking an email address or a phone number before anything is sent, so a
//! typo costs no code in somebody else's inbox and the user learns what to fix.

/// Calling codes for the countries people most often name by their ISO code;
/// any other country is given by its calling code (`--country 351`).
const CALLING_CODES: &[(&str, &str)] = &[
    ("US", "1"),
    ("CA", "1"),
    ("GB", "44"),
    ("UK", "44"),
    ("IE", "353"),
    ("DE", "49"),
    ("FR", "33"),
    ("NL", "31"),
    ("BE", "32"),
    ("CH", "41"),
    ("AT", "43"),
    ("ES", "34"),
    ("IT", "39"),
    ("PT", "351"),
    ("SE", "46"),
    ("NO", "47"),
    ("DK", "45"),
    ("FI", "358"),
    ("PL", "48"),
    ("IN", "91"),
    ("JP", "81"),
    ("CN", "86"),
    ("AU", "61"),
    ("NZ", "64"),
    ("BR", "55"),
    ("MX", "52"),
    ("ZA", "27"),
];

pub const COUNTRY_HELP: &str = "phone numbers are stored in international format (E.164), e.g. +1 425 555 0123; \
     type the number with its + and country code, or give the country with --country CC \
     (an ISO code such as US or GB, or the calling code such as 44)";

/// The same rule the reference server applies: something@domain.tld, no spaces.
pub fn valid_email(raw: &str) -> bool {
    let Some((local, domain)) = raw.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !raw.chars().any(char::is_whitespace)
        && !domain.contains('@')
        && domain.split('.').count() >= 2
        && domain.split('.').all(|p| !p.is_empty())
}

/// A country's calling code from `US`, `gb`, `44` or `+44`.
pub fn calling_code(country: &str) -> Option<String> {
    let c = country.trim().trim_start_matches('+');
    if !c.is_empty()
        && c.len() <= 3
        && c.chars().all(|ch| ch.is_ascii_digit())
        && !c.starts_with('0')
    {
        return Some(c.to_string());
    }
    CALLING_CODES
        .iter()
        .find(|(iso, _)| iso.eq_ignore_ascii_case(c))
        .map(|(_, code)| (*code).to_string())
}

/// Whether the number still needs a country (no leading +).
pub fn needs_country(raw: &str) -> bool {
    !raw.trim().starts_with('+')
}

/// E.164 from what was typed: `+` and 8 to 15 digits; spaces, dashes, dots and
/// brackets may separate them. A national number gets `calling_code` in front,
/// without its trunk prefix 0 (UK 07700 900123 is +44 7700 900123).
pub fn e164(raw: &str, calling_code: Option<&str>) -> Result<String, String> {
    let raw = raw.trim();
    if !raw
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || " -.()".contains(c) || (i == 0 && c == '+'))
    {
        return Err(format!(
            "'{raw}' is not a phone number: use digits, spaces or dashes only; {COUNTRY_HELP}"
        ));
    }
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let full = if raw.starts_with('+') {
        digits
    } else {
        let cc =
            calling_code.ok_or_else(|| format!("which country is {raw} in? {COUNTRY_HELP}"))?;
        format!("{cc}{}", digits.trim_start_matches('0'))
    };
    if !(8..=15).contains(&full.len()) || full.starts_with('0') {
        return Err(format!(
            "+{full} is not a valid international number (8 to 15 digits after the +); {COUNTRY_HELP}"
        ));
    }
    Ok(format!("+{full}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn international_numbers_are_normalized() {
        assert_eq!(e164("+1 (425) 555-0123", None).unwrap(), "+14255550123");
    }

    #[test]
    fn a_national_number_takes_the_country_without_its_trunk_zero() {
        let cc = calling_code("gb").unwrap();
        assert_eq!(e164("07700 900123", Some(&cc)).unwrap(), "+447700900123");
        assert_eq!(calling_code("+1").as_deref(), Some("1"));
    }

    #[test]
    fn nonsense_and_missing_countries_are_explained() {
        assert!(e164("call me", None).unwrap_err().contains("E.164"));
        assert!(e164("4255550123", None).unwrap_err().contains("--country"));
        assert!(e164("+12", None).is_err());
    }

    #[test]
    fn email_needs_a_domain_with_a_dot() {
        assert!(valid_email("alice@example.test"));
        assert!(!valid_email("alice@example"));
        assert!(!valid_email("alice example@x.y"));
    }
}
