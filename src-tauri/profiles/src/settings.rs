//! The settings' model: the profiles (a real project, or the built-in demo server the app
//! starts itself) and the last profile used. Non-secret by design: tokens live in the
//! keyring, never here.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use session_engine::protocol::DEFAULT_EXPIRY_MARGIN;

/// The id of the built-in demo's profile.
pub const BUILT_IN_PROFILE: &str = "built-in-demo";

/// How long a profile's client retries a failing server: an inspector reports a server that
/// keeps failing within seconds, and every attempt shows. (The engine's default, like the
/// Supabase clients', keeps retrying for 30 s.)
pub const RETRY_BUDGET: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Backend {
    /// The local GoTrue-compatible server the app starts itself.
    BuiltIn,
    /// A real project: its URL and anon (publishable) key.
    Project {
        project_url: String,
        anon_key: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub backend: Backend,
    /// Off by default: an inspector shows the session as it is unless told otherwise.
    #[serde(default)]
    pub auto_refresh: bool,
    #[serde(default = "default_margin")]
    pub refresh_margin_secs: u64,
}

fn default_margin() -> u64 {
    DEFAULT_EXPIRY_MARGIN.as_secs()
}

impl Profile {
    /// The name a project profile's session is kept under in the keyring: its id. The app
    /// and the command line both use this; the built-in demo's name also carries its demo
    /// database's key (the app's `demo::store_key`).
    pub fn project_store_key(&self) -> String {
        self.id.clone()
    }

    /// A real project, signed out, auto-refresh off.
    pub fn project(id: String, name: String, project_url: String, anon_key: String) -> Profile {
        Profile {
            id,
            name,
            backend: Backend::Project {
                project_url,
                anon_key,
            },
            auto_refresh: false,
            refresh_margin_secs: default_margin(),
        }
    }

    /// The auto-refresh setting this profile was saved with.
    pub fn auto_refresh_setting(&self) -> session_engine::auto_refresh::Setting {
        session_engine::auto_refresh::Setting {
            enabled: self.auto_refresh,
            margin: Duration::from_secs(self.refresh_margin_secs),
        }
    }

    pub fn built_in() -> Profile {
        Profile {
            id: BUILT_IN_PROFILE.into(),
            name: "Built-in demo".into(),
            backend: Backend::BuiltIn,
            auto_refresh: false,
            refresh_margin_secs: default_margin(),
        }
    }
}

/// One line of the app's history of auth events: what happened and to which token, by
/// fingerprint only. An earlier version kept these in the settings (`Settings::history`), with
/// the first four fields only; the rest (what the timeline draws) are left out of a line when
/// empty, so old lines read as entries without them.
/// Hashable: a migration that runs again skips the lines already moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub at: String,
    /// The auth event's kind (`TOKEN_REFRESHED`, …), or `REFRESH_FAILED` (`REFRESH_FAILED`).
    pub kind: String,
    pub profile: String,
    pub refresh_token_fingerprint: Option<String>,
    /// What made it (the engine's `Cause`, as serialized: `refreshNow`, `autoRefresh`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The v2 refresh token's position in its session's rotation sequence (none for legacy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<u64>,
    /// The recorded exchange that made it, numbered within the app run `run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_id: Option<u64>,
    /// Which run of the app recorded it (exchange ids restart at each launch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Why: a sign-out's or rejection's reason, or a failure's GoTrue code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A failure's HTTP status (0: no answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The access token's claims the timeline compares (`CLAIMS_KEPT`): the payload's, never
    /// the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The access token claims a history entry keeps: what tells two tokens of a session apart.
pub const CLAIMS_KEPT: &[&str] = &[
    "sub",
    "session_id",
    "aal",
    "amr",
    "role",
    "app_metadata",
    "user_metadata",
    "iat",
    "exp",
    "email",
    "is_anonymous",
    "aud",
    "iss",
];

/// By the fields an earlier version had (equal entries have equal ones, so this agrees with
/// `Eq`): claims are JSON, which does not hash.
impl std::hash::Hash for HistoryEntry {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.at.hash(state);
        self.kind.hash(state);
        self.profile.hash(state);
        self.refresh_token_fingerprint.hash(state);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    #[serde(default)]
    pub profiles: Vec<Profile>,
    #[serde(default)]
    pub last_profile: Option<String>,
    /// Where an earlier version kept the history: read once, moved to the history file (the
    /// app's `history::migrate`), never written again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    /// How the window lays out the live log.
    #[serde(default)]
    pub layout: LogLayout,
}

/// How the window lays out the live log: the width of its column beside the panels, the
/// full-width mode, and the screenshot-safe mode (the app's `layout.rs` checks and saves it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct LogLayout {
    /// The log column's width in CSS pixels, beside the panels.
    pub log_width: u32,
    /// The log takes the whole window; the panels are hidden until it is switched off.
    pub full_width: bool,
    /// Emails, user and session ids and fingerprints are masked everywhere in the window.
    pub screenshot_safe: bool,
}

impl Default for LogLayout {
    fn default() -> Self {
        LogLayout {
            log_width: 440,
            full_width: false,
            screenshot_safe: false,
        }
    }
}

impl Settings {
    /// The profile to open at start-up: the last one used, else the first, else the built-in
    /// demo. With a built-in server the demo profile is put first whenever it is missing (a
    /// first launch, or settings written by a build without the demo). Without one
    /// (`with_built_in` false) a saved built-in profile is kept but passed over, and with no
    /// project there is none.
    pub fn active_profile(&mut self, with_built_in: bool) -> Option<Profile> {
        if with_built_in && self.profile(BUILT_IN_PROFILE).is_none() {
            self.profiles.insert(0, Profile::built_in());
        }
        let opens = |p: &&Profile| with_built_in || p.backend != Backend::BuiltIn;
        let wanted = self.last_profile.clone();
        let profile = self
            .profiles
            .iter()
            .filter(opens)
            .find(|p| Some(&p.id) == wanted.as_ref())
            .or_else(|| self.profiles.iter().find(opens))?
            .clone();
        self.last_profile = Some(profile.id.clone());
        Some(profile)
    }

    /// The profile to open when the active one, `removed`, is removed: the built-in demo when
    /// this build has it and it is saved, else the first other project (none when it was the
    /// last). Only a saved profile is ever named.
    pub fn after_removing(&self, removed: &str, with_built_in: bool) -> Option<String> {
        if with_built_in && self.profile(BUILT_IN_PROFILE).is_some() {
            return Some(BUILT_IN_PROFILE.to_string());
        }
        self.profiles
            .iter()
            .find(|p| p.id != removed && p.backend != Backend::BuiltIn)
            .map(|p| p.id.clone())
    }

    pub fn profile(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    pub fn profile_mut(&mut self, id: &str) -> Option<&mut Profile> {
        self.profiles.iter_mut().find(|p| p.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keyring name is the app's and the command line's alike, and users' sessions are
    /// stored under it: changing it would lose them.
    #[test]
    fn a_project_keeps_its_session_under_its_id() {
        let project = Profile::project("p-1".into(), "P".into(), "https://x".into(), "k".into());
        assert_eq!(project.project_store_key(), "p-1");
    }

    #[test]
    fn with_no_profiles_the_built_in_demo_is_created_and_remembered() {
        let mut settings = Settings::default();
        assert_eq!(settings.active_profile(true).unwrap().id, BUILT_IN_PROFILE);
        assert_eq!(settings.last_profile.as_deref(), Some(BUILT_IN_PROFILE));
        assert_eq!(settings.profiles.len(), 1);
    }

    fn project(id: &str) -> Profile {
        Profile::project(
            id.into(),
            id.into(),
            format!("https://{id}.supabase.co"),
            "k".into(),
        )
    }

    #[test]
    fn without_the_built_in_server_a_first_launch_opens_nothing_and_creates_nothing() {
        let mut settings = Settings::default();
        assert_eq!(settings.active_profile(false), None);
        assert_eq!(settings, Settings::default());
    }

    #[test]
    fn without_the_built_in_server_a_saved_demo_profile_is_kept_and_passed_over() {
        let mut settings = Settings {
            profiles: vec![Profile::built_in(), project("a"), project("b")],
            last_profile: Some(BUILT_IN_PROFILE.into()),
            ..Settings::default()
        };
        assert_eq!(settings.active_profile(false).unwrap().id, "a");
        assert_eq!(settings.profiles.len(), 3, "the demo profile stays");
        // The last project used still wins.
        settings.last_profile = Some("b".into());
        assert_eq!(settings.active_profile(false).unwrap().id, "b");
        // Only the demo profile saved: nothing opens, nothing is lost.
        let mut only_demo = Settings {
            profiles: vec![Profile::built_in()],
            last_profile: Some(BUILT_IN_PROFILE.into()),
            ..Settings::default()
        };
        assert_eq!(only_demo.active_profile(false), None);
        assert_eq!(only_demo.profiles, vec![Profile::built_in()]);
        assert_eq!(only_demo.last_profile.as_deref(), Some(BUILT_IN_PROFILE));
    }

    #[test]
    fn removing_the_active_profile_opens_the_demo_or_else_another_project() {
        let settings = Settings {
            profiles: vec![Profile::built_in(), project("a"), project("b")],
            ..Settings::default()
        };
        assert_eq!(
            settings.after_removing("a", true).as_deref(),
            Some(BUILT_IN_PROFILE)
        );
        assert_eq!(settings.after_removing("a", false).as_deref(), Some("b"));
        assert_eq!(settings.after_removing("b", false).as_deref(), Some("a"));
        let last = Settings {
            profiles: vec![Profile::built_in(), project("a")],
            ..Settings::default()
        };
        assert_eq!(last.after_removing("a", false), None);
    }

    #[test]
    fn settings_from_a_build_without_the_demo_get_the_demo_profile_back() {
        // Written by a build without the demo: one project, no built-in profile.
        let mut settings = Settings {
            profiles: vec![project("a")],
            last_profile: Some("a".into()),
            ..Settings::default()
        };
        // A build with the demo still opens the project last used, with the demo to pick.
        assert_eq!(settings.active_profile(true).unwrap().id, "a");
        assert_eq!(settings.profiles, vec![Profile::built_in(), project("a")]);
        // Removing the project then opens a profile that exists: the demo.
        assert_eq!(
            settings.after_removing("a", true).as_deref(),
            Some(BUILT_IN_PROFILE)
        );
        // Opening it again adds nothing more.
        settings.active_profile(true);
        assert_eq!(settings.profiles.len(), 2);
    }

    #[test]
    fn after_removing_names_only_a_saved_profile() {
        let no_demo = Settings {
            profiles: vec![project("a"), project("b")],
            ..Settings::default()
        };
        assert_eq!(no_demo.after_removing("a", true).as_deref(), Some("b"));
        let only = Settings {
            profiles: vec![project("a")],
            ..Settings::default()
        };
        assert_eq!(only.after_removing("a", true), None);
    }

    #[test]
    fn a_profile_is_stored_in_the_shape_the_app_has_always_written() {
        // camelCase fields, but a backend's own fields as written (serde renames only the
        // variants): settings files in use have this shape, so it must never change.
        let stored = serde_json::to_value(project("a")).unwrap();
        assert_eq!(
            stored,
            serde_json::json!({
                "id": "a", "name": "a", "autoRefresh": false, "refreshMarginSecs": 10,
                "backend": {"kind": "project", "project_url": "https://a.supabase.co", "anon_key": "k"}
            })
        );
        let demo = serde_json::json!({"id": BUILT_IN_PROFILE, "name": "Built-in demo", "backend": {"kind": "builtIn"}});
        assert_eq!(
            serde_json::from_value::<Profile>(demo).unwrap(),
            Profile::built_in()
        );
    }
}
