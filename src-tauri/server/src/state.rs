//! The server's shared state and the pieces every route uses: time, users as JSON, minting
//! access tokens and starting sessions.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::clock::{from_micros, rfc3339, Clock};
use crate::config::SessionLimits;
use crate::config::{Config, RefreshTokenFormat};
use crate::db::{self, Db, Session, User};
use crate::hash::random_bytes;
use crate::jwt::Keys;
use crate::refresh_token::{generate_legacy, V2Token};
use crate::traffic::{Faults, Outage, RateLimiter, RequestCounts, SessionLocks};

pub struct AppState {
    pub config: Config,
    /// The `iss` claim of access tokens.
    pub issuer: String,
    pub db: Db,
    pub keys: Keys,
    pub clock: Clock,
    pub anon_key: String,
    pub service_role_key: String,
    pub rate_limiter: RateLimiter,
    pub faults: Faults,
    /// While set, GoTrue's routes close every connection unanswered (`/_emulator/outage`).
    pub outage: Outage,
    /// The session timebox and inactivity timeout in force: the configured ones until the
    /// control surface sets others at run time (`/_emulator/sessions-policy`).
    pub session_policy: std::sync::RwLock<SessionLimits>,
    pub requests: RequestCounts,
    pub session_locks: SessionLocks,
    /// GoTrue's `API_EXTERNAL_URL` (`<base url>/auth/v1`): what email links point at.
    pub api_external_url: String,
    /// Every email and text message the server has sent.
    pub inbox: crate::inbox::Inbox,
    /// `http://127.0.0.1:<port>`: where this server answers (the built-in fake OAuth
    /// provider's pages, and GoTrue's `/callback` it sends the browser back to).
    pub base_url: String,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn now_micros(&self) -> i64 {
        self.now().timestamp_micros()
    }

    /// The session limits in force now.
    pub fn session_limits(&self) -> SessionLimits {
        self.session_policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sets the timebox and inactivity timeout for every session from now on (`None`: none);
    /// the single-session rule stays as configured.
    pub fn set_session_policy(&self, timebox: Option<Duration>, inactivity: Option<Duration>) {
        let mut policy = self
            .session_policy
            .write()
            .unwrap_or_else(|p| p.into_inner());
        policy.timebox = timebox;
        policy.inactivity_timeout = inactivity;
    }

    /// Back to the configured session limits.
    pub fn reset_session_policy(&self) {
        *self
            .session_policy
            .write()
            .unwrap_or_else(|p| p.into_inner()) = self.config.sessions.clone();
    }

    /// Moves a session and its refresh tokens `by` into the past (its creation, last refresh
    /// and every token's times), as if that much time had gone by for it alone. False when
    /// there is no such session.
    pub fn age_session(&self, session: Uuid, by: Duration) -> rusqlite::Result<bool> {
        let micros = by.as_micros().min(i64::MAX as u128) as i64;
        self.db.run(|conn| db::age_session(conn, session, micros))
    }

    /// Deletes the session and its refresh tokens, as `DELETE /_emulator/sessions/{id}` does.
    pub fn delete_session(&self, session: Uuid) -> rusqlite::Result<()> {
        self.db.run(|conn| db::delete_session(conn, session))
    }

    /// Whether every refresh token of the session is revoked (its family, as GoTrue's
    /// `RevokeTokenFamily` leaves it). `None` when the session has no tokens.
    pub fn family_revoked(&self, session: Uuid) -> rusqlite::Result<Option<bool>> {
        let tokens = self
            .db
            .run(|conn| db::session_refresh_tokens(conn, session))?;
        Ok((!tokens.is_empty()).then(|| tokens.iter().all(|t| t.revoked)))
    }
}

pub fn is_banned(user: &User, now: i64) -> bool {
    user.banned_until.is_some_and(|until| until > now)
}

/// GoTrue's user object: the always-present fields, and the optional ones only when set.
pub fn user_json(user: &User) -> Value {
    let time = |t: Option<i64>| t.map(|t| rfc3339(from_micros(t)));
    let mut body = json!({
        "id": user.id,
        "aud": user.aud,
        "role": user.role,
        "email": user.email,
        "phone": user.phone,
        "app_metadata": user.app_metadata,
        "user_metadata": user.user_metadata,
        "identities": identities(user),
        "created_at": rfc3339(from_micros(user.created_at)),
        "updated_at": rfc3339(from_micros(user.updated_at)),
        "is_anonymous": user.is_anonymous,
    });
    let confirmed_at = user.email_confirmed_at.or(user.phone_confirmed_at);
    for (key, value) in [
        ("email_confirmed_at", time(user.email_confirmed_at)),
        ("phone_confirmed_at", time(user.phone_confirmed_at)),
        ("confirmed_at", time(confirmed_at)),
        ("last_sign_in_at", time(user.last_sign_in_at)),
        ("banned_until", time(user.banned_until)),
        ("invited_at", time(user.invited_at)),
        (
            "email_change_sent_at",
            time(user.pending.email_change_sent_at),
        ),
        (
            "phone_change_sent_at",
            time(user.pending.phone_change_sent_at),
        ),
        (
            "reauthentication_sent_at",
            time(user.pending.reauthentication_sent_at),
        ),
        ("deleted_at", time(user.deleted_at)),
    ] {
        if let Some(value) = value {
            body[key] = json!(value);
        }
    }
    // GoTrue's `new_email` and `new_phone` (`omitempty`): the address a change waits for.
    for (key, value) in [
        ("new_email", &user.pending.email_change),
        ("new_phone", &user.pending.phone_change),
    ] {
        if !value.is_empty() {
            body[key] = json!(value);
        }
    }
    // GoTrue omits `factors` when the user has none (`omitempty`).
    if !user.factors.is_empty() {
        body["factors"] = json!(user
            .factors
            .iter()
            .map(crate::mfa::factor_json)
            .collect::<Vec<_>>());
    }
    body
}

/// Email users have one `email` identity (derived, not stored) unless their providers say
/// otherwise (a user created by an OAuth sign-in); the external identities follow, oldest
/// first. Anonymous users have none.
fn identities(user: &User) -> Value {
    let external = user
        .identities
        .iter()
        .map(crate::identity::Identity::to_json);
    if user.is_anonymous || user.email.is_empty() || !has_email_identity(user) {
        return Value::Array(external.collect());
    }
    let at = rfc3339(from_micros(user.created_at));
    let mut list = vec![json!({
        "identity_id": Uuid::new_v5(&user.id, b"email"),
        "id": user.id,
        "user_id": user.id,
        "identity_data": {
            "email": user.email,
            "email_verified": user.email_confirmed_at.is_some(),
            "phone_verified": false,
            "sub": user.id,
        },
        "provider": "email",
        "last_sign_in_at": user.last_sign_in_at.map(|t| rfc3339(from_micros(t))).unwrap_or(at.clone()),
        "created_at": at,
        "updated_at": rfc3339(from_micros(user.updated_at)),
        "email": user.email,
    })];
    list.extend(external);
    Value::Array(list)
}

/// Whether the user has the derived `email` identity: users made before identities were
/// kept have no `providers`, or list `email` in them.
pub fn has_email_identity(user: &User) -> bool {
    match user.app_metadata["providers"].as_array() {
        Some(providers) => providers.iter().any(|p| p == "email"),
        None => true,
    }
}

/// An access token with exactly GoTrue's claims; returns it with its `exp`.
pub fn mint_access_token(
    state: &AppState,
    user: &User,
    session: &Session,
    now: DateTime<Utc>,
) -> (String, i64) {
    let iat = now.timestamp();
    let exp = iat + state.config.jwt_expiry.as_secs() as i64;
    let claims = json!({
        "iss": state.issuer,
        "sub": user.id,
        "aud": user.aud,
        "exp": exp,
        "iat": iat,
        "email": user.email,
        "phone": user.phone,
        "app_metadata": user.app_metadata,
        "user_metadata": user.user_metadata,
        "role": user.role,
        "aal": session.aal,
        "amr": session.amr,
        "session_id": session.id,
        "is_anonymous": user.is_anonymous,
    });
    (state.keys.sign(&claims), exp)
}

pub fn token_response(
    state: &AppState,
    user: &User,
    session: &Session,
    refresh_token: &str,
) -> Value {
    let now = state.now();
    let (access_token, expires_at) = mint_access_token(state, user, session, now);
    json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": expires_at - now.timestamp(),
        "expires_at": expires_at,
        "refresh_token": refresh_token,
        "user": user_json(user),
    })
}

/// Creates a session for `user` signed in by `method`, with its first refresh token.
pub fn start_session(
    conn: &Connection,
    state: &AppState,
    user: &User,
    method: &str,
    oauth_client_id: Option<String>,
) -> rusqlite::Result<(Session, String)> {
    let now = state.now();
    let micros = now.timestamp_micros();
    let v2 = state.config.refresh_token_format == RefreshTokenFormat::V2;
    let session = Session {
        id: Uuid::new_v4(),
        user_id: user.id,
        created_at: micros,
        updated_at: micros,
        refreshed_at: None,
        not_after: None,
        aal: "aal1".into(),
        amr: json!([{"method": method, "timestamp": now.timestamp()}]),
        hmac_key: v2.then(|| random_bytes::<32>().to_vec()),
        counter: 0,
        oauth_client_id,
    };
    db::insert_session(conn, &session)?;
    let token = match &session.hmac_key {
        Some(key) => V2Token::encode(session.id, 0, key),
        None => {
            let token = generate_legacy();
            db::insert_refresh_token(conn, &token, user.id, session.id, None, micros)?;
            token
        }
    };
    db::record_sign_in(conn, user.id, micros)?;
    Ok((session, token))
}

/// A new user as the signup and control routes create them.
pub fn new_user(
    state: &AppState,
    email: &str,
    phone: &str,
    password: Option<&str>,
    metadata: Value,
    anonymous: bool,
    confirmed: bool,
) -> User {
    let now = state.now_micros();
    let app_metadata = if anonymous {
        json!({})
    } else if email.is_empty() {
        json!({"provider": "phone", "providers": ["phone"]})
    } else {
        json!({"provider": "email", "providers": ["email"]})
    };
    User {
        id: Uuid::new_v4(),
        aud: "authenticated".into(),
        role: "authenticated".into(),
        email: email.to_lowercase(),
        phone: phone.to_string(),
        password_hash: password.map(crate::hash::hash_password),
        email_confirmed_at: (confirmed && !email.is_empty()).then_some(now),
        phone_confirmed_at: (confirmed && !phone.is_empty()).then_some(now),
        app_metadata,
        user_metadata: if metadata.is_object() {
            metadata
        } else {
            json!({})
        },
        is_anonymous: anonymous,
        banned_until: None,
        created_at: now,
        updated_at: now,
        last_sign_in_at: None,
        invited_at: None,
        deleted_at: None,
        factors: Vec::new(),
        identities: Vec::new(),
        pending: Default::default(),
    }
}
