//! Checking an email address or a phone number before anything is sent, so a
//! typo costs no code in somebody else's inbox and the user learns what to fix.
//! The rules are `crate::validate`'s; this file adds the CLI's words and country names.

use crate::validate::{self, PhoneError};

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

/// The same rule the reference server applies (`crate::validate::email`).
pub fn valid_email(raw: &str) -> bool {
    validate::email(raw).is_ok()
}

/// A country's calling code from `US`, `gb`, `44` or `+44`.
pub fn calling_code(country: &str) -> Option<String> {
    if let Ok(code) = validate::country_code(country) {
        return Some(code);
    }
    let c = country.trim();
    CALLING_CODES
        .iter()
        .find(|(iso, _)| iso.eq_ignore_ascii_case(c))
        .map(|(_, code)| (*code).to_string())
}

/// Whether the number still needs a country (no leading +).
pub fn needs_country(raw: &str) -> bool {
    !raw.trim().starts_with('+')
}

/// E.164 from what was typed (the rule is `crate::validate::phone`), or what
/// to fix in the CLI's words.
pub fn e164(raw: &str, calling_code: Option<&str>) -> Result<String, String> {
    let raw = raw.trim();
    validate::phone(raw, calling_code).map_err(|why| match why {
        PhoneError::Empty | PhoneError::Characters => format!(
            "'{raw}' is not a phone number: use digits, spaces or dashes only; {COUNTRY_HELP}"
        ),
        PhoneError::NoCountry => format!("which country is {raw} in? {COUNTRY_HELP}"),
        PhoneError::CountryCode => format!(
            "'{raw}' does not start with a country calling code (1 to 3 digits, not 0); {COUNTRY_HELP}"
        ),
        PhoneError::Length { digits } => format!(
            "+{digits} is not a valid international number (8 to 15 digits after the +); {COUNTRY_HELP}"
        ),
    })
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
