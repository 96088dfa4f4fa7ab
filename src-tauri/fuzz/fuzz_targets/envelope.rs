//! Reading GoTrue's error answers (src-tauri/engine/src/envelope.rs): `error_from_response`,
//! `error_code_of_answer` and `error_message` on any status, headers and body.
//!
//! Input: a first line `STATUS [API-VERSION [ERROR-CODE [CONTENT-TYPE]]]` (fields split on
//! spaces; `-` means "no such header"), then the body. A first line whose status is not a
//! number takes it from the first two bytes instead, so every input is an answer.
//!
//! Checked: the error is retryable exactly for the statuses `is_retryable_status` names and
//! carries the status; a body that is not a JSON object has no code; and a live answer and
//! the same answer recorded (headers as strings, body as text) give the same code.
#![no_main]

use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use session_engine::envelope::{error_code_of_answer, error_from_response, error_message};
use session_engine::protocol::is_retryable_status;

fuzz_target!(|data: &[u8]| {
    let (first_line, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let mut fields = first_line.split(|&b| b == b' ');
    let status = fields
        .next()
        .and_then(|f| std::str::from_utf8(f).ok())
        .and_then(|f| f.parse::<u16>().ok())
        .unwrap_or_else(|| {
            u16::from_be_bytes([*data.first().unwrap_or(&0), *data.get(1).unwrap_or(&0)])
        });

    let mut headers = HeaderMap::new();
    for name in [
        "x-supabase-api-version",
        "x-sb-error-code",
        CONTENT_TYPE.as_str(),
    ] {
        let Some(field) = fields.next() else { break };
        if field == b"-" {
            continue;
        }
        if let Ok(value) = HeaderValue::from_bytes(field) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }

    let error = error_from_response(status, &headers, body);
    let _ = error.to_string();
    assert_eq!(error.status(), Some(status));
    assert_eq!(
        error.is_retryable(),
        is_retryable_status(status),
        "HTTP {status}"
    );

    let json = serde_json::from_slice::<Value>(body).ok();
    if let Some(json) = &json {
        let _ = error_message(json);
    }
    let is_object = json.as_ref().is_some_and(Value::is_object);
    if !is_object {
        assert_eq!(
            error.code(),
            None,
            "a body that is not a JSON object has no code"
        );
    }

    // The same answer as the recorder keeps it. Header values that are not visible ASCII
    // cannot be recorded as strings, and a body that is not UTF-8 cannot be kept as text.
    let recorded: Option<Vec<(String, String)>> = headers
        .iter()
        .map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    if let (Some(recorded), Ok(text)) = (recorded, std::str::from_utf8(body)) {
        let code = error_code_of_answer(&recorded, text);
        if !is_object {
            assert_eq!(code, None);
        }
        if !error.is_retryable() {
            assert_eq!(code.as_deref(), error.code(), "HTTP {status}: {text}");
        }
    }
});
