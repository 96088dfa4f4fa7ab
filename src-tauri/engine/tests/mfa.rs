//! MFA (TOTP) through the engine, against the real local GoTrue server: enroll, challenge,
//! verify (aal2, `MFA_CHALLENGE_VERIFIED`, the raised session saved), refreshes that keep
//! aal2, refusals that change nothing, unenrolling, and the assurance level.

use std::sync::Arc;
use std::time::Duration;

use local_gotrue::{Config, RefreshTokenFormat, Server};
use secrecy::ExposeSecret as _;
use serde_json::{json, Value};
use session_engine::{
    AuthClient, AuthError, AuthEventKind, Credentials, EventStream, MemoryStore, Session,
    SessionStore, TotpEnrollment,
};

mod common;

use common::{EMAIL, PASSWORD};

const PROFILE: &str = "mfa";

// ---- RFC 6238 (SHA-1, 6 digits, 30 s): the test's own steps over the server crate's
// HMAC-SHA-1 (itself checked against RFC 2202 there) -----------------------------------------

fn totp(key: &[u8], unix_secs: i64, digits: u32) -> String {
    let mac = local_gotrue::totp::hmac_sha1(key, &((unix_secs / 30) as u64).to_be_bytes());
    let at = (mac[19] & 15) as usize;
    let value = u32::from_be_bytes([mac[at] & 0x7f, mac[at + 1], mac[at + 2], mac[at + 3]]);
    format!(
        "{:0width$}",
        value % 10u32.pow(digits),
        width = digits as usize
    )
}

fn base32_decode(text: &str) -> Vec<u8> {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u64, 0);
    for c in text.trim_end_matches('=').chars() {
        buffer = (buffer << 5) | alphabet.find(c).expect("base32") as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

#[test]
fn the_tests_totp_helper_matches_rfc_6238() {
    let key = b"12345678901234567890";
    assert_eq!(totp(key, 59, 8), "94287082");
    assert_eq!(totp(key, 1_111_111_109, 8), "07081804");
    assert_eq!(totp(key, 2_000_000_000, 8), "69279037");
}

// ---- The world ----------------------------------------------------------------------------

struct World {
    server: Server,
    store: Arc<MemoryStore>,
    client: AuthClient,
    http: reqwest::Client,
}

async fn world_with(configure: impl FnOnce(&mut Config)) -> World {
    let (server, store, client) = common::server_and_client(PROFILE, configure).await;
    World {
        server,
        store,
        client,
        http: reqwest::Client::new(),
    }
}

async fn world() -> World {
    world_with(|_| {}).await
}

impl World {
    async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}/_emulator{path}", self.server.url()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or(Value::Null)
    }

    async fn skew(&self, seconds: f64) {
        self.control(
            reqwest::Method::PUT,
            "/clock",
            Some(json!({"skew_seconds": seconds})),
        )
        .await;
    }

    /// The code of `enrollment`'s secret at the server's now.
    async fn code(&self, enrollment: &TotpEnrollment) -> String {
        let clock = self.control(reqwest::Method::GET, "/clock", None).await;
        let now = chrono::DateTime::parse_from_rfc3339(clock["now"].as_str().unwrap())
            .unwrap()
            .timestamp();
        totp(&base32_decode(enrollment.secret.expose_secret()), now, 6)
    }

    /// A six-digit code that is none of the codes near the server's now.
    async fn wrong_code(&self, enrollment: &TotpEnrollment) -> String {
        let right = self.code(enrollment).await;
        let digit = (right.as_bytes()[0] - b'0' + 5) % 10;
        format!("{digit}{}", &right[1..])
    }

    async fn sign_in(&self) -> Session {
        self.client
            .sign_in_with_password(Credentials::Email {
                email: EMAIL.into(),
                password: PASSWORD.into(),
            })
            .await
            .expect("sign-in works")
            .session
    }

    fn stored(&self) -> Option<Session> {
        self.store.load(PROFILE).unwrap()
    }

    /// Signs in, enrolls a factor and verifies it: the enrollment and the raised session.
    /// Signs in, enrolls and verifies a TOTP factor: the enrollment, the aal2 session and the
    /// code that was sent.
    async fn signed_in_with_mfa(&self) -> (TotpEnrollment, Session, String) {
        self.sign_in().await;
        let enrollment = self
            .client
            .mfa_enroll_totp(Some("phone app"), None)
            .await
            .unwrap();
        let code = self.code(&enrollment).await;
        let raised = self
            .client
            .mfa_challenge_and_verify(&enrollment.factor_id, &code)
            .await
            .unwrap();
        (enrollment, raised, code)
    }
}

fn claim(session: &Session, name: &str) -> Value {
    session_engine::tokens::decode_jwt(&session.access_token)
        .unwrap()
        .claims
        .get(name)
        .cloned()
        .unwrap_or(Value::Null)
}

fn amr_methods(session: &Session) -> Vec<String> {
    claim(session, "amr")
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["method"].as_str().unwrap().to_string())
        .collect()
}

/// The next event that is not `INITIAL_SESSION` (failing after 10 s without one).
async fn next_event(stream: &mut EventStream) -> session_engine::AuthEvent {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .expect("the stream is open");
        if event.kind != AuthEventKind::InitialSession {
            return event;
        }
    }
}

fn api_code(error: &AuthError) -> (Option<u16>, Option<&str>) {
    (error.status(), error.code())
}

// ---- Tests --------------------------------------------------------------------------------

#[tokio::test]
async fn enroll_challenge_verify_raises_the_session_to_aal2_and_saves_it_first() {
    let w = world().await;
    let signed_in = w.sign_in().await;
    let enrollment = w
        .client
        .mfa_enroll_totp(Some("phone app"), None)
        .await
        .unwrap();
    assert_eq!(enrollment.friendly_name.as_deref(), Some("phone app"));
    assert!(enrollment
        .uri
        .expose_secret()
        .starts_with("otpauth://totp/"));
    let factors = w.client.mfa_list_factors().await.unwrap();
    assert_eq!(factors.len(), 1);
    assert_eq!(factors[0].id, enrollment.factor_id);
    assert!(!factors[0].is_verified());

    let mut stream = w.client.subscribe();
    let challenge = w.client.mfa_challenge(&enrollment.factor_id).await.unwrap();
    assert_eq!(challenge.factor_id, enrollment.factor_id);
    let code = w.code(&enrollment).await;
    let raised = w
        .client
        .mfa_verify(&enrollment.factor_id, &challenge.id, &code)
        .await
        .unwrap();

    assert_eq!(claim(&raised, "aal"), "aal2");
    assert!(amr_methods(&raised).contains(&"totp".to_string()));
    assert_eq!(
        claim(&raised, "session_id"),
        claim(&signed_in, "session_id")
    );
    assert_ne!(
        raised.refresh_token, signed_in.refresh_token,
        "a new refresh token"
    );
    let event = next_event(&mut stream).await;
    assert_eq!(event.kind, AuthEventKind::MfaChallengeVerified);
    assert_eq!(event.cause, Some(session_engine::Cause::MfaStepUp));
    assert_eq!(event.kind.as_str(), "MFA_CHALLENGE_VERIFIED");
    assert!(event.kind.is_auth_js());
    assert_eq!(event.session.as_ref(), Some(&raised));
    assert_eq!(
        w.stored().as_ref(),
        Some(&raised),
        "the aal2 session is the stored one"
    );
    assert_eq!(w.client.current_session().as_ref(), Some(&raised));
    let factors = w.client.mfa_list_factors().await.unwrap();
    assert!(factors[0].is_verified());
}

#[tokio::test]
async fn refreshing_keeps_aal2_and_the_refresh_chain_goes_on() {
    for format in [RefreshTokenFormat::Legacy, RefreshTokenFormat::V2] {
        let w = world_with(|c| c.refresh_token_format = format).await;
        let (_, raised, _) = w.signed_in_with_mfa().await;
        let mut previous = raised;
        for _ in 0..2 {
            let refreshed = w
                .client
                .refresh_session(None)
                .await
                .unwrap()
                .response
                .session;
            assert_eq!(claim(&refreshed, "aal"), "aal2", "{format:?}");
            assert!(amr_methods(&refreshed).contains(&"totp".to_string()));
            assert_ne!(refreshed.refresh_token, previous.refresh_token);
            assert_eq!(w.stored().as_ref(), Some(&refreshed));
            previous = refreshed;
        }
        let level = w.client.assurance_level().unwrap();
        assert_eq!(level.current.as_deref(), Some("aal2"), "{format:?}");
    }
}

#[tokio::test]
async fn a_wrong_code_is_refused_and_changes_nothing() {
    let w = world().await;
    w.sign_in().await;
    let enrollment = w.client.mfa_enroll_totp(None, None).await.unwrap();
    let challenge = w.client.mfa_challenge(&enrollment.factor_id).await.unwrap();
    let before = w.client.current_session().unwrap();
    let mut stream = w.client.subscribe();
    let wrong = w.wrong_code(&enrollment).await;
    let error = w
        .client
        .mfa_verify(&enrollment.factor_id, &challenge.id, &wrong)
        .await
        .unwrap_err();
    assert_eq!(
        api_code(&error),
        (Some(422), Some("mfa_verification_failed"))
    );
    assert_eq!(error.to_string(), "Invalid TOTP code entered");
    assert_eq!(w.client.current_session().unwrap(), before);
    assert_eq!(w.stored().unwrap(), before);
    // The engine queues an event before the call that caused it returns: no need to wait.
    let heard: Vec<_> = std::iter::from_fn(|| stream.try_next())
        .map(|e| e.kind)
        .collect();
    assert_eq!(heard, [AuthEventKind::InitialSession], "no other event");
    assert_eq!(
        w.client.assurance_level().unwrap().current.as_deref(),
        Some("aal1")
    );
}

#[tokio::test]
async fn an_expired_challenge_is_refused_with_a_clear_error() {
    let w = world().await;
    w.sign_in().await;
    let enrollment = w.client.mfa_enroll_totp(None, None).await.unwrap();
    let challenge = w.client.mfa_challenge(&enrollment.factor_id).await.unwrap();
    w.skew(301.0).await;
    let code = w.code(&enrollment).await;
    let error = w
        .client
        .mfa_verify(&enrollment.factor_id, &challenge.id, &code)
        .await
        .unwrap_err();
    assert_eq!(api_code(&error), (Some(422), Some("mfa_challenge_expired")));
    assert!(
        error.to_string().contains(&challenge.id) && error.to_string().contains("has expired"),
        "{error}"
    );
    // A new challenge, verified in time, works.
    let raised = w
        .client
        .mfa_challenge_and_verify(&enrollment.factor_id, &code)
        .await
        .unwrap();
    assert_eq!(claim(&raised, "aal"), "aal2");
}

#[tokio::test]
async fn unenrolling_a_verified_factor_needs_aal2() {
    let w = world().await;
    let (enrollment, _, _) = w.signed_in_with_mfa().await;
    // A new sign-in is aal1 again, with a verified factor: it needs a step-up.
    w.sign_in().await;
    let level = w.client.assurance_level().unwrap();
    assert_eq!(
        (level.current.as_deref(), level.next.as_deref()),
        (Some("aal1"), Some("aal2"))
    );
    assert!(level.needs_step_up());
    let error = w
        .client
        .mfa_unenroll(&enrollment.factor_id)
        .await
        .unwrap_err();
    assert_eq!(api_code(&error), (Some(422), Some("insufficient_aal")));
    assert_eq!(
        error.to_string(),
        "AAL2 required to unenroll verified factor"
    );

    let code = w.code(&enrollment).await;
    w.client
        .mfa_challenge_and_verify(&enrollment.factor_id, &code)
        .await
        .unwrap();
    assert!(!w.client.assurance_level().unwrap().needs_step_up());
    w.client.mfa_unenroll(&enrollment.factor_id).await.unwrap();
    assert!(w.client.mfa_list_factors().await.unwrap().is_empty());
    // The server took the session back to aal1; the next tokens say so.
    let refreshed = w
        .client
        .refresh_session(None)
        .await
        .unwrap()
        .response
        .session;
    assert_eq!(claim(&refreshed, "aal"), "aal1");
    let level = w.client.assurance_level().unwrap();
    assert_eq!(
        (level.current.as_deref(), level.next.as_deref()),
        (Some("aal1"), Some("aal1"))
    );
}

#[tokio::test]
async fn the_assurance_level_follows_the_session() {
    let w = world().await;
    assert_eq!(w.client.assurance_level(), None, "no session");
    w.sign_in().await;
    let level = w.client.assurance_level().unwrap();
    assert_eq!(
        (level.current.as_deref(), level.next.as_deref()),
        (Some("aal1"), Some("aal1")),
        "no verified factor: nothing to step up to"
    );
    assert_eq!(level.current_authentication_methods.len(), 1);
    assert_eq!(level.current_authentication_methods[0].method, "password");
    assert!(level.current_authentication_methods[0].timestamp > 0);
    let enrollment = w.client.mfa_enroll_totp(None, None).await.unwrap();
    assert!(
        !w.client.assurance_level().unwrap().needs_step_up(),
        "an unverified factor does not count"
    );
    let code = w.code(&enrollment).await;
    w.client
        .mfa_challenge_and_verify(&enrollment.factor_id, &code)
        .await
        .unwrap();
    let level = w.client.assurance_level().unwrap();
    assert_eq!(
        (level.current.as_deref(), level.next.as_deref()),
        (Some("aal2"), Some("aal2"))
    );
    let methods: Vec<_> = level
        .current_authentication_methods
        .iter()
        .map(|entry| entry.method.as_str())
        .collect();
    assert!(
        methods.contains(&"totp") && methods.contains(&"password"),
        "{methods:?}"
    );
}

#[tokio::test]
async fn the_log_never_holds_the_totp_secret_uri_or_code() {
    let w = world().await;
    let (enrollment, _, code) = w.signed_in_with_mfa().await;
    let recorded = format!("{:?}", w.client.recorder().recent());
    assert!(recorded.contains("/factors"), "the MFA calls are recorded");
    let secret = enrollment.secret.expose_secret();
    for leaked in [secret, enrollment.uri.expose_secret(), "otpauth://", &code] {
        assert!(!recorded.contains(leaked), "{leaked} is in the log");
    }
}

#[tokio::test]
async fn a_factor_id_that_is_not_a_uuid_is_refused_before_any_request() {
    let w = world().await;
    w.sign_in().await;
    let before = w.client.recorder().recent().len();
    for error in [
        w.client.mfa_challenge("../token").await.unwrap_err(),
        w.client.mfa_verify("x", "y", "123456").await.unwrap_err(),
        w.client.mfa_unenroll("").await.unwrap_err(),
    ] {
        assert_eq!(error.kind(), "invalidInput", "{error}");
    }
    assert_eq!(w.client.recorder().recent().len(), before);
}

#[tokio::test]
async fn mfa_calls_without_a_session_are_session_missing() {
    let w = world().await;
    assert_eq!(
        w.client.mfa_enroll_totp(None, None).await.unwrap_err(),
        AuthError::SessionMissing
    );
    assert_eq!(
        w.client.mfa_list_factors().await.unwrap_err(),
        AuthError::SessionMissing
    );
}
