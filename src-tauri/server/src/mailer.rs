//! Sending one-time codes and links, as GoTrue's `sendConfirmation`, `sendMagicLink`,
//! `sendPasswordRecovery` (`mail.go`) and `sendPhoneConfirmation` (`phone.go`) do: the resend
//! limit per user first, then a new code whose hash replaces the slot's token. The message
//! is returned to the caller, who delivers it to the inbox once its transaction has
//! committed (a refused or rolled-back request sends nothing).

use axum::http::StatusCode;
use rusqlite::Connection;
use uuid::Uuid;

use crate::clock::{from_micros, rfc3339};
use crate::db::User;
use crate::errors::ApiError;
use crate::inbox::{InboxKind, InboxMessage};
use crate::one_time_token::{self as ott, Slot, SlotState};
use crate::state::AppState;

/// Which limit a send falls under: GoTrue's `SMTP_MAX_FREQUENCY` or `SMS_MAX_FREQUENCY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Email,
    Sms,
}

/// GoTrue's `validateSentWithinFrequencyLimit` (email: refused while `sent_at + frequency` is
/// after now) and its SMS twin (refused until it is strictly before now), answered with
/// `generateFrequencyLimitErrorMessage`'s whole seconds left.
fn check_frequency(
    state: &AppState,
    previous: Option<&SlotState>,
    channel: Channel,
    now: i64,
) -> Result<(), ApiError> {
    let frequency = state.config.max_frequency.as_micros() as i64;
    let Some(previous) = previous.filter(|_| frequency > 0) else {
        return Ok(());
    };
    let allowed_from = previous.sent_at + frequency;
    let limited = match channel {
        Channel::Email => allowed_from > now,
        Channel::Sms => allowed_from >= now,
    };
    if !limited {
        return Ok(());
    }
    let code = match channel {
        Channel::Email => "over_email_send_rate_limit",
        Channel::Sms => "over_sms_send_rate_limit",
    };
    let left = (allowed_from - now) / 1_000_000;
    Err(ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        code,
        format!("For security purposes, you can only request this after {left} seconds."),
    ))
}

fn message(
    to: &str,
    kind: InboxKind,
    code: String,
    link: Option<String>,
    now: i64,
) -> InboxMessage {
    InboxMessage {
        id: Uuid::new_v4().to_string(),
        to: to.to_string(),
        kind,
        subject: kind.subject(&code),
        code,
        link,
        sent_at: rfc3339(from_micros(now)),
    }
}

/// A sign-up confirmation (`Signup`), a magic link (`Magiclink`) or a password reset
/// (`Recovery`) to the user's email. Sign-up confirmations use the confirmation slot, the
/// other two the recovery slot (GoTrue reuses the recovery timer for magic links).
pub fn send_email(
    conn: &Connection,
    state: &AppState,
    user: &User,
    kind: InboxKind,
    redirect_to: &str,
) -> Result<InboxMessage, ApiError> {
    email(conn, state, user, kind, redirect_to, true)
}

/// GoTrue's `sendInvite`: the invite mail, in the confirmation slot, with no resend limit
/// (GoTrue checks none for invites).
pub fn send_invite(
    conn: &Connection,
    state: &AppState,
    user: &User,
    redirect_to: &str,
) -> Result<InboxMessage, ApiError> {
    email(conn, state, user, InboxKind::Invite, redirect_to, false)
}

fn email(
    conn: &Connection,
    state: &AppState,
    user: &User,
    kind: InboxKind,
    redirect_to: &str,
    limited: bool,
) -> Result<InboxMessage, ApiError> {
    let slot = match kind {
        // GoTrue's invite mail uses the confirmation token too.
        InboxKind::Signup | InboxKind::Invite => Slot::Confirmation,
        InboxKind::Magiclink | InboxKind::Recovery => Slot::Recovery,
        _ => return Err(ApiError::internal("not a one-time-token email")),
    };
    let now = state.now_micros();
    if limited {
        check_frequency(
            state,
            ott::slot(conn, user.id, slot)?.as_ref(),
            Channel::Email,
            now,
        )?;
    }
    let code = ott::generate_otp();
    let token_hash = ott::token_hash(&user.email, &code);
    ott::put(conn, user.id, slot, &token_hash, &user.email, now)?;
    let link = action_link(state, &token_hash, kind.as_str(), redirect_to);
    Ok(message(&user.email, kind, code, Some(link), now))
}

/// GoTrue's email link: `<API_EXTERNAL_URL>/verify?token=<hash>&type=<type>&redirect_to=<url>`.
pub fn action_link(state: &AppState, token_hash: &str, kind: &str, redirect_to: &str) -> String {
    format!(
        "{}/verify?token={token_hash}&type={kind}&redirect_to={}",
        state.api_external_url,
        crate::redirect::encode_for_link(redirect_to)
    )
}

/// GoTrue's `sendEmailChange`: within the resend limit (read from `email_change_sent_at`), a
/// code and link to the new address and, with secure email change on and a current address,
/// another pair to the current one. The pending change is stored; the messages are returned.
pub fn send_email_change(
    conn: &Connection,
    state: &AppState,
    user: &User,
    new_email: &str,
    redirect_to: &str,
) -> Result<Vec<InboxMessage>, ApiError> {
    let now = state.now_micros();
    let previous = user.pending.email_change_sent_at.map(|sent_at| SlotState {
        token_hash: None,
        sent_at,
    });
    check_frequency(state, previous.as_ref(), Channel::Email, now)?;
    let kind = InboxKind::EmailChange;
    let code_new = ott::generate_otp();
    let hash_new = ott::token_hash(new_email, &code_new);
    let mut messages = vec![message(
        new_email,
        kind,
        code_new,
        Some(action_link(state, &hash_new, kind.as_str(), redirect_to)),
        now,
    )];
    let mut hash_current = String::new();
    if state.config.secure_email_change && !user.email.is_empty() {
        let code_current = ott::generate_otp();
        hash_current = ott::token_hash(&user.email, &code_current);
        messages.push(message(
            &user.email,
            kind,
            code_current,
            Some(action_link(
                state,
                &hash_current,
                kind.as_str(),
                redirect_to,
            )),
            now,
        ));
    }
    crate::pending_changes::start_email_change(
        conn,
        user.id,
        new_email,
        &hash_current,
        &hash_new,
        now,
    )?;
    Ok(messages)
}

/// `sendPhoneConfirmation` for `phone_change`: a code to the new number (digits), within the
/// resend limit read from `phone_change_sent_at`.
pub fn send_phone_change(
    conn: &Connection,
    state: &AppState,
    user: &User,
    new_phone: &str,
) -> Result<Texted, ApiError> {
    let now = state.now_micros();
    let previous = user.pending.phone_change_sent_at.map(|sent_at| SlotState {
        token_hash: None,
        sent_at,
    });
    check_frequency(state, previous.as_ref(), Channel::Sms, now)?;
    let (code, test) = texted_code(state, new_phone)?;
    let token_hash = ott::token_hash(new_phone, &code);
    crate::pending_changes::start_phone_change(conn, user.id, new_phone, &token_hash, now)?;
    Ok(texted(
        test,
        message(new_phone, InboxKind::PhoneChange, code, None, now),
    ))
}

/// GoTrue's `sendReauthenticationOtp` (to the email) or `sendPhoneConfirmation` for
/// reauthentication (to the phone, when the user has no email): a nonce, within the resend
/// limit read from `reauthentication_sent_at`.
pub fn send_reauthentication(
    conn: &Connection,
    state: &AppState,
    user: &User,
) -> Result<Texted, ApiError> {
    let now = state.now_micros();
    let (address, channel) = if user.email.is_empty() {
        (user.phone.as_str(), Channel::Sms)
    } else {
        (user.email.as_str(), Channel::Email)
    };
    let previous = user
        .pending
        .reauthentication_sent_at
        .map(|sent_at| SlotState {
            token_hash: None,
            sent_at,
        });
    check_frequency(state, previous.as_ref(), channel, now)?;
    let (code, test) = match channel {
        Channel::Sms => texted_code(state, address)?,
        Channel::Email => (ott::generate_otp(), false),
    };
    let token_hash = ott::token_hash(address, &code);
    crate::pending_changes::set_reauthentication(conn, user.id, &token_hash, now)?;
    Ok(texted(
        test,
        message(address, InboxKind::Reauthentication, code, None, now),
    ))
}

/// A text message as GoTrue's `sendPhoneConfirmation` ends: delivered (to the inbox here), or,
/// for a number with a configured test OTP, never sent at all.
#[derive(Debug)]
pub enum Texted {
    Sent(InboxMessage),
    /// A test number: the code is the configured one and goes nowhere.
    TestNumber,
}

impl Texted {
    /// The message id GoTrue answers: `test-otp` for a test number. A real send has none:
    /// GoTrue's `sendPhoneConfirmation` assigns the provider's id to a shadowed variable, so
    /// it answers none either.
    pub fn message_id(&self) -> Option<&'static str> {
        match self {
            Texted::TestNumber => Some("test-otp"),
            Texted::Sent(_) => None,
        }
    }

    /// What goes to the inbox.
    pub fn into_message(self) -> Option<InboxMessage> {
        match self {
            Texted::Sent(message) => Some(message),
            Texted::TestNumber => None,
        }
    }

    /// GoTrue's answer to an SMS send (`/otp`, `/resend`, `/reauthenticate`): `message_id`
    /// when there is one, else `{}`.
    pub fn answer(&self) -> serde_json::Value {
        match self.message_id() {
            Some(id) => serde_json::json!({ "message_id": id }),
            None => serde_json::json!({}),
        }
    }
}

/// The configured test OTP of `phone` (GoTrue's `SMS_TEST_OTP`), if any.
pub fn test_otp<'a>(state: &'a AppState, phone: &str) -> Option<&'a str> {
    state
        .config
        .sms_test_otp
        .iter()
        .find(|(p, _)| p == phone)
        .map(|(_, code)| code.as_str())
}

/// The code for a text message to `phone`, as `sendPhoneConfirmation` makes it: a configured
/// test OTP as it is (never sent), else a new code when an SMS provider is configured, else
/// GoTrue's answer for a missing provider. The flag says whether it is a test OTP.
fn texted_code(state: &AppState, phone: &str) -> Result<(String, bool), ApiError> {
    if let Some(code) = test_otp(state, phone) {
        return Ok((code.to_string(), true));
    }
    if !state.config.sms_provider {
        return Err(ApiError::internal("Unable to get SMS provider"));
    }
    Ok((ott::generate_otp(), false))
}

/// The inbox message of a text, unless it went to a test number.
fn texted(test: bool, message: InboxMessage) -> Texted {
    if test {
        Texted::TestNumber
    } else {
        Texted::Sent(message)
    }
}

/// A code by text message to `phone` (digits, as validated), in the confirmation slot.
pub fn send_sms(
    conn: &Connection,
    state: &AppState,
    user: &User,
    phone: &str,
) -> Result<Texted, ApiError> {
    let now = state.now_micros();
    let slot = Slot::Confirmation;
    check_frequency(
        state,
        ott::slot(conn, user.id, slot)?.as_ref(),
        Channel::Sms,
        now,
    )?;
    let (code, test) = texted_code(state, phone)?;
    let token_hash = ott::token_hash(phone, &code);
    ott::put(conn, user.id, slot, &token_hash, phone, now)?;
    Ok(texted(
        test,
        message(phone, InboxKind::Sms, code, None, now),
    ))
}
