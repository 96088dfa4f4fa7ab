//! What crosses to the webview about a session: decoded claims, times, fingerprints. Never a
//! token: revealing or copying one is its own explicit command (`session_reveal`).

use secrecy::ExposeSecret as _;
use serde::Serialize;
use serde_json::{Map, Value};
use session_engine::client::mfa::TotpEnrollment;
use session_engine::official_clients::{self, ClientForecast};
use session_engine::tokens::{decode_jwt, fingerprint, inspect_refresh_token, RefreshTokenShape};
use session_engine::{
    AuthEvent, AuthEventKind, EmailChangeConfirmation, RefreshRejection, Refreshed, Session, User,
};
use ts_rs::TS;

use crate::qr::QrMatrix;

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub phone: String,
    pub role: String,
    pub is_anonymous: bool,
    /// An email change waiting for its confirmation (GoTrue's `new_email`).
    pub new_email: Option<String>,
    /// When GoTrue sent that change's confirmation mail (RFC 3339).
    pub email_change_sent_at: Option<String>,
}

impl UserView {
    pub fn of(user: &User) -> UserView {
        UserView {
            id: user.id.clone(),
            email: user.email.clone(),
            phone: user.phone.clone(),
            role: user.role.clone(),
            is_anonymous: user.is_anonymous,
            // GoTrue sends `""` for no pending change on some paths; either way it is none.
            new_email: user.new_email.clone().filter(|e| !e.is_empty()),
            email_change_sent_at: user
                .new_email
                .as_deref()
                .filter(|e| !e.is_empty())
                .and(user.email_change_sent_at.clone()),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub user: UserView,
    pub session_id: Option<String>,
    pub expires_at: i64,
    pub issued_at: Option<i64>,
    pub token_type: String,
    #[ts(type = "Record<string, unknown>")]
    pub header: Map<String, Value>,
    #[ts(type = "Record<string, unknown>")]
    pub claims: Map<String, Value>,
    pub access_token_fingerprint: String,
    pub refresh_token_fingerprint: String,
    pub refresh_token_shape: RefreshTokenShape,
    /// What each official client would do with this session (refresh times, retries, what
    /// a rejected refresh token does to it).
    pub clients: Vec<ClientForecast>,
}

impl SessionView {
    pub fn of(session: &Session) -> SessionView {
        let decoded = decode_jwt(&session.access_token).ok();
        SessionView {
            user: UserView::of(&session.user),
            session_id: decoded
                .as_ref()
                .and_then(|d| d.session_id().map(str::to_string)),
            expires_at: session.expires_at,
            issued_at: decoded.as_ref().and_then(|d| d.issued_at()),
            token_type: session.token_type.clone(),
            header: decoded
                .as_ref()
                .map(|d| d.header.clone())
                .unwrap_or_default(),
            claims: decoded.map(|d| d.claims).unwrap_or_default(),
            access_token_fingerprint: fingerprint(&session.access_token),
            refresh_token_fingerprint: fingerprint(&session.refresh_token),
            refresh_token_shape: inspect_refresh_token(&session.refresh_token),
            clients: official_clients::forecasts(session.expires_at),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    pub kind: AuthEventKind,
    pub previous: Option<AuthEventKind>,
    pub at: String,
    pub reason: Option<String>,
    pub exchange_id: Option<u64>,
    /// What set it off, in the window's words (`Cause::label`: "Refresh now", "Auto-refresh",
    /// "Paste", "get_session", "MFA step-up", …), when the engine knows.
    pub cause_label: Option<String>,
    pub session: Option<SessionView>,
    /// On `REFRESH_REJECTED`: why, and until when the kept access token works.
    pub rejection: Option<RejectionView>,
}

/// A refresh token the server refused for good while its access token still works: the
/// session is kept (as supabase-js keeps it) and marked until it ends or rotates.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RejectionView {
    pub code: String,
    pub status: u16,
    pub message: String,
    /// When the access token stops working (unix seconds); then a supabase-js app signs out.
    pub access_token_expires_at: i64,
    pub refresh_token_fingerprint: String,
    /// The whole of it in one line, as the log says it.
    pub text: String,
}

impl RejectionView {
    pub fn of(rejection: &RefreshRejection) -> RejectionView {
        RejectionView {
            code: rejection.code.clone(),
            status: rejection.status,
            message: rejection.message.clone(),
            access_token_expires_at: rejection.access_token_expires_at,
            refresh_token_fingerprint: rejection.refresh_token_fingerprint.clone(),
            text: rejection.describe(),
        }
    }
}

impl EventView {
    pub fn of(event: &AuthEvent) -> EventView {
        EventView {
            kind: event.kind,
            previous: event.previous,
            at: event
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            reason: event.reason.clone(),
            exchange_id: event.exchange_id,
            cause_label: event.cause.map(|cause| cause.label().to_string()),
            session: event.session.as_ref().map(SessionView::of),
            rejection: event.rejection.as_ref().map(RejectionView::of),
        }
    }
}

/// The answer to Refresh now and to a paste's rotation.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RefreshView {
    pub session: SessionView,
    /// This call shared a refresh already in flight instead of sending its own request.
    pub joined: bool,
}

impl RefreshView {
    pub fn of(refreshed: &Refreshed) -> RefreshView {
        RefreshView {
            session: SessionView::of(&refreshed.response.session),
            joined: refreshed.joined,
        }
    }
}

/// A TOTP factor just enrolled, for the window to show once: its secret and `otpauth://` URI
/// (and the URI as a QR code). Enrolling is the user asking to see them. Debug leaves both
/// out, so no log line can carry them.
/// What confirming an email change came to.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum EmailChangeView {
    /// One address confirmed; GoTrue's message asks for the other (secure email change).
    #[serde(rename_all = "camelCase")]
    FirstOfTwo { message: String },
    /// Applied (both addresses confirmed, or one when secure email change is off or the
    /// project confirms emails itself): the session now carries the new email.
    Applied { session: Box<SessionView> },
}

impl EmailChangeView {
    pub fn of(confirmation: EmailChangeConfirmation) -> EmailChangeView {
        match confirmation {
            EmailChangeConfirmation::FirstOfTwo { message } => {
                EmailChangeView::FirstOfTwo { message }
            }
            EmailChangeConfirmation::Applied(response) => EmailChangeView::Applied {
                session: Box::new(SessionView::of(&response.session)),
            },
        }
    }
}

#[derive(Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TotpEnrollmentView {
    pub factor_id: String,
    pub friendly_name: Option<String>,
    pub secret: String,
    pub uri: String,
    /// The URI as a QR code, for an authenticator app's camera.
    pub qr: QrMatrix,
}

impl std::fmt::Debug for TotpEnrollmentView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrollmentView")
            .field("factor_id", &self.factor_id)
            .field("friendly_name", &self.friendly_name)
            .finish_non_exhaustive()
    }
}

impl TotpEnrollmentView {
    pub fn of(enrollment: &TotpEnrollment) -> Result<TotpEnrollmentView, crate::error::Error> {
        let uri = enrollment.uri.expose_secret();
        Ok(TotpEnrollmentView {
            factor_id: enrollment.factor_id.clone(),
            friendly_name: enrollment.friendly_name.clone(),
            secret: enrollment.secret.expose_secret().to_string(),
            uri: uri.to_string(),
            qr: crate::qr::encode(uri)?,
        })
    }
}
