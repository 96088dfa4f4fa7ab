//! Which ways of signing in a project has switched on, read from GoTrue's public
//! `GET /settings` (`external` holds one switch per provider, and GoTrue files email, phone and
//! anonymous sign-ins among them). The window offers exactly these.

use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

/// The `external` keys that are not OAuth providers.
const NOT_OAUTH: [&str; 3] = ["email", "phone", "anonymous_users"];

/// What `GET /settings` says a user of this project can sign in with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SignInMethods {
    /// Email sign-ins: password, one-time code and magic link.
    pub email: bool,
    /// Phone sign-ins: password and SMS code.
    pub phone: bool,
    pub anonymous: bool,
    /// OAuth providers switched on, by GoTrue's name (`github`, `google`, …), sorted.
    pub providers: Vec<String>,
    /// New users are refused (`/signup`, and OTP or OAuth for an unknown user).
    pub disable_signup: bool,
    /// Email addresses count as confirmed without a confirmation email.
    pub mailer_autoconfirm: bool,
    pub phone_autoconfirm: bool,
    /// SAML single sign-on is configured (the inspector does not drive it).
    pub saml: bool,
}

impl SignInMethods {
    /// Reads a `/settings` answer. A missing switch counts as off, so an older or trimmed
    /// answer offers less, never something the server refuses.
    pub fn from_settings(settings: &Value) -> SignInMethods {
        let flag =
            |value: &Value, name: &str| value.get(name).and_then(Value::as_bool) == Some(true);
        let external = settings.get("external").cloned().unwrap_or(Value::Null);
        let mut providers: Vec<String> = external
            .as_object()
            .map(|switches| {
                switches
                    .iter()
                    .filter(|(name, on)| {
                        !NOT_OAUTH.contains(&name.as_str()) && on.as_bool() == Some(true)
                    })
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        providers.sort();
        SignInMethods {
            email: flag(&external, "email"),
            phone: flag(&external, "phone"),
            anonymous: flag(&external, "anonymous_users"),
            providers,
            disable_signup: flag(settings, "disable_signup"),
            mailer_autoconfirm: flag(settings, "mailer_autoconfirm"),
            phone_autoconfirm: flag(settings, "phone_autoconfirm"),
            saml: flag(settings, "saml_enabled"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn providers_are_the_switched_on_external_entries_that_are_not_email_phone_or_anonymous() {
        let methods = SignInMethods::from_settings(&json!({
            "external": {"email": true, "phone": false, "anonymous_users": true,
                         "google": true, "apple": false, "github": true},
            "disable_signup": false, "mailer_autoconfirm": true, "phone_autoconfirm": false,
            "saml_enabled": false
        }));
        assert_eq!(methods.providers, ["github", "google"]);
        assert!(methods.email && !methods.phone && methods.anonymous);
        assert!(methods.mailer_autoconfirm && !methods.phone_autoconfirm);
        assert!(!methods.disable_signup && !methods.saml);
    }

    #[test]
    fn a_missing_or_odd_switch_counts_as_off() {
        let methods = SignInMethods::from_settings(&json!({
            "external": {"email": "yes", "github": 1}, "disable_signup": "true"
        }));
        assert!(!methods.email && methods.providers.is_empty() && !methods.disable_signup);
        assert_eq!(
            SignInMethods::from_settings(&json!([])).providers,
            Vec::<String>::new()
        );
    }
}
