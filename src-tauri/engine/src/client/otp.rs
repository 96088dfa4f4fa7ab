//! Signing in with a one-time code or an emailed link, as auth-js's `signInWithOtp` and
//! `verifyOtp` do: `POST /otp` sends a code (and, by email, a link) to an address;
//! `POST /verify` exchanges the code, or a link's token hash, for a session (`SIGNED_IN`,
//! or `PASSWORD_RECOVERY` for a recovery code). A link pasted from an email is only read for
//! its token hash: opening it would use it up in a browser's place.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

use super::AuthClient;
use crate::error::AuthError;
use crate::events::AuthEventKind;
use crate::http::Call;
use crate::session::{session_from_token_response, AuthResponse};

/// Where a code goes: an email address, or a phone number in GoTrue's form (the digits of the
/// E.164 number, without `+`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpRecipient {
    Email(String),
    Phone(String),
}

/// GoTrue's E.164 rule (`validatePhone`): a non-zero first digit, at most 15 digits. GoTrue
/// also accepts two digits; nobody has such a number, and neither check is stricter than it.
const E164_DIGITS: std::ops::RangeInclusive<usize> = 2..=15;

impl OtpRecipient {
    /// An address as a person typed it, trimmed: anything with `@` is an email address;
    /// digits with an optional leading `+`, spaces and dashes are a phone number (normalised
    /// to GoTrue's digits-only form); anything else is refused.
    pub fn parse(input: &str) -> Result<OtpRecipient, AuthError> {
        let input = input.trim();
        if input.contains('@') {
            let well_formed = input.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !input.contains(char::is_whitespace)
            });
            if !well_formed {
                return Err(AuthError::InvalidInput(format!(
                    "{input:?} is not an email address (name@example.com)."
                )));
            }
            return Ok(OtpRecipient::Email(input.to_string()));
        }
        let phone_like = !input.is_empty()
            && input
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-'));
        if !phone_like {
            return Err(AuthError::InvalidInput(
                "Enter an email address, or a phone number in international format (+ country code and number)."
                    .into(),
            ));
        }
        let compact: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = compact.strip_prefix('+').unwrap_or(&compact);
        let e164 = E164_DIGITS.contains(&digits.len())
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit());
        if !e164 {
            return Err(AuthError::InvalidInput(format!(
                "{input:?} is not a phone number in international format: + country code and \
                 number, at most 15 digits, not starting with 0 (E.164)."
            )));
        }
        Ok(OtpRecipient::Phone(digits.to_string()))
    }

    /// The address as sent to GoTrue.
    pub fn address(&self) -> &str {
        match self {
            OtpRecipient::Email(address) | OtpRecipient::Phone(address) => address,
        }
    }

    /// GoTrue's body key for it.
    fn key(&self) -> &'static str {
        match self {
            OtpRecipient::Email(_) => "email",
            OtpRecipient::Phone(_) => "phone",
        }
    }
}

/// What a code or link verifies, as GoTrue's `type` names it.
#[derive(Serialize, Deserialize, ts_rs::TS, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum OtpKind {
    /// An emailed code, whichever message it came in (GoTrue finds the sign-up confirmation
    /// or the magic link): what auth-js recommends for email.
    Email,
    /// A code by text message.
    Sms,
    /// A magic link (or its code).
    Magiclink,
    /// A sign-up confirmation (or its code).
    Signup,
    /// A password-reset email (or its code); verifying it is `PASSWORD_RECOVERY`.
    Recovery,
}

impl OtpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OtpKind::Email => "email",
            OtpKind::Sms => "sms",
            OtpKind::Magiclink => "magiclink",
            OtpKind::Signup => "signup",
            OtpKind::Recovery => "recovery",
        }
    }

    /// A link's `type` (GoTrue's email links say `signup`, `magiclink`, `recovery`, `invite`
    /// or `email_change`; `email` is accepted too).
    fn of_link(kind: &str) -> Result<OtpKind, AuthError> {
        match kind {
            "signup" => Ok(OtpKind::Signup),
            "magiclink" => Ok(OtpKind::Magiclink),
            "recovery" => Ok(OtpKind::Recovery),
            "email" => Ok(OtpKind::Email),
            "invite" | "email_change" => Err(AuthError::InvalidInput(format!(
                "This is an {} link; the inspector verifies sign-in, sign-up confirmation and \
                 password-reset links only.",
                kind.replace('_', "-")
            ))),
            other => Err(AuthError::InvalidInput(format!(
                "The link's type {other:?} is not one GoTrue puts in email links."
            ))),
        }
    }

    /// The event a successful verification sends, as auth-js chooses it.
    fn event(self) -> AuthEventKind {
        match self {
            OtpKind::Recovery => AuthEventKind::PasswordRecovery,
            _ => AuthEventKind::SignedIn,
        }
    }
}

/// What `POST /otp` answered: GoTrue's `message_id` for a text message when it sends one.
#[derive(Serialize, ts_rs::TS, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OtpSent {
    pub message_id: Option<String>,
}

/// The path of GoTrue's verification route, with or without the gateway prefix.
const VERIFY_PATHS: [&str; 2] = ["/verify", "/auth/v1/verify"];

impl AuthClient {
    /// `POST /otp`: a code (and for email a magic link, or a sign-up confirmation for a new
    /// address) goes to `to`. With `create_user` false an unknown address is refused
    /// (`otp_disabled`) instead of signed up. Nothing changes here: the session comes with
    /// `verify_otp`. A resend too soon is GoTrue's 429 (`over_email_send_rate_limit`,
    /// `over_sms_send_rate_limit`) with the seconds left in its message.
    pub async fn sign_in_with_otp(
        &self,
        to: &OtpRecipient,
        create_user: bool,
    ) -> Result<OtpSent, AuthError> {
        let _ = self.initialize().await;
        let mut body = json!({
            to.key(): to.address(),
            "create_user": create_user,
            "data": {},
        });
        if matches!(to, OtpRecipient::Phone(_)) {
            body["channel"] = json!("sms");
        }
        let answer = self
            .inner
            .http
            .send(Call {
                method: Method::POST,
                path: "/otp",
                query: &[],
                body: Some(&body),
                bearer: None,
            })
            .await?;
        // GoTrue answers `{}` (or `{"message_id"}` for a text); nothing else is read.
        let message_id = serde_json::from_slice::<Value>(&answer.body)
            .ok()
            .and_then(|v| v.get("message_id")?.as_str().map(str::to_string))
            .filter(|id| !id.is_empty());
        tracing::info!(kind = to.key(), "one-time code requested");
        Ok(OtpSent { message_id })
    }

    /// `POST /verify` with the code sent to `to`: the new session is saved, becomes current and
    /// is announced (`SIGNED_IN`; `PASSWORD_RECOVERY` for `Recovery`), as auth-js's
    /// `verifyOtp` does. A wrong or expired code is GoTrue's 403 `otp_expired`, and the current
    /// session stays as it was.
    pub async fn verify_otp(
        &self,
        to: &OtpRecipient,
        code: &str,
        kind: OtpKind,
    ) -> Result<AuthResponse, AuthError> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.is_empty() {
            return Err(AuthError::InvalidInput(
                "Enter the code from the message.".into(),
            ));
        }
        let fits = match to {
            OtpRecipient::Phone(_) => kind == OtpKind::Sms,
            OtpRecipient::Email(_) => kind != OtpKind::Sms,
        };
        if !fits {
            return Err(AuthError::InvalidInput(match to {
                OtpRecipient::Phone(_) => {
                    "A code sent to a phone number is verified as an SMS code.".into()
                }
                OtpRecipient::Email(_) => {
                    "An SMS code goes with a phone number, not an email address.".into()
                }
            }));
        }
        let body = json!({
            to.key(): to.address(),
            "token": code,
            "type": kind.as_str(),
        });
        self.verify(&body, kind).await
    }

    /// `POST /verify` with the token hash of an emailed link (see `parse_email_link`): the
    /// same session and events as `verify_otp`. A used or expired link is GoTrue's 403
    /// `otp_expired` ("Email link is invalid or has expired").
    pub async fn verify_token_hash(
        &self,
        token_hash: &str,
        kind: OtpKind,
    ) -> Result<AuthResponse, AuthError> {
        let token_hash = token_hash.trim();
        if token_hash.is_empty() {
            return Err(AuthError::InvalidInput("The link's token is empty.".into()));
        }
        if kind == OtpKind::Sms {
            return Err(AuthError::InvalidInput(
                "Text messages carry a code, not a link: verify it with the phone number.".into(),
            ));
        }
        let body = json!({"token_hash": token_hash, "type": kind.as_str()});
        self.verify(&body, kind).await
    }

    async fn verify(&self, body: &Value, kind: OtpKind) -> Result<AuthResponse, AuthError> {
        let _ = self.initialize().await;
        let answer = self
            .inner
            .http
            .send(Call {
                method: Method::POST,
                path: "/verify",
                query: &[],
                body: Some(body),
                bearer: None,
            })
            .await?;
        let session = session_from_token_response(&answer.body, self.now_secs())?;
        tracing::info!(kind = kind.as_str(), "one-time code verified");
        self.adopt(
            session.clone(),
            kind.event(),
            Some(answer.exchange_id),
            crate::events::Cause::SignIn,
        )
        .await?;
        Ok(AuthResponse {
            user: session.user.clone(),
            session,
        })
    }

    /// Reads a link pasted from a GoTrue email (`…/verify?token=<hash>&type=…`, with or
    /// without `/auth/v1`, http or https, as copied from a mail client, Mailpit or an HTML
    /// source: surrounding `<…>`, quotes, text or `&amp;` are tolerated) into what
    /// `verify_token_hash` needs. The link is never requested.
    pub fn parse_email_link(link: &str) -> Result<(String, OtpKind), AuthError> {
        read_email_link(link).map(|(_, token_hash, kind)| (token_hash, kind))
    }

    /// A link pasted from an email, verified by its token hash (`verify_token_hash`) once it is
    /// known to be this project's: a link that points at another server would hand that
    /// project's live token to this one, so it is refused, naming both.
    pub async fn verify_email_link(&self, link: &str) -> Result<AuthResponse, AuthError> {
        let (url, token_hash, kind) = read_email_link(link)?;
        self.check_link_is_ours(&url)?;
        self.verify_token_hash(&token_hash, kind).await
    }

    /// Refuses a link to another server than this project's (see `verify_email_link`).
    pub(super) fn check_link_is_ours(&self, url: &Url) -> Result<(), AuthError> {
        let project = Url::parse(&self.config().project_url)
            .map(|project| project.origin())
            .map_err(|_| AuthError::InvalidInput("The project URL is not a URL.".into()))?;
        if url.origin() != project {
            return Err(AuthError::LinkForAnotherProject {
                link: url.origin().ascii_serialization(),
                project: project.ascii_serialization(),
            });
        }
        Ok(())
    }
}

/// What `parse_email_link` reads, with the link itself.
fn read_email_link(link: &str) -> Result<(Url, String, OtpKind), AuthError> {
    let (url, token, kind) = read_verify_link(link)?;
    Ok((url, token, OtpKind::of_link(&kind)?))
}

/// A pasted GoTrue `/verify` link: its URL, token hash and `type` as written.
pub(super) fn read_verify_link(link: &str) -> Result<(Url, String, String), AuthError> {
    {
        let not_a_link = || {
            AuthError::InvalidInput(
                "Paste the whole link from the email: it starts with https:// (or http://) and \
                 contains /verify?token=…&type=…"
                    .into(),
            )
        };
        let lower = link.to_ascii_lowercase();
        let start = ["https://", "http://"]
            .iter()
            .filter_map(|scheme| lower.find(scheme))
            .min()
            .ok_or_else(not_a_link)?;
        let candidate: String = link[start..]
            .chars()
            .take_while(|c| {
                !c.is_whitespace() && !matches!(c, '"' | '\'' | '<' | '>' | '`' | ')' | ']')
            })
            .collect();
        let candidate = candidate.replace("&amp;", "&");
        let url = Url::parse(&candidate).map_err(|_| not_a_link())?;
        let path = url.path().trim_end_matches('/');
        if !VERIFY_PATHS.contains(&path) {
            return Err(AuthError::InvalidInput(format!(
                "This link goes to {path:?}, not to GoTrue's /verify: paste the link from the \
                 email itself, not the page it led to."
            )));
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
                .filter(|value| !value.is_empty())
        };
        let token = param("token").ok_or_else(|| {
            AuthError::InvalidInput("The link has no token: was it copied whole?".into())
        })?;
        if !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(AuthError::InvalidInput(
                "The link's token is damaged (unexpected characters): copy the link again.".into(),
            ));
        }
        let kind = param("type").ok_or_else(|| {
            AuthError::InvalidInput("The link has no type: was it copied whole?".into())
        })?;
        Ok((url, token, kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "2b0c5b2a0d9fa7c2d0bd3b8c5f0c6c1c4b7a1a8e9d2f3b4c5d6e7f80";

    #[test]
    fn recipients_are_emails_or_e164_phones() {
        assert_eq!(
            OtpRecipient::parse("  Ann@Example.com ").unwrap(),
            OtpRecipient::Email("Ann@Example.com".into())
        );
        assert_eq!(
            OtpRecipient::parse("+1 555-010-0199").unwrap(),
            OtpRecipient::Phone("15550100199".into())
        );
        assert_eq!(
            OtpRecipient::parse("4915112345678").unwrap().address(),
            "4915112345678"
        );
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "a b@example.com",
            "+0 555 0100",
            "1+555",
            "+1 (555) 0100",
            "1234567890123456",
        ] {
            assert!(
                matches!(OtpRecipient::parse(bad), Err(AuthError::InvalidInput(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn kinds_are_gotrue_types_and_camel_case_for_the_window() {
        assert_eq!(OtpKind::Magiclink.as_str(), "magiclink");
        assert_eq!(serde_json::to_value(OtpKind::Sms).unwrap(), "sms");
        let kind: OtpKind = serde_json::from_value(json!("recovery")).unwrap();
        assert_eq!(kind.event(), AuthEventKind::PasswordRecovery);
        assert_eq!(OtpKind::Email.event(), AuthEventKind::SignedIn);
        assert_eq!(
            serde_json::to_value(OtpSent { message_id: None }).unwrap(),
            json!({"messageId": null})
        );
    }

    #[test]
    fn gotrue_links_are_read_however_they_were_copied() {
        let plain = format!(
            "http://127.0.0.1:54321/auth/v1/verify?token={HASH}&type=magiclink&redirect_to=http://127.0.0.1:3000"
        );
        for pasted in [
            plain.clone(),
            format!("  {plain}\n"),
            format!("<{plain}>"),
            format!("\"{plain}\""),
            format!("'{plain}'"),
            format!("Sign in: {plain} (expires soon)"),
            format!("[Sign in]({plain})"),
            plain.replace('&', "&amp;"),
            plain.replace("/auth/v1", ""),
            plain.replace("http://127.0.0.1:54321", "https://abc.supabase.co"),
            format!("HTTPS://abc.supabase.co/auth/v1/verify/?token={HASH}&type=magiclink"),
        ] {
            assert_eq!(
                AuthClient::parse_email_link(&pasted).unwrap(),
                (HASH.to_string(), OtpKind::Magiclink),
                "{pasted}"
            );
        }
        let signup = format!("https://x.supabase.co/auth/v1/verify?type=signup&token=pkce_{HASH}");
        assert_eq!(
            AuthClient::parse_email_link(&signup).unwrap(),
            (format!("pkce_{HASH}"), OtpKind::Signup)
        );
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        let refused = |link: &str| match AuthClient::parse_email_link(link) {
            Err(AuthError::InvalidInput(why)) => why,
            other => panic!("{link}: {other:?}"),
        };
        assert!(refused("").contains("Paste the whole link"));
        assert!(refused("123456").contains("Paste the whole link"));
        assert!(refused("ftp://x/verify?token=a&type=signup").contains("Paste the whole link"));
        assert!(
            refused("http://127.0.0.1:3000/#access_token=x&type=magiclink")
                .contains("not to GoTrue's /verify")
        );
        assert!(refused("https://x.co/auth/v1/verify?type=signup").contains("no token"));
        assert!(refused(&format!("https://x.co/verify?token={HASH}")).contains("no type"));
        assert!(
            refused(&format!("https://x.co/verify?token={HASH}&type=invite"))
                .contains("invite link")
        );
        assert!(refused(&format!("https://x.co/verify?token={HASH}&type=sms")).contains("\"sms\""));
        assert!(refused("https://x.co/verify?token=a%20b&type=signup").contains("damaged"));
    }
}
