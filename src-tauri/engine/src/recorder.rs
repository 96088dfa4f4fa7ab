//! Every HTTP exchange, kept for the inspector with secrets replaced by fingerprints.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::tokens::fingerprint;

/// JSON keys whose string values are credentials.
const SECRET_KEYS: [&str; 9] = [
    "access_token",
    "refresh_token",
    "password",
    "provider_token",
    "provider_refresh_token",
    "id_token",
    "token",
    "code_verifier",
    "auth_code",
];

const KEEP: usize = 1000;

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

pub struct Recorder {
    recent: Mutex<VecDeque<Exchange>>,
    live: broadcast::Sender<Exchange>,
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
    pub(crate) fn record(&self, mut exchange: Exchange) -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        exchange.id = id;
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() == KEEP {
            recent.pop_front();
        }
        recent.push_back(exchange.clone());
        let _ = self.live.send(exchange);
        id
    }

    /// The most recent exchanges, oldest first.
    pub fn recent(&self) -> Vec<Exchange> {
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    pub fn get(&self, id: u64) -> Option<Exchange> {
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|e| e.id == id)
            .cloned()
    }

    /// Exchanges as they are recorded.
    pub fn subscribe(&self) -> broadcast::Receiver<Exchange> {
        self.live.subscribe()
    }
}

/// Collects the secrets of one exchange, then replaces them wherever they appear.
#[derive(Default)]
pub(crate) struct Redactor {
    secrets: Vec<String>,
    passwords: Vec<String>,
}

impl Redactor {
    pub fn learn_header_secret(&mut self, secret: &str) {
        if secret.len() >= 8 {
            self.secrets.push(secret.to_string());
        }
    }

    pub fn learn_json(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match value {
                        // A password's fingerprint could be matched against a word list:
                        // passwords are hidden entirely.
                        Value::String(s) if key == "password" && !s.is_empty() => {
                            self.passwords.push(s.clone())
                        }
                        Value::String(s)
                            if SECRET_KEYS.contains(&key.as_str()) && !s.is_empty() =>
                        {
                            self.secrets.push(s.clone())
                        }
                        other => self.learn_json(other),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.learn_json(v)),
            _ => {}
        }
    }

    fn clean(&self, text: &str) -> String {
        let mut out = text.to_string();
        for password in &self.passwords {
            // Inside the JSON string it came in, so the replacement stays valid JSON.
            let quoted = serde_json::to_string(password).unwrap_or_default();
            out = out.replace(&quoted, "\"[redacted]\"");
        }
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), &fingerprint(secret));
            }
        }
        mask_jwt_like(&out)
    }

    pub fn apply(mut self, mut exchange: Exchange) -> Exchange {
        // Longest first, so a secret that contains another is replaced whole.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.secrets.dedup();
        self.passwords.sort_by_key(|s| std::cmp::Reverse(s.len()));
        exchange.url = self.clean(&exchange.url);
        for (_, value) in exchange
            .request_headers
            .iter_mut()
            .chain(exchange.response_headers.iter_mut())
        {
            *value = self.clean(value);
        }
        exchange.request_body = exchange.request_body.map(|b| self.clean(&b));
        exchange.response_body = exchange.response_body.map(|b| self.clean(&b));
        exchange.error = exchange.error.map(|e| self.clean(&e));
        exchange
    }
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
}
