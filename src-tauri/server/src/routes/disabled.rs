//! Features this server does not offer, answered as GoTrue answers while they are disabled
//! (their defaults): SAML single sign-on and the Web3 grant.

use axum::http::StatusCode;
use axum::routing::any;
use axum::Router;

use super::Shared;
use crate::errors::ApiError;

/// `/sso` and everything under it: GoTrue's `requireSAMLEnabled` runs before the routes of the
/// group (`POST /sso`, `GET /sso/saml/metadata`, `POST /sso/saml/acs`), so any method or path
/// there gets its answer.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/sso", any(saml_disabled))
        .route("/sso/", any(saml_disabled))
        .route("/sso/{*rest}", any(saml_disabled))
}

/// GoTrue's `requireSAMLEnabled` with `SAML_ENABLED=false`.
pub async fn saml_disabled() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "saml_provider_disabled",
        "SAML 2.0 is disabled",
    )
}

/// `grant_type=web3` with neither chain enabled (GoTrue's `Web3Grant`, checked before the body
/// is read).
pub fn web3_disabled() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "web3_provider_disabled",
        "Web3 provider is disabled",
    )
}
