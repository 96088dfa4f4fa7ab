//! The command line's errors, the kind each one is, and the exit code of each kind. A script
//! branches on the exit code (or on `kind` in the `--json` form); a person reads the one-line
//! message. Messages never hold a token: the engine's errors are redacted where they are made,
//! and an import error never repeats its input.

use serde::Serialize;
use session_engine::import::ImportError;
use session_engine::{AuthError, StorageError};
use session_profiles::SettingsFileError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Arguments that parse but do not go together (clap reports the rest itself).
    #[error("{0}")]
    Usage(String),
    /// What was read is none of the forms a paste can take.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// What was read is readable but not what the command needs (no refresh token, say).
    #[error("{0}")]
    Input(String),
    #[error("no such file (its name is not repeated, in case it was a token): a token, session or cookie is read from stdin or from a file, never from an argument")]
    NoSuchFile,
    #[error("cannot read {path}: {source}")]
    InputFile {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Settings(#[from] SettingsFileError),
    #[error(
        "this system names no data folder (is HOME set?): give the app's folder with --data-dir"
    )]
    NoDataFolder,
    #[error("there is no profile {0:?} (list them with: session-inspector-cli profiles)")]
    UnknownProfile(String),
    #[error("{name:?} is the name of {count} profiles: use the id instead (list them with: session-inspector-cli profiles)")]
    AmbiguousProfile { name: String, count: usize },
    #[error("the built-in demo's server runs inside the app: use this profile in the window, or add a project profile for the command line")]
    BuiltInProfile,
    /// Saving or printing failed after the server had rotated the session: its new tokens
    /// are known nowhere else, but the used-up token is their parent.
    #[error("{error}. The server had already rotated the session, so its new tokens are lost here; the refresh token sent ({used}) is their parent, and GoTrue answers a parent with the newest tokens: send it again (as long as nothing else refreshes the session first)")]
    Rotated { error: Box<CliError>, used: String },
    #[error("profile {0:?} is no longer in the app's settings (removed, or Reset all data): its session was not saved, so it does not come back")]
    ProfileRemoved(String),
    #[error("profile {0:?} has no stored session: sign in to it in the app, or import one with: session-inspector-cli import --profile {0}")]
    NoSession(String),
    /// The engine: GoTrue's answer, the network, the session store.
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("no OS keyring can be used here, and the app keeps its sessions in one: {0}")]
    NoKeyring(String),
    #[error("{0} The app, run in a desktop session, keeps its sessions in the Secret Service and would not find them here: run this where the desktop's keyring answers, or pass --keyring-any (SESSION_INSPECTOR_KEYRING_ANY=true) if the app runs with the kernel keyring too")]
    NotTheAppsKeyring(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A blocking task (the keyring) panicked or was cancelled.
    #[error("a background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// What kind of failure it was, each with its exit code. The `--help` table and the README
/// list these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Internal,
    Usage,
    BadInput,
    Profile,
    NoSession,
    Refused,
    Unreachable,
    Keyring,
}

impl Kind {
    /// Every kind, in the order of their codes.
    pub const ALL: [Kind; 8] = [
        Kind::Internal,
        Kind::Usage,
        Kind::BadInput,
        Kind::Profile,
        Kind::NoSession,
        Kind::Refused,
        Kind::Unreachable,
        Kind::Keyring,
    ];

    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Internal => 1,
            // clap's own code for a usage error.
            Kind::Usage => 2,
            Kind::BadInput => 3,
            Kind::Profile => 4,
            Kind::NoSession => 5,
            Kind::Refused => 6,
            Kind::Unreachable => 7,
            Kind::Keyring => 8,
        }
    }

    /// The stable name in `{kind, message}`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Internal => "internal",
            Kind::Usage => "usage",
            Kind::BadInput => "badInput",
            Kind::Profile => "profile",
            Kind::NoSession => "noSession",
            Kind::Refused => "refused",
            Kind::Unreachable => "unreachable",
            Kind::Keyring => "keyring",
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            Kind::Internal => "something else failed (a bug, or the output could not be written)",
            Kind::Usage => "the arguments are wrong (see --help)",
            Kind::BadInput => "what was read is not a token, session or cookie, or lacks what the command needs",
            Kind::Profile => "no such profile, the built-in demo's profile, or unreadable app settings",
            Kind::NoSession => "the profile has no stored session",
            Kind::Refused => "the server refused: invalid or already used refresh token, expired session... (its code in `code`)",
            Kind::Unreachable => "no usable answer: network error, timeout, server error after retries, a redirect",
            Kind::Keyring => "the OS keyring (or a sealed session file) failed or is missing",
        }
    }
}

/// The exit-code table `--help` ends with.
pub fn exit_code_table() -> String {
    let mut table = String::from("Exit codes:\n  0  success\n");
    for kind in Kind::ALL {
        table.push_str(&format!(
            "  {}  {:<12} {}\n",
            kind.exit_code(),
            kind.name(),
            kind.meaning()
        ));
    }
    table
}

impl CliError {
    pub fn kind(&self) -> Kind {
        match self {
            CliError::Rotated { error, .. } => error.kind(),
            CliError::Usage(_) => Kind::Usage,
            CliError::Import(_)
            | CliError::Input(_)
            | CliError::NoSuchFile
            | CliError::InputFile { .. } => Kind::BadInput,
            CliError::Settings(_)
            | CliError::NoDataFolder
            | CliError::UnknownProfile(_)
            | CliError::AmbiguousProfile { .. }
            | CliError::BuiltInProfile
            | CliError::ProfileRemoved(_) => Kind::Profile,
            CliError::NoSession(_) => Kind::NoSession,
            CliError::Auth(error) => auth_kind(error),
            CliError::NoKeyring(_) | CliError::NotTheAppsKeyring(_) | CliError::Storage(_) => {
                Kind::Keyring
            }
            CliError::Task(_) | CliError::Output(_) | CliError::Runtime(_) => Kind::Internal,
        }
    }

    /// A save the session store refused because the app no longer lists the profile, said
    /// as such.
    pub fn for_profile(self, profile: &session_profiles::Profile) -> CliError {
        match self {
            CliError::Storage(StorageError::Closed)
            | CliError::Auth(AuthError::Storage(StorageError::Closed)) => {
                CliError::ProfileRemoved(profile.id.clone())
            }
            other => other,
        }
    }

    /// This failure, after the token with fingerprint `used` was used up by a rotation.
    pub fn after_rotating(self, used: String) -> CliError {
        CliError::Rotated {
            error: Box::new(self),
            used,
        }
    }

    /// GoTrue's error code, when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CliError::Rotated { error, .. } => error.code(),
            CliError::Auth(error) => error.code(),
            _ => None,
        }
    }

    /// The HTTP status of the server's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            CliError::Rotated { error, .. } => error.status(),
            CliError::Auth(error) => error.status().filter(|status| *status != 0),
            _ => None,
        }
    }

    pub fn view(&self) -> ErrorView {
        ErrorView {
            kind: self.kind().name(),
            message: self.to_string(),
            code: self.code().map(str::to_string),
            status: self.status(),
            exit_code: self.kind().exit_code(),
        }
    }
}

fn auth_kind(error: &AuthError) -> Kind {
    match error {
        AuthError::SessionMissing => Kind::NoSession,
        AuthError::Api { .. } | AuthError::OAuthCallback { .. } => Kind::Refused,
        AuthError::RetryableFetch { .. }
        | AuthError::Redirected { .. }
        | AuthError::ResponseTooLarge { .. }
        | AuthError::InvalidTokenResponse(_) => Kind::Unreachable,
        AuthError::Storage(_) => Kind::Keyring,
        AuthError::InvalidInput(_) | AuthError::LinkForAnotherProject { .. } => Kind::BadInput,
        AuthError::RefreshDiscarded
        | AuthError::InvalidMfaAnswer(_)
        | AuthError::OAuthTimedOut
        | AuthError::OAuthCancelled
        | AuthError::OAuthListener(_) => Kind::Internal,
    }
}

/// An error as `--json` prints it (on stderr).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorView {
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub exit_code: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_exit_code_and_the_table_lists_them_all() {
        let mut codes: Vec<u8> = Kind::ALL.iter().map(|k| k.exit_code()).collect();
        codes.dedup();
        assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7, 8]);
        let table = exit_code_table();
        for kind in Kind::ALL {
            assert!(
                table.contains(&format!("{}  {}", kind.exit_code(), kind.name())),
                "{table}"
            );
        }
    }

    #[test]
    fn a_refused_refresh_keeps_gotrues_code_and_status() {
        let error = CliError::Auth(AuthError::Api {
            status: 400,
            code: Some("refresh_token_already_used".into()),
            message: "Invalid Refresh Token: Already Used".into(),
        });
        let view = error.view();
        assert_eq!(view.kind, "refused");
        assert_eq!(view.exit_code, 6);
        assert_eq!(view.code.as_deref(), Some("refresh_token_already_used"));
        assert_eq!(view.status, Some(400));
    }

    #[test]
    fn no_answer_is_unreachable_without_a_status() {
        let error = CliError::Auth(AuthError::RetryableFetch {
            status: 0,
            message: "connection refused".into(),
        });
        assert_eq!(error.kind(), Kind::Unreachable);
        assert_eq!(error.view().status, None);
    }
}
