//! What several engine test files share: the demo user and a session signed in by a client of
//! its own (a token "held elsewhere", which the client under test never saw).
#![allow(dead_code)]

use std::sync::Arc;

use local_gotrue::Server;
use session_engine::{AuthClient, ClientConfig, Credentials, MemoryStore, Session};

pub const EMAIL: &str = "demo@example.com";
pub const PASSWORD: &str = "demo-password-1";

/// A session of the demo user, signed in by another client against `server`.
pub async fn signed_in_elsewhere(server: &Server) -> Session {
    let other = AuthClient::new(
        ClientConfig::new(server.url(), server.anon_key()),
        Arc::new(MemoryStore::new()),
        "other",
    )
    .await
    .unwrap();
    other
        .sign_in_with_password(Credentials::Email {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap()
        .session
}
