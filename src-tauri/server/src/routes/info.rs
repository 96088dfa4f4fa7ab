//! The open routes: `/settings`, `/health`, `/.well-known/jwks.json`.

use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::Shared;

const PROVIDERS: [&str; 26] = [
    "anonymous_users",
    "apple",
    "azure",
    "bitbucket",
    "discord",
    "facebook",
    "snapchat",
    "figma",
    "fly",
    "github",
    "gitlab",
    "google",
    "keycloak",
    "kakao",
    "linkedin",
    "linkedin_oidc",
    "notion",
    "spotify",
    "slack",
    "slack_oidc",
    "workos",
    "twitch",
    "twitter",
    "email",
    "phone",
    "zoom",
];

pub async fn settings(State(state): State<Shared>) -> Json<Value> {
    let external: Map<String, Value> = PROVIDERS
        .iter()
        .map(|name| {
            let on = match *name {
                "email" => true,
                // The server is its own SMS provider (its inbox).
                "phone" => true,
                "anonymous_users" => state.config.anonymous_sign_ins,
                other => state.config.external_providers.iter().any(|p| p == other),
            };
            (name.to_string(), json!(on))
        })
        .collect();
    Json(json!({
        "external": external,
        "disable_signup": state.config.disable_signup,
        "mailer_autoconfirm": state.config.autoconfirm,
        "phone_autoconfirm": state.config.phone_autoconfirm,
        "sms_provider": "",
        "saml_enabled": false,
        "saml_private_key_next_configured": false,
        "passkeys_enabled": false,
    }))
}

pub async fn health() -> Json<Value> {
    Json(json!({
        "version": concat!("local-gotrue/", env!("CARGO_PKG_VERSION")),
        "name": "GoTrue",
        "description": "GoTrue is a user registration and authentication API",
    }))
}

pub async fn jwks(State(state): State<Shared>) -> Response {
    (
        [(CACHE_CONTROL, "public, max-age=600")],
        Json(state.keys.jwks()),
    )
        .into_response()
}
