//! What sits in front of GoTrue's routes: request counting, injected faults, and the hosted
//! gateway's API-key check; and the guard in front of the control surface.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, ORIGIN, TRANSFER_ENCODING};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::errors::{render, ApiError, ApiVersion, API_VERSION_HEADER};
use crate::routes::{Connection, Shared};
use crate::traffic::FaultBody;

/// `POST /token?grant_type=refresh_token`, with the `/auth/v1` prefix removed.
fn route_key(request: &Request) -> String {
    let path = request.uri().path();
    let path = path
        .strip_prefix("/auth/v1")
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let grant = request
        .uri()
        .query()
        .and_then(|q| q.split('&').find(|kv| kv.starts_with("grant_type=")));
    match grant {
        Some(grant) => format!("{} {path}?{grant}", request.method()),
        None => format!("{} {path}", request.method()),
    }
}

/// The `Date` header from the server's own clock, skew included: a server whose clock is off
/// says so in every answer, which is how clients can measure it.
pub async fn server_date(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let date = state
        .clock
        .now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(value) = axum::http::HeaderValue::from_str(&date) {
        response
            .headers_mut()
            .insert(axum::http::header::DATE, value);
    }
    response
}

pub async fn count_requests(State(state): State<Shared>, request: Request, next: Next) -> Response {
    state.requests.record(route_key(&request));
    next.run(request).await
}

pub async fn inject_faults(State(state): State<Shared>, request: Request, next: Next) -> Response {
    if state.outage.remaining().is_some() {
        return drop_connection(request.extensions().get::<Connection>().cloned()).await;
    }
    let Some(fault) = state.faults.take(request.uri().path()) else {
        return next.run(request).await;
    };
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    if fault.drop {
        return drop_connection(request.extensions().get::<Connection>().cloned()).await;
    }
    let Some(status) = fault.status.and_then(|s| StatusCode::from_u16(s).ok()) else {
        return next.run(request).await;
    };
    let version = ApiVersion::from_header(request.headers().get(API_VERSION_HEADER));
    let reason = status.canonical_reason().unwrap_or("Error");
    match fault.body {
        // A 429 is GoTrue's limiter answer, message and all.
        FaultBody::Json if status == StatusCode::TOO_MANY_REQUESTS => {
            render(&ApiError::rate_limited(), version, "injected-fault")
        }
        FaultBody::Json => {
            let code = match status.as_u16() {
                504 => "request_timeout",
                429 => "over_request_rate_limit",
                500..=599 => "unexpected_failure",
                _ => "unknown",
            };
            render(
                &ApiError::new(status, code, reason),
                version,
                "injected-fault",
            )
        }
        FaultBody::Html => {
            let page = format!(
                "<html><head><title>{code} {reason}</title></head><body><center><h1>{code} {reason}</h1></center><hr><center>proxy</center></body></html>\n",
                code = status.as_u16()
            );
            (
                status,
                [(CONTENT_TYPE, HeaderValue::from_static("text/html"))],
                page,
            )
                .into_response()
        }
        FaultBody::Malformed => (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            "{\"access_token\": \"eyJhbGciOiJIUzI1NiIs",
        )
            .into_response(),
        FaultBody::Empty => (status, Body::empty()).into_response(),
    }
}

/// Closes the request's connection without an answer (a 502 where there is no connection to
/// close, as in-process calls).
async fn drop_connection(connection: Option<Connection>) -> Response {
    if let Some(connection) = connection {
        connection.kill.notify_one();
        // The connection task drops this future with the connection.
        std::future::pending::<()>().await;
    }
    StatusCode::BAD_GATEWAY.into_response()
}

/// The hosted gateway's key check: its own 401 bodies, before GoTrue sees the request.
pub async fn require_api_key(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    if !state.config.require_api_key || is_open_route(request.uri().path()) {
        return next.run(request).await;
    }
    let from_header = request
        .headers()
        .get("apikey")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let from_query = request.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("apikey=").map(str::to_string))
    });
    let unauthorized = |body| (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    match from_header.or(from_query) {
        None => unauthorized(json!({
            "message": "No API key found in request",
            "hint": "No `apikey` request header or url param was found.",
        })),
        Some(key) if key == state.anon_key || key == state.service_role_key => {
            next.run(request).await
        }
        Some(_) => unauthorized(json!({
            "message": "Invalid API key",
            "hint": "Double check your Supabase `anon` or `service_role` API key.",
        })),
    }
}

/// Routes the hosted gateway serves without a key (its `auth-v1-open` service): a browser
/// arrives at them from an email link or a redirect, with no way to add one.
fn is_open_route(path: &str) -> bool {
    let path = path.strip_prefix("/auth/v1").unwrap_or(path);
    matches!(path, "/verify" | "/authorize" | "/callback")
}

/// The control surface answers only its own tests and app: a request from a browser carries an
/// `Origin` (refused), a DNS-rebinding page arrives under a foreign `Host` (refused), a body
/// that is not declared JSON could be a form or `text/plain` POST that needs no CORS preflight
/// (refused), and when the server has a control token, a request without it is refused.
pub async fn guard_control(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let refuse = |status, code, message: &str| ApiError::new(status, code, message).into_response();
    let headers = request.headers();
    if headers.contains_key(ORIGIN) {
        return refuse(
            StatusCode::FORBIDDEN,
            "control_origin_refused",
            "the control surface does not answer web pages",
        );
    }
    if let Some(host) = headers.get(HOST) {
        if !is_loopback_host(host.to_str().unwrap_or("")) {
            return refuse(
                StatusCode::FORBIDDEN,
                "control_host_refused",
                "the control surface answers only loopback host names",
            );
        }
    }
    let has_body = headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if has_body && !is_json {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "control_json_required",
            "control requests with a body must be application/json",
        );
    }
    if let Some(expected) = &state.config.control_token {
        let given = headers
            .get("x-emulator-token")
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !constant_time_eq(given, expected.as_bytes()) {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "control_token_required",
                "the control surface needs this server's control token (x-emulator-token)",
            );
        }
    }
    next.run(request).await
}

/// `127.0.0.1`, `localhost` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Equal bytes, in a time that depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_host_names_with_or_without_a_port() {
        for ok in [
            "127.0.0.1",
            "127.0.0.1:54321",
            "localhost:1",
            "LOCALHOST",
            "[::1]:80",
            "[::1]",
            "127.1.2.3:9",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for no in [
            "attacker.example",
            "attacker.example:54321",
            "localhost.attacker.example",
            "10.0.0.1:80",
            "",
            "[::2]:80",
            "0.0.0.0",
        ] {
            assert!(!is_loopback_host(no), "{no}");
        }
    }
}
