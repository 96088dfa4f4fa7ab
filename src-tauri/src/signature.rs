//! The current access token's signature, checked against what the project publishes.

use session_engine::tokens::{SignatureStatus, Unverified};

use crate::error::Error;
use crate::inspector::Active;

/// Checks the current session's access token; HS256 is "cannot check", said plainly, since
/// the app never holds a project's shared secret.
pub async fn check(active: &Active) -> Result<SignatureStatus, Error> {
    let session = active
        .client
        .current_session()
        .ok_or(session_engine::AuthError::SessionMissing)?;
    let (jwt, status) = active
        .client
        .verify_access_token(&session.access_token, None)
        .await?;
    Ok(match status {
        SignatureStatus::NotVerified { .. } if jwt.alg() == Some("HS256") => {
            SignatureStatus::NotVerified {
                reason: "HS256: signed with the project's shared JWT secret, which this app does not hold. Projects on asymmetric signing keys (ES256/RS256) are checked against their JWKS.".into(),
                cause: Unverified::NeedsSecret,
            }
        }
        other => other,
    })
}
