//! Sign-in with an external OAuth provider, as GoTrue does it (`api/external.go`,
//! `external_oauth.go`, `token.go` `PKCE`, `models/linking.go`): `GET /authorize` checks the
//! provider, `redirect_to` and the PKCE challenge, records a flow state and sends the browser
//! to the provider; `GET`/`POST /callback` takes the provider's answer, finds or creates the
//! user and identity, and sends the browser back to `redirect_to` with an auth code (PKCE) or
//! the session in the fragment (implicit); `POST /token?grant_type=pkce` trades the auth code
//! and its verifier for a session.
//!
//! The providers are all served by the built-in fake provider (`fake_provider.rs`); its code
//! exchange is a lookup in the same database instead of a request to a token endpoint.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header::{LOCATION, REFERER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::fake_provider::{self, ProviderGrant};
use super::Shared;
use crate::db::{self, User};
use crate::errors::ApiError;
use crate::flow_state::{self, ChallengeMethod, FlowState};
use crate::identity::{self, Identity};
use crate::redirect::{self, RedirectRules, Values};
use crate::state::{has_email_identity, is_banned, start_session, token_response, AppState};

/// The OAuth providers GoTrue knows (`Provider` in `api/external.go`). Any of them can be
/// enabled here; the fake provider stands in for each.
pub const OAUTH_PROVIDERS: [&str; 25] = [
    "apple",
    "azure",
    "bitbucket",
    "discord",
    "facebook",
    "figma",
    "fly",
    "github",
    "gitlab",
    "google",
    "kakao",
    "keycloak",
    "linkedin",
    "linkedin_oidc",
    "notion",
    "snapchat",
    "spotify",
    "slack",
    "slack_oidc",
    "twitch",
    "twitter",
    "x",
    "vercel_marketplace",
    "workos",
    "zoom",
];

/// GoTrue's `AuthenticationMethod` for provider sign-ins: the flow state's method and the
/// session's `amr`.
pub const OAUTH_METHOD: &str = "oauth";

/// Parameters GoTrue never forwards to a provider (`reservedOAuthParams`).
const RESERVED_PARAMS: [&str; 9] = [
    "client_id",
    "client_secret",
    "redirect_uri",
    "response_type",
    "state",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    "nonce",
];

/// GoTrue's `Provider` lookup: the name (any case) must be a provider GoTrue knows, and
/// enabled. The error is what GoTrue puts after "Unsupported provider: ".
pub fn enabled_provider(state: &AppState, name: &str) -> Result<String, String> {
    let name = name.to_lowercase();
    if name.starts_with("custom:") {
        return Err("custom OAuth providers are disabled".into());
    }
    if !OAUTH_PROVIDERS.contains(&name.as_str()) {
        return Err(format!("Provider {name} could not be found"));
    }
    if !state.config.external_providers.contains(&name) {
        return Err("provider is not enabled".into());
    }
    Ok(name)
}

fn unsupported(detail: &str) -> ApiError {
    ApiError::bad_request(
        "validation_failed",
        format!("Unsupported provider: {detail}"),
    )
}

pub fn redirect_rules(state: &AppState) -> RedirectRules {
    redirect::rules(state)
}

/// GoTrue's `/callback` on this server, the provider's registered redirect URI.
pub fn callback_url(state: &AppState) -> String {
    format!("{}/auth/v1/callback", state.base_url)
}

fn found(location: &str, status: StatusCode) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (status, [(LOCATION, value)]).into_response(),
        Err(_) => ApiError::internal("the redirect URL cannot be sent as a header").into_response(),
    }
}

// ---- GET /authorize ----------------------------------------------------------------------------

/// GoTrue's `ExternalProviderRedirect`, its checks in its order: the provider, an invite
/// token, `redirect_to` (never an error: an unusable one becomes the site URL), the PKCE
/// pair, the challenge method.
pub async fn authorize(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let query = Values::parse(query.as_deref().unwrap_or(""));
    let location = start_flow(&state, &query, &headers, None)?;
    Ok(found(&location, StatusCode::FOUND))
}

/// GoTrue's `GetExternalProviderRedirectURL`: records the flow state (with the user to link
/// the identity to, for manual linking) and returns the provider's authorization URL.
pub fn start_flow(
    state: &AppState,
    query: &Values,
    headers: &HeaderMap,
    linking_target: Option<Uuid>,
) -> Result<String, ApiError> {
    let provider =
        enabled_provider(state, query.get("provider")).map_err(|detail| unsupported(&detail))?;
    // No invites on this server: any invite token names nobody.
    if !query.get("invite_token").is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "user_not_found",
            "User identified by token not found",
        ));
    }
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let referrer = redirect_rules(state).referrer(
        header("redirect_to"),
        Some(query.get("redirect_to")),
        header(REFERER.as_str()),
    );
    let (challenge, method) = (
        query.get("code_challenge"),
        query.get("code_challenge_method"),
    );
    if challenge.is_empty() != method.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "PKCE flow requires code_challenge_method and code_challenge",
        ));
    }
    if let Some(problem) = (!challenge.is_empty())
        .then(|| flow_state::challenge_problem(challenge))
        .flatten()
    {
        return Err(ApiError::bad_request("validation_failed", problem));
    }
    let pkce = match challenge {
        "" => None,
        challenge => Some((
            challenge,
            ChallengeMethod::parse(method).ok_or_else(|| {
                ApiError::bad_request("validation_failed", "Invalid code_challenge_method")
            })?,
        )),
    };
    let flow = FlowState::new(&provider, OAUTH_METHOD, pkce, &referrer, state.now_micros());
    state.db.run(|conn| -> rusqlite::Result<()> {
        let tx = conn.transaction()?;
        flow_state::insert(&tx, &flow)?;
        if let Some(user) = linking_target {
            crate::linking::set_target(&tx, flow.id, user)?;
        }
        tx.commit()
    })?;

    // What the provider's `AuthCodeURL` gets: its own parameters, then whatever else the
    // request carried (GoTrue forwards it), less the ones GoTrue controls.
    let mut provider_query = Values::default();
    provider_query.set("response_type", "code");
    provider_query.set("client_id", &fake_provider::client_id(&provider));
    provider_query.set("redirect_uri", &callback_url(state));
    let scope = fake_provider::scopes(&provider, query.get("scopes"));
    if !scope.is_empty() {
        provider_query.set("scope", &scope);
    }
    provider_query.set("state", &flow.id.to_string());
    for key in query.keys() {
        let reserved = RESERVED_PARAMS.contains(&key.to_lowercase().as_str());
        if key != "scopes" && key != "provider" && !reserved {
            provider_query.set(key, query.get(key));
        }
    }
    Ok(format!(
        "{}?{}",
        fake_provider::authorize_url(state, &provider),
        provider_query.encode()
    ))
}

// ---- GET/POST /callback ------------------------------------------------------------------------

/// Why a callback failed, as `getErrorQueryString` reads it.
pub(crate) enum Failure {
    /// GoTrue's `HTTPError`: `error` from its status, plus `error_code`.
    Api(ApiError),
    /// GoTrue's `OAuthError` (the provider's own error, passed on): no `error_code`.
    OAuth { error: String, description: String },
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Failure {
        Failure::Api(error)
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Failure {
        Failure::Api(error.into())
    }
}

/// GoTrue's `oauthErrorMap`, and the codes it sends as `access_denied` whatever their status.
fn oauth_error_name(error: &ApiError) -> &'static str {
    match error.code {
        "signup_disabled" | "user_banned" | "provider_email_needs_verification" => {
            return "access_denied"
        }
        _ => {}
    }
    match error.status.as_u16() {
        400 => "invalid_request",
        401 => "unauthorized_client",
        403 => "access_denied",
        503 => "temporarily_unavailable",
        _ => "server_error",
    }
}

/// The callback's parameters: for POST the form body and the query (body first), for GET the
/// query, as Go's `FormValue` and `URL.Query` read them.
async fn callback_params(method: &Method, query: Option<&str>, body: Body) -> Values {
    let mut values = Values::default();
    if method == Method::POST {
        if let Ok(bytes) = axum::body::to_bytes(body, super::MAX_BODY).await {
            values = Values::parse(&String::from_utf8_lossy(&bytes));
        }
    }
    let from_query = Values::parse(query.unwrap_or(""));
    for key in from_query.keys() {
        if values.get(key).is_empty() {
            values.set(key, from_query.get(key));
        }
    }
    values
}

pub async fn callback(
    State(state): State<Shared>,
    method: Method,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let params = callback_params(&method, query.as_deref(), body).await;
    // `loadFlowState`: a state that cannot be used sends the browser to the site URL.
    let flow = match load_flow_state(&state, params.get("state")) {
        Ok(flow) => flow,
        Err(error) => {
            let location = redirect::with_error_in_query(
                &state.config.site_url,
                oauth_error_name(&error),
                error.code,
                &error.message,
            );
            return found(&location, StatusCode::SEE_OTHER);
        }
    };
    let back_to = flow
        .referrer
        .clone()
        .unwrap_or_else(|| state.config.site_url.clone());
    match complete_sign_in(&state, &flow, &params, &back_to) {
        Ok(location) => found(&location, StatusCode::FOUND),
        Err(failure) => {
            let location = match failure {
                Failure::Api(error) => redirect::with_error(
                    &back_to,
                    oauth_error_name(&error),
                    Some(error.code),
                    &error.message,
                ),
                Failure::OAuth { error, description } => {
                    redirect::with_error(&back_to, &error, None, &description)
                }
            };
            found(&location, StatusCode::FOUND)
        }
    }
}

/// GoTrue's `loadExternalState`.
fn load_flow_state(state: &AppState, given: &str) -> Result<FlowState, ApiError> {
    let bad_state = |message: &str| ApiError::bad_request("bad_oauth_state", message);
    if given.is_empty() {
        return Err(ApiError::bad_request(
            "bad_oauth_callback",
            "OAuth state parameter missing",
        ));
    }
    let id = Uuid::parse_str(given).map_err(|_| bad_state("OAuth state parameter is invalid"))?;
    let flow = state
        .db
        .run(|conn| flow_state::by_id(conn, id))?
        .ok_or_else(|| bad_state("OAuth state not found or expired"))?;
    if flow.is_expired(state.now_micros()) {
        return Err(bad_state("OAuth state has expired"));
    }
    if flow.is_pkce() && flow.user_id.is_some() {
        return Err(already_used());
    }
    Ok(flow)
}

fn already_used() -> ApiError {
    ApiError::bad_request("flow_state_already_used", "State has already been used")
}

/// GoTrue's `internalExternalProviderCallback`: where the browser goes next.
fn complete_sign_in(
    state: &AppState,
    flow: &FlowState,
    params: &Values,
    back_to: &str,
) -> Result<String, Failure> {
    let provider = flow.provider_type.as_str();
    // `oAuthCallback`: the provider's own error first, then the code.
    let provider_error = params.get("error");
    if !provider_error.is_empty() {
        return Err(Failure::OAuth {
            error: provider_error.to_string(),
            description: params.get("error_description").to_string(),
        });
    }
    let code = params.get("code");
    if code.is_empty() {
        return Err(ApiError::bad_request(
            "bad_oauth_callback",
            "OAuth callback with missing authorization code missing",
        )
        .into());
    }
    enabled_provider(state, provider).map_err(|detail| {
        ApiError::bad_request(
            "oauth_provider_not_supported",
            format!("Unsupported provider: {detail}"),
        )
    })?;
    let now = state.now_micros();
    let grant = state
        .db
        .run(|conn| fake_provider::exchange(conn, provider, code, now))?
        .ok_or_else(|| {
            let shown: String = code.chars().take(4).collect();
            ApiError::internal(format!("Unable to exchange external code: {shown}"))
        })?;
    if grant.email.is_empty() {
        return Err(ApiError::internal("Error getting user email from external provider").into());
    }

    state.db.run(|conn| {
        let tx = conn.transaction()?;
        // GoTrue's `loadExternalState` loads the linking target with the flow state. The
        // target stays as long as the flow does (it goes with it, `flow_state::delete`): a
        // failed link that is kept (`keep`) leaves a flow that can only try linking again,
        // never a plain sign-in.
        let outcome = match crate::linking::target(&tx, flow.id)? {
            Some(target) => super::identities::link_to_user(&tx, state, target, provider, &grant),
            None => sign_in_external(&tx, state, provider, &grant),
        };
        match outcome {
            Ok(user) => {
                let next = finish_flow(&tx, state, flow, &user, &grant, back_to);
                if next.is_ok() {
                    tx.commit()?;
                }
                next
            }
            // GoTrue's `NewCommitWithError`: the unconfirmed user stays though the sign-in
            // is refused.
            Err((failure, keep)) => {
                if keep {
                    tx.commit()?;
                }
                Err(failure)
            }
        }
    })
}

/// The PKCE flow records who signed in and sends the auth code; the implicit flow starts the
/// session now and sends it in the fragment.
fn finish_flow(
    tx: &Connection,
    state: &AppState,
    flow: &FlowState,
    user: &User,
    grant: &ProviderGrant,
    back_to: &str,
) -> Result<String, Failure> {
    let now = state.now_micros();
    if flow.is_pkce() {
        // Read again inside the transaction: a concurrent callback may have claimed it.
        let current = flow_state::by_id(tx, flow.id)?.ok_or_else(already_used)?;
        if current.user_id.is_some() {
            return Err(already_used().into());
        }
        flow_state::record_sign_in(
            tx,
            flow.id,
            user.id,
            &grant.access_token,
            &grant.refresh_token,
            now,
        )?;
        let auth_code = current.auth_code.unwrap_or_default();
        return Ok(redirect::with_code(back_to, &auth_code));
    }
    let (session, refresh_token) = start_session(tx, state, user, OAUTH_METHOD, None)?;
    let user = db::user_by_id(tx, user.id)?.unwrap_or_else(|| user.clone());
    flow_state::delete(tx, flow.id)?;
    let body = token_response(state, &user, &session, &refresh_token);
    // `AsRedirectURL`: the redirect as it is, `#`, then the session.
    let mut fragment = Values::default();
    fragment.set("provider_token", &grant.access_token);
    if !grant.refresh_token.is_empty() {
        fragment.set("provider_refresh_token", &grant.refresh_token);
    }
    for key in ["access_token", "token_type", "refresh_token"] {
        fragment.set(key, body[key].as_str().unwrap_or_default());
    }
    for key in ["expires_in", "expires_at"] {
        fragment.set(key, &body[key].to_string());
    }
    fragment.set("sb", "");
    Ok(format!("{back_to}#{}", fragment.encode()))
}

/// What the provider says about the user, as GoTrue's `Claims` (`identity_data`).
pub(crate) fn identity_data(state: &AppState, provider: &str, grant: &ProviderGrant) -> Value {
    let mut data = Map::new();
    data.insert("iss".into(), json!(fake_provider::issuer(state, provider)));
    data.insert("sub".into(), json!(grant.subject));
    data.insert("provider_id".into(), json!(grant.subject));
    if !grant.name.is_empty() {
        data.insert("name".into(), json!(grant.name));
        data.insert("full_name".into(), json!(grant.name));
    }
    data.insert("email".into(), json!(grant.email));
    data.insert("email_verified".into(), json!(grant.email_verified));
    data.insert("phone_verified".into(), json!(false));
    Value::Object(data)
}

/// GoTrue's account linking decision (`DetermineAccountLinking`), all providers in the
/// default linking domain.
enum Decision {
    Exists(User, Identity),
    Create { email: String },
    Link(User),
}

fn decide(
    tx: &Connection,
    state: &AppState,
    provider: &str,
    grant: &ProviderGrant,
) -> Result<Decision, ApiError> {
    let email = grant.email.to_lowercase();
    if let Some(identity) = identity::by_provider_id(tx, &grant.subject, provider)? {
        let user = db::user_by_id(tx, identity.user_id)?
            .ok_or_else(|| ApiError::internal("identity without a user"))?;
        return Ok(Decision::Exists(user, identity));
    }
    let verified = grant.email_verified || state.config.autoconfirm;
    if !verified {
        // Nothing to link by: a new account, without the email if another user has it.
        let taken = db::user_by_email(tx, &email)?.is_some()
            || !identity::with_email(tx, &email)?.is_empty();
        let email = if taken { String::new() } else { email };
        return Ok(Decision::Create { email });
    }
    let mut owners: Vec<Uuid> = identity::with_email(tx, &email)?
        .iter()
        .map(|i| i.user_id)
        .collect();
    owners.sort();
    owners.dedup();
    match owners.as_slice() {
        [] => match db::user_by_email(tx, &email)? {
            Some(user) => Ok(Decision::Link(user)),
            None => Ok(Decision::Create { email }),
        },
        [owner] => {
            let user = db::user_by_id(tx, *owner)?
                .ok_or_else(|| ApiError::internal("identity without a user"))?;
            Ok(Decision::Link(user))
        }
        _ => Err(ApiError::internal(
            "Multiple accounts with the same email address in the same linking domain detected: default",
        )),
    }
}

/// GoTrue's `createAccountFromExternalIdentity`. An error says whether what was done so far
/// is kept (GoTrue commits the unconfirmed user before refusing it).
fn sign_in_external(
    tx: &Connection,
    state: &AppState,
    provider: &str,
    grant: &ProviderGrant,
) -> Result<User, (Failure, bool)> {
    let fail = |error: ApiError| (Failure::Api(error), false);
    let db_fail = |error: rusqlite::Error| (Failure::from(error), false);
    let now = state.now_micros();
    let data = identity_data(state, provider, grant);
    let decision = decide(tx, state, provider, grant).map_err(fail)?;
    let (user_id, identity, candidate_email) = match decision {
        Decision::Exists(user, identity) => {
            identity::update_data(tx, identity.id, &data, now).map_err(db_fail)?;
            merge_user_metadata(tx, &user, &data, now).map_err(db_fail)?;
            set_providers(tx, user.id, has_email_identity(&user), now).map_err(db_fail)?;
            let email = user.email.clone();
            (user.id, identity, email)
        }
        Decision::Link(user) => {
            let identity = Identity::new(user.id, provider, data.clone(), now);
            identity::insert(tx, &identity).map_err(db_fail)?;
            merge_user_metadata(tx, &user, &data, now).map_err(db_fail)?;
            set_providers(tx, user.id, has_email_identity(&user), now).map_err(db_fail)?;
            (user.id, identity, grant.email.to_lowercase())
        }
        Decision::Create { email } => {
            let mut user =
                crate::state::new_user(state, &email, "", None, data.clone(), false, false);
            user.app_metadata = json!({"provider": provider, "providers": [provider]});
            db::insert_user(tx, &user).map_err(db_fail)?;
            let identity = Identity::new(user.id, provider, data.clone(), now);
            identity::insert(tx, &identity).map_err(db_fail)?;
            (user.id, identity, email)
        }
    };
    let user = db::user_by_id(tx, user_id)
        .map_err(db_fail)?
        .ok_or_else(|| fail(ApiError::internal("user vanished")))?;
    if is_banned(&user, now) {
        return Err(fail(ApiError::new(
            StatusCode::FORBIDDEN,
            "user_banned",
            "User is banned",
        )));
    }
    if user.email_confirmed_at.is_none() {
        // An unconfirmed account gets only this identity: its password, other identities
        // and metadata came from nobody who proved the address.
        identity::delete_others(tx, user.id, identity.id).map_err(db_fail)?;
        db::clear_password(tx, user.id, now).map_err(db_fail)?;
        db::update_user_metadata(tx, user.id, &identity.identity_data, now).map_err(db_fail)?;
        set_providers(tx, user.id, false, now).map_err(db_fail)?;
        if grant.email_verified || state.config.autoconfirm {
            db::confirm_user(tx, user.id, true, now).map_err(db_fail)?;
            let confirmed = db::user_by_id(tx, user.id).map_err(db_fail)?;
            if let Some(confirmed) = &confirmed {
                merge_user_metadata(tx, confirmed, &json!({"email_verified": true}), now)
                    .map_err(db_fail)?;
            }
        } else {
            // GoTrue mails a confirmation link when it has an address; this server has no
            // mailer, so none is sent, but the answer is GoTrue's.
            let message = if candidate_email.is_empty() {
                format!("Unverified email with {provider}. Verify the email with {provider} in order to sign in")
            } else {
                format!("Unverified email with {provider}. A confirmation email has been sent to your {provider} email")
            };
            let error = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "provider_email_needs_verification",
                message,
            );
            return Err((Failure::Api(error), true));
        }
    }
    db::user_by_id(tx, user.id)
        .map_err(db_fail)?
        .ok_or_else(|| fail(ApiError::internal("user vanished")))
}

/// GoTrue's `UpdateUserMetaData`: the keys merged in, a `null` removing one.
fn merge_user_metadata(
    tx: &Connection,
    user: &User,
    updates: &Value,
    now: i64,
) -> rusqlite::Result<()> {
    let mut metadata = user.user_metadata.as_object().cloned().unwrap_or_default();
    for (key, value) in updates.as_object().into_iter().flatten() {
        if value.is_null() {
            metadata.remove(key);
        } else {
            metadata.insert(key.clone(), value.clone());
        }
    }
    db::update_user_metadata(tx, user.id, &Value::Object(metadata), now)
}

/// GoTrue's `UpdateAppMetaDataProviders`: `providers` from the user's identities, oldest
/// first (the derived `email` one is the oldest when kept), `provider` the first of them.
pub(crate) fn set_providers(
    tx: &Connection,
    user: Uuid,
    keep_email: bool,
    now: i64,
) -> rusqlite::Result<()> {
    let Some(current) = db::user_by_id(tx, user)? else {
        return Ok(());
    };
    let mut providers: Vec<String> = Vec::new();
    if keep_email && !current.email.is_empty() {
        providers.push("email".into());
    }
    for identity in &current.identities {
        if !providers.contains(&identity.provider) {
            providers.push(identity.provider.clone());
        }
    }
    let mut app_metadata = current
        .app_metadata
        .as_object()
        .cloned()
        .unwrap_or_default();
    if let Some(first) = providers.first() {
        app_metadata.insert("provider".into(), json!(first));
    }
    app_metadata.insert("providers".into(), json!(providers));
    db::update_app_metadata(tx, user, &Value::Object(app_metadata), now)
}

// ---- POST /token?grant_type=pkce ---------------------------------------------------------------

#[derive(Deserialize)]
pub struct PkceParams {
    #[serde(default)]
    auth_code: String,
    #[serde(default)]
    code_verifier: String,
}

/// GoTrue's `PKCE` grant, its checks in its order; the flow state is deleted with the session
/// issued, so an auth code works once.
pub fn pkce_grant(state: &AppState, params: PkceParams) -> Result<Response, ApiError> {
    if params.auth_code.is_empty() || params.code_verifier.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "invalid request: both auth code and code verifier should be non-empty",
        ));
    }
    let now = state.now_micros();
    let body = state.db.run(|conn| -> Result<Value, ApiError> {
        let tx = conn.transaction()?;
        let flow = flow_state::by_auth_code(&tx, &params.auth_code)?
            .filter(|flow| flow.user_id.is_some())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "flow_state_not_found",
                    "invalid flow state, no valid flow state found",
                )
            })?;
        if flow.is_expired(now) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "flow_state_expired",
                "invalid flow state, flow state has expired",
            ));
        }
        let user = flow
            .user_id
            .map(|id| db::user_by_id(&tx, id))
            .transpose()?
            .flatten()
            .ok_or_else(|| ApiError::internal("Database error finding user"))?;
        flow.verify(&params.code_verifier)
            .map_err(|why| ApiError::bad_request("bad_code_verifier", why))?;
        let (session, refresh_token) =
            start_session(&tx, state, &user, &flow.authentication_method, None)?;
        let user = db::user_by_id(&tx, user.id)?.unwrap_or(user);
        flow_state::delete(&tx, flow.id)?;
        tx.commit()?;
        let mut body = token_response(state, &user, &session, &refresh_token);
        if !flow.provider_access_token.is_empty() {
            body["provider_token"] = json!(flow.provider_access_token);
        }
        if !flow.provider_refresh_token.is_empty() {
            body["provider_refresh_token"] = json!(flow.provider_refresh_token);
        }
        Ok(body)
    })?;
    Ok(Json(body).into_response())
}
