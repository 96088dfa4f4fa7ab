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

/// The providers GoTrue's `getProvider` knows by name or by a fixed issuer, after Apple and
/// Azure (whose issuers come from the token) in its order, with that issuer. Keycloak's is
/// its configured URL, which this server has none of.
const OIDC_PROVIDERS: [(&str, &str); 6] = [
    ("google", "https://accounts.google.com"),
    ("facebook", "https://www.facebook.com"),
    ("keycloak", ""),
    ("kakao", "https://kauth.kakao.com"),
    ("vercel_marketplace", "https://marketplace.vercel.com"),
    (
        "snapchat",
        "https://accounts.snapchat.com/accounts/oauth2/token",
    ),
];

/// GoTrue's `provider.IsAppleIssuer`.
fn is_apple_issuer(issuer: &str) -> bool {
    issuer == "https://appleid.apple.com" || issuer == "https://account.apple.com"
}

/// GoTrue's `provider.IsAzureIssuer`: `^https://login[.]microsoftonline[.]com/([^/]+)/v2[.]0/?$`.
fn is_azure_issuer(issuer: &str) -> bool {
    issuer
        .strip_prefix("https://login.microsoftonline.com/")
        .and_then(|rest| {
            rest.strip_suffix("/v2.0/")
                .or_else(|| rest.strip_suffix("/v2.0"))
        })
        .is_some_and(|tenant| !tenant.is_empty() && !tenant.contains('/'))
}

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
    // GoTrue's `getProvider` switch, case by case in its order.
    let (name, issuer) = if provider == "apple" || is_apple_issuer(issuer) {
        let detected = token_issuer(&params.id_token, "Apple")?;
        if !is_apple_issuer(&detected) {
            return Err(validation(
                "Detected ID token issuer is not an Apple ID token issuer".into(),
            ));
        }
        ("apple", detected_matching(issuer, detected)?)
    } else if provider == "google" || issuer == OIDC_PROVIDERS[0].1 {
        ("google", OIDC_PROVIDERS[0].1.to_string())
    } else if provider == "azure" || is_azure_issuer(issuer) {
        let detected = token_issuer(&params.id_token, "Azure")?;
        let azure = detected.starts_with("https://login.microsoftonline.com/")
            || detected.starts_with("https://sts.windows.net/");
        if !azure {
            return Err(validation(
                "Detected ID token issuer is not an Azure ID token issuer".into(),
            ));
        }
        ("azure", detected_matching(issuer, detected)?)
    } else if let Some((name, known_issuer)) = OIDC_PROVIDERS[1..]
        .iter()
        .find(|(name, known)| provider == *name || (!issuer.is_empty() && issuer == *known))
    {
        (*name, known_issuer.to_string())
    } else if provider.starts_with("custom:") {
        return Err(validation("Custom OAuth providers are disabled".into()));
    } else {
        // No `GOTRUE_EXTERNAL_ALLOWED_ID_TOKEN_ISSUERS` here.
        return Err(validation(format!(
            "Custom OIDC provider {provider:?} not allowed"
        )));
    };
    if !enabled(name) {
        return Err(provider_disabled(&issuer));
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

/// GoTrue's `DetectAppleIDTokenIssuer` / `DetectAzureIDTokenIssuer`: the `iss` of a token
/// read without verifying it (three parts, unpadded base64url claims, `iss` a string or
/// absent); anything else is "Unable to detect issuer".
fn token_issuer(token: &str, provider: &str) -> Result<String, ApiError> {
    use base64::Engine as _;
    let unreadable = || {
        validation(format!(
            "Unable to detect issuer in ID token for {provider} provider"
        ))
    };
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(unreadable());
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .map_err(|_| unreadable())?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| unreadable())?;
    // Go decodes `null` into the struct as nothing; any other non-object fails.
    if !(claims.is_object() || claims.is_null()) {
        return Err(unreadable());
    }
    match &claims["iss"] {
        serde_json::Value::Null => Ok(String::new()),
        serde_json::Value::String(iss) => Ok(iss.clone()),
        _ => Err(unreadable()),
    }
}

/// The detected issuer, unless the request named a different one.
fn detected_matching(given: &str, detected: String) -> Result<String, ApiError> {
    if !given.is_empty() && given != detected {
        return Err(validation(
            "Provided issuer does not match ID token issuer".into(),
        ));
    }
    Ok(detected)
}
