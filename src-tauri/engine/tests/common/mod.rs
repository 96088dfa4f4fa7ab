//! What several engine test files share: the demo user, the built-in server with a client of
//! it, and a session signed in by a client of its own (a token "held elsewhere", which the
//! client under test never saw).
#![allow(dead_code)]

use std::sync::Arc;

use local_gotrue::{Config, DemoUser, Server};
use session_engine::{AuthClient, ClientConfig, Credentials, MemoryStore, Session};

pub const EMAIL: &str = "demo@example.com";
pub const PASSWORD: &str = "demo-password-1";

/// The built-in server (with the demo user, then `configure`d) and a client of it that keeps
/// its session in memory under `profile`.
pub async fn server_and_client(
    profile: &str,
    configure: impl FnOnce(&mut Config),
) -> (Server, Arc<MemoryStore>, AuthClient) {
    let mut config = Config {
        demo_user: Some(DemoUser {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        }),
        ..Config::default()
    };
    configure(&mut config);
    let server = local_gotrue::start(config).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let client = AuthClient::new(
        ClientConfig::new(server.url(), server.anon_key()),
        store.clone(),
        profile,
    )
    .await
    .unwrap();
    (server, store, client)
}

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
