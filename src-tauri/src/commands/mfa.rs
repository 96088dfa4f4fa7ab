//! Multi-factor authentication (TOTP): the user's factors, enrolling one (the window draws the
//! QR code from the `otpauth://` URI and shows the secret: the user asked to see them), stepping
//! the session up to `aal2` with a code, and removing a factor.

use secrecy::{ExposeSecret as _, SecretString};
use session_engine::client::mfa::Factor;
use tauri::State;

use super::logged;
use crate::error::Error;
use crate::inspector::Inspector;
use crate::views::{SessionView, TotpEnrollmentView};

#[tauri::command]
pub async fn mfa_factors(inspector: State<'_, Inspector>) -> Result<Vec<Factor>, Error> {
    let result = async { Ok(inspector.active().await?.client.mfa_list_factors().await?) };
    logged(&inspector.log, "mfaFactors", result.await)
}

#[tauri::command]
pub async fn mfa_enroll_totp(
    inspector: State<'_, Inspector>,
    friendly_name: Option<String>,
) -> Result<TotpEnrollmentView, Error> {
    let result = async {
        let name = friendly_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let active = inspector.active().await?;
        TotpEnrollmentView::of(&active.client.mfa_enroll_totp(name, None).await?)
    };
    logged(&inspector.log, "mfaEnroll", result.await)
}

/// Challenge and verify in one step (auth-js's `challengeAndVerify`): `MFA_CHALLENGE_VERIFIED`
/// and the `aal2` session follow in the live log.
#[tauri::command]
pub async fn mfa_verify(
    inspector: State<'_, Inspector>,
    factor_id: String,
    code: SecretString,
) -> Result<SessionView, Error> {
    let result = async {
        let code = code.expose_secret().trim().to_string();
        let active = inspector.active().await?;
        let session = active
            .client
            .mfa_challenge_and_verify(&factor_id, &code)
            .await?;
        Ok(SessionView::of(&session))
    };
    logged(&inspector.log, "mfaVerify", result.await)
}

#[tauri::command]
pub async fn mfa_unenroll(inspector: State<'_, Inspector>, factor_id: String) -> Result<(), Error> {
    let result = async {
        Ok(inspector
            .active()
            .await?
            .client
            .mfa_unenroll(&factor_id)
            .await?)
    };
    logged(&inspector.log, "mfaUnenroll", result.await)
}
