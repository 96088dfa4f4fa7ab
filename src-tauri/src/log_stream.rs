//! Streams the live log to a window: for the active profile, the HTTP exchanges made before
//! the window subscribed (start-up's sign-in or restore), then `INITIAL_SESSION` and every
//! event and exchange as it happens, with the app's own items (failures, joins, switches)
//! between them. Follows profile switches; ends when the window's channel closes.
//!
//! Items go in batches: each message on the channel is every item ready at that moment (at
//! most `BATCH_LIMIT`), in the order they would have gone one by one. A message costs the
//! webview a script evaluation whatever its size, so a burst of items costs a few, not one
//! per item.
//!
//! Public so that the mock-runtime tests read the rows exactly as a window receives them (a
//! Rust `Channel` in place of the webview's).

use tauri::ipc::Channel;
use tokio::sync::broadcast::error::RecvError;

use crate::inspector::Inspector;
use crate::live_log::LogItem;
use crate::views::EventView;

/// The most items one message carries.
const BATCH_LIMIT: usize = 500;

/// Starts the stream on its own task.
pub fn spawn(inspector: Inspector, sink: Channel<Vec<LogItem>>) {
    tauri::async_runtime::spawn(run(inspector, sink));
}

async fn run(inspector: Inspector, sink: Channel<Vec<LogItem>>) {
    let mut app_items = inspector.log.subscribe();
    let mut profiles = inspector.watch();
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
            // The first step waits; the next ones take only what is ready now.
            let waiting = batch.is_empty();
            // Biased: a request is forwarded before the event it caused.
            let step = tokio::select! {
                biased;
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
                    Some(event) => Step::Items(vec![inspector.log.event_item(EventView::of(&event))]),
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
                () = std::future::ready(()), if !waiting => Step::Send,
            };
            match step {
                Step::Items(items) => {
                    batch.extend(items);
                    if batch.len() < BATCH_LIMIT {
                        continue;
                    }
                }
                Step::Send => {}
                Step::Switch => {
                    if !send(&sink, &mut batch) {
                        return;
                    }
                    break;
                }
                Step::End => {
                    send(&sink, &mut batch);
                    return;
                }
            }
            if !send(&sink, &mut batch) {
                return;
            }
        }
    }
}

/// What one turn of the stream brought.
enum Step {
    Items(Vec<LogItem>),
    /// Nothing more is ready: send what was gathered.
    Send,
    /// The profile changed or its client is gone: send, then follow the active profile.
    Switch,
    /// The app is ending (or the window's channel closed).
    End,
}

/// Sends the batch (when it has items) as one message; false once the window is gone.
fn send(sink: &Channel<Vec<LogItem>>, batch: &mut Vec<LogItem>) -> bool {
    if batch.is_empty() {
        return true;
    }
    #[cfg(feature = "bench")]
    if crate::bench_stream::one_by_one() {
        return std::mem::take(batch)
            .into_iter()
            .all(|item| sink.send(vec![item]).is_ok());
    }
    sink.send(std::mem::take(batch)).is_ok()
}
