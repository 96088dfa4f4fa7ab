//! The kernel keyring (keyutils) as a keyring-core store that keeps each entry in exactly one
//! place: the user's persistent keyring.
//!
//! Why not the credentials of linux-keyutils-keyring-store: they add keys to, and search from,
//! "the session keyring" as the calling thread sees it at that moment, and also link each key
//! into the persistent keyring. Which session keyring a thread sees is not stable. A process
//! without a login session starts on the shared per-user session keyring (`_uid_ses.<uid>`),
//! and the store links the persistent keyring into the session keyring each time it builds an
//! entry; for a thread on the per-user keyring, the kernel answers that by giving the thread a
//! new anonymous session keyring of its own. From then on every thread of a pool has its own
//! session keyring, holding its own copies of the keys it wrote or read, while the persistent
//! keyring holds whichever copy was linked there last. A save on one thread then never
//! reaches the copy another thread finds first; a read re-links its (possibly old) copy into
//! the persistent keyring, where every other thread and the next process find it; and a
//! delete invalidates only the copy the deleting thread finds first.
//!
//! Here every operation works on the persistent keyring directly: add_key there updates the
//! one key with that description in place, and searches start there, so there is nothing
//! another copy could shadow. Descriptions are the ones the store crate uses, so sessions
//! saved before this change are still found.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use keyring_core::api::{CredentialApi, CredentialPersistence, CredentialStoreApi};
use keyring_core::attributes::parse_attributes;
use keyring_core::{Credential, Entry, Error, Result};
use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier};

/// The keyring that holds every entry, made reachable from the calling thread.
///
/// The persistent keyring lets its owner search and write it only when the caller possesses
/// it, that is, reaches it from its own thread, process or session keyring. Linking it into the
/// thread keyring gives the calling thread that, and leaves the session keyring alone (asking
/// for the link into the session keyring is what moves a thread off the per-user session
/// keyring). Every call also restarts the persistent keyring's expiry timer.
///
/// Threads are pooled, so this is asked for again on every operation rather than once.
fn home() -> std::result::Result<KeyRing, KeyError> {
    match KeyRing::get_persistent(KeyRingIdentifier::Thread) {
        Ok(ring) => Ok(ring),
        // A kernel built without persistent keyrings: the session keyring is the next best
        // thing, shared by every thread that has not been given one of its own.
        Err(KeyError::OperationNotSupported) => {
            KeyRing::from_special_id(KeyRingIdentifier::Session, false)
        }
        Err(error) => Err(error),
    }
}

fn is_missing(error: &KeyError) -> bool {
    // An invalidated key can still be in a keyring until the kernel collects it; searches
    // report it as revoked meanwhile.
    matches!(
        error,
        KeyError::KeyDoesNotExist | KeyError::KeyRevoked | KeyError::KeyExpired
    )
}

fn platform(error: KeyError) -> Error {
    match error {
        error if is_missing(&error) => Error::NoEntry,
        KeyError::AccessDenied => Error::NoStorageAccess(Box::new(error)),
        error => Error::PlatformFailure(Box::new(error)),
    }
}

/// Invalidates every key with this description that a search from `ring` finds (one per
/// keyring it reaches); returns how many.
fn invalidate_all(ring: KeyRing, description: &str) -> std::result::Result<usize, KeyError> {
    let mut count = 0;
    // Each round invalidates the copy the search found, so the next search finds another one
    // or nothing; the bound only guards against a kernel that would keep returning one key.
    for _ in 0..64 {
        match ring.search(description) {
            Ok(key) => key.invalidate()?,
            Err(error) if is_missing(&error) => break,
            Err(error) => return Err(error),
        }
        count += 1;
    }
    Ok(count)
}

pub struct Store {
    id: String,
}

impl Store {
    pub fn new() -> Result<Arc<Store>> {
        // Fail here, not at the first save, when there is no kernel keyring to use.
        home().map_err(|error| Error::NoStorageAccess(Box::new(error)))?;
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ok(Arc::new(Store {
            id: format!(
                "session-vault kernel keyring, opened at {}",
                since_epoch.as_secs_f64()
            ),
        }))
    }
}

impl CredentialStoreApi for Store {
    fn vendor(&self) -> String {
        "session-vault: the Linux persistent keyring (keyutils)".to_string()
    }

    fn id(&self) -> String {
        self.id.clone()
    }

    fn build(
        &self,
        service: &str,
        user: &str,
        modifiers: Option<&HashMap<&str, &str>>,
    ) -> Result<Entry> {
        // No modifiers are understood; this rejects any that are passed.
        parse_attributes(&[], modifiers)?;
        Ok(Entry::new_with_credential(Arc::new(Cred {
            // The store crate's default layout, which older versions of the app wrote.
            description: format!("keyring:{user}@{service}"),
            specifiers: (service.to_string(), user.to_string()),
        })))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn persistence(&self) -> CredentialPersistence {
        CredentialPersistence::UntilReboot
    }
}

#[derive(Debug)]
struct Cred {
    description: String,
    specifiers: (String, String),
}

impl CredentialApi for Cred {
    fn set_secret(&self, secret: &[u8]) -> Result<()> {
        if secret.is_empty() {
            // The kernel refuses empty user keys.
            return Err(Error::Invalid(
                "secret".to_string(),
                "cannot be empty".to_string(),
            ));
        }
        // When the keyring already holds a key with this description, add_key rewrites that
        // key rather than adding a second one.
        let ring = home().map_err(platform)?;
        ring.add_key(&self.description, secret).map_err(platform)?;
        Ok(())
    }

    fn get_secret(&self) -> Result<Vec<u8>> {
        let ring = home().map_err(platform)?;
        let key = ring.search(&self.description).map_err(platform)?;
        key.read_to_vec().map_err(platform)
    }

    fn delete_credential(&self) -> Result<()> {
        let ring = home().map_err(platform)?;
        let mut removed = invalidate_all(ring, &self.description).map_err(platform)?;
        // Copies in the calling thread's session keyring are never read, but older versions
        // (through the store crate) left some there: take them away as well, so no token
        // stays behind after a sign-out. Best effort: a copy this thread may not touch is
        // not one it can read either.
        if let Ok(session) = KeyRing::from_special_id(KeyRingIdentifier::Session, false) {
            match invalidate_all(session, &self.description) {
                Ok(count) => removed += count,
                Err(KeyError::AccessDenied) => {}
                Err(error) => return Err(platform(error)),
            }
        }
        if removed == 0 {
            Err(Error::NoEntry)
        } else {
            Ok(())
        }
    }

    fn get_credential(&self) -> Result<Option<Arc<Credential>>> {
        let ring = home().map_err(platform)?;
        ring.search(&self.description).map_err(platform)?;
        Ok(None)
    }

    fn get_specifiers(&self) -> Option<(String, String)> {
        Some(self.specifiers.clone())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
