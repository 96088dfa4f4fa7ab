//! Every HTTP exchange, kept for the inspector with secrets replaced by fingerprints. The
//! redaction runs moments after the exchange is recorded, on a worker thread, not on the
//! request's path (or sooner, when the log reads it first); until then the exchange is a
//! private `RawExchange`, which only leaves this module redacted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::Thread;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;
use zeroize::Zeroize;

use crate::error::AuthError;
use crate::http::KEPT_BODY_BYTES;
use crate::tokens::fingerprint;

/// JSON keys whose string values are credentials.
const SECRET_KEYS: [&str; 19] = [
    "access_token",
    "refresh_token",
    "password",
    "current_password",
    "provider_token",
    "provider_refresh_token",
    "id_token",
    "token",
    "code_verifier",
    "auth_code",
    // An emailed link's token: it signs in like the code it was made from.
    "token_hash",
    // The reauthentication code a password change carries.
    "nonce",
    // What GoTrue's admin `generate_link` answers (the link, its code and hash) and an OAuth
    // client's secret: the engine never calls the admin API, but a recorded answer from any
    // server passes here.
    "action_link",
    "email_otp",
    "hashed_token",
    "client_secret",
    // A WebAuthn challenge (the nonce of a ceremony, in the options GoTrue answers) and what an
    // assertion proves with it: the signature, and the client data that carries the nonce.
    "challenge",
    "signature",
    "clientDataJSON",
];

/// What a TOTP enrollment answers that is as good as the factor itself: the secret, the
/// `otpauth://` URI that carries it, and the QR code that draws it.
const TOTP_SECRET_KEYS: [&str; 3] = ["secret", "uri", "qr_code"];

/// Keys that are credentials only in what the engine sends: an MFA verification's `code`
/// (in GoTrue's answers `code` is the error code, which must stay readable).
const REQUEST_SECRET_KEYS: [&str; 1] = ["code"];

const KEEP: usize = 1000;

/// A secret shorter than this (a 6-digit OTP, a one-letter value in a hostile answer) is only
/// replaced where it stands as a whole JSON string: replacing it everywhere would shred the
/// text around it (every "a" of a body for a secret "a").
const MIN_FREE_TEXT_SECRET: usize = 8;

/// The most secrets one exchange can teach the redactor; past it, only JWT-shaped text is
/// still masked. A real GoTrue answer carries a handful.
const MAX_SECRETS: usize = 64;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    pub id: u64,
    #[ts(type = "string")]
    pub started_at: DateTime<Utc>,
    pub duration_ms: f64,
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    /// None when no answer arrived.
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<String>,
    /// The server's `Date` header: its clock, for skew correction.
    pub server_date: Option<String>,
    pub error: Option<String>,
}

/// Exchange ids are unique in the process, not per client: the log outlives a profile switch,
/// and an id from an earlier profile's client must never open another client's exchange.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// An exchange as it happened, secrets included. `http.rs` fills it in; nothing reads it back
/// but `redacted`, `redacted_url` and `clean_error`, which redact, so no raw text leaves this
/// module. Its own copies of secrets are wiped when it is dropped, as a `Token` is.
pub(crate) struct RawExchange {
    started_at: DateTime<Utc>,
    duration_ms: f64,
    method: String,
    url: String,
    /// Headers as sent and received; turned into text when redacted. Their values are
    /// reqwest's shared buffers, which reqwest itself frees unwiped.
    request_headers: HeaderMap,
    request_body: Option<String>,
    status: Option<u16>,
    response_headers: HeaderMap,
    /// As read (at most `MAX_ANSWER_BYTES`); read as text when redacted.
    response_body: Option<Vec<u8>>,
    server_date: Option<String>,
    error: Option<String>,
    /// Header values that are credentials (the API key, a user's JWT).
    header_secrets: Vec<String>,
}

impl RawExchange {
    pub(crate) fn request(
        started_at: DateTime<Utc>,
        method: String,
        url: String,
        request_headers: HeaderMap,
        request_body: Option<String>,
        header_secrets: Vec<String>,
    ) -> RawExchange {
        RawExchange {
            started_at,
            duration_ms: 0.0,
            method,
            url,
            request_headers,
            request_body,
            status: None,
            response_headers: HeaderMap::new(),
            response_body: None,
            server_date: None,
            error: None,
            header_secrets,
        }
    }

    pub(crate) fn took(&mut self, duration_ms: f64) {
        self.duration_ms = duration_ms;
    }

    pub(crate) fn answered(
        &mut self,
        status: u16,
        headers: HeaderMap,
        server_date: Option<String>,
        body: Option<Vec<u8>>,
    ) {
        self.status = Some(status);
        self.response_headers = headers;
        self.server_date = server_date;
        self.response_body = body;
    }

    /// The error the caller gets, with every secret of this exchange redacted; kept for the
    /// log as it was given.
    pub(crate) fn clean_error(&mut self, error: AuthError) -> AuthError {
        let error = self.redactor().clean_error(error);
        self.error = Some(error.to_string());
        error
    }

    /// The URL with this exchange's secrets redacted, for a diagnostic line.
    pub(crate) fn redacted_url(&self) -> String {
        self.redactor().clean(&self.url)
    }

    /// What the exchange teaches: the header secrets, and the request and answer read as
    /// JSON (each parsed again here, off the caller's path).
    fn redactor(&self) -> Redactor {
        let mut redactor = Redactor::default();
        for secret in &self.header_secrets {
            redactor.learn_header_secret(secret);
        }
        if let Some(body) = &self.request_body {
            if let Ok(body) = serde_json::from_str::<Value>(body) {
                redactor.learn_request_json(&body);
            }
        }
        if let Some(body) = &self.response_body {
            redactor.learn_answer(body);
        }
        redactor
    }

    fn redacted(&self, id: u64) -> Exchange {
        self.redactor().apply(Exchange {
            id,
            started_at: self.started_at,
            duration_ms: self.duration_ms,
            method: self.method.clone(),
            url: self.url.clone(),
            request_headers: header_list(&self.request_headers),
            request_body: self.request_body.clone(),
            status: self.status,
            response_headers: header_list(&self.response_headers),
            response_body: self
                .response_body
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            server_date: self.server_date.clone(),
            error: self.error.clone(),
        })
    }
}

impl Drop for RawExchange {
    fn drop(&mut self) {
        self.url.zeroize();
        self.request_body.zeroize();
        self.response_body.zeroize();
        self.error.zeroize();
        self.header_secrets.zeroize();
    }
}

fn header_list(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("<binary>").to_string()))
        .collect()
}

/// One recorded exchange: raw until the redaction worker or a reader gets to it, then redacted
/// once for every reader.
struct Recorded {
    id: u64,
    slot: Mutex<Slot>,
}

enum Slot {
    Raw(RawExchange),
    Redacted(Exchange),
}

impl Recorded {
    /// The slot, redacted by this call unless someone (the worker, a reader) came first.
    fn redact(&self) -> MutexGuard<'_, Slot> {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Slot::Raw(raw) = &*slot {
            // The raw text goes (wiped) once its redacted form exists.
            *slot = Slot::Redacted(raw.redacted(self.id));
        }
        slot
    }

    fn exchange(&self) -> Exchange {
        match &*self.redact() {
            Slot::Redacted(exchange) => exchange.clone(),
            // Not reached: `redact` left no raw slot. Redacted all the same.
            Slot::Raw(raw) => raw.redacted(self.id),
        }
    }
}

/// How long the redaction worker lets exchanges gather once woken: a burst of requests is
/// redacted in one go, not in between them, and its callers wake the worker once, not each.
const GATHER: Duration = Duration::from_millis(20);

/// Hands a recorded exchange to the redaction worker: one thread for the whole process, which
/// redacts each exchange within moments (`GATHER`, plus the work) of its recording. Raw text
/// must not wait in memory for a reader that may never come (the CLI reads no log, a window
/// reads only what it subscribed to, a lagging receiver skips exchanges), and redacting is
/// too much work for the request's caller, whose part is a push onto a queue (and a wake-up
/// when the queue was empty). The worker holds exchanges weakly: one that left the ring and
/// the live feed before its turn is already dropped, and so wiped. Should the thread fail to
/// start, exchanges are redacted by their first reader or wiped when they leave.
fn redact_soon(recorded: &Arc<Recorded>) {
    static PENDING: Mutex<Vec<Weak<Recorded>>> = Mutex::new(Vec::new());
    static WORKER: OnceLock<Option<Thread>> = OnceLock::new();
    let pending = || PENDING.lock().unwrap_or_else(|p| p.into_inner());
    let worker = WORKER.get_or_init(|| {
        let worker = std::thread::Builder::new()
            .name("exchange-redactor".into())
            .spawn(move || loop {
                // Woken by the first exchange queued since the last batch (a wake-up sent
                // while a batch is redacted makes the next `park` return at once).
                std::thread::park();
                std::thread::sleep(GATHER);
                let batch = std::mem::take(&mut *pending());
                for recorded in batch {
                    if let Some(recorded) = recorded.upgrade() {
                        drop(recorded.redact());
                    }
                }
            });
        worker.ok().map(|handle| handle.thread().clone())
    });
    let Some(worker) = worker else { return };
    let first = {
        let mut pending = pending();
        pending.push(Arc::downgrade(recorded));
        pending.len() == 1
    };
    if first {
        worker.unpark();
    }
}

/// The newest `KEEP` exchanges and a live feed of them. Recording costs the request's caller
/// no redaction: the redaction worker does it moments later (`redact_soon`), or the first
/// reader (`recent`, `get`, a `LiveExchanges` receiver) if it comes sooner, outside the ring's
/// lock, so a refresh never waits for a reader.
pub struct Recorder {
    recent: Mutex<VecDeque<Arc<Recorded>>>,
    live: broadcast::Sender<Arc<Recorded>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            recent: Mutex::default(),
            live: broadcast::channel(256).0,
        }
    }
}

impl Recorder {
    pub(crate) fn record(&self, raw: RawExchange) -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let recorded = Arc::new(Recorded {
            id,
            slot: Mutex::new(Slot::Raw(raw)),
        });
        {
            let mut recent = self.ring();
            if recent.len() == KEEP {
                recent.pop_front();
            }
            recent.push_back(recorded.clone());
        }
        redact_soon(&recorded);
        let _ = self.live.send(recorded);
        id
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Recorded>>> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The most recent exchanges, oldest first.
    pub fn recent(&self) -> Vec<Exchange> {
        let kept: Vec<Arc<Recorded>> = self.ring().iter().cloned().collect();
        kept.iter().map(|recorded| recorded.exchange()).collect()
    }

    pub fn get(&self, id: u64) -> Option<Exchange> {
        let found = self.ring().iter().find(|r| r.id == id).cloned();
        found.map(|recorded| recorded.exchange())
    }

    /// Exchanges as they are recorded.
    pub fn subscribe(&self) -> LiveExchanges {
        LiveExchanges(self.live.subscribe())
    }
}

/// The live feed of a `Recorder`: each exchange, redacted, as it is recorded.
pub struct LiveExchanges(broadcast::Receiver<Arc<Recorded>>);

impl LiveExchanges {
    /// The next exchange; `Lagged` when this receiver fell more than 256 behind, `Closed` when
    /// the recorder is gone. Cancel-safe, as `broadcast::Receiver::recv`.
    pub async fn recv(&mut self) -> Result<Exchange, broadcast::error::RecvError> {
        self.0.recv().await.map(|recorded| recorded.exchange())
    }
}

/// Collects the secrets of one exchange, then replaces them wherever they appear. Each list is
/// kept longest first as it is learned, so a secret that contains another is replaced whole.
#[derive(Default)]
struct Redactor {
    /// Replaced by their fingerprint wherever they appear.
    secrets: Vec<String>,
    /// Hidden only as whole JSON strings.
    short_secrets: Vec<String>,
    passwords: Vec<String>,
}

/// Adds `secret` to `list` in its place (longest first), once.
fn learn_into(list: &mut Vec<String>, secret: &str) {
    let order = |known: &String| {
        secret
            .len()
            .cmp(&known.len())
            .then_with(|| known.as_str().cmp(secret))
    };
    if let Err(at) = list.binary_search_by(order) {
        list.insert(at, secret.to_string());
    }
}

impl Redactor {
    fn learned(&self) -> usize {
        self.secrets.len() + self.short_secrets.len() + self.passwords.len()
    }

    pub fn learn_header_secret(&mut self, secret: &str) {
        if secret.len() >= MIN_FREE_TEXT_SECRET && self.learned() < MAX_SECRETS {
            learn_into(&mut self.secrets, secret);
        }
    }

    pub fn learn_json(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match value {
                        Value::String(_) if self.learned() >= MAX_SECRETS => {}
                        // A password's fingerprint could be matched against a word list:
                        // passwords are hidden entirely.
                        Value::String(s) if key == "password" && !s.is_empty() => {
                            learn_into(&mut self.passwords, s)
                        }
                        Value::String(s)
                            if SECRET_KEYS.contains(&key.as_str())
                                || TOTP_SECRET_KEYS.contains(&key.as_str()) =>
                        {
                            self.learn_secret(s)
                        }
                        other => self.learn_json(other),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.learn_json(v)),
            _ => {}
        }
    }

    /// An answer's secrets, from its JSON tree. Some answers no tree reads are still read by
    /// the engine's typed reads, which skip the fields they do not know without checking them (a
    /// number out of range, a lone surrogate escape, bytes that are not UTF-8 pass there): a
    /// session can come from such a body. Its tokens are then learned from a typed read as
    /// loose as the session's (`TokenFields`), and the rest from the tree of the text as the
    /// log shows it when only its UTF-8 was broken.
    fn learn_answer(&mut self, body: &[u8]) {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            return self.learn_json(&value);
        }
        if let std::borrow::Cow::Owned(mut shown) = String::from_utf8_lossy(body) {
            if let Ok(value) = serde_json::from_str::<Value>(&shown) {
                self.learn_json(&value);
            }
            shown.zeroize();
        }
        if let Ok(fields) = serde_json::from_slice::<TokenFields>(body) {
            for token in [
                fields.access_token,
                fields.refresh_token,
                fields.provider_token,
                fields.provider_refresh_token,
            ]
            .into_iter()
            .flatten()
            {
                if self.learned() < MAX_SECRETS {
                    self.learn_secret(&token);
                }
            }
            let user = fields.user.unwrap_or_default();
            for free_form in [
                user.identities,
                user.factors,
                user.app_metadata,
                user.user_metadata,
            ]
            .into_iter()
            .flatten()
            {
                self.learn_json(&free_form);
            }
        }
    }

    /// A request body: as `learn_json`, and its own credentials (`REQUEST_SECRET_KEYS`).
    pub fn learn_request_json(&mut self, value: &Value) {
        self.learn_json(value);
        if let Some(map) = value.as_object() {
            for key in REQUEST_SECRET_KEYS {
                if let Some(Value::String(s)) = map.get(key) {
                    if self.learned() < MAX_SECRETS {
                        self.learn_secret(s);
                    }
                }
            }
        }
    }

    /// A secret, and the forms it takes inside a JSON string when it holds characters JSON
    /// escapes (`"`, `\`, controls) or Go's encoder escapes too (`<`, `>`, `&`): an SVG or a
    /// URI is found in the body as it was written, not only as it reads.
    fn learn_secret(&mut self, secret: &str) {
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let escaped = escaped[1..escaped.len() - 1].to_string();
        let go_escaped = escaped
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
        for form in [secret.to_string(), escaped, go_escaped] {
            if form.len() >= MIN_FREE_TEXT_SECRET {
                learn_into(&mut self.secrets, &form)
            } else if !form.is_empty() {
                learn_into(&mut self.short_secrets, &form)
            }
        }
    }

    fn clean(&self, text: &str) -> String {
        let mut out = text.to_string();
        for password in &self.passwords {
            // Inside the JSON string it came in, so the replacement stays valid JSON; then,
            // when long enough not to match by chance, wherever else it was echoed (an error
            // page, a string inside a string).
            let quoted = serde_json::to_string(password).unwrap_or_default();
            out = out.replace(&quoted, "\"[redacted]\"");
            if password.len() >= MIN_FREE_TEXT_SECRET {
                out = out.replace(password.as_str(), "[redacted]");
            }
        }
        // Too short for a fingerprint that could not be guessed (a 6-digit code has a million
        // values): hidden entirely, like passwords.
        for secret in &self.short_secrets {
            let quoted = serde_json::to_string(secret).unwrap_or_default();
            out = out.replace(&quoted, "\"[redacted]\"");
        }
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), &fingerprint(secret));
            }
        }
        mask_jwt_like(&out)
    }

    /// The error with every string the server wrote redacted.
    pub fn clean_error(&self, error: AuthError) -> AuthError {
        match error {
            AuthError::Api {
                status,
                code,
                message,
            } => AuthError::Api {
                status,
                code: code.map(|c| self.clean(&c)),
                message: self.clean(&message),
            },
            AuthError::RetryableFetch { status, message } => AuthError::RetryableFetch {
                status,
                message: self.clean(&message),
            },
            AuthError::Redirected { status, location } => AuthError::Redirected {
                status,
                location: self.clean(&location),
            },
            AuthError::InvalidTokenResponse(message) => {
                AuthError::InvalidTokenResponse(self.clean(&message))
            }
            AuthError::InvalidInput(message) => AuthError::InvalidInput(self.clean(&message)),
            AuthError::InvalidMfaAnswer(message) => {
                AuthError::InvalidMfaAnswer(self.clean(&message))
            }
            AuthError::OAuthCallback {
                error,
                code,
                description,
            } => AuthError::OAuthCallback {
                error: self.clean(&error),
                code: code.map(|c| self.clean(&c)),
                description: self.clean(&description),
            },
            other @ (AuthError::OAuthTimedOut
            | AuthError::OAuthCancelled
            | AuthError::OAuthListener(_)
            | AuthError::LinkForAnotherProject { .. }
            | AuthError::SessionMissing
            | AuthError::ResponseTooLarge { .. }
            | AuthError::RefreshDiscarded
            | AuthError::Storage(_)) => other,
        }
    }

    pub fn apply(&self, mut exchange: Exchange) -> Exchange {
        exchange.url = self.clean(&exchange.url);
        for (_, value) in exchange
            .request_headers
            .iter_mut()
            .chain(exchange.response_headers.iter_mut())
        {
            *value = self.clean(value);
        }
        exchange.request_body = exchange.request_body.map(|b| self.clean(&b));
        // Redacted whole first, then cut: a cut could split a secret and hide it from the rules.
        exchange.response_body = exchange
            .response_body
            .map(|b| truncated(self.clean(&b), KEPT_BODY_BYTES));
        exchange.error = exchange.error.map(|e| self.clean(&e));
        exchange
    }
}

/// The secrets `session::Session` reads from a token response, with types as loose as its own
/// or looser, and every other field skipped as it skips them: this reads any body it reads.
#[derive(Deserialize)]
struct TokenFields {
    access_token: Option<String>,
    refresh_token: Option<String>,
    provider_token: Option<String>,
    provider_refresh_token: Option<String>,
    user: Option<UserFields>,
}

/// The free-form parts of `session::User`, where a secret could sit.
#[derive(Default, Deserialize)]
struct UserFields {
    identities: Option<Value>,
    factors: Option<Value>,
    app_metadata: Option<Value>,
    user_metadata: Option<Value>,
}

/// The text cut to at most `limit` bytes (on a character boundary), saying how much was left out.
fn truncated(mut text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let mut cut = limit;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let left_out = text.len() - cut;
    text.truncate(cut);
    text.push_str(&format!("… [{left_out} more bytes not kept]"));
    text
}

/// A JSON parse error in words, without the values serde quotes in it (`invalid type: string
/// "…"`): a server can put a token in any field, and the message reaches the window and logs.
pub(crate) fn json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' if quoted => {
                quoted = false;
                out.push_str("…\"");
            }
            '"' => {
                quoted = true;
                out.push('"');
            }
            c if !quoted => out.push(c),
            _ => {}
        }
    }
    out
}

/// Any run of JWT characters starting with `eyJ` (a base64url JSON header) that no rule above
/// caught, such as a token cut off in a malformed body.
fn mask_jwt_like(text: &str) -> String {
    let is_jwt_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("eyJ") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| !is_jwt_char(c)).unwrap_or(tail.len());
        let run = &tail[..end];
        if run.len() >= 16 {
            out.push_str(&fingerprint(run));
        } else {
            out.push_str(run);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refresh as it went over the wire: the API key in two headers, the refresh token in
    /// the body and echoed in a header and the query, the new tokens in the answer.
    const API_KEY: &str = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.anon-signature";
    const SENT: &str = "sent-refresh-abcdefghijkl";
    const ACCESS: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.access-signature";
    const NEXT: &str = "next-refresh-mnopqrstuvwx";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                let name = reqwest::header::HeaderName::from_static(name);
                (name, value.parse().unwrap())
            })
            .collect()
    }

    fn raw_refresh() -> RawExchange {
        let mut raw = RawExchange::request(
            Utc::now(),
            "POST".into(),
            format!("http://x/token?grant_type=refresh_token&echo={SENT}"),
            headers(&[
                ("apikey", API_KEY),
                ("authorization", &format!("Bearer {API_KEY}")),
            ]),
            Some(serde_json::json!({ "refresh_token": SENT }).to_string()),
            vec![API_KEY.into()],
        );
        raw.answered(
            200,
            headers(&[("x-echo", SENT)]),
            None,
            Some(
                serde_json::json!({"access_token": ACCESS, "refresh_token": NEXT, "user": {"id": "u1"}})
                    .to_string()
                    .into_bytes(),
            ),
        );
        raw
    }

    fn assert_redacted(exchange: &Exchange, reader: &str) {
        let text = serde_json::to_string(exchange).unwrap();
        for secret in [API_KEY, SENT, ACCESS, NEXT] {
            assert!(!text.contains(secret), "{reader} saw {secret}: {text}");
        }
        assert!(text.contains(&fingerprint(NEXT)), "{reader}: {text}");
        let body = exchange.response_body.as_deref().unwrap_or_default();
        assert!(body.contains(r#""id":"u1""#), "{reader}: {body}");
    }

    #[tokio::test]
    async fn the_live_feed_recent_and_get_see_only_redacted_text() {
        let recorder = Recorder::default();
        let mut live = recorder.subscribe();
        let id = recorder.record(raw_refresh());
        // The first reader redacts; the ones after it read the same redacted exchange.
        assert_redacted(&live.recv().await.unwrap(), "the live feed");
        assert_redacted(&recorder.recent().pop().unwrap(), "recent");
        assert_redacted(&recorder.get(id).unwrap(), "get");

        // Each reader can be the first, too.
        let recorder = Recorder::default();
        let id = recorder.record(raw_refresh());
        assert_redacted(&recorder.get(id).unwrap(), "get, first");
        let recorder = Recorder::default();
        recorder.record(raw_refresh());
        assert_redacted(&recorder.recent().pop().unwrap(), "recent, first");
    }

    /// How many of the ring's exchanges are still raw, once the worker had `patience` to
    /// redact them.
    fn raw_after(recorder: &Recorder, patience: std::time::Duration) -> usize {
        let raw_count = || {
            recorder
                .ring()
                .iter()
                .filter(|kept| matches!(*kept.slot.lock().unwrap(), Slot::Raw(_)))
                .count()
        };
        let deadline = std::time::Instant::now() + patience;
        while raw_count() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        raw_count()
    }

    #[test]
    fn an_exchange_nobody_reads_is_redacted_moments_after_recording() {
        let recorder = Recorder::default();
        for _ in 0..20 {
            recorder.record(raw_refresh());
        }
        assert_eq!(
            raw_after(&recorder, std::time::Duration::from_secs(10)),
            0,
            "raw text waits for a reader"
        );
        // Read from the slot as the worker left it: no reader redacted these.
        let kept = recorder.ring().back().unwrap().clone();
        let slot = kept.slot.lock().unwrap();
        let Slot::Redacted(exchange) = &*slot else {
            unreachable!("checked above")
        };
        assert_redacted(exchange, "the worker");
    }

    #[tokio::test]
    async fn a_receiver_that_fell_behind_reads_redacted_exchanges_and_skips_none_raw() {
        let recorder = Recorder::default();
        let mut live = recorder.subscribe();
        for _ in 0..300 {
            recorder.record(raw_refresh());
        }
        assert!(matches!(
            live.recv().await,
            Err(broadcast::error::RecvError::Lagged(44))
        ));
        assert_redacted(&live.recv().await.unwrap(), "after lagging");
        // What it skipped was redacted all the same, without a reader.
        assert_eq!(raw_after(&recorder, std::time::Duration::from_secs(10)), 0);
    }

    #[test]
    fn request_passwords_and_short_codes_never_reach_the_log() {
        let recorder = Recorder::default();
        let password = "correct-horse-battery";
        let mut raw = RawExchange::request(
            Utc::now(),
            "POST".into(),
            "http://x/verify".into(),
            HeaderMap::new(),
            Some(
                serde_json::json!({"email": "a@b.co", "password": password, "token": "654321", "type": "email"})
                    .to_string(),
            ),
            vec![],
        );
        raw.answered(
            400,
            HeaderMap::new(),
            None,
            // Short, the code is hidden where it stands as a whole JSON string.
            Some(br#"{"code":"otp_expired","echo":"654321"}"#.to_vec()),
        );
        let id = recorder.record(raw);
        let text = serde_json::to_string(&recorder.get(id).unwrap()).unwrap();
        for leaked in [password, "654321"] {
            assert!(!text.contains(leaked), "{leaked} in {text}");
        }
        assert!(text.contains(r#"\"type\":\"email\""#), "{text}");
    }

    /// A GoTrue answer to a refresh, `extra` spliced into its top level and `user_extra` into its
    /// user: what a proxy may add.
    fn odd_answer(extra: &[u8], user_extra: &[u8]) -> Vec<u8> {
        let mut body = format!(
            r#"{{"access_token":"{ACCESS}","token_type":"bearer","expires_in":3600,"expires_at":1900000000,"refresh_token":"{NEXT}","user":{{"id":"u1","aud":"authenticated","identities":[{{"id":"i1","identity_data":{{"sub":"u1"}}}}]"#
        )
        .into_bytes();
        body.extend_from_slice(user_extra);
        body.extend_from_slice(b"}");
        body.extend_from_slice(extra);
        body.extend_from_slice(b"}");
        body
    }

    #[test]
    fn an_answer_the_session_reads_but_no_json_tree_does_is_still_redacted() {
        let cases: [(&str, Vec<u8>); 3] = [
            (
                "a number out of range",
                odd_answer(br#","weak_password":1e400"#, b""),
            ),
            (
                "a lone surrogate escape",
                odd_answer(b"", br#","confirmation_sent_at":"\udc00""#),
            ),
            (
                "a latin-1 byte",
                odd_answer(b"", b",\"confirmation_sent_at\":\"caf\xe9\""),
            ),
        ];
        for (case, body) in cases {
            assert!(
                serde_json::from_slice::<Value>(&body).is_err(),
                "{case}: a tree reads it"
            );
            let session = crate::session::session_from_token_response(&body, 0)
                .unwrap_or_else(|e| panic!("{case}: the session is refused: {e}"));
            assert_eq!(session.refresh_token, NEXT, "{case}");

            let recorder = Recorder::default();
            let mut raw = raw_refresh();
            raw.response_body = Some(body);
            let id = recorder.record(raw);
            let logged = recorder.get(id).unwrap();
            assert_redacted(&logged, case);
        }
    }

    #[test]
    fn an_answer_that_is_not_json_keeps_what_it_says_but_no_known_secret() {
        let recorder = Recorder::default();
        let mut raw = raw_refresh();
        raw.response_body = Some(format!("<p>bad gateway for {SENT}</p>").into_bytes());
        let id = recorder.record(raw);
        let body = recorder.get(id).unwrap().response_body.unwrap();
        assert_eq!(
            body,
            format!("<p>bad gateway for {}</p>", fingerprint(SENT))
        );
    }

    #[test]
    fn an_error_is_redacted_for_the_caller_and_the_log() {
        let recorder = Recorder::default();
        let mut raw = raw_refresh();
        let error = raw.clean_error(AuthError::Api {
            status: 400,
            code: Some("bad".into()),
            message: format!("token {SENT} and {NEXT} refused"),
        });
        let said = error.to_string();
        assert!(!said.contains(SENT) && !said.contains(NEXT), "{said}");
        let id = recorder.record(raw);
        let logged = recorder.get(id).unwrap();
        assert_redacted(&logged, "get");
        assert!(logged.error.unwrap().contains(&fingerprint(SENT)));
    }

    #[test]
    fn known_secrets_and_stray_jwts_become_fingerprints() {
        let mut redactor = Redactor::default();
        redactor.learn_json(&serde_json::json!({"refresh_token": "abcdefghijkl", "nested": [{"access_token": "eyJhbGciOiJIUzI1NiJ9.e30.sig"}]}));
        let exchange = Exchange {
            id: 0,
            started_at: Utc::now(),
            duration_ms: 1.0,
            method: "POST".into(),
            url: "http://x/token".into(),
            request_headers: vec![(
                "authorization".into(),
                "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig".into(),
            )],
            request_body: Some(r#"{"refresh_token":"abcdefghijkl"}"#.into()),
            status: Some(200),
            response_headers: vec![],
            response_body: Some(r#"{"access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6"#.into()),
            server_date: None,
            error: None,
        };
        let clean = redactor.apply(exchange);
        let text = format!("{clean:?}");
        assert!(!text.contains("abcdefghijkl"), "{text}");
        assert!(!text.contains("eyJhbGciOiJIUzI1NiJ9.e30.sig"), "{text}");
        assert!(!text.contains("eyJhbGciOiJIUzI1NiIsInR5cCI6"), "{text}");
        assert!(text.contains("fp:"));
    }

    fn exchange_with_body(body: &str) -> Exchange {
        Exchange {
            id: 0,
            started_at: Utc::now(),
            duration_ms: 1.0,
            method: "POST".into(),
            url: "http://x/verify".into(),
            request_headers: vec![],
            request_body: None,
            status: Some(200),
            response_headers: vec![],
            response_body: Some(body.into()),
            server_date: None,
            error: None,
        }
    }

    #[test]
    fn generated_links_and_client_secrets_are_secrets() {
        let body = r#"{"action_link":"http://x/verify?token=pkce_abcdefghijkl&type=magiclink","email_otp":"987654","hashed_token":"0123456789abcdef0123","client_secret":"sb_secret_zyxwvutsrqpo","verification_type":"magiclink"}"#;
        let mut redactor = Redactor::default();
        redactor.learn_json(&serde_json::from_str(body).unwrap());
        let clean = redactor
            .apply(exchange_with_body(body))
            .response_body
            .unwrap();
        for secret in [
            "pkce_abcdefghijkl",
            "987654",
            "0123456789abcdef0123",
            "sb_secret_zyxwvutsrqpo",
        ] {
            assert!(!clean.contains(secret), "{secret} in {clean}");
        }
        assert!(
            clean.contains(r#""verification_type":"magiclink""#),
            "{clean}"
        );
    }

    #[test]
    fn a_short_secret_is_replaced_only_as_a_whole_json_string() {
        let body = r#"{"token":"a","type":"magiclink","note":"a banana","otp":"123456"}"#;
        let mut redactor = Redactor::default();
        redactor.learn_json(&serde_json::from_str(body).unwrap());
        redactor.learn_json(&serde_json::json!({"token": "123456"}));
        let clean = redactor
            .apply(exchange_with_body(body))
            .response_body
            .unwrap();
        assert!(clean.contains(r#""note":"a banana""#), "{clean}");
        assert!(clean.contains(r#""token":"[redacted]""#), "{clean}");
        assert!(!clean.contains("123456"), "{clean}");
        assert!(
            serde_json::from_str::<Value>(&clean).is_ok(),
            "still JSON: {clean}"
        );
    }

    #[test]
    fn a_secret_that_contains_another_is_replaced_whole_in_any_learning_order() {
        let (short, long) = ("abcdefghij", "abcdefghij-and-more");
        let mut redactor = Redactor::default();
        redactor.learn_header_secret(short);
        redactor.learn_header_secret(long);
        redactor.learn_header_secret(short);
        assert_eq!(redactor.secrets, [long, short], "longest first, once");
        let clean = redactor.clean(&format!("x {long} y"));
        assert_eq!(clean, format!("x {} y", fingerprint(long)));
    }

    #[test]
    fn learned_secrets_are_capped() {
        let many: Vec<Value> = (0..10_000)
            .map(|i| serde_json::json!({"token": format!("secret-number-{i:05}")}))
            .collect();
        let mut redactor = Redactor::default();
        redactor.learn_json(&Value::Array(many));
        assert_eq!(redactor.learned(), MAX_SECRETS);
    }

    #[test]
    fn a_stored_body_is_redacted_then_cut() {
        let secret = "x".repeat(40);
        let body = format!(
            "{}{secret}{}",
            "a".repeat(KEPT_BODY_BYTES - 10),
            "b".repeat(1000)
        );
        let mut redactor = Redactor::default();
        redactor.learn_header_secret(&secret);
        let clean = redactor
            .apply(exchange_with_body(&body))
            .response_body
            .unwrap();
        assert!(
            !clean.contains("xxxxxxxxxx"),
            "no part of the secret survives the cut"
        );
        assert!(clean.len() < KEPT_BODY_BYTES + 64, "{}", clean.len());
        assert!(
            clean.ends_with("more bytes not kept]"),
            "{}",
            &clean[clean.len() - 40..]
        );
    }

    #[test]
    fn a_password_echoed_outside_its_json_string_is_hidden_too() {
        let mut redactor = Redactor::default();
        redactor.learn_json(&serde_json::json!({"password": "correct-horse-battery"}));
        let page = "<p>body: {&quot;password&quot;:&quot;correct-horse-battery&quot;}</p>";
        let clean = redactor
            .apply(exchange_with_body(page))
            .response_body
            .unwrap();
        assert!(!clean.contains("correct-horse"), "{clean}");
        let error = redactor.clean_error(AuthError::Api {
            status: 400,
            code: None,
            message: "echo: correct-horse-battery".into(),
        });
        assert!(!error.to_string().contains("correct-horse"), "{error}");
    }

    #[test]
    fn json_errors_name_the_problem_not_the_value() {
        let error = serde_json::from_str::<std::collections::HashMap<String, i64>>(
            r#"{"expires_in": "abcdefghijkl-a-token"}"#,
        )
        .unwrap_err();
        let said = json_error(&error);
        assert!(!said.contains("abcdefghijkl"), "{said}");
        assert!(
            said.contains("invalid type") && said.contains("line 1"),
            "{said}"
        );
    }

    #[test]
    fn passwords_are_hidden_not_fingerprinted() {
        let mut redactor = Redactor::default();
        let body = r#"{"email":"a@b.c","password":"hunter2 \"quoted\""}"#;
        redactor.learn_json(&serde_json::from_str(body).unwrap());
        let exchange = Exchange {
            id: 0,
            started_at: Utc::now(),
            duration_ms: 1.0,
            method: "POST".into(),
            url: "http://x/token?grant_type=password".into(),
            request_headers: vec![],
            request_body: Some(body.into()),
            status: Some(400),
            response_headers: vec![],
            response_body: None,
            server_date: None,
            error: None,
        };
        let clean = redactor.apply(exchange).request_body.unwrap();
        assert_eq!(clean, r#"{"email":"a@b.c","password":"[redacted]"}"#);
    }

    #[test]
    fn a_totp_enrollment_and_an_mfa_code_never_reach_the_log() {
        let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let uri = format!("otpauth://totp/app:a@b.co?algorithm=SHA1&digits=6&secret={secret}");
        let svg = "<?xml version=\"1.0\"?>\n<svg width=\"99\"><rect x=\"1\"/></svg>";
        // As GoTrue (Go's encoder) writes it: `<`, `>` and `&` escaped as \u003c, \u003e, \u0026.
        let go_body = serde_json::to_string(&serde_json::json!({
            "id": "f1", "type": "totp", "totp": {"qr_code": svg, "secret": secret, "uri": uri}
        }))
        .unwrap()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
        let mut redactor = Redactor::default();
        redactor.learn_json(&serde_json::from_str(&go_body).unwrap());
        let request = serde_json::json!({"challenge_id": "c1", "code": "123456"});
        redactor.learn_request_json(&request);
        let mut exchange = exchange_with_body(&go_body);
        exchange.request_body = Some(request.to_string());
        let clean = redactor.apply(exchange);
        let text = format!("{clean:?}");
        for leaked in [secret, "otpauth://", "rect x", "svg width", "123456"] {
            assert!(!text.contains(leaked), "{leaked} in {text}");
        }
        assert!(clean
            .request_body
            .unwrap()
            .contains(r#""code":"[redacted]""#));

        // A WebAuthn challenge's nonce, and an assertion's signature and client data.
        let nonce = "q9yM4m0mZKpJ3sU1zB3dXwO7r9Yp8cVb2H1n6tQ4fGk";
        let mut redactor = Redactor::default();
        let options = serde_json::json!({"id": "c2", "type": "webauthn", "webauthn": {"type": "request",
            "credential_options": {"publicKey": {"challenge": nonce, "rpId": "localhost"}}}});
        redactor.learn_json(&options);
        let request = serde_json::json!({"challenge_id": "c2", "webauthn": {"type": "request",
            "credential_response": {"id": "k1", "response": {"clientDataJSON": "eyJjaGFsbGVuZ2UiOiJxOXlN",
            "authenticatorData": "SZYN5YgO", "signature": "MEUCIQDsignaturebytes"}}}});
        redactor.learn_request_json(&request);
        let mut exchange = exchange_with_body(&options.to_string());
        exchange.request_body = Some(request.to_string());
        let text = format!("{:?}", redactor.apply(exchange));
        for leaked in [nonce, "eyJjaGFsbGVuZ2UiOiJxOXlN", "MEUCIQDsignaturebytes"] {
            assert!(!text.contains(leaked), "{leaked} in {text}");
        }
        assert!(text.contains("localhost") && text.contains("SZYN5YgO"));

        // In an answer, `code` is GoTrue's error code and stays readable.
        let mut redactor = Redactor::default();
        let error = r#"{"code":"mfa_verification_failed","message":"Invalid TOTP code entered"}"#;
        redactor.learn_json(&serde_json::from_str(error).unwrap());
        let clean = redactor
            .apply(exchange_with_body(error))
            .response_body
            .unwrap();
        assert_eq!(clean, error);
    }
}
