//! Streams the live log to a window: for the active profile, the HTTP exchanges made before
//! the window subscribed (start-up's sign-in or restore), then `INITIAL_SESSION` and every
//! event and exchange as it happens, with the app's own items (failures, joins, switches)
//! between them. Follows profile switches; ends when the window's channel closes.
//!
//! Items go in batches, in the order they would have gone one by one. A message costs the
//! webview a script evaluation whatever its size, so the stream sends few: the first item
//! after a quiet `WINDOW` goes at once (with whatever else is ready: a lone event such as the
//! refresh after Refresh now is not held back), and items that follow within `WINDOW` of
//! that message are gathered and go together when the window ends (or when `BATCH_LIMIT`
//! are waiting). A steady stream costs at most one message per `WINDOW`, not one per item.
//! An auth event never waits: it goes at once with the items gathered before it (the window
//! takes its session from it, so Refresh now's new expiry is painted without delay).
//!
//! Public so that the mock-runtime tests read the rows exactly as a window receives them (a
//! Rust `Channel` in place of the webview's).

use std::time::Duration;
use tauri::ipc::Channel;

use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::inspector::Inspector;
use crate::live_log::LogItem;
use crate::views::EventView;

/// The most items one message of the stream carries; the first message, with the exchanges
/// made before the window subscribed (up to the recorder's 1,000), carries them all.
const BATCH_LIMIT: usize = 500;

/// Items that follow a message within this time wait for its end and go together. The window
/// shows new rows at most every 100 ms (`SHOW_EVERY_MS` in `live-log.svelte.ts`), so holding
/// an item up to half that adds little to when it is seen, while 200 items a second cost 20
/// script evaluations instead of 200. Not longer: a follow-up item (the event a shown request
/// caused) waits up to this long.
const WINDOW: Duration = Duration::from_millis(50);

/// Starts the stream on its own task.
pub fn spawn(inspector: Inspector, sink: Channel<Vec<LogItem>>) {
    tauri::async_runtime::spawn(run(inspector, sink));
}

async fn run(inspector: Inspector, sink: Channel<Vec<LogItem>>) {
    let mut app_items = inspector.log.subscribe();
    let mut profiles = inspector.watch();
    // When the last message went: items within `WINDOW` of it wait for the window's end.
    let mut last_sent: Option<Instant> = None;
    loop {
        // The profile this round follows; a later switch shows up as `changed`.
        let current = profiles.borrow_and_update().clone();
        let Some(Ok(active)) = current else {
            if profiles.changed().await.is_err() {
                return;
            }
            continue;
        };
        let mut exchanges = active.client.recorder().subscribe();
        let earlier = active.client.recorder().recent();
        let mut events = active.client.subscribe();
        drop(active);
        let mut seen = 0;
        let mut batch = Vec::new();
        for exchange in &earlier {
            seen = exchange.id;
            batch.extend(inspector.log.exchange_items(exchange));
        }
        loop {
            // The first step waits; the next ones take what is ready now and, inside the
            // window the last message opened, what comes until it ends.
            let waiting = batch.is_empty();
            let due = match last_sent {
                Some(sent) if !waiting && sent + WINDOW > Instant::now() => Some(sent + WINDOW),
                _ => None,
            };
            // Biased: the window's end first, then a request before the event it caused.
            let step = tokio::select! {
                biased;
                () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => Step::Send,
                exchange = exchanges.recv() => match exchange {
                    Ok(exchange) if exchange.id <= seen => Step::Items(vec![]),
                    Ok(exchange) => Step::Items(inspector.log.exchange_items(&exchange)),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the live log fell behind the recorder");
                        Step::Items(vec![])
                    }
                    Err(RecvError::Closed) => Step::Switch,
                },
                event = events.next() => match event {
                    Some(event) => Step::Event(inspector.log.event_item(EventView::of(&event))),
                    None => Step::Switch,
                },
                item = app_items.recv() => match item {
                    Ok(item) => Step::Items(vec![item]),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the live log fell behind the app's items");
                        Step::Items(vec![])
                    }
                    Err(RecvError::Closed) => Step::End,
                },
                changed = profiles.changed() => match changed {
                    Ok(()) => Step::Switch,
                    Err(_) => Step::End,
                },
                () = std::future::ready(()), if !waiting && due.is_none() => Step::Send,
            };
            match step {
                Step::Items(items) => {
                    batch.extend(items);
                    if batch.len() < BATCH_LIMIT {
                        continue;
                    }
                }
                // The session shown changes with it: it goes now, with what waits before it.
                Step::Event(item) => batch.push(item),
                Step::Send => {}
                Step::Switch => {
                    if !send(&sink, &mut batch, &mut last_sent) {
                        return;
                    }
                    break;
                }
                Step::End => {
                    send(&sink, &mut batch, &mut last_sent);
                    return;
                }
            }
            if !send(&sink, &mut batch, &mut last_sent) {
                return;
            }
        }
    }
}

/// What one turn of the stream brought.
enum Step {
    Items(Vec<LogItem>),
    /// An auth event: sent at once, window or not (the window's session and countdown follow
    /// it, e.g. the refresh after Refresh now).
    Event(LogItem),
    /// Nothing more is ready: send what was gathered.
    Send,
    /// The profile changed or its client is gone: send, then follow the active profile.
    Switch,
    /// The app is ending (or the window's channel closed).
    End,
}

/// Sends the batch (when it has items) as one message and notes when; false once the window
/// is gone.
fn send(
    sink: &Channel<Vec<LogItem>>,
    batch: &mut Vec<LogItem>,
    last_sent: &mut Option<Instant>,
) -> bool {
    if batch.is_empty() {
        return true;
    }
    *last_sent = Some(Instant::now());
    #[cfg(feature = "bench")]
    if crate::bench_stream::one_by_one() {
        return std::mem::take(batch)
            .into_iter()
            .all(|item| sink.send(vec![item]).is_ok());
    }
    sink.send(std::mem::take(batch)).is_ok()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use session_engine::auto_refresh::Setting;
    use session_engine::MemoryStore;
    use tauri::ipc::InvokeResponseBody;

    use super::*;
    use crate::inspector::testing::project_active;

    /// An inspector with an active profile (no server: nothing is requested), and the
    /// messages its stream sends, each as the seqs of its items.
    async fn streaming() -> (Inspector, Arc<Mutex<Vec<Vec<u64>>>>, tempfile::TempDir) {
        let setting = Setting {
            enabled: false,
            margin: Duration::from_secs(30),
        };
        let (active, folder) =
            project_active(Arc::new(MemoryStore::new()), setting, Vec::new()).await;
        let inspector = Inspector::default();
        inspector.publish(active);
        let messages = Arc::new(Mutex::new(Vec::new()));
        let seen = messages.clone();
        let sink = Channel::new(move |body| {
            let InvokeResponseBody::Json(json) = body else {
                panic!("not JSON")
            };
            let items: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
            let seqs = items
                .iter()
                .map(|item| item["seq"].as_u64().unwrap())
                .collect();
            seen.lock().unwrap().push(seqs);
            Ok(())
        });
        tokio::spawn(run(inspector.clone(), sink));
        // The stream subscribes before the first item.
        tokio::time::sleep(Duration::from_millis(1)).await;
        (inspector, messages, folder)
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_item_goes_at_once_and_a_stream_in_few_messages_in_order() {
        let (inspector, messages, _folder) = streaming().await;
        inspector.log.joined("refresh");
        // Let the stream run, without the clock moving.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(messages.lock().unwrap().len(), 1, "the lone item waited");

        tokio::time::sleep(WINDOW * 2).await;
        messages.lock().unwrap().clear();
        for _ in 0..10 {
            inspector.log.joined("refresh");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(WINDOW * 2).await;
        let messages = messages.lock().unwrap().clone();
        assert!(
            messages.len() <= 2,
            "{} messages: {messages:?}",
            messages.len()
        );
        let seqs: Vec<u64> = messages.into_iter().flatten().collect();
        assert_eq!(seqs.len(), 10);
        assert!(
            seqs.windows(2).all(|pair| pair[0] < pair[1]),
            "order: {seqs:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_auth_event_inside_the_window_goes_at_once_with_what_waits_before_it() {
        let (inspector, messages, _folder) = streaming().await;
        tokio::time::sleep(WINDOW * 2).await;
        messages.lock().unwrap().clear();
        // A message opens the window; the next item waits for its end...
        inspector.log.joined("refresh");
        tokio::time::sleep(Duration::from_millis(5)).await;
        inspector.log.joined("refresh");
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(
            messages.lock().unwrap().len(),
            1,
            "the second item went early"
        );

        // ...until an auth event (a sign-out needs no server when there is no session): it
        // goes now, 10 ms into the 50 ms window, carrying the waiting item before it.
        let client = inspector.active().await.unwrap().client.clone();
        client
            .sign_out(session_engine::SignOutScope::Local)
            .await
            .unwrap();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let messages = messages.lock().unwrap().clone();
        assert_eq!(messages.len(), 2, "the event waited: {messages:?}");
        assert_eq!(messages[1].len(), 2, "{messages:?}");
    }
}
