//! The built-in demo: its own GoTrue-compatible server in the app's data folder, signing with
//! ES256 (as new Supabase projects do), short-lived tokens and manual identity linking on (a
//! playground: linking and unlinking from the window work), and its demo account.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use crate::error::Error;
use crate::settings::Profile;

/// The built-in demo's account: a throwaway user on a server that only listens on loopback.
pub const DEMO_EMAIL: &str = "demo@sessioninspector.local";
pub const DEMO_PASSWORD: &str = "demo-password";
/// Short-lived access tokens, so a newcomer sees the countdown and refreshes move.
const DEMO_JWT_EXPIRY: Duration = Duration::from_secs(120);

/// The demo account, offered in the sign-in form while the built-in profile is active.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DemoAccount {
    pub email: &'static str,
    pub password: &'static str,
}

pub const DEMO_ACCOUNT: DemoAccount = DemoAccount {
    email: DEMO_EMAIL,
    password: DEMO_PASSWORD,
};

/// Lets a test harness choose the demo server's control token (the app's own process is the
/// only other holder); without it, every launch makes a new random one.
pub const CONTROL_TOKEN_ENV: &str = "SESSION_INSPECTOR_DEMO_CONTROL_TOKEN";

/// Starts the demo server on its database in `dir` (created if missing).
pub async fn start(dir: &Path) -> Result<local_gotrue::Server, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Folder {
        path: dir.display().to_string(),
        source,
    })?;
    let control_token = std::env::var(CONTROL_TOKEN_ENV)
        .ok()
        .filter(|t| t.len() >= local_gotrue::MIN_CONTROL_TOKEN)
        .unwrap_or_else(local_gotrue::new_control_token);
    let config = local_gotrue::Config {
        // The control surface lists refresh tokens and mints sessions: only this process
        // (and a test that set the token) may use it. Its JWT secret is this data folder's
        // own, not the public local-development one.
        control_token: Some(control_token),
        random_jwt_secret: true,
        jwt_expiry: DEMO_JWT_EXPIRY,
        data_path: Some(dir.join("auth.sqlite")),
        // Asymmetric keys, as new Supabase projects use: the signature can be checked
        // against the published JWKS without any secret.
        signing: local_gotrue::config::SigningAlgorithm::Es256,
        // A playground: linking and unlinking identities from the window works (GoTrue's
        // GOTRUE_SECURITY_MANUAL_LINKING_ENABLED, off by default on real projects).
        manual_linking: true,
        demo_user: Some(local_gotrue::DemoUser {
            email: DEMO_EMAIL.into(),
            password: DEMO_PASSWORD.into(),
        }),
        ..local_gotrue::Config::default()
    };
    let server = local_gotrue::start(config).await?;
    tracing::info!(url = %server.url(), "built-in server started");
    Ok(server)
}

/// What the demo server has "sent" (sign-up confirmations, magic links, codes by email and
/// SMS), newest first: its Mailpit, as `supabase start` has one.
pub fn inbox(server: &local_gotrue::Server) -> Vec<local_gotrue::InboxMessage> {
    let mut messages = server.inbox();
    messages.reverse();
    messages
}

/// The name a profile's session is kept under in the keyring. The keyring is shared by every
/// copy of the app the user runs, but a demo session only exists in the one demo database that
/// issued it (in that copy's app data folder): its entry is named after that database's
/// signing key, so a copy with another data folder never picks up a session its own server
/// has never heard of.
pub fn store_key(profile: &Profile, demo_server: Option<&local_gotrue::Server>) -> String {
    match demo_server {
        Some(server) => format!("{}:{}", profile.id, server.key_id()),
        None => profile.id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_demo_server_locks_its_control_surface_and_keeps_its_own_secret() {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await.unwrap();
        let token = server.control_token().expect("a control token").to_string();
        assert!(token.len() >= 32, "{token}");
        let keys = format!("{}/_emulator/keys", server.url());
        let http = reqwest::Client::new();
        let without = http.get(&keys).send().await.unwrap();
        assert_eq!(without.status(), 401);
        let with = http
            .get(&keys)
            .header("x-emulator-token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(with.status(), 200);

        // The anon key is not signed with the public local-development secret.
        let public = local_gotrue::jwt::Keys::new(
            local_gotrue::config::DEFAULT_JWT_SECRET,
            local_gotrue::SigningAlgorithm::Hs256,
            &local_gotrue::jwt::Keys::generate_ec_private(),
        )
        .unwrap();
        assert!(public.verify(server.anon_key(), 0).is_err());

        // A second launch on the same folder gets a new control token.
        drop(server);
        let again = start(dir.path()).await.unwrap();
        assert_ne!(again.control_token(), Some(token.as_str()));
    }
}
