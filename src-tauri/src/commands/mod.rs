//! The app's IPC commands: each takes its state, calls one typed operation of a module named
//! for its job, and hands back a view or an `Error`. One permission each (see
//! `src-tauri/permissions/app.toml`). Failures of user actions also go to the live log.

pub mod account;
pub mod app;
pub mod auth;
pub mod identities;
pub mod log;
pub mod mfa;
pub mod playground;
pub mod profile;
pub mod session;
pub mod sign_in;
pub mod timeline;

use crate::error::Error;
use crate::live_log::LogBus;

/// Logs a failed user action before handing the error to the webview.
fn logged<T>(log: &LogBus, operation: &'static str, result: Result<T, Error>) -> Result<T, Error> {
    if let Err(error) = &result {
        log.failure(operation, error);
    }
    result
}
