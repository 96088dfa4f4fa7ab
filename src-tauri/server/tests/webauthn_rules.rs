//! GoTrue's WebAuthn MFA rules (`internal/api/mfa.go`: enrollWebAuthnFactor,
//! challengeWebAuthnFactor, verifyWebAuthnFactor) and the checks go-webauthn makes for it
//! (W3C WebAuthn L2 §7.1 registration, §7.2 authentication), one test per rule, named for it.
//! The authenticator is the tests' own: a software one that builds attestation objects,
//! authenticator data and assertions from a P-256 (or Ed25519) key, never with the server's
//! code.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::{assert_error, claims, ok, start_with, Harness, Reply};
use local_gotrue::WebAuthnConfig;
use p256::ecdsa::signature::Signer as _;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const RP_ID: &str = "localhost";
const ORIGIN: &str = "http://localhost:5173";
const RP_NAME: &str = "auth-js tests";

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const AT: u8 = 0x40;

/// GoTrue's answer to an error it does not know (go-webauthn's registration errors).
const UNEXPECTED: &str = "Unexpected failure, please check server logs for more information";
/// GoTrue's answer to a failed assertion.
const ASSERTION_FAILED: &str = "Failed to validate WebAuthn MFA response";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

// ---- CBOR, the tests' own encoder ---------------------------------------------------------------

enum C {
    Int(i64),
    Bytes(Vec<u8>),
    Text(&'static str),
    Map(Vec<(C, C)>),
    Array(Vec<C>),
}

fn head(major: u8, n: u64) -> Vec<u8> {
    match n {
        0..=23 => vec![(major << 5) | n as u8],
        24..=0xff => vec![(major << 5) | 24, n as u8],
        0x100..=0xffff => [vec![(major << 5) | 25], (n as u16).to_be_bytes().to_vec()].concat(),
        _ => [vec![(major << 5) | 26], (n as u32).to_be_bytes().to_vec()].concat(),
    }
}

fn cbor(value: &C) -> Vec<u8> {
    match value {
        C::Int(n) if *n >= 0 => head(0, *n as u64),
        C::Int(n) => head(1, (-1 - *n) as u64),
        C::Bytes(bytes) => [head(2, bytes.len() as u64), bytes.clone()].concat(),
        C::Text(text) => [head(3, text.len() as u64), text.as_bytes().to_vec()].concat(),
        C::Array(items) => {
            let mut out = head(4, items.len() as u64);
            for item in items {
                out.extend(cbor(item));
            }
            out
        }
        C::Map(entries) => {
            let mut out = head(5, entries.len() as u64);
            for (key, value) in entries {
                out.extend(cbor(key));
                out.extend(cbor(value));
            }
            out
        }
    }
}

// ---- A software authenticator -------------------------------------------------------------------

enum Key {
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

/// What a test changes in what the authenticator (or the browser) would send.
#[derive(Default)]
struct Tweak {
    challenge: Option<String>,
    origin: Option<&'static str>,
    ceremony: Option<&'static str>,
    rp_id: Option<&'static str>,
    flags: Option<u8>,
    counter: Option<u32>,
    /// The COSE `alg` the key claims.
    alg: Option<i64>,
    attestation: Attest,
    bad_signature: bool,
    zero_rp_id_hash: bool,
    user_handle: Option<Vec<u8>>,
    credential_id: Option<Vec<u8>>,
}

#[derive(Default, Clone, Copy, PartialEq)]
enum Attest {
    #[default]
    None,
    /// "none" with a statement, which "none" must not have.
    NoneWithStatement,
    /// "packed" self attestation: the credential key signs authData || clientDataHash.
    PackedSelf,
    /// "packed" basic attestation: the fixture attestation key signs, its certificate in x5c.
    PackedBasic(&'static [u8]),
    /// "fido-u2f": the fixture attestation key signs the U2F registration data.
    FidoU2f,
}

/// The attestation certificates of tests/fixtures (see README-webauthn.md there).
const ATTESTATION_CERT: &[u8] = include_bytes!("fixtures/webauthn-attestation.der");
const ATTESTATION_CERT_WRONG_OU: &[u8] =
    include_bytes!("fixtures/webauthn-attestation-wrong-ou.der");

fn attestation_key() -> p256::ecdsa::SigningKey {
    let hex = include_str!("fixtures/webauthn-attestation.key.hex").trim();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    p256::ecdsa::SigningKey::from_slice(&bytes).unwrap()
}

struct Authenticator {
    credential_id: Vec<u8>,
    key: Key,
    sign_count: u32,
    user_handle: Vec<u8>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).unwrap();
    bytes
}

impl Authenticator {
    fn p256() -> Authenticator {
        Authenticator {
            credential_id: random::<32>().to_vec(),
            key: Key::P256(p256::ecdsa::SigningKey::from_slice(&random::<32>()).unwrap()),
            sign_count: 0,
            user_handle: Vec::new(),
        }
    }

    fn ed25519() -> Authenticator {
        Authenticator {
            key: Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&random::<32>())),
            ..Authenticator::p256()
        }
    }

    fn alg(&self) -> i64 {
        match self.key {
            Key::P256(_) => -7,
            Key::Ed25519(_) => -8,
        }
    }

    fn cose_key(&self, alg: i64) -> Vec<u8> {
        match &self.key {
            Key::P256(key) => {
                let point = key.verifying_key().to_encoded_point(false);
                cbor(&C::Map(vec![
                    (C::Int(1), C::Int(2)),
                    (C::Int(3), C::Int(alg)),
                    (C::Int(-1), C::Int(1)),
                    (C::Int(-2), C::Bytes(point.x().unwrap().to_vec())),
                    (C::Int(-3), C::Bytes(point.y().unwrap().to_vec())),
                ]))
            }
            Key::Ed25519(key) => cbor(&C::Map(vec![
                (C::Int(1), C::Int(1)),
                (C::Int(3), C::Int(alg)),
                (C::Int(-1), C::Int(6)),
                (
                    C::Int(-2),
                    C::Bytes(key.verifying_key().to_bytes().to_vec()),
                ),
            ])),
        }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.key {
            Key::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
            Key::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
        }
    }

    fn client_data(ceremony: &str, challenge: &str, tweak: &Tweak) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": tweak.ceremony.unwrap_or(ceremony),
            "challenge": tweak.challenge.as_deref().unwrap_or(challenge),
            "origin": tweak.origin.unwrap_or(ORIGIN),
            "crossOrigin": false,
        }))
        .unwrap()
    }

    fn rp_id_hash(tweak: &Tweak) -> Vec<u8> {
        if tweak.zero_rp_id_hash {
            return vec![0; 32];
        }
        Sha256::digest(tweak.rp_id.unwrap_or(RP_ID).as_bytes()).to_vec()
    }

    /// `navigator.credentials.create()` for the server's creation options.
    fn create(&mut self, options: &Value, tweak: &Tweak) -> Value {
        let options = &options["publicKey"];
        self.user_handle = unb64(options["user"]["id"].as_str().unwrap());
        let challenge = options["challenge"].as_str().unwrap();
        let mut auth_data = Self::rp_id_hash(tweak);
        auth_data.push(tweak.flags.unwrap_or(UP | UV | AT));
        auth_data.extend(tweak.counter.unwrap_or(self.sign_count).to_be_bytes());
        auth_data.extend([0u8; 16]);
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.cose_key(tweak.alg.unwrap_or(self.alg())));
        let client_data = Self::client_data("webauthn.create", challenge, tweak);
        let (format, statement) = match tweak.attestation {
            Attest::None => ("none", vec![]),
            Attest::NoneWithStatement => ("none", vec![(C::Text("alg"), C::Int(-7))]),
            Attest::PackedSelf => {
                let signed = [auth_data.clone(), Sha256::digest(&client_data).to_vec()].concat();
                let mut sig = self.sign(&signed);
                if tweak.bad_signature {
                    let last = sig.len() - 1;
                    sig[last] ^= 1;
                }
                let alg = tweak.alg.unwrap_or(self.alg());
                (
                    "packed",
                    vec![
                        (C::Text("alg"), C::Int(alg)),
                        (C::Text("sig"), C::Bytes(sig)),
                    ],
                )
            }
            Attest::FidoU2f => {
                let point = match &self.key {
                    Key::P256(key) => key.verifying_key().to_encoded_point(false),
                    Key::Ed25519(_) => panic!("fido-u2f needs a P-256 credential"),
                };
                let signed = [
                    &[0u8][..],
                    &auth_data[..32],
                    &Sha256::digest(&client_data),
                    &self.credential_id,
                    point.as_bytes(),
                ]
                .concat();
                let signature: p256::ecdsa::Signature = attestation_key().sign(&signed);
                let mut sig = signature.to_der().as_bytes().to_vec();
                if tweak.bad_signature {
                    let last = sig.len() - 1;
                    sig[last] ^= 1;
                }
                (
                    "fido-u2f",
                    vec![
                        (C::Text("sig"), C::Bytes(sig)),
                        (
                            C::Text("x5c"),
                            C::Array(vec![C::Bytes(ATTESTATION_CERT.to_vec())]),
                        ),
                    ],
                )
            }
            Attest::PackedBasic(certificate) => {
                let signed = [auth_data.clone(), Sha256::digest(&client_data).to_vec()].concat();
                let signature: p256::ecdsa::Signature = attestation_key().sign(&signed);
                let mut sig = signature.to_der().as_bytes().to_vec();
                if tweak.bad_signature {
                    let last = sig.len() - 1;
                    sig[last] ^= 1;
                }
                (
                    "packed",
                    vec![
                        (C::Text("alg"), C::Int(-7)),
                        (C::Text("sig"), C::Bytes(sig)),
                        (
                            C::Text("x5c"),
                            C::Array(vec![C::Bytes(certificate.to_vec())]),
                        ),
                    ],
                )
            }
        };
        let attestation = cbor(&C::Map(vec![
            (C::Text("fmt"), C::Text(format)),
            (C::Text("attStmt"), C::Map(statement)),
            (C::Text("authData"), C::Bytes(auth_data)),
        ]));
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
                "transports": ["usb"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "cross-platform",
        })
    }

    /// `navigator.credentials.get()` for the server's request options.
    fn get(&mut self, options: &Value, tweak: &Tweak) -> Value {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        self.sign_count += 1;
        let mut auth_data = Self::rp_id_hash(tweak);
        auth_data.push(tweak.flags.unwrap_or(UP | UV));
        auth_data.extend(tweak.counter.unwrap_or(self.sign_count).to_be_bytes());
        let client_data = Self::client_data("webauthn.get", challenge, tweak);
        let signed = [auth_data.clone(), Sha256::digest(&client_data).to_vec()].concat();
        let mut signature = self.sign(&signed);
        if tweak.bad_signature {
            let last = signature.len() - 1;
            signature[last] ^= 1;
        }
        let id = tweak.credential_id.as_ref().unwrap_or(&self.credential_id);
        json!({
            "id": b64(id),
            "rawId": b64(id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&signature),
                "userHandle": b64(tweak.user_handle.as_ref().unwrap_or(&self.user_handle)),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "cross-platform",
        })
    }
}

// ---- Helpers ------------------------------------------------------------------------------------

async fn start() -> Harness {
    start_with(|config| {
        config.mfa.webauthn_enroll_enabled = true;
        config.mfa.webauthn_verify_enabled = true;
        config.webauthn = WebAuthnConfig {
            rp_id: RP_ID.into(),
            rp_display_name: RP_NAME.into(),
            rp_origins: vec![ORIGIN.into()],
        };
    })
    .await
}

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

async fn enroll(h: &Harness, token: &str, name: &str) -> String {
    let reply = call(
        h,
        Method::POST,
        "/factors",
        token,
        Some(json!({"factor_type": "webauthn", "friendly_name": name})),
    )
    .await;
    ok(&reply);
    reply.body["id"].as_str().unwrap().to_string()
}

/// A challenge as auth-js asks for it (it sends the relying party too; GoTrue ignores it).
async fn challenge(h: &Harness, token: &str, factor: &str) -> Reply {
    call(
        h,
        Method::POST,
        &format!("/factors/{factor}/challenge"),
        token,
        Some(json!({"webauthn": {"rp_id": RP_ID, "rp_origins": [ORIGIN]}})),
    )
    .await
}

async fn verify(
    h: &Harness,
    token: &str,
    factor: &str,
    challenge: &Reply,
    kind: &str,
    response: Value,
) -> Reply {
    call(
        h,
        Method::POST,
        &format!("/factors/{factor}/verify"),
        token,
        Some(json!({
            "challenge_id": challenge.body["id"],
            "webauthn": {
                "type": kind,
                "credential_response": response,
                "rp_id": RP_ID,
                "rp_origins": [ORIGIN],
            },
        })),
    )
    .await
}

fn options(challenge: &Reply) -> &Value {
    &challenge.body["webauthn"]["credential_options"]
}

/// A registration with `tweak`: the verification's answer.
async fn register_with(
    h: &Harness,
    token: &str,
    factor: &str,
    authenticator: &mut Authenticator,
    tweak: Tweak,
) -> Reply {
    let challenge = challenge(h, token, factor).await;
    ok(&challenge);
    let response = authenticator.create(options(&challenge), &tweak);
    verify(h, token, factor, &challenge, "create", response).await
}

struct Registered {
    factor: String,
    authenticator: Authenticator,
    /// The aal2 access token of the registration.
    token: String,
}

async fn registered(h: &Harness) -> Registered {
    let token = h.sign_in().await.access_token();
    let factor = enroll(h, &token, "key").await;
    let mut authenticator = Authenticator::p256();
    let raised = register_with(h, &token, &factor, &mut authenticator, Tweak::default()).await;
    ok(&raised);
    Registered {
        factor,
        authenticator,
        token: raised.access_token(),
    }
}

/// An assertion with `tweak` against a new challenge: the verification's answer.
async fn assert_with(h: &Harness, r: &mut Registered, tweak: Tweak) -> Reply {
    let challenge = challenge(h, &r.token, &r.factor).await;
    ok(&challenge);
    let response = r.authenticator.get(options(&challenge), &tweak);
    verify(h, &r.token, &r.factor, &challenge, "request", response).await
}

fn amr_methods(access_token: &str) -> Vec<String> {
    claims(access_token)["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["method"].as_str().unwrap().to_string())
        .collect()
}

// ---- Settings -----------------------------------------------------------------------------------

#[tokio::test]
async fn webauthn_factors_are_off_by_default() {
    let h = common::start().await;
    let token = h.sign_in().await.access_token();
    let reply = call(
        &h,
        Method::POST,
        "/factors",
        &token,
        Some(json!({"factor_type": "webauthn"})),
    )
    .await;
    assert_error(
        &reply,
        422,
        "mfa_webauthn_enroll_not_enabled",
        "MFA enroll is disabled for WebAuthn",
    );
}

#[tokio::test]
async fn with_verification_off_a_challenge_is_refused_and_a_verification_has_the_enroll_code() {
    let h = start_with(|config| {
        config.mfa.webauthn_enroll_enabled = true;
        config.webauthn.rp_id = RP_ID.into();
        config.webauthn.rp_display_name = RP_NAME.into();
        config.webauthn.rp_origins = vec![ORIGIN.into()];
    })
    .await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    assert_error(
        &challenge(&h, &token, &factor).await,
        422,
        "mfa_webauthn_verify_not_enabled",
        "MFA verification is disabled for WebAuthn",
    );
    // GoTrue's VerifyFactor uses ErrorCodeMFAWebAuthnEnrollDisabled here.
    let reply = call(
        &h,
        Method::POST,
        &format!("/factors/{factor}/verify"),
        &token,
        Some(json!({"challenge_id": uuid::Uuid::new_v4(), "webauthn": {"type": "create"}})),
    )
    .await;
    assert_error(
        &reply,
        422,
        "mfa_webauthn_enroll_not_enabled",
        "MFA verification is disabled for WebAuthn",
    );
}

#[tokio::test]
async fn without_origins_a_challenge_is_an_unexpected_failure() {
    let h = start_with(|config| {
        config.mfa.webauthn_enroll_enabled = true;
        config.mfa.webauthn_verify_enabled = true;
        config.webauthn.rp_id = RP_ID.into();
        config.webauthn.rp_display_name = RP_NAME.into();
    })
    .await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    assert_error(
        &challenge(&h, &token, &factor).await,
        500,
        "unexpected_failure",
        UNEXPECTED,
    );
}

#[tokio::test]
async fn without_a_display_name_registration_data_cannot_be_generated() {
    let h = start_with(|config| {
        config.mfa.webauthn_enroll_enabled = true;
        config.mfa.webauthn_verify_enabled = true;
        config.webauthn.rp_id = RP_ID.into();
        config.webauthn.rp_origins = vec![ORIGIN.into()];
    })
    .await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    assert_error(
        &challenge(&h, &token, &factor).await,
        500,
        "unexpected_failure",
        "Failed to generate WebAuthn registration data",
    );
}

// ---- Enrollment and registration (§7.1) ----------------------------------------------------------

#[tokio::test]
async fn enrollment_answers_an_unverified_factor_without_secrets() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let reply = call(
        &h,
        Method::POST,
        "/factors",
        &token,
        Some(json!({"factor_type": "webauthn", "friendly_name": "Test Yubikey"})),
    )
    .await;
    ok(&reply);
    assert_eq!(
        reply.body,
        json!({"id": reply.body["id"], "type": "webauthn", "friendly_name": "Test Yubikey"})
    );
    let user = h.get_user(&token).await;
    assert_eq!(user.body["factors"][0]["status"], "unverified");
    assert_eq!(user.body["factors"][0]["factor_type"], "webauthn");
}

#[tokio::test]
async fn a_challenge_of_an_unverified_factor_answers_creation_options() {
    let h = start().await;
    let signed_in = h.sign_in().await;
    let token = signed_in.access_token();
    let factor = enroll(&h, &token, "key").await;
    let reply = challenge(&h, &token, &factor).await;
    ok(&reply);
    assert_eq!(reply.body["type"], "webauthn");
    assert_eq!(reply.body["webauthn"]["type"], "create");
    let options = &options(&reply)["publicKey"];
    assert_eq!(options["rp"], json!({"name": RP_NAME, "id": RP_ID}));
    let user_id = claims(&token)["sub"].as_str().unwrap().to_string();
    assert_eq!(
        options["user"],
        json!({
            "name": "demo@example.com",
            "displayName": "demo@example.com",
            "id": b64(user_id.as_bytes()),
        })
    );
    assert_eq!(unb64(options["challenge"].as_str().unwrap()).len(), 32);
    let algs: Vec<i64> = options["pubKeyCredParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["type"], "public-key");
            p["alg"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(algs, [-7, -36, -257, -258, -259, -37, -38, -39, -8]);
    assert_eq!(options["timeout"], 300_000);
    assert_eq!(options["authenticatorSelection"], json!({}));
    assert_eq!(
        options.get("excludeCredentials"),
        None,
        "nothing to exclude yet"
    );
    let expires_at = reply.body["expires_at"].as_i64().unwrap();
    let lifetime = expires_at - claims(&token)["iat"].as_i64().unwrap();
    assert!((299..=301).contains(&lifetime), "{lifetime}");
}

#[tokio::test]
async fn a_valid_registration_verifies_the_factor_and_raises_the_session_to_aal2() {
    let h = start().await;
    let signed_in = h.sign_in().await;
    let token = signed_in.access_token();
    let factor = enroll(&h, &token, "key").await;
    let mut authenticator = Authenticator::p256();
    // The password's AMR entry is strictly older, so the order is certain.
    h.skew_clock(2.0).await;
    let reply = register_with(&h, &token, &factor, &mut authenticator, Tweak::default()).await;
    ok(&reply);
    let raised = reply.access_token();
    assert_eq!(claims(&raised)["aal"], "aal2");
    assert_eq!(amr_methods(&raised), ["mfa/webauthn", "password"]);
    assert_ne!(reply.refresh_token(), signed_in.refresh_token());
    let user = h.get_user(&raised).await;
    let listed = &user.body["factors"][0];
    assert_eq!(listed["status"], "verified");
    // The zero AAGUID of a software authenticator, as GoTrue records it.
    assert_eq!(
        listed["web_authn_aaguid"],
        "00000000-0000-0000-0000-000000000000"
    );
    h.assert_consistent().await;
}

#[tokio::test]
async fn a_packed_self_attestation_is_verified() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    let mut authenticator = Authenticator::p256();
    let tweak = Tweak {
        attestation: Attest::PackedSelf,
        bad_signature: true,
        ..Tweak::default()
    };
    let reply = register_with(&h, &token, &factor, &mut authenticator, tweak).await;
    assert_error(&reply, 500, "unexpected_failure", UNEXPECTED);
    let tweak = Tweak {
        attestation: Attest::PackedSelf,
        ..Tweak::default()
    };
    ok(&register_with(&h, &token, &factor, &mut authenticator, tweak).await);
}

#[tokio::test]
async fn a_packed_basic_attestation_is_verified_with_its_certificate_checks() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    let mut authenticator = Authenticator::p256();
    for (case, tweak) in [
        (
            "bad signature",
            Tweak {
                attestation: Attest::PackedBasic(ATTESTATION_CERT),
                bad_signature: true,
                ..Tweak::default()
            },
        ),
        (
            "OU not \"Authenticator Attestation\"",
            Tweak {
                attestation: Attest::PackedBasic(ATTESTATION_CERT_WRONG_OU),
                ..Tweak::default()
            },
        ),
        (
            "not a certificate",
            Tweak {
                attestation: Attest::PackedBasic(b"not DER"),
                ..Tweak::default()
            },
        ),
    ] {
        let reply = register_with(&h, &token, &factor, &mut authenticator, tweak).await;
        assert_eq!(
            (
                reply.status.as_u16(),
                reply.code(),
                reply.body["message"].as_str()
            ),
            (500, "unexpected_failure", Some(UNEXPECTED)),
            "{case}: {}",
            reply.text
        );
    }
    let tweak = Tweak {
        attestation: Attest::PackedBasic(ATTESTATION_CERT),
        ..Tweak::default()
    };
    let raised = register_with(&h, &token, &factor, &mut authenticator, tweak).await;
    ok(&raised);
    let mut r = Registered {
        factor,
        authenticator,
        token: raised.access_token(),
    };
    ok(&assert_with(&h, &mut r, Tweak::default()).await);
}

#[tokio::test]
async fn a_fido_u2f_attestation_is_verified() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "old key").await;
    let mut authenticator = Authenticator::p256();
    let bad = Tweak {
        attestation: Attest::FidoU2f,
        bad_signature: true,
        ..Tweak::default()
    };
    let reply = register_with(&h, &token, &factor, &mut authenticator, bad).await;
    assert_error(&reply, 500, "unexpected_failure", UNEXPECTED);
    let good = Tweak {
        attestation: Attest::FidoU2f,
        ..Tweak::default()
    };
    ok(&register_with(&h, &token, &factor, &mut authenticator, good).await);
}

#[tokio::test]
async fn an_ed25519_credential_registers_and_asserts() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    let mut authenticator = Authenticator::ed25519();
    let tweak = Tweak {
        attestation: Attest::PackedSelf,
        ..Tweak::default()
    };
    let raised = register_with(&h, &token, &factor, &mut authenticator, tweak).await;
    ok(&raised);
    let mut r = Registered {
        factor,
        authenticator,
        token: raised.access_token(),
    };
    ok(&assert_with(&h, &mut r, Tweak::default()).await);
    let bad = Tweak {
        bad_signature: true,
        ..Tweak::default()
    };
    assert_error(
        &assert_with(&h, &mut r, bad).await,
        500,
        "unexpected_failure",
        ASSERTION_FAILED,
    );
}

/// Each §7.1 check go-webauthn makes, broken once; GoTrue returns the library's error, which
/// its handler answers as an unexpected failure.
#[tokio::test]
async fn a_registration_failing_a_ceremony_check_is_an_unexpected_failure() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    let cases: Vec<(&str, Tweak)> = vec![
        (
            "wrong challenge",
            Tweak {
                challenge: Some(b64(&[7; 32])),
                ..Tweak::default()
            },
        ),
        (
            "wrong origin",
            Tweak {
                origin: Some("http://localhost:5174"),
                ..Tweak::default()
            },
        ),
        (
            "assertion ceremony type",
            Tweak {
                ceremony: Some("webauthn.get"),
                ..Tweak::default()
            },
        ),
        (
            "other rp id",
            Tweak {
                rp_id: Some("example.com"),
                ..Tweak::default()
            },
        ),
        (
            "user not present",
            Tweak {
                flags: Some(UV | AT),
                ..Tweak::default()
            },
        ),
        (
            "algorithm not offered (ES384)",
            Tweak {
                alg: Some(-35),
                ..Tweak::default()
            },
        ),
        (
            "none with a statement",
            Tweak {
                attestation: Attest::NoneWithStatement,
                ..Tweak::default()
            },
        ),
    ];
    let mut authenticator = Authenticator::p256();
    for (case, tweak) in cases {
        let reply = register_with(&h, &token, &factor, &mut authenticator, tweak).await;
        assert_eq!(
            (
                reply.status.as_u16(),
                reply.code(),
                reply.body["message"].as_str()
            ),
            (500, "unexpected_failure", Some(UNEXPECTED)),
            "{case}: {}",
            reply.text
        );
    }
    let user = h.get_user(&token).await;
    assert_eq!(user.body["factors"][0]["status"], "unverified");
}

#[tokio::test]
async fn a_registration_response_that_does_not_parse_is_an_invalid_credential_response() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    let mut authenticator = Authenticator::p256();
    let reply = challenge(&h, &token, &factor).await;
    let good = authenticator.create(options(&reply), &Tweak::default());
    let without_at = authenticator.create(
        options(&reply),
        &Tweak {
            flags: Some(UP | UV),
            ..Tweak::default()
        },
    );
    let mut no_id = good.clone();
    no_id["id"] = json!("");
    let mut garbage = good.clone();
    garbage["response"]["attestationObject"] = json!(b64(b"not cbor at all"));
    let mut wrong_type = good.clone();
    wrong_type["type"] = json!("password");
    for (case, response) in [
        ("no attested credential data", without_at),
        ("no id", no_id),
        ("not CBOR", garbage),
        ("not public-key", wrong_type),
        ("null", Value::Null),
    ] {
        let reply = verify(&h, &token, &factor, &reply, "create", response).await;
        assert_eq!(
            (
                reply.status.as_u16(),
                reply.code(),
                reply.body["message"].as_str()
            ),
            (
                400,
                "validation_failed",
                Some("Invalid credential_response")
            ),
            "{case}: {}",
            reply.text
        );
    }
    ok(&verify(&h, &token, &factor, &reply, "create", good).await);
}

#[tokio::test]
async fn a_verification_needs_webauthn_params_a_type_and_a_response() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    let reply = challenge(&h, &token, &factor).await;
    let path = format!("/factors/{factor}/verify");
    let id = reply.body["id"].clone();
    for (body, message) in [
        (json!({"challenge_id": id}), "WebAuthn config required"),
        (
            json!({"challenge_id": id, "webauthn": null}),
            "WebAuthn config required",
        ),
        (
            json!({"challenge_id": id, "webauthn": {"type": "get"}}),
            "WebAuthn type must be create or request",
        ),
        (
            json!({"challenge_id": id, "webauthn": {"type": "create"}}),
            "credential_response required",
        ),
    ] {
        let reply = call(&h, Method::POST, &path, &token, Some(body)).await;
        assert_error(&reply, 400, "validation_failed", message);
    }
}

#[tokio::test]
async fn a_webauthn_challenge_reads_a_json_body() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    let reply = call(
        &h,
        Method::POST,
        &format!("/factors/{factor}/challenge"),
        &token,
        None,
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (400, "bad_json"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn a_used_challenge_is_deleted() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    let mut authenticator = Authenticator::p256();
    let reply = challenge(&h, &token, &factor).await;
    let response = authenticator.create(options(&reply), &Tweak::default());
    let raised = verify(&h, &token, &factor, &reply, "create", response.clone()).await;
    ok(&raised);
    // Unlike a TOTP challenge (marked verified), GoTrue destroys a WebAuthn one.
    let again = verify(
        &h,
        &raised.access_token(),
        &factor,
        &reply,
        "create",
        response,
    )
    .await;
    assert_error(
        &again,
        422,
        "mfa_factor_not_found",
        "MFA factor with the provided challenge ID not found",
    );
}

#[tokio::test]
async fn an_expired_challenge_is_mfa_challenge_expired() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    let mut authenticator = Authenticator::p256();
    let reply = challenge(&h, &token, &factor).await;
    let id = reply.body["id"].as_str().unwrap().to_string();
    let response = authenticator.create(options(&reply), &Tweak::default());
    h.skew_clock(301.0).await;
    let expired = verify(&h, &token, &factor, &reply, "create", response).await;
    assert_error(
        &expired,
        422,
        "mfa_challenge_expired",
        &format!(
            "MFA challenge {id} has expired, verify against another challenge or create a new challenge."
        ),
    );
}

#[tokio::test]
async fn a_factor_of_another_user_is_not_found() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    let other = h
        .post(
            "/signup",
            json!({"email": "other@example.com", "password": "other-password-1"}),
        )
        .await;
    let other_token = other.access_token();
    for reply in [
        challenge(&h, &other_token, &factor).await,
        call(
            &h,
            Method::POST,
            &format!("/factors/{factor}/verify"),
            &other_token,
            Some(json!({"challenge_id": uuid::Uuid::new_v4(), "webauthn": {"type": "create", "credential_response": {}}})),
        )
        .await,
    ] {
        assert_error(&reply, 404, "mfa_factor_not_found", "Factor not found");
    }
}

// ---- Authentication (§7.2) ---------------------------------------------------------------------

#[tokio::test]
async fn a_challenge_of_a_verified_factor_answers_request_options_allowing_its_credential() {
    let h = start().await;
    let r = registered(&h).await;
    let reply = challenge(&h, &r.token, &r.factor).await;
    ok(&reply);
    assert_eq!(reply.body["webauthn"]["type"], "request");
    let options = &options(&reply)["publicKey"];
    assert_eq!(options["rpId"], RP_ID);
    assert_eq!(options["timeout"], 300_000);
    assert_eq!(
        options["allowCredentials"],
        json!([{"type": "public-key", "id": b64(&r.authenticator.credential_id), "transports": ["usb"]}])
    );
    assert_eq!(options.get("userVerification"), None);
}

#[tokio::test]
async fn a_valid_assertion_raises_a_new_session_to_aal2() {
    let h = start().await;
    let mut r = registered(&h).await;
    let fresh = h.sign_in().await;
    assert_eq!(claims(&fresh.access_token())["aal"], "aal1");
    r.token = fresh.access_token();
    h.skew_clock(2.0).await;
    let reply = assert_with(&h, &mut r, Tweak::default()).await;
    ok(&reply);
    assert_eq!(claims(&reply.access_token())["aal"], "aal2");
    assert_eq!(
        amr_methods(&reply.access_token()),
        ["mfa/webauthn", "password"]
    );
}

#[tokio::test]
async fn a_second_enrollment_excludes_the_registered_credential() {
    let h = start().await;
    let r = registered(&h).await;
    let second = enroll(&h, &r.token, "backup key").await;
    let reply = challenge(&h, &r.token, &second).await;
    ok(&reply);
    assert_eq!(
        options(&reply)["publicKey"]["excludeCredentials"],
        json!([{"type": "public-key", "id": b64(&r.authenticator.credential_id), "transports": ["usb", "nfc"]}])
    );
}

/// Each §7.2 check go-webauthn makes, broken once; GoTrue answers them all the same.
#[tokio::test]
async fn an_assertion_failing_a_ceremony_check_fails_to_validate() {
    let h = start().await;
    let mut r = registered(&h).await;
    let handle = r.authenticator.user_handle.clone();
    let cases: Vec<(&str, Tweak)> = vec![
        (
            "wrong challenge",
            Tweak {
                challenge: Some(b64(&[7; 32])),
                ..Tweak::default()
            },
        ),
        (
            "wrong origin",
            Tweak {
                origin: Some("https://evil.example"),
                ..Tweak::default()
            },
        ),
        (
            "creation ceremony type",
            Tweak {
                ceremony: Some("webauthn.create"),
                ..Tweak::default()
            },
        ),
        (
            "other rp id",
            Tweak {
                rp_id: Some("example.com"),
                ..Tweak::default()
            },
        ),
        (
            "zero rp id hash",
            Tweak {
                zero_rp_id_hash: true,
                ..Tweak::default()
            },
        ),
        (
            "user not present",
            Tweak {
                flags: Some(UV),
                ..Tweak::default()
            },
        ),
        (
            "bad signature",
            Tweak {
                bad_signature: true,
                ..Tweak::default()
            },
        ),
        (
            "unknown credential",
            Tweak {
                credential_id: Some(vec![9; 32]),
                ..Tweak::default()
            },
        ),
        (
            "other user handle",
            Tweak {
                user_handle: Some(b"someone-else".to_vec()),
                ..Tweak::default()
            },
        ),
        (
            "backup eligibility changed",
            Tweak {
                flags: Some(UP | UV | BE),
                ..Tweak::default()
            },
        ),
    ];
    for (case, tweak) in cases {
        let reply = assert_with(&h, &mut r, tweak).await;
        assert_eq!(
            (
                reply.status.as_u16(),
                reply.code(),
                reply.body["message"].as_str()
            ),
            (500, "unexpected_failure", Some(ASSERTION_FAILED)),
            "{case}: {}",
            reply.text
        );
    }
    assert_eq!(r.authenticator.user_handle, handle);
    ok(&assert_with(&h, &mut r, Tweak::default()).await);
}

/// The user's stored credentials, oldest factor first.
fn stored_credentials(h: &Harness, token: &str) -> Vec<local_gotrue::webauthn::Credential> {
    let user = claims(token)["sub"].as_str().unwrap().parse().unwrap();
    h.server
        .state()
        .db
        .run(|conn| local_gotrue::mfa::webauthn_credentials_of(conn, user))
        .unwrap()
}

/// §7.2 step 21 (go-webauthn's `CloneWarning`): a counter that does not go up is accepted but
/// flagged; one that goes up is kept. Stricter than GoTrue, which never stores an
/// assertion's credential (review 4, item 3): here the count and flags of the credential used
/// are stored, so the check has a counter to compare with.
#[tokio::test]
async fn an_assertion_stores_the_sign_counter_and_a_counter_that_does_not_go_up_is_flagged() {
    let h = start().await;
    let mut r = registered(&h).await;
    assert_eq!(stored_credentials(&h, &r.token)[0].sign_count, 0);
    let counted = Tweak {
        counter: Some(10),
        ..Tweak::default()
    };
    ok(&assert_with(&h, &mut r, counted).await);
    let stored = &stored_credentials(&h, &r.token)[0];
    assert_eq!((stored.sign_count, stored.clone_warning), (10, false));
    let lower = Tweak {
        counter: Some(3),
        ..Tweak::default()
    };
    ok(&assert_with(&h, &mut r, lower).await);
    let stored = &stored_credentials(&h, &r.token)[0];
    assert_eq!((stored.sign_count, stored.clone_warning), (10, true));
}

/// Review 4, item 5: the challenge decides the ceremony. A "request" against an unverified
/// factor's registration challenge, signed by the user's registered key, fails and leaves
/// the new factor unverified.
#[tokio::test]
async fn a_request_against_a_registration_challenge_fails() {
    let h = start().await;
    let mut r = registered(&h).await;
    let second = enroll(&h, &r.token, "backup key").await;
    let create = challenge(&h, &r.token, &second).await;
    ok(&create);
    assert_eq!(create.body["webauthn"]["type"], "create");
    let assertion = r.authenticator.get(options(&create), &Tweak::default());
    let reply = verify(&h, &r.token, &second, &create, "request", assertion).await;
    assert_error(&reply, 500, "unexpected_failure", ASSERTION_FAILED);
    let factors = stored_credentials(&h, &r.token);
    assert_eq!(factors.len(), 1, "no credential copied to the new factor");
    // The other way round: a registration against an authentication challenge.
    let request = challenge(&h, &r.token, &r.factor).await;
    ok(&request);
    let mut other = Authenticator::p256();
    let creation = json!({"publicKey": {
        "user": {"id": b64(&r.authenticator.user_handle)},
        "challenge": options(&request)["publicKey"]["challenge"],
    }});
    let registration = other.create(&creation, &Tweak::default());
    let reply = verify(&h, &r.token, &r.factor, &request, "create", registration).await;
    assert_error(&reply, 500, "unexpected_failure", UNEXPECTED);
}

/// Review 4, item 4: a challenge verifies once, even when two verifications of it run at the
/// same time (the challenge is deleted in the transaction that raises the session, which
/// needs that delete to find it).
#[tokio::test]
async fn two_concurrent_verifications_of_one_challenge_succeed_once() {
    let h = start().await;
    let mut r = registered(&h).await;
    for _ in 0..5 {
        let request = challenge(&h, &r.token, &r.factor).await;
        ok(&request);
        let first = r.authenticator.get(options(&request), &Tweak::default());
        let second = r.authenticator.get(options(&request), &Tweak::default());
        let (a, b) = tokio::join!(
            verify(&h, &r.token, &r.factor, &request, "request", first),
            verify(&h, &r.token, &r.factor, &request, "request", second),
        );
        let passed = [&a, &b].iter().filter(|reply| reply.status == 200).count();
        // Statuses and codes only: a passing answer holds tokens.
        assert_eq!(
            passed,
            1,
            "{} {} / {} {}",
            a.status,
            a.code(),
            b.status,
            b.code()
        );
        let refused = if a.status == 200 { &b } else { &a };
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert_eq!(refused.code(), "mfa_factor_not_found", "{}", refused.text);
    }
}

/// §7.1 step 22 (review 4, item 6): a credential id registered already, by any user, is
/// refused. GoTrue does not check it.
#[tokio::test]
async fn a_credential_id_registered_already_is_refused() {
    let h = start().await;
    let r = registered(&h).await;
    let token = h
        .post(
            "/signup",
            json!({"email": "second@example.com", "password": "another-password-1"}),
        )
        .await
        .access_token();
    let factor = enroll(&h, &token, "key").await;
    let mut copy = Authenticator::p256();
    copy.credential_id = r.authenticator.credential_id.clone();
    let reply = register_with(&h, &token, &factor, &mut copy, Tweak::default()).await;
    assert_error(&reply, 500, "unexpected_failure", UNEXPECTED);
    assert!(stored_credentials(&h, &token).is_empty());
}

/// Review 4, item 6: `rawId` must name the credential `id` names, and an attested credential
/// id of zero bytes does not parse.
#[tokio::test]
async fn a_raw_id_other_than_the_id_or_an_empty_credential_id_does_not_parse() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    let mut authenticator = Authenticator::p256();
    let created = challenge(&h, &token, &factor).await;
    let mut response = authenticator.create(options(&created), &Tweak::default());
    response["rawId"] = json!(b64(&[1; 32]));
    let reply = verify(&h, &token, &factor, &created, "create", response).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Invalid credential_response",
    );
    authenticator.credential_id = Vec::new();
    let created = challenge(&h, &token, &factor).await;
    let mut response = authenticator.create(options(&created), &Tweak::default());
    // The JSON id cannot be empty either; name the credential, attest none.
    response["id"] = json!(b64(&[1; 32]));
    response["rawId"] = json!(b64(&[1; 32]));
    let reply = verify(&h, &token, &factor, &created, "create", response).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Invalid credential_response",
    );
}

/// Review 4, item 1: a huge CBOR map in the attestation object is refused at its head, at
/// once, not searched for duplicates.
#[tokio::test]
async fn a_huge_attestation_object_is_refused_quickly() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enroll(&h, &token, "key").await;
    let mut authenticator = Authenticator::p256();
    let created = challenge(&h, &token, &factor).await;
    let mut response = authenticator.create(options(&created), &Tweak::default());
    let pairs: u32 = 120_000;
    let mut object = vec![0xba];
    object.extend(pairs.to_be_bytes());
    for key in 0..pairs {
        object.push(0x1a);
        object.extend(key.to_be_bytes());
        object.push(0x00);
    }
    response["response"]["attestationObject"] = json!(b64(&object));
    let started = std::time::Instant::now();
    let reply = verify(&h, &token, &factor, &created, "create", response).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Invalid credential_response",
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn an_assertion_response_that_does_not_parse_is_an_invalid_credential_response() {
    let h = start().await;
    let mut r = registered(&h).await;
    let reply = challenge(&h, &r.token, &r.factor).await;
    let good = r.authenticator.get(options(&reply), &Tweak::default());
    let mut short = good.clone();
    short["response"]["authenticatorData"] = json!(b64(&[0; 36]));
    let mut no_id = good.clone();
    no_id["id"] = json!("");
    let mut not_json = good.clone();
    not_json["response"]["clientDataJSON"] = json!(b64(b"{"));
    for (case, response) in [
        ("short authenticator data", short),
        ("no id", no_id),
        ("client data not JSON", not_json),
    ] {
        let reply = verify(&h, &r.token, &r.factor, &reply, "request", response).await;
        assert_eq!(
            (
                reply.status.as_u16(),
                reply.code(),
                reply.body["message"].as_str()
            ),
            (
                400,
                "validation_failed",
                Some("Invalid credential_response")
            ),
            "{case}: {}",
            reply.text
        );
    }
    ok(&verify(&h, &r.token, &r.factor, &reply, "request", good).await);
}

#[tokio::test]
async fn unenrolling_a_verified_webauthn_factor_removes_it_and_its_credential() {
    let h = start().await;
    let r = registered(&h).await;
    let reply = call(
        &h,
        Method::DELETE,
        &format!("/factors/{}", r.factor),
        &r.token,
        None,
    )
    .await;
    ok(&reply);
    let user = h.get_user(&r.token).await;
    // `factors` is left out when empty, as GoTrue leaves it out.
    assert_eq!(user.body.get("factors"), None, "{}", user.text);
    // The credential went with its factor: a new enrollment has nothing to exclude.
    let factor = enroll(&h, &r.token, "new key").await;
    let reply = challenge(&h, &r.token, &factor).await;
    ok(&reply);
    assert_eq!(options(&reply)["publicKey"].get("excludeCredentials"), None);
    h.assert_consistent().await;
}
