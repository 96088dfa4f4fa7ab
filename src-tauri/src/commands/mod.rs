//! The IPC surface, grouped by domain. Each command is a small adapter; each has a matching
//! permission in `src-tauri/permissions/app.toml`.

pub mod app;
pub mod session;
