//! A user's linked identities, as auth-js's `getUserIdentities`, `linkIdentity` (its OAuth
//! form) and `unlinkIdentity` handle them: GoTrue's `/user/identities` routes, which answer
//! `manual_linking_disabled` unless the project allows manual linking.

use reqwest::Method;
use serde_json::Value;

use super::oauth::OAuthFlow;
use super::AuthClient;
use crate::error::AuthError;
use crate::http::Call;

impl AuthClient {
    /// The current user's identities (`identities` of `GET /user`), as auth-js's
    /// `getUserIdentities` returns them.
    pub async fn get_user_identities(&self) -> Result<Vec<Value>, AuthError> {
        Ok(self.get_user(None).await?.identities)
    }

    /// Starts linking `provider` to the signed-in user (auth-js's `linkIdentity` with
    /// `skipBrowserRedirect`): GoTrue's `GET /user/identities/authorize` with the session's
    /// token and the PKCE flow's parameters answers the provider's URL; open `authorize_url`
    /// in the browser and `finish` as for a sign-in. The flow ends with a session for the
    /// same user, the new identity on it (`SIGNED_IN`, as auth-js's exchange reports it).
    pub async fn link_identity(
        &self,
        provider: &str,
        scopes: Option<&str>,
    ) -> Result<OAuthFlow, AuthError> {
        let provider = provider.trim().to_lowercase();
        if provider.is_empty() {
            return Err(AuthError::InvalidInput(
                "Choose a provider to link (github, google, …).".into(),
            ));
        }
        let session = self
            .session_for_call()
            .await?
            .ok_or(AuthError::SessionMissing)?;
        let (listener, verifier, mut pairs) = Self::prepare_flow(&provider, scopes).await?;
        pairs.push(("skip_http_redirect".into(), "true".into()));
        let query: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let answer = self
            .inner
            .http
            .send(Call {
                method: Method::GET,
                path: "/user/identities/authorize",
                query: &query,
                body: None,
                bearer: Some(&session.access_token),
            })
            .await?;
        let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        let url = body["url"]
            .as_str()
            .filter(|url| url.starts_with("http://") || url.starts_with("https://"))
            .ok_or_else(|| {
                AuthError::InvalidInput(
                    "the auth server's answer to linking has no provider URL".into(),
                )
            })?
            .to_string();
        tracing::info!(%provider, port = listener.port(), "identity linking started; waiting for the browser");
        Ok(self.flow(provider, listener, verifier, url))
    }

    /// Unlinks one of the user's identities by its `identity_id` (auth-js's
    /// `unlinkIdentity`): `DELETE /user/identities/{identity_id}` with the session's token.
    /// GoTrue refuses to remove the last one (`single_identity_not_deletable`).
    pub async fn unlink_identity(&self, identity_id: &str) -> Result<(), AuthError> {
        let id = identity_id.trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(AuthError::InvalidInput(
                "An identity is named by its identity_id (a UUID).".into(),
            ));
        }
        let session = self
            .session_for_call()
            .await?
            .ok_or(AuthError::SessionMissing)?;
        let path = format!("/user/identities/{id}");
        self.inner
            .http
            .send(Call {
                method: Method::DELETE,
                path: &path,
                query: &[],
                body: None,
                bearer: Some(&session.access_token),
            })
            .await?;
        Ok(())
    }
}
