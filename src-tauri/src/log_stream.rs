//! Streams the live log to a window: for the active profile, the HTTP exchanges made before
//! the window subscribed (start-up's sign-in or restore), then `INITIAL_SESSION` and every
//! event and exchange as it happens, with the app's own items (failures, joins, switches)
//! between them. Follows profile switches; ends when the window's channel closes.
//!
//! Public so that the mock-runtime tests read the rows exactly as a window receives them (a
//! Rust `Channel` in place of the webview's).

use tauri::ipc::Channel;
use tokio::sync::broadcast::error::RecvError;

use crate::inspector::Inspector;
use crate::live_log::LogItem;
use crate::views::EventView;

/// Starts the stream on its own task.
pub fn spawn(inspector: Inspector, sink: Channel<LogItem>) {
    tauri::async_runtime::spawn(run(inspector, sink));
}

async fn run(inspector: Inspector, sink: Channel<LogItem>) {
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
        for exchange in &earlier {
            seen = exchange.id;
            if !send_all(&sink, inspector.log.exchange_items(exchange)) {
                return;
            }
        }
        loop {
            // Biased: a request is forwarded before the event it caused.
            let items = tokio::select! {
                biased;
                exchange = exchanges.recv() => match exchange {
                    Ok(exchange) if exchange.id <= seen => vec![],
                    Ok(exchange) => inspector.log.exchange_items(&exchange),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the live log fell behind the recorder");
                        vec![]
                    }
                    Err(RecvError::Closed) => break,
                },
                event = events.next() => match event {
                    Some(event) => vec![inspector.log.event_item(EventView::of(&event))],
                    None => break,
                },
                item = app_items.recv() => match item {
                    Ok(item) => vec![item],
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the live log fell behind the app's items");
                        vec![]
                    }
                    Err(RecvError::Closed) => return,
                },
                changed = profiles.changed() => match changed {
                    Ok(()) => break,
                    Err(_) => return,
                },
            };
            if !send_all(&sink, items) {
                return;
            }
        }
    }
}

fn send_all(sink: &Channel<LogItem>, items: Vec<LogItem>) -> bool {
    items.into_iter().all(|item| sink.send(item).is_ok())
}
