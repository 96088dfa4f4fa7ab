//! Sealed sessions: AES-256-GCM with a fresh 96-bit nonce per write, stored as
//! version ‖ nonce ‖ ciphertext. The associated data binds a file to its profile and to the
//! save counter the keyring holds, so a file copied from another profile or rolled back to an
//! older copy does not open. Written to a private temporary file (0600, in a 0700 folder),
//! synced, then renamed over the old one (a crash leaves the old file or the new one, never
//! half of either).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use session_engine::StorageError;

const NONCE: usize = 12;

/// The first byte of every file in the current format.
const VERSION: u8 = 1;

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
}

pub fn random_key() -> [u8; 32] {
    random::<32>()
}

/// What a sealed file is bound to: its profile and the save counter (the keyring entry says
/// which counter the current file has).
fn associated_data(profile: &str, counter: u64) -> Vec<u8> {
    [
        b"session-inspector sealed v1\0".as_slice(),
        profile.as_bytes(),
        b"\0",
        &counter.to_be_bytes(),
    ]
    .concat()
}

pub fn seal(
    key: &[u8; 32],
    profile: &str,
    counter: u64,
    plain: &[u8],
) -> Result<Vec<u8>, StorageError> {
    let cipher = Aes256Gcm::new(key.into());
    let nonce = random::<NONCE>();
    let aad = associated_data(profile, counter);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: &aad,
            },
        )
        .map_err(|_| StorageError::Backend("sealing the session failed".into()))?;
    Ok([&[VERSION], nonce.as_slice(), &ciphertext].concat())
}

/// Opens a file sealed for `profile` at `counter`.
pub fn open(
    key: &[u8; 32],
    profile: &str,
    counter: u64,
    sealed: &[u8],
) -> Result<Vec<u8>, StorageError> {
    let Some((&VERSION, rest)) = sealed.split_first() else {
        return Err(StorageError::Corrupt(
            "the sealed session file has an unknown format".into(),
        ));
    };
    if rest.len() < NONCE + 16 {
        return Err(StorageError::Corrupt(
            "the sealed session file is truncated".into(),
        ));
    }
    let (nonce, ciphertext) = rest.split_at(NONCE);
    let aad = associated_data(profile, counter);
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
        .map_err(|_| {
            StorageError::Corrupt(
                "the sealed session file does not open for this profile and save (tampered, an older copy, or another profile's file)"
                    .into(),
            )
        })
}

/// Opens a file written before the format had a version byte: nonce ‖ ciphertext, no
/// associated data. Read once; the next save rewrites it in the current format.
pub fn open_unversioned(key: &[u8; 32], sealed: &[u8]) -> Result<Vec<u8>, StorageError> {
    if sealed.len() < NONCE + 16 {
        return Err(StorageError::Corrupt(
            "the sealed session file is truncated".into(),
        ));
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE);
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(nonce), ciphertext)
        .map_err(|_| {
            StorageError::Corrupt(
                "the sealed session does not open with its key (tampered, or from another keyring)"
                    .into(),
            )
        })
}

/// Creates `dir` (and its parents) if missing, and makes it the user's alone.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// A new or truncated file only the user can read.
fn private_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        let file = options.open(path)?;
        // A leftover temporary from a crash keeps its old mode unless told.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// The temporary file of one write of `name`: unique per write, so two writers never share
/// one, and recognisable by `remove_temporaries`.
fn temporary_name(name: &str, n: u64) -> String {
    format!(".{name}.{}.{n}.tmp", std::process::id())
}

/// A file that is not there: missing, or its folder is not a folder.
pub fn is_absent(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// Removes the temporary files of writes of `name` that were stopped before their rename (a
/// process killed while writing leaves one, under its own process id, which no later write
/// reuses). Each holds an older sealed session. A folder that is not there holds none.
pub fn remove_temporaries(dir: &Path, name: &str) -> std::io::Result<()> {
    let prefix = format!(".{name}.");
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if is_absent(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let file = entry.file_name();
        let Some(file) = file.to_str() else { continue };
        if file.starts_with(&prefix) && file.ends_with(".tmp") {
            match std::fs::remove_file(entry.path()) {
                Err(e) if !is_absent(&e) => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Whether `dir` holds the file `name` or a temporary of a write of it (one listing, no keyring:
/// the cheap question an inline save asks before deciding it has nothing sealed to remove).
/// A folder that is not there holds neither.
pub fn any_copy(dir: &Path, name: &str) -> std::io::Result<bool> {
    let prefix = format!(".{name}.");
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if is_absent(&e) => return Ok(false),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let file = entry?.file_name();
        // A name that is not UTF-8 is neither ours nor a temporary of ours.
        let Some(file) = file.to_str() else { continue };
        if file == name || (file.starts_with(&prefix) && file.ends_with(".tmp")) {
            return Ok(true);
        }
    }
    Ok(false)
}

pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
    let fail = |what: &str, e: std::io::Error| {
        StorageError::Backend(format!("{what} {}: {e}", dir.display()))
    };
    private_dir(dir).map_err(|e| fail("cannot create", e))?;
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = dir.join(temporary_name(name, n));
    let mut file = private_file(&temporary).map_err(|e| fail("cannot write in", e))?;
    file.write_all(bytes)
        .map_err(|e| fail("cannot write in", e))?;
    file.sync_all()
        .map_err(|e| fail("cannot sync a file in", e))?;
    drop(file);
    std::fs::rename(&temporary, dir.join(name)).map_err(|e| fail("cannot replace a file in", e))?;
    // The rename itself is durable once the directory is synced.
    if let Ok(directory) = File::open(dir) {
        let _ = directory.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_open_only_with_their_key_profile_and_counter() {
        let key = random_key();
        let sealed = seal(&key, "p", 7, b"session json").unwrap();
        assert_eq!(sealed[0], VERSION);
        assert_eq!(open(&key, "p", 7, &sealed).unwrap(), b"session json");
        assert!(open(&random_key(), "p", 7, &sealed).is_err());
        assert!(open(&key, "q", 7, &sealed).is_err(), "another profile");
        assert!(open(&key, "p", 6, &sealed).is_err(), "another save");
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(open(&key, "p", 7, &tampered).is_err());
        assert!(open(&key, "p", 7, &sealed[..10]).is_err());
        assert!(open(&key, "p", 7, &[]).is_err());
        assert_ne!(
            seal(&key, "p", 7, b"session json").unwrap(),
            sealed,
            "a fresh nonce each time"
        );
    }
}
