//! Talking to GoTrue: the headers the Supabase clients send, the three error envelopes read
//! into `AuthError`, and every exchange recorded (secrets replaced by fingerprints) for the
//! inspector.

use std::time::Instant;

use chrono::Utc;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;
use url::Url;

use crate::config::ClientConfig;
use crate::error::AuthError;
use crate::recorder::{Exchange, Recorder, Redactor};

pub const API_VERSION: &str = "2024-01-01";

/// HTTP statuses auth-js treats as transient (current generation: 500–504 and Cloudflare's
/// 520–530).
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 500..=504 | 520..=530)
}

pub struct Http {
    client: reqwest::Client,
    base: Url,
    config: ClientConfig,
    pub recorder: Recorder,
}

/// A 2xx answer.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub exchange_id: u64,
}

/// What a request sends: path below the auth URL, query, JSON body, user JWT.
pub struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<&'a Value>,
    pub bearer: Option<&'a str>,
}

impl Http {
    pub fn new(config: &ClientConfig) -> Result<Http, AuthError> {
        let base = config.auth_url()?;
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| AuthError::InvalidInput(format!("cannot build the HTTP client: {e}")))?;
        Ok(Http {
            client,
            base,
            config: config.clone(),
            recorder: Recorder::default(),
        })
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{}", url.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    fn headers(&self, bearer: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        };
        put("apikey", &self.config.api_key);
        put(
            "authorization",
            &format!("Bearer {}", bearer.unwrap_or(&self.config.api_key)),
        );
        put("x-supabase-api-version", API_VERSION);
        put("x-client-info", &self.config.client_info);
        put("content-type", "application/json;charset=UTF-8");
        headers
    }

    pub async fn send(&self, call: Call<'_>) -> Result<Answer, AuthError> {
        let url = self.url(call.path, call.query);
        let headers = self.headers(call.bearer);
        let body = call.body.map(|b| b.to_string());
        let mut redactor = Redactor::default();
        redactor.learn_header_secret(&self.config.api_key);
        if let Some(bearer) = call.bearer {
            redactor.learn_header_secret(bearer);
        }
        if let Some(body) = call.body {
            redactor.learn_json(body);
        }

        let started_at = Utc::now();
        let started = Instant::now();
        let mut request = self
            .client
            .request(call.method.clone(), url.clone())
            .headers(headers.clone());
        if let Some(body) = &body {
            request = request.body(body.clone());
        }
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let response_headers = response.headers().clone();
                match response.bytes().await {
                    Ok(bytes) => Ok((status, response_headers, bytes.to_vec())),
                    Err(e) => Err(describe_transport(&e)),
                }
            }
            Err(e) => Err(describe_transport(&e)),
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;

        let mut exchange = Exchange {
            id: 0,
            started_at,
            duration_ms,
            method: call.method.to_string(),
            url: url.to_string(),
            request_headers: header_list(&headers),
            request_body: body,
            status: None,
            response_headers: Vec::new(),
            response_body: None,
            server_date: None,
            error: None,
        };
        let result = match outcome {
            Err(message) => {
                exchange.error = Some(message.clone());
                Err(AuthError::RetryableFetch { status: 0, message })
            }
            Ok((status, response_headers, bytes)) => {
                if let Ok(json) = serde_json::from_slice::<Value>(&bytes) {
                    redactor.learn_json(&json);
                }
                exchange.status = Some(status);
                exchange.response_headers = header_list(&response_headers);
                exchange.server_date = response_headers
                    .get("date")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                exchange.response_body =
                    (!bytes.is_empty()).then(|| String::from_utf8_lossy(&bytes).into_owned());
                if (200..300).contains(&status) {
                    Ok((status, bytes))
                } else {
                    let error = error_from_response(status, &response_headers, &bytes);
                    exchange.error = Some(error.to_string());
                    Err(error)
                }
            }
        };
        let exchange_id = self.recorder.record(redactor.apply(exchange));
        result.map(|(status, body)| Answer {
            status,
            body,
            exchange_id,
        })
    }
}

fn header_list(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("<binary>").to_string()))
        .collect()
}

fn describe_transport(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the auth server did not answer in time".into()
    } else if error.is_connect() {
        "cannot connect to the auth server".into()
    } else if error.is_body() || error.is_decode() {
        "the connection broke while reading the answer".into()
    } else {
        "the request to the auth server failed before an answer arrived".into()
    }
}

/// Reads GoTrue's envelopes. The code comes from `code` when the answer declares the
/// 2024-01-01 API version, else from `error_code` (initial shape) or `error` (OAuth shape);
/// the message from the first of `msg`, `message`, `error_description`, `error`.
pub fn error_from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> AuthError {
    let json: Option<Value> = serde_json::from_slice(body).ok().filter(Value::is_object);
    if is_retryable_status(status) {
        let message = json
            .as_ref()
            .and_then(message_of)
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
    let new_envelope = headers
        .get("x-supabase-api-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
        .is_some_and(|date| date >= chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
    let string = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_string);
    let code = if new_envelope { string("code") } else { None }
        .or_else(|| string("error_code"))
        .or_else(|| string("error"));
    let message = message_of(&json)
        .unwrap_or_else(|| format!("the auth server refused the request (HTTP {status})"));
    AuthError::Api {
        status,
        code,
        message,
    }
}

fn message_of(json: &Value) -> Option<String> {
    ["msg", "message", "error_description", "error"]
        .iter()
        .find_map(|key| json.get(*key).and_then(Value::as_str).map(str::to_string))
}

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
