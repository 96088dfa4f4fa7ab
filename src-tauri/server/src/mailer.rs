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
        InboxKind::Sms => return Err(ApiError::internal("a text message is not an email")),
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

/// A code by text message to `phone` (digits, as validated), in the confirmation slot.
pub fn send_sms(
    conn: &Connection,
    state: &AppState,
    user: &User,
    phone: &str,
) -> Result<InboxMessage, ApiError> {
    let now = state.now_micros();
    let slot = Slot::Confirmation;
    check_frequency(
        state,
        ott::slot(conn, user.id, slot)?.as_ref(),
        Channel::Sms,
        now,
    )?;
    let code = ott::generate_otp();
    let token_hash = ott::token_hash(phone, &code);
    ott::put(conn, user.id, slot, &token_hash, phone, now)?;
    Ok(message(phone, InboxKind::Sms, code, None, now))
}
