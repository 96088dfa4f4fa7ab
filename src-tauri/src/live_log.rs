//! The live log the window shows: auth events, every HTTP exchange in brief, failures of user
//! actions and of the auto-refresh, joined refreshes, profile switches and the server's clock
//! offset. Everything here is redacted: events carry session views, exchanges fingerprints.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use session_engine::envelope::error_code_of_answer;
use session_engine::recorder::Exchange;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::error::{Error, ErrorView};
use crate::views::EventView;

/// One HTTP exchange in brief; the full redacted exchange is one `log_exchange` call away.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RequestSummary {
    pub id: u64,
    pub method: String,
    /// Path and query, e.g. `/auth/v1/token?grant_type=refresh_token`.
    pub path: String,
    /// `null` when no answer arrived (timeout, connection refused).
    pub status: Option<u16>,
    pub duration_ms: f64,
    /// GoTrue's error code from the answer, when there was one.
    pub code: Option<String>,
    /// A transport failure in words, when there was no answer.
    pub error: Option<String>,
}

impl RequestSummary {
    pub fn of(exchange: &Exchange) -> RequestSummary {
        let path = tauri::Url::parse(&exchange.url)
            .map(|u| match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            })
            .unwrap_or_else(|_| exchange.url.clone());
        RequestSummary {
            id: exchange.id,
            method: exchange.method.clone(),
            path,
            status: exchange.status,
            duration_ms: (exchange.duration_ms * 10.0).round() / 10.0,
            code: exchange
                .response_body
                .as_deref()
                .and_then(|body| error_code_of_answer(&exchange.response_headers, body)),
            error: exchange.error.clone(),
        }
    }
}

/// The server's clock minus ours, from the `Date` header, measured at the exchange's midpoint.
/// `Date` has one-second resolution, so the UI only applies offsets of two seconds or more.
pub fn clock_offset_ms(exchange: &Exchange) -> Option<i64> {
    let server = DateTime::parse_from_rfc2822(exchange.server_date.as_deref()?).ok()?;
    let midpoint =
        exchange.started_at + chrono::Duration::microseconds((exchange.duration_ms * 500.0) as i64);
    Some((server.with_timezone(&Utc) - midpoint).num_milliseconds())
}

/// One row of the live log. `seq` increases by one per item and is unique for the app's
/// lifetime; `at` is an RFC 3339 timestamp with milliseconds.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum LogItem {
    Event {
        seq: u64,
        at: String,
        event: Box<EventView>,
    },
    Request {
        seq: u64,
        at: String,
        request: RequestSummary,
    },
    /// A user action or the auto-refresh failed; `operation` e.g. "refresh", "paste".
    #[serde(rename_all = "camelCase")]
    Failure {
        seq: u64,
        at: String,
        operation: &'static str,
        error: ErrorView,
        exchange_id: Option<u64>,
    },
    /// A refresh that joined one already in flight instead of sending its own request.
    Joined {
        seq: u64,
        at: String,
        operation: &'static str,
    },
    /// The active profile changed.
    Profile {
        seq: u64,
        at: String,
        profile: String,
    },
    /// The server's clock minus ours, from an answer's `Date` header (ms).
    #[serde(rename_all = "camelCase")]
    Clock {
        seq: u64,
        at: String,
        offset_ms: i64,
    },
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Numbers log items for the app's lifetime and carries the ones the app itself produces
/// (failures, joins, profile switches) to every open log stream.
#[derive(Clone)]
pub struct LogBus {
    seq: Arc<AtomicU64>,
    sender: broadcast::Sender<LogItem>,
}

impl Default for LogBus {
    fn default() -> Self {
        LogBus {
            seq: Arc::new(AtomicU64::new(1)),
            sender: broadcast::channel(256).0,
        }
    }
}

impl LogBus {
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// The `seq` the next item will get: every item forwarded from now on has this or a later one.
    pub fn upcoming_seq(&self) -> u64 {
        self.seq.load(Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LogItem> {
        self.sender.subscribe()
    }

    /// Benchmark builds: an item made elsewhere (`bench_stream`), to every open log stream.
    #[cfg(feature = "bench")]
    pub(crate) fn send(&self, item: LogItem) {
        let _ = self.sender.send(item);
    }

    /// Benchmark builds: how many log streams are open.
    #[cfg(feature = "bench")]
    pub(crate) fn listeners(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Benchmark builds: the items the slowest stream has yet to take.
    #[cfg(feature = "bench")]
    pub(crate) fn queued(&self) -> usize {
        self.sender.len()
    }

    pub fn failure(&self, operation: &'static str, error: &Error) {
        tracing::info!(
            operation,
            kind = error.kind(),
            code = ?error.code(),
            status = ?error.status(),
            "failed: {}",
            error.public_message()
        );
        let _ = self.sender.send(LogItem::Failure {
            seq: self.next_seq(),
            at: timestamp(Utc::now()),
            operation,
            error: ErrorView::from(error),
            exchange_id: None,
        });
    }

    pub fn joined(&self, operation: &'static str) {
        let _ = self.sender.send(LogItem::Joined {
            seq: self.next_seq(),
            at: timestamp(Utc::now()),
            operation,
        });
    }

    /// A `joined` row when a refresh shared one already in flight.
    pub fn joined_if(&self, joined: bool, operation: &'static str) {
        if joined {
            self.joined(operation);
        }
    }

    pub fn profile(&self, profile: &str) {
        let _ = self.sender.send(LogItem::Profile {
            seq: self.next_seq(),
            at: timestamp(Utc::now()),
            profile: profile.to_string(),
        });
    }

    /// The items of one exchange: its summary, and the clock offset when the server sent one.
    pub fn exchange_items(&self, exchange: &Exchange) -> Vec<LogItem> {
        let at = timestamp(exchange.started_at);
        let mut items = vec![LogItem::Request {
            seq: self.next_seq(),
            at: at.clone(),
            request: RequestSummary::of(exchange),
        }];
        if let Some(offset_ms) = clock_offset_ms(exchange) {
            items.push(LogItem::Clock {
                seq: self.next_seq(),
                at,
                offset_ms,
            });
        }
        items
    }

    /// An exchange made by a client other than the profile's own (the playground's second
    /// client), already redacted by that client's recorder: its rows, to every open log stream.
    pub fn exchange(&self, exchange: &Exchange) {
        for item in self.exchange_items(exchange) {
            let _ = self.sender.send(item);
        }
    }

    pub fn event_item(&self, event: EventView) -> LogItem {
        LogItem::Event {
            seq: self.next_seq(),
            at: event.at.clone(),
            event: Box::new(event),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(body: Option<&str>, date: Option<&str>) -> Exchange {
        Exchange {
            id: 7,
            started_at: DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            duration_ms: 2000.0,
            method: "POST".into(),
            url: "http://127.0.0.1:5/auth/v1/token?grant_type=refresh_token".into(),
            request_headers: vec![],
            request_body: None,
            status: Some(400),
            response_headers: vec![],
            response_body: body.map(str::to_string),
            server_date: date.map(str::to_string),
            error: None,
        }
    }

    #[test]
    fn a_request_summary_keeps_path_query_and_the_gotrue_code() {
        let summary = RequestSummary::of(&exchange(
            Some(r#"{"code":400,"error_code":"refresh_token_already_used","msg":"x"}"#),
            None,
        ));
        assert_eq!(summary.path, "/auth/v1/token?grant_type=refresh_token");
        assert_eq!(summary.code.as_deref(), Some("refresh_token_already_used"));
        let oauth = RequestSummary::of(&exchange(Some(r#"{"error":"invalid_grant"}"#), None));
        assert_eq!(oauth.code.as_deref(), Some("invalid_grant"));
        assert_eq!(
            RequestSummary::of(&exchange(Some("<html>"), None)).code,
            None
        );
    }

    #[test]
    fn clock_offset_is_measured_at_the_exchange_midpoint() {
        // Request from 10:00:00 to 10:00:02; the server said 10:01:01 → 60 s ahead.
        let ahead = exchange(None, Some("Thu, 26 Nov 2026 10:01:01 GMT"));
        assert_eq!(clock_offset_ms(&ahead), Some(60_000));
        assert_eq!(clock_offset_ms(&exchange(None, Some("yesterday"))), None);
        assert_eq!(clock_offset_ms(&exchange(None, None)), None);
    }

    #[test]
    fn items_serialize_with_a_type_tag_and_camel_case() {
        let bus = LogBus::default();
        let items = bus.exchange_items(&exchange(None, Some("Thu, 26 Nov 2026 10:00:01 GMT")));
        let json = serde_json::to_value(&items).unwrap();
        assert_eq!(json[0]["type"], "request");
        assert_eq!(json[0]["request"]["durationMs"], 2000.0);
        assert_eq!(json[1]["type"], "clock");
        assert_eq!(json[1]["offsetMs"], 0);
        assert!(json[1]["seq"].as_u64().unwrap() > json[0]["seq"].as_u64().unwrap());
    }
}
