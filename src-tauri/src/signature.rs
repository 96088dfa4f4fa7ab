//! The current access token's signature, checked the way auth-js's `getClaims` goes about it:
//! against the project's JWKS (refetched once for a key it does not know; every algorithm
//! GoTrue signs with, where `getClaims` verifies RS256 and ES256 only), with the project's JWT
//! secret for HS256 when the user gave it (kept in the keyring), and otherwise by asking the
//! server (`GET /user`) whether it accepts the token.

use secrecy::{ExposeSecret, SecretString};
use session_engine::tokens::SignatureStatus;

use crate::error::Error;
use crate::inspector::Active;

pub async fn check(active: &Active) -> Result<SignatureStatus, Error> {
    let session = active
        .client
        .current_session()
        .ok_or(session_engine::AuthError::SessionMissing)?;
    let secret = load(active).await?;
    let secret = secret.as_ref().map(|s| s.expose_secret().as_bytes());
    let (_, status) = active
        .client
        .check_access_token(&session.access_token, secret)
        .await?;
    Ok(status)
}

/// Whether the user gave this profile's project JWT secret.
pub async fn has_secret(active: &Active) -> Result<bool, Error> {
    Ok(load(active).await?.is_some())
}

async fn load(active: &Active) -> Result<Option<SecretString>, Error> {
    let (vault, profile) = (active.vault.clone(), active.profile.id.clone());
    Ok(tokio::task::spawn_blocking(move || vault.load_jwt_secret(&profile)).await??)
}

/// Keeps the project's JWT secret in the keyring, for this profile; it is never sent back.
pub async fn remember(active: &Active, secret: SecretString) -> Result<(), Error> {
    // A pasted secret often ends with a newline; no JWT secret has surrounding whitespace.
    let secret = SecretString::from(secret.expose_secret().trim().to_string());
    let (vault, profile) = (active.vault.clone(), active.profile.id.clone());
    tokio::task::spawn_blocking(move || vault.save_jwt_secret(&profile, &secret)).await??;
    tracing::info!(profile = %active.profile.id, "project JWT secret kept in the keyring");
    Ok(())
}

pub async fn forget(active: &Active) -> Result<(), Error> {
    let (vault, profile) = (active.vault.clone(), active.profile.id.clone());
    tokio::task::spawn_blocking(move || vault.remove_jwt_secret(&profile)).await??;
    Ok(())
}
