//! A session as the command line shows it: redacted (fingerprints, expiry, user), the same
//! for people and for `--json`; its tokens only when the user asked to reveal them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use session_engine::tokens::{decode_jwt, fingerprint, inspect_refresh_token, RefreshTokenShape};
use session_engine::Session;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub is_anonymous: bool,
    /// The access token's `session_id` claim (GoTrue's `auth.sessions` row).
    pub session_id: Option<String>,
    /// The access token's assurance level (`aal1`, `aal2`).
    pub aal: Option<String>,
    pub access_token_fingerprint: String,
    pub refresh_token_fingerprint: String,
    pub refresh_token_shape: RefreshTokenShape,
    /// When the access token expires (RFC 3339) and how many seconds are left (negative:
    /// expired).
    pub expires_at: String,
    pub expires_in_secs: i64,
    /// The tokens themselves, only with `--reveal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl SessionSummary {
    pub fn of(session: &Session, now: DateTime<Utc>, reveal: bool) -> SessionSummary {
        let claims = decode_jwt(&session.access_token).ok().map(|jwt| jwt.claims);
        let claim = |name: &str| {
            claims
                .as_ref()
                .and_then(|c| c.get(name))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let not_empty = |text: &str| Some(text.to_string()).filter(|t| !t.is_empty());
        SessionSummary {
            user_id: session.user.id.clone(),
            email: not_empty(&session.user.email),
            phone: not_empty(&session.user.phone),
            is_anonymous: session.user.is_anonymous,
            session_id: claim("session_id"),
            aal: claim("aal"),
            access_token_fingerprint: fingerprint(&session.access_token),
            refresh_token_fingerprint: fingerprint(&session.refresh_token),
            refresh_token_shape: inspect_refresh_token(&session.refresh_token),
            expires_at: time(session.expires_at),
            expires_in_secs: session.expires_at - now.timestamp(),
            access_token: reveal.then(|| session.access_token.to_string()),
            refresh_token: reveal.then(|| session.refresh_token.to_string()),
        }
    }

    /// Indented lines for people.
    pub fn lines(&self) -> Vec<String> {
        let who = match (&self.email, &self.phone) {
            (Some(email), _) => format!("{email} ({})", self.user_id),
            (None, Some(phone)) => format!("{phone} ({})", self.user_id),
            (None, None) if self.is_anonymous => format!("anonymous ({})", self.user_id),
            (None, None) => self.user_id.clone(),
        };
        let mut lines = vec![format!("  user           {who}")];
        if let Some(session_id) = &self.session_id {
            let aal = self.aal.as_deref().unwrap_or("aal?");
            lines.push(format!("  session        {session_id} ({aal})"));
        }
        lines.push(format!(
            "  access token   {}, {}",
            self.access_token_fingerprint,
            expiry(&self.expires_at, self.expires_in_secs)
        ));
        lines.push(format!(
            "  refresh token  {} ({})",
            self.refresh_token_fingerprint,
            shape(&self.refresh_token_shape)
        ));
        if let (Some(access), Some(refresh)) = (&self.access_token, &self.refresh_token) {
            lines.push(format!("  access_token   {access}"));
            lines.push(format!("  refresh_token  {refresh}"));
        }
        lines
    }
}

/// Unix seconds as RFC 3339 (the number itself when chrono cannot hold it).
pub fn time(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0)
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| unix.to_string())
}

/// "expires 2030-01-01T00:00:00Z (in 59 min)" or "expired … (3 h ago)".
pub fn expiry(at: &str, left_secs: i64) -> String {
    if left_secs > 0 {
        format!("expires {at} (in {})", duration(left_secs))
    } else {
        format!("expired {at} ({} ago)", duration(-left_secs))
    }
}

/// A rough duration: "42 s", "5 min", "3 h", "2 d".
pub fn duration(secs: i64) -> String {
    if secs < 120 {
        format!("{secs} s")
    } else if secs < 7_200 {
        format!("{} min", secs / 60)
    } else if secs < 172_800 {
        format!("{} h", secs / 3_600)
    } else {
        format!("{} d", secs / 86_400)
    }
}

pub fn shape(shape: &RefreshTokenShape) -> String {
    match shape {
        RefreshTokenShape::Legacy => "legacy format".to_string(),
        RefreshTokenShape::V2 {
            session_id,
            counter,
        } => format!("v2, session {session_id}, rotation #{counter}"),
        RefreshTokenShape::Unknown => "unknown format".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_roughly() {
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(3_540), "59 min");
        assert_eq!(duration(10_800), "3 h");
        assert_eq!(duration(200_000), "2 d");
        assert_eq!(expiry("T", 30), "expires T (in 30 s)");
        assert_eq!(expiry("T", -30), "expired T (30 s ago)");
    }
}
