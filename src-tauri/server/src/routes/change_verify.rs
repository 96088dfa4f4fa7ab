//! Confirming a pending email or phone change, as GoTrue's `emailChangeVerify` and the
//! `phone_change` half of `smsVerify` do it: used by `/verify` (types `email_change` and
//! `phone_change`) and by `PUT /user` when the change confirms itself (an anonymous user
//! adding an email under `MAILER_AUTOCONFIRM`, any phone change under `SMS_AUTOCONFIRM`).

use rusqlite::Connection;
use serde_json::json;

use super::verify::confirm_email;
use crate::db::{self, User};
use crate::errors::ApiError;
use crate::identity::{self, Identity};
use crate::one_time_token as ott;
use crate::pending_changes::{self as pending, EmailChangeSide, ZERO_CONFIRMATION};
use crate::state::AppState;

/// GoTrue's answer to the first of two email-change confirmations.
pub const SINGLE_CONFIRMATION_ACCEPTED: &str =
    "Confirmation link accepted. Please proceed to confirm link sent to the other email";

/// What an email-change verification did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChangeOutcome {
    /// One of the two addresses is confirmed; the other link or code is still needed.
    FirstOfTwo,
    /// The new address is the user's email now.
    Applied,
}

/// GoTrue's `emailChangeVerify`. With secure email change on (and email autoconfirm off), a
/// user with a current address and nothing confirmed yet only records which side `hash`
/// confirmed; otherwise the change is applied.
pub fn verify_email_change(
    conn: &Connection,
    state: &AppState,
    user: &User,
    hash: &str,
) -> Result<EmailChangeOutcome, ApiError> {
    let changes = &user.pending;
    if !state.config.autoconfirm
        && state.config.secure_email_change
        && changes.email_change_confirm_status == ZERO_CONFIRMATION
        && !user.email.is_empty()
    {
        let is = |stored: &str| {
            !stored.is_empty() && (stored == hash || stored == format!("pkce_{hash}"))
        };
        let side = if is(&changes.email_change_token_current) {
            Some(EmailChangeSide::Current)
        } else if is(&changes.email_change_token_new) {
            Some(EmailChangeSide::New)
        } else {
            None
        };
        pending::confirm_email_change_side(conn, user.id, side)?;
        return Ok(EmailChangeOutcome::FirstOfTwo);
    }
    apply_email_change(conn, state, user)?;
    Ok(EmailChangeOutcome::Applied)
}

/// The change itself (GoTrue's `ConfirmEmailChange` with the identity and anonymity
/// updates): the new address becomes the email, confirmed if the email was not, every
/// one-time token is used up.
pub fn apply_email_change(
    conn: &Connection,
    state: &AppState,
    user: &User,
) -> Result<(), ApiError> {
    let now = state.now_micros();
    pending::gain_provider(conn, user, "email", now)?;
    pending::apply_email_change(conn, user.id, now)?;
    ott::clear_all(conn, user.id)?;
    let user = reloaded(conn, user.id)?;
    if user.email_confirmed_at.is_none() {
        confirm_email(conn, state, &user)?;
    }
    Ok(())
}

/// GoTrue's `smsVerify` for `phone_change`: the new number becomes the phone, confirmed now,
/// and the user's `phone` identity carries it.
pub fn apply_phone_change(
    conn: &Connection,
    state: &AppState,
    user: &User,
) -> Result<(), ApiError> {
    let now = state.now_micros();
    // The confirmed number gets a `phone` identity, or updates the one the user has.
    let phone = &user.pending.phone_change;
    let proof = json!({"phone": phone, "phone_verified": true});
    match identity::by_provider_id(conn, &user.id.to_string(), "phone")? {
        Some(existing) => identity::merge_data(conn, &existing, &proof, now)?,
        None => {
            let data = json!({
                "sub": user.id.to_string(),
                "phone": phone,
                "phone_verified": true,
                "email_verified": false,
            });
            identity::insert(conn, &Identity::new(user.id, "phone", data, now))?;
        }
    }
    pending::gain_provider(conn, user, "phone", now)?;
    pending::apply_phone_change(conn, user.id, now)?;
    ott::clear_all(conn, user.id)?;
    Ok(())
}

pub fn reloaded(conn: &Connection, id: uuid::Uuid) -> Result<User, ApiError> {
    db::user_by_id(conn, id)?.ok_or_else(|| ApiError::internal("user vanished"))
}
