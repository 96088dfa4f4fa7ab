//! Pastes what real tools copy: every file under `fixtures/paste/` was produced by the real
//! `@supabase/ssr` signing in to the built-in server, rendered in one form a developer copies
//! from Chrome, Firefox or Safari devtools (see `fixtures/paste/README.md`). Each test pastes
//! one file and expects the session the package itself read back from those cookies
//! (`expected.json`).

use std::path::PathBuf;

use serde_json::Value;
use session_engine::import::{parse_import, ImportError, ImportKind};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/paste")
}

fn read(path: &str) -> String {
    let path = fixtures().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn expected(session: &str) -> Value {
    let all: Value = serde_json::from_str(&read("expected.json")).expect("expected.json parses");
    all["sessions"][session].clone()
}

/// Pastes `<session>/<file>` and checks the tokens, the cookie name and the chunk count.
fn pastes(session: &str, file: &str) {
    let want = expected(session);
    let text = read(&format!("{session}/{file}"));
    let imported = parse_import(&text).unwrap_or_else(|e| panic!("{session}/{file}: {e}"));
    assert_eq!(imported.kind, ImportKind::SsrCookie, "{session}/{file}");
    assert_eq!(
        imported.refresh_token(),
        want["refresh_token"].as_str(),
        "{session}/{file}: refresh token"
    );
    assert_eq!(
        imported.access_token(),
        want["access_token"].as_str(),
        "{session}/{file}: access token"
    );
    assert_eq!(imported.expires_at, want["expires_at"].as_i64());
    let chunks = want["cookie_names"].as_array().expect("cookie names").len();
    assert_eq!(imported.chunks, chunks, "{session}/{file}: chunks");
    // A value pasted alone does not say its cookie's name.
    if !file.contains("value") {
        assert_eq!(
            imported.storage_key.as_deref(),
            want["storage_key"].as_str(),
            "{session}/{file}: storage key"
        );
    }
}

macro_rules! paste_tests {
    ($session:literal { $($name:ident => $file:literal,)* }) => {
        $(
            #[test]
            fn $name() {
                pastes($session, $file);
            }
        )*
    };
}

mod chunked {
    use super::pastes;

    paste_tests!("chunked" {
        network_raw_response_headers => "response-headers-raw.txt",
        network_set_cookie_lines => "set-cookie-lines.txt",
        network_set_cookie_lines_http2 => "set-cookie-lines-http2.txt",
        network_raw_request_headers => "request-headers-raw.txt",
        network_cookie_request_header => "cookie-header.txt",
        console_document_cookie => "document-cookie.txt",
        name_value_lines => "name-value-lines.txt",
        chrome_cookie_table_rows => "chrome-cookie-table-rows.tsv",
        safari_cookie_table_rows => "safari-cookie-table-rows.tsv",
        firefox_storage_sidebar_entries => "firefox-storage-sidebar.txt",
        copy_as_curl_with_b => "curl-b.txt",
        copy_as_curl_with_cookie_header => "curl-cookie-header.txt",
        chunk_values_in_order => "chunk-values-in-order.txt",
    });
}

mod unchunked {
    use super::pastes;

    paste_tests!("unchunked" {
        network_raw_response_headers => "response-headers-raw.txt",
        network_set_cookie_lines => "set-cookie-lines.txt",
        network_set_cookie_lines_http2 => "set-cookie-lines-http2.txt",
        network_raw_request_headers => "request-headers-raw.txt",
        network_cookie_request_header => "cookie-header.txt",
        console_document_cookie => "document-cookie.txt",
        name_value_lines => "name-value-lines.txt",
        chrome_cookie_table_rows => "chrome-cookie-table-rows.tsv",
        safari_cookie_table_rows => "safari-cookie-table-rows.tsv",
        firefox_storage_sidebar_entries => "firefox-storage-sidebar.txt",
        copy_as_curl_with_b => "curl-b.txt",
        copy_as_curl_with_cookie_header => "curl-cookie-header.txt",
        value_alone => "value-alone.txt",
    });
}

/// The chunked Set-Cookie lines with one chunk's line dropped: the error names that chunk.
#[test]
fn set_cookie_lines_missing_a_chunk_name_it() {
    for (dropped, expected_message) in [
        (".1=", "Cookie sb-127-auth-token is missing chunk .1"),
        (".0=", "Cookie sb-127-auth-token is missing chunk .0"),
    ] {
        let text: String = read("chunked/set-cookie-lines.txt")
            .lines()
            .filter(|line| !line.contains(&format!("sb-127-auth-token{dropped}")))
            .map(|line| format!("{line}\n"))
            .collect();
        let error = parse_import(&text).unwrap_err();
        assert!(
            matches!(error, ImportError::MissingChunk { .. }),
            "{dropped}: {error:?}"
        );
        assert_eq!(error.to_string(), expected_message);
    }
}

/// The last chunk's row dropped from a cookie table copy: nothing says a chunk is missing
/// except that the value no longer decodes, so the error suggests the next chunk.
#[test]
fn table_rows_without_the_last_chunk_suggest_it() {
    let text: String = read("chunked/chrome-cookie-table-rows.tsv")
        .lines()
        .filter(|line| !line.starts_with("sb-127-auth-token.2\t"))
        .map(|line| format!("{line}\n"))
        .collect();
    let error = parse_import(&text).unwrap_err().to_string();
    assert!(error.contains("is chunk .2 missing?"), "{error}");
}
