//! Signing in and out, and the user: password, anonymous and sign-up sign-ins, adopting a
//! session held elsewhere (`set_session`), `GET`/`PUT /user`, and `POST /logout` with its
//! scopes. Calls made with the current session load it first as `get_session` does (auth-js's
//! `_useSession`), so an expired access token is refreshed before it is sent.

use reqwest::Method;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{json, Value};

use super::AuthClient;
use crate::error::AuthError;
use crate::events::AuthEventKind;
use crate::http::Call;
use crate::session::{session_from_token_response, user_from_body, AuthResponse, Session, User};

/// The `scope` of a sign-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum SignOutScope {
    /// Every session of the user (the default, as in the Supabase clients).
    Global,
    /// This session only.
    Local,
    /// Every other session; this one stays.
    Others,
}

impl SignOutScope {
    pub fn as_str(self) -> &'static str {
        match self {
            SignOutScope::Global => "global",
            SignOutScope::Local => "local",
            SignOutScope::Others => "others",
        }
    }
}

/// How a password sign-in names the user. The password is wiped from memory when dropped and
/// never printed (`SecretString`'s Debug is redacted, and so is this type's).
#[derive(Clone)]
pub enum Credentials {
    Email {
        email: String,
        password: SecretString,
    },
    Phone {
        phone: String,
        password: SecretString,
    },
}

impl Credentials {
    /// An email and password as a person typed them: the email trimmed, neither empty.
    pub fn email(email: &str, password: &str) -> Result<Credentials, AuthError> {
        let email = email.trim();
        if email.is_empty() || password.is_empty() {
            return Err(AuthError::InvalidInput(
                "Enter both an email address and a password.".into(),
            ));
        }
        Ok(Credentials::Email {
            email: email.to_string(),
            password: password.into(),
        })
    }
}

/// Never the password.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Email { email, .. } => f
                .debug_struct("Email")
                .field("email", email)
                .finish_non_exhaustive(),
            Credentials::Phone { phone, .. } => f
                .debug_struct("Phone")
                .field("phone", phone)
                .finish_non_exhaustive(),
        }
    }
}

impl AuthClient {
    /// Adopts a session held elsewhere: an expired access token is refreshed
    /// (`TOKEN_REFRESHED`); a valid one is checked with `GET /user` (`SIGNED_IN`).
    pub async fn set_session(
        &self,
        access_token: &str,
        refresh_token: &str,
    ) -> Result<AuthResponse, AuthError> {
        let _ = self.initialize().await;
        let (access_token, refresh_token) = (access_token.trim(), refresh_token.trim());
        if access_token.is_empty() || refresh_token.is_empty() {
            return Err(AuthError::SessionMissing);
        }
        let decoded = crate::tokens::decode_jwt(access_token).map_err(|e| {
            AuthError::InvalidInput(format!("the access token cannot be read: {e}"))
        })?;
        let expires_at = decoded
            .expires_at()
            .ok_or_else(|| AuthError::InvalidInput("the access token has no exp claim".into()))?;
        if !crate::session::is_plausible_unix_secs(expires_at) {
            return Err(AuthError::InvalidInput(format!(
                "the access token's exp ({expires_at}) is not a plausible time"
            )));
        }
        let now = self.now_secs();
        if expires_at <= now {
            return self
                .call_refresh_token(
                    refresh_token,
                    super::refresh::Caller::Automatic,
                    super::refresh::TokenSource::Given,
                    crate::events::Cause::SetSession,
                )
                .await
                .map(|r| r.response);
        }
        let (user, exchange_id) = self.fetch_user(access_token).await?;
        let session = Session {
            access_token: access_token.into(),
            token_type: "bearer".into(),
            expires_in: expires_at - now,
            expires_at,
            refresh_token: refresh_token.into(),
            user: user.clone(),
            provider_token: None,
            provider_refresh_token: None,
        };
        self.adopt(
            session.clone(),
            AuthEventKind::SignedIn,
            exchange_id,
            crate::events::Cause::SignIn,
        )
        .await?;
        Ok(AuthResponse { user, session })
    }

    pub async fn sign_in_with_password(
        &self,
        credentials: Credentials,
    ) -> Result<AuthResponse, AuthError> {
        let body = match &credentials {
            Credentials::Email { email, password } => {
                json!({"email": email, "password": password.expose_secret()})
            }
            Credentials::Phone { phone, password } => {
                json!({"phone": phone, "password": password.expose_secret()})
            }
        };
        let call = Call {
            method: Method::POST,
            path: "/token",
            query: &[("grant_type", "password")],
            body: Some(&body),
            bearer: None,
        };
        self.sign_in(call).await
    }

    /// `POST /signup` with neither email nor phone.
    pub async fn sign_in_anonymously(&self) -> Result<AuthResponse, AuthError> {
        let body = json!({});
        self.sign_in(Call {
            method: Method::POST,
            path: "/signup",
            query: &[],
            body: Some(&body),
            bearer: None,
        })
        .await
    }

    /// Signs up; with autoconfirm the answer is a session (`SIGNED_IN`), otherwise the user.
    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        data: Value,
    ) -> Result<(User, Option<Session>), AuthError> {
        let _ = self.initialize().await;
        let body = json!({"email": email, "password": password, "data": data});
        let answer = self
            .inner
            .http
            .send(Call {
                method: Method::POST,
                path: "/signup",
                query: &[],
                body: Some(&body),
                bearer: None,
            })
            .await?;
        match session_from_token_response(&answer.body, self.now_secs()) {
            Ok(session) => {
                self.adopt(
                    session.clone(),
                    AuthEventKind::SignedIn,
                    Some(answer.exchange_id),
                    crate::events::Cause::SignIn,
                )
                .await?;
                Ok((session.user.clone(), Some(session)))
            }
            Err(AuthError::SessionMissing) => Ok((user_from_body(&answer.body)?, None)),
            Err(error) => Err(error),
        }
    }

    async fn sign_in(&self, call: Call<'_>) -> Result<AuthResponse, AuthError> {
        let _ = self.initialize().await;
        let answer = self.inner.http.send(call).await?;
        let session = session_from_token_response(&answer.body, self.now_secs())?;
        self.adopt(
            session.clone(),
            AuthEventKind::SignedIn,
            Some(answer.exchange_id),
            crate::events::Cause::SignIn,
        )
        .await?;
        Ok(AuthResponse {
            user: session.user.clone(),
            session,
        })
    }

    /// `GET /user` with `jwt`, or the current access token (refreshed first when it is
    /// within the refresh margin). The server saying the session is gone ends the local
    /// session too (`SIGNED_OUT`), as auth-js does.
    pub async fn get_user(&self, jwt: Option<&str>) -> Result<User, AuthError> {
        let own = jwt.is_none();
        let token = match jwt {
            Some(jwt) => jwt.trim().into(),
            None => self
                .session_for_call()
                .await?
                .map(|s| s.access_token)
                .ok_or(AuthError::SessionMissing)?,
        };
        match self.fetch_user(&token).await {
            Ok((user, _)) => Ok(user),
            Err(error) if error.code() == Some("session_not_found") => {
                if own {
                    self.end_session(Some("session_not_found".into()), false)
                        .await;
                }
                Err(AuthError::SessionMissing)
            }
            Err(error) => Err(error),
        }
    }

    pub(super) async fn fetch_user(
        &self,
        access_token: &str,
    ) -> Result<(User, Option<u64>), AuthError> {
        let read = async {
            let answer = self
                .inner
                .http
                .send(Call {
                    method: Method::GET,
                    path: "/user",
                    query: &[],
                    body: None,
                    bearer: Some(access_token),
                })
                .await?;
            Ok((user_from_body(&answer.body)?, Some(answer.exchange_id)))
        };
        let key = crate::tokens::fingerprint(access_token);
        self.inner.user_reads.run(&key, read).await.0
    }

    /// `PUT /user` with new user metadata, with the current session (refreshed first when its
    /// access token is within the refresh margin); its user is updated (`USER_UPDATED`).
    pub async fn update_user_metadata(&self, data: Value) -> Result<User, AuthError> {
        self.update_user(super::UserAttributes {
            data: Some(data),
            ..Default::default()
        })
        .await
    }

    /// `POST /logout?scope=…` with the current session, refreshed first when its access token
    /// is within the refresh margin: an expired one would get 403 and leave the server session
    /// alive. 401, 403 and 404 from the server are ignored, as auth-js does. For global and
    /// local the local session is removed whatever happens and `SIGNED_OUT` always reaches
    /// the subscribers, once (a refresh that failed for good has already said it). A refresh
    /// that failed otherwise is returned after the local sign-out: the server session may
    /// still be alive. (auth-js returns that error and keeps the session; the inspector's
    /// user asked to sign out, so it goes.)
    pub async fn sign_out(&self, scope: SignOutScope) -> Result<(), AuthError> {
        let had = self.current_session().is_some();
        let mut failure = None;
        match self.session_for_call().await {
            Ok(Some(session)) => {
                let call = Call {
                    method: Method::POST,
                    path: "/logout",
                    query: &[("scope", scope.as_str())],
                    body: None,
                    bearer: Some(&session.access_token),
                };
                match self.inner.http.send(call).await {
                    Ok(_) => {}
                    Err(AuthError::Api {
                        status: 401 | 403 | 404,
                        ..
                    }) => {}
                    Err(error) => failure = Some(error),
                }
            }
            Ok(None) => {}
            // A refresh token the server refused for good has no server session left to end:
            // signing out here is all there is to do, and no failure to report.
            Err(error) if error.ends_session() => {}
            Err(error) => failure = Some(error),
        }
        if scope != SignOutScope::Others {
            let already_said = had && self.current_session().is_none();
            self.end_session(Some(format!("sign_out:{}", scope.as_str())), !already_said)
                .await;
        }
        failure.map_or(Ok(()), Err)
    }

    /// The session a call on the user's behalf uses: after start-up, loaded as `get_session`
    /// loads it.
    pub(super) async fn session_for_call(&self) -> Result<Option<Session>, AuthError> {
        let _ = self.initialize().await;
        self.load_session().await
    }
}
