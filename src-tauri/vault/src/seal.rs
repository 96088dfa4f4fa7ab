//! Sealed sessions: AES-256-GCM, a fresh 96-bit nonce per write, stored as nonce ‖ ciphertext,
//! written to a temporary file, synced, then renamed over the old one (so a crash leaves the
//! old file or the new one, never half of either).

use std::fs::File;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use session_engine::StorageError;

const NONCE: usize = 12;

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
}

pub fn random_key() -> [u8; 32] {
    random::<32>()
}

pub fn seal(key: &[u8; 32], plain: &[u8]) -> Result<Vec<u8>, StorageError> {
    let cipher = Aes256Gcm::new(key.into());
    let nonce = random::<NONCE>();
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), plain)
        .map_err(|_| StorageError::Backend("sealing the session failed".into()))?;
    Ok([nonce.as_slice(), &ciphertext].concat())
}

pub fn open(key: &[u8; 32], sealed: &[u8]) -> Result<Vec<u8>, StorageError> {
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

pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
    let fail = |what: &str, e: std::io::Error| {
        StorageError::Backend(format!("{what} {}: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("cannot create", e))?;
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = File::create(&temporary).map_err(|e| fail("cannot write in", e))?;
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
    fn sealed_bytes_open_only_with_their_key_and_unchanged() {
        let key = random_key();
        let sealed = seal(&key, b"session json").unwrap();
        assert_eq!(open(&key, &sealed).unwrap(), b"session json");
        assert!(open(&random_key(), &sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(open(&key, &tampered).is_err());
        assert!(open(&key, &sealed[..10]).is_err());
        assert_ne!(
            seal(&key, b"session json").unwrap(),
            sealed,
            "a fresh nonce each time"
        );
    }
}
