//! The app layer's error type and the one shape it takes on its way to the webview.
//!
//! The webview always receives `{kind, message}` (plus GoTrue's `code` and the HTTP `status`
//! when the server sent them): see [`ErrorView`], the only serialization. `kind` is a stable,
//! camelCase identifier the UI can branch on; `message` is for people. Internal failures are
//! reported without their details, which could carry paths or token fragments.

use serde::Serialize;
use session_engine::import::ImportError;
use session_engine::{AuthError, StorageError};
use ts_rs::TS;

use crate::export::ExportError;
use crate::playground::PlaygroundError;
use crate::reset::ResetError;
use crate::settings::SettingsError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request from the UI was not acceptable; the message says why.
    #[error("{0}")]
    InvalidInput(String),
    /// A paste that holds no session or token the app can read.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// From the session engine: GoTrue's answer, the network, the session store.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Removing a stored session from the keyring failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A project URL and key that did not answer as a Supabase Auth server.
    #[error("{url} did not answer as a Supabase Auth server with this key: {source}")]
    ProjectUnreachable { url: String, source: AuthError },
    /// Waiting for a browser sign-in that was never started (or already finished).
    #[error("No browser sign-in is waiting: start one with a provider's button.")]
    NoSignInWaiting,
    #[error("there is no profile {0:?}")]
    UnknownProfile(String),
    #[error("The built-in demo profile cannot be removed.")]
    BuiltInProfile,
    /// Removing a profile whose session is still being saved (a keyring waiting to be
    /// unlocked, say): it stays listed, with its keyring entries.
    #[error("The profile is still saving its session (is the keyring waiting to be unlocked?), so it was not removed. Try again in a moment.")]
    ProfileBusy,
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The built-in server could not start (its data folder, its database, its port).
    #[error("the built-in server did not start: {0}")]
    DemoServer(#[from] crate::demo::StartError),
    /// A built-in demo profile (saved by a build with the `demo` feature) chosen in a build
    /// without the server: the profile is kept, it just cannot open here.
    #[error("This build of Session Inspector has no built-in server: choose or add a project.")]
    NoBuiltInServer,
    /// Nothing to open: no project yet, and no built-in demo in this build.
    #[error("No profile yet: add your project with + Project.")]
    NoProfile,
    /// Removing the only project in a build without the built-in demo.
    #[error("This is the only project, and this build has no built-in demo to fall back on: add another project first.")]
    LastProject,
    #[error("cannot create {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    /// A blocking task (the keyring probe, a keyring removal) panicked or was cancelled.
    #[error("a background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A failure inside the shell itself (window, plugin, runtime, paths).
    #[error(transparent)]
    Tauri(#[from] tauri::Error),
    /// The system clipboard refused (no clipboard on this desktop, say).
    #[error("{0}")]
    Clipboard(String),
    /// The inspector is still starting, stopped, or its profile could not be opened.
    #[error("{0}")]
    NotReady(String),
    /// Reset all data did not run, or stopped part way (what was not removed, part by part).
    #[error(transparent)]
    Reset(#[from] ResetError),
    /// A playground scenario could not run (another is running, the server refused a change).
    /// Its engine failures and the missing server arrive as `Auth` and `NoBuiltInServer`.
    #[error(transparent)]
    Playground(PlaygroundError),
}

impl From<PlaygroundError> for Error {
    fn from(error: PlaygroundError) -> Self {
        match error {
            PlaygroundError::NoBuiltInServer => Error::NoBuiltInServer,
            PlaygroundError::Auth(error) => Error::Auth(error),
            other => Error::Playground(other),
        }
    }
}

/// What the window says when a save was refused because its profile had been closed.
const CLOSED: &str =
    "This profile was closed (removed or reset) while the request ran; nothing was saved.";

impl Error {
    /// A save or removal refused by a closed profile's store (`profile_store.rs`): its own
    /// kind, as it is no keyring failure.
    fn closed(&self) -> bool {
        matches!(
            self,
            Error::Storage(StorageError::Closed)
                | Error::Auth(AuthError::Storage(StorageError::Closed))
        )
    }

    pub fn kind(&self) -> &'static str {
        if self.closed() {
            return "profileClosed";
        }
        match self {
            Error::InvalidInput(_)
            | Error::Import(_)
            | Error::ProjectUnreachable { .. }
            | Error::UnknownProfile(_)
            | Error::BuiltInProfile
            | Error::LastProject => "invalidInput",
            Error::Auth(error) => error.kind(),
            Error::Storage(_) => "storage",
            Error::Export(error) => error.kind(),
            Error::NotReady(_) => "notReady",
            Error::NoBuiltInServer => "noBuiltInServer",
            Error::NoProfile => "noProfile",
            Error::NoSignInWaiting => "noSignInWaiting",
            Error::ProfileBusy => "profileBusy",
            Error::Clipboard(_) => "clipboard",
            Error::Reset(ResetError::InUse) => "resetInUse",
            Error::Reset(ResetError::Incomplete { .. }) => "resetIncomplete",
            Error::Reset(ResetError::SettingsUnreadable(_)) => "resetSettingsUnreadable",
            Error::Playground(PlaygroundError::Busy) => "playgroundBusy",
            Error::Playground(_) => "playground",
            Error::Settings(_)
            | Error::DemoServer(_)
            | Error::Folder { .. }
            | Error::Task(_)
            | Error::Tauri(_) => "internal",
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

    pub fn public_message(&self) -> String {
        if self.closed() {
            return CLOSED.to_string();
        }
        match self {
            Error::ProjectUnreachable { url, source } => format!(
                "{url} did not answer as a Supabase Auth server with this key: {}",
                Error::from(source.clone()).public_message()
            ),
            // Paths, OS errors and panics stay in the app's log file.
            Error::Settings(_)
            | Error::DemoServer(_)
            | Error::Folder { .. }
            | Error::Task(_)
            | Error::Tauri(_)
            | Error::Storage(_) => "Something went wrong inside the app.".to_string(),
            Error::Export(ExportError::Io(_)) => {
                "The export could not be written to the Downloads folder.".to_string()
            }
            // Written for people, and never carrying a token.
            other => other.to_string(),
        }
    }
}

/// How the webview receives an error, from a rejected command or inside a log row.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ErrorView {
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub status: Option<u16>,
}

impl From<&Error> for ErrorView {
    fn from(error: &Error) -> Self {
        ErrorView {
            kind: error.kind(),
            message: error.public_message(),
            code: error.code(),
            status: error.status(),
        }
    }
}

impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ErrorView::from(self).serialize(serializer)
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
        let error = Error::from(AuthError::Api {
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
    fn a_save_refused_by_a_closed_profile_is_its_own_kind_in_plain_words() {
        for error in [
            Error::from(AuthError::Storage(StorageError::Closed)),
            Error::from(StorageError::Closed),
        ] {
            let json = serde_json::to_value(&error).unwrap();
            assert_eq!(
                json,
                serde_json::json!({"kind": "profileClosed", "message": CLOSED}),
                "{error:?}"
            );
        }
        // Any other storage failure is still the keyring's.
        let other = Error::from(AuthError::Storage(StorageError::Backend("locked".into())));
        assert_eq!(other.kind(), "storage");
    }

    #[test]
    fn internal_failures_hide_their_details() {
        let inner = tauri::Error::AssetNotFound("/secret/path".into());
        let json = serde_json::to_value(Error::from(inner)).unwrap();
        assert_eq!(json["kind"], "internal");
        assert!(!json["message"].as_str().unwrap().contains("/secret/path"));
        let io = ExportError::Io(std::io::Error::other("/home/someone/Downloads: denied"));
        let json = serde_json::to_value(Error::from(io)).unwrap();
        assert_eq!(json["kind"], "io");
        assert!(
            !json["message"].as_str().unwrap().contains("/home"),
            "{json}"
        );
    }
}
