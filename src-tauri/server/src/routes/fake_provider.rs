//! The built-in fake OAuth provider that stands in for every enabled provider (`github`,
//! `google`, …), so the whole browser flow runs on loopback: GoTrue's `/authorize` sends the
//! browser to `GET /_provider/<provider>/authorize`, a small form where a person (or a test)
//! picks the identity to sign in as, or denies. The form posts back here, and the provider
//! sends the browser to GoTrue's `/callback` with `code` and `state`, or with
//! `error=access_denied`, as a real provider does. GoTrue's code exchange is a lookup in
//! `provider_codes` (single use, 10 minutes).
//!
//! Not GoTrue: this is the other party. It is apart from GoTrue's routes (no API key, no
//! faults, not counted) and from `/_emulator` (it is meant for browsers).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use super::oauth::{callback_url, enabled_provider};
use super::Shared;
use crate::hash::{hex, random_bytes};
use crate::redirect::Values;
use crate::state::AppState;

/// How long a provider's authorization code can be exchanged (GitHub's lifetime).
pub const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// What GitHub's OAuth apps answer when the person clicks "Cancel".
pub const DENIED_DESCRIPTION: &str = "The user has denied your application access.";

pub fn routes() -> Router<Shared> {
    Router::new().route("/{provider}/authorize", get(page).post(decide))
}

/// This server's page for `provider` (GoTrue's provider `AuthURL`).
pub fn authorize_url(state: &AppState, provider: &str) -> String {
    format!("{}/_provider/{provider}/authorize", state.base_url)
}

/// The `iss` of the identities it vouches for.
pub fn issuer(state: &AppState, provider: &str) -> String {
    format!("{}/_provider/{provider}", state.base_url)
}

pub fn client_id(provider: &str) -> String {
    format!("local-gotrue-{provider}")
}

/// The scopes GoTrue asks for: the provider's own (GitHub `user:email`, Google `email
/// profile`, an email scope for the rest) and the comma-separated extra ones.
pub fn scopes(provider: &str, requested: &str) -> String {
    let base = match provider {
        "github" => "user:email",
        "google" => "email profile",
        _ => "email",
    };
    let mut all = vec![base.to_string()];
    all.extend(
        requested
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    all.join(" ")
}

/// What the provider hands GoTrue for a code: the profile and the provider's tokens.
#[derive(Debug, Clone)]
pub struct ProviderGrant {
    pub subject: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub access_token: String,
    /// Empty for GitHub, whose OAuth apps issue no refresh token.
    pub refresh_token: String,
}

/// GoTrue's `GetOAuthToken` + `GetUserData`: the code is used up whatever the outcome.
pub fn exchange(
    conn: &Connection,
    provider: &str,
    code: &str,
    now: i64,
) -> rusqlite::Result<Option<ProviderGrant>> {
    let row = conn
        .query_row(
            "SELECT provider, profile, access_token, refresh_token, created_at \
             FROM provider_codes WHERE code = ?1",
            [code],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, i64>(4)?,
                ))
            },
        )
        .optional()?;
    conn.execute("DELETE FROM provider_codes WHERE code = ?1", [code])?;
    let Some((issued_for, profile, access_token, refresh_token, created_at)) = row else {
        return Ok(None);
    };
    if issued_for != provider || now > created_at + CODE_LIFETIME.as_micros() as i64 {
        return Ok(None);
    }
    let profile: Value = serde_json::from_str(&profile).unwrap_or_default();
    let text = |key: &str| profile[key].as_str().unwrap_or_default().to_string();
    Ok(Some(ProviderGrant {
        subject: text("sub"),
        email: text("email"),
        email_verified: profile["email_verified"].as_bool().unwrap_or(false),
        name: text("name"),
        access_token,
        refresh_token,
    }))
}

/// A page from the provider: self-contained, not cached, not framed, no referrer.
fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title>\
         <style>body{{font:15px/1.4 system-ui,sans-serif;max-width:26rem;margin:3rem auto;\
         padding:0 1rem;color:#1f2328}}label{{display:block;margin:.7rem 0 .2rem}}\
         input[type=text],input[type=email]{{width:100%;padding:.4rem;box-sizing:border-box}}\
         .row{{display:flex;gap:.5rem;margin-top:1.2rem}}button{{padding:.5rem 1rem}}\
         small{{color:#59636e}}</style></head><body>{body}</body></html>",
        title = escape(title),
    );
    let headers = [
        (CONTENT_TYPE, "text/html; charset=utf-8"),
        (CACHE_CONTROL, "no-store"),
        (
            HeaderName::from_static("content-security-policy"),
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
        (HeaderName::from_static("referrer-policy"), "no-referrer"),
        (HeaderName::from_static("x-content-type-options"), "nosniff"),
    ];
    (
        status,
        headers.map(|(k, v)| (k, HeaderValue::from_static(v))),
        page,
    )
        .into_response()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn refused(status: StatusCode, why: &str) -> Response {
    html(
        status,
        "Sign-in refused",
        &format!("<h1>Sign-in refused</h1><p>{}</p>", escape(why)),
    )
}

/// The checks a provider makes on an authorization request: a client it knows, the redirect
/// URI registered for that client, a state to hand back. The refusal's status and reason.
fn check_request(
    state: &AppState,
    provider: &str,
    values: &Values,
) -> Result<String, (StatusCode, &'static str)> {
    let provider = enabled_provider(state, provider).map_err(|_| {
        (
            StatusCode::NOT_FOUND,
            "This provider is not enabled on this server.",
        )
    })?;
    if values.get("redirect_uri") != callback_url(state) {
        return Err((
            StatusCode::BAD_REQUEST,
            "The redirect_uri is not registered for this application.",
        ));
    }
    if values.get("state").is_empty() {
        return Err((StatusCode::BAD_REQUEST, "The request has no state."));
    }
    Ok(provider)
}

/// `GET /_provider/<provider>/authorize`: the sign-in form, prefilled with a made-up person.
async fn page(
    State(state): State<Shared>,
    Path(provider): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let values = Values::parse(query.as_deref().unwrap_or(""));
    let provider = match check_request(&state, &provider, &values) {
        Ok(provider) => provider,
        Err((status, why)) => return refused(status, why),
    };
    let field = |label: &str, name: &str, kind: &str, value: &str| {
        format!(
            "<label for=\"{name}\">{label}</label>\
             <input id=\"{name}\" name=\"{name}\" type=\"{kind}\" value=\"{}\">",
            escape(value)
        )
    };
    let body = format!(
        "<h1>Sign in with {provider}</h1>\
         <p><small>local-gotrue's stand-in for {provider}: choose who signs in. Scopes asked: \
         {scope}.</small></p>\
         <form method=\"post\" action=\"/_provider/{provider}/authorize\">\
         <input type=\"hidden\" name=\"state\" value=\"{state_value}\">\
         <input type=\"hidden\" name=\"redirect_uri\" value=\"{redirect_uri}\">\
         {email}{name}{sub}\
         <label><input type=\"checkbox\" name=\"email_verified\" value=\"true\" checked> \
         The provider has verified this email</label>\
         <div class=\"row\"><button id=\"allow\" name=\"decision\" value=\"allow\">Sign in</button>\
         <button id=\"deny\" name=\"decision\" value=\"deny\">Deny</button></div></form>",
        provider = escape(&provider),
        scope = escape(values.get("scope")),
        state_value = escape(values.get("state")),
        redirect_uri = escape(values.get("redirect_uri")),
        email = field(
            "Email",
            "email",
            "email",
            &format!("{provider}.user@example.com")
        ),
        name = field(
            "Name",
            "name",
            "text",
            &format!("{} User", title_case(&provider))
        ),
        sub = field("Provider user id", "sub", "text", "100001"),
    );
    html(StatusCode::OK, &format!("Sign in with {provider}"), &body)
}

fn title_case(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `POST /_provider/<provider>/authorize`: the person's answer, sent on to GoTrue.
async fn decide(State(state): State<Shared>, Path(provider): Path<String>, body: Body) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, super::MAX_BODY).await else {
        return refused(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.");
    };
    let form = Values::parse(&String::from_utf8_lossy(&bytes));
    let provider = match check_request(&state, &provider, &form) {
        Ok(provider) => provider,
        Err((status, why)) => return refused(status, why),
    };
    let mut answer = Values::default();
    if form.get("decision") == "deny" {
        answer.set("error", "access_denied");
        answer.set("error_description", DENIED_DESCRIPTION);
    } else {
        let subject = form.get("sub").trim();
        if subject.is_empty() {
            return refused(StatusCode::BAD_REQUEST, "A provider user id is needed.");
        }
        let code = hex(&random_bytes::<20>());
        let access_token = format!("{provider}-access-{}", hex(&random_bytes::<16>()));
        let refresh_token = match provider.as_str() {
            "github" => String::new(),
            _ => format!("{provider}-refresh-{}", hex(&random_bytes::<16>())),
        };
        let profile = json!({
            "sub": subject,
            "email": form.get("email").trim(),
            "email_verified": form.get("email_verified") == "true",
            "name": form.get("name").trim(),
        });
        let stored = state.db.run(|conn| {
            conn.execute(
                "INSERT INTO provider_codes (code, provider, profile, access_token, refresh_token, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![code, provider, profile.to_string(), access_token, refresh_token, state.now_micros()],
            )
        });
        if stored.is_err() {
            return refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The provider could not store the code.",
            );
        }
        answer.set("code", &code);
    }
    answer.set("state", form.get("state"));
    let location = format!("{}?{}", callback_url(&state), answer.encode());
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::FOUND, [(LOCATION, location)]).into_response(),
        Err(_) => refused(StatusCode::BAD_REQUEST, "The state cannot be sent back."),
    }
}
