//! GoTrue's routes (served with and without the `/auth/v1` prefix) and the `/_emulator`
//! control surface.

pub mod account;
pub mod admin;
pub mod change_verify;
pub mod disabled;
pub mod emulator;
pub mod fake_provider;
pub mod id_token;
pub mod identities;
pub mod info;
pub mod mfa;
pub mod mfa_webauthn;
pub mod oauth;
pub mod oauth_clients;
pub mod otp;
pub mod reauthenticate;
pub mod resend;
pub mod token;
pub mod user_update;
pub mod verify;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::db::{self, Session, User};
use crate::errors::ApiError;
use crate::jwt::VerifyError;
use crate::state::{is_banned, AppState};

pub type Shared = Arc<AppState>;

/// GoTrue's body limit.
pub const MAX_BODY: usize = 1 << 20;

pub fn gotrue_routes() -> Router<Shared> {
    Router::new()
        .route("/token", post(token::token))
        .route("/signup", post(account::signup))
        .route("/logout", post(account::logout))
        .route("/user", get(account::user).put(user_update::update_user))
        .route("/reauthenticate", get(reauthenticate::reauthenticate))
        .route("/resend", post(resend::resend))
        .route("/settings", get(info::settings))
        .route("/health", get(info::health))
        .route("/.well-known/jwks.json", get(info::jwks))
        .route("/otp", post(otp::otp))
        .route("/magiclink", post(otp::magic_link))
        .route("/recover", post(otp::recover))
        .route("/verify", get(verify::verify_get).post(verify::verify_post))
        .merge(mfa::routes())
        .merge(admin::routes())
        .merge(oauth_clients::routes())
        .merge(disabled::routes())
        .merge(identities::routes())
        .route("/authorize", get(oauth::authorize))
        .route("/callback", get(oauth::callback).post(oauth::callback))
}

/// A query parameter, decoded leniently (GoTrue's `FormValue` never fails a request over a
/// badly encoded query string).
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Unknown routes answer in GoTrue's envelope too.
pub async fn not_found(headers: HeaderMap) -> axum::response::Response {
    let version =
        crate::errors::ApiVersion::from_header(headers.get(crate::errors::API_VERSION_HEADER));
    crate::errors::render(
        &ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not Found"),
        version,
        &Uuid::new_v4().to_string(),
    )
}

/// Per-connection facts the accept loop attaches to each request.
#[derive(Clone)]
pub struct Connection {
    pub peer: SocketAddr,
    /// Notified to close the connection without an answer (the `drop` fault).
    pub kill: Arc<tokio::sync::Notify>,
}

pub fn peer_ip(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<Connection>()
        .map(|c| c.peer.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// Reads the body within GoTrue's limit and parses it as JSON, whatever the content type
/// says (GoTrue ignores it too). An empty body is `bad_json`, as Go's `json.Unmarshal` of
/// nothing is: an empty `POST /signup` is not an anonymous sign-in.
pub async fn json_body<T: DeserializeOwned>(body: Body) -> Result<T, ApiError> {
    let bytes = read_body(body).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_json("unexpected end of JSON input"));
    }
    serde_json::from_slice(&bytes).map_err(ApiError::bad_json)
}

/// The control surface's reading: as `json_body`, but an empty body is `{}`.
pub async fn json_body_or_empty<T: DeserializeOwned>(body: Body) -> Result<T, ApiError> {
    let bytes = read_body(body).await?;
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &bytes
    };
    serde_json::from_slice(bytes).map_err(ApiError::bad_json)
}

async fn read_body(body: Body) -> Result<axum::body::Bytes, ApiError> {
    to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_entity_too_large",
            "Request Entity Too Large",
        )
    })
}

/// Who a Bearer access token belongs to, checked as GoTrue's protected routes check it.
pub struct Authenticated {
    pub user: User,
    pub session: Option<Session>,
}

/// GoTrue's `extractBearerToken` then `parseJWTClaims`: the claims of the request's Bearer
/// token, verified by the server's keys; its 401 and 403 answers.
pub fn bearer_claims(state: &AppState, headers: &HeaderMap) -> Result<serde_json::Value, ApiError> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "no_authorization",
            "This endpoint requires a valid Bearer token",
        )
    };
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let mut words = header.split_whitespace();
    let token = match (words.next(), words.next(), words.next()) {
        (Some(scheme), Some(token), None) if scheme.eq_ignore_ascii_case("bearer") => token,
        _ => return Err(unauthorized()),
    };
    state
        .keys
        .verify(token, state.now().timestamp())
        .map_err(|error| {
            let detail = match error {
                VerifyError::Malformed => "token is malformed",
                VerifyError::BadSignature => "signature is invalid",
                VerifyError::Expired => "token has invalid claims: token is expired",
            };
            ApiError::new(
                StatusCode::FORBIDDEN,
                "bad_jwt",
                format!("invalid JWT: unable to parse or verify signature, {detail}"),
            )
        })
        .and_then(|claims| {
            // GoTrue decodes the claims into `AccessTokenClaims`: a claim it reads as a string
            // that holds another JSON type (null aside) makes the token malformed.
            let mistyped = ["sub", "session_id", "role"]
                .iter()
                .any(|name| !matches!(claims[*name], Value::Null | Value::String(_)));
            if mistyped {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "bad_jwt",
                    "invalid JWT: unable to parse or verify signature, token is malformed: could not JSON decode claim",
                ));
            }
            Ok(claims)
        })
}

pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Authenticated, ApiError> {
    let claims = bearer_claims(state, headers)?;
    let authenticated = load_user_or_session(state, &claims)?;
    if is_banned(&authenticated.user, state.now_micros()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "user_banned",
            "User is banned",
        ));
    }
    Ok(authenticated)
}

/// GoTrue's `maybeLoadUserOrSession`: the user of the `sub` claim, then the session of the
/// `session_id` claim when it names one (see `admin::claims_session_id`), in that order.
pub fn load_user_or_session(
    state: &AppState,
    claims: &serde_json::Value,
) -> Result<Authenticated, ApiError> {
    let forbidden = |code, message: &str| ApiError::new(StatusCode::FORBIDDEN, code, message);
    let sub = claims["sub"].as_str().unwrap_or_default();
    if sub.is_empty() {
        return Err(forbidden("bad_jwt", "invalid claim: missing sub claim"));
    }
    let user_id = Uuid::parse_str(sub)
        .map_err(|_| ApiError::bad_request("bad_jwt", "invalid claim: sub claim must be a UUID"))?;
    let session_id = crate::admin::claims_session_id(claims);
    state.db.run(|conn| {
        let user = db::user_by_id(conn, user_id)?.ok_or_else(|| {
            forbidden(
                "user_not_found",
                "User from sub claim in JWT does not exist",
            )
        })?;
        let session = match session_id {
            Some(id) => {
                let id = Uuid::parse_str(id).map_err(|_| {
                    forbidden("bad_jwt", "invalid claim: session_id claim must be a UUID")
                })?;
                Some(db::session_by_id(conn, id)?.ok_or_else(|| {
                    forbidden(
                        "session_not_found",
                        "Session from session_id claim in JWT does not exist",
                    )
                })?)
            }
            None => None,
        };
        Ok(Authenticated { user, session })
    })
}
