//! A profile's project JWT secret (the HS256 key a project signs access tokens with), which the
//! user may give so HS256 tokens can be verified here. It lives in the keyring entry
//! `jwt-secret:<profile>`, beside the profile's session, and leaves the vault only as a
//! `SecretString`: never logged, never shown again.

use secrecy::{ExposeSecret, SecretString};
use session_engine::StorageError;

use crate::{backend_error, Vault};

fn user(profile: &str) -> String {
    format!("jwt-secret:{profile}")
}

impl Vault {
    /// Keeps `secret` as the profile's project JWT secret, replacing any earlier one.
    pub fn save_jwt_secret(
        &self,
        profile: &str,
        secret: &SecretString,
    ) -> Result<(), StorageError> {
        if secret.expose_secret().is_empty() {
            return Err(StorageError::Backend(
                "an empty JWT secret is not kept".into(),
            ));
        }
        let Some(store) = &self.store else {
            self.memory_secrets()
                .insert(profile.to_string(), secret.clone());
            return Ok(());
        };
        self.entry(store, &user(profile))?
            .set_password(secret.expose_secret())
            .map_err(backend_error)
    }

    /// The profile's project JWT secret, if one was kept.
    pub fn load_jwt_secret(&self, profile: &str) -> Result<Option<SecretString>, StorageError> {
        let Some(store) = &self.store else {
            return Ok(self.memory_secrets().get(profile).cloned());
        };
        match self.entry(store, &user(profile))?.get_password() {
            Ok(secret) => Ok(Some(SecretString::from(secret))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(keyring_core::Error::BadEncoding(_)) => Err(StorageError::Corrupt(
                "the kept JWT secret is not text".into(),
            )),
            Err(error) => Err(backend_error(error)),
        }
    }

    /// Forgets the profile's project JWT secret (nothing kept is fine).
    pub fn remove_jwt_secret(&self, profile: &str) -> Result<(), StorageError> {
        let Some(store) = &self.store else {
            self.memory_secrets().remove(profile);
            return Ok(());
        };
        match self.entry(store, &user(profile))?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(error) => Err(backend_error(error)),
        }
    }

    fn memory_secrets(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, SecretString>> {
        self.jwt_secrets.lock().unwrap_or_else(|p| p.into_inner())
    }
}
