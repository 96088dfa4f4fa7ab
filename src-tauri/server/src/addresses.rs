//! Email addresses and phone numbers as GoTrue accepts them (`validateEmail` in `mail.go`,
//! `validatePhone` in `phone.go`): one place for the rule and its error answers.

use crate::errors::ApiError;

/// GoTrue's longest email address.
const MAX_EMAIL_LEN: usize = 255;

/// Checks an email address as GoTrue does and returns it lowercased, the form it is stored
/// and hashed in.
pub fn validate_email(email: &str) -> Result<String, ApiError> {
    if email.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "An email address is required",
        ));
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(ApiError::bad_request(
            "validation_failed",
            "An email address is too long",
        ));
    }
    if !has_email_format(email) {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Unable to validate email address: invalid format",
        ));
    }
    Ok(email.to_lowercase())
}

/// The format GoTrue's email check library accepts: a local part of letters, digits and
/// ``.!#$%&'*+/=?^_`{|}~-``, then `@`, then dot-separated labels of letters, digits and
/// inner hyphens, each at most 63 characters. A single label (`a@localhost`) is allowed.
fn has_email_format(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    let label_ok = |label: &str| {
        let bytes = label.as_bytes();
        (1..=63).contains(&bytes.len())
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    };
    local_ok && domain.split('.').all(label_ok)
}

/// GoTrue's phone number form: the leading `+` and every space removed, then E.164 digits
/// (a non-zero first digit, 2 to 15 digits in all). Returns the number as GoTrue stores it.
pub fn validate_phone(phone: &str) -> Result<String, ApiError> {
    let formatted = normalize_phone(phone);
    let bytes = formatted.as_bytes();
    let e164 =
        (2..=15).contains(&bytes.len()) && bytes[0] != b'0' && bytes.iter().all(u8::is_ascii_digit);
    if !e164 {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Invalid phone number format (E.164 required)",
        ));
    }
    Ok(formatted)
}

/// GoTrue's `formatPhoneNumber`: one leading `+` and all spaces go; nothing else changes.
pub fn normalize_phone(phone: &str) -> String {
    phone.strip_prefix('+').unwrap_or(phone).replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_in_gotrue_format_pass_lowercased() {
        assert_eq!(
            validate_email("New@Example.COM").unwrap(),
            "new@example.com"
        );
        for ok in ["a@localhost", "x.y+tag@sub.example.co", "o'neil@a-b.io"] {
            assert!(validate_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "plain",
            "@example.com",
            "a@",
            "a b@example.com",
            "a@-example.com",
            "a@example..com",
            "a@exam_ple.com",
        ] {
            let error = validate_email(bad).unwrap_err();
            assert_eq!(
                (error.code, error.message.as_str()),
                (
                    "validation_failed",
                    "Unable to validate email address: invalid format"
                ),
                "{bad}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(
            validate_email(&long).unwrap_err().message,
            "An email address is too long"
        );
    }

    #[test]
    fn phones_lose_the_plus_and_spaces_and_must_be_e164() {
        assert_eq!(validate_phone("+1 555 010 0199").unwrap(), "15550100199");
        assert_eq!(validate_phone("4915112345678").unwrap(), "4915112345678");
        for bad in [
            "",
            "+",
            "0123456",
            "1",
            "1-555-0100",
            "++15550100",
            "1234567890123456",
        ] {
            assert_eq!(
                validate_phone(bad).unwrap_err().message,
                "Invalid phone number format (E.164 required)",
                "{bad}"
            );
        }
    }
}
