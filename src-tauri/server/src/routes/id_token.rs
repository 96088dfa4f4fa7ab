//! `POST /token?grant_type=id_token`: GoTrue's `IdTokenGrant` up to where it verifies the token
//! with the provider's published keys.
//!
//! Deviation: GoTrue fetches the provider's OpenID discovery document and keys (Google's,
//! Apple's…) and verifies the ID token against them. This server works offline and holds no
//! provider's keys, so it can verify no ID token: every request that gets that far is answered
//! as GoTrue answers a token that fails verification ("Bad ID token"). The checks before that
//! (parameters, linking, which provider, whether it is enabled) are GoTrue's.

use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;

use super::{authenticate, Shared};
use crate::errors::ApiError;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IdTokenParams {
    id_token: String,
    #[allow(dead_code)] // read by GoTrue only to check it against the token's `at_hash`
    access_token: String,
    #[allow(dead_code)] // read by GoTrue only once the token is verified
    nonce: String,
    provider: String,
    client_id: String,
    issuer: String,
    link_identity: bool,
}

/// The providers GoTrue's `getProvider` knows by name for this grant, with the issuer it
/// names when the provider is off. Apple's and Azure's issuers come from the token itself.
const OIDC_PROVIDERS: [(&str, &str); 6] = [
    ("google", "https://accounts.google.com"),
    ("facebook", "https://www.facebook.com"),
    ("kakao", "https://kauth.kakao.com"),
    (
        "snapchat",
        "https://accounts.snapchat.com/accounts/oauth2/token",
    ),
    ("vercel_marketplace", "https://marketplace.vercel.com"),
    ("keycloak", ""),
];

fn invalid_request(description: &str) -> ApiError {
    ApiError::oauth("invalid request", description)
}

fn validation(message: String) -> ApiError {
    ApiError::bad_request("validation_failed", message)
}

pub fn id_token_grant(
    state: &Shared,
    headers: &HeaderMap,
    params: IdTokenParams,
) -> Result<axum::response::Response, ApiError> {
    if params.id_token.is_empty() {
        return Err(invalid_request("id_token required"));
    }
    if params.provider.is_empty() && (params.client_id.is_empty() || params.issuer.is_empty()) {
        return Err(invalid_request("provider or client_id and issuer required"));
    }
    if params.link_identity {
        if !headers.contains_key(axum::http::header::AUTHORIZATION) {
            return Err(invalid_request(
                "Linking requires a valid user access token in Authorization",
            ));
        }
        authenticate(state, headers)?;
    }
    let enabled = |name: &str| state.config.external_providers.iter().any(|p| p == name);
    let provider = params.provider.as_str();
    let issuer = params.issuer.as_str();
    let known = OIDC_PROVIDERS.iter().find(|(name, known_issuer)| {
        provider == *name || (!issuer.is_empty() && issuer == *known_issuer)
    });
    if provider == "apple" || provider == "azure" {
        // GoTrue reads the issuer from the token before anything else; a token it cannot
        // read is refused there, one it can read fails verification below.
        let Some(token_issuer) = unverified_issuer(&params.id_token) else {
            let name = if provider == "apple" {
                "Apple"
            } else {
                "Azure"
            };
            return Err(validation(format!(
                "Unable to detect issuer in ID token for {name} provider"
            )));
        };
        if !enabled(provider) {
            return Err(provider_disabled(&token_issuer));
        }
    } else if let Some((name, known_issuer)) = known {
        if !enabled(name) {
            return Err(provider_disabled(known_issuer));
        }
    } else if provider.starts_with("custom:") {
        return Err(validation("Custom OAuth providers are disabled".into()));
    } else {
        // No `GOTRUE_EXTERNAL_ALLOWED_ID_TOKEN_ISSUERS` here.
        return Err(validation(format!(
            "Custom OIDC provider {provider:?} not allowed"
        )));
    }
    Err(invalid_request("Bad ID token"))
}

fn provider_disabled(issuer: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "provider_disabled",
        format!("Provider (issuer {issuer:?}) is not enabled"),
    )
}

/// The `iss` of a token, read without verifying it (as GoTrue detects Apple's and Azure's).
fn unverified_issuer(token: &str) -> Option<String> {
    use base64::Engine as _;
    let claims = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims["iss"].as_str().map(String::from)
}
