//! Session Inspector's engine: a GoTrue (Supabase Auth) client and session manager with the
//! semantics of the official Supabase clients, plus the token tools the inspector shows.
//! No Tauri here: the app is a thin shell over this crate.

pub mod client;
pub mod config;
pub mod error;
pub mod events;
pub mod http;
pub mod import;
pub mod recorder;
pub mod session;
mod single_flight;
pub mod storage;
pub mod tokens;

pub use client::{AuthClient, Credentials, Refreshed, SignOutScope};
pub use config::ClientConfig;
pub use error::AuthError;
pub use events::{AuthEvent, AuthEventKind, EventStream, Subscription};
pub use session::{AuthResponse, Session, User};
pub use storage::{MemoryStore, SessionStore, StorageError};
