//! A GoTrue-compatible Supabase Auth server: the test ground for the session engine and the
//! app's built-in demo backend. It follows GoTrue wherever a client can tell the difference
//! (routes, JSON, error envelopes, rotation and reuse rules) and adds an `/_emulator` control
//! surface for tests. No Tauri here.

pub mod addresses;
pub mod admin;
pub mod cbor;
pub mod clock;
pub mod config;
pub mod db;
pub mod errors;
pub mod flow_state;
mod gateway;
pub mod go_duration;
pub mod hash;
pub mod identity;
pub mod inbox;
pub mod jwk_file;
pub mod jwt;
pub mod linking;
pub mod mailer;
pub mod mfa;
pub mod oauth_server;
pub mod one_time_token;
pub mod pending_changes;
pub mod redirect;
pub mod refresh_token;
pub mod routes;
pub mod state;
pub mod token_revocation;
pub mod totp;
pub mod traffic;
pub mod user_columns;
pub mod webauthn;
pub mod x509;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};
use tower::ServiceExt;

pub use config::{
    Config, DemoUser, RateLimit, RefreshTokenFormat, SessionLimits, SigningAlgorithm,
};
pub use config::{MfaConfig, WebAuthnConfig};
pub use inbox::{InboxKind, InboxMessage};
use routes::Shared;
use state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot open the data file: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("the stored signing key is unusable")]
    BadKey,
    #[error("the signing keys file: {0}")]
    SigningKeys(#[from] jwk_file::KeyFileError),
    #[error("cannot create the demo user: {0}")]
    DemoUser(String),
    #[error("the control token must be at least {MIN_CONTROL_TOKEN} characters")]
    WeakControlToken,
}

/// A running server; stops when `shutdown` is called or when dropped.
pub struct Server {
    addr: SocketAddr,
    state: Shared,
    stop: Option<oneshot::Sender<()>>,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`: the "project URL" a Supabase client is given.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where GoTrue's routes live behind the gateway prefix.
    pub fn auth_url(&self) -> String {
        format!("{}/auth/v1", self.url())
    }

    pub fn anon_key(&self) -> &str {
        &self.state.anon_key
    }

    pub fn service_role_key(&self) -> &str {
        &self.state.service_role_key
    }

    /// The id of the server's own signing key pair, kept with its data: it differs between
    /// two data files, so it names one server's database.
    pub fn key_id(&self) -> &str {
        self.state.keys.ec_key_id()
    }

    /// The token `/_emulator` requires, when one was configured.
    pub fn control_token(&self) -> Option<&str> {
        self.state.config.control_token.as_deref()
    }

    pub fn state(&self) -> &Shared {
        &self.state
    }

    /// Every email and text message the server has sent (the latest `INBOX_CAPACITY`),
    /// oldest first.
    pub fn inbox(&self) -> Vec<InboxMessage> {
        self.state.inbox.all()
    }

    /// The messages sent to one email address or phone number, oldest first.
    pub fn inbox_to(&self, address: &str) -> Vec<InboxMessage> {
        self.state.inbox.to(address)
    }

    /// In process, what `POST /_emulator/sessions/{id}/age` does: the session (by its id as
    /// text) and its refresh tokens made `by` older. False when there is no such session.
    pub fn age_session(&self, session_id: &str, by: std::time::Duration) -> rusqlite::Result<bool> {
        match session_id.parse() {
            Ok(id) => self.state.age_session(id, by),
            Err(_) => Ok(false),
        }
    }

    /// In process, what `DELETE /_emulator/sessions/{id}` does (an id that is not a UUID
    /// names no session: nothing to delete).
    pub fn delete_session(&self, session_id: &str) -> rusqlite::Result<()> {
        match session_id.parse() {
            Ok(id) => self.state.delete_session(id),
            Err(_) => Ok(()),
        }
    }

    /// In process: whether every refresh token of the session (by its id as text) is revoked;
    /// `None` for an unknown session or one without tokens.
    pub fn family_revoked(&self, session_id: &str) -> rusqlite::Result<Option<bool>> {
        match session_id.parse() {
            Ok(id) => self.state.family_revoked(id),
            Err(_) => Ok(None),
        }
    }

    pub fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The shortest control token accepted (an empty one would leave the surface open).
pub const MIN_CONTROL_TOKEN: usize = 32;

/// A fresh random token for `Config::control_token` (32 random bytes, hex).
pub fn new_control_token() -> String {
    hash::random_secret()
}

/// Builds the state: opens the store, loads or creates the signing key, creates the demo user.
/// When the API keys expire: the Supabase CLI's `exp` (2032-11-12).
pub const API_KEY_EXPIRES_AT: i64 = 1_983_812_996;

pub fn build_state(config: Config, base_url: &str) -> Result<Shared, StartError> {
    if config
        .control_token
        .as_ref()
        .is_some_and(|token| token.len() < MIN_CONTROL_TOKEN)
    {
        return Err(StartError::WeakControlToken);
    }
    let db = db::Db::open(config.data_path.as_deref())?;
    let ec_private = db.run(|conn| -> rusqlite::Result<Vec<u8>> {
        if let Some(key) = db::setting(conn, "es256_private")? {
            return Ok(key);
        }
        let key = jwt::Keys::generate_ec_private();
        db::put_setting(conn, "es256_private", &key)?;
        Ok(key)
    })?;
    let jwt_secret = if config.random_jwt_secret {
        db.run(|conn| -> rusqlite::Result<String> {
            if let Some(secret) = db::setting(conn, "jwt_secret")? {
                return Ok(String::from_utf8_lossy(&secret).into_owned());
            }
            let secret = hash::random_secret();
            db::put_setting(conn, "jwt_secret", secret.as_bytes())?;
            Ok(secret)
        })?
    } else {
        config.jwt_secret.clone()
    };
    // A signing key other than the database's P-256 one is kept beside it, by algorithm.
    let signing_private = match config.signing {
        _ if config.signing_keys_path.is_some() => None,
        SigningAlgorithm::Hs256 | SigningAlgorithm::Es256 => None,
        other => Some(db.run(|conn| -> rusqlite::Result<Vec<u8>> {
            let name = format!("{}_private", jwt::alg_name(other).to_lowercase());
            if let Some(key) = db::setting(conn, &name)? {
                return Ok(key);
            }
            let key = jwt::Keys::generate_private(other);
            db::put_setting(conn, &name, &key)?;
            Ok(key)
        })?),
    };
    let keys = match &config.signing_keys_path {
        Some(path) => jwt::Keys::from_file_keys(&jwt_secret, &ec_private, jwk_file::read(path)?),
        None => jwt::Keys::with_signing_key(
            &jwt_secret,
            config.signing,
            &ec_private,
            signing_private.as_deref(),
        ),
    };
    let mut keys = keys.ok_or(StartError::BadKey)?;
    keys.set_secret_kid(config.jwt_key_id.clone());
    // The Supabase CLI's claims (no `iat`, a fixed `exp`): the same secret gives the same keys
    // at every start, so a key saved from an earlier run still passes the gateway, which
    // compares keys as strings as the hosted gateway does.
    let api_key = |role: &str| {
        keys.sign_hs256(&json!({"iss": "supabase-demo", "role": role, "exp": API_KEY_EXPIRES_AT}))
    };
    let (anon_key, service_role_key) = (api_key("anon"), api_key("service_role"));
    let state = Arc::new(AppState {
        issuer: config
            .issuer
            .clone()
            .unwrap_or_else(|| format!("{base_url}/auth/v1")),
        rate_limiter: traffic::RateLimiter::new(config.rate_limit),
        db,
        keys,
        clock: if config.clock_follows_tokio {
            clock::Clock::following_tokio()
        } else {
            clock::Clock::default()
        },
        anon_key,
        service_role_key,
        faults: traffic::Faults::default(),
        outage: traffic::Outage::default(),
        session_policy: std::sync::RwLock::new(config.sessions.clone()),
        requests: traffic::RequestCounts::default(),
        session_locks: traffic::SessionLocks::default(),
        api_external_url: format!("{base_url}/auth/v1"),
        inbox: inbox::Inbox::default(),
        base_url: base_url.to_string(),
        config,
    });
    if let Some(demo) = &state.config.demo_user {
        ensure_user(&state, demo).map_err(|e| StartError::DemoUser(e.to_string()))?;
    }
    Ok(state)
}

fn ensure_user(state: &AppState, demo: &DemoUser) -> rusqlite::Result<()> {
    state.db.run(|conn| {
        if db::user_by_email(conn, &demo.email.to_lowercase())?.is_none() {
            let metadata = json!({"name": "Demo User"});
            let user = state::new_user(
                state,
                &demo.email,
                "",
                Some(&demo.password),
                metadata,
                false,
                true,
            );
            db::insert_user(conn, &user)?;
        }
        Ok(())
    })
}

/// GoTrue's routes at `/` and `/auth/v1`, behind the gateway layers; `/_emulator` beside them.
pub fn router(state: Shared) -> Router {
    let gotrue = routes::gotrue_routes()
        .layer(from_fn(errors::render_errors))
        .layer(from_fn_with_state(state.clone(), gateway::require_api_key))
        .layer(from_fn_with_state(state.clone(), gateway::inject_faults))
        .layer(from_fn_with_state(state.clone(), gateway::count_requests))
        .layer(from_fn_with_state(state.clone(), gateway::server_date));
    Router::new()
        .merge(gotrue.clone())
        .nest("/auth/v1", gotrue)
        .nest(
            "/_emulator",
            routes::emulator::routes()
                .layer(from_fn_with_state(state.clone(), gateway::guard_control))
                .layer(from_fn(errors::render_errors)),
        )
        .nest("/_provider", routes::fake_provider::routes())
        .fallback(routes::not_found)
        .with_state(state)
}

/// Starts the server on `config.bind` (port 0: the OS picks) inside the current tokio runtime.
pub async fn start(config: Config) -> Result<Server, StartError> {
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;
    let state = build_state(config, &format!("http://{addr}"))?;
    let app = router(state.clone());
    let (stop, mut stopped) = oneshot::channel();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                accepted = listener.accept() => {
                    let Ok((stream, peer)) = accepted else { continue };
                    tokio::spawn(serve_connection(app.clone(), stream, peer));
                }
            }
        }
    });
    Ok(Server {
        addr,
        state,
        stop: Some(stop),
    })
}

/// One HTTP/1.1 connection. The `drop` fault notifies `kill`, and the connection is closed
/// without an answer.
async fn serve_connection(app: Router, stream: tokio::net::TcpStream, peer: SocketAddr) {
    let kill = Arc::new(Notify::new());
    let connection = routes::Connection {
        peer,
        kill: kill.clone(),
    };
    let service =
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(connection.clone());
            app.clone().oneshot(request.map(axum::body::Body::new))
        });
    let http =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = http => {}
        _ = kill.notified() => {}
    }
}
