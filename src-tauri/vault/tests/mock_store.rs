//! The vault's logic on keyring-core's in-memory mock store (the real stores are tested in
//! tests/keyring.rs).

use std::sync::Arc;

use keyring_core::CredentialStore;
use serde_json::json;
use session_engine::{Session, SessionStore, StorageError, User};
use session_vault::{Backend, Vault};

fn session(metadata_bytes: usize) -> Session {
    let user: User = serde_json::from_value(json!({
        "id": "u1", "email": "a@b.co",
        "user_metadata": {"bio": "x".repeat(metadata_bytes)},
    }))
    .unwrap();
    Session {
        access_token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl".into(),
        token_type: "bearer".into(),
        expires_in: 3600,
        expires_at: 2_000_000_000,
        refresh_token: "abcdefghijkl".into(),
        user,
        provider_token: None,
        provider_refresh_token: None,
    }
}

fn vault(dir: &std::path::Path) -> Vault {
    let store: Arc<CredentialStore> = keyring_core::mock::Store::new().unwrap();
    Vault::with_store(store, Backend::SecretService, "test", dir.to_path_buf())
}

/// A folder removed when the test ends, passed or not.
fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("vault-").tempdir().unwrap()
}

/// A vault holding profile "p" sealed on disk, and the sealed file's path.
/// A vault holding one sealed session, the sealed file, and the folder (kept while in use).
fn sealed_session() -> (Vault, std::path::PathBuf, tempfile::TempDir) {
    let folder = temp_dir();
    let dir = folder.path().to_path_buf();
    let mut vault = vault(&dir);
    vault.set_inline_limit(0);
    vault.save("p", &session(10)).unwrap();
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    (vault, file, folder)
}

#[test]
fn a_small_session_round_trips_inline_with_no_file() {
    let folder = temp_dir();
    let dir = folder.path().to_path_buf();
    let vault = vault(&dir);
    assert_eq!(vault.load("p").unwrap(), None);
    vault.save("p", &session(10)).unwrap();
    assert_eq!(vault.load("p").unwrap(), Some(session(10)));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing on disk"
    );
    vault.remove("p").unwrap();
    assert_eq!(vault.load("p").unwrap(), None);
}

#[test]
fn a_large_session_is_sealed_on_disk_and_opens_again() {
    let folder = temp_dir();
    let dir = folder.path().to_path_buf();
    let mut vault = vault(&dir);
    vault.set_inline_limit(2048);
    let big = session(5000);
    vault.save("p", &big).unwrap();
    assert_eq!(vault.load("p").unwrap(), Some(big.clone()));
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one sealed file, no temporary left: {files:?}"
    );
    let bytes = std::fs::read(&files[0]).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains(&big.refresh_token) && !text.contains("eyJhbGci"),
        "encrypted"
    );
    // A second save replaces the file and still opens.
    let mut newer = big.clone();
    newer.refresh_token = "mnopqrstuvwx".into();
    vault.save("p", &newer).unwrap();
    assert_eq!(vault.load("p").unwrap(), Some(newer));
    vault.remove("p").unwrap();
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "the sealed file is deleted"
    );
}

#[test]
fn a_tampered_sealed_file_is_reported_as_corrupt() {
    let (vault, file, _folder) = sealed_session();
    let mut bytes = std::fs::read(&file).unwrap();
    *bytes.last_mut().unwrap() ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    assert!(matches!(vault.load("p"), Err(StorageError::Corrupt(_))));
}

#[test]
fn profiles_are_kept_apart() {
    let folder = temp_dir();
    let dir = folder.path().to_path_buf();
    let vault = vault(&dir);
    vault.save("a", &session(1)).unwrap();
    vault.save("b", &session(2)).unwrap();
    vault.remove("a").unwrap();
    assert_eq!(vault.load("a").unwrap(), None);
    assert_eq!(vault.load("b").unwrap(), Some(session(2)));
}

#[tokio::test]
async fn an_unreadable_stored_session_is_dropped_and_the_client_still_starts() {
    let (vault, file, _folder) = sealed_session();
    std::fs::write(&file, b"not a sealed session at all, far too short?").unwrap();
    let vault = Arc::new(vault);
    let config = session_engine::ClientConfig::new("http://127.0.0.1:9", "anon");
    let client = session_engine::AuthClient::new(config, vault.clone(), "p")
        .await
        .expect("starts anyway");
    assert!(client.current_session().is_none());
    assert_eq!(
        vault.load("p").unwrap(),
        None,
        "the unreadable entry was removed"
    );
}
