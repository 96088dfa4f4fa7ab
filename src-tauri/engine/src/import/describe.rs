//! Explaining input that is not (quite) any recognized form, in a short sentence that never
//! repeats the input: a JWT that does not decode, something close to a refresh token, or
//! text that is none of the forms at all.

use crate::tokens::{self, TokenError};

use super::ImportError;

/// Turns a decode error into the end of "This looks like a JWT but …".
pub(super) fn jwt_problem(err: &TokenError) -> String {
    match err {
        TokenError::Empty => "it is empty".into(),
        TokenError::NotAJwt(reason) => reason.clone(),
        TokenError::BadBase64(part) | TokenError::BadJson(part) => {
            if *part == tokens::JwtPart::Signature {
                "its signature is not valid base64url".into()
            } else {
                format!("its {part} is not valid base64url JSON")
            }
        }
    }
}

/// Explains inputs that are close to a refresh token but not one.
pub(super) fn near_miss_refresh_token(token: &str) -> Option<ImportError> {
    if token.len() == 12 && token.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Some(ImportError::InvalidRefreshToken(
            "This is 12 characters like a legacy refresh token, but those use only lowercase \
             letters and digits"
                .into(),
        ));
    }
    let base64url = token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    // Version byte 0 followed by a UUID encodes to 'A' then one of 'A'..='P'.
    let v2_start = token.starts_with('A')
        && token
            .chars()
            .nth(1)
            .is_some_and(|c| c.is_ascii_uppercase() && c <= 'P');
    if base64url && v2_start && (40..=70).contains(&token.len()) {
        let reason = if token.len() < 51 {
            "it is too short (cut off while copying?)"
        } else {
            "its checksum does not match (cut off or mistyped?)"
        };
        return Some(ImportError::InvalidRefreshToken(format!(
            "This looks like a v2 refresh token but {reason}"
        )));
    }
    None
}

/// Says what an unrecognized input looked like. Quotes at most 8 characters, and only of
/// input with spaces in it (prose is not a secret; a single unknown word might be).
pub(super) fn describe_unknown(text: &str) -> String {
    let binary = text
        .chars()
        .filter(|&c| (c.is_control() && !c.is_whitespace()) || c == '\u{fffd}')
        .count();
    if binary > 0 {
        return "This looks like binary data, not a token, session JSON or cookie".into();
    }
    let cookie_like = text
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .is_some_and(|(name, value)| {
            let name = name.trim();
            !name.is_empty()
                && !value.trim().is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
    if cookie_like {
        return "This looks like a cookie, but not an sb-…-auth-token session cookie".into();
    }
    let chars = text.chars().count();
    if text.chars().any(char::is_whitespace) {
        let head: String = text.chars().take(8).collect();
        let more = if chars > 8 { "…" } else { "" };
        return format!(
            "This looks like plain text (\"{head}{more}\"), not a token, session JSON or cookie"
        );
    }
    format!(
        "This {chars}-character string is not a JWT, a refresh token, session JSON or an \
         sb-…-auth-token cookie"
    )
}

#[cfg(test)]
mod tests {
    use crate::import::{parse_import, ImportError};
    use crate::test_fixtures::{jwt, v2_refresh};

    #[test]
    fn garbage_gives_the_expected_error_kind() {
        let token = jwt();
        let truncated = &token[..token.rfind('.').unwrap()];
        let parts: Vec<&str> = token.split('.').collect();
        let bad_payload = format!("{}.{}.{}", parts[0], &parts[1][..9], parts[2]);

        assert_eq!(parse_import(""), Err(ImportError::Empty));
        assert_eq!(parse_import("  \n\t"), Err(ImportError::Empty));
        assert_eq!(parse_import("\"\""), Err(ImportError::Empty));
        assert!(matches!(
            parse_import("hello world"),
            Err(ImportError::Unrecognized(_))
        ));
        assert_eq!(parse_import("{}"), Err(ImportError::NoTokens));
        assert_eq!(parse_import("{\"foo\":1}"), Err(ImportError::NoTokens));
        assert_eq!(parse_import("[1,2,3]"), Err(ImportError::NoTokens));
        assert!(matches!(
            parse_import("{\"access_token\": "),
            Err(ImportError::InvalidJson(_))
        ));
        assert_eq!(
            parse_import(truncated),
            Err(ImportError::InvalidJwt(
                "This looks like a JWT but it has only 2 of the 3 dot-separated parts of a JWT \
                 (was it cut short?)"
                    .into()
            ))
        );
        assert_eq!(
            parse_import(&bad_payload),
            Err(ImportError::InvalidJwt(
                "This looks like a JWT but its payload is not valid base64url JSON".into()
            ))
        );
        assert!(matches!(
            parse_import("Bearer abc"),
            Err(ImportError::InvalidJwt(_))
        ));
        assert!(matches!(
            parse_import("Y7KFQNM3H2XA"),
            Err(ImportError::InvalidRefreshToken(_))
        ));
        assert!(matches!(
            parse_import(&v2_refresh()[..48]),
            Err(ImportError::InvalidRefreshToken(_))
        ));
        assert_eq!(
            parse_import("\u{0}\u{1}\u{7f}\u{fffd}\u{fffd}junk"),
            Err(ImportError::Unrecognized(
                "This looks like binary data, not a token, session JSON or cookie".into()
            ))
        );
    }

    #[test]
    fn errors_never_echo_secrets() {
        let token = jwt();
        let parts: Vec<&str> = token.split('.').collect();
        let secretish = "Zq9xVb3kLm7Pw2Rt";
        let inputs = [
            format!("{}.{}", parts[0], parts[1]),
            format!("Bearer {}", &token[..token.len() - 5].replace('.', "")),
            secretish.to_string(),
            format!("sb-x-auth-token.0=base64-{secretish}"),
            format!("{{\"refresh_token\": \"{secretish}"),
            "Y7KFQNM3H2XA".to_string(),
        ];
        for input in &inputs {
            let message = parse_import(input).unwrap_err().to_string();
            assert!(!message.contains(secretish), "{message}");
            assert!(!message.contains(parts[1]), "{message}");
            assert!(!message.contains("Y7KFQNM3"), "{message}");
        }
        // Plain text is quoted, at most 8 characters of it.
        let message = parse_import("this is not a token at all")
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"this is …\""), "{message}");
        assert!(!message.contains("this is n"), "{message}");
    }
}
