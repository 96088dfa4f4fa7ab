//! GoTrue's admin API (`api/admin.go`, `api/invite.go`, `adminGenerateLink` in `api/mail.go`):
//! `/admin/users` (list, create), `/admin/users/{id}` (get, update, delete), the user's MFA
//! factors, `/admin/generate_link` and `/invite`. Every route is behind `admin::require_admin`
//! first, as GoTrue's router puts `requireAdminCredentials` before everything else.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::HeaderValue;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::verify::{confirm_email, confirm_phone};
use super::{json_body, read_body, Shared};
use crate::addresses::{validate_email, validate_phone};
use crate::admin::{request_aud, require_admin};
use crate::db::{self, User};
use crate::errors::ApiError;
use crate::mfa::{self, Factor};
use crate::one_time_token::{self as ott, Slot};
use crate::pending_changes;
use crate::state::{new_user, user_json, AppState};
use crate::user_columns;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/admin/users", get(list_users).post(create_user))
        .route(
            "/admin/users/{user_id}",
            get(get_user).put(update_user).delete(delete_user),
        )
        .route("/admin/users/{user_id}/factors", get(list_factors))
        .route(
            "/admin/users/{user_id}/factors/{factor_id}",
            axum::routing::put(update_factor).delete(delete_factor),
        )
        .route("/admin/generate_link", post(generate_link))
        .route("/invite", post(invite))
}

/// GoTrue's `DuplicateEmailMsg`.
const DUPLICATE_EMAIL: &str = "A user with this email address has already been registered";

/// GoTrue's `defaultPerPage`.
const DEFAULT_PER_PAGE: u64 = 50;

/// What pop's paginator uses when `per_page` is below 1.
const POP_PER_PAGE: u64 = 20;

/// bcrypt's limit, which GoTrue's password hashing enforces.
const MAX_PASSWORD_BYTES: usize = 72;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("validation_failed", message)
}

fn email_exists() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "email_exists",
        DUPLICATE_EMAIL,
    )
}

/// Any database failure inside a write, answered as GoTrue's handler answers it.
fn internal(message: &'static str) -> impl Fn(rusqlite::Error) -> ApiError {
    move |_| ApiError::internal(message)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AdminUserParams {
    id: String,
    aud: String,
    role: String,
    email: String,
    phone: String,
    password: Option<String>,
    password_hash: String,
    email_confirm: bool,
    phone_confirm: bool,
    user_metadata: Option<Map<String, Value>>,
    app_metadata: Option<Map<String, Value>>,
    ban_duration: String,
}

/// GoTrue's `loadUser`: the path's id must be a UUID of an existing user.
fn load_user(conn: &Connection, user_id: &str) -> Result<User, ApiError> {
    let id = Uuid::parse_str(user_id).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "validation_failed",
            "user_id must be an UUID",
        )
    })?;
    db::user_by_id(conn, id)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "user_not_found", "User not found"))
}

/// GoTrue's `loadFactor`: the path's factor id must be a UUID of a factor the user owns.
fn load_factor(conn: &Connection, user: &User, factor_id: &str) -> Result<Factor, ApiError> {
    let id = Uuid::parse_str(factor_id).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "validation_failed",
            "factor_id must be an UUID",
        )
    })?;
    mfa::factor_of_user(conn, user.id, id)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "mfa_factor_not_found",
            "Factor not found",
        )
    })
}

/// GoTrue's `ban_duration`: `"none"` lifts a ban (`Some(0)`), a Go duration sets one.
fn ban_duration(text: &str) -> Result<Option<i64>, ApiError> {
    match text {
        "" => Ok(None),
        "none" => Ok(Some(0)),
        text => crate::go_duration::parse(text)
            .map(Some)
            .map_err(|e| invalid(format!("invalid format for ban duration: {e}"))),
    }
}

/// GoTrue's `User.Ban`: a zero duration clears `banned_until`.
fn ban(conn: &Connection, state: &AppState, user: Uuid, duration: i64) -> rusqlite::Result<()> {
    let now = state.now_micros();
    let until = (duration != 0).then_some(now + duration);
    db::set_banned_until(conn, user, until, now).map(|_| ())
}

/// GoTrue's `UpdateUserMetaData` / `UpdateAppMetaData`: keys are merged in, a `null` removes.
fn merged(current: &Value, updates: &Map<String, Value>) -> Value {
    let mut metadata = current.as_object().cloned().unwrap_or_default();
    for (key, value) in updates {
        if value.is_null() {
            metadata.remove(key);
        } else {
            metadata.insert(key.clone(), value.clone());
        }
    }
    Value::Object(metadata)
}

fn reload(conn: &Connection, id: Uuid) -> Result<User, ApiError> {
    db::user_by_id(conn, id)?.ok_or_else(|| ApiError::internal("user vanished"))
}

/// A password for a user created without one: no one knows it (GoTrue generates 64
/// random characters the same way).
fn unknown_password() -> String {
    crate::hash::random_secret()
}

/// GoTrue's `paginate`: `page` and `per_page` must be unsigned integers.
fn page_param(uri: &Uri, name: &str, default: u64) -> Result<u64, ApiError> {
    match super::query_param(uri.query(), name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => text.parse::<u64>().map_err(|_| {
            invalid(format!(
                "Bad Pagination Parameters: strconv.ParseUint: parsing {text:?}: invalid syntax"
            ))
        }),
    }
}

/// `GET /admin/users?page=&per_page=&filter=`: `{users, aud}` with GoTrue's `Link` and
/// `X-Total-Count` headers.
pub async fn list_users(
    State(state): State<Shared>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let aud = request_aud(&headers);
    let page = page_param(&uri, "page", 1)?;
    let per_page = page_param(&uri, "per_page", DEFAULT_PER_PAGE)?;
    let filter = super::query_param(uri.query(), "filter").unwrap_or_default();
    // pop's paginator reads a page below 1 as the first and a size below 1 as 20.
    let (effective_page, effective_per_page) = (
        page.max(1),
        if per_page < 1 { POP_PER_PAGE } else { per_page },
    );
    let offset = (effective_page - 1).saturating_mul(effective_per_page);
    let (users, total) = state
        .db
        .run(|conn| db::users_page(conn, &aud, &filter, effective_per_page, offset))
        .map_err(internal("Database error finding users"))?;
    let body = json!({
        "users": users.iter().map(user_json).collect::<Vec<_>>(),
        "aud": aud,
    });
    let mut response = Json(body).into_response();
    // Deviation: GoTrue divides by the `per_page` it was sent and fails on 0; the size
    // actually used is the divisor here.
    let link = pagination_link(&uri, page, effective_per_page, total);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&link) {
        headers.insert("link", value);
    }
    headers.insert("x-total-count", HeaderValue::from(total));
    Ok(response)
}

/// GoTrue's `addPaginationHeaders`: a `next` link while pages remain, and the `last` one; the
/// request's own path and query with `page` replaced (query keys sorted, as Go encodes them).
fn pagination_link(uri: &Uri, page: u64, per_page: u64, total: u64) -> String {
    let total_pages = total.div_ceil(per_page);
    let with_page = |page: u64| {
        let mut pairs: Vec<(String, String)> =
            form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .filter(|(key, _)| key != "page")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        pairs.push(("page".into(), page.to_string()));
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{}?{query}", uri.path())
    };
    let mut header = String::new();
    if total_pages > page {
        header.push_str(&format!("<{}>; rel=\"next\", ", with_page(page + 1)));
    }
    header.push_str(&format!("<{}>; rel=\"last\"", with_page(total_pages)));
    header
}

/// `POST /admin/users`, with GoTrue's checks in its order.
pub async fn create_user(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let mut params: AdminUserParams = json_body(body).await?;
    let aud = if params.aud.is_empty() {
        request_aud(&headers)
    } else {
        params.aud.clone()
    };
    if params.email.is_empty() && params.phone.is_empty() {
        return Err(invalid(
            "Cannot create a user without either an email or phone",
        ));
    }
    let user = state.db.run(|conn| -> Result<User, ApiError> {
        let tx = conn.transaction()?;
        let mut providers = Vec::new();
        if !params.email.is_empty() {
            params.email = validate_email(&params.email)?;
            if db::user_by_email(&tx, &params.email)?.is_some_and(|u| u.aud == aud) {
                return Err(email_exists());
            }
            providers.push("email");
        }
        if !params.phone.is_empty() {
            params.phone = validate_phone(&params.phone)?;
            if db::user_by_phone(&tx, &params.phone)?.is_some_and(|u| u.aud == aud) {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "phone_exists",
                    "Phone number already registered by another user",
                ));
            }
            providers.push("phone");
        }
        if params.password.is_some() && !params.password_hash.is_empty() {
            return Err(invalid(
                "Only a password or a password hash should be provided",
            ));
        }
        if !params.password_hash.is_empty() {
            // Deviation: GoTrue takes a bcrypt, Argon2 or Firebase-scrypt hash to import; this
            // server keeps its own password hashes and cannot check those.
            return Err(invalid(
                "local-gotrue does not import password hashes; send the password instead",
            ));
        }
        let password = params
            .password
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(unknown_password);
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(invalid("bcrypt: password length exceeds 72 bytes"));
        }
        let metadata = params
            .user_metadata
            .clone()
            .map(Value::Object)
            .unwrap_or_else(|| json!({}));
        let mut user = new_user(
            &state,
            &params.email,
            &params.phone,
            Some(&password),
            metadata,
            false,
            false,
        );
        user.aud = aud.clone();
        if !params.id.is_empty() {
            let id = Uuid::parse_str(&params.id)
                .map_err(|_| invalid("ID must conform to the uuid v4 format"))?;
            if id.is_nil() {
                return Err(invalid("ID cannot be a nil uuid"));
            }
            user.id = id;
        }
        user.app_metadata = json!({"provider": providers[0], "providers": providers});
        let ban = ban_duration(&params.ban_duration)?;
        // GoTrue's `JWT_DEFAULT_GROUP_NAME` is `authenticated` on the Supabase CLI and hosted.
        if !params.role.is_empty() {
            user.role = params.role.clone();
        }
        if let Some(updates) = &params.app_metadata {
            user.app_metadata = merged(&user.app_metadata, updates);
        }
        let failed = internal("Database error creating new user");
        db::insert_user(&tx, &user).map_err(&failed)?;
        if params.email_confirm {
            confirm_email(&tx, &state, &user).map_err(&failed)?;
        }
        if params.phone_confirm {
            confirm_phone(&tx, &state, &user).map_err(&failed)?;
        }
        if let Some(duration) = ban {
            self::ban(&tx, &state, user.id, duration).map_err(&failed)?;
        }
        let user = reload(&tx, user.id)?;
        tx.commit()?;
        Ok(user)
    })?;
    Ok(Json(user_json(&user)).into_response())
}

pub async fn get_user(
    State(state): State<Shared>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let user = state.db.run(|conn| load_user(conn, &user_id))?;
    Ok(Json(user_json(&user)).into_response())
}

/// `PUT /admin/users/{id}`: GoTrue's `adminUserUpdate`, field by field in its order.
pub async fn update_user(
    State(state): State<Shared>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let user = state.db.run(|conn| load_user(conn, &user_id))?;
    let mut params: AdminUserParams = json_body(body).await?;
    if !params.email.is_empty() {
        params.email = validate_email(&params.email)?;
    }
    if !params.phone.is_empty() {
        params.phone = validate_phone(&params.phone)?;
    }
    let ban = ban_duration(&params.ban_duration)?;
    if let Some(password) = &params.password {
        super::account::check_password_strength(password)?;
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(invalid("bcrypt: password length exceeds 72 bytes"));
        }
    }
    let now = state.now_micros();
    let user = state.db.run(|conn| -> Result<User, ApiError> {
        let tx = conn.transaction()?;
        let apply = || -> rusqlite::Result<()> {
            let id = user.id;
            if !params.role.is_empty() {
                db::set_user_column(&tx, id, "role", &params.role, now)?;
            }
            if params.email_confirm {
                confirm_email(&tx, &state, &reload_plain(&tx, id)?)?;
            }
            if params.phone_confirm {
                confirm_phone(&tx, &state, &user)?;
            }
            if let Some(password) = &params.password {
                // GoTrue's `UpdatePassword` without a session: the outstanding tokens are
                // revoked and every session of the user ends.
                crate::token_revocation::update_password(
                    &tx,
                    id,
                    &crate::hash::hash_password(password),
                    None,
                    now,
                )?;
            }
            if !params.email.is_empty() {
                if user.is_anonymous && params.email_confirm {
                    db::set_user_column(&tx, id, "is_anonymous", &false, now)?;
                }
                db::set_user_column(&tx, id, "email", &params.email, now)?;
            }
            if !params.phone.is_empty() {
                if user.is_anonymous && params.phone_confirm {
                    db::set_user_column(&tx, id, "is_anonymous", &false, now)?;
                }
                db::set_user_column(&tx, id, "phone", &params.phone, now)?;
            }
            if let Some(updates) = &params.app_metadata {
                let current = reload_plain(&tx, id)?;
                db::update_app_metadata(&tx, id, &merged(&current.app_metadata, updates), now)?;
            }
            if let Some(updates) = &params.user_metadata {
                let current = reload_plain(&tx, id)?;
                db::update_user_metadata(&tx, id, &merged(&current.user_metadata, updates), now)?;
            }
            if let Some(duration) = ban {
                self::ban(&tx, &state, id, duration)?;
            }
            Ok(())
        };
        apply().map_err(internal("Error updating user"))?;
        let user = reload(&tx, user.id)?;
        tx.commit()?;
        Ok(user)
    })?;
    Ok(Json(user_json(&user)).into_response())
}

fn reload_plain(conn: &Connection, id: Uuid) -> rusqlite::Result<User> {
    db::user_by_id(conn, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteParams {
    should_soft_delete: bool,
}

/// `DELETE /admin/users/{id}`: gone for good, or soft-deleted with `should_soft_delete` (an
/// empty body is allowed). Answers `{}`.
pub async fn delete_user(
    State(state): State<Shared>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let user = state.db.run(|conn| load_user(conn, &user_id))?;
    let bytes = read_body(body).await?;
    let params: DeleteParams = if bytes.is_empty() {
        DeleteParams::default()
    } else {
        serde_json::from_slice(&bytes).map_err(ApiError::bad_json)?
    };
    let now = state.now_micros();
    state.db.run(|conn| -> Result<(), ApiError> {
        let tx = conn.transaction()?;
        if !params.should_soft_delete {
            db::delete_user(&tx, user.id).map_err(internal("Database error deleting user"))?;
        } else if user.deleted_at.is_none() {
            user_columns::soft_delete(&tx, user.id, now)
                .and_then(|()| ott::clear_all(&tx, user.id))
                .map_err(internal("Error soft deleting user"))?;
            tx.execute(
                "DELETE FROM mfa_factors WHERE user_id = ?1",
                [user.id.to_string()],
            )
            .map_err(internal("Error deleting user's factors"))?;
            db::delete_user_sessions(&tx, user.id, None)
                .map_err(internal("Error deleting user's sessions"))?;
        }
        tx.commit()?;
        Ok(())
    })?;
    Ok(Json(json!({})).into_response())
}

/// `GET /admin/users/{id}/factors`: the user's factors, as the user object lists them.
pub async fn list_factors(
    State(state): State<Shared>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let user = state.db.run(|conn| load_user(conn, &user_id))?;
    let factors: Vec<Value> = user.factors.iter().map(mfa::factor_json).collect();
    Ok(Json(Value::Array(factors)).into_response())
}

/// `DELETE /admin/users/{id}/factors/{factor_id}`: the factor goes and the sessions it raised
/// drop to aal1; answers the deleted factor.
pub async fn delete_factor(
    State(state): State<Shared>,
    Path((user_id, factor_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let factor = state.db.run(|conn| -> Result<Factor, ApiError> {
        let tx = conn.transaction()?;
        let user = load_user(&tx, &user_id)?;
        let factor = load_factor(&tx, &user, &factor_id)?;
        mfa::delete_factor(&tx, factor.id).map_err(internal("Database error deleting factor"))?;
        mfa::downgrade_sessions_of_factor(&tx, &factor)
            .map_err(internal("Database error downgrading sessions"))?;
        tx.commit()?;
        Ok(factor)
    })?;
    Ok(Json(mfa::factor_json(&factor)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UpdateFactorParams {
    friendly_name: String,
    phone: String,
}

/// `PUT /admin/users/{id}/factors/{factor_id}`: a new friendly name (and, for phone factors,
/// a new number); answers the factor.
pub async fn update_factor(
    State(state): State<Shared>,
    Path((user_id, factor_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let (user, factor) = state.db.run(|conn| -> Result<_, ApiError> {
        let user = load_user(conn, &user_id)?;
        let factor = load_factor(conn, &user, &factor_id)?;
        Ok((user, factor))
    })?;
    let params: UpdateFactorParams = json_body(body).await?;
    let now = state.now_micros();
    let factor = state.db.run(|conn| -> Result<Factor, ApiError> {
        let tx = conn.transaction()?;
        if !params.friendly_name.is_empty() {
            mfa::update_factor_column(&tx, factor.id, "friendly_name", &params.friendly_name, now)?;
        }
        if !params.phone.is_empty() && factor.factor_type == mfa::PHONE {
            let phone = validate_phone(&params.phone)
                .map_err(|_| invalid("Invalid phone number format (E.164 required)"))?;
            mfa::update_factor_column(&tx, factor.id, "phone", &phone, now)?;
        }
        let factor = mfa::factor_of_user(&tx, user.id, factor.id)?
            .ok_or_else(|| ApiError::internal("factor vanished"))?;
        tx.commit()?;
        Ok(factor)
    })?;
    Ok(Json(mfa::factor_json(&factor)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GenerateLinkParams {
    #[serde(rename = "type")]
    kind: String,
    email: String,
    new_email: String,
    password: String,
    data: Option<Map<String, Value>>,
    redirect_to: String,
}

/// `POST /admin/generate_link`: GoTrue's `adminGenerateLink`. The token is stored as the
/// matching email would store it, and the link, code and hash are answered with the user;
/// no email is sent.
pub async fn generate_link(
    State(state): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let mut params: GenerateLinkParams = json_body(body).await?;
    params.email = validate_email(&params.email)?;
    let mut referrer = crate::redirect::referrer(&state, uri.query(), &headers);
    if crate::redirect::rules(&state).is_valid(&params.redirect_to) {
        referrer = params.redirect_to.clone();
    }
    let aud = request_aud(&headers);
    let now = state.now_micros();
    let body = state.db.run(|conn| -> Result<Value, ApiError> {
        let tx = conn.transaction()?;
        let existing = db::user_by_email(&tx, &params.email)?.filter(|u| u.aud == aud);
        if existing.is_none() {
            match params.kind.as_str() {
                // A magic link for no one signs them up, with a password no one knows.
                "magiclink" => {
                    params.kind = "signup".into();
                    params.password = unknown_password();
                }
                "recovery" | "email_change_current" | "email_change_new" => {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        "user_not_found",
                        "User with this email not found",
                    ));
                }
                _ => {}
            }
        }
        let otp = ott::generate_otp();
        let hashed_token = ott::token_hash(&params.email, &otp);
        let metadata = params
            .data
            .clone()
            .map(Value::Object)
            .unwrap_or_else(|| json!({}));
        let fresh = |password: Option<&str>| {
            let mut user = new_user(
                &state,
                &params.email,
                "",
                password,
                metadata.clone(),
                false,
                false,
            );
            user.aud = aud.clone();
            user
        };
        let (user, link_kind, link_token) = match params.kind.as_str() {
            "magiclink" | "recovery" => {
                let user = existing.expect("found above");
                ott::put(
                    &tx,
                    user.id,
                    Slot::Recovery,
                    &hashed_token,
                    &user.email,
                    now,
                )?;
                (user, params.kind.clone(), hashed_token.clone())
            }
            "invite" => {
                let user = match existing {
                    Some(user) if user.email_confirmed_at.is_some() => return Err(email_exists()),
                    Some(user) => user,
                    None => {
                        let user = fresh(None);
                        db::insert_user(&tx, &user)?;
                        user
                    }
                };
                user_columns::set_invited_at(&tx, user.id, now)?;
                ott::put(
                    &tx,
                    user.id,
                    Slot::Confirmation,
                    &hashed_token,
                    &user.email,
                    now,
                )?;
                (user, "invite".into(), hashed_token.clone())
            }
            "signup" => {
                let user = match existing {
                    Some(user) if user.email_confirmed_at.is_some() => return Err(email_exists()),
                    Some(user) => {
                        if let Some(data) = &params.data {
                            let metadata = merged(&user.user_metadata, data);
                            db::update_user_metadata(&tx, user.id, &metadata, now)?;
                        }
                        user
                    }
                    None => {
                        // GoTrue's `validateSignupParams`.
                        if params.password.is_empty() {
                            return Err(invalid("Signup requires a valid password"));
                        }
                        super::account::check_password_strength(&params.password)?;
                        let user = fresh(Some(&params.password));
                        db::insert_user(&tx, &user)?;
                        user
                    }
                };
                ott::put(
                    &tx,
                    user.id,
                    Slot::Confirmation,
                    &hashed_token,
                    &user.email,
                    now,
                )?;
                (user, "signup".into(), hashed_token.clone())
            }
            "email_change_current" | "email_change_new" => {
                // Without secure email change no link goes to the current address.
                if !state.config.secure_email_change && params.kind == "email_change_current" {
                    return Err(invalid(
                        "Enable secure email change to generate link for current email",
                    ));
                }
                let user = existing.expect("found above");
                let new_email = validate_email(&params.new_email)?;
                let taken = db::user_by_email(&tx, &new_email)?
                    .is_some_and(|other| other.id != user.id && other.aud == user.aud);
                if taken {
                    return Err(email_exists());
                }
                // GoTrue writes the type's token and leaves the other side's as it was; the
                // answer's `hashed_token` is the current address's hash for both types, while
                // the link to the new address carries the new address's hash.
                let pending = &user.pending;
                let (current, new) = if params.kind == "email_change_current" {
                    (hashed_token.clone(), pending.email_change_token_new.clone())
                } else {
                    (
                        pending.email_change_token_current.clone(),
                        ott::token_hash(&new_email, &otp),
                    )
                };
                pending_changes::start_email_change(&tx, user.id, &new_email, &current, &new, now)?;
                let token = if params.kind == "email_change_current" {
                    current
                } else {
                    new
                };
                (user, "email_change".into(), token)
            }
            other => {
                return Err(invalid(format!(
                    "Invalid email action link type requested: {other}"
                )))
            }
        };
        let user = reload(&tx, user.id)?;
        tx.commit()?;
        let mut body = user_json(&user);
        body["action_link"] = json!(crate::mailer::action_link(
            &state,
            &link_token,
            &link_kind,
            &referrer
        ));
        body["email_otp"] = json!(otp);
        body["hashed_token"] = json!(hashed_token);
        body["verification_type"] = json!(params.kind);
        body["redirect_to"] = json!(referrer);
        Ok(body)
    })?;
    Ok(Json(body).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InviteParams {
    email: String,
    data: Option<Map<String, Value>>,
}

/// `POST /invite`: GoTrue's `Invite`. A new user (or an unconfirmed one) gets the invite
/// email in the inbox; its link verifies with type `invite`. Answers the user.
pub async fn invite(
    State(state): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let params: InviteParams = json_body(body).await?;
    let email = validate_email(&params.email)?;
    let aud = request_aud(&headers);
    let redirect_to = crate::redirect::referrer(&state, uri.query(), &headers);
    let now = state.now_micros();
    let (user, message) = state.db.run(|conn| -> Result<_, ApiError> {
        let tx = conn.transaction()?;
        let user = match db::user_by_email(&tx, &email)?.filter(|u| u.aud == aud) {
            Some(user) if user.email_confirmed_at.is_some() => return Err(email_exists()),
            Some(user) => user,
            None => {
                let metadata = params
                    .data
                    .clone()
                    .map(Value::Object)
                    .unwrap_or_else(|| json!({}));
                let mut user = new_user(&state, &email, "", None, metadata, false, false);
                user.aud = aud.clone();
                db::insert_user(&tx, &user)?;
                user
            }
        };
        let message = crate::mailer::send_invite(&tx, &state, &user, &redirect_to)?;
        user_columns::set_invited_at(&tx, user.id, now)?;
        let user = reload(&tx, user.id)?;
        tx.commit()?;
        Ok((user, message))
    })?;
    state.inbox.deliver(message);
    Ok(Json(user_json(&user)).into_response())
}
