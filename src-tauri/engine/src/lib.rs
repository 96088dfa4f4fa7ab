//! Session Inspector's engine: a GoTrue (Supabase Auth) client and session manager with the
//! semantics of the official Supabase clients, plus the token tools the inspector shows.
//! No Tauri here: the app is a thin shell over this crate.

pub mod auto_refresh;
pub mod client;
pub mod clock;
pub mod config;
mod cooldown;
pub mod envelope;
pub mod error;
pub mod events;
pub mod http;
pub mod import;
mod landed;
pub mod oauth_callback;
pub mod official_clients;
pub mod paste;
pub mod protocol;
pub mod recorder;
pub mod rejection;
pub mod reuse;
pub mod secret;
pub mod session;
pub mod sign_in_methods;
mod single_flight;
pub mod storage;
#[cfg(test)]
mod test_fixtures;
pub mod tokens;

pub use client::otp::{OtpKind, OtpRecipient, OtpSent};
pub use client::{AmrEntry, AssuranceLevel, Factor, MfaChallenge, TotpEnrollment};
pub use client::{AuthClient, Credentials, OAuthCancel, OAuthFlow, Refreshed, SignOutScope};
pub use client::{EmailChangeConfirmation, ResendKind, UserAttributes};
pub use clock::Clock;
pub use config::ClientConfig;
pub use error::AuthError;
pub use events::{AuthEvent, AuthEventKind, Cause, EventStream, RefreshFailure, Subscription};
pub use rejection::RefreshRejection;
pub use secret::Token;
pub use session::{AuthResponse, Session, User};
pub use sign_in_methods::SignInMethods;
pub use storage::{MemoryStore, SessionStore, StorageError};
