//! The parsers the fuzzers drive, on what the fuzzers start from and on random variations of
//! it, in `cargo test` on stable Rust.
//!
//! Every committed seed (`src-tauri/fuzz/corpus/{paste,jwt,envelope}/seed-*`) reaches its
//! parser and gets the answer written next to its name below: a seed that stops reaching the
//! code it was written for, a rule that stops refusing the input it was written against, or a
//! new seed without an expectation fails here. (The libFuzzer runs of `scripts/fuzz.sh` say
//! only whether something crashed.) The random variations of the paste seeds (seeded, so a
//! failure reproduces) never panic and, between them, meet every answer the paste parser and
//! the token tools have: each kind of import and each rule that refuses one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use session_engine::envelope::error_from_response;
use session_engine::import::parse_import;
use session_engine::tokens::{
    decode_jwt, inspect_refresh_token, verify_jwt, Jwks, SignatureStatus,
};

/// The Supabase CLI's local-development JWT secret, which signed the HS256 seeds.
const SECRET: &[u8] = b"super-secret-jwt-token-with-at-least-32-characters-long";

/// The seeds of one fuzz target, by file name.
fn seeds(target: &str) -> BTreeMap<String, Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let seeds: BTreeMap<String, Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("seed-"))
        })
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// Asserts that each seed of `target` gets the answer `expected` names for it, and that
/// `expected` names every seed and no other; lists every difference at once.
fn each_seed_answers(target: &str, expected: &[(&str, &str)], answer: impl Fn(&[u8]) -> String) {
    let seeds = seeds(target);
    let expected: BTreeMap<&str, &str> = expected.iter().copied().collect();
    let mut wrong = Vec::new();
    for (name, bytes) in &seeds {
        let got = answer(bytes);
        match expected.get(name.as_str()) {
            Some(want) if *want == got => {}
            Some(want) => wrong.push(format!("{name}:\n    expected {want}\n    got      {got}")),
            None => wrong.push(format!("{name}: no expectation (it got {got})")),
        }
    }
    for name in expected.keys() {
        if !seeds.contains_key(*name) {
            wrong.push(format!("{name}: expected, but there is no such seed"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{target} seeds:\n  {}",
        wrong.join("\n  ")
    );
}

/// The variant of a `Debug` rendering: `InvalidJwt("…")` → `InvalidJwt`.
fn variant(debug: &str) -> &str {
    debug.split(['(', '{', ' ']).next().unwrap_or(debug)
}

/// What the paste parser makes of `input`: the kind it recognized and which tokens it found,
/// or the rule that refused it and its words.
fn paste_answer(input: &str) -> String {
    match parse_import(input) {
        Ok(imported) => {
            assert!(
                imported.access_token().is_some() || imported.refresh_token().is_some(),
                "an import holds a token: {imported:?}"
            );
            let debug = format!("{imported:?}");
            for token in [imported.access_token(), imported.refresh_token()]
                .into_iter()
                .flatten()
            {
                assert!(
                    token.len() < 40 || !debug.contains(token),
                    "Debug shows a token: {debug}"
                );
            }
            let refresh = imported
                .refresh_token()
                .map(|token| format!("{:?}", inspect_refresh_token(token)));
            format!(
                "{:?}: access token {}, refresh token {}, {} chunks",
                imported.kind,
                if imported.access_token().is_some() {
                    "yes"
                } else {
                    "no"
                },
                refresh.as_deref().map_or("none", variant),
                imported.chunks
            )
        }
        Err(error) => format!("refused {}: {error}", variant(&format!("{error:?}"))),
    }
}

#[test]
fn every_paste_seed_reaches_the_parser_and_gets_its_answer() {
    each_seed_answers(
        "paste",
        &[
            ("seed-auth-helpers-array-cookie.txt", "SsrCookie: access token yes, refresh token Legacy, 1 chunks"),
            ("seed-bearer-header.txt", "BearerHeader: access token yes, refresh token none, 0 chunks"),
            ("seed-cookie-header.txt", "SsrCookie: access token yes, refresh token Legacy, 2 chunks"),
            ("seed-cookie-missing-chunk.txt", "refused MissingChunk: Cookie sb-abcdefghijklmnopqrst-auth-token is missing chunk .1"),
            ("seed-json-string-literal.txt", "TokenResponse: access token yes, refresh token Legacy, 0 chunks"),
            ("seed-jwt-es256-quoted.txt", "AccessToken: access token yes, refresh token none, 0 chunks"),
            ("seed-jwt-hs256.txt", "AccessToken: access token yes, refresh token none, 0 chunks"),
            ("seed-jwt-truncated.txt", "refused InvalidJwt: This looks like a JWT but it has only 2 of the 3 dot-separated parts of a JWT (was it cut short?)"),
            ("seed-localstorage-dump.json", "StorageValue: access token yes, refresh token Legacy, 0 chunks"),
            ("seed-localstorage-key-equals.txt", "StorageValue: access token yes, refresh token Legacy, 0 chunks"),
            ("seed-localstorage-line.txt", "StorageValue: access token yes, refresh token Legacy, 0 chunks"),
            ("seed-localstorage-pretty.json", "TokenResponse: access token yes, refresh token Legacy, 0 chunks"),
            ("seed-localstorage-session-v2-es256.json", "TokenResponse: access token yes, refresh token V2, 0 chunks"),
            ("seed-localstorage-session.json", "TokenResponse: access token yes, refresh token Legacy, 0 chunks"),
            ("seed-localstorage-v1-current-session.json", "StorageValue: access token yes, refresh token Legacy, 0 chunks"),
            ("seed-near-legacy.txt", "refused InvalidRefreshToken: This is 12 characters like a legacy refresh token, but those use only lowercase letters and digits"),
            ("seed-plain-text.txt", "refused Unrecognized: This looks like plain text (\"this is …\"), not a token, session JSON or cookie"),
            ("seed-refresh-legacy.txt", "RefreshToken: access token no, refresh token Legacy, 0 chunks"),
            ("seed-refresh-v2-cut.txt", "refused InvalidRefreshToken: This looks like a v2 refresh token but it is too short (cut off while copying?)"),
            ("seed-refresh-v2.txt", "RefreshToken: access token no, refresh token V2, 0 chunks"),
            ("seed-set-cookie-chunks.txt", "SsrCookie: access token yes, refresh token Legacy, 2 chunks"),
            ("seed-set-cookie.txt", "SsrCookie: access token yes, refresh token Legacy, 1 chunks"),
            ("seed-ssr-cookie-chunked.txt", "SsrCookie: access token yes, refresh token Legacy, 2 chunks"),
            ("seed-ssr-cookie-urlencoded.txt", "SsrCookie: access token yes, refresh token Legacy, 1 chunks"),
            ("seed-ssr-cookie.txt", "SsrCookie: access token yes, refresh token Legacy, 1 chunks"),
            ("seed-ssr-value-only.txt", "SsrCookie: access token yes, refresh token Legacy, 1 chunks"),
            ("seed-ssr-value-std-base64.txt", "SsrCookie: access token yes, refresh token Legacy, 1 chunks"),
            ("seed-supabase-js-log.json", "TokenResponse: access token yes, refresh token Legacy, 0 chunks"),
            ("seed-token-response.json", "TokenResponse: access token yes, refresh token Legacy, 0 chunks"),
        ],
        |bytes| paste_answer(&String::from_utf8_lossy(bytes)),
    );
}

/// The token tools on a jwt seed as the `jwt` target reads it: a token, checked with the HS256
/// secret and the JWKS on its next line or else `jwks` (GoTrue's, the target's own); or a JWKS.
fn jwt_answer(bytes: &[u8], jwks_default: &Jwks) -> String {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(jwks) = serde_json::from_str::<Jwks>(&text) {
        return format!("a JWKS of {} keys", jwks.keys.len());
    }
    let (token, jwks) = match text.split_once('\n') {
        Some((token, rest)) if !rest.trim().is_empty() => (
            token,
            Some(serde_json::from_str::<Jwks>(rest).expect("the JWKS after the token parses")),
        ),
        _ => (text.as_ref(), None),
    };
    match decode_jwt(token) {
        Ok(jwt) => {
            let status = verify_jwt(
                &jwt,
                Some(SECRET),
                Some(jwks.as_ref().unwrap_or(jwks_default)),
            );
            format!(
                "{} kid {}: {}",
                jwt.alg().unwrap_or("-"),
                jwt.kid().unwrap_or("-"),
                verify_answer(&status)
            )
        }
        Err(error) => format!("refused {}: {error}", variant(&format!("{error:?}"))),
    }
}

/// The JWKS the `jwt` target checks tokens with: GoTrue's shape, one P-256 key (`fuzz-ec-1`)
/// and one RSA key (`rsa-test-1`).
fn gotrue_jwks() -> Jwks {
    serde_json::from_slice(&seeds("jwt")["seed-jwks-gotrue.json"]).unwrap()
}

fn verify_answer(status: &SignatureStatus) -> String {
    match status {
        SignatureStatus::Verified { alg, kid } => {
            format!("verified {alg} kid {}", kid.as_deref().unwrap_or("-"))
        }
        SignatureStatus::InvalidSignature { cause, .. } => format!("invalid signature ({cause:?})"),
        SignatureStatus::NotVerified { cause, .. } => format!("not verified ({cause:?})"),
        other => format!("{other:?}"),
    }
}

#[test]
fn every_jwt_seed_reaches_the_token_tools_and_gets_its_answer() {
    let gotrue = gotrue_jwks();
    each_seed_answers("jwt", &[
        ("seed-alg-none.jwt", "none kid -: invalid signature (Unsigned)"),
        ("seed-anon-key.jwt", "HS256 kid -: verified HS256 kid -"),
        ("seed-bearer-header.txt", "HS256 kid -: verified HS256 kid -"),
        ("seed-es256-der-signature.jwt", "ES256 kid fuzz-ec-1: invalid signature (Malformed)"),
        ("seed-es256-kid.jwt", "ES256 kid fuzz-ec-1: verified ES256 kid fuzz-ec-1"),
        ("seed-es256-no-kid.jwt", "ES256 kid -: verified ES256 kid fuzz-ec-1"),
        ("seed-hs256-tampered.jwt", "HS256 kid -: invalid signature (Mismatch)"),
        ("seed-hs256.jwt", "HS256 kid -: verified HS256 kid -"),
        ("seed-jwe-5-parts.txt", "refused NotAJwt: not a JWT: it has 5 parts, which makes it an encrypted JWE, not a signed JWT"),
        ("seed-jwks-gotrue.json", "a JWKS of 2 keys"),
        ("seed-jwks-odd-keys.json", "a JWKS of 5 keys"),
        ("seed-nokid-and-two-ec-keys.txt", "ES256 kid -: not verified (NoKey)"),
        ("seed-rs256-and-jwks.txt", "RS256 kid rsa-test-1: verified RS256 kid rsa-test-1"),
        ("seed-rs256.jwt", "RS256 kid rsa-test-1: verified RS256 kid rsa-test-1"),
        ("seed-token-and-jwks.txt", "ES256 kid fuzz-ec-1: verified ES256 kid fuzz-ec-1"),
        ("seed-wrong-kty-for-kid.txt", "ES256 kid rsa-test-1: invalid signature (AlgorithmNotAllowed)"),
    ], |bytes| {
        jwt_answer(bytes, &gotrue)
    });
}

/// The error-envelope reader on an envelope seed as the `envelope` target reads it: a first
/// line `STATUS [API-VERSION [ERROR-CODE [CONTENT-TYPE]]]` (`-` for no such header), then
/// the body.
fn envelope_answer(bytes: &[u8]) -> String {
    let (first, body) = match bytes.iter().position(|&b| b == b'\n') {
        Some(at) => (&bytes[..at], &bytes[at + 1..]),
        None => (bytes, &[][..]),
    };
    let first = std::str::from_utf8(first).expect("the seeds' first lines are text");
    let mut fields = first.split(' ');
    let status: u16 = fields
        .next()
        .unwrap()
        .parse()
        .expect("the seeds start with a status");
    let mut headers = HeaderMap::new();
    for name in ["x-supabase-api-version", "x-sb-error-code", "content-type"] {
        match fields.next() {
            Some("-") => {}
            Some(value) => {
                headers.insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_str(value).unwrap(),
                );
            }
            None => break,
        }
    }
    let error = error_from_response(status, &headers, body);
    format!(
        "{} {} {}: {error}",
        error.kind(),
        error.status().map_or("-".into(), |s| s.to_string()),
        error.code().unwrap_or("-")
    )
}

#[test]
fn every_envelope_seed_reaches_the_reader_and_gets_its_answer() {
    each_seed_answers(
        "envelope",
        &[
            ("seed-2024-over-rate-limit.txt", "api 429 over_request_rate_limit: Request rate limit reached"),
            ("seed-2024-refresh-token-already-used.txt", "api 400 refresh_token_already_used: Invalid Refresh Token: Already Used"),
            ("seed-2024-session-not-found.txt", "api 403 session_not_found: Session from session_id claim in JWT does not exist"),
            ("seed-2024-weak-password.txt", "api 422 weak_password: Password should be at least 6 characters."),
            ("seed-array-body.txt", "api 400 -: the auth server answered HTTP 400 with a application/json page, not JSON: \"[1,2,3]\""),
            ("seed-conflict-409.txt", "api 409 conflict: Too many concurrent token refresh requests on the same session or refresh token"),
            ("seed-empty-504.txt", "retryableFetch 504 -: the auth server failed temporarily (HTTP 504)"),
            ("seed-future-version.txt", "api 400 refresh_token_not_found: Invalid Refresh Token: Refresh Token Not Found"),
            ("seed-gateway-invalid-api-key.txt", "api 401 -: Invalid API key"),
            ("seed-html-403.txt", "api 403 -: the auth server answered HTTP 403 with a text/html;charset=UTF-8 page, not JSON: \"Access denied body{font:14px sans-serif} 403 Forbidden You don't have permission\""),
            ("seed-html-502.txt", "retryableFetch 502 -: the auth server failed temporarily (HTTP 502)"),
            ("seed-initial-500-error-id.txt", "retryableFetch 500 -: Unexpected failure, please check server logs for more information"),
            ("seed-initial-bad-jwt.txt", "api 403 bad_jwt: invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired"),
            ("seed-initial-refresh-token-not-found.txt", "api 400 refresh_token_not_found: Invalid Refresh Token: Refresh Token Not Found"),
            ("seed-malformed-json.txt", "api 400 -: the auth server answered HTTP 400 with a application/json page, not JSON: \"{\"access_token\": \"eyJhbGciOiJIUzI1NiIs\""),
            ("seed-oauth-invalid-grant.txt", "api 400 invalid_grant: Invalid Refresh Token: Refresh Token Not Found"),
            ("seed-old-version-string-code.txt", "api 400 other: x"),
            ("seed-session-expired-initial.txt", "api 400 session_expired: Invalid Refresh Token: Session Expired (Revoked by Newer Login)"),
        ],
        envelope_answer,
    );
}

/// xorshift64: small and seedable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments of the formats a paste can take, and things that break them.
const PIECES: [&str; 37] = [
    "eyJhbGciOiJIUzI1NiJ9",
    ".",
    "eyJzdWIiOiJ4In0",
    "base64-",
    "sb-abc-auth-token",
    ".0=",
    ".1=",
    "; ",
    "=",
    "\"",
    "'",
    "`",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "Bearer ",
    "Authorization: ",
    "Cookie: ",
    "%7B%22",
    "access_token",
    "refresh_token",
    "abcdefghijkl",
    "é",
    "🔑",
    "\u{0}",
    "AAAA",
    "____",
    "-",
    " ",
    "\n",
    "null",
    "123",
    "currentSession",
    "expires_at",
];

/// `text` with up to three random edits: a piece inserted, a stretch deleted or doubled, the
/// end cut off; or, one time in five, a string of random pieces.
fn variation(rng: &mut Rng, templates: &[String]) -> String {
    if rng.below(5) == 0 {
        let len = rng.below(12);
        return (0..len).map(|_| PIECES[rng.below(PIECES.len())]).collect();
    }
    let mut text: Vec<char> = templates[rng.below(templates.len())].chars().collect();
    for _ in 0..rng.below(4) {
        let at = rng.below(text.len() + 1);
        let end = (at + 1 + rng.below(16)).min(text.len());
        match rng.below(4) {
            0 => {
                let piece = PIECES[rng.below(PIECES.len())];
                text.splice(at..at, piece.chars());
            }
            1 => {
                text.drain(at..end);
            }
            2 => {
                let copy: Vec<char> = text[at..end].to_vec();
                text.splice(at..at, copy);
            }
            _ => text.truncate(at),
        }
    }
    text.into_iter().collect()
}

#[test]
fn random_variations_of_the_paste_seeds_never_panic_and_meet_every_answer() {
    let templates: Vec<String> = seeds("paste")
        .values()
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .collect();
    let jwks = gotrue_jwks();
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let mut met = BTreeMap::<String, u32>::new();
    for _ in 0..20_000 {
        let input = variation(&mut rng, &templates);
        let imported = match parse_import(&input) {
            Ok(imported) => format!("import {:?}", imported.kind),
            Err(error) => format!("import refused {}", variant(&format!("{error:?}"))),
        };
        let decoded = match decode_jwt(&input) {
            Ok(jwt) => match verify_jwt(&jwt, Some(SECRET), Some(&jwks)) {
                SignatureStatus::Verified { .. } => "jwt verified".to_string(),
                SignatureStatus::InvalidSignature { .. } => "jwt invalid signature".to_string(),
                SignatureStatus::NotVerified { .. } => "jwt not verified".to_string(),
                other => format!("jwt {}", variant(&format!("{other:?}"))),
            },
            Err(error) => format!("jwt refused {}", variant(&format!("{error:?}"))),
        };
        let shape = format!(
            "refresh token {}",
            variant(&format!("{:?}", inspect_refresh_token(&input)))
        );
        for answer in [imported, decoded, shape] {
            *met.entry(answer).or_default() += 1;
        }
    }
    // Every kind of import and every rule that refuses one; the token tools' refusals, and
    // tokens that verify and that do not; each refresh token shape.
    let expected: BTreeSet<&str> = [
        "import AccessToken",
        "import BearerHeader",
        "import RefreshToken",
        "import SsrCookie",
        "import StorageValue",
        "import TokenResponse",
        "import refused Empty",
        "import refused InvalidCookie",
        "import refused InvalidJson",
        "import refused InvalidJwt",
        "import refused InvalidRefreshToken",
        "import refused MissingChunk",
        "import refused NoTokens",
        "import refused Unrecognized",
        "jwt invalid signature",
        "jwt refused BadBase64",
        "jwt refused BadJson",
        "jwt refused Empty",
        "jwt refused NotAJwt",
        "jwt verified",
        "refresh token Legacy",
        "refresh token Unknown",
        "refresh token V2",
    ]
    .into_iter()
    .collect();
    // Met at least those: an answer the random stream happens to meet besides (a token that
    // cannot be verified, say) is no failure.
    let met_names: BTreeSet<&str> = met.keys().map(String::as_str).collect();
    let missing: Vec<&&str> = expected.difference(&met_names).collect();
    assert!(
        missing.is_empty(),
        "20 000 variations never met {missing:?} ({met:?})"
    );
}
