//! `profiles`: the app's profiles from its settings file and, unless `--no-keyring`, each
//! project's stored session from the keyring (redacted).

use chrono::Utc;
use serde::Serialize;
use session_profiles::{Backend, Profile};

use crate::args::ProfilesArgs;
use crate::error::CliError;
use crate::home::{self, Home, Slot};
use crate::output::Output;
use crate::view::SessionSummary;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Listing {
    settings_file: String,
    /// Whether sessions were looked up (false with `--no-keyring`, or with no project).
    keyring: bool,
    profiles: Vec<Entry>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    id: String,
    name: String,
    /// `project` or `builtIn`.
    backend: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_url: Option<String>,
    auto_refresh: bool,
    refresh_margin_secs: u64,
    /// The profile the app opens at start-up.
    last_used: bool,
    /// The stored session; absent without a keyring lookup or for the built-in demo.
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<Option<SessionSummary>>,
    /// Why the stored session cannot be read, when it cannot (`import` replaces it).
    #[serde(skip_serializing_if = "Option::is_none")]
    unreadable: Option<String>,
}

pub async fn run(args: &ProfilesArgs, home: &Home, out: &Output) -> Result<(), CliError> {
    let settings = home.settings()?;
    // Only a project's session is in the keyring (the demo's belongs to the app's server).
    let projects = settings
        .profiles
        .iter()
        .any(|p| matches!(p.backend, Backend::Project { .. }));
    let vault = if projects && !args.no_keyring {
        Some(home.vault().await?)
    } else {
        None
    };
    let mut entries = Vec::new();
    for profile in &settings.profiles {
        let session = match (&vault, &profile.backend) {
            (Some(vault), Backend::Project { .. }) => Some(home::slot(vault, profile).await?),
            _ => None,
        };
        // One unreadable slot is shown as such; the others are still listed.
        let (session, unreadable) = match session {
            Some(Slot::Session(session)) => (
                Some(Some(SessionSummary::of(&session, Utc::now(), false))),
                None,
            ),
            Some(Slot::Empty) => (Some(None), None),
            Some(Slot::Unreadable(reason)) => (Some(None), Some(reason)),
            None => (None, None),
        };
        let mut entry = entry(
            profile,
            settings.last_profile.as_deref() == Some(&profile.id),
            session,
        );
        entry.unreadable = unreadable;
        entries.push(entry);
    }
    let listing = Listing {
        settings_file: home.settings_file().display().to_string(),
        keyring: vault.is_some(),
        profiles: entries,
    };
    if out.json {
        return out.json(&listing);
    }
    out.lines(human(&listing))
}

fn entry(profile: &Profile, last_used: bool, session: Option<Option<SessionSummary>>) -> Entry {
    let (backend, project_url) = match &profile.backend {
        Backend::BuiltIn => ("builtIn", None),
        Backend::Project { project_url, .. } => ("project", Some(project_url.clone())),
    };
    Entry {
        id: profile.id.clone(),
        name: profile.name.clone(),
        backend,
        project_url,
        auto_refresh: profile.auto_refresh,
        refresh_margin_secs: profile.refresh_margin_secs,
        last_used,
        session,
        unreadable: None,
    }
}

fn human(listing: &Listing) -> Vec<String> {
    if listing.profiles.is_empty() {
        return vec![format!(
            "No profiles in {} yet: add a project in the app (+ Project).",
            listing.settings_file
        )];
    }
    let mut lines = Vec::new();
    for entry in &listing.profiles {
        let mark = if entry.last_used { "*" } else { " " };
        let place = match &entry.project_url {
            Some(url) => url.clone(),
            None => "the built-in demo server (runs inside the app)".to_string(),
        };
        let auto = if entry.auto_refresh {
            format!(
                "auto-refresh on, {} s before expiry",
                entry.refresh_margin_secs
            )
        } else {
            "auto-refresh off".to_string()
        };
        lines.push(format!(
            "{mark} {:?} ({})  {place}  {auto}",
            entry.name, entry.id
        ));
        match &entry.session {
            Some(Some(session)) => {
                lines.extend(session.lines().into_iter().map(|l| format!("  {l}")))
            }
            Some(None) => match &entry.unreadable {
                Some(reason) => lines.push(format!(
                    "    stored session unreadable ({reason}): import one to replace it"
                )),
                None => lines.push("    no stored session".to_string()),
            },
            None => {}
        }
    }
    lines.push("* the profile the app opens at start-up".to_string());
    lines
}
