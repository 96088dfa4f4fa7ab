//! A server per test on 127.0.0.1 with an OS-assigned port, and a small client for it.
#![allow(dead_code)]

use local_gotrue::{Config, DemoUser, Server};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const EMAIL: &str = "demo@example.com";
pub const PASSWORD: &str = "demo-password-1";

pub struct Harness {
    pub server: Server,
    pub http: reqwest::Client,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The error code in whichever envelope the server used.
    pub fn code(&self) -> &str {
        self.body["error_code"]
            .as_str()
            .or(self.body["code"].as_str())
            .or(self.body["error"].as_str())
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn refresh_token(&self) -> String {
        self.body["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_string()
    }

    pub fn access_token(&self) -> String {
        self.body["access_token"]
            .as_str()
            .expect("an access token")
            .to_string()
    }
}

pub async fn start_with(configure: impl FnOnce(&mut Config)) -> Harness {
    let mut config = Config {
        demo_user: Some(DemoUser {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        }),
        ..Config::default()
    };
    configure(&mut config);
    let server = local_gotrue::start(config)
        .await
        .expect("the server starts");
    Harness {
        server,
        http: reqwest::Client::new(),
    }
}

pub async fn start() -> Harness {
    start_with(|_| {}).await
}

/// Decodes a JWT's payload without verifying it.
pub fn claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).expect("three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.auth_url())
    }

    pub fn emulator(&self, path: &str) -> String {
        format!("{}/_emulator{path}", self.server.url())
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// A request as auth-js sends it: 2024-01-01 envelope, JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(
            self.http
                .post(self.url(path))
                .header("X-Supabase-Api-Version", "2024-01-01")
                .json(&body),
        )
        .await
    }

    pub async fn sign_in(&self) -> Reply {
        self.sign_in_as(EMAIL, PASSWORD).await
    }

    pub async fn sign_in_as(&self, email: &str, password: &str) -> Reply {
        let reply = self
            .post(
                "/token?grant_type=password",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(reply.status, 200, "sign-in failed: {}", reply.text);
        reply
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.post(
            "/token?grant_type=refresh_token",
            json!({"refresh_token": refresh_token}),
        )
        .await
    }

    pub async fn refreshed(&self, refresh_token: &str) -> String {
        let reply = self.refresh(refresh_token).await;
        assert_eq!(reply.status, 200, "refresh failed: {}", reply.text);
        reply.refresh_token()
    }

    pub async fn get_user(&self, access_token: &str) -> Reply {
        self.send(
            self.http
                .get(self.url("/user"))
                .header("X-Supabase-Api-Version", "2024-01-01")
                .bearer_auth(access_token),
        )
        .await
    }

    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self.http.request(method, self.emulator(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    pub async fn skew_clock(&self, seconds: f64) {
        let reply = self
            .control(
                reqwest::Method::PUT,
                "/clock",
                Some(json!({"skew_seconds": seconds})),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }

    pub async fn sessions(&self) -> Value {
        self.control(reqwest::Method::GET, "/sessions", None)
            .await
            .body
    }

    pub async fn assert_consistent(&self) {
        let reply = self
            .control(reqwest::Method::GET, "/invariants", None)
            .await;
        assert_eq!(
            reply.body["violations"],
            json!([]),
            "state invariants broken"
        );
    }
}

/// An error answer: its status, its error code (either envelope) and its `message`.
pub fn assert_error(reply: &Reply, status: u16, code: &str, message: &str) {
    assert_eq!(
        (
            reply.status.as_u16(),
            reply.code(),
            reply.body["message"].as_str()
        ),
        (status, code, Some(message)),
        "{}",
        reply.text
    );
}

/// A 200 answer, or the body in the failure.
pub fn ok(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.text);
}
