//! WebAuthn ceremonies for MFA factors, as GoTrue runs them through go-webauthn (v0.16):
//! the options a challenge answers with (`BeginRegistration`, `BeginLogin`), what a challenge
//! remembers (`SessionData`), and the checks of a registration (W3C WebAuthn L2 §7.1,
//! `CreateCredential`) and of an assertion (§7.2, `ValidateLogin`). Pure: no database, no
//! HTTP; the route (`routes/mfa_webauthn.rs`) stores and answers.
//!
//! Where this differs from go-webauthn, on purpose:
//! - Attestation: formats "none", "packed" (self attestation, and basic attestation with
//!   go-webauthn's certificate checks) and "fido-u2f" are verified. "tpm", "android-key",
//!   "android-safetynet", "apple" and "compound" are refused (go-webauthn verifies them).
//!   auth-js asks for "direct" attestation: security keys answer "packed", old U2F keys
//!   "fido-u2f", synced passkeys "none"; Windows Hello ("tpm") and Android keys are the gap.
//!   An attestation certificate's country must be two capital letters (go-webauthn also
//!   checks them against ISO 3166), and only P-256, P-521, RSA and Ed25519 certificate keys
//!   verify.
//! - ES384 (-35) is neither offered nor accepted: no P-384 implementation is in the tree.
//!   The other nine algorithms of go-webauthn's default list are offered and verified.
//! - An assertion whose rpIdHash is 32 zero bytes is refused; go-webauthn compares it with
//!   an empty AppID's zeroed hash too and so lets it through.

use std::fmt;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::cbor::{self, Cbor};
use crate::x509;

/// go-webauthn's `URLEncodedBase64` reading: unpadded base64url, lenient on trailing bits as
/// Go's `RawURLEncoding` is.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn unb64(text: &str) -> Option<Vec<u8>> {
    B64.decode(text).ok()
}

/// COSE algorithm identifiers.
pub const ES256: i64 = -7;
pub const ES512: i64 = -36;
pub const RS256: i64 = -257;
pub const RS384: i64 = -258;
pub const RS512: i64 = -259;
pub const PS256: i64 = -37;
pub const PS384: i64 = -38;
pub const PS512: i64 = -39;
pub const EDDSA: i64 = -8;

/// `CredentialParametersDefault()` in its order, without ES384 (see the module notes).
pub const CREDENTIAL_ALGORITHMS: [i64; 9] = [
    ES256, ES512, RS256, RS384, RS512, PS256, PS384, PS512, EDDSA,
];

/// go-webauthn's default ceremony timeout, sent in the options (it does not enforce it;
/// GoTrue's challenge expiry does).
const TIMEOUT_MS: u64 = 300_000;

/// Transports GoTrue lists for every excluded credential.
const EXCLUDED_TRANSPORTS: [&str; 2] = ["usb", "nfc"];

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;
const ED: u8 = 0x80;

/// The relying party, from the server's settings (GoTrue's `WEBAUTHN_RP_*`).
#[derive(Debug, Clone, Copy)]
pub struct RelyingParty<'a> {
    pub id: &'a str,
    pub display_name: &'a str,
    pub origins: &'a [String],
}

/// Why a ceremony could not start (go-webauthn's configuration checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeginError(pub &'static str);

/// Which ceremony a challenge was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ceremony {
    Create,
    Request,
}

/// What a challenge remembers until it is verified (go-webauthn's `SessionData`): binary
/// values base64url.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionData {
    /// Not in go-webauthn's: the ceremony the challenge is for, so a verification cannot run
    /// the other one against it (a "request" against a registration's challenge would have
    /// no allow-list to check). `None` (a challenge stored before it was recorded) matches
    /// neither ceremony.
    #[serde(default)]
    pub ceremony: Option<Ceremony>,
    pub challenge: String,
    pub rp_id: String,
    pub user_id: String,
    #[serde(default)]
    pub allowed_credential_ids: Vec<String>,
    #[serde(default)]
    pub user_verification: String,
    /// Only a registration's: the algorithms offered.
    #[serde(default)]
    pub cred_params: Vec<i64>,
}

/// A registered credential (go-webauthn's `Credential`), binary values base64url.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    pub id: String,
    /// The COSE key as the authenticator sent it.
    pub public_key: String,
    pub attestation_type: String,
    pub transports: Vec<String>,
    pub user_present: bool,
    pub user_verified: bool,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub aaguid: String,
    pub sign_count: u32,
    /// go-webauthn's `CloneWarning`: an assertion's counter did not go up.
    #[serde(default)]
    pub clone_warning: bool,
    pub attachment: String,
}

/// Never the key material.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("attestation_type", &self.attestation_type)
            .field("sign_count", &self.sign_count)
            .finish_non_exhaustive()
    }
}

impl Credential {
    fn raw_id(&self) -> Vec<u8> {
        unb64(&self.id).unwrap_or_default()
    }

    /// The authenticator's AAGUID as GoTrue records it on the factor (`web_authn_aaguid`).
    pub fn aaguid_uuid(&self) -> Option<Uuid> {
        let bytes = unb64(&self.aaguid)?;
        Uuid::from_slice(&bytes).ok()
    }

    /// `Credential.Descriptor()`.
    fn descriptor(&self) -> Value {
        let mut descriptor = json!({"type": "public-key", "id": self.id});
        if !self.transports.is_empty() {
            descriptor["transports"] = json!(self.transports);
        }
        descriptor
    }
}

/// How a finished ceremony failed. GoTrue answers a response it cannot parse with a 400
/// and a failed check with a 500, so the two are kept apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CeremonyError {
    /// The credential response is malformed (`Parse*Response*`).
    Parse(String),
    /// The response parsed but a check failed.
    Verify(String),
}

impl fmt::Display for CeremonyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CeremonyError::Parse(why) => write!(f, "webauthn: parse error: {why}"),
            CeremonyError::Verify(why) => write!(f, "webauthn: verification failed: {why}"),
        }
    }
}

fn parse_err<T>(why: impl Into<String>) -> Result<T, CeremonyError> {
    Err(CeremonyError::Parse(why.into()))
}

fn verify_err<T>(why: impl Into<String>) -> Result<T, CeremonyError> {
    Err(CeremonyError::Verify(why.into()))
}

/// A new challenge: 32 random bytes (`protocol.CreateChallenge`).
pub fn new_challenge() -> String {
    b64(&crate::hash::random_bytes::<32>())
}

/// `webauthn.New`'s configuration check: at least one origin, and an id (when given) that is
/// a host rather than a URL (`ValidateRPID`, as far as a configured id can go wrong).
pub fn validate_config(rp: &RelyingParty) -> Result<(), BeginError> {
    if rp.origins.is_empty() {
        return Err(BeginError(
            "must provide at least one value to the 'RPOrigins' field",
        ));
    }
    if rp.id.contains(['/', '?', '#', '@']) {
        return Err(BeginError(
            "the relying party id must be a valid domain string",
        ));
    }
    Ok(())
}

/// What each ceremony start checks of the relying party besides [`validate_config`].
fn check_rp(rp: &RelyingParty) -> Result<(), BeginError> {
    validate_config(rp)?;
    if rp.id.is_empty() {
        return Err(BeginError("the relying party id must be provided"));
    }
    Ok(())
}

/// The `webauthn.User` GoTrue makes of a user: its id's text as bytes, its email as both
/// names.
pub struct WebAuthnUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
}

impl WebAuthnUser<'_> {
    fn handle(&self) -> Vec<u8> {
        self.id.to_string().into_bytes()
    }
}

/// `BeginRegistration(user, WithExclusions(..))`: the creation options (as
/// `{"publicKey": ..}`) and what the challenge remembers. `existing` are the user's
/// registered credentials, excluded.
pub fn begin_registration(
    rp: &RelyingParty,
    user: &WebAuthnUser,
    existing: &[Credential],
    challenge: String,
) -> Result<(Value, SessionData), BeginError> {
    check_rp(rp)?;
    if rp.display_name.is_empty() {
        return Err(BeginError(
            "the relying party display name must be provided",
        ));
    }
    let params: Vec<Value> = CREDENTIAL_ALGORITHMS
        .iter()
        .map(|alg| json!({"type": "public-key", "alg": alg}))
        .collect();
    let mut options = json!({
        "rp": {"name": rp.display_name, "id": rp.id},
        "user": {"name": user.email, "displayName": user.email, "id": b64(&user.handle())},
        "challenge": challenge,
        "pubKeyCredParams": params,
        "timeout": TIMEOUT_MS,
        // A Go struct is never left out, even empty.
        "authenticatorSelection": {},
    });
    if !existing.is_empty() {
        options["excludeCredentials"] = existing
            .iter()
            .map(|credential| {
                json!({"type": "public-key", "id": credential.id, "transports": EXCLUDED_TRANSPORTS})
            })
            .collect();
    }
    let session = SessionData {
        ceremony: Some(Ceremony::Create),
        challenge,
        rp_id: rp.id.to_string(),
        user_id: b64(&user.handle()),
        allowed_credential_ids: Vec::new(),
        user_verification: String::new(),
        cred_params: CREDENTIAL_ALGORITHMS.to_vec(),
    };
    Ok((json!({"publicKey": options}), session))
}

/// `BeginLogin(user)`: the request options (as `{"publicKey": ..}`), allowing each of the
/// user's credentials, and what the challenge remembers.
pub fn begin_login(
    rp: &RelyingParty,
    user: &WebAuthnUser,
    credentials: &[Credential],
    challenge: String,
) -> Result<(Value, SessionData), BeginError> {
    if credentials.is_empty() {
        return Err(BeginError("Found no credentials for user"));
    }
    check_rp(rp)?;
    let options = json!({
        "challenge": challenge,
        "timeout": TIMEOUT_MS,
        "rpId": rp.id,
        "allowCredentials": credentials.iter().map(Credential::descriptor).collect::<Vec<_>>(),
    });
    let session = SessionData {
        ceremony: Some(Ceremony::Request),
        challenge,
        rp_id: rp.id.to_string(),
        user_id: b64(&user.handle()),
        allowed_credential_ids: credentials.iter().map(|c| c.id.clone()).collect(),
        user_verification: String::new(),
        cred_params: Vec::new(),
    };
    Ok((json!({"publicKey": options}), session))
}

// ---- Reading the client's JSON, as Go's encoding/json reads go-webauthn's types -------------

/// A Go `string` field: absent or null is empty, anything else but a string is an error.
fn go_string(object: &Map<String, Value>, key: &str) -> Result<String, CeremonyError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => parse_err(format!("{key} is not a string")),
    }
}

/// A `URLEncodedBase64` field: absent or null is empty; `=` padding is tolerated.
fn go_bytes(object: &Map<String, Value>, key: &str) -> Result<Vec<u8>, CeremonyError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) => unb64(text.trim_end_matches('='))
            .ok_or_else(|| CeremonyError::Parse(format!("{key} is not base64url"))),
        Some(_) => parse_err(format!("{key} is not a string")),
    }
}

fn go_object<'a>(
    value: Option<&'a Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, CeremonyError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object)),
        Some(_) => parse_err(format!("{key} is not an object")),
    }
}

/// `PublicKeyCredential`'s own fields, checked as both `Parse` methods check them.
struct PublicKeyCredential {
    raw_id: Vec<u8>,
    attachment: String,
}

fn public_key_credential(
    object: &Map<String, Value>,
) -> Result<PublicKeyCredential, CeremonyError> {
    let id = go_string(object, "id")?;
    let kind = go_string(object, "type")?;
    let raw_id = go_bytes(object, "rawId")?;
    go_object(
        object.get("clientExtensionResults"),
        "clientExtensionResults",
    )?;
    let attachment = go_string(object, "authenticatorAttachment")?;
    if id.is_empty() {
        return parse_err("Missing ID");
    }
    if unb64(&id).is_none_or(|bytes| bytes.is_empty()) {
        return parse_err("ID not base64.RawURLEncoded");
    }
    if kind != "public-key" {
        return parse_err("Type not public-key");
    }
    // The JSON form sends the id twice (auth-js sends `rawId: id`); go-webauthn uses
    // `rawId` and never compares. Stricter: the two must agree.
    if unb64(&id).as_ref() != Some(&raw_id) {
        return parse_err("ID does not match RawID");
    }
    let attachment = match attachment.as_str() {
        "platform" | "cross-platform" => attachment,
        _ => String::new(),
    };
    Ok(PublicKeyCredential { raw_id, attachment })
}

/// `CollectedClientData`, from the clientDataJSON bytes.
struct ClientData {
    kind: String,
    challenge: String,
    origin: String,
    token_binding_status: Option<String>,
}

fn client_data(bytes: &[u8]) -> Result<ClientData, CeremonyError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| CeremonyError::Parse(format!("clientDataJSON: {e}")))?;
    let Some(object) = go_object(Some(&value), "clientDataJSON")? else {
        // JSON null decodes into an empty struct in Go.
        return Ok(ClientData {
            kind: String::new(),
            challenge: String::new(),
            origin: String::new(),
            token_binding_status: None,
        });
    };
    go_string(object, "topOrigin")?;
    match object.get("crossOrigin") {
        None | Some(Value::Null) | Some(Value::Bool(_)) => {}
        Some(_) => return parse_err("crossOrigin is not a boolean"),
    }
    let token_binding_status = match go_object(object.get("tokenBinding"), "tokenBinding")? {
        Some(binding) => {
            go_string(binding, "id")?;
            Some(go_string(binding, "status")?)
        }
        None => None,
    };
    Ok(ClientData {
        kind: go_string(object, "type")?,
        challenge: go_string(object, "challenge")?,
        origin: go_string(object, "origin")?,
        token_binding_status,
    })
}

/// `CollectedClientData.Verify`: the ceremony type, the challenge, the origin (top origins
/// are not checked: GoTrue leaves go-webauthn's "ignore" mode), the token binding's status.
fn check_client_data(
    data: &ClientData,
    ceremony: &str,
    challenge: &str,
    origins: &[String],
) -> Result<(), CeremonyError> {
    if data.kind != ceremony {
        return verify_err(format!(
            "Error validating ceremony type: expected {ceremony}, received {:?}",
            data.kind
        ));
    }
    if !constant_time_eq(challenge.as_bytes(), data.challenge.as_bytes()) {
        return verify_err("Error validating challenge");
    }
    if !origins
        .iter()
        .any(|origin| same_origin(&data.origin, origin))
    {
        return verify_err(format!(
            "Error validating origin: received {:?}",
            data.origin
        ));
    }
    if let Some(status) = &data.token_binding_status {
        if !matches!(status.as_str(), "present" | "supported" | "not-supported") {
            return verify_err("token binding present with invalid status");
        }
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `IsOriginInHaystack`: http(s) origins compare by scheme and host (with a non-default
/// port), case-insensitively; anything else compares as text.
fn same_origin(needle: &str, hay: &str) -> bool {
    fn web_origin(raw: &str) -> Option<(String, String, Option<u16>)> {
        let lower = raw.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return None;
        }
        let url = url::Url::parse(raw).ok()?;
        Some((
            url.scheme().to_string(),
            url.host_str()?.to_ascii_lowercase(),
            url.port(),
        ))
    }
    match web_origin(needle) {
        Some(needle) => web_origin(hay).is_some_and(|hay| hay == needle),
        None => needle == hay,
    }
}

// ---- Authenticator data ---------------------------------------------------------------------

struct AuthenticatorData<'a> {
    raw: &'a [u8],
    rp_id_hash: &'a [u8],
    flags: u8,
    counter: u32,
    aaguid: &'a [u8],
    credential_id: &'a [u8],
    /// The COSE key's bytes (the first CBOR item after the credential id).
    public_key: &'a [u8],
}

/// `AuthenticatorData.Unmarshal`.
fn authenticator_data(raw: &[u8]) -> Result<AuthenticatorData<'_>, CeremonyError> {
    if raw.len() < 37 {
        return parse_err("Authenticator data length too short");
    }
    let flags = raw[32];
    let mut data = AuthenticatorData {
        raw,
        rp_id_hash: &raw[..32],
        flags,
        counter: u32::from_be_bytes([raw[33], raw[34], raw[35], raw[36]]),
        aaguid: &[],
        credential_id: &[],
        public_key: &[],
    };
    let mut used = 37;
    if flags & AT != 0 {
        if raw.len() <= 55 {
            return parse_err("Attested credential flag set but data is missing");
        }
        let id_length = usize::from(u16::from_be_bytes([raw[53], raw[54]]));
        if raw.len() < 55 + id_length {
            return parse_err("Authenticator attestation data length too short");
        }
        if id_length > 1023 {
            return parse_err("Authenticator attestation data credential id length too long");
        }
        // Stricter than go-webauthn: a credential needs an id (§6.5.1: 16 bytes or more
        // for any real authenticator; zero bytes can name nothing).
        if id_length == 0 {
            return parse_err("Authenticator attestation data credential id is empty");
        }
        data.aaguid = &raw[37..53];
        data.credential_id = &raw[55..55 + id_length];
        let (_, key_length) = cbor::decode_first(&raw[55 + id_length..]).map_err(|e| {
            CeremonyError::Parse(format!("Could not unmarshal Credential Public Key: {e}"))
        })?;
        data.public_key = &raw[55 + id_length..55 + id_length + key_length];
        used = 55 + id_length + key_length;
    } else if flags & ED == 0 && raw.len() != 37 {
        return parse_err("Attested credential flag not set");
    }
    if flags & ED != 0 {
        if used == raw.len() {
            return parse_err("Extensions flag set but extensions data is missing");
        }
        used = raw.len();
    }
    if used != raw.len() {
        return parse_err("Leftover bytes decoding AuthenticatorData");
    }
    Ok(data)
}

/// `AuthenticatorData.Verify`: the RP id's hash, then UP when required, UV when required.
fn check_authenticator_data(
    data: &AuthenticatorData,
    rp_id: &str,
    user_presence: bool,
    user_verification: bool,
) -> Result<(), CeremonyError> {
    let expected = Sha256::digest(rp_id.as_bytes());
    if data.rp_id_hash != expected.as_slice() {
        return verify_err("RP Hash mismatch");
    }
    if user_presence && data.flags & UP == 0 {
        return verify_err("User presence required but flag not set by authenticator");
    }
    if user_verification && data.flags & UV == 0 {
        return verify_err("User verification required but flag not set by authenticator");
    }
    Ok(())
}

// ---- COSE keys and signatures ---------------------------------------------------------------

/// A COSE_Key's `kty` (1) and `alg` (3), as go-webauthn's `PublicKeyData` reads them: both
/// integers when present (0 when absent).
fn key_type_and_alg(key: &Cbor) -> Result<(i128, i128), String> {
    let int = |label| match key.get_int(label) {
        None => Ok(0),
        Some(Cbor::Int(n)) => Ok(*n),
        Some(_) => Err("COSE key label is not an integer".to_string()),
    };
    if !matches!(key, Cbor::Map(_)) {
        return Err("COSE key is not a map".into());
    }
    Ok((int(1)?, int(3)?))
}

fn key_bytes(key: &Cbor, label: i128) -> Result<Vec<u8>, String> {
    match key.get_int(label) {
        None => Ok(Vec::new()),
        Some(Cbor::Bytes(bytes)) => Ok(bytes.clone()),
        Some(_) => Err(format!("COSE key parameter {label} is not a byte string")),
    }
}

enum PublicKey {
    /// OKP: Ed25519 whatever `alg` says, as go-webauthn verifies it.
    Ed25519([u8; 32]),
    P256(p256::ecdsa::VerifyingKey),
    P521(Box<p521::ecdsa::VerifyingKey>),
    Rsa {
        key: rsa::RsaPublicKey,
        alg: i64,
    },
}

/// `webauthncose.ParsePublicKey`.
fn parse_public_key(bytes: &[u8]) -> Result<PublicKey, String> {
    let (key, _) = cbor::decode_first(bytes).map_err(|e| e.to_string())?;
    let (kty, alg) = key_type_and_alg(&key)?;
    match kty {
        1 => {
            let x = key_bytes(&key, -2)?;
            let x: [u8; 32] = x
                .try_into()
                .map_err(|_| "OKP key x coordinate has invalid length".to_string())?;
            Ok(PublicKey::Ed25519(x))
        }
        2 => {
            let x = key_bytes(&key, -2)?;
            let y = key_bytes(&key, -3)?;
            if let Some(crv) = key.get_int(-1) {
                crv.as_int().ok_or("COSE key curve is not an integer")?;
            }
            let point = |size: usize| -> Result<Vec<u8>, String> {
                if x.len() != size || y.len() != size {
                    return Err("EC2 key x or y coordinate has invalid length".into());
                }
                Ok([&[0x04], x.as_slice(), y.as_slice()].concat())
            };
            // The curve follows the algorithm, as go-webauthn picks it.
            match i64::try_from(alg).unwrap_or(0) {
                ES256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(&point(32)?)
                    .map(PublicKey::P256)
                    .map_err(|_| "EC2 key point is not on curve".into()),
                ES512 => p521::ecdsa::VerifyingKey::from_sec1_bytes(&point(66)?)
                    .map(|key| PublicKey::P521(Box::new(key)))
                    .map_err(|_| "EC2 key point is not on curve".into()),
                _ => Err("Unsupported EC2 algorithm".into()),
            }
        }
        3 => {
            let n = key_bytes(&key, -1)?;
            let e = key_bytes(&key, -2)?;
            let n = rsa::BigUint::from_bytes_be(&n);
            if e.is_empty() || n == rsa::BigUint::from(0u8) {
                return Err("RSA key contains zero or empty modulus or exponent".into());
            }
            let e = rsa::BigUint::from_bytes_be(&e);
            let key = rsa::RsaPublicKey::new(n, e).map_err(|e| format!("RSA key: {e}"))?;
            Ok(PublicKey::Rsa {
                key,
                alg: i64::try_from(alg).unwrap_or(0),
            })
        }
        _ => Err("Unsupported Public Key Type".into()),
    }
}

/// An ECDSA signature as go-webauthn reads it: a DER SEQUENCE of two INTEGERs (minimal
/// encodings; what follows the SEQUENCE is ignored), as big-endian unsigned `r` and `s`.
/// `None` for anything else, or a negative integer (which never verifies).
fn ecdsa_der(sig: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    fn element(bytes: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&first, rest) = bytes.split_first()?;
        if first != tag {
            return None;
        }
        let (&len, mut rest) = rest.split_first()?;
        let length = if len < 0x80 {
            usize::from(len)
        } else {
            let count = usize::from(len & 0x7f);
            if count == 0 || count > 2 || rest.len() < count || rest[0] == 0 {
                return None;
            }
            let n = rest[..count]
                .iter()
                .fold(0usize, |n, b| (n << 8) | usize::from(*b));
            if n < 0x80 {
                return None;
            }
            rest = &rest[count..];
            n
        };
        (rest.len() >= length).then(|| rest.split_at(length))
    }
    fn integer(bytes: &[u8]) -> Option<(Vec<u8>, &[u8])> {
        let (value, rest) = element(bytes, 0x02)?;
        let (&first, tail) = value.split_first()?;
        if let Some(&second) = tail.first() {
            let padded = (first == 0 && second < 0x80) || (first == 0xff && second >= 0x80);
            if padded {
                return None;
            }
        }
        if first >= 0x80 {
            return None;
        }
        let start = value.iter().position(|b| *b != 0).unwrap_or(value.len());
        Some((value[start..].to_vec(), rest))
    }
    let (sequence, _trailing) = element(sig, 0x30)?;
    let (r, rest) = integer(sequence)?;
    let (s, rest) = integer(rest)?;
    rest.is_empty().then_some((r, s))
}

fn fixed(value: &[u8], size: usize) -> Option<Vec<u8>> {
    (value.len() <= size).then(|| [vec![0; size - value.len()], value.to_vec()].concat())
}

/// `webauthncose.VerifySignature`: whether `sig` signs `data` under `key`.
fn verify_signature(key: &PublicKey, data: &[u8], sig: &[u8]) -> bool {
    use p256::ecdsa::signature::Verifier as _;
    match key {
        PublicKey::Ed25519(x) => {
            let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(x) else {
                return false;
            };
            let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
                return false;
            };
            key.verify(data, &sig).is_ok()
        }
        PublicKey::P256(key) => {
            let Some((r, s)) = ecdsa_der(sig) else {
                return false;
            };
            let (Some(r), Some(s)) = (fixed(&r, 32), fixed(&s, 32)) else {
                return false;
            };
            p256::ecdsa::Signature::from_slice(&[r, s].concat())
                .is_ok_and(|sig| key.verify(data, &sig).is_ok())
        }
        PublicKey::P521(key) => {
            let Some((r, s)) = ecdsa_der(sig) else {
                return false;
            };
            let (Some(r), Some(s)) = (fixed(&r, 66), fixed(&s, 66)) else {
                return false;
            };
            p521::ecdsa::Signature::from_slice(&[r, s].concat())
                .is_ok_and(|sig| key.verify(data, &sig).is_ok())
        }
        PublicKey::Rsa { key, alg } => verify_rsa(key, *alg, data, sig),
    }
}

fn verify_rsa(key: &rsa::RsaPublicKey, alg: i64, data: &[u8], sig: &[u8]) -> bool {
    use rsa::Pkcs1v15Sign;
    use sha2::{Sha384, Sha512};
    match alg {
        RS256 => key
            .verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(data), sig)
            .is_ok(),
        RS384 => key
            .verify(Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(data), sig)
            .is_ok(),
        RS512 => key
            .verify(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(data), sig)
            .is_ok(),
        PS256 => pss_auto::<Sha256>(key, &Sha256::digest(data), sig),
        PS384 => pss_auto::<Sha384>(key, &Sha384::digest(data), sig),
        PS512 => pss_auto::<Sha512>(key, &Sha512::digest(data), sig),
        _ => false,
    }
}

/// RSASSA-PSS verification (RFC 8017 §8.1.2, MGF1 with the message's hash) with the salt
/// length read from the decoded block, as Go's `rsa.VerifyPSS` with no options
/// (`PSSSaltLengthAuto`) reads it: one RSA operation, whatever salt the signer chose.
fn pss_auto<D: Digest>(key: &rsa::RsaPublicKey, hashed: &[u8], sig: &[u8]) -> bool {
    use rsa::traits::PublicKeyParts as _;
    use rsa::BigUint;
    let hash_len = <D as Digest>::output_size();
    let mod_bits = key.n().bits();
    if sig.len() != mod_bits.div_ceil(8) || hashed.len() != hash_len {
        return false;
    }
    let s = BigUint::from_bytes_be(sig);
    if &s >= key.n() {
        return false;
    }
    let em_bits = mod_bits - 1;
    let em_len = em_bits.div_ceil(8);
    let m = s.modpow(key.e(), key.n()).to_bytes_be();
    if m.len() > em_len || em_len < hash_len + 2 {
        return false;
    }
    let em = [vec![0; em_len - m.len()], m].concat();
    if em[em_len - 1] != 0xbc {
        return false;
    }
    let (masked_db, h) = em[..em_len - 1].split_at(em_len - hash_len - 1);
    let top_bits = 8 * em_len - em_bits;
    let top_mask = 0xffu8.checked_shr(top_bits as u32).unwrap_or(0);
    if masked_db[0] & !top_mask != 0 {
        return false;
    }
    // MGF1(H) xor maskedDB.
    let mut db = masked_db.to_vec();
    for (counter, chunk) in db.chunks_mut(hash_len).enumerate() {
        let mask = D::new()
            .chain_update(h)
            .chain_update((counter as u32).to_be_bytes())
            .finalize();
        chunk.iter_mut().zip(mask).for_each(|(b, m)| *b ^= m);
    }
    db[0] &= top_mask;
    // DB = PS (zeros) || 0x01 || salt.
    let Some(one) = db.iter().position(|b| *b != 0) else {
        return false;
    };
    if db[one] != 0x01 {
        return false;
    }
    let salt = &db[one + 1..];
    let expected = D::new()
        .chain_update([0u8; 8])
        .chain_update(hashed)
        .chain_update(salt)
        .finalize();
    constant_time_eq(&expected, h)
}

// ---- Registration (§7.1) ----------------------------------------------------------------------

struct Attestation {
    format: String,
    statement: Vec<(String, Cbor)>,
    raw_auth_data: Vec<u8>,
}

/// The attestation object's `fmt`, `attStmt` and `authData`, typed as go-webauthn's
/// `AttestationObject` (other keys are ignored).
fn attestation_object(bytes: &[u8]) -> Result<Attestation, CeremonyError> {
    let (object, _) = cbor::decode_first(bytes).map_err(|e| CeremonyError::Parse(e.to_string()))?;
    if !matches!(object, Cbor::Map(_) | Cbor::Null) {
        return parse_err("attestation object is not a map");
    }
    let format = match object.get_text("fmt") {
        None | Some(Cbor::Null) => String::new(),
        Some(Cbor::Text(text)) => text.clone(),
        Some(_) => return parse_err("fmt is not a text string"),
    };
    let raw_auth_data = match object.get_text("authData") {
        None | Some(Cbor::Null) => Vec::new(),
        Some(Cbor::Bytes(bytes)) => bytes.clone(),
        Some(_) => return parse_err("authData is not a byte string"),
    };
    let statement = match object.get_text("attStmt") {
        None | Some(Cbor::Null) => Vec::new(),
        Some(Cbor::Map(entries)) => entries
            .iter()
            .map(|(key, value)| match key {
                Cbor::Text(key) => Ok((key.clone(), value.clone())),
                _ => parse_err("attStmt key is not a text string"),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return parse_err("attStmt is not a map"),
    };
    Ok(Attestation {
        format,
        statement,
        raw_auth_data,
    })
}

/// A registration response, parsed (`ParseCredentialCreationResponseBody`).
pub struct Registration {
    credential: PublicKeyCredential,
    client_data_json: Vec<u8>,
    client_data: ClientData,
    attestation: Attestation,
    transports: Vec<String>,
}

/// Reads a registration response; an error is GoTrue's "Invalid credential_response".
pub fn parse_registration(response: &Value) -> Result<Registration, CeremonyError> {
    let Some(object) = go_object(Some(response), "credential_response")? else {
        return parse_err("Missing ID");
    };
    let inner = go_object(object.get("response"), "response")?
        .cloned()
        .unwrap_or_default();
    let client_data_json = go_bytes(&inner, "clientDataJSON")?;
    let attestation_bytes = go_bytes(&inner, "attestationObject")?;
    go_bytes(&inner, "authenticatorData")?;
    go_bytes(&inner, "publicKey")?;
    match inner.get("publicKeyAlgorithm") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.is_i64() => {}
        Some(_) => return parse_err("publicKeyAlgorithm is not an integer"),
    }
    let transports = match inner.get("transports") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                // Go reads a null array item as "".
                Value::Null => Ok(String::new()),
                Value::String(text) if text == "cable" => Ok("hybrid".to_string()),
                Value::String(text) => Ok(text.clone()),
                _ => parse_err("transport is not a string"),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return parse_err("transports is not an array"),
    };
    let credential = public_key_credential(object)?;
    let client_data = client_data(&client_data_json)?;
    let attestation = attestation_object(&attestation_bytes)?;
    let auth_data = authenticator_data(&attestation.raw_auth_data)?;
    if auth_data.flags & AT == 0 {
        return parse_err("Attestation missing attested credential data flag");
    }
    Ok(Registration {
        credential,
        client_data_json,
        client_data,
        attestation,
        transports,
    })
}

/// `CreateCredential`: checks a parsed registration against the challenge's session and
/// answers the credential to store.
pub fn finish_registration(
    rp: &RelyingParty,
    session: &SessionData,
    user: &WebAuthnUser,
    registration: &Registration,
    now_secs: i64,
) -> Result<Credential, CeremonyError> {
    if session.ceremony != Some(Ceremony::Create) {
        return verify_err("The challenge is not a registration's");
    }
    if b64(&user.handle()) != session.user_id {
        return verify_err("ID mismatch for User and Session");
    }
    check_client_data(
        &registration.client_data,
        "webauthn.create",
        &session.challenge,
        rp.origins,
    )?;
    let client_data_hash = Sha256::digest(&registration.client_data_json);
    let attestation = &registration.attestation;
    let auth_data = authenticator_data(&attestation.raw_auth_data)?;
    // Stricter than go-webauthn, which stores the authenticator data's id: the id the client
    // names the credential by must be the one attested.
    if auth_data.credential_id != registration.credential.raw_id.as_slice() {
        return verify_err("The credential ID does not match the attested credential ID");
    }
    check_authenticator_data(
        &auth_data,
        rp.id,
        true,
        session.user_verification == "required",
    )?;
    let (key, _) = cbor::decode_first(auth_data.public_key)
        .map_err(|e| CeremonyError::Verify(e.to_string()))?;
    let (_, alg) = key_type_and_alg(&key).map_err(CeremonyError::Verify)?;
    if !session.cred_params.iter().any(|p| i128::from(*p) == alg) {
        return verify_err("Credential public key algorithm not supported");
    }
    let attestation_type =
        verify_attestation(attestation, &auth_data, &client_data_hash, now_secs)?;
    let flags = auth_data.flags;
    Ok(Credential {
        id: b64(auth_data.credential_id),
        public_key: b64(auth_data.public_key),
        attestation_type,
        transports: registration.transports.clone(),
        user_present: flags & UP != 0,
        user_verified: flags & UV != 0,
        backup_eligible: flags & BE != 0,
        backup_state: flags & BS != 0,
        aaguid: b64(auth_data.aaguid),
        sign_count: auth_data.counter,
        clone_warning: false,
        attachment: registration.credential.attachment.clone(),
    })
}

/// `AttestationObject.VerifyAttestation` for the formats this server verifies; the
/// credential's attestation type (go-webauthn stores the format's name).
fn verify_attestation(
    attestation: &Attestation,
    auth_data: &AuthenticatorData,
    client_data_hash: &[u8],
    now_secs: i64,
) -> Result<String, CeremonyError> {
    let statement = |key: &str| {
        attestation
            .statement
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    };
    match attestation.format.as_str() {
        "none" => {
            if !attestation.statement.is_empty() {
                return verify_err("Attestation format none with attestation present");
            }
        }
        "packed" => {
            let Some(alg) = statement("alg").and_then(Cbor::as_int) else {
                return verify_err("Error retrieving alg value");
            };
            let Some(sig) = statement("sig").and_then(Cbor::as_bytes) else {
                return verify_err("Error retrieving sig value");
            };
            if let Some(Cbor::Array(x5c)) = statement("x5c") {
                let signed = [auth_data.raw, client_data_hash].concat();
                basic_attestation(x5c, alg, sig, &signed, auth_data.aaguid, now_secs)?;
                return Ok(attestation.format.clone());
            }
            if statement("ecdaaKeyId").and_then(Cbor::as_bytes).is_some() {
                return verify_err("ECDAA attestation is not supported");
            }
            // Self attestation: the credential key signs authData || clientDataHash.
            let key = parse_public_key(auth_data.public_key)
                .map_err(|e| CeremonyError::Verify(format!("Error parsing the public key: {e}")))?;
            let (key_cbor, _) = cbor::decode_first(auth_data.public_key)
                .map_err(|e| CeremonyError::Verify(e.to_string()))?;
            let (_, key_alg) = key_type_and_alg(&key_cbor).map_err(CeremonyError::Verify)?;
            if key_alg != alg {
                return verify_err("Public key algorithm does not equal att statement algorithm");
            }
            let signed = [auth_data.raw, client_data_hash].concat();
            if !verify_signature(&key, &signed, sig) {
                return verify_err("Unable to verify signature");
            }
        }
        "fido-u2f" => fido_u2f(attestation, auth_data, client_data_hash)?,
        other => {
            return verify_err(format!("Attestation format {other} is unsupported"));
        }
    }
    Ok(attestation.format.clone())
}

/// "packed" basic attestation (`handleBasicAttestation`): every certificate of `x5c` parses
/// and is valid now; the first signs authData || clientDataHash with `alg` and meets §8.2.1
/// (version 3; subject C, O, OU "Authenticator Attestation", CN; a non-critical AAGUID
/// extension equal to the authenticator data's; not a CA).
fn basic_attestation(
    x5c: &[Cbor],
    alg: i128,
    sig: &[u8],
    signed: &[u8],
    aaguid: &[u8],
    now_secs: i64,
) -> Result<(), CeremonyError> {
    let mut leaf = None;
    for raw in x5c {
        let Some(der) = raw.as_bytes() else {
            return verify_err("Error getting certificate from x5c cert chain");
        };
        let certificate = x509::parse(der).map_err(|e| {
            CeremonyError::Verify(format!("Error parsing certificate from ASN.1 data: {e}"))
        })?;
        if certificate.not_before > now_secs || certificate.not_after < now_secs {
            return verify_err("Cert in chain is either no longer valid or not yet valid");
        }
        leaf.get_or_insert(certificate);
    }
    let Some(leaf) = leaf else {
        return verify_err("Error getting certificate from x5c cert chain");
    };
    let alg = i64::try_from(alg).unwrap_or(0);
    // The COSE algorithms Go maps to an x509 one (ES384 and RS1 included, though only the
    // others verify here).
    if !matches!(
        alg,
        ES256 | -35 | ES512 | RS256 | RS384 | RS512 | PS256 | PS384 | PS512 | EDDSA | -65535
    ) {
        return verify_err(format!("Unsupported COSE alg: {alg}"));
    }
    if !certificate_signs(&leaf.key, alg, signed, sig) {
        return verify_err("Signature validation error");
    }
    if leaf.version != 3 {
        return verify_err("Attestation Certificate is incorrect version");
    }
    let country = leaf.subject_values(x509::OID_COUNTRY);
    if country.len() != 1
        || country[0].len() != 2
        || !country[0].bytes().all(|b| b.is_ascii_uppercase())
    {
        return verify_err("Attestation Certificate Country Code is invalid");
    }
    if leaf
        .subject_values(x509::OID_ORGANIZATION)
        .concat()
        .is_empty()
    {
        return verify_err("Attestation Certificate Organization is invalid");
    }
    if leaf.subject_values(x509::OID_ORGANIZATIONAL_UNIT).join(" ") != "Authenticator Attestation" {
        return verify_err("Attestation Certificate Organizational Unit is invalid");
    }
    // Go keeps the last CN.
    if leaf
        .subject_values(x509::OID_COMMON_NAME)
        .last()
        .is_none_or(|cn| cn.is_empty())
    {
        return verify_err("Attestation Certificate Common Name not set");
    }
    let mut found = None;
    for extension in leaf
        .extensions
        .iter()
        .filter(|e| e.oid == x509::OID_FIDO_AAGUID)
    {
        if extension.critical {
            return verify_err("Attestation certificate FIDO extension marked as critical");
        }
        found = Some(&extension.value);
    }
    if let Some(value) = found.filter(|v| !v.is_empty()) {
        let Some(certified) = x509::octet_string(value) else {
            return verify_err("Error unmarshalling AAGUID from certificate");
        };
        if certified != aaguid {
            return verify_err("Certificate AAGUID does not match Auth Data certificate");
        }
    }
    if leaf.is_ca {
        return verify_err("Attestation certificate's Basic Constraints marked as CA");
    }
    Ok(())
}

/// "fido-u2f" attestation: an ES256 credential key, exactly one certificate with a P-256 key,
/// which signs 0x00 || rpIdHash || clientDataHash || credentialId || 0x04 || x || y.
fn fido_u2f(
    attestation: &Attestation,
    auth_data: &AuthenticatorData,
    client_data_hash: &[u8],
) -> Result<(), CeremonyError> {
    let statement = |key: &str| {
        attestation
            .statement
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    };
    let (key, _) = cbor::decode_first(auth_data.public_key)
        .map_err(|e| CeremonyError::Verify(format!("Error parsing public key: {e}")))?;
    let (_, alg) = key_type_and_alg(&key).map_err(CeremonyError::Verify)?;
    if key.get_int(-1).is_some_and(|crv| crv.as_int().is_none()) {
        return verify_err("Error parsing public key");
    }
    let x = key_bytes(&key, -2).map_err(CeremonyError::Verify)?;
    let y = key_bytes(&key, -3).map_err(CeremonyError::Verify)?;
    if alg != i128::from(ES256) {
        return verify_err("Non-ES256 Public Key algorithm used");
    }
    let Some(Cbor::Array(x5c)) = statement("x5c") else {
        return verify_err("Missing properly formatted x5c data");
    };
    let Some(sig) = statement("sig").and_then(Cbor::as_bytes) else {
        return verify_err("Missing sig data");
    };
    if x5c.len() != 1 {
        return verify_err("x5c must contain exactly one element");
    }
    let Some(der) = x5c[0].as_bytes() else {
        return verify_err("Error decoding ASN.1 data from x5c");
    };
    let certificate = x509::parse(der).map_err(|e| {
        CeremonyError::Verify(format!("Error parsing certificate from ASN.1 data: {e}"))
    })?;
    let x509::SubjectKey::P256(certificate_key) = certificate.key else {
        return verify_err("Attestation certificate does not contain a P-256 ECDSA public key");
    };
    if x.len() != 32 || y.len() != 32 {
        return verify_err("X or Y Coordinate for key is invalid length");
    }
    let signed = [
        &[0x00][..],
        auth_data.rp_id_hash,
        client_data_hash,
        auth_data.credential_id,
        &[0x04],
        &x,
        &y,
    ]
    .concat();
    if !verify_signature(&PublicKey::P256(certificate_key), &signed, sig) {
        return verify_err("Signature validation error");
    }
    Ok(())
}

/// Go's `Certificate.CheckSignature` with the x509 algorithm of COSE `alg`: an ECDSA, RSA or
/// Ed25519 certificate key, the algorithm's hash (RSA-PSS with a salt of the hash's size).
fn certificate_signs(key: &x509::SubjectKey, alg: i64, signed: &[u8], sig: &[u8]) -> bool {
    use rsa::Pss;
    use sha2::{Sha384, Sha512};
    match (key, alg) {
        (x509::SubjectKey::P256(key), ES256) => {
            verify_signature(&PublicKey::P256(*key), signed, sig)
        }
        (x509::SubjectKey::P521(key), ES512) => {
            verify_signature(&PublicKey::P521(key.clone()), signed, sig)
        }
        (x509::SubjectKey::Ed25519(key), EDDSA) => {
            verify_signature(&PublicKey::Ed25519(*key), signed, sig)
        }
        (x509::SubjectKey::Rsa(key), RS256 | RS384 | RS512) => verify_rsa(key, alg, signed, sig),
        (x509::SubjectKey::Rsa(key), PS256) => key
            .verify(Pss::new::<Sha256>(), &Sha256::digest(signed), sig)
            .is_ok(),
        (x509::SubjectKey::Rsa(key), PS384) => key
            .verify(Pss::new::<Sha384>(), &Sha384::digest(signed), sig)
            .is_ok(),
        (x509::SubjectKey::Rsa(key), PS512) => key
            .verify(Pss::new::<Sha512>(), &Sha512::digest(signed), sig)
            .is_ok(),
        _ => false,
    }
}

// ---- Authentication (§7.2) --------------------------------------------------------------------

/// An assertion response, parsed (`ParseCredentialRequestResponseBody`).
pub struct Assertion {
    credential: PublicKeyCredential,
    client_data_json: Vec<u8>,
    client_data: ClientData,
    authenticator_data: Vec<u8>,
    signature: Vec<u8>,
    user_handle: Vec<u8>,
}

/// Reads an assertion response; an error is GoTrue's "Invalid credential_response".
pub fn parse_assertion(response: &Value) -> Result<Assertion, CeremonyError> {
    let Some(object) = go_object(Some(response), "credential_response")? else {
        return parse_err("CredentialAssertionResponse with ID missing");
    };
    let inner = go_object(object.get("response"), "response")?
        .cloned()
        .unwrap_or_default();
    let client_data_json = go_bytes(&inner, "clientDataJSON")?;
    let auth_data_bytes = go_bytes(&inner, "authenticatorData")?;
    let signature = go_bytes(&inner, "signature")?;
    let user_handle = go_bytes(&inner, "userHandle")?;
    let credential = public_key_credential(object)?;
    let client_data = client_data(&client_data_json)?;
    authenticator_data(&auth_data_bytes)?;
    Ok(Assertion {
        credential,
        client_data_json,
        client_data,
        authenticator_data: auth_data_bytes,
        signature,
        user_handle,
    })
}

/// `ValidateLogin`: checks a parsed assertion against the challenge's session and the user's
/// credentials; answers the credential used, its flags and counter updated (a counter that
/// did not go up only sets `clone_warning`, as in go-webauthn).
pub fn finish_login(
    rp: &RelyingParty,
    session: &SessionData,
    user: &WebAuthnUser,
    credentials: &[Credential],
    assertion: &Assertion,
) -> Result<Credential, CeremonyError> {
    if session.ceremony != Some(Ceremony::Request) {
        return verify_err("The challenge is not an authentication's");
    }
    if b64(&user.handle()) != session.user_id {
        return verify_err("ID mismatch for User and Session");
    }
    let raw_id = &assertion.credential.raw_id;
    if !session.allowed_credential_ids.is_empty() {
        let owned = |id: &String| credentials.iter().any(|c| &c.id == id);
        if !session.allowed_credential_ids.iter().all(owned) {
            return verify_err(
                "User does not own all credentials from the allowed credential list",
            );
        }
        if !credentials.iter().any(|c| &c.raw_id() == raw_id) {
            return verify_err("The credential ID provided is not owned by the user");
        }
        if !session
            .allowed_credential_ids
            .iter()
            .any(|id| unb64(id).as_ref() == Some(raw_id))
        {
            return verify_err(
                "The credential ID provided is not in the sessions allowed credential list",
            );
        }
    }
    if !assertion.user_handle.is_empty() && assertion.user_handle != user.handle() {
        return verify_err("User handle and User ID do not match");
    }
    let Some(stored) = credentials.iter().find(|c| &c.raw_id() == raw_id) else {
        return verify_err("Unable to find the credential for the returned credential ID");
    };
    check_client_data(
        &assertion.client_data,
        "webauthn.get",
        &session.challenge,
        rp.origins,
    )?;
    let auth_data = authenticator_data(&assertion.authenticator_data)?;
    check_authenticator_data(
        &auth_data,
        rp.id,
        true,
        session.user_verification == "required",
    )?;
    let signed = [
        assertion.authenticator_data.as_slice(),
        Sha256::digest(&assertion.client_data_json).as_slice(),
    ]
    .concat();
    let key_bytes = unb64(&stored.public_key).unwrap_or_default();
    let key = parse_public_key(&key_bytes).map_err(|e| {
        CeremonyError::Verify(format!("Error parsing the assertion public key: {e}"))
    })?;
    if !verify_signature(&key, &signed, &assertion.signature) {
        return verify_err("Error validating the assertion signature");
    }
    let flags = auth_data.flags;
    if stored.backup_eligible != (flags & BE != 0) {
        return verify_err("Backup Eligible flag inconsistency detected during login validation");
    }
    if flags & BE == 0 && flags & BS != 0 {
        return verify_err(
            "Backup State Flag is true but Backup Eligible flag is false which is invalid",
        );
    }
    let mut credential = stored.clone();
    let counter = auth_data.counter;
    if counter <= credential.sign_count && (counter != 0 || credential.sign_count != 0) {
        credential.clone_warning = true;
    } else {
        credential.sign_count = counter;
    }
    credential.user_present = flags & UP != 0;
    credential.user_verified = flags & UV != 0;
    credential.backup_eligible = flags & BE != 0;
    credential.backup_state = flags & BS != 0;
    Ok(credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_as_go_webauthn_compares_them() {
        assert!(same_origin(
            "http://localhost:5173",
            "http://localhost:5173"
        ));
        assert!(same_origin(
            "HTTP://LocalHost:5173",
            "http://localhost:5173"
        ));
        assert!(same_origin(
            "https://example.com:443",
            "https://example.com"
        ));
        assert!(same_origin(
            "https://example.com/path",
            "https://example.com"
        ));
        assert!(!same_origin(
            "http://localhost:5174",
            "http://localhost:5173"
        ));
        assert!(!same_origin(
            "https://localhost:5173",
            "http://localhost:5173"
        ));
        assert!(!same_origin(
            "http://evil.localhost:5173",
            "http://localhost:5173"
        ));
        assert!(same_origin(
            "android:apk-key-hash:abc",
            "android:apk-key-hash:abc"
        ));
        assert!(!same_origin(
            "android:apk-key-hash:abd",
            "android:apk-key-hash:abc"
        ));
    }

    #[test]
    fn ecdsa_signatures_must_be_der() {
        // SEQUENCE { INTEGER 1, INTEGER 0x80 (padded) }
        assert_eq!(
            ecdsa_der(&[0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80]),
            Some((vec![1], vec![0x80]))
        );
        // Non-minimal padding, negative integer, missing element, extra element.
        assert_eq!(
            ecdsa_der(&[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]),
            None
        );
        assert_eq!(
            ecdsa_der(&[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01]),
            None
        );
        assert_eq!(ecdsa_der(&[0x30, 0x03, 0x02, 0x01, 0x01]), None);
        assert_eq!(
            ecdsa_der(&[0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]),
            None
        );
        // Bytes after the SEQUENCE are ignored, as Go's asn1.Unmarshal returns them.
        assert_eq!(
            ecdsa_der(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0xaa]),
            Some((vec![1], vec![2]))
        );
    }

    #[test]
    fn authenticator_data_is_read_as_go_webauthn_reads_it() {
        let mut data = vec![0u8; 37];
        data[32] = UP;
        assert!(authenticator_data(&data).is_ok());
        assert!(authenticator_data(&data[..36]).is_err());
        // Leftover bytes without the AT or ED flag.
        let mut longer = data.clone();
        longer.push(0);
        assert!(authenticator_data(&longer).is_err());
        // ED flag: the rest is extension data; without a rest it is an error.
        longer[32] = UP | ED;
        assert!(authenticator_data(&longer).is_ok());
        data[32] = UP | ED;
        assert!(authenticator_data(&data).is_err());
        // AT flag with a credential id and a COSE key, then a stray byte.
        let mut attested = vec![0u8; 32];
        attested.extend([UP | AT, 0, 0, 0, 1]);
        attested.extend([0u8; 16]);
        attested.extend([0, 2, 0xaa, 0xbb]);
        attested.extend([0xa1, 0x01, 0x02]);
        let parsed = authenticator_data(&attested).expect("attested data");
        assert_eq!(parsed.credential_id, &[0xaa, 0xbb]);
        assert_eq!(parsed.public_key, &[0xa1, 0x01, 0x02]);
        assert_eq!(parsed.counter, 1);
        attested.push(0);
        assert!(authenticator_data(&attested).is_err());
    }

    // ---- Review 4: each refusal for its own reason ----------------------------------------

    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let len = content.len();
        let mut out = vec![tag];
        match len {
            0..=127 => out.push(len as u8),
            128..=255 => out.extend([0x81, len as u8]),
            _ => out.extend([0x82, (len >> 8) as u8, len as u8]),
        }
        out.extend(content);
        out
    }

    /// What a test certificate says (its own signature is never checked: no chain is).
    struct Cert {
        version3: bool,
        not_before: &'static str,
        not_after: &'static str,
        country: &'static str,
        ou: &'static str,
        ca: bool,
        /// The AAGUID extension's value and whether it is critical.
        aaguid: Option<([u8; 16], bool)>,
    }

    impl Default for Cert {
        fn default() -> Cert {
            Cert {
                version3: true,
                not_before: "200101000000Z",
                not_after: "491231235959Z",
                country: "SE",
                ou: "Authenticator Attestation",
                ca: false,
                aaguid: Some(([0; 16], false)),
            }
        }
    }

    impl Cert {
        fn build(&self, key: &p256::ecdsa::SigningKey) -> Vec<u8> {
            const SEQ: u8 = 0x30;
            let attribute = |oid: &[u8], tag: u8, value: &str| {
                der(
                    0x31,
                    &der(SEQ, &[der(0x06, oid), der(tag, value.as_bytes())].concat()),
                )
            };
            let subject = der(
                SEQ,
                &[
                    attribute(x509::OID_COUNTRY, 0x13, self.country),
                    attribute(x509::OID_ORGANIZATION, 0x0c, "Test Vendor"),
                    attribute(x509::OID_ORGANIZATIONAL_UNIT, 0x0c, self.ou),
                    attribute(x509::OID_COMMON_NAME, 0x0c, "Test Attestation"),
                ]
                .concat(),
            );
            let point = key.verifying_key().to_encoded_point(false);
            let spki = der(
                SEQ,
                &[
                    der(
                        SEQ,
                        &[
                            der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
                            der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
                        ]
                        .concat(),
                    ),
                    der(0x03, &[&[0u8][..], point.as_bytes()].concat()),
                ]
                .concat(),
            );
            let constraints = if self.ca {
                der(SEQ, &der(0x01, &[0xff]))
            } else {
                der(SEQ, &[])
            };
            let mut extensions = vec![der(
                SEQ,
                &[
                    der(0x06, &[0x55, 0x1d, 0x13]),
                    der(0x01, &[0xff]),
                    der(0x04, &constraints),
                ]
                .concat(),
            )];
            if let Some((aaguid, critical)) = self.aaguid {
                let flag = if critical { der(0x01, &[0xff]) } else { vec![] };
                extensions.push(der(
                    SEQ,
                    &[
                        der(0x06, x509::OID_FIDO_AAGUID),
                        flag,
                        der(0x04, &der(0x04, &aaguid)),
                    ]
                    .concat(),
                ));
            }
            let ecdsa_sha256 = der(
                SEQ,
                &der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
            );
            let version = if self.version3 {
                der(0xa0, &der(0x02, &[2]))
            } else {
                vec![]
            };
            let tbs = der(
                SEQ,
                &[
                    version,
                    der(0x02, &[1]),
                    ecdsa_sha256.clone(),
                    subject.clone(),
                    der(
                        SEQ,
                        &[
                            der(0x17, self.not_before.as_bytes()),
                            der(0x17, self.not_after.as_bytes()),
                        ]
                        .concat(),
                    ),
                    subject,
                    spki,
                    der(0xa3, &der(SEQ, &extensions.concat())),
                ]
                .concat(),
            );
            der(SEQ, &[tbs, ecdsa_sha256, der(0x03, &[0])].concat())
        }
    }

    /// 2024-01-01, inside the default certificate's validity.
    const NOW: i64 = 1_704_067_200;

    fn basic(cert: &Cert, alg: i64, aaguid: &[u8], now: i64) -> Result<(), CeremonyError> {
        use p256::ecdsa::signature::Signer as _;
        let key = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
        let signed = b"authData || clientDataHash";
        let signature: p256::ecdsa::Signature = key.sign(signed);
        basic_attestation(
            &[Cbor::Bytes(cert.build(&key))],
            i128::from(alg),
            signature.to_der().as_bytes(),
            signed,
            aaguid,
            now,
        )
    }

    fn refused(why: &str) -> Result<(), CeremonyError> {
        Err(CeremonyError::Verify(why.into()))
    }

    /// §8.2.1 through go-webauthn's `handleBasicAttestation`, one broken requirement a case.
    #[test]
    fn a_packed_attestation_certificate_is_refused_for_each_broken_requirement() {
        let zero = [0u8; 16];
        assert_eq!(basic(&Cert::default(), ES256, &zero, NOW), Ok(()));
        let validity = "Cert in chain is either no longer valid or not yet valid";
        // Expired (2049-12-31) and not yet valid (before 2020-01-01).
        assert_eq!(
            basic(&Cert::default(), ES256, &zero, 2_524_608_000),
            refused(validity)
        );
        assert_eq!(
            basic(&Cert::default(), ES256, &zero, 1_500_000_000),
            refused(validity)
        );
        // The statement's alg is not the certificate key's.
        for alg in [ES512, RS256, PS256, EDDSA] {
            assert_eq!(
                basic(&Cert::default(), alg, &zero, NOW),
                refused("Signature validation error"),
                "{alg}"
            );
        }
        assert_eq!(
            basic(&Cert::default(), -65536, &zero, NOW),
            refused("Unsupported COSE alg: -65536")
        );
        let version1 = Cert {
            version3: false,
            ..Cert::default()
        };
        assert_eq!(
            basic(&version1, ES256, &zero, NOW),
            refused("Attestation Certificate is incorrect version")
        );
        for country in ["se", "SWE", ""] {
            let cert = Cert {
                country,
                ..Cert::default()
            };
            assert_eq!(
                basic(&cert, ES256, &zero, NOW),
                refused("Attestation Certificate Country Code is invalid"),
                "{country:?}"
            );
        }
        let ou = Cert {
            ou: "Something Else",
            ..Cert::default()
        };
        assert_eq!(
            basic(&ou, ES256, &zero, NOW),
            refused("Attestation Certificate Organizational Unit is invalid")
        );
        let critical = Cert {
            aaguid: Some((zero, true)),
            ..Cert::default()
        };
        assert_eq!(
            basic(&critical, ES256, &zero, NOW),
            refused("Attestation certificate FIDO extension marked as critical")
        );
        assert_eq!(
            basic(&Cert::default(), ES256, &[1; 16], NOW),
            refused("Certificate AAGUID does not match Auth Data certificate")
        );
        // Without the extension, any AAGUID goes.
        let without = Cert {
            aaguid: None,
            ..Cert::default()
        };
        assert_eq!(basic(&without, ES256, &[1; 16], NOW), Ok(()));
        let ca = Cert {
            ca: true,
            ..Cert::default()
        };
        assert_eq!(
            basic(&ca, ES256, &zero, NOW),
            refused("Attestation certificate's Basic Constraints marked as CA")
        );
    }

    fn test_rp(origins: &[String]) -> RelyingParty<'_> {
        RelyingParty {
            id: "localhost",
            display_name: "tests",
            origins,
        }
    }

    fn test_user() -> WebAuthnUser<'static> {
        WebAuthnUser {
            id: Uuid::nil(),
            email: "a@example.com",
        }
    }

    fn stored_credential(id: &[u8]) -> Credential {
        Credential {
            id: b64(id),
            public_key: String::new(),
            attestation_type: "none".into(),
            transports: vec![],
            user_present: true,
            user_verified: true,
            backup_eligible: false,
            backup_state: false,
            aaguid: b64(&[0; 16]),
            sign_count: 0,
            clone_warning: false,
            attachment: String::new(),
        }
    }

    /// A registration response naming `raw_id`, attesting `attested`, for `challenge`.
    fn registration_json(raw_id: &[u8], attested: &[u8], challenge: &str) -> Value {
        let mut auth_data = Sha256::digest(b"localhost").to_vec();
        auth_data.extend([UP | AT, 0, 0, 0, 0]);
        auth_data.extend([0u8; 16]);
        auth_data.extend((attested.len() as u16).to_be_bytes());
        auth_data.extend(attested);
        auth_data.extend([0xa2, 0x01, 0x02, 0x03, 0x26]); // {1: 2, 3: -7}
        let mut object = vec![0xa3];
        object.extend([0x63, b'f', b'm', b't', 0x64, b'n', b'o', b'n', b'e']);
        object.extend([0x67, b'a', b't', b't', b'S', b't', b'm', b't', 0xa0]);
        object.extend([0x68, b'a', b'u', b't', b'h', b'D', b'a', b't', b'a']);
        object.extend([0x58, auth_data.len() as u8]);
        object.extend(auth_data);
        let client_data = json!({"type": "webauthn.create", "challenge": challenge,
            "origin": "http://localhost:5173"});
        json!({
            "id": b64(raw_id), "rawId": b64(raw_id), "type": "public-key",
            "response": {
                "attestationObject": b64(&object),
                "clientDataJSON": b64(client_data.to_string().as_bytes()),
            },
        })
    }

    /// Review 4, item 5: the ceremony a challenge was made for is the only one it verifies.
    #[test]
    fn a_challenge_verifies_only_its_own_ceremony() {
        let origins = vec!["http://localhost:5173".to_string()];
        let rp = test_rp(&origins);
        let user = test_user();
        let existing = [stored_credential(&[1; 16])];
        let (_, create) = begin_registration(&rp, &user, &[], "Y2g".into()).unwrap();
        let (_, request) = begin_login(&rp, &user, &existing, "Y2g".into()).unwrap();
        assert_eq!(create.ceremony, Some(Ceremony::Create));
        assert_eq!(request.ceremony, Some(Ceremony::Request));
        let assertion = parse_assertion(&json!({
            "id": b64(&[1; 16]), "rawId": b64(&[1; 16]), "type": "public-key",
            "response": {"authenticatorData": b64(&[0; 37]), "clientDataJSON": b64(b"{}")},
        }))
        .unwrap();
        assert_eq!(
            finish_login(&rp, &create, &user, &existing, &assertion).err(),
            Some(CeremonyError::Verify(
                "The challenge is not an authentication's".into()
            ))
        );
        let registration =
            parse_registration(&registration_json(&[2; 16], &[2; 16], "Y2g")).unwrap();
        assert_eq!(
            finish_registration(&rp, &request, &user, &registration, NOW).err(),
            Some(CeremonyError::Verify(
                "The challenge is not a registration's".into()
            ))
        );
        assert!(finish_registration(&rp, &create, &user, &registration, NOW).is_ok());
        // A challenge stored before the ceremony was recorded verifies neither.
        let unknown = SessionData {
            ceremony: None,
            ..create
        };
        assert!(finish_registration(&rp, &unknown, &user, &registration, NOW).is_err());
    }

    /// Review 4, item 6: the ids a response names a credential by must agree, and be
    /// non-empty.
    #[test]
    fn credential_ids_must_agree_and_not_be_empty() {
        let origins = vec!["http://localhost:5173".to_string()];
        let rp = test_rp(&origins);
        let user = test_user();
        let (_, create) = begin_registration(&rp, &user, &[], "Y2g".into()).unwrap();
        let mut response = registration_json(&[2; 16], &[2; 16], "Y2g");
        response["rawId"] = json!(b64(&[3; 16]));
        assert_eq!(
            parse_registration(&response).err(),
            Some(CeremonyError::Parse("ID does not match RawID".into()))
        );
        let other = parse_registration(&registration_json(&[2; 16], &[4; 16], "Y2g")).unwrap();
        assert_eq!(
            finish_registration(&rp, &create, &user, &other, NOW).err(),
            Some(CeremonyError::Verify(
                "The credential ID does not match the attested credential ID".into()
            ))
        );
        assert_eq!(
            parse_registration(&registration_json(&[2; 16], &[], "Y2g")).err(),
            Some(CeremonyError::Parse(
                "Authenticator attestation data credential id is empty".into()
            ))
        );
    }

    /// Review 4, item 7: RSASSA-PSS reads the salt length from the signature (Go's
    /// `PSSSaltLengthAuto`) with one RSA operation; any salt verifies, nothing else does.
    #[test]
    fn pss_signatures_verify_whatever_their_salt_length() {
        use rsa::Pss;
        use sha2::Sha384;
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
        let public = key.to_public_key();
        let data = b"authData || clientDataHash";
        let hashed = Sha256::digest(data);
        // 1024-bit key, SHA-256: the salt can be 0 to 128 - 32 - 2 = 94 bytes.
        for salt in [0, 20, 32, 94] {
            let sig = key
                .sign_with_rng(
                    &mut rsa::rand_core::OsRng,
                    Pss::new_with_salt::<Sha256>(salt),
                    &hashed,
                )
                .unwrap();
            assert!(verify_rsa(&public, PS256, data, &sig), "salt {salt}");
            assert!(
                !verify_rsa(&public, PS256, b"other data", &sig),
                "salt {salt}"
            );
            assert!(!verify_rsa(&public, PS384, data, &sig), "salt {salt}");
            let mut bad = sig.clone();
            bad[40] ^= 1;
            assert!(!verify_rsa(&public, PS256, data, &bad), "salt {salt}");
            assert!(!verify_rsa(&public, PS256, data, &sig[1..]), "salt {salt}");
        }
        let sig = key
            .sign_with_rng(
                &mut rsa::rand_core::OsRng,
                Pss::new::<Sha384>(),
                &Sha384::digest(data),
            )
            .unwrap();
        assert!(verify_rsa(&public, PS384, data, &sig));
        assert!(!verify_rsa(&public, PS512, data, &sig));
    }

    #[test]
    fn registration_options_follow_go_webauthn() {
        let origins = vec!["http://localhost:5173".to_string()];
        let rp = RelyingParty {
            id: "localhost",
            display_name: "auth-js tests",
            origins: &origins,
        };
        let id = Uuid::nil();
        let user = WebAuthnUser {
            id,
            email: "a@example.com",
        };
        let (options, session) =
            begin_registration(&rp, &user, &[], "Y2hhbGxlbmdl".into()).expect("options");
        let options = &options["publicKey"];
        assert_eq!(
            options["rp"],
            json!({"name": "auth-js tests", "id": "localhost"})
        );
        assert_eq!(options["user"]["id"], json!(b64(id.to_string().as_bytes())));
        assert_eq!(
            options["pubKeyCredParams"][0],
            json!({"type": "public-key", "alg": -7})
        );
        assert_eq!(options["timeout"], json!(300_000));
        assert_eq!(options.get("excludeCredentials"), None);
        assert_eq!(session.challenge, "Y2hhbGxlbmdl");
        let empty = RelyingParty {
            display_name: "",
            ..rp
        };
        assert!(begin_registration(&empty, &user, &[], "x".into()).is_err());
        assert_eq!(
            begin_login(&rp, &user, &[], "x".into()).map(|_| ()),
            Err(BeginError("Found no credentials for user"))
        );
    }
}
