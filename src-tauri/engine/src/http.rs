//! Talking to GoTrue: the headers the Supabase clients send, error answers read into
//! `AuthError` (see `envelope`), and every exchange recorded (secrets replaced by
//! fingerprints) for the inspector.
//!
//! Requests carry tokens and passwords, so a server is trusted with nothing it did not earn:
//! redirects are never followed (a 307 would send the body again, wherever it points), an
//! answer is read only up to `MAX_ANSWER_BYTES`, and every string a server wrote is redacted
//! before it reaches an error, the log or an export.

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, LOCATION};
use reqwest::{redirect, Method, Response};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use crate::config::ClientConfig;
use crate::envelope::error_from_response;
use crate::error::AuthError;
use crate::protocol::API_VERSION;
use crate::recorder::{RawExchange, Recorder};

/// The most of an answer the engine reads. GoTrue's largest answers (a user with many
/// identities, a JWKS) are a few KiB; a body past this is a broken or hostile server.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The most of an answer's body kept in the log (after redaction).
pub const KEPT_BODY_BYTES: usize = 64 * 1024;

pub struct Http {
    client: reqwest::Client,
    base: Url,
    config: ClientConfig,
    /// The headers of a call without a user's JWT, built once: a call copies them (each value
    /// is shared, not copied) and changes `authorization` when it has a JWT.
    headers: HeaderMap,
    pub recorder: Recorder,
}

/// A 2xx answer.
pub struct Answer {
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
            .redirect(redirect::Policy::none())
            // An https project never talks plain http, whatever a server answers.
            .https_only(base.scheme() == "https")
            .build()
            .map_err(|e| AuthError::InvalidInput(format!("cannot build the HTTP client: {e}")))?;
        Ok(Http {
            client,
            base,
            headers: default_headers(config),
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
        let mut headers = self.headers.clone();
        if let Some(bearer) = bearer {
            match HeaderValue::from_str(&format!("Bearer {bearer}")) {
                Ok(value) => headers.insert(AUTHORIZATION, value),
                // As before: a value a header cannot carry is left out.
                Err(_) => headers.remove(AUTHORIZATION),
            };
        }
        headers
    }

    pub async fn send(&self, call: Call<'_>) -> Result<Answer, AuthError> {
        self.send_recorded(call).await.0
    }

    /// `send`, with the recorded exchange's id whatever the outcome (a failure's too).
    pub async fn send_recorded(&self, call: Call<'_>) -> (Result<Answer, AuthError>, u64) {
        let url = self.url(call.path, call.query);
        let headers = self.headers(call.bearer);
        let body = call.body.map(|b| b.to_string());
        let mut header_secrets = vec![self.config.api_key.clone()];
        header_secrets.extend(call.bearer.map(str::to_string));

        let started_at = self.config.clock.now();
        let started = Instant::now();
        let mut request = self
            .client
            .request(call.method.clone(), url.clone())
            .headers(headers.clone());
        if let Some(body) = &body {
            request = request.body(body.clone());
        }
        let outcome = match request.send().await {
            Ok(response) => read_answer(response).await,
            Err(e) => Err(describe_transport(&e)),
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;

        // Recorded raw: the recorder redacts it when the log reads it, off this path.
        let mut exchange = RawExchange::request(
            started_at,
            call.method.to_string(),
            url.into(),
            headers,
            body,
            header_secrets,
        );
        exchange.took(duration_ms);
        let status = outcome.as_ref().ok().map(|answer| answer.status);
        let result = match outcome {
            Err(message) => Err(AuthError::RetryableFetch { status: 0, message }),
            Ok(answer) => {
                let status = answer.status;
                // Kept only when it is a date: the header is server text like any other.
                let server_date = answer
                    .headers
                    .get("date")
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| chrono::DateTime::parse_from_rfc2822(v).is_ok())
                    .map(str::to_string);
                let outcome = if answer.too_large {
                    Err(AuthError::ResponseTooLarge {
                        status,
                        limit: MAX_ANSWER_BYTES,
                    })
                } else if (300..400).contains(&status) {
                    let location = answer
                        .headers
                        .get(LOCATION)
                        .map(|v| shortened(&String::from_utf8_lossy(v.as_bytes()), 200))
                        .unwrap_or_else(|| "nowhere (no Location header)".into());
                    Err(AuthError::Redirected { status, location })
                } else if (200..300).contains(&status) {
                    Ok(())
                } else {
                    Err(error_from_response(status, &answer.headers, &answer.body))
                };
                let kept = (!answer.body.is_empty()).then(|| answer.body.clone());
                exchange.answered(status, answer.headers, server_date, kept);
                outcome.map(|()| answer.body)
            }
        };
        // Whatever the server wrote is redacted before anyone sees it, the caller included:
        // an error is redacted here, on the path.
        let result = result.map_err(|error| exchange.clean_error(error));
        // The redacted URL is worked out only when debug events are on.
        tracing::debug!(
            method = %call.method,
            url = %exchange.redacted_url(),
            status = ?status,
            duration_ms,
            error = ?result.as_ref().err().map(ToString::to_string),
            "auth request"
        );
        let exchange_id = self.recorder.record(exchange);
        (result.map(|body| Answer { body, exchange_id }), exchange_id)
    }
}

/// An answer as far as it was read.
struct ReadAnswer {
    status: u16,
    headers: HeaderMap,
    /// At most `MAX_ANSWER_BYTES`.
    body: Vec<u8>,
    /// The body went past `MAX_ANSWER_BYTES` (or said it would): it is not used.
    too_large: bool,
}

/// Reads the body up to the cap: a declared length past it is refused unread, a longer
/// stream is cut where it crosses it. A body that breaks off midway (or times out) is a
/// transport failure, as before any answer.
async fn read_answer(mut response: Response) -> Result<ReadAnswer, String> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut answer = ReadAnswer {
        status,
        headers,
        body: Vec::new(),
        too_large: false,
    };
    if response
        .content_length()
        .is_some_and(|declared| declared > MAX_ANSWER_BYTES as u64)
    {
        answer.too_large = true;
        return Ok(answer);
    }
    while let Some(chunk) = response.chunk().await.map_err(|e| describe_transport(&e))? {
        let room = MAX_ANSWER_BYTES - answer.body.len();
        if chunk.len() > room {
            answer.body.extend_from_slice(&chunk[..room]);
            answer.too_large = true;
            break;
        }
        answer.body.extend_from_slice(&chunk);
    }
    Ok(answer)
}

/// At most `limit` characters of `text`, with an ellipsis when cut.
fn shortened(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The headers every call sends; `authorization` carries the API key unless a call has a
/// user's JWT.
fn default_headers(config: &ClientConfig) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    put("apikey", &config.api_key);
    put("authorization", &format!("Bearer {}", config.api_key));
    put("x-supabase-api-version", API_VERSION);
    put("x-client-info", &config.client_info);
    put("content-type", "application/json;charset=UTF-8");
    headers
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
