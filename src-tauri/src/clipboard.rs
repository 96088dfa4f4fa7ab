//! Copy: a token goes from Rust to the system clipboard, never through the webview, marked for
//! clipboard managers to keep out of their history, and is cleared `CLEAR_AFTER` later if the
//! clipboard still holds it (something copied since is left alone), or when the app quits
//! first.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use session_engine::Token;
use tauri::{AppHandle, Runtime};
use tauri_plugin_clipboard_manager::ClipboardExt as _;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::error::Error;

/// How long a copied token stays on the clipboard.
pub const CLEAR_AFTER: Duration = Duration::from_secs(30);

/// What the window is told after a copy.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Copied {
    /// The clipboard is cleared this many seconds from now, if it still holds the token.
    pub clears_in_secs: u64,
}

/// The last token copied, so that quitting before `CLEAR_AFTER` still clears it.
#[derive(Default)]
pub struct LastCopy(std::sync::Mutex<Option<Token>>);

impl LastCopy {
    fn remember(&self, token: Token) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(token);
    }

    /// Clears the clipboard if it still holds the last token copied. Returns whether it did.
    pub fn clear_if_still_there(&self, board: &dyn Board) -> bool {
        let token = self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        token.is_some_and(|token| clear_if_holding(board, &token))
    }
}

/// Clears the clipboard if it holds `token` (something copied since is left alone).
fn clear_if_holding(board: &dyn Board, token: &Token) -> bool {
    let holds = board
        .read()
        .is_some_and(|held| Zeroizing::new(held).as_str() == token.as_str());
    holds && board.clear().is_ok()
}

/// At exit: the clipboard is cleared if it still holds a copied token.
pub fn clear_on_exit<R: Runtime>(app: &AppHandle<R>) {
    use tauri::Manager as _;
    if app
        .state::<LastCopy>()
        .clear_if_still_there(&SystemBoard(app.clone()))
    {
        tracing::info!("the copied token was cleared from the clipboard at exit");
    }
}

/// A system clipboard (the real one through the plugin; a fake in unit tests).
pub trait Board: Send + Sync + 'static {
    /// Writes text marked as secret (kept out of clipboard managers' history).
    fn write_secret(&self, text: &str) -> Result<(), String>;
    fn read(&self) -> Option<String>;
    fn clear(&self) -> Result<(), String>;
}

/// The system clipboard of the app's desktop.
pub struct SystemBoard<R: Runtime>(pub AppHandle<R>);

impl<R: Runtime> Board for SystemBoard<R> {
    fn write_secret(&self, text: &str) -> Result<(), String> {
        self.0
            .clipboard()
            .write_secret(text)
            .map_err(|e| e.to_string())
    }

    fn read(&self) -> Option<String> {
        self.0.clipboard().read_text().ok()
    }

    fn clear(&self) -> Result<(), String> {
        self.0.clipboard().clear().map_err(|e| e.to_string())
    }
}

/// Puts `token` on the clipboard and has it cleared after `after` unless replaced meanwhile.
/// Returns the clearing task (tests wait for it; the app lets it run).
pub fn copy_for_a_while(
    board: Arc<dyn Board>,
    last: &LastCopy,
    token: Token,
    after: Duration,
) -> Result<tokio::task::JoinHandle<bool>, Error> {
    board
        .write_secret(&token)
        .map_err(|why| Error::Clipboard(format!("the token could not be copied ({why})")))?;
    last.remember(token.clone());
    Ok(tokio::spawn(async move {
        tokio::time::sleep(after).await;
        // Clipboard calls block (and must stay off the main thread on Linux).
        tokio::task::spawn_blocking(move || {
            let cleared = clear_if_holding(&*board, &token);
            if cleared {
                tracing::info!("the copied token was cleared from the clipboard");
            }
            cleared
        })
        .await
        .unwrap_or(false)
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct FakeBoard(Mutex<Option<String>>);

    impl Board for FakeBoard {
        fn write_secret(&self, text: &str) -> Result<(), String> {
            *self.0.lock().unwrap() = Some(text.to_string());
            Ok(())
        }
        fn read(&self) -> Option<String> {
            self.0.lock().unwrap().clone()
        }
        fn clear(&self) -> Result<(), String> {
            *self.0.lock().unwrap() = None;
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_token_is_cleared_after_thirty_seconds_not_before() {
        let board = Arc::new(FakeBoard::default());
        let token = Token::from("a-refresh-token");
        let clearing =
            copy_for_a_while(board.clone(), &LastCopy::default(), token, CLEAR_AFTER).unwrap();
        assert_eq!(board.read().as_deref(), Some("a-refresh-token"));
        tokio::time::sleep(CLEAR_AFTER - Duration::from_millis(1)).await;
        assert_eq!(board.read().as_deref(), Some("a-refresh-token"), "not yet");
        assert!(clearing.await.unwrap(), "cleared at 30 s");
        assert_eq!(board.read(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn quitting_before_thirty_seconds_still_clears_the_token() {
        let board = Arc::new(FakeBoard::default());
        let last = LastCopy::default();
        let _clearing = copy_for_a_while(
            board.clone(),
            &last,
            Token::from("a-refresh-token"),
            CLEAR_AFTER,
        )
        .unwrap();
        assert!(last.clear_if_still_there(&*board));
        assert_eq!(board.read(), None);
        assert!(!last.clear_if_still_there(&*board), "once");
    }

    #[tokio::test(start_paused = true)]
    async fn something_copied_since_is_left_alone() {
        let board = Arc::new(FakeBoard::default());
        let token = Token::from("a-refresh-token");
        let clearing =
            copy_for_a_while(board.clone(), &LastCopy::default(), token, CLEAR_AFTER).unwrap();
        board.write_secret("the user's own text").unwrap();
        assert!(!clearing.await.unwrap());
        assert_eq!(board.read().as_deref(), Some("the user's own text"));
    }
}
