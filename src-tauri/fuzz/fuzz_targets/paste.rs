//! "Paste anything": `parse_import` on arbitrary text (the bytes read as lossy UTF-8), and for
//! every import it accepts, the preview the UI shows before anything is sent.
//!
//! Beyond "never panics", it checks what the importer promises (src-tauri/engine/src/import):
//! an import always holds a non-empty token, `chunks` matches the kind, a token recognized as
//! a JWT still decodes, and neither `Debug` nor `describe()` repeats a token (they show
//! fingerprints). The preview agrees with the import it was made from.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use session_engine::import::{parse_import, ImportKind, Imported};
use session_engine::paste::PastePreview;
use session_engine::tokens::{self, RefreshTokenShape};
use url::Url;

/// Tokens at least this long are checked for leaks. Shorter ones can match by chance: outside
/// the storage key, the longest run of token characters (`[A-Za-z0-9._-]`) that `Debug` or
/// `describe()` can print on its own is a v2 refresh token's session id (a 36-character
/// UUID); an `i64` or a `usize` is at most 20.
const LEAK_CHECK_MIN_LEN: usize = 40;

fn auth_url() -> &'static Url {
    static URL: OnceLock<Url> = OnceLock::new();
    URL.get_or_init(|| Url::parse("http://127.0.0.1:54321/auth/v1").expect("a valid URL"))
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    // The token tools the importer builds on take the same input.
    let _ = tokens::decode_jwt(&input);
    let _ = tokens::inspect_refresh_token(&input);

    let imported = match parse_import(&input) {
        Ok(imported) => imported,
        Err(error) => {
            // Messages are built with format!: exercise them too.
            let _ = error.to_string();
            return;
        }
    };
    check_import(&imported);

    let preview = PastePreview::of(&imported, None, Some(auth_url()));
    let refresh = imported.refresh_token();
    assert_eq!(preview.kind, imported.kind);
    assert_eq!(preview.description, imported.describe());
    assert_eq!(preview.can_rotate, refresh.is_some());
    assert!(!preview.is_current, "there is no current session");
    assert_eq!(
        preview.refresh_token_fingerprint,
        refresh.map(tokens::fingerprint)
    );
    assert_eq!(preview.refresh_token_shape, imported.refresh_token_shape());
    assert_eq!(
        preview.access_claims.is_some(),
        imported.decoded_access_token().is_some()
    );
    assert!(
        !preview.warnings.is_empty(),
        "the first warning is always there"
    );
    serde_json::to_string(&preview).expect("a preview always serializes");
});

fn check_import(imported: &Imported) {
    let access = imported.access_token();
    let refresh = imported.refresh_token();
    assert!(
        access.is_some() || refresh.is_some(),
        "an import holds a token"
    );
    assert!(access.is_none_or(|t| !t.is_empty()));
    assert!(refresh.is_none_or(|t| !t.is_empty()));

    match imported.kind {
        ImportKind::SsrCookie => assert!(imported.chunks >= 1, "{imported:?}"),
        _ => assert_eq!(imported.chunks, 0, "{imported:?}"),
    }
    match imported.kind {
        ImportKind::AccessToken | ImportKind::BearerHeader => {
            assert!(refresh.is_none() && imported.storage_key.is_none());
            let jwt = imported
                .decoded_access_token()
                .expect("a token imported as a JWT decodes again");
            assert_eq!(Some(jwt.raw()), access);
            assert_eq!(imported.expires_at, jwt.expires_at());
        }
        ImportKind::RefreshToken => {
            assert!(access.is_none() && imported.storage_key.is_none());
            assert!(matches!(
                imported.refresh_token_shape(),
                Some(RefreshTokenShape::Legacy | RefreshTokenShape::V2 { .. })
            ));
        }
        ImportKind::StorageValue | ImportKind::SsrCookie | ImportKind::TokenResponse => {}
    }

    // Redaction: Debug and describe() show fingerprints, never a token. A token made of
    // token characters can only show up inside one run of them, so runs that legitimately
    // come from the input (the storage key, and in describe() the access token's `sub`
    // claim, which may hold anything) are the only places a long token may appear.
    let debug = format!("{imported:?}");
    let description = imported.describe();
    let key = imported.storage_key.as_deref().unwrap_or_default();
    let decoded = imported.decoded_access_token();
    let sub = decoded
        .as_ref()
        .and_then(|jwt| jwt.subject())
        .unwrap_or_default();
    for token in [access, refresh].into_iter().flatten() {
        if token.len() < LEAK_CHECK_MIN_LEN || !token.chars().all(is_token_char) {
            continue;
        }
        if key.contains(token) {
            continue;
        }
        assert!(!debug.contains(token), "Debug shows a token: {debug}");
        if !sub.contains(token) {
            assert!(
                !description.contains(token),
                "describe() shows a token: {description}"
            );
        }
    }
}
