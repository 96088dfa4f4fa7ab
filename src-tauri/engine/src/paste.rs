//! What a paste is, said before anything is sent: its format, the refresh token's fingerprint
//! and shape, the access token's claims, and warnings about what rotating it will do.

use serde::Serialize;
use serde_json::{Map, Value};
use ts_rs::TS;
use url::Url;

use crate::import::{ImportKind, Imported};
use crate::session::Session;
use crate::tokens::{fingerprint, RefreshTokenShape};

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PastePreview {
    pub kind: ImportKind,
    pub description: String,
    pub refresh_token_fingerprint: Option<String>,
    pub refresh_token_shape: Option<RefreshTokenShape>,
    /// Claims of the access token in the paste, when there was one.
    #[ts(type = "Record<string, unknown> | null")]
    pub access_claims: Option<Map<String, Value>>,
    /// The pasted refresh token is the current session's.
    pub is_current: bool,
    /// The paste holds a refresh token, so it can be rotated.
    pub can_rotate: bool,
    pub warnings: Vec<String>,
    /// What the server will do with the refresh token (the app's reuse predictor fills it
    /// in from what it knows of the session; none here).
    pub prediction: Option<crate::reuse::Prediction>,
}

impl PastePreview {
    /// `auth_url` is the profile's GoTrue URL, to compare with the access token's issuer
    /// (none: a paste looked at outside any project, as the command line's `decode` does).
    pub fn of(
        imported: &Imported,
        current: Option<&Session>,
        auth_url: Option<&Url>,
    ) -> PastePreview {
        let refresh = imported.refresh_token();
        let is_current = match (refresh, current) {
            (Some(token), Some(session)) => session.refresh_token == token,
            _ => false,
        };
        let decoded = imported.decoded_access_token();
        let mut warnings = vec![match refresh {
            None => "This holds no refresh token, so there is nothing to rotate. Paste a refresh token, a stored session or a session cookie.".to_string(),
            Some(_) if is_current => "This is the current session's own refresh token: rotating it is the same as Refresh now.".to_string(),
            Some(_) => format!("Rotating moves the server's head of this session: an app still holding this token gets refresh_token_already_used on its next refresh once the reuse interval ({} s on hosted projects) has passed, and is signed out.", crate::protocol::HOSTED_REUSE_INTERVAL.as_secs()),
        }];
        let issuer = decoded
            .as_ref()
            .and_then(|jwt| jwt.claims.get("iss"))
            .and_then(Value::as_str);
        if let (Some(issuer), Some(auth_url)) = (issuer, auth_url) {
            if issuer.trim_end_matches('/') != auth_url.as_str().trim_end_matches('/') {
                warnings.push(format!(
                    "Its access token was issued by {issuer}, not by this profile's server ({auth_url}): this server will probably not know the refresh token."
                ));
            }
        }
        PastePreview {
            kind: imported.kind,
            description: imported.describe(),
            refresh_token_fingerprint: refresh.map(fingerprint),
            refresh_token_shape: imported.refresh_token_shape(),
            access_claims: decoded.map(|jwt| jwt.claims),
            is_current,
            can_rotate: refresh.is_some(),
            warnings,
            prediction: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse_import;

    fn url() -> Url {
        Url::parse("http://127.0.0.1:54321/auth/v1").unwrap()
    }

    #[test]
    fn a_refresh_token_alone_can_rotate_and_warns_what_rotating_does() {
        let imported = parse_import("abcdefghijkl").unwrap();
        let preview = PastePreview::of(&imported, None, Some(&url()));
        assert!(preview.can_rotate && !preview.is_current);
        assert_eq!(
            preview.refresh_token_fingerprint,
            Some(fingerprint("abcdefghijkl"))
        );
        assert_eq!(preview.warnings.len(), 1);
        assert!(preview.warnings[0].contains("refresh_token_already_used"));
    }

    #[test]
    fn an_access_token_from_another_issuer_is_named() {
        let header = base64_url(r#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = base64_url(r#"{"iss":"https://other.supabase.co/auth/v1","sub":"u","exp":1}"#);
        let token = format!("{header}.{claims}.c2ln");
        let imported = parse_import(&token).unwrap();
        let preview = PastePreview::of(&imported, None, Some(&url()));
        assert!(!preview.can_rotate);
        assert!(preview.warnings[0].contains("no refresh token"));
        assert!(
            preview.warnings[1].contains("https://other.supabase.co/auth/v1"),
            "{:?}",
            preview.warnings
        );
        // Outside any project there is no server to compare the issuer with.
        let alone = PastePreview::of(&imported, None, None);
        assert_eq!(alone.warnings.len(), 1, "{:?}", alone.warnings);
    }

    fn base64_url(text: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }
}
