//! The control surface (`/_emulator`) is for the tests and the app that started the server,
//! never for a web page or another local process: it lists refresh tokens, mints sessions and
//! hands out the service_role key.

mod common;

use common::{start, start_with};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_control_surface_refuses_a_foreign_host() {
    let h = start().await;
    // A DNS-rebinding page reaches 127.0.0.1 under its own name.
    let rebound = h
        .send(
            h.http
                .get(h.emulator("/keys"))
                .header("host", "attacker.example:80"),
        )
        .await;
    assert_eq!(rebound.status, StatusCode::FORBIDDEN, "{}", rebound.text);
    assert!(!rebound.text.contains(h.server.service_role_key()));
    assert_eq!(rebound.code(), "control_host_refused");

    let port = h.server.addr().port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "127.0.0.1".to_string(),
    ] {
        let reply = h
            .send(h.http.get(h.emulator("/requests")).header("host", &host))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{host}: {}", reply.text);
    }
}

#[tokio::test]
async fn the_control_surface_refuses_any_origin() {
    let h = start().await;
    for origin in ["https://attacker.example", "null", "http://127.0.0.1:1420"] {
        let reply = h
            .send(
                h.http
                    .post(h.emulator("/users"))
                    .header("origin", origin)
                    .json(&json!({"email": "planted@example.com", "password": "pw-123456"})),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{origin}: {}",
            reply.text
        );
        assert_eq!(reply.code(), "control_origin_refused");
    }
    let users = h.send(h.http.get(h.emulator("/users"))).await;
    assert!(!users.text.contains("planted@"), "{}", users.text);
}

#[tokio::test]
async fn control_requests_with_a_body_must_be_json() {
    let h = start().await;
    // A form or text/plain POST needs no CORS preflight: a page could send it blind.
    for kind in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ] {
        let reply = h
            .send(
                h.http
                    .post(h.emulator("/users"))
                    .header("content-type", kind)
                    .body(r#"{"email":"planted@example.com","password":"pw-123456"}"#),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{kind}: {}",
            reply.text
        );
    }
    let no_type = h
        .send(
            h.http
                .post(h.emulator("/users"))
                .body(r#"{"email":"planted@example.com"}"#),
        )
        .await;
    assert_eq!(no_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let users = h.send(h.http.get(h.emulator("/users"))).await;
    assert!(!users.text.contains("planted@"), "{}", users.text);
    // Without a body, no type is needed; with JSON, it works.
    let cleared = h.send(h.http.delete(h.emulator("/faults"))).await;
    assert!(cleared.status.is_success(), "{}", cleared.text);
    let created = h
        .send(
            h.http
                .post(h.emulator("/users"))
                .json(&json!({"email": "ok@example.com", "password": "pw-123456"})),
        )
        .await;
    assert!(created.status.is_success(), "{}", created.text);
}

#[tokio::test]
async fn with_a_control_token_the_control_surface_needs_it_and_gotrue_does_not() {
    let token = "a-per-launch-control-token-of-enough-length";
    let h = start_with(|c| c.control_token = Some(token.into())).await;
    assert_eq!(h.server.control_token(), Some(token));
    for given in [None, Some("wrong"), Some(&token[..token.len() - 1])] {
        let mut request = h.http.get(h.emulator("/keys"));
        if let Some(given) = given {
            request = request.header("x-emulator-token", given);
        }
        let reply = h.send(request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{given:?}");
        assert_eq!(reply.code(), "control_token_required");
        assert!(!reply.text.contains(h.server.service_role_key()));
    }
    let keys = h
        .send(
            h.http
                .get(h.emulator("/keys"))
                .header("x-emulator-token", token),
        )
        .await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.text);
    // GoTrue's own routes are what a project offers anyone: no control token there.
    assert_eq!(h.sign_in().await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_short_control_token_is_refused_at_start() {
    for weak in ["", "short"] {
        let config = local_gotrue::Config {
            control_token: Some(weak.into()),
            ..local_gotrue::Config::default()
        };
        assert!(matches!(
            local_gotrue::start(config).await,
            Err(local_gotrue::StartError::WeakControlToken)
        ));
    }
}

#[tokio::test]
async fn a_random_jwt_secret_is_made_once_per_data_folder_and_kept_in_it() {
    let folder = tempfile::tempdir().unwrap();
    let config = |c: &mut local_gotrue::Config| {
        c.random_jwt_secret = true;
        c.data_path = Some(folder.path().join("auth.sqlite"));
        c.require_api_key = true;
    };
    let first = start_with(config).await;
    let anon = first.server.anon_key().to_string();
    // Not signed with the public local-development secret.
    let public = local_gotrue::jwt::Keys::new(
        local_gotrue::config::DEFAULT_JWT_SECRET,
        local_gotrue::SigningAlgorithm::Hs256,
        &local_gotrue::jwt::Keys::generate_ec_private(),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        public.verify(&anon, now).is_err(),
        "signed with the public secret"
    );
    drop(first);
    // In another second: the keys must not depend on when the server started.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    // The same folder keeps its secret: the earlier key still passes the gateway.
    let again = start_with(config).await;
    let settings = again
        .send(
            again
                .http
                .get(again.url("/settings"))
                .header("apikey", &anon),
        )
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.text);

    // Another folder has another secret.
    let other_folder = tempfile::tempdir().unwrap();
    let other = start_with(|c| {
        c.random_jwt_secret = true;
        c.data_path = Some(other_folder.path().join("auth.sqlite"));
        c.require_api_key = true;
    })
    .await;
    let refused = other
        .send(
            other
                .http
                .get(other.url("/settings"))
                .header("apikey", &anon),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
}
