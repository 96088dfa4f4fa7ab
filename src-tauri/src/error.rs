//! The app layer's error type and the shape it takes on its way to the webview.
//!
//! The webview always receives `{"kind": "...", "message": "..."}`. `kind` is a stable,
//! camelCase identifier the UI can branch on; `message` is for people. Internal failures are
//! reported without their details, which could carry paths or token fragments.

use serde::ser::{Serialize, SerializeStruct, Serializer};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request from the UI was not acceptable; the message says why.
    #[error("{0}")]
    InvalidInput(String),
    /// A failure inside the shell itself (window, plugin, runtime).
    #[error(transparent)]
    Tauri(#[from] tauri::Error),
    /// From the session engine: GoTrue's answer, the network, the keyring.
    #[error(transparent)]
    Auth(#[from] session_engine::AuthError),
    #[error("settings: {0}")]
    Settings(String),
    #[error("{0}")]
    NotReady(String),
}

impl Error {
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidInput(_) => "invalidInput",
            Error::Tauri(_) | Error::Settings(_) => "internal",
            Error::Auth(error) => error.kind(),
            Error::NotReady(_) => "notReady",
        }
    }

    /// GoTrue's error code, when the server sent one.
    pub fn code(&self) -> Option<String> {
        match self {
            Error::Auth(error) => error.code().map(str::to_string),
            _ => None,
        }
    }

    /// The HTTP status of the server's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Auth(error) => error.status().filter(|status| *status != 0),
            _ => None,
        }
    }

    pub(crate) fn public_message(&self) -> String {
        match self {
            Error::InvalidInput(message) | Error::NotReady(message) => message.clone(),
            // The engine's messages are written for people and never carry a token.
            Error::Auth(error) => error.to_string(),
            Error::Tauri(_) | Error::Settings(_) => {
                "Something went wrong inside the app.".to_string()
            }
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (code, status) = (self.code(), self.status());
        let fields = 2 + usize::from(code.is_some()) + usize::from(status.is_some());
        let mut state = serializer.serialize_struct("Error", fields)?;
        state.serialize_field("kind", self.kind())?;
        state.serialize_field("message", &self.public_message())?;
        if let Some(code) = code {
            state.serialize_field("code", &code)?;
        }
        if let Some(status) = status {
            state.serialize_field("status", &status)?;
        }
        state.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_input_crosses_as_kind_and_message() {
        let json = serde_json::to_value(Error::InvalidInput("URL must use https".into())).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "invalidInput", "message": "URL must use https"})
        );
    }

    #[test]
    fn server_errors_carry_gotrue_code_and_status() {
        let error = Error::from(session_engine::AuthError::Api {
            status: 400,
            code: Some("refresh_token_already_used".into()),
            message: "Invalid Refresh Token: Already Used".into(),
        });
        let json = serde_json::to_value(error).unwrap();
        assert_eq!(json["kind"], "api");
        assert_eq!(json["code"], "refresh_token_already_used");
        assert_eq!(json["status"], 400);
    }

    #[test]
    fn internal_failures_hide_their_details() {
        let inner = tauri::Error::AssetNotFound("/secret/path".into());
        let json = serde_json::to_value(Error::from(inner)).unwrap();
        assert_eq!(json["kind"], "internal");
        assert!(!json["message"].as_str().unwrap().contains("/secret/path"));
    }
}
