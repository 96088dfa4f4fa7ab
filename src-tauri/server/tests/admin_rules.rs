//! GoTrue's admin API rules as supabase/auth implements them (`internal/api/admin.go`,
//! `invite.go`, `adminGenerateLink` in `mail.go`, `requireAdminCredentials` in
//! `middleware.go`, `requireAdmin` in `auth.go`), one test per rule, named for it. The admin
//! token is the service-role key (HS256, role `service_role`).

mod common;

use common::{assert_error, start, start_with, Harness, Reply, EMAIL, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

async fn call(h: &Harness, method: Method, path: &str, token: &str, body: Option<Value>) -> Reply {
    let mut request = h
        .http
        .request(method, h.url(path))
        .header("X-Supabase-Api-Version", "2024-01-01")
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    h.send(request).await
}

async fn admin(h: &Harness, method: Method, path: &str, body: Option<Value>) -> Reply {
    let key = h.server.service_role_key().to_string();
    call(h, method, path, &key, body).await
}

async fn create(h: &Harness, body: Value) -> Reply {
    admin(h, Method::POST, "/admin/users", Some(body)).await
}

async fn created(h: &Harness, email: &str) -> Value {
    let reply = create(h, json!({"email": email, "password": "password-1"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body
}

fn id_of(user: &Value) -> String {
    user["id"].as_str().expect("an id").to_string()
}

async fn inbox(h: &Harness, to: &str) -> Vec<Value> {
    let reply = h
        .control(Method::GET, &format!("/inbox?to={to}"), None)
        .await;
    reply.body.as_array().cloned().unwrap_or_default()
}

fn query_value(link: &str, name: &str) -> String {
    let query = link.split_once('?').expect("a query").1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

// --- The gate ---------------------------------------------------------------------------

#[tokio::test]
async fn admin_routes_without_a_bearer_token_are_no_authorization() {
    let h = start().await;
    let reply = h
        .send(
            h.http
                .get(h.url("/admin/users"))
                .header("X-Supabase-Api-Version", "2024-01-01"),
        )
        .await;
    assert_error(
        &reply,
        401,
        "no_authorization",
        "This endpoint requires a valid Bearer token",
    );
}

#[tokio::test]
async fn admin_routes_with_an_unverifiable_token_are_bad_jwt() {
    let h = start().await;
    let reply = call(&h, Method::GET, "/admin/users", "not.a.jwt", None).await;
    assert_eq!((reply.status.as_u16(), reply.code()), (403, "bad_jwt"));
}

#[tokio::test]
async fn a_token_whose_role_is_not_an_admin_role_is_not_admin() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let reply = call(&h, Method::GET, "/admin/users", &token, None).await;
    assert_error(&reply, 403, "not_admin", "User not allowed");
    let reply = call(&h, Method::GET, "/admin/users", h.server.anon_key(), None).await;
    assert_error(&reply, 403, "not_admin", "User not allowed");
}

#[tokio::test]
async fn jwt_admin_roles_decides_which_roles_are_admins() {
    let h = start_with(|c| c.admin_roles = vec!["authenticated".into()]).await;
    let token = h.sign_in().await.access_token();
    let reply = call(&h, Method::GET, "/admin/users", &token, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = admin(&h, Method::GET, "/admin/users", None).await;
    assert_error(&reply, 403, "not_admin", "User not allowed");
}

#[tokio::test]
async fn an_admin_token_naming_a_session_needs_that_session_to_exist() {
    let h = start_with(|c| c.admin_roles = vec!["authenticated".into()]).await;
    let token = h.sign_in().await.access_token();
    let reply = call(&h, Method::POST, "/logout", &token, None).await;
    assert_eq!(reply.status, 204);
    let reply = call(&h, Method::GET, "/admin/users", &token, None).await;
    assert_error(
        &reply,
        403,
        "session_not_found",
        "Session from session_id claim in JWT does not exist",
    );
}

/// A token signed with the server's own secret (HS256, no `kid`), carrying `claims`.
fn signed(claims: Value) -> String {
    signed_with(local_gotrue::config::DEFAULT_JWT_SECRET, claims)
}

fn signed_with(secret: &str, claims: Value) -> String {
    use local_gotrue::config::SigningAlgorithm;
    use local_gotrue::jwt::Keys;
    Keys::new(
        secret,
        SigningAlgorithm::Hs256,
        &Keys::generate_ec_private(),
    )
    .expect("keys")
    .sign_hs256(&claims)
}

#[tokio::test]
async fn require_admin_credentials_checks_the_named_sessions_validity() {
    let h = start_with(|c| {
        c.admin_roles = vec!["authenticated".into()];
        c.sessions.timebox = Some(std::time::Duration::from_secs(60));
    })
    .await;
    let token = h.sign_in().await.access_token();
    let reply = call(&h, Method::GET, "/admin/users", &token, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    h.skew_clock(120.0).await;
    let reply = call(&h, Method::GET, "/admin/users", &token, None).await;
    assert_error(&reply, 403, "session_expired", "Session is no longer valid");
}

#[tokio::test]
async fn maybe_load_user_or_session_looks_the_user_up_before_parsing_the_session_id() {
    let h = start().await;
    let missing_user = signed(json!({"role": "service_role",
        "sub": "00000000-0000-4000-8000-000000000001", "session_id": "not-a-uuid"}));
    let reply = call(&h, Method::GET, "/admin/users", &missing_user, None).await;
    assert_error(
        &reply,
        403,
        "user_not_found",
        "User from sub claim in JWT does not exist",
    );
    let user = common::claims(&h.sign_in().await.access_token())["sub"].clone();
    let bad_session =
        signed(json!({"role": "service_role", "sub": user, "session_id": "not-a-uuid"}));
    let reply = call(&h, Method::GET, "/admin/users", &bad_session, None).await;
    assert_error(
        &reply,
        403,
        "bad_jwt",
        "invalid claim: session_id claim must be a UUID",
    );
}

#[tokio::test]
async fn a_session_id_claim_that_is_not_a_string_fails_decoding_as_bad_jwt() {
    let h = start().await;
    let user = common::claims(&h.sign_in().await.access_token())["sub"].clone();
    let token = signed(json!({"role": "service_role", "sub": user, "session_id": 7}));
    let reply = call(&h, Method::GET, "/admin/users", &token, None).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (403, "bad_jwt"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn a_service_role_token_signed_with_another_secret_is_bad_jwt() {
    let h = start().await;
    let token = signed_with(
        "another-secret-another-secret-another",
        json!({"role": "service_role"}),
    );
    let reply = call(&h, Method::GET, "/admin/users", &token, None).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (403, "bad_jwt"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn a_service_role_token_with_alg_none_is_bad_jwt() {
    use base64::Engine as _;
    let h = start().await;
    let b64 = |v: Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
    };
    let token = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(json!({"role": "service_role"}))
    );
    let reply = call(&h, Method::GET, "/admin/users", &token, None).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (403, "bad_jwt"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn request_aud_is_the_x_jwt_aud_header_else_the_configured_audience_never_the_tokens() {
    let h = start().await;
    let token = signed(json!({"role": "service_role", "aud": "from-the-token"}));
    let reply = call(
        &h,
        Method::POST,
        "/admin/users",
        &token,
        Some(json!({"email": "aud-1@example.com"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["aud"], "authenticated");
    let reply = h
        .send(
            h.http
                .post(h.url("/admin/users"))
                .bearer_auth(&token)
                .header("X-JWT-AUD", "from-the-header")
                .json(&json!({"email": "aud-2@example.com"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["aud"], "from-the-header");
}

// --- POST /admin/users -----------------------------------------------------------------

#[tokio::test]
async fn create_user_needs_an_email_or_a_phone() {
    let h = start().await;
    let reply = create(&h, json!({"password": "password-1"})).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Cannot create a user without either an email or phone",
    );
}

#[tokio::test]
async fn create_user_validates_the_email() {
    let h = start().await;
    let reply = create(&h, json!({"email": "xx:;x@x.x", "password": "password123"})).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Unable to validate email address: invalid format",
    );
}

#[tokio::test]
async fn create_user_with_a_registered_email_is_email_exists() {
    let h = start().await;
    let reply = create(&h, json!({"email": EMAIL.to_uppercase()})).await;
    assert_error(
        &reply,
        422,
        "email_exists",
        "A user with this email address has already been registered",
    );
}

#[tokio::test]
async fn create_user_with_a_registered_phone_is_phone_exists() {
    let h = start().await;
    assert_eq!(
        create(&h, json!({"phone": "15550100001"})).await.status,
        200
    );
    let reply = create(&h, json!({"phone": "+1 555 010 0001"})).await;
    assert_error(
        &reply,
        422,
        "phone_exists",
        "Phone number already registered by another user",
    );
}

#[tokio::test]
async fn created_users_are_unconfirmed_unless_email_confirm() {
    let h = start().await;
    let plain = created(&h, "plain@example.com").await;
    assert!(plain.get("email_confirmed_at").is_none(), "{plain}");
    let reply = create(
        &h,
        json!({"email": "confirmed@example.com", "password": "password-1", "email_confirm": true}),
    )
    .await;
    assert!(
        reply.body["email_confirmed_at"].is_string(),
        "{}",
        reply.text
    );
    assert_eq!(reply.body["user_metadata"]["email_verified"], true);
    // A confirmed user signs in with the password it was given.
    h.sign_in_as("confirmed@example.com", "password-1").await;
}

#[tokio::test]
async fn create_user_sets_the_providers_then_merges_app_metadata() {
    let h = start().await;
    let reply = create(
        &h,
        json!({
            "email": "meta@example.com",
            "phone": "15550100002",
            "user_metadata": {"profile_image": "https://avatars.example/1"},
            "app_metadata": {"roles": ["admin"], "provider": null},
        }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.body["app_metadata"],
        json!({"providers": ["email", "phone"], "roles": ["admin"]})
    );
    assert_eq!(
        reply.body["user_metadata"],
        json!({"profile_image": "https://avatars.example/1"})
    );
    assert_eq!(reply.body["aud"], "authenticated");
    assert_eq!(reply.body["role"], "authenticated");
}

#[tokio::test]
async fn create_user_takes_an_id_that_is_a_non_nil_uuid() {
    let h = start().await;
    let id = "83fd9e20-7a80-46e4-bf29-a86e3d6bbf66";
    let reply = create(&h, json!({"email": "id@example.com", "id": id})).await;
    assert_eq!(reply.body["id"], id, "{}", reply.text);
    let reply = create(&h, json!({"email": "bad@example.com", "id": "seven"})).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "ID must conform to the uuid v4 format",
    );
    let nil = "00000000-0000-0000-0000-000000000000";
    let reply = create(&h, json!({"email": "nil@example.com", "id": nil})).await;
    assert_error(&reply, 400, "validation_failed", "ID cannot be a nil uuid");
}

#[tokio::test]
async fn create_user_with_a_ban_duration_bans_and_a_bad_one_is_refused() {
    let h = start().await;
    let reply = create(
        &h,
        json!({"email": "banned@example.com", "password": "password-1", "email_confirm": true, "ban_duration": "1h"}),
    )
    .await;
    assert!(reply.body["banned_until"].is_string(), "{}", reply.text);
    let reply = create(
        &h,
        json!({"email": "x@example.com", "ban_duration": "forever"}),
    )
    .await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "invalid format for ban duration: time: invalid duration \"forever\"",
    );
}

// --- GET /admin/users ------------------------------------------------------------------

#[tokio::test]
async fn list_users_pages_newest_first_with_link_and_total_count() {
    let h = start().await;
    for name in ["a", "b", "c"] {
        created(&h, &format!("{name}@example.com")).await;
    }
    let reply = admin(&h, Method::GET, "/admin/users?page=1&per_page=2", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["aud"], "authenticated");
    let emails: Vec<&str> = reply.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["c@example.com", "b@example.com"]);
    assert_eq!(reply.header("x-total-count"), Some("4"));
    assert_eq!(
        reply.header("link"),
        Some(
            "</admin/users?page=2&per_page=2>; rel=\"next\", </admin/users?page=2&per_page=2>; rel=\"last\""
        )
    );
    let reply = admin(&h, Method::GET, "/admin/users?page=2&per_page=2", None).await;
    assert_eq!(reply.body["users"].as_array().unwrap().len(), 2);
    assert_eq!(
        reply.header("link"),
        Some("</admin/users?page=2&per_page=2>; rel=\"last\"")
    );
}

#[tokio::test]
async fn list_users_with_a_page_that_is_not_an_unsigned_integer_is_refused() {
    let h = start().await;
    let reply = admin(&h, Method::GET, "/admin/users?page=-1&per_page=10", None).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Bad Pagination Parameters: strconv.ParseUint: parsing \"-1\": invalid syntax",
    );
}

async fn filtered(h: &Harness, filter: &str) -> Vec<String> {
    let reply = admin(
        h,
        Method::GET,
        &format!("/admin/users?filter={filter}"),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn find_users_in_audience_filters_email_with_like_and_full_name_with_ilike() {
    let h = start().await;
    created(&h, "findme@example.com").await;
    let reply = create(
        &h,
        json!({"email": "other@example.com", "user_metadata": {"full_name": "Ada Lovelace"}}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // Email: Postgres LIKE, case-sensitive, `_` a wildcard.
    assert_eq!(filtered(&h, "findme").await, ["findme@example.com"]);
    assert!(filtered(&h, "FINDME").await.is_empty());
    assert_eq!(filtered(&h, "f_ndme").await, ["findme@example.com"]);
    // full_name: ILIKE, case-insensitive.
    assert_eq!(filtered(&h, "LOVELACE").await, ["other@example.com"]);
    let reply = admin(&h, Method::GET, "/admin/users?filter=findme", None).await;
    assert_eq!(reply.header("x-total-count"), Some("1"));
}

// --- /admin/users/{id} -----------------------------------------------------------------

#[tokio::test]
async fn a_user_id_that_is_not_a_uuid_is_a_404_validation_failed() {
    let h = start().await;
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let body = (method == Method::PUT).then(|| json!({}));
        let reply = admin(&h, method, "/admin/users/nope", body).await;
        assert_error(&reply, 404, "validation_failed", "user_id must be an UUID");
    }
}

#[tokio::test]
async fn an_unknown_user_id_is_user_not_found() {
    let h = start().await;
    let path = "/admin/users/83fd9e20-7a80-46e4-bf29-a86e3d6bbf66";
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let body = (method == Method::PUT).then(|| json!({}));
        let reply = admin(&h, method, path, body).await;
        assert_error(&reply, 404, "user_not_found", "User not found");
    }
}

#[tokio::test]
async fn get_user_answers_the_user() {
    let h = start().await;
    let user = created(&h, "get@example.com").await;
    let reply = admin(
        &h,
        Method::GET,
        &format!("/admin/users/{}", id_of(&user)),
        None,
    )
    .await;
    assert_eq!(reply.body["email"], "get@example.com", "{}", reply.text);
}

#[tokio::test]
async fn update_user_merges_metadata_and_sets_the_email() {
    let h = start().await;
    let user = create(
        &h,
        json!({"email": "old@example.com", "user_metadata": {"keep": 1, "drop": 2}}),
    )
    .await
    .body;
    let path = format!("/admin/users/{}", id_of(&user));
    let reply = admin(
        &h,
        Method::PUT,
        &path,
        Some(json!({
            "email": "New@Example.com",
            "user_metadata": {"drop": null, "favorite_color": "yellow"},
            "app_metadata": {"roles": ["publisher"]},
            "role": "editor",
        })),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["email"], "new@example.com");
    assert_eq!(
        reply.body["user_metadata"],
        json!({"keep": 1, "favorite_color": "yellow"})
    );
    assert_eq!(reply.body["app_metadata"]["roles"], json!(["publisher"]));
    assert_eq!(reply.body["app_metadata"]["provider"], "email");
    assert_eq!(reply.body["role"], "editor");
}

#[tokio::test]
async fn update_user_email_confirm_confirms_the_email() {
    let h = start().await;
    let user = created(&h, "confirm@example.com").await;
    let path = format!("/admin/users/{}", id_of(&user));
    let reply = admin(&h, Method::PUT, &path, Some(json!({"email_confirm": true}))).await;
    assert!(
        reply.body["email_confirmed_at"].is_string(),
        "{}",
        reply.text
    );
    h.sign_in_as("confirm@example.com", "password-1").await;
}

#[tokio::test]
async fn update_user_password_is_checked_for_strength_and_ends_every_session() {
    let h = start().await;
    let session = h.sign_in().await;
    let users = admin(&h, Method::GET, "/admin/users", None).await;
    let demo = users.body["users"][0].clone();
    let path = format!("/admin/users/{}", id_of(&demo));
    let reply = admin(&h, Method::PUT, &path, Some(json!({"password": "123"}))).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "weak_password")
    );
    let reply = admin(
        &h,
        Method::PUT,
        &path,
        Some(json!({"password": "brand-new-1"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = h.refresh(&session.refresh_token()).await;
    assert_eq!(reply.status, 400, "the old session ended: {}", reply.text);
    h.sign_in_as(EMAIL, "brand-new-1").await;
}

#[tokio::test]
async fn update_user_ban_duration_bans_and_none_lifts_it() {
    let h = start().await;
    let users = admin(&h, Method::GET, "/admin/users", None).await;
    let path = format!("/admin/users/{}", id_of(&users.body["users"][0]));
    let reply = admin(&h, Method::PUT, &path, Some(json!({"ban_duration": "24h"}))).await;
    assert!(reply.body["banned_until"].is_string(), "{}", reply.text);
    let reply = h
        .post(
            "/token?grant_type=password",
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.code(), "user_banned", "{}", reply.text);
    let reply = admin(
        &h,
        Method::PUT,
        &path,
        Some(json!({"ban_duration": "none"})),
    )
    .await;
    assert!(reply.body.get("banned_until").is_none(), "{}", reply.text);
    h.sign_in().await;
}

#[tokio::test]
async fn delete_user_removes_the_user_and_its_sessions() {
    let h = start().await;
    h.sign_in().await;
    let users = admin(&h, Method::GET, "/admin/users", None).await;
    let path = format!("/admin/users/{}", id_of(&users.body["users"][0]));
    let reply = admin(&h, Method::DELETE, &path, None).await;
    assert_eq!(
        (reply.status.as_u16(), reply.body.clone()),
        (200, json!({}))
    );
    let reply = admin(&h, Method::GET, &path, None).await;
    assert_eq!(reply.code(), "user_not_found");
    assert_eq!(h.sessions().await, json!([]));
    h.assert_consistent().await;
}

#[tokio::test]
async fn soft_delete_keeps_the_user_with_deleted_at_and_frees_its_email() {
    let h = start().await;
    h.sign_in().await;
    let users = admin(&h, Method::GET, "/admin/users", None).await;
    let path = format!("/admin/users/{}", id_of(&users.body["users"][0]));
    let reply = admin(
        &h,
        Method::DELETE,
        &path,
        Some(json!({"should_soft_delete": true})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = admin(&h, Method::GET, &path, None).await;
    assert!(reply.body["deleted_at"].is_string(), "{}", reply.text);
    assert_ne!(reply.body["email"], EMAIL);
    assert_eq!(reply.body["user_metadata"], json!({}));
    // GoTrue's `SoftDeleteUser` empties the app metadata too (providers included).
    assert_eq!(reply.body["app_metadata"], json!({}));
    assert_eq!(h.sessions().await, json!([]));
    // The address can be registered again.
    created(&h, EMAIL).await;
}

// --- Factors ---------------------------------------------------------------------------

async fn enroll(h: &Harness) -> (String, String) {
    let token = h.sign_in().await.access_token();
    let reply = call(
        h,
        Method::POST,
        "/factors",
        &token,
        Some(json!({"factor_type": "totp", "friendly_name": "phone app"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let user = h.get_user(&token).await.body;
    (id_of(&user), reply.body["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn user_factors_are_listed_updated_and_deleted() {
    let h = start().await;
    let (user, factor) = enroll(&h).await;
    let reply = admin(
        &h,
        Method::GET,
        &format!("/admin/users/{user}/factors"),
        None,
    )
    .await;
    assert_eq!(reply.body[0]["id"], factor.as_str(), "{}", reply.text);
    let path = format!("/admin/users/{user}/factors/{factor}");
    let reply = admin(
        &h,
        Method::PUT,
        &path,
        Some(json!({"friendly_name": "renamed"})),
    )
    .await;
    assert_eq!(reply.body["friendly_name"], "renamed", "{}", reply.text);
    let reply = admin(&h, Method::DELETE, &path, None).await;
    assert_eq!(reply.body["id"], factor.as_str(), "{}", reply.text);
    let reply = admin(
        &h,
        Method::GET,
        &format!("/admin/users/{user}/factors"),
        None,
    )
    .await;
    assert_eq!(reply.body, json!([]));
}

#[tokio::test]
async fn a_factor_id_that_is_not_a_uuid_or_not_the_users_is_a_404() {
    let h = start().await;
    let (user, _) = enroll(&h).await;
    let reply = admin(
        &h,
        Method::DELETE,
        &format!("/admin/users/{user}/factors/x"),
        None,
    )
    .await;
    assert_error(
        &reply,
        404,
        "validation_failed",
        "factor_id must be an UUID",
    );
    let other = "83fd9e20-7a80-46e4-bf29-a86e3d6bbf66";
    let reply = admin(
        &h,
        Method::DELETE,
        &format!("/admin/users/{user}/factors/{other}"),
        None,
    )
    .await;
    assert_error(&reply, 404, "mfa_factor_not_found", "Factor not found");
}

// --- /admin/generate_link --------------------------------------------------------------

async fn generate(h: &Harness, body: Value) -> Reply {
    admin(h, Method::POST, "/admin/generate_link", Some(body)).await
}

#[tokio::test]
async fn generate_link_signup_creates_the_user_sends_nothing_and_verifies() {
    let h = start().await;
    let reply = generate(
        &h,
        json!({"type": "signup", "email": "linked@example.com", "password": "password-1", "data": {"status": "alpha"}}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = &reply.body;
    assert_eq!(body["email"], "linked@example.com");
    assert_eq!(body["user_metadata"], json!({"status": "alpha"}));
    assert_eq!(body["verification_type"], "signup");
    let link = body["action_link"].as_str().unwrap();
    assert_eq!(query_value(link, "type"), "signup");
    assert_eq!(
        query_value(link, "token"),
        body["hashed_token"].as_str().unwrap()
    );
    assert_eq!(body["redirect_to"], "http://127.0.0.1:3000");
    assert!(
        inbox(&h, "linked@example.com").await.is_empty(),
        "no email is sent"
    );
    let reply = h
        .post(
            "/verify",
            json!({"type": "signup", "email": "linked@example.com", "token": body["email_otp"]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.body["user"]["email_confirmed_at"].is_string());
}

#[tokio::test]
async fn generate_link_for_a_confirmed_user_signup_is_email_exists() {
    let h = start().await;
    let reply = generate(
        &h,
        json!({"type": "signup", "email": EMAIL, "password": "password-1"}),
    )
    .await;
    assert_error(
        &reply,
        422,
        "email_exists",
        "A user with this email address has already been registered",
    );
}

#[tokio::test]
async fn generate_link_validates_the_email_and_the_type() {
    let h = start().await;
    let reply = generate(
        &h,
        json!({"type": "signup", "email": "xx:;x@x.x", "password": "password123"}),
    )
    .await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Unable to validate email address: invalid format",
    );
    let reply = generate(&h, json!({"type": "teleport", "email": EMAIL})).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Invalid email action link type requested: teleport",
    );
}

#[tokio::test]
async fn generate_link_recovery_for_no_one_is_user_not_found() {
    let h = start().await;
    for kind in ["recovery", "email_change_current", "email_change_new"] {
        let reply = generate(
            &h,
            json!({"type": kind, "email": "nobody@example.com", "new_email": "n@example.com"}),
        )
        .await;
        assert_error(
            &reply,
            404,
            "user_not_found",
            "User with this email not found",
        );
    }
}

#[tokio::test]
async fn generate_link_magiclink_for_no_one_signs_them_up() {
    let h = start().await;
    let reply = generate(
        &h,
        json!({"type": "magiclink", "email": "fresh@example.com"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["verification_type"], "signup");
    let link = reply.body["action_link"].as_str().unwrap();
    let reply = h
        .post(
            "/verify",
            json!({"type": "signup", "token_hash": query_value(link, "token")}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn generate_link_recovery_and_magiclink_verify_for_an_existing_user() {
    let h = start().await;
    for kind in ["recovery", "magiclink"] {
        let reply = generate(&h, json!({"type": kind, "email": EMAIL})).await;
        assert_eq!(reply.body["verification_type"], kind, "{}", reply.text);
        let reply = h
            .post(
                "/verify",
                json!({"type": kind, "token_hash": reply.body["hashed_token"]}),
            )
            .await;
        assert_eq!(reply.status, 200, "{kind}: {}", reply.text);
    }
}

#[tokio::test]
async fn generate_link_email_change_records_the_pending_change() {
    let h = start().await;
    let reply = generate(
        &h,
        json!({"type": "email_change_current", "email": EMAIL, "new_email": "Moved@Example.com"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["new_email"], "moved@example.com");
    assert!(reply.body["email_change_sent_at"].is_string());
    let link = reply.body["action_link"].as_str().unwrap();
    assert_eq!(query_value(link, "type"), "email_change");
    assert_eq!(
        query_value(link, "token"),
        reply.body["hashed_token"].as_str().unwrap()
    );
    // The new address's link carries the new address's hash.
    let reply = generate(
        &h,
        json!({"type": "email_change_new", "email": EMAIL, "new_email": "moved@example.com"}),
    )
    .await;
    let link = reply.body["action_link"].as_str().unwrap();
    assert_ne!(
        query_value(link, "token"),
        reply.body["hashed_token"].as_str().unwrap()
    );
    // Someone else's address is taken.
    created(&h, "taken@example.com").await;
    let reply = generate(
        &h,
        json!({"type": "email_change_new", "email": EMAIL, "new_email": "taken@example.com"}),
    )
    .await;
    assert_eq!(reply.code(), "email_exists", "{}", reply.text);
}

#[tokio::test]
async fn generate_link_email_change_current_needs_secure_email_change() {
    let h = start_with(|c| c.secure_email_change = false).await;
    let reply = generate(
        &h,
        json!({"type": "email_change_current", "email": EMAIL, "new_email": "moved@example.com"}),
    )
    .await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Enable secure email change to generate link for current email",
    );
    // The new address's link is still made.
    let reply = generate(
        &h,
        json!({"type": "email_change_new", "email": EMAIL, "new_email": "moved@example.com"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn generate_link_uses_an_allowed_redirect_to_or_else_the_site_url() {
    let h =
        start_with(|c| c.additional_redirect_urls = vec!["http://localhost:9999/**".into()]).await;
    let reply = generate(
        &h,
        json!({"type": "magiclink", "email": EMAIL, "redirect_to": "http://localhost:9999/welcome"}),
    )
    .await;
    assert_eq!(
        reply.body["redirect_to"], "http://localhost:9999/welcome",
        "{}",
        reply.text
    );
    let reply = generate(
        &h,
        json!({"type": "magiclink", "email": EMAIL, "redirect_to": "https://evil.example/"}),
    )
    .await;
    assert_eq!(reply.body["redirect_to"], "http://127.0.0.1:3000");
}

// --- POST /invite ----------------------------------------------------------------------

#[tokio::test]
async fn invite_creates_the_user_with_invited_at_and_emails_a_link_that_verifies() {
    let h = start().await;
    let reply = admin(
        &h,
        Method::POST,
        "/invite",
        Some(json!({"email": "Guest@example.com", "data": {"status": "alpha"}})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.body["invited_at"].is_string());
    assert_eq!(reply.body["user_metadata"], json!({"status": "alpha"}));
    assert!(reply.body.get("email_confirmed_at").is_none());
    let mail = inbox(&h, "guest@example.com").await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["kind"], "invite");
    let link = mail[0]["link"].as_str().unwrap();
    assert_eq!(query_value(link, "type"), "invite");
    let reply = h
        .post(
            "/verify",
            json!({"type": "invite", "token_hash": query_value(link, "token")}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.body["user"]["email_confirmed_at"].is_string());
}

#[tokio::test]
async fn invite_of_a_confirmed_user_is_email_exists() {
    let h = start().await;
    let reply = admin(&h, Method::POST, "/invite", Some(json!({"email": EMAIL}))).await;
    assert_error(
        &reply,
        422,
        "email_exists",
        "A user with this email address has already been registered",
    );
}

#[tokio::test]
async fn invite_validates_the_email() {
    let h = start().await;
    let reply = admin(
        &h,
        Method::POST,
        "/invite",
        Some(json!({"email": "xx:;x@x.x"})),
    )
    .await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Unable to validate email address: invalid format",
    );
}

// --- /admin/oauth/clients --------------------------------------------------------------

async fn register_client(h: &Harness, body: Value) -> Reply {
    admin(h, Method::POST, "/admin/oauth/clients", Some(body)).await
}

fn client_params() -> Value {
    json!({
        "client_name": "Test client",
        "redirect_uris": ["https://example.com/callback", "http://localhost:3000/callback"],
    })
}

#[tokio::test]
async fn registering_a_client_answers_201_with_its_secret_and_defaults() {
    let h = start().await;
    let reply = register_client(&h, client_params()).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let body = &reply.body;
    assert_eq!(body["client_type"], "confidential");
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(
        body["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(body["response_types"], json!(["code"]));
    assert_eq!(body["registration_type"], "manual");
    assert_eq!(body["redirect_uris"], client_params()["redirect_uris"]);
    assert_eq!(body["client_secret"].as_str().unwrap().len(), 43);
    // A public client has no secret.
    let reply = register_client(
        &h,
        json!({"redirect_uris": ["https://example.com/cb"], "token_endpoint_auth_method": "none"}),
    )
    .await;
    assert_eq!(reply.body["client_type"], "public", "{}", reply.text);
    assert!(reply.body.get("client_secret").is_none());
}

#[tokio::test]
async fn a_client_needs_valid_redirect_uris() {
    let h = start().await;
    let reply = register_client(&h, json!({"client_name": "x", "redirect_uris": []})).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "400: redirect_uris is required",
    );
    let reply = register_client(&h, json!({"redirect_uris": ["http://example.com/cb"]})).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "400: invalid redirect_uri 'http://example.com/cb': HTTP scheme only allowed for localhost",
    );
}

#[tokio::test]
async fn a_client_is_read_without_its_secret_updated_in_part_and_deleted() {
    let h = start().await;
    let created = register_client(&h, client_params()).await.body;
    let path = format!(
        "/admin/oauth/clients/{}",
        created["client_id"].as_str().unwrap()
    );
    let reply = admin(&h, Method::GET, &path, None).await;
    assert_eq!(
        reply.body["client_id"], created["client_id"],
        "{}",
        reply.text
    );
    assert!(reply.body.get("client_secret").is_none());
    let reply = admin(
        &h,
        Method::PUT,
        &path,
        Some(json!({"logo_uri": "https://example.com/l.png"})),
    )
    .await;
    assert_eq!(
        reply.body["logo_uri"], "https://example.com/l.png",
        "{}",
        reply.text
    );
    assert_eq!(reply.body["client_name"], "Test client");
    let reply = admin(&h, Method::PUT, &path, Some(json!({}))).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "No fields provided for update",
    );
    let reply = admin(&h, Method::DELETE, &path, None).await;
    assert_eq!(reply.status, 204);
    let reply = admin(&h, Method::GET, &path, None).await;
    assert_error(
        &reply,
        404,
        "oauth_client_not_found",
        "OAuth client not found",
    );
}

#[tokio::test]
async fn a_client_id_that_is_not_a_uuid_is_invalid() {
    let h = start().await;
    let reply = admin(&h, Method::GET, "/admin/oauth/clients/abc", None).await;
    assert_error(&reply, 400, "validation_failed", "invalid client_id format");
}

#[tokio::test]
async fn clients_are_listed_newest_first_and_the_list_is_empty_object_when_none() {
    let h = start().await;
    let reply = admin(&h, Method::GET, "/admin/oauth/clients", None).await;
    assert_eq!(reply.body, json!({}), "{}", reply.text);
    let first = register_client(&h, client_params()).await.body;
    let second = register_client(&h, client_params()).await.body;
    let reply = admin(
        &h,
        Method::GET,
        "/admin/oauth/clients?page=1&per_page=1",
        None,
    )
    .await;
    let ids: Vec<&Value> = reply.body["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["client_id"])
        .collect();
    assert_eq!(ids, [&second["client_id"], &first["client_id"]]);
}

#[tokio::test]
async fn regenerating_a_secret_gives_a_new_one_and_public_clients_have_none() {
    let h = start().await;
    let created = register_client(&h, client_params()).await.body;
    let path = format!(
        "/admin/oauth/clients/{}/regenerate_secret",
        created["client_id"].as_str().unwrap()
    );
    let reply = admin(&h, Method::POST, &path, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_ne!(reply.body["client_secret"], created["client_secret"]);
    let public = register_client(
        &h,
        json!({"redirect_uris": ["https://example.com/cb"], "client_type": "public"}),
    )
    .await
    .body;
    let path = format!(
        "/admin/oauth/clients/{}/regenerate_secret",
        public["client_id"].as_str().unwrap()
    );
    let reply = admin(&h, Method::POST, &path, None).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Cannot regenerate secret for public client",
    );
}

#[tokio::test]
async fn the_client_registry_is_not_found_when_the_oauth_server_is_off() {
    let h = start_with(|c| c.oauth_server_enabled = false).await;
    let reply = admin(&h, Method::GET, "/admin/oauth/clients", None).await;
    assert_error(&reply, 404, "feature_disabled", "OAuth server is disabled");
}

// --- Tokens as auth-js's tests sign them ------------------------------------------------

/// An HS256 token signed with the server's (default) secret.
#[tokio::test]
async fn a_supabase_admin_token_without_exp_or_session_passes_the_gate() {
    let h = start().await;
    // What auth-js's test clients send: `sub` is not a UUID, no `exp`, no session.
    let token = signed(json!({"sub": "1234567890", "role": "supabase_admin"}));
    let reply = call(&h, Method::GET, "/admin/users", &token, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let expired = signed(json!({"role": "service_role", "exp": 1}));
    let reply = call(&h, Method::GET, "/admin/users", &expired, None).await;
    assert_eq!((reply.status.as_u16(), reply.code()), (403, "bad_jwt"));
}

#[tokio::test]
async fn generated_email_change_links_verify_through_verify() {
    // Secure email change with confirmations on: both links are needed.
    let h = start_with(|c| c.autoconfirm = false).await;
    let link_for =
        |reply: &Reply| query_value(reply.body["action_link"].as_str().unwrap(), "token");
    let new_email = "moved@example.com";
    let current = generate(
        &h,
        json!({"type": "email_change_current", "email": EMAIL, "new_email": new_email}),
    )
    .await;
    let new = generate(
        &h,
        json!({"type": "email_change_new", "email": EMAIL, "new_email": new_email}),
    )
    .await;
    let first = h
        .post(
            "/verify",
            json!({"type": "email_change", "token_hash": link_for(&current)}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert!(first.body.get("access_token").is_none(), "{}", first.text);
    let second = h
        .post(
            "/verify",
            json!({"type": "email_change", "token_hash": link_for(&new)}),
        )
        .await;
    assert_eq!(second.body["user"]["email"], new_email, "{}", second.text);
}

/// `adminUserUpdate` with a password calls `User.UpdatePassword` without a session: every
/// session ends and every outstanding token (here a password-reset link) is revoked with its
/// sent time, so a new one is not held back.
#[tokio::test]
async fn an_admin_password_change_revokes_tokens_as_update_password() {
    let h = start().await;
    let id = h.sign_in().await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        h.post("/recover", json!({"email": EMAIL})).await.status,
        200
    );
    let link = inbox(&h, EMAIL).await.pop().expect("a reset link")["link"]
        .as_str()
        .unwrap()
        .to_string();
    let changed = admin(
        &h,
        Method::PUT,
        &format!("/admin/users/{id}"),
        Some(json!({"password": "a-new-password-1"})),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let stale = h
        .post(
            "/verify",
            json!({"type": "recovery", "token_hash": query_value(&link, "token")}),
        )
        .await;
    assert_eq!(
        (stale.status.as_u16(), stale.code()),
        (403, "otp_expired"),
        "{}",
        stale.text
    );
    let again = h.post("/recover", json!({"email": EMAIL})).await;
    assert_eq!(again.status, 200, "{}", again.text);
}
