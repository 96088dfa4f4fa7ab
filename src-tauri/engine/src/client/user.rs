//! Changing the signed-in user as auth-js's `updateUser`, `reauthenticate`, `resend` and
//! `resetPasswordForEmail` do: `PUT /user` (email, phone, password with its reauthentication
//! nonce, metadata), `GET /reauthenticate`, `POST /resend`, `POST /recover`, and confirming an
//! email change with the code or link GoTrue sent (`POST /verify`, type `email_change`).
//!
//! Emailed links are asked for in the implicit flow, as the rest of the engine's email sign-ins
//! are (no `code_challenge`): the links are pasted back into the inspector, not opened by it.

use reqwest::Method;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{json, Map, Value};

use super::AuthClient;
use crate::error::AuthError;
use crate::events::AuthEventKind;
use crate::http::Call;
use crate::session::{session_from_token_response, user_from_body, AuthResponse, Session, User};

/// What `update_user` changes; `None` leaves a field alone. The password and the nonce are
/// never printed.
#[derive(Clone, Default)]
pub struct UserAttributes {
    /// A new email: GoTrue sends confirmation mail (to both addresses with secure email
    /// change on) and reports it as `new_email` until confirmed.
    pub email: Option<String>,
    /// A new phone: a code by SMS unless the project confirms phones itself.
    pub phone: Option<String>,
    pub password: Option<SecretString>,
    /// The code `reauthenticate` sent, for projects that require it for a password change.
    pub nonce: Option<SecretString>,
    /// The user's current password, for projects that require it for a new one (GoTrue's
    /// `SECURITY_UPDATE_PASSWORD_REQUIRE_CURRENT_PASSWORD`, auth-js's `current_password`).
    pub current_password: Option<SecretString>,
    /// Merged into `user_metadata` (a `null` value removes its key).
    pub data: Option<Value>,
}

impl std::fmt::Debug for UserAttributes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<SecretString>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("UserAttributes")
            .field("email", &self.email)
            .field("phone", &self.phone)
            .field("password", &hidden(&self.password))
            .field("nonce", &hidden(&self.nonce))
            .field("current_password", &hidden(&self.current_password))
            .field("data", &self.data)
            .finish()
    }
}

impl UserAttributes {
    /// The `PUT /user` body, as auth-js's `updateUser` sends it.
    fn body(&self) -> Value {
        let mut body = Map::new();
        if let Some(email) = &self.email {
            body.insert("email".into(), json!(email.trim()));
        }
        if let Some(phone) = &self.phone {
            body.insert("phone".into(), json!(phone.trim()));
        }
        if let Some(password) = &self.password {
            body.insert("password".into(), json!(password.expose_secret()));
        }
        if let Some(nonce) = &self.nonce {
            body.insert("nonce".into(), json!(nonce.expose_secret().trim()));
        }
        if let Some(current) = &self.current_password {
            body.insert("current_password".into(), json!(current.expose_secret()));
        }
        if let Some(data) = &self.data {
            body.insert("data".into(), data.clone());
        }
        Value::Object(body)
    }
}

/// What `POST /resend` sends again (GoTrue's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendKind {
    /// The sign-up confirmation, to an email.
    Signup,
    /// The pending email change's messages; the address is the user's current email.
    EmailChange,
    /// The phone confirmation code.
    Sms,
    /// The pending phone change's code; the number is the user's current phone.
    PhoneChange,
}

impl ResendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResendKind::Signup => "signup",
            ResendKind::EmailChange => "email_change",
            ResendKind::Sms => "sms",
            ResendKind::PhoneChange => "phone_change",
        }
    }

    fn address_key(self) -> &'static str {
        match self {
            ResendKind::Signup | ResendKind::EmailChange => "email",
            ResendKind::Sms | ResendKind::PhoneChange => "phone",
        }
    }
}

/// The outcome of confirming an email change.
#[derive(Debug, Clone)]
pub enum EmailChangeConfirmation {
    /// One of the two addresses is confirmed; GoTrue's message asks for the other one. No
    /// session changes (auth-js answers `{ user: null, session: null }`).
    FirstOfTwo { message: String },
    /// The change is applied: the new session (adopted, `SIGNED_IN`) carries the new email.
    Applied(Box<AuthResponse>),
}

impl AuthClient {
    /// `PUT /user` with the current session (refreshed first when its access token is within
    /// the refresh margin); the stored session's user becomes the answer (`USER_UPDATED`), as
    /// auth-js's `updateUser` does. A pending email or phone change shows in the user's
    /// `new_email` / `new_phone`.
    pub async fn update_user(&self, attributes: UserAttributes) -> Result<User, AuthError> {
        let session = self
            .session_for_call()
            .await?
            .ok_or(AuthError::SessionMissing)?;
        let body = attributes.body();
        let call = Call {
            method: Method::PUT,
            path: "/user",
            query: &[],
            body: Some(&body),
            bearer: Some(&session.access_token),
        };
        let answer = self.inner.http.send(call).await?;
        let user = user_from_body(&answer.body)?;
        let updated = Session {
            user: user.clone(),
            ..session
        };
        self.adopt(
            updated,
            AuthEventKind::UserUpdated,
            Some(answer.exchange_id),
            crate::events::Cause::UserUpdate,
        )
        .await?;
        Ok(user)
    }

    /// A new email for the signed-in user (`PUT /user {email}`): GoTrue mails the confirmation
    /// (to the new address and, with secure email change, to the current one); the answer's
    /// `new_email` shows it pending.
    pub async fn change_email(&self, email: &str) -> Result<User, AuthError> {
        let email = email.trim();
        if !email.contains('@') {
            return Err(AuthError::InvalidInput(
                "Enter the new email address.".into(),
            ));
        }
        self.update_user(UserAttributes {
            email: Some(email.to_string()),
            ..UserAttributes::default()
        })
        .await
    }

    /// A new password for the signed-in user (`PUT /user {password, nonce?,
    /// current_password?}`): the nonce for projects that ask for reauthentication, the current
    /// password for projects that require it. Blank extras are not sent.
    pub async fn change_password(
        &self,
        password: SecretString,
        nonce: Option<SecretString>,
        current_password: Option<SecretString>,
    ) -> Result<User, AuthError> {
        // An empty password is never sent: GoTrue would read it as "no change" on some
        // versions and as a weak password on others.
        if password.expose_secret().is_empty() {
            return Err(AuthError::InvalidInput("Enter the new password.".into()));
        }
        let nonce = nonce.filter(|n| !n.expose_secret().trim().is_empty());
        let current_password = current_password.filter(|p| !p.expose_secret().is_empty());
        self.update_user(UserAttributes {
            password: Some(password),
            nonce,
            current_password,
            ..UserAttributes::default()
        })
        .await
    }

    /// `POST /resend {type: email_change}` for the signed-in user: GoTrue finds the pending
    /// change by the current address and sends its messages again.
    pub async fn resend_email_change(&self) -> Result<(), AuthError> {
        // No bearer goes with it, so the session is not refreshed first.
        let _ = self.initialize().await;
        let session = self.current_session().ok_or(AuthError::SessionMissing)?;
        self.resend(ResendKind::EmailChange, &session.user.email)
            .await
    }

    /// `GET /reauthenticate`: GoTrue sends the signed-in user a nonce (by email, or SMS for a
    /// phone-only user) for `UserAttributes::nonce`.
    pub async fn reauthenticate(&self) -> Result<(), AuthError> {
        let session = self
            .session_for_call()
            .await?
            .ok_or(AuthError::SessionMissing)?;
        let call = Call {
            method: Method::GET,
            path: "/reauthenticate",
            query: &[],
            body: None,
            bearer: Some(&session.access_token),
        };
        self.inner.http.send(call).await?;
        tracing::info!("reauthentication nonce requested");
        Ok(())
    }

    /// `POST /resend` of `kind` to `address` (an email for `Signup`/`EmailChange`, a phone
    /// number for `Sms`/`PhoneChange`). GoTrue answers the same whether or not anything was
    /// pending; a resend too soon is its 429.
    pub async fn resend(&self, kind: ResendKind, address: &str) -> Result<(), AuthError> {
        let address = address.trim();
        if address.is_empty() {
            return Err(AuthError::InvalidInput(
                "You must provide either an email or phone number.".into(),
            ));
        }
        let _ = self.initialize().await;
        let body = json!({"type": kind.as_str(), kind.address_key(): address});
        self.inner
            .http
            .send(Call {
                method: Method::POST,
                path: "/resend",
                query: &[],
                body: Some(&body),
                bearer: None,
            })
            .await?;
        tracing::info!(kind = kind.as_str(), "resend requested");
        Ok(())
    }

    /// `POST /recover`: GoTrue mails a password-reset link (and code) to `email`, answering
    /// the same for unknown addresses. `redirect_to` is where the link sends the browser.
    pub async fn reset_password_for_email(
        &self,
        email: &str,
        redirect_to: Option<&str>,
    ) -> Result<(), AuthError> {
        let email = email.trim();
        if email.is_empty() {
            return Err(AuthError::InvalidInput("Enter an email address.".into()));
        }
        let _ = self.initialize().await;
        let body = json!({"email": email});
        let query: Vec<(&str, &str)> = redirect_to
            .map(|url| vec![("redirect_to", url)])
            .unwrap_or_default();
        self.inner
            .http
            .send(Call {
                method: Method::POST,
                path: "/recover",
                query: &query,
                body: Some(&body),
                bearer: None,
            })
            .await?;
        tracing::info!("password reset requested");
        Ok(())
    }

    /// `POST /verify` type `email_change` with the code sent to `email` (either address).
    pub async fn confirm_email_change_code(
        &self,
        email: &str,
        code: &str,
    ) -> Result<EmailChangeConfirmation, AuthError> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.is_empty() || email.trim().is_empty() {
            return Err(AuthError::InvalidInput(
                "Enter the address the code was sent to and the code.".into(),
            ));
        }
        let body = json!({"email": email.trim(), "token": code, "type": "email_change"});
        self.confirm_email_change(&body).await
    }

    /// The same with a pasted email-change link (this project's only, as `verify_email_link`).
    pub async fn confirm_email_change_link(
        &self,
        link: &str,
    ) -> Result<EmailChangeConfirmation, AuthError> {
        let (url, token_hash, kind) = super::otp::read_verify_link(link)?;
        if kind != "email_change" {
            return Err(AuthError::InvalidInput(format!(
                "This is a {kind} link, not an email-change link."
            )));
        }
        self.check_link_is_ours(&url)?;
        let body = json!({"token_hash": token_hash, "type": "email_change"});
        self.confirm_email_change(&body).await
    }

    async fn confirm_email_change(
        &self,
        body: &Value,
    ) -> Result<EmailChangeConfirmation, AuthError> {
        let _ = self.initialize().await;
        let answer = self
            .inner
            .http
            .send(Call {
                method: Method::POST,
                path: "/verify",
                query: &[],
                body: Some(body),
                bearer: None,
            })
            .await?;
        let value: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        // GoTrue's first-of-two answer: `{"msg": …, "code": "200"}`, no session.
        if value.get("access_token").is_none() {
            if let Some(message) = value.get("msg").and_then(Value::as_str) {
                return Ok(EmailChangeConfirmation::FirstOfTwo {
                    message: message.to_string(),
                });
            }
        }
        let session = session_from_token_response(&answer.body, self.now_secs())?;
        tracing::info!("email change confirmed");
        self.adopt(
            session.clone(),
            AuthEventKind::SignedIn,
            Some(answer.exchange_id),
            crate::events::Cause::UserUpdate,
        )
        .await?;
        Ok(EmailChangeConfirmation::Applied(Box::new(AuthResponse {
            user: session.user.clone(),
            session,
        })))
    }
}
