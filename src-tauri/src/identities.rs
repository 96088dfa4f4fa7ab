//! A user's linked identities as the window shows them: GoTrue's `identities` of the user
//! object read into a fixed shape (its `identity_data` is whatever the provider said: only the
//! email crosses to the window), and which of them the current access token's `amr` claim
//! says the session was signed in with.

use serde::Serialize;
use serde_json::Value;
use session_engine::tokens::decode_jwt;
use session_engine::Session;
use ts_rs::TS;

/// One identity of the user (an entry of GoTrue's `user.identities`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct IdentityView {
    /// GoTrue's `identity_id` (a UUID): what `DELETE /user/identities/{id}` takes.
    pub identity_id: String,
    /// `email`, `phone`, `github`, `google`, …
    pub provider: String,
    /// The provider's id for the user (GoTrue's `id`, `identity_data.sub`).
    pub provider_id: String,
    /// `identity_data.email`, when the provider gave one.
    pub email: Option<String>,
    pub created_at: Option<String>,
    pub last_sign_in_at: Option<String>,
    /// The `amr` method of the current access token this identity accounts for (`password`,
    /// `oauth`, …), if any.
    pub used_by: Option<String>,
}

/// The user's identities and the current token's `amr` methods, in the server's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct IdentitiesView {
    pub identities: Vec<IdentityView>,
    /// The methods of the access token's `amr` claim, oldest first as GoTrue lists them.
    pub amr: Vec<String>,
}

/// `amr` methods that prove the user's email address or phone number (a password, a code, a
/// link from an email): the `email` or `phone` identity accounts for them.
const EMAIL_OR_PHONE_METHODS: [&str; 7] = [
    "password",
    "otp",
    "magiclink",
    "email/signup",
    "email_change",
    "invite",
    "recovery",
];

/// GoTrue's provider name for Web3 identities (`models.Web3Provider`; the chain and address
/// are in the identity's id), and its `amr` method is `web3`.
const WEB3_PROVIDER: &str = "web3";

impl IdentitiesView {
    /// Reads `identities` (unreadable entries are left out) and marks the ones `session`'s
    /// access token was signed in with.
    pub fn of(identities: &[Value], session: Option<&Session>) -> IdentitiesView {
        let amr = session.map(amr_methods).unwrap_or_default();
        let mut views: Vec<IdentityView> = identities.iter().filter_map(read).collect();
        for method in &amr {
            mark(&mut views, method);
        }
        IdentitiesView {
            identities: views,
            amr,
        }
    }
}

fn read(value: &Value) -> Option<IdentityView> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    Some(IdentityView {
        identity_id: text("identity_id")?,
        provider: text("provider")?,
        provider_id: text("id").unwrap_or_default(),
        email: value
            .pointer("/identity_data/email")
            .and_then(Value::as_str)
            .or_else(|| value.get("email").and_then(Value::as_str))
            .filter(|e| !e.is_empty())
            .map(str::to_string),
        created_at: text("created_at"),
        last_sign_in_at: text("last_sign_in_at"),
        used_by: None,
    })
}

fn amr_methods(session: &Session) -> Vec<String> {
    let Ok(decoded) = decode_jwt(&session.access_token) else {
        return Vec::new();
    };
    decoded
        .claims
        .get("amr")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                // GoTrue writes `{method, timestamp}` objects; older tokens plain strings.
                .filter_map(|e| e.get("method").and_then(Value::as_str).or(e.as_str()))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Marks the identity an `amr` method came from. GoTrue's `amr` names the method, not the
/// identity: `oauth` does not say which provider, so it is the OAuth identity signed in with
/// most recently (GoTrue stamps `last_sign_in_at` on the identity a sign-in or link used);
/// `web3` (Sign in with Solana or Ethereum, provider `web3`) likewise among the web3
/// identities. A password or a code does not say whether the email or the phone was used, so
/// it marks both (the window's tooltip says so). Second factors (`totp`, `mfa/…`) and
/// `anonymous` belong to no identity.
fn mark(views: &mut [IdentityView], method: &str) {
    let is_oauth = |v: &IdentityView| {
        !matches!(v.provider.as_str(), "email" | "phone" | WEB3_PROVIDER)
            && !v.provider.starts_with("sso:")
    };
    let mark_latest = |views: &mut [IdentityView], of: &dyn Fn(&IdentityView) -> bool| {
        // RFC 3339 times from one server compare as text.
        let latest = views
            .iter_mut()
            .filter(|v| of(v))
            .max_by(|a, b| a.last_sign_in_at.cmp(&b.last_sign_in_at));
        if let Some(view) = latest {
            view.used_by.get_or_insert_with(|| method.to_string());
        }
    };
    if EMAIL_OR_PHONE_METHODS.contains(&method) {
        for view in views
            .iter_mut()
            .filter(|v| v.provider == "email" || v.provider == "phone")
        {
            view.used_by.get_or_insert_with(|| method.to_string());
        }
    } else if method == "oauth" {
        mark_latest(views, &is_oauth);
    } else if method == "web3" {
        mark_latest(views, &|v| v.provider == WEB3_PROVIDER);
    } else if method == "sso/saml" {
        for view in views.iter_mut().filter(|v| v.provider.starts_with("sso:")) {
            view.used_by.get_or_insert_with(|| method.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn identity(id: &str, provider: &str, email: &str, last: &str) -> Value {
        json!({"identity_id": id, "id": format!("{provider}-sub"), "provider": provider,
               "identity_data": {"email": email, "sub": format!("{provider}-sub")},
               "created_at": "2026-01-01T00:00:00Z", "last_sign_in_at": last})
    }

    #[test]
    fn a_password_marks_the_email_identity_and_oauth_the_latest_oauth_one() {
        let all = [
            identity("1", "email", "a@example.com", "2026-01-01T00:00:00Z"),
            identity("2", "github", "a@github.example", "2026-01-03T00:00:00Z"),
            identity("3", "google", "a@google.example", "2026-01-02T00:00:00Z"),
        ];
        let mut views: Vec<IdentityView> = all.iter().filter_map(read).collect();
        mark(&mut views, "password");
        assert_eq!(views[0].used_by.as_deref(), Some("password"));
        assert!(views[1].used_by.is_none() && views[2].used_by.is_none());
        mark(&mut views, "oauth");
        assert_eq!(views[1].used_by.as_deref(), Some("oauth"));
        assert!(views[2].used_by.is_none());
        assert_eq!(views[1].email.as_deref(), Some("a@github.example"));
        assert_eq!(views[1].provider_id, "github-sub");
    }

    #[test]
    fn a_web3_sign_in_marks_the_web3_identity_and_oauth_never_does() {
        let all = [
            identity("1", "email", "a@example.com", "2026-01-01T00:00:00Z"),
            identity("2", "github", "a@github.example", "2026-01-02T00:00:00Z"),
            // Signed in with it last: still not an OAuth identity.
            identity("3", "web3", "", "2026-01-03T00:00:00Z"),
        ];
        let mut views: Vec<IdentityView> = all.iter().filter_map(read).collect();
        mark(&mut views, "oauth");
        assert_eq!(views[1].used_by.as_deref(), Some("oauth"));
        assert!(views[2].used_by.is_none(), "web3 is not OAuth");
        let mut views: Vec<IdentityView> = all.iter().filter_map(read).collect();
        mark(&mut views, "web3");
        assert_eq!(views[2].used_by.as_deref(), Some("web3"));
        assert!(views[0].used_by.is_none() && views[1].used_by.is_none());
    }

    #[test]
    fn second_factors_and_entries_without_an_identity_id_mark_nothing() {
        let all = [
            identity("1", "email", "a@example.com", "2026-01-01T00:00:00Z"),
            json!({"provider": "github"}),
        ];
        let mut views: Vec<IdentityView> = all.iter().filter_map(read).collect();
        assert_eq!(views.len(), 1);
        mark(&mut views, "totp");
        mark(&mut views, "anonymous");
        assert!(views[0].used_by.is_none());
    }
}
