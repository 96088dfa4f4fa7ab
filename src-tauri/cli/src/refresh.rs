//! `refresh`: the engine's `refresh_session`, on a profile's stored session (saved back where
//! the app finds it) or on a refresh token read from stdin (never from an argument).

use std::sync::Arc;

use chrono::Utc;
use serde::Serialize;
use session_engine::import::{parse_import, Imported};
use session_engine::tokens::fingerprint;
use session_engine::{AuthClient, MemoryStore, Session, SessionStore};
use session_profiles::Profile;
use zeroize::Zeroizing;

use crate::args::RefreshArgs;
use crate::error::CliError;
use crate::home::{self, Home, Slot};
use crate::output::Output;
use crate::view::SessionSummary;

/// What a refresh (or an import) came to.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The profile the session was saved into, if any.
    pub profile: Option<ProfileRef>,
    pub saved: bool,
    /// The refresh token this used up, if it used one.
    pub used_up_refresh_token_fingerprint: Option<String>,
    pub session: SessionSummary,
    pub warnings: Vec<String>,
}

#[derive(Serialize)]
pub struct ProfileRef {
    pub id: String,
    pub name: String,
}

impl ProfileRef {
    pub fn of(profile: &Profile) -> ProfileRef {
        ProfileRef {
            id: profile.id.clone(),
            name: profile.name.clone(),
        }
    }
}

impl Report {
    /// Prints the report: for people, its warnings as notes on stderr and the rest on
    /// stdout; with `--json`, the whole report (warnings included) on stdout.
    pub fn print(&self, out: &Output, headline: String) -> Result<(), CliError> {
        if out.json {
            return out.json(self);
        }
        for warning in &self.warnings {
            out.note(warning);
        }
        let mut lines = vec![headline];
        lines.extend(self.session.lines());
        if let Some(used) = &self.used_up_refresh_token_fingerprint {
            lines.push(format!("  used up        {used} (the refresh token sent)"));
        }
        out.lines(lines)
    }
}

pub async fn run(args: &RefreshArgs, home: &Home, out: &Output) -> Result<(), CliError> {
    // The profile (or the project) is checked before anything is read or sent.
    let target = match &args.profile {
        Some(wanted) => Target::Profile(home.profile(wanted)?),
        None => match (&args.url, &args.anon_key) {
            (Some(url), Some(key)) => Target::Project(url.clone(), key.clone()),
            _ => {
                return Err(CliError::Usage(
                    "refresh --stdin needs a project: --profile, or --url and --anon-key (or SUPABASE_URL and SUPABASE_ANON_KEY)".into(),
                ))
            }
        },
    };
    // The built-in demo's profile is refused here too, before anything is read.
    let config = match &target {
        Target::Profile(profile) => home::project_config(profile)?,
        Target::Project(url, key) => home::config(url, key),
    };
    let given = if args.stdin {
        let imported = parse_import(&crate::input::read(None)?)?;
        crate::decode::note_project_warnings(&imported, &config, out)?;
        Some(refresh_token_of(&imported)?)
    } else {
        None
    };
    let report = match (target, given) {
        (Target::Profile(profile), None) => refresh_stored(home, &profile, args.reveal).await?,
        (Target::Profile(profile), Some(token)) => {
            let vault = home.vault().await?;
            // Read first: whether the paste is this slot's own session decides what is said.
            let stored = home::slot(&vault, &profile).await?;
            let session =
                refresh_given(AuthClient::new(config, memory(), "cli").await?, &token).await?;
            home::save_session(&home.store(&vault, &profile), &profile, session.clone())
                .await
                .map_err(|error| error.after_rotating(fingerprint(&token)))?;
            let warnings = match &stored {
                // The app may hold this very session: it is one refresh behind now.
                Slot::Session(old) if old.refresh_token == *token => {
                    vec![app_holds_old_session(&profile)]
                }
                // Another session: the app's (if open) is not this one, and is replaced.
                other => crate::import::replaced_warnings(other, &profile),
            };
            Report {
                warnings,
                profile: Some(ProfileRef::of(&profile)),
                saved: true,
                used_up_refresh_token_fingerprint: Some(fingerprint(&token)),
                session: SessionSummary::of(&session, Utc::now(), args.reveal),
            }
        }
        (Target::Project(..), Some(token)) => {
            let client = AuthClient::new(config, memory(), "cli").await?;
            let session = refresh_given(client, &token).await?;
            let mut warnings = Vec::new();
            if !args.reveal {
                warnings.push("the new session is kept nowhere and its tokens were not shown (the old refresh token is now used up): use --reveal to see them, or --profile to save them".to_string());
            }
            Report {
                profile: None,
                saved: false,
                used_up_refresh_token_fingerprint: Some(fingerprint(&token)),
                session: SessionSummary::of(&session, Utc::now(), args.reveal),
                warnings,
            }
        }
        (Target::Project(..), None) => {
            return Err(CliError::Usage(
                "--url and --anon-key go with --stdin: the refresh token is read from stdin".into(),
            ))
        }
    };
    // A session saved nowhere exists only in this output: if it cannot be written, say how
    // to get it back.
    let unsaved = (!report.saved)
        .then(|| report.used_up_refresh_token_fingerprint.clone())
        .flatten();
    let headline = match &report.profile {
        Some(profile) => format!(
            "Refreshed; the new session of profile {:?} ({}) is saved in the keyring.",
            profile.name, profile.id
        ),
        None => "Refreshed.".to_string(),
    };
    report.print(out, headline).map_err(|error| match unsaved {
        Some(used) => error.after_rotating(used),
        None => error,
    })
}

enum Target {
    Profile(Profile),
    Project(String, String),
}

fn memory() -> Arc<dyn SessionStore> {
    Arc::new(MemoryStore::new())
}

/// The refresh token in whatever was pasted.
fn refresh_token_of(imported: &Imported) -> Result<Zeroizing<String>, CliError> {
    match imported.refresh_token() {
        Some(token) => Ok(Zeroizing::new(token.to_string())),
        None => Err(CliError::Input(format!(
            "{}: it holds no refresh token, so there is nothing to refresh",
            imported.describe()
        ))),
    }
}

async fn refresh_given(client: AuthClient, token: &str) -> Result<Session, CliError> {
    Ok(client.refresh_session(Some(token)).await?.response.session)
}

/// The profile's stored session, refreshed through the vault: the engine saves the new
/// session before it reports it.
async fn refresh_stored(home: &Home, profile: &Profile, reveal: bool) -> Result<Report, CliError> {
    let config = home::project_config(profile)?;
    let vault = home.vault().await?;
    let store = home.store(&vault, profile) as Arc<dyn SessionStore>;
    let client = AuthClient::new(config, store, profile.project_store_key()).await?;
    let Some(before) = client.current_session() else {
        return Err(CliError::NoSession(profile.id.clone()));
    };
    let removed = |error: session_engine::AuthError| CliError::from(error).for_profile(profile);
    // The start-up recovery the app runs when it opens the profile: a session already inside
    // its refresh margin is refreshed there, and that is this command's refresh.
    client.initialize().await.map_err(removed)?;
    let session = match client.current_session() {
        Some(now) if now.refresh_token != before.refresh_token => now,
        Some(_) => {
            client
                .refresh_session(None)
                .await
                .map_err(removed)?
                .response
                .session
        }
        None => return Err(CliError::NoSession(profile.id.clone())),
    };
    Ok(Report {
        warnings: vec![app_holds_old_session(profile)],
        profile: Some(ProfileRef::of(profile)),
        saved: true,
        used_up_refresh_token_fingerprint: Some(fingerprint(&before.refresh_token)),
        session: SessionSummary::of(&session, Utc::now(), reveal),
    })
}

/// What a running app holding this profile's previous session does next, and how to avoid it.
/// GoTrue answers a refresh token one rotation behind with the newest session (a client that
/// lost an answer); two behind is reuse.
pub fn app_holds_old_session(profile: &Profile) -> String {
    format!(
        "if Session Inspector has profile {:?} open, it still holds the session before this refresh. Its next refresh gets this new session back (GoTrue hands the newest tokens to a client one refresh behind), but after one more refresh here it is two behind: GoTrue refuses it as refresh_token_already_used once the reuse interval (10 s by default) has passed, and revokes the session, these tokens included. Switch the app to another profile and back to load this session from the keyring.",
        profile.name
    )
}
