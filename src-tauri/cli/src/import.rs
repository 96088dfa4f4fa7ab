//! `import`: a pasted session saved into a profile's keyring slot, where the app finds it when
//! it opens the profile. The paste is read by the engine's importer; the session is made by
//! the engine's `set_session` (both tokens) or `refresh_session` (a refresh token alone), as
//! the window makes one from a paste. The settings are never written.

use std::sync::Arc;

use chrono::Utc;
use session_engine::import::parse_import;
use session_engine::tokens::fingerprint;
use session_engine::{AuthClient, MemoryStore, SessionStore};
use session_profiles::Profile;

use crate::args::ImportArgs;
use crate::error::CliError;
use crate::home::{self, Home, Slot};
use crate::output::Output;
use crate::refresh::{ProfileRef, Report};
use crate::view::SessionSummary;

pub async fn run(args: &ImportArgs, home: &Home, out: &Output) -> Result<(), CliError> {
    let profile = home.profile(&args.profile)?;
    let config = home::project_config(&profile)?;
    let text = crate::input::read(args.file.as_deref())?;
    let imported = parse_import(&text)?;
    let Some(refresh_token) = imported.refresh_token() else {
        return Err(CliError::Input(format!(
            "{}: it holds no refresh token, and a stored session needs one",
            imported.describe()
        )));
    };
    crate::decode::note_project_warnings(&imported, &config, out)?;
    let vault = home.vault().await?;
    let replaced = home::slot(&vault, &profile).await?;

    // A client of its own, in memory: the vault is written once, with the result.
    let client = AuthClient::new(
        config,
        Arc::new(MemoryStore::new()) as Arc<dyn SessionStore>,
        "cli",
    )
    .await?;
    let session = match imported.access_token() {
        Some(access_token) => {
            client
                .set_session(access_token, refresh_token)
                .await?
                .session
        }
        None => {
            client
                .refresh_session(Some(refresh_token))
                .await?
                .response
                .session
        }
    };
    let used_up = session.refresh_token != refresh_token;
    home::save_session(&home.store(&vault, &profile), &profile, session.clone())
        .await
        .map_err(|error| match used_up {
            true => error.after_rotating(fingerprint(refresh_token)),
            false => error,
        })?;

    let mut warnings = Vec::new();
    if used_up {
        warnings.push(format!("importing needed a refresh, which used up the pasted refresh token {}: wherever it was copied from now holds a used-up token", fingerprint(refresh_token)));
    } else {
        warnings.push("the profile now shares this session with wherever it was copied from: each refresh by one leaves the other a refresh behind, which GoTrue tolerates once (it hands back the newest tokens); two behind is reuse, refused as refresh_token_already_used, and the session is revoked".to_string());
    }
    warnings.extend(replaced_warnings(&replaced, &profile));
    let report = Report {
        profile: Some(ProfileRef::of(&profile)),
        saved: true,
        used_up_refresh_token_fingerprint: used_up.then(|| fingerprint(refresh_token)),
        session: SessionSummary::of(&session, Utc::now(), false),
        warnings,
    };
    let headline = format!(
        "Imported {} into profile {:?} ({}), saved in the keyring.",
        lowercase_first(&imported.describe()),
        profile.name,
        profile.id
    );
    report.print(out, headline)
}

/// What saving over a profile's slot did, and what a window that has the profile open does.
pub fn replaced_warnings(replaced: &Slot, profile: &Profile) -> Vec<String> {
    let mut warnings = Vec::new();
    match replaced {
        Slot::Session(old) => warnings.push(format!(
            "this replaced the profile's stored session (refresh token {})",
            fingerprint(&old.refresh_token)
        )),
        Slot::Unreadable(reason) => warnings.push(format!(
            "this replaced the profile's unreadable stored session ({reason})"
        )),
        Slot::Empty => {}
    }
    warnings.push(format!("Session Inspector loads a profile's session when it opens the profile: if it has {:?} open, switch it to another profile and back to see this one (until then a refresh in the app saves the app's session over it)", profile.name));
    warnings
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
