//! What an import produced: [`ImportKind`] (which form the input had) and [`Imported`] (the
//! tokens found in it), with the one-sentence description the UI shows.
//!
//! The tokens are secrets: `Debug`, `Serialize` and [`Imported::describe`] show
//! fingerprints and claims, never a token.

use std::fmt;

use crate::tokens::{self, RefreshTokenShape};

/// Which form the pasted input had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    RefreshToken,
    AccessToken,
    BearerHeader,
    StorageValue,
    SsrCookie,
    TokenResponse,
}

/// What was recognized in the input.
///
/// The tokens are private to the importer and reachable only through [`Imported::refresh_token`] and
/// [`Imported::access_token`], so that printing or serializing an `Imported` (for logs or the
/// UI) can only ever show fingerprints.
#[derive(Clone, PartialEq)]
pub struct Imported {
    pub kind: ImportKind,
    pub(super) refresh_token: Option<String>,
    pub(super) access_token: Option<String>,
    /// The supabase-js storage key / cookie name the session was stored under, e.g.
    /// `sb-abcd-auth-token`, when the input showed it.
    pub storage_key: Option<String>,
    /// For `@supabase/ssr` cookies, how many cookies the session was split across (1 when
    /// unchunked); 0 for every other kind.
    pub chunks: usize,
    /// When the access token expires (Unix seconds): the session's `expires_at` if it has
    /// one, otherwise the access token's `exp`.
    pub expires_at: Option<i64>,
}

impl Imported {
    /// The refresh token, for handing to the engine. Never display or log it.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref()
    }

    /// The access token, for handing to the engine. Never display or log it.
    pub fn access_token(&self) -> Option<&str> {
        self.access_token.as_deref()
    }

    /// The refresh token's format, when there is one.
    pub fn refresh_token_shape(&self) -> Option<RefreshTokenShape> {
        self.refresh_token
            .as_deref()
            .map(tokens::inspect_refresh_token)
    }

    /// The access token decoded (no key needed), when there is one and it is a JWT.
    pub fn decoded_access_token(&self) -> Option<tokens::DecodedJwt> {
        self.access_token
            .as_deref()
            .and_then(|t| tokens::decode_jwt(t).ok())
    }

    /// One plain sentence for the UI saying what was pasted and what it holds, e.g.
    /// "An @supabase/ssr cookie sb-abcd-auth-token (2 chunks) holding a session: refresh
    /// token fp:…, access token for user … expiring 2030-01-01T00:00:00Z". Contains
    /// fingerprints and claims, never a token.
    pub fn describe(&self) -> String {
        match self.kind {
            ImportKind::RefreshToken => {
                let what = match self.refresh_token_shape() {
                    Some(RefreshTokenShape::Legacy) => "A legacy refresh token".to_string(),
                    Some(RefreshTokenShape::V2 {
                        session_id,
                        counter,
                    }) => {
                        return format!(
                            "A v2 refresh token {} for session {session_id} (rotation #{counter})",
                            self.refresh_fingerprint()
                        )
                    }
                    _ => "A refresh token".to_string(),
                };
                format!("{what} {}", self.refresh_fingerprint())
            }
            ImportKind::AccessToken => format!("An {}", self.access_summary()),
            ImportKind::BearerHeader => {
                format!(
                    "A Bearer Authorization header with an {}",
                    self.access_summary()
                )
            }
            ImportKind::StorageValue => {
                let key = self
                    .storage_key
                    .as_deref()
                    .map(|k| format!(" ({k})"))
                    .unwrap_or_default();
                format!(
                    "A supabase-js storage value{key} holding {}",
                    self.session_summary()
                )
            }
            ImportKind::SsrCookie => {
                let name = self
                    .storage_key
                    .as_deref()
                    .map(|k| format!(" {k}"))
                    .unwrap_or_default();
                let chunks = if self.chunks > 1 {
                    format!(" ({} chunks)", self.chunks)
                } else {
                    String::new()
                };
                format!(
                    "An @supabase/ssr cookie{name}{chunks} holding {}",
                    self.session_summary()
                )
            }
            ImportKind::TokenResponse => {
                format!("A token response holding {}", self.session_summary())
            }
        }
    }

    fn refresh_fingerprint(&self) -> String {
        self.refresh_token
            .as_deref()
            .map(tokens::fingerprint)
            .unwrap_or_default()
    }

    /// "access token for user <sub> expiring <time>", or what is known of it.
    fn access_summary(&self) -> String {
        let Some(token) = self.access_token.as_deref() else {
            return "no access token".to_string();
        };
        let Ok(jwt) = tokens::decode_jwt(token) else {
            return format!(
                "access token {} that does not decode as a JWT",
                tokens::fingerprint(token)
            );
        };
        let mut out = String::from("access token");
        if let Some(sub) = jwt.subject() {
            out.push_str(&format!(" for user {sub}"));
        }
        if let Some(at) = self.expires_at.or(jwt.expires_at()).and_then(rfc3339) {
            out.push_str(&format!(" expiring {at}"));
        }
        out
    }

    fn session_summary(&self) -> String {
        match (&self.refresh_token, &self.access_token) {
            (Some(_), Some(_)) => format!(
                "a session: refresh token {}, {}",
                self.refresh_fingerprint(),
                self.access_summary()
            ),
            (Some(_), None) => format!(
                "a session with only a refresh token {}",
                self.refresh_fingerprint()
            ),
            (None, _) => format!(
                "only an {} (no refresh token, so it cannot be refreshed)",
                self.access_summary()
            ),
        }
    }
}

fn rfc3339(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

impl fmt::Debug for Imported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Imported")
            .field("kind", &self.kind)
            .field(
                "refresh_token",
                &self.refresh_token.as_deref().map(tokens::fingerprint),
            )
            .field(
                "access_token",
                &self.access_token.as_deref().map(tokens::fingerprint),
            )
            .field("storage_key", &self.storage_key)
            .field("chunks", &self.chunks)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse_import;
    use crate::test_fixtures::{b64, jwt, session, LEGACY};
    use serde_json::json;

    #[test]
    fn debug_and_describe_never_show_raw_tokens() {
        let value = format!("base64-{}", b64(session().to_string().as_bytes()));
        let imported = parse_import(&format!("sb-abcd-auth-token={value}")).unwrap();
        let debug = format!("{imported:?}");
        let signature = jwt().rsplit('.').next().unwrap().to_string();
        for shown in [&debug, &imported.describe()] {
            assert!(!shown.contains(LEGACY), "{shown}");
            assert!(!shown.contains(&jwt()), "{shown}");
            assert!(!shown.contains(&signature), "{shown}");
            assert!(shown.contains(&tokens::fingerprint(LEGACY)), "{shown}");
        }
        assert!(debug.contains(&tokens::fingerprint(&jwt())), "{debug}");
        assert_eq!(imported.kind, ImportKind::SsrCookie);
        assert!(matches!(
            imported.refresh_token_shape(),
            Some(tokens::RefreshTokenShape::Legacy)
        ));
    }

    #[test]
    fn session_without_refresh_token_says_it_cannot_be_refreshed() {
        let imported =
            parse_import(&json!({"access_token": jwt(), "token_type": "bearer"}).to_string())
                .unwrap();
        assert_eq!(imported.refresh_token(), None);
        assert!(imported.describe().contains("cannot be refreshed"));
    }
}
