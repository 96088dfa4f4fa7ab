//! Reading GoTrue's answers when they are errors: the three envelopes (2024-01-01
//! `{code, message}`, the initial `{code: <status>, error_code, msg}`, and OAuth's
//! `{error, error_description}`), and pages that are not JSON at all. The one place that
//! knows where an error's code and message are.

use reqwest::header::{HeaderMap, CONTENT_TYPE};
use serde_json::Value;

use crate::error::AuthError;
use crate::protocol::{is_retryable_status, API_VERSION};

/// Whether an answer's `X-Supabase-Api-Version` selects the 2024-01-01 envelope: a date on or
/// after it.
fn new_envelope(api_version: Option<&str>) -> bool {
    let parse = |v: &str| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok();
    match (api_version.and_then(parse), parse(API_VERSION)) {
        (Some(date), Some(first)) => date >= first,
        _ => false,
    }
}

/// GoTrue's error code in an answer: `code` when the answer declares the 2024-01-01 API
/// version (in the initial envelope `code` is the HTTP status), else `error_code` (initial
/// envelope) or `error` (OAuth envelope).
pub fn error_code(api_version: Option<&str>, json: &Value) -> Option<String> {
    let string = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_string);
    if new_envelope(api_version) {
        string("code")
    } else {
        None
    }
    .or_else(|| string("error_code"))
    .or_else(|| string("error"))
}

/// The message for people: the first of `msg`, `message`, `error_description`, `error`.
pub fn error_message(json: &Value) -> Option<String> {
    ["msg", "message", "error_description", "error"]
        .iter()
        .find_map(|key| json.get(*key).and_then(Value::as_str).map(str::to_string))
}

/// The error code of a recorded answer (its headers as recorded, its body as text).
pub fn error_code_of_answer(headers: &[(String, String)], body: &str) -> Option<String> {
    let json: Value = serde_json::from_str(body).ok().filter(Value::is_object)?;
    let version = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-supabase-api-version"))
        .map(|(_, value)| value.as_str());
    error_code(version, &json)
}

/// Reads a non-2xx answer into the engine's error.
pub fn error_from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> AuthError {
    let json: Option<Value> = serde_json::from_slice(body).ok().filter(Value::is_object);
    if is_retryable_status(status) {
        let message = json
            .as_ref()
            .and_then(error_message)
            .unwrap_or_else(|| format!("the auth server failed temporarily (HTTP {status})"));
        return AuthError::RetryableFetch { status, message };
    }
    let Some(json) = json else {
        return AuthError::Api {
            status,
            code: None,
            message: describe_non_json(status, headers, body),
        };
    };
    let version = headers
        .get("x-supabase-api-version")
        .and_then(|v| v.to_str().ok());
    AuthError::Api {
        status,
        code: error_code(version, &json),
        message: error_message(&json)
            .unwrap_or_else(|| format!("the auth server refused the request (HTTP {status})")),
    }
}

/// A page that is not JSON (a proxy's HTML error page, say), described in a line of its
/// visible text rather than dumped.
fn describe_non_json(status: u16, headers: &HeaderMap, body: &[u8]) -> String {
    let kind = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("no content type");
    let text = String::from_utf8_lossy(body);
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                plain.push(' ');
            }
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let plain: String = plain
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(80)
        .collect();
    if plain.is_empty() {
        format!("the auth server answered HTTP {status} with an empty {kind} body")
    } else {
        format!("the auth server answered HTTP {status} with a {kind} page, not JSON: \"{plain}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(version: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = version {
            h.insert("x-supabase-api-version", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn all_three_envelopes_keep_the_server_code() {
        let new = error_from_response(400, &headers(Some("2024-01-01")), br#"{"code":"refresh_token_already_used","message":"Invalid Refresh Token: Already Used"}"#);
        assert_eq!(new.code(), Some("refresh_token_already_used"));
        assert_eq!(new.to_string(), "Invalid Refresh Token: Already Used");
        let initial = error_from_response(400, &headers(None), br#"{"code":400,"error_code":"refresh_token_not_found","msg":"Invalid Refresh Token: Refresh Token Not Found"}"#);
        assert_eq!(initial.code(), Some("refresh_token_not_found"));
        let oauth = error_from_response(
            400,
            &headers(None),
            br#"{"error":"invalid_client","error_description":"Client authentication required"}"#,
        );
        assert_eq!(
            (oauth.code(), oauth.to_string().as_str()),
            (Some("invalid_client"), "Client authentication required")
        );
    }

    #[test]
    fn a_string_code_counts_only_under_the_2024_version() {
        let body = serde_json::json!({"code": "weak_password", "error_code": "other"});
        assert_eq!(
            error_code(Some("2024-01-01"), &body).as_deref(),
            Some("weak_password")
        );
        assert_eq!(
            error_code(Some("2025-06-30"), &body).as_deref(),
            Some("weak_password")
        );
        assert_eq!(
            error_code(Some("2023-12-31"), &body).as_deref(),
            Some("other")
        );
        assert_eq!(error_code(None, &body).as_deref(), Some("other"));
    }

    #[test]
    fn a_recorded_answer_gives_the_same_code_as_a_live_one() {
        let headers = vec![(
            "X-Supabase-Api-Version".to_string(),
            "2024-01-01".to_string(),
        )];
        let body = r#"{"code":"session_not_found","message":"x"}"#;
        assert_eq!(
            error_code_of_answer(&headers, body).as_deref(),
            Some("session_not_found")
        );
        let initial = r#"{"code":400,"error_code":"refresh_token_already_used","msg":"x"}"#;
        assert_eq!(
            error_code_of_answer(&[], initial).as_deref(),
            Some("refresh_token_already_used")
        );
        assert_eq!(
            error_code_of_answer(&[], r#"{"error":"invalid_grant"}"#).as_deref(),
            Some("invalid_grant")
        );
        assert_eq!(error_code_of_answer(&[], "<html>"), None);
    }

    #[test]
    fn transient_statuses_are_retryable_and_others_are_not() {
        for status in [500, 502, 503, 504, 520, 530] {
            assert!(
                error_from_response(status, &headers(None), b"").is_retryable(),
                "{status}"
            );
        }
        for status in [400, 401, 403, 409, 429, 505] {
            assert!(
                !error_from_response(status, &headers(None), b"{}").is_retryable(),
                "{status}"
            );
        }
    }

    #[test]
    fn html_error_pages_are_described_not_dumped() {
        let mut h = headers(None);
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        let error =
            error_from_response(403, &h, b"<html><body><h1>403 Forbidden</h1></body></html>");
        assert_eq!(error.code(), None);
        assert!(
            error
                .to_string()
                .contains("text/html page, not JSON: \"403 Forbidden\""),
            "{error}"
        );
    }
}
