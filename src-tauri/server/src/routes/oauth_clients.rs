//! `/admin/oauth/clients`: the OAuth 2.1 server's client registry for admins, as GoTrue's
//! `oauthserver` handlers answer (`AdminOAuthServerClientRegister`, `OAuthServerClientList`,
//! `…Get`, `…Update`, `…Delete`, `…RegenerateSecret`). Behind the admin gate, then
//! `requireOAuthServerEnabled`.

use axum::body::{to_bytes, Body};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{Shared, MAX_BODY};
use crate::admin::require_admin;
use crate::errors::ApiError;
use crate::oauth_server::{self as registry, Client};
use crate::state::AppState;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/admin/oauth/clients", get(list).post(register))
        .route(
            "/admin/oauth/clients/{client_id}",
            get(get_client).put(update).delete(delete),
        )
        .route(
            "/admin/oauth/clients/{client_id}/regenerate_secret",
            post(regenerate_secret),
        )
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("validation_failed", message)
}

/// The admin gate, then GoTrue's `requireOAuthServerEnabled`.
fn gate(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    require_admin(state, headers)?;
    if !state.config.oauth_server_enabled {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "feature_disabled",
            "OAuth server is disabled",
        ));
    }
    Ok(())
}

/// These handlers decode with Go's `json.NewDecoder`; any failure (an empty body too) is
/// GoTrue's one `bad_json` answer.
async fn decode<T: DeserializeOwned>(body: Body) -> Result<T, ApiError> {
    let bad = || ApiError::bad_request("bad_json", "Invalid JSON body");
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// GoTrue's `LoadOAuthServerClient`.
fn load(state: &AppState, client_id: &str) -> Result<Client, ApiError> {
    let id = parse_id(client_id)?;
    state.db.run(|conn| load_in(conn, id))
}

fn parse_id(client_id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(client_id).map_err(|_| invalid("invalid client_id format"))
}

/// The client, read on the connection a change is written on: a change reads and writes
/// under one lock, so a delete between the two cannot be undone by the write.
fn load_in(conn: &rusqlite::Connection, id: Uuid) -> Result<Client, ApiError> {
    registry::by_id(conn, id)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "oauth_client_not_found",
            "OAuth client not found",
        )
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RegisterParams {
    redirect_uris: Vec<String>,
    client_type: String,
    token_endpoint_auth_method: String,
    grant_types: Vec<String>,
    client_name: String,
    client_uri: String,
    logo_uri: String,
}

/// `OAuthServerClientRegisterParams.validate` for a manual registration; the first problem.
fn register_problem(params: &RegisterParams) -> Option<String> {
    if let Some(problem) = registry::redirect_uris_problem(&params.redirect_uris, true) {
        return Some(problem);
    }
    if !params.grant_types.is_empty() {
        if let Some(problem) = registry::grant_types_problem(&params.grant_types) {
            return Some(problem);
        }
    }
    if params.client_name.len() > 1024 {
        return Some("client_name cannot exceed 1024 characters".into());
    }
    if let Some(problem) = registry::uri_problem("client_uri", &params.client_uri)
        .or_else(|| registry::uri_problem("logo_uri", &params.logo_uri))
    {
        return Some(problem);
    }
    let client_type = params.client_type.as_str();
    if !client_type.is_empty()
        && client_type != registry::PUBLIC
        && client_type != registry::CONFIDENTIAL
    {
        return Some("client_type must be 'public' or 'confidential'".into());
    }
    let method = params.token_endpoint_auth_method.as_str();
    if !method.is_empty() && !registry::AUTH_METHODS.contains(&method) {
        return Some(format!(
            "token_endpoint_auth_method must be one of: {}",
            registry::go_list(&registry::AUTH_METHODS)
        ));
    }
    if !client_type.is_empty() && !method.is_empty() {
        let expected = registry::client_type_for(method);
        if client_type != expected {
            return Some(format!(
                "client_type '{client_type}' is inconsistent with token_endpoint_auth_method \
                 '{method}' (expected client_type '{expected}')"
            ));
        }
    }
    None
}

/// `POST /admin/oauth/clients`: a manual registration; 201 with the secret of a confidential
/// client, shown this once.
pub async fn register(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    gate(&state, &headers)?;
    let params: RegisterParams = decode(body).await?;
    if let Some(problem) = register_problem(&params) {
        // GoTrue wraps the validation error's own text, status included, in a new 400.
        return Err(invalid(format!("400: {problem}")));
    }
    let client_type = match params.client_type.as_str() {
        "" if !params.token_endpoint_auth_method.is_empty() => {
            registry::client_type_for(&params.token_endpoint_auth_method).to_string()
        }
        "" => registry::CONFIDENTIAL.to_string(),
        explicit => explicit.to_string(),
    };
    let auth_method = match params.token_endpoint_auth_method.as_str() {
        "" if client_type == registry::PUBLIC => registry::AUTH_NONE.to_string(),
        "" => registry::AUTH_SECRET_BASIC.to_string(),
        method => method.to_string(),
    };
    let grant_types = if params.grant_types.is_empty() {
        registry::GRANT_TYPES.map(String::from).to_vec()
    } else {
        params.grant_types
    };
    let now = state.now_micros();
    let mut client = Client {
        id: Uuid::new_v4(),
        registration_type: "manual".into(),
        client_type,
        token_endpoint_auth_method: auth_method,
        client_secret_hash: None,
        client_name: params.client_name,
        client_uri: params.client_uri,
        logo_uri: params.logo_uri,
        redirect_uris: params.redirect_uris,
        grant_types,
        created_at: now,
        updated_at: now,
    };
    let secret = client.is_confidential().then(registry::generate_secret);
    client.client_secret_hash = secret.as_deref().map(registry::hash_secret);
    state.db.run(|conn| registry::save(conn, &client))?;
    let mut body = client.to_json();
    if let Some(secret) = secret {
        body["client_secret"] = json!(secret);
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /admin/oauth/clients`: every client, newest first. GoTrue does not page this list
/// yet (`page` and `per_page` are ignored) and leaves `clients` out when there are none.
pub async fn list(State(state): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    gate(&state, &headers)?;
    let clients = state.db.run(|conn| registry::all(conn))?;
    let mut body = json!({});
    if !clients.is_empty() {
        body["clients"] = Value::Array(clients.iter().map(Client::to_json).collect());
    }
    Ok(Json(body).into_response())
}

pub async fn get_client(
    State(state): State<Shared>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    gate(&state, &headers)?;
    let client = load(&state, &client_id)?;
    Ok(Json(client.to_json()).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UpdateParams {
    redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    client_name: Option<String>,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    token_endpoint_auth_method: Option<String>,
}

/// `PUT /admin/oauth/clients/{id}`: only the fields sent change.
pub async fn update(
    State(state): State<Shared>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    gate(&state, &headers)?;
    let id = load(&state, &client_id)?.id;
    let params: UpdateParams = decode(body).await?;
    let empty = params.redirect_uris.is_none()
        && params.grant_types.is_none()
        && params.client_name.is_none()
        && params.client_uri.is_none()
        && params.logo_uri.is_none()
        && params.token_endpoint_auth_method.is_none();
    if empty {
        return Err(invalid("No fields provided for update"));
    }
    let problem = params
        .redirect_uris
        .as_ref()
        .and_then(|uris| registry::redirect_uris_problem(uris, false))
        .or_else(|| {
            params
                .grant_types
                .as_ref()
                .and_then(|g| registry::grant_types_problem(g))
        })
        .or_else(|| {
            params
                .client_name
                .as_ref()
                .filter(|name| name.len() > 1024)
                .map(|_| "client_name cannot exceed 1024 characters".into())
        })
        .or_else(|| {
            params
                .client_uri
                .as_ref()
                .and_then(|uri| registry::uri_problem("client_uri", uri))
        })
        .or_else(|| {
            params
                .logo_uri
                .as_ref()
                .and_then(|uri| registry::uri_problem("logo_uri", uri))
        })
        .or_else(|| {
            params
                .token_endpoint_auth_method
                .as_deref()
                .filter(|m| !registry::AUTH_METHODS.contains(m))
                .map(|_| {
                    format!(
                        "invalid token_endpoint_auth_method: must be one of {}",
                        registry::go_list(&registry::AUTH_METHODS)
                    )
                })
        });
    if let Some(problem) = problem {
        return Err(invalid(problem));
    }
    let now = state.now_micros();
    let client = state.db.run(|conn| -> Result<Client, ApiError> {
        let mut client = load_in(conn, id)?;
        if let Some(uris) = params.redirect_uris {
            client.redirect_uris = uris;
        }
        if let Some(grant_types) = params.grant_types {
            client.grant_types = grant_types;
        }
        if let Some(name) = params.client_name {
            client.client_name = name;
        }
        if let Some(uri) = params.client_uri {
            client.client_uri = uri;
        }
        if let Some(uri) = params.logo_uri {
            client.logo_uri = uri;
        }
        if let Some(method) = params.token_endpoint_auth_method {
            let valid = registry::auth_methods_for(&client.client_type);
            if !valid.contains(&method.as_str()) {
                return Err(invalid(format!(
                    "token_endpoint_auth_method '{method}' is not valid for client_type '{}'; valid methods: {}",
                    client.client_type,
                    registry::go_list(valid)
                )));
            }
            client.token_endpoint_auth_method = method;
        }
        client.updated_at = now;
        registry::update(conn, &client)?;
        Ok(client)
    })?;
    Ok(Json(client.to_json()).into_response())
}

/// `DELETE /admin/oauth/clients/{id}`: 204; the client is marked deleted.
pub async fn delete(
    State(state): State<Shared>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    gate(&state, &headers)?;
    let client = load(&state, &client_id)?;
    let now = state.now_micros();
    state
        .db
        .run(|conn| registry::mark_deleted(conn, client.id, now))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /admin/oauth/clients/{id}/regenerate_secret`: a confidential client's new secret,
/// shown this once; the old one stops working.
pub async fn regenerate_secret(
    State(state): State<Shared>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    gate(&state, &headers)?;
    let id = parse_id(&client_id)?;
    let secret = registry::generate_secret();
    let now = state.now_micros();
    let client = state.db.run(|conn| -> Result<Client, ApiError> {
        let mut client = load_in(conn, id)?;
        if !client.is_confidential() {
            return Err(invalid("Cannot regenerate secret for public client"));
        }
        client.client_secret_hash = Some(registry::hash_secret(&secret));
        client.updated_at = now;
        registry::update(conn, &client)?;
        Ok(client)
    })?;
    let mut body = client.to_json();
    body["client_secret"] = json!(secret);
    Ok(Json(body).into_response())
}
