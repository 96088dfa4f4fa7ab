//! GoTrue's three error envelopes.
//!
//! Handlers return `ApiError`; it travels in the response's extensions and `render_errors`
//! (which sees the request's `X-Supabase-Api-Version`) writes the body in the shape that
//! version asks for, as GoTrue's `HandleResponseError` does.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub const API_VERSION_HEADER: &str = "x-supabase-api-version";
pub const API_VERSION_2024: &str = "2024-01-01";

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Rendered as `{"error", "error_description"}` (always 400) whatever the version.
    pub oauth: bool,
    /// For `weak_password`: the reasons, added to the body.
    pub weak_password_reasons: Option<Vec<&'static str>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            oauth: false,
            weak_password_reasons: None,
        }
    }

    /// GoTrue's limiter answer (protocol §1.7): 429 `over_request_rate_limit`.
    pub fn rate_limited() -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "over_request_rate_limit",
            "Request rate limit reached",
        )
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn oauth(code: &'static str, description: impl Into<String>) -> ApiError {
        ApiError {
            oauth: true,
            ..ApiError::bad_request(code, description)
        }
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_failure",
            message,
        )
    }

    pub fn bad_json(detail: impl std::fmt::Display) -> ApiError {
        ApiError::bad_request(
            "bad_json",
            format!("Could not parse request body as JSON: {detail}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Rendered by `render_errors`; a bare fallback body in case it is not installed.
        let mut response = (self.status, Body::empty()).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// The shape a request asked for with `X-Supabase-Api-Version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// No header, or one GoTrue cannot parse: `{"code": <status>, "error_code", "msg"}`.
    Initial,
    /// Any date on or after 2024-01-01: `{"code", "message"}`.
    V20240101,
}

impl ApiVersion {
    pub fn from_header(value: Option<&HeaderValue>) -> ApiVersion {
        let parsed = value
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok());
        match parsed {
            Some(date) if date >= chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() => {
                ApiVersion::V20240101
            }
            _ => ApiVersion::Initial,
        }
    }
}

pub fn render(error: &ApiError, version: ApiVersion, request_id: &str) -> Response {
    if error.oauth {
        let body = json!({"error": error.code, "error_description": error.message});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    let mut body = match version {
        ApiVersion::V20240101 => {
            let code = match error.code {
                "" if error.status == StatusCode::INTERNAL_SERVER_ERROR => "unexpected_failure",
                "" => "unknown",
                code => code,
            };
            json!({"code": code, "message": error.message})
        }
        ApiVersion::Initial => {
            let mut body = json!({
                "code": error.status.as_u16(),
                "error_code": error.code,
                "msg": error.message,
            });
            if error.status.is_server_error() {
                body["error_id"] = json!(request_id);
            }
            body
        }
    };
    if let Some(reasons) = &error.weak_password_reasons {
        body["weak_password"] = json!({ "reasons": reasons });
    }
    let mut response = (error.status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    if version == ApiVersion::V20240101 {
        headers.insert(
            API_VERSION_HEADER,
            HeaderValue::from_static(API_VERSION_2024),
        );
    }
    // GoTrue's weak-password answer in the 2024-01-01 envelope is written by its own handler,
    // which sets no `x-sb-error-code`.
    let weak_2024 = error.weak_password_reasons.is_some() && version == ApiVersion::V20240101;
    if !error.code.is_empty() && !weak_2024 {
        if let Ok(code) = HeaderValue::from_str(error.code) {
            headers.insert("x-sb-error-code", code);
        }
    }
    response
}

/// Middleware: turns an `ApiError` left in a response into the envelope the request asked for.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let version = ApiVersion::from_header(request.headers().get(API_VERSION_HEADER));
    let mut response = next.run(request).await;
    match response.extensions_mut().remove::<ApiError>() {
        Some(error) => {
            // Headers the handler set before it failed (GoTrue's `sb-auth-*`) stay.
            let mut rendered = render(&error, version, &uuid::Uuid::new_v4().to_string());
            for (name, value) in response.headers() {
                if name != CONTENT_TYPE && name != CONTENT_LENGTH {
                    rendered.headers_mut().insert(name.clone(), value.clone());
                }
            }
            rendered
        }
        None => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_header_selects_the_envelope() {
        let v = |s: &str| ApiVersion::from_header(Some(&HeaderValue::from_str(s).unwrap()));
        assert_eq!(ApiVersion::from_header(None), ApiVersion::Initial);
        assert_eq!(v("2024-01-01"), ApiVersion::V20240101);
        assert_eq!(v("2025-06-30"), ApiVersion::V20240101);
        assert_eq!(v("2023-12-31"), ApiVersion::Initial);
        assert_eq!(v("yesterday"), ApiVersion::Initial);
    }
}
