//! What the project publishes: its auth settings, its signing keys (JWKS), and checking an
//! access token's signature against them.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::time::Instant;

use super::AuthClient;
use crate::error::AuthError;
use crate::http::Call;
use crate::recorder::json_error;
use crate::tokens::{decode_jwt, verify_jwt, DecodedJwt, Jwks, SignatureStatus};

/// How long a fetched JWKS is trusted (auth-js's `JWKS_TTL`).
const JWKS_TTL: Duration = Duration::from_secs(600);

impl AuthClient {
    /// The project's public auth settings (`GET /settings`): which sign-in methods are on.
    /// Answers only when the URL is a GoTrue behind the given API key, so it doubles as the
    /// check that a project URL and key belong together.
    pub async fn server_settings(&self) -> Result<Value, AuthError> {
        let call = Call {
            method: Method::GET,
            path: "/settings",
            query: &[],
            body: None,
            bearer: None,
        };
        let answer = self.inner.http.send(call).await?;
        serde_json::from_slice(&answer.body).map_err(|e| {
            AuthError::InvalidTokenResponse(format!(
                "the settings answer is not JSON ({})",
                json_error(&e)
            ))
        })
    }

    /// The project's published keys (`/.well-known/jwks.json`), cached for 10 minutes.
    pub async fn project_jwks(&self) -> Result<Jwks, AuthError> {
        if let Some((fetched, jwks)) = &*self.inner.jwks.lock().unwrap_or_else(|p| p.into_inner()) {
            if fetched.elapsed() < JWKS_TTL {
                return Ok(jwks.clone());
            }
        }
        let call = Call {
            method: Method::GET,
            path: "/.well-known/jwks.json",
            query: &[],
            body: None,
            bearer: None,
        };
        let answer = self.inner.http.send(call).await?;
        let jwks: Jwks = serde_json::from_slice(&answer.body).map_err(|e| {
            AuthError::InvalidTokenResponse(format!("the JWKS is not valid ({})", json_error(&e)))
        })?;
        *self.inner.jwks.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), jwks.clone()));
        Ok(jwks)
    }

    /// Decodes an access token (never failing for want of a key) and checks its signature
    /// with the HS256 secret if given, or the project's JWKS for asymmetric tokens.
    pub async fn verify_access_token(
        &self,
        token: &str,
        hs256_secret: Option<&[u8]>,
    ) -> Result<(DecodedJwt, SignatureStatus), AuthError> {
        let jwt = decode_jwt(token).map_err(|e| AuthError::InvalidInput(e.to_string()))?;
        let asymmetric = jwt
            .alg()
            .is_some_and(|alg| !alg.eq_ignore_ascii_case("HS256"));
        let jwks = if asymmetric {
            self.project_jwks().await.ok()
        } else {
            None
        };
        let status = verify_jwt(&jwt, hs256_secret, jwks.as_ref());
        Ok((jwt, status))
    }
}
