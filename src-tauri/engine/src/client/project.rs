//! What the project publishes: its auth settings, its signing keys (JWKS), and checking an
//! access token's signature against them.

use reqwest::Method;
use serde_json::Value;

use super::AuthClient;
use crate::error::AuthError;
use crate::http::Call;
use crate::recorder::json_error;
use crate::sign_in_methods::SignInMethods;
use crate::tokens::{
    decode_jwt, verify_jwt, DecodedJwt, Jwks, SignatureStatus, Unverified, GOTRUE_ALGORITHMS,
};

impl AuthClient {
    /// The project's public auth settings (`GET /settings`): which sign-in methods are on.
    /// Answers only when the URL is a GoTrue behind the given API key, so it doubles as the
    /// check that a project URL and key belong together.
    pub async fn server_settings(&self) -> Result<Value, AuthError> {
        let read = async {
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
        };
        self.inner.settings_reads.run("settings", read).await.0
    }

    /// Which ways of signing in the project has switched on (`GET /settings`).
    pub async fn sign_in_methods(&self) -> Result<SignInMethods, AuthError> {
        Ok(SignInMethods::from_settings(&self.server_settings().await?))
    }

    /// The project's published keys (`/.well-known/jwks.json`), cached for 10 minutes.
    pub async fn project_jwks(&self) -> Result<Jwks, AuthError> {
        self.jwks_for(None).await
    }

    /// The project's keys to check a token naming `kid`: the cached set, or a fresh one when
    /// the cached set is stale or lacks `kid` (see `jwks_cache`).
    async fn jwks_for(&self, kid: Option<&str>) -> Result<Jwks, AuthError> {
        self.inner
            .jwks
            .key_set(kid, || async {
                let call = Call {
                    method: Method::GET,
                    path: "/.well-known/jwks.json",
                    query: &[],
                    body: None,
                    bearer: None,
                };
                let answer = self.inner.http.send(call).await?;
                serde_json::from_slice::<Jwks>(&answer.body).map_err(|e| {
                    AuthError::InvalidTokenResponse(format!(
                        "the JWKS is not valid ({})",
                        json_error(&e)
                    ))
                })
            })
            .await
    }

    /// Decodes an access token (never failing for want of a key) and checks its signature
    /// here: HS256 with `hs256_secret` (the project's JWT secret) when given, the other
    /// algorithms with the project's JWKS, fetched again once when the token's `kid` is not in
    /// the cached set. Never asks the server about the token itself.
    pub async fn verify_access_token(
        &self,
        token: &str,
        hs256_secret: Option<&[u8]>,
    ) -> Result<(DecodedJwt, SignatureStatus), AuthError> {
        let jwt = decode_jwt(token).map_err(|e| AuthError::InvalidInput(e.to_string()))?;
        let status = self.verify_decoded(&jwt, hs256_secret).await;
        Ok((jwt, status))
    }

    async fn verify_decoded(
        &self,
        jwt: &DecodedJwt,
        hs256_secret: Option<&[u8]>,
    ) -> SignatureStatus {
        let asymmetric = jwt
            .alg()
            .is_some_and(|alg| alg != "HS256" && GOTRUE_ALGORITHMS.contains(&alg));
        if !asymmetric {
            return verify_jwt(jwt, hs256_secret, None);
        }
        match self.jwks_for(jwt.kid()).await {
            Ok(jwks) => verify_jwt(jwt, hs256_secret, Some(&jwks)),
            Err(error) => SignatureStatus::NotVerified {
                reason: format!("the project's JWKS could not be fetched: {error}"),
                cause: Unverified::JwksUnavailable,
            },
        }
    }

    /// What auth-js `getClaims` does: a local check when there is a key to check with
    /// (HS256 with `hs256_secret`, or a `kid` found in the JWKS, refetched once); otherwise,
    /// for HS256 without the secret and for a token without `kid`, it asks the server
    /// (`GET /user` with the token), whose answer says whether it accepts the token. The
    /// current session is left alone whatever the server says.
    pub async fn check_access_token(
        &self,
        token: &str,
        hs256_secret: Option<&[u8]>,
    ) -> Result<(DecodedJwt, SignatureStatus), AuthError> {
        let jwt = decode_jwt(token).map_err(|e| AuthError::InvalidInput(e.to_string()))?;
        let keyless_asymmetric = jwt.kid().is_none()
            && jwt
                .alg()
                .is_some_and(|alg| alg != "HS256" && GOTRUE_ALGORITHMS.contains(&alg));
        let status = if keyless_asymmetric {
            self.ask_server(token, &jwt).await
        } else {
            match self.verify_decoded(&jwt, hs256_secret).await {
                SignatureStatus::NotVerified {
                    cause: Unverified::NeedsSecret,
                    ..
                } => self.ask_server(token, &jwt).await,
                other => other,
            }
        };
        Ok((jwt, status))
    }

    /// Whether the server accepts `token`: `GET /user` with it (auth-js `getClaims`' fallback).
    pub async fn check_with_server(
        &self,
        token: &str,
    ) -> Result<(DecodedJwt, SignatureStatus), AuthError> {
        let jwt = decode_jwt(token).map_err(|e| AuthError::InvalidInput(e.to_string()))?;
        let status = self.ask_server(token, &jwt).await;
        Ok((jwt, status))
    }

    async fn ask_server(&self, token: &str, jwt: &DecodedJwt) -> SignatureStatus {
        let alg = jwt.alg().unwrap_or_default().to_string();
        let now = self.inner.config.clock.now().timestamp();
        if jwt.expires_at().is_some_and(|exp| exp <= now) {
            return SignatureStatus::NotVerified {
                reason: format!(
                    "{alg}: this access token has expired, so the server was not asked (it refuses any expired token; supabase-js's getClaims() refuses it before any check too)"
                ),
                cause: Unverified::Expired,
            };
        }
        match self.fetch_user(token.trim()).await {
            Ok(_) => SignatureStatus::ServerAccepted { alg },
            Err(AuthError::Api {
                status,
                code,
                message,
            }) => SignatureStatus::ServerRejected {
                alg,
                http_status: status,
                code,
                reason: message,
            },
            Err(error) => SignatureStatus::NotVerified {
                reason: format!("the server could not be asked about the token: {error}"),
                cause: Unverified::ServerUnreachable,
            },
        }
    }
}
