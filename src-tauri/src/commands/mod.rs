//! The app's IPC commands: thin adapters over the engine, one permission each (see
//! `permissions/app.toml`).

pub mod app;
pub mod auth;
pub mod profile;
pub mod session;
