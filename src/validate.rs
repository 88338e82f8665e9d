//! The one rule for phone numbers (E.164) and email addresses, shared by the
//! reference server and every front end, so that what the client accepts is
//! exactly what the server accepts. Pure: no I/O, no wording beyond `Display`;
//! each front end turns a [`PhoneError`] into its own sentence.

use std::fmt;

/// Characters people type between digits; none of them is stored.
const SEPARATORS: &str = " -.()";

/// What is wrong with a typed phone number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhoneError {
    /// Nothing was typed.
    Empty,
    /// Something other than digits, separators and one leading `+`.
    Characters,
    /// No leading `+` and no country given: which country is it in?
    NoCountry,
    /// The country calling code is not 1 to 3 digits, or starts with 0.
    CountryCode,
    /// Not 8 to 15 digits in all (`digits` are the ones found, country code included).
    Length { digits: String },
}

impl fmt::Display for PhoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhoneError::Empty => f.write_str("no phone number was given"),
            PhoneError::Characters => f.write_str(
                "a phone number has only digits, spaces, dashes, dots, brackets and a leading +",
            ),
            PhoneError::NoCountry => f.write_str("the number has no country code"),
            PhoneError::CountryCode => {
                f.write_str("a country calling code is 1 to 3 digits and does not start with 0")
            }
            PhoneError::Length { .. } => f.write_str("an international number has 8 to 15 digits"),
        }
    }
}

impl std::error::Error for PhoneError {}

/// A country calling code from `44` or `+44`: 1 to 3 digits, not starting with 0.
pub fn country_code(typed: &str) -> Result<String, PhoneError> {
    let code = typed.trim();
    let code = code.strip_prefix('+').unwrap_or(code);
    let well_formed = (1..=3).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_digit())
        && !code.starts_with('0');
    well_formed
        .then(|| code.to_string())
        .ok_or(PhoneError::CountryCode)
}

/// The E.164 form (`+` and digits) of a typed number. A number that starts with
/// `+` already carries its country and `country` is not used; any other number
/// is national and takes `country` (a calling code) in front, without its
/// trunk prefix 0 (UK 07700 900123 is +44 7700 900123).
pub fn phone(typed: &str, country: Option<&str>) -> Result<String, PhoneError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(PhoneError::Empty);
    }
    let (international, rest) = match typed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, typed),
    };
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || SEPARATORS.contains(c))
    {
        return Err(PhoneError::Characters);
    }
    let typed_digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let digits = if international {
        // No country code starts with 0, so a leading 0 here is a national number with a stray +.
        if typed_digits.starts_with('0') {
            return Err(PhoneError::CountryCode);
        }
        typed_digits
    } else {
        let code = country_code(country.ok_or(PhoneError::NoCountry)?)?;
        format!("{code}{}", national_significant(&code, &typed_digits))
    };
    if !(8..=15).contains(&digits.len()) {
        return Err(PhoneError::Length { digits });
    }
    Ok(format!("+{digits}"))
}

/// A national number without the trunk prefix dialled inside the country.
/// Italy (and San Marino, the Vatican) keep their leading 0 in international form.
fn national_significant<'a>(country_code: &str, digits: &'a str) -> &'a str {
    if matches!(country_code, "39" | "378" | "379") {
        digits
    } else {
        digits.trim_start_matches('0')
    }
}

/// An address that does not look like `name@example.com`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidEmail;

impl fmt::Display for InvalidEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an email address: it looks like name@example.com")
    }
}

impl std::error::Error for InvalidEmail {}

/// A plausible address, trimmed: one `@`, a local part without spaces (plus
/// addressing such as `name+tag` is kept), a domain of two or more labels made of
/// letters (any script, for internationalized domains), digits and inner dashes.
/// Whether it exists is for the code sent to it to prove.
pub fn email(typed: &str) -> Result<String, InvalidEmail> {
    let address = typed.trim();
    let (local, domain) = address.split_once('@').ok_or(InvalidEmail)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@');
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2 && labels.iter().all(|label| domain_label(label));
    (local_ok && domain_ok && address.len() <= 254)
        .then(|| address.to_string())
        .ok_or(InvalidEmail)
}

fn domain_label(label: &str) -> bool {
    !label.is_empty()
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c.is_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_international_number_keeps_its_digits_and_drops_separators() {
        assert_eq!(
            phone("+1 425 555 0123", None).as_deref(),
            Ok("+14255550123")
        );
        assert_eq!(
            phone("+44 (20) 7946-0958", None).as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(
            phone("  +49.30.123456  ", None).as_deref(),
            Ok("+4930123456")
        );
    }

    #[test]
    fn an_international_number_ignores_the_country_given() {
        assert_eq!(
            phone("+1 425 555 0123", Some("44")).as_deref(),
            Ok("+14255550123")
        );
    }

    #[test]
    fn a_national_number_takes_the_country_without_its_trunk_zero() {
        assert_eq!(
            phone("07700 900123", Some("44")).as_deref(),
            Ok("+447700900123")
        );
        assert_eq!(
            phone("(425) 555-0123", Some("+1")).as_deref(),
            Ok("+14255550123")
        );
    }

    #[test]
    fn italy_keeps_its_leading_zero() {
        assert_eq!(
            phone("06 6988 1234", Some("39")).as_deref(),
            Ok("+390669881234")
        );
    }

    #[test]
    fn a_national_number_without_a_country_asks_for_one() {
        assert_eq!(phone("425 555 0123", None), Err(PhoneError::NoCountry));
    }

    #[test]
    fn letters_and_misplaced_plus_signs_are_refused() {
        assert_eq!(phone("+1 425 555 O123", None), Err(PhoneError::Characters));
        assert_eq!(phone("call me", Some("1")), Err(PhoneError::Characters));
        assert_eq!(phone("+1 425+555", None), Err(PhoneError::Characters));
        assert_eq!(phone("++14255550123", None), Err(PhoneError::Characters));
        assert_eq!(phone("425/555", Some("1")), Err(PhoneError::Characters));
    }

    #[test]
    fn empty_input_is_its_own_error() {
        assert_eq!(phone("", Some("1")), Err(PhoneError::Empty));
        assert_eq!(phone("   ", None), Err(PhoneError::Empty));
    }

    #[test]
    fn eight_to_fifteen_digits_in_all() {
        assert_eq!(phone("+1234567", None).map_err(|_| ()), Err(()));
        assert_eq!(phone("+12345678", None).as_deref(), Ok("+12345678"));
        assert_eq!(
            phone("+123456789012345", None).as_deref(),
            Ok("+123456789012345")
        );
        assert_eq!(
            phone("+1234567890123456", None),
            Err(PhoneError::Length {
                digits: "1234567890123456".into()
            })
        );
        assert_eq!(
            phone("+12", None),
            Err(PhoneError::Length {
                digits: "12".into()
            })
        );
        // The country code counts towards the 15.
        assert!(phone("12345678901234", Some("44")).is_err());
        assert!(phone("----", Some("1")).is_err());
    }

    #[test]
    fn no_country_code_starts_with_zero() {
        assert_eq!(phone("+0 425 555 0123", None), Err(PhoneError::CountryCode));
        assert_eq!(
            phone("4255550123", Some("01")),
            Err(PhoneError::CountryCode)
        );
    }

    #[test]
    fn country_codes_are_one_to_three_digits() {
        assert_eq!(country_code("1").as_deref(), Ok("1"));
        assert_eq!(country_code(" +44 ").as_deref(), Ok("44"));
        assert_eq!(country_code("358").as_deref(), Ok("358"));
        for bad in ["", "+", "1234", "0", "044", "GB", "4 4"] {
            assert_eq!(country_code(bad), Err(PhoneError::CountryCode), "{bad}");
        }
    }

    #[test]
    fn ordinary_addresses_are_accepted_and_trimmed() {
        assert_eq!(email("name@example.com").as_deref(), Ok("name@example.com"));
        assert_eq!(email("  a@b.c\t").as_deref(), Ok("a@b.c"));
        assert_eq!(
            email("first.last@mail.example.co.uk").as_deref(),
            Ok("first.last@mail.example.co.uk")
        );
    }

    #[test]
    fn plus_addressing_is_kept() {
        assert_eq!(
            email("alice+mfa@contoso.test").as_deref(),
            Ok("alice+mfa@contoso.test")
        );
    }

    #[test]
    fn internationalized_domains_are_accepted() {
        assert!(email("jürgen@bücher.de").is_ok());
        assert!(email("user@xn--bcher-kva.de").is_ok());
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "alice",
            "@contoso.test",
            "alice@",
            "alice@contoso",
            "a b@c.d",
            "a@b c.d",
            "a@@c.d",
            "a@b@c.com",
            "a@c..d",
            "a@.c.d",
            "a@c.d.",
            "a@-c.d",
            "a@c_d.e",
            "a\n@c.d",
        ] {
            assert_eq!(email(bad), Err(InvalidEmail), "{bad:?}");
        }
    }

    #[test]
    fn overlong_addresses_are_refused() {
        let local = "a".repeat(65);
        assert!(email(&format!("{local}@c.de")).is_err());
        let domain = format!("{}.de", "b".repeat(250));
        assert!(email(&format!("a@{domain}")).is_err());
    }
}
