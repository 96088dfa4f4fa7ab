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

/// keyring-core's in-memory mock store, and nothing else: no OS keyring is touched here.
fn mock_store() -> Arc<CredentialStore> {
    let store: Arc<CredentialStore> = keyring_core::mock::Store::new().unwrap();
    assert!(
        store.vendor().starts_with("Mock store"),
        "the store these tests use: {}",
        store.vendor()
    );
    store
}

/// A vault over a mock store, labelled Secret Service (the label decides the inline limit).
fn vault(dir: &std::path::Path) -> Vault {
    let vault = Vault::with_store(
        mock_store(),
        Backend::SecretService,
        "test",
        dir.to_path_buf(),
    );
    assert_eq!(vault.backend(), Backend::SecretService);
    vault
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
        !text.contains(big.refresh_token.as_str()) && !text.contains("eyJhbGci"),
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

/// A vault over a store the test also holds, sealing sessions over 2 KiB, in `dir`.
fn sealing_vault(store: &Arc<CredentialStore>, dir: &std::path::Path) -> Vault {
    assert!(
        store.vendor().starts_with("Mock store"),
        "{}",
        store.vendor()
    );
    let mut vault = Vault::with_store(
        store.clone(),
        Backend::SecretService,
        "test",
        dir.to_path_buf(),
    );
    vault.set_inline_limit(2048);
    vault
}

fn entry(store: &Arc<CredentialStore>, user: &str) -> keyring_core::Entry {
    keyring_core::Entry::new_in_store(store, "test", user).unwrap()
}

#[cfg(unix)]
#[test]
fn sealed_files_and_their_folder_are_the_users_alone() {
    use std::os::unix::fs::PermissionsExt as _;
    let folder = temp_dir();
    let dir = folder.path().join("sessions");
    let store = mock_store();
    let vault = sealing_vault(&store, &dir);
    vault.save("p", &session(5000)).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "the sealed folder");
    for file in std::fs::read_dir(&dir).unwrap() {
        let path = file.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}

#[test]
fn a_sealed_file_rolled_back_to_an_older_copy_is_detected() {
    let folder = temp_dir();
    let store = mock_store();
    let vault = sealing_vault(&store, folder.path());
    let older = session(5000);
    vault.save("p", &older).unwrap();
    let file = folder.path().join("p.sealed");
    let older_bytes = std::fs::read(&file).unwrap();
    let mut newer = session(5000);
    newer.refresh_token = "mnopqrstuvwx".into();
    vault.save("p", &newer).unwrap();
    assert_eq!(vault.load("p").unwrap(), Some(newer.clone()));

    std::fs::write(&file, &older_bytes).unwrap();
    match vault.load("p") {
        Err(StorageError::Corrupt(why)) => assert!(why.contains("older copy"), "{why}"),
        other => panic!("the older copy was accepted: {other:?}"),
    }
}

#[test]
fn a_session_moving_back_inline_removes_its_sealed_file_and_key() {
    let folder = temp_dir();
    let store = mock_store();
    let vault = sealing_vault(&store, folder.path());
    vault.save("p", &session(5000)).unwrap();
    assert!(folder.path().join("p.sealed").exists());
    assert!(entry(&store, "key:p").get_secret().is_ok());

    vault.save("p", &session(10)).unwrap();
    assert_eq!(vault.load("p").unwrap(), Some(session(10)));
    assert!(
        !folder.path().join("p.sealed").exists(),
        "the stale sealed file is gone"
    );
    assert!(
        matches!(
            entry(&store, "key:p").get_secret(),
            Err(keyring_core::Error::NoEntry)
        ),
        "and so is its key"
    );
}

#[test]
fn a_sealed_file_name_from_the_keyring_must_be_the_profiles_own() {
    // A keyring entry rewritten to point at a file elsewhere (here: a valid sealed session
    // in another folder) is refused, not followed.
    let elsewhere = temp_dir();
    let store = mock_store();
    sealing_vault(&store, elsewhere.path())
        .save("p", &session(5000))
        .unwrap();
    let here = temp_dir();
    let vault = sealing_vault(&store, here.path());
    let outside = elsewhere.path().join("p.sealed");
    let pointed = std::fs::read(&outside).unwrap();
    assert!(!pointed.is_empty());
    let entry_json = String::from_utf8(entry(&store, "session:p").get_secret().unwrap()).unwrap();
    let rewritten = entry_json.replace(
        "\"p.sealed\"",
        &format!("{:?}", outside.display().to_string()),
    );
    assert_ne!(rewritten, entry_json);
    entry(&store, "session:p")
        .set_secret(rewritten.as_bytes())
        .unwrap();
    match vault.load("p") {
        Err(StorageError::Corrupt(why)) => assert!(why.contains("file name"), "{why}"),
        other => panic!("followed the keyring to another file: {other:?}"),
    }
}

#[test]
fn an_io_error_reading_the_sealed_file_is_not_corruption_and_loses_nothing() {
    let folder = temp_dir();
    let store = mock_store();
    let vault = sealing_vault(&store, folder.path());
    let big = session(5000);
    vault.save("p", &big).unwrap();
    let file = folder.path().join("p.sealed");
    let kept = folder.path().join("kept");
    std::fs::rename(&file, &kept).unwrap();
    // A directory where the file should be: reading fails with an I/O error (as root too).
    std::fs::create_dir(&file).unwrap();
    assert!(
        matches!(vault.load("p"), Err(StorageError::Backend(_))),
        "an I/O error is not corruption: {:?}",
        vault.load("p")
    );
    std::fs::remove_dir(&file).unwrap();
    std::fs::rename(&kept, &file).unwrap();
    assert_eq!(vault.load("p").unwrap(), Some(big), "nothing was lost");
}

#[test]
fn a_sealed_file_deleted_while_the_keyring_points_to_it_is_corrupt() {
    let (vault, file, _folder) = sealed_session();
    std::fs::remove_file(&file).unwrap();
    match vault.load("p") {
        Err(StorageError::Corrupt(why)) => assert!(why.contains("missing"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_sealed_save_stopped_before_its_keyring_update_still_loads_the_newer_session() {
    let folder = temp_dir();
    let store = mock_store();
    let vault = sealing_vault(&store, folder.path());
    let older = session(10);
    vault.save("p", &older).unwrap();
    let inline_entry = entry(&store, "session:p").get_secret().unwrap();

    // The newer session is sealed; then the keyring is put back as it was before the save,
    // as if the process had been killed between writing the file and updating the entry.
    let mut newer = session(5000);
    newer.refresh_token = "mnopqrstuvwx".into();
    vault.save("p", &newer).unwrap();
    entry(&store, "session:p")
        .set_secret(&inline_entry)
        .unwrap();
    assert_eq!(
        vault.load("p").unwrap(),
        Some(newer),
        "the file one count ahead wins"
    );

    // The next inline save cleans the sealed copy and its key up.
    vault.save("p", &older).unwrap();
    assert!(!folder.path().join("p.sealed").exists());
    assert!(matches!(
        entry(&store, "key:p").get_secret(),
        Err(keyring_core::Error::NoEntry)
    ));
    assert_eq!(vault.load("p").unwrap(), Some(older));
}

#[test]
fn the_count_goes_on_across_inline_saves_so_an_old_sealed_file_never_opens_again() {
    let folder = temp_dir();
    let store = mock_store();
    let vault = sealing_vault(&store, folder.path());
    vault.save("p", &session(5000)).unwrap();
    let first = std::fs::read(folder.path().join("p.sealed")).unwrap();
    vault.save("p", &session(10)).unwrap();
    let mut later = session(5000);
    later.refresh_token = "mnopqrstuvwx".into();
    vault.save("p", &later).unwrap();
    assert_eq!(vault.load("p").unwrap(), Some(later));
    std::fs::write(folder.path().join("p.sealed"), first).unwrap();
    assert!(matches!(vault.load("p"), Err(StorageError::Corrupt(_))));
}

#[test]
fn a_profiles_jwt_secret_is_kept_loaded_and_removed_apart_from_its_session() {
    use secrecy::{ExposeSecret, SecretString};
    let folder = temp_dir();
    let vault = vault(folder.path());
    assert!(vault.load_jwt_secret("p").unwrap().is_none());
    vault
        .save_jwt_secret("p", &SecretString::from("project-jwt-secret-1"))
        .unwrap();
    vault.save("p", &session(10)).unwrap();
    assert_eq!(
        vault.load_jwt_secret("p").unwrap().unwrap().expose_secret(),
        "project-jwt-secret-1"
    );
    assert!(vault.load_jwt_secret("q").unwrap().is_none(), "per profile");

    // Signing out (the session removed) keeps the project's secret, and the other way round.
    vault.remove("p").unwrap();
    assert!(vault.load_jwt_secret("p").unwrap().is_some());
    vault.save("p", &session(10)).unwrap();
    vault.remove_jwt_secret("p").unwrap();
    assert!(vault.load_jwt_secret("p").unwrap().is_none());
    assert!(vault.load("p").unwrap().is_some());
    vault.remove_jwt_secret("p").unwrap();

    assert!(vault.save_jwt_secret("p", &SecretString::from("")).is_err());
}

#[test]
fn without_a_keyring_the_jwt_secret_lasts_as_long_as_the_vault() {
    use secrecy::{ExposeSecret, SecretString};
    let folder = temp_dir();
    let vault = Vault::open_backend(Backend::Memory, "test", folder.path().to_path_buf()).unwrap();
    vault
        .save_jwt_secret("p", &SecretString::from("in-memory-secret"))
        .unwrap();
    assert_eq!(
        vault.load_jwt_secret("p").unwrap().unwrap().expose_secret(),
        "in-memory-secret"
    );
    vault.remove_jwt_secret("p").unwrap();
    assert!(vault.load_jwt_secret("p").unwrap().is_none());
}

/// Ways what the vault keeps can be damaged behind its back, and the vault's words for each.
const DAMAGES: [(&str, &str); 4] = [
    (
        "the sealed file deleted",
        "the sealed session file is missing",
    ),
    ("the key deleted", "the sealed session's key is missing"),
    (
        "a key of the wrong length",
        "the profile's sealing key has the wrong length",
    ),
    (
        "an entry that is not JSON",
        "the keyring entry is not a session (",
    ),
];

fn damage(store: &Arc<CredentialStore>, dir: &std::path::Path, which: &str) {
    match which {
        "the sealed file deleted" => std::fs::remove_file(dir.join("p.sealed")).unwrap(),
        "the key deleted" => entry(store, "key:p").delete_credential().unwrap(),
        "a key of the wrong length" => entry(store, "key:p").set_secret(&[7u8; 16]).unwrap(),
        "an entry that is not JSON" => entry(store, "session:p")
            .set_secret(b"not a session")
            .unwrap(),
        other => panic!("{other}"),
    }
}

#[test]
fn each_kind_of_damage_is_reported_as_corrupt_with_its_reason() {
    for (which, reason) in DAMAGES {
        let folder = temp_dir();
        let store = mock_store();
        let vault = sealing_vault(&store, folder.path());
        vault.save("p", &session(5000)).unwrap();
        damage(&store, folder.path(), which);
        match vault.load("p") {
            Err(StorageError::Corrupt(why)) => assert!(why.starts_with(reason), "{which}: {why}"),
            other => panic!("{which}: {other:?}"),
        }
    }
}

/// Whatever is damaged, the next session is saved (sealed or inline) and loads: a running app
/// keeps persisting its refreshed sessions instead of failing every save from then on.
#[test]
fn a_new_session_is_saved_over_any_damage() {
    for (which, _) in DAMAGES {
        for size in [5000, 10] {
            let folder = temp_dir();
            let store = mock_store();
            let vault = sealing_vault(&store, folder.path());
            vault.save("p", &session(5000)).unwrap();
            damage(&store, folder.path(), which);
            let mut newer = session(size);
            newer.refresh_token = "mnopqrstuvwx".into();
            vault
                .save("p", &newer)
                .unwrap_or_else(|e| panic!("{which}, a {size}-byte session: {e:?}"));
            assert_eq!(vault.load("p").unwrap(), Some(newer), "{which}, {size}");
        }
    }
}

#[test]
fn signing_out_removes_what_killed_sealed_saves_left_behind() {
    let folder = temp_dir();
    let store = mock_store();
    let vault = sealing_vault(&store, folder.path());
    vault.save("p", &session(5000)).unwrap();
    vault.save("q", &session(5000)).unwrap();
    // What a save killed between creating its temporary file and renaming it leaves.
    for stopped in [".p.sealed.4242.0.tmp", ".p.sealed.4243.7.tmp"] {
        std::fs::write(folder.path().join(stopped), b"an older sealed session").unwrap();
    }
    std::fs::write(folder.path().join(".q.sealed.4244.1.tmp"), b"q's").unwrap();
    vault.remove("p").unwrap();
    let mut left: Vec<String> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [".q.sealed.4244.1.tmp", "q.sealed"],
        "only q's files stay"
    );
}

#[test]
fn the_inline_limit_table_is_what_each_backend_claims() {
    use session_vault::WINDOWS_CREDENTIAL_BLOB_MAX;
    // CRED_MAX_CREDENTIAL_BLOB_SIZE in the Windows SDK is 5 * 512 bytes.
    assert_eq!(WINDOWS_CREDENTIAL_BLOB_MAX, 2560);
    let table = [
        (Backend::SecretService, 64 * 1024),
        (Backend::KernelKeyring, 16 * 1024),
        (Backend::MacosKeychain, 16 * 1024),
        (Backend::WindowsCredentialManager, 2560),
        (Backend::Memory, usize::MAX),
    ];
    for (backend, limit) in table {
        assert_eq!(backend.inline_limit(), limit, "{backend:?}");
        let vault = Vault::with_store(mock_store(), backend, "test", temp_dir().path().into());
        assert_eq!(vault.backend(), backend);
    }
    // The platforms' own stores keep sessions across restarts: nothing to warn about.
    for quiet in [
        Backend::SecretService,
        Backend::MacosKeychain,
        Backend::WindowsCredentialManager,
    ] {
        assert_eq!(quiet.notice(), None, "{quiet:?}");
    }
    for warned in [Backend::KernelKeyring, Backend::Memory] {
        assert!(warned.notice().is_some(), "{warned:?}");
    }
    // The names the window gets (ipc.gen.ts).
    let names: Vec<_> = table
        .iter()
        .map(|(backend, _)| serde_json::to_value(backend).unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "secretService",
            "kernelKeyring",
            "macosKeychain",
            "windowsCredentialManager",
            "memory"
        ]
    );
}

/// keyring-core's mock store behind the one check windows-native-keyring-store makes before
/// writing: a secret over the credential blob's size is refused (`Error::TooLong`).
#[derive(Debug)]
struct CappedStore {
    inner: Arc<CredentialStore>,
    cap: usize,
}

#[derive(Debug)]
struct CappedCredential {
    inner: keyring_core::Entry,
    cap: usize,
}

impl keyring_core::api::CredentialApi for CappedCredential {
    fn set_secret(&self, secret: &[u8]) -> keyring_core::Result<()> {
        if secret.len() > self.cap {
            return Err(keyring_core::Error::TooLong(
                "secret".into(),
                self.cap.try_into().unwrap(),
            ));
        }
        self.inner.set_secret(secret)
    }

    fn get_secret(&self) -> keyring_core::Result<Vec<u8>> {
        self.inner.get_secret()
    }

    fn delete_credential(&self) -> keyring_core::Result<()> {
        self.inner.delete_credential()
    }

    fn get_credential(&self) -> keyring_core::Result<Option<Arc<keyring_core::api::Credential>>> {
        Ok(None)
    }

    fn get_specifiers(&self) -> Option<(String, String)> {
        self.inner.get_specifiers()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl keyring_core::api::CredentialStoreApi for CappedStore {
    fn vendor(&self) -> String {
        format!("Capped at {} bytes: {}", self.cap, self.inner.vendor())
    }

    fn id(&self) -> String {
        self.inner.id()
    }

    fn build(
        &self,
        service: &str,
        user: &str,
        modifiers: Option<&std::collections::HashMap<&str, &str>>,
    ) -> keyring_core::Result<keyring_core::Entry> {
        let inner = self.inner.build(service, user, modifiers)?;
        Ok(keyring_core::Entry::new_with_credential(Arc::new(
            CappedCredential {
                inner,
                cap: self.cap,
            },
        )))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[test]
fn with_credential_managers_limit_a_big_session_is_sealed_and_a_small_one_stays_inline() {
    let folder = temp_dir();
    let store: Arc<CredentialStore> = Arc::new(CappedStore {
        inner: mock_store(),
        cap: Backend::WindowsCredentialManager.inline_limit(),
    });
    let vault = Vault::with_store(
        store.clone(),
        Backend::WindowsCredentialManager,
        "test",
        folder.path().to_path_buf(),
    );
    let small = session(100);
    // A user with big metadata: well over what one credential holds.
    let big = session(4000);
    // A session whose JSON alone is exactly the cap: its keyring entry (the envelope around it)
    // is larger, so it must be sealed too.
    let bare = serde_json::to_vec(&session(0)).unwrap().len();
    let edge = session(2560 - bare);
    assert_eq!(serde_json::to_vec(&edge).unwrap().len(), 2560);
    for (profile, session) in [("small", &small), ("big", &big), ("edge", &edge)] {
        vault.save(profile, session).unwrap();
        assert_eq!(
            vault.load(profile).unwrap().as_ref(),
            Some(session),
            "{profile}"
        );
    }
    let kind = |profile: &str| {
        let bytes = entry(&store, &format!("session:{profile}"))
            .get_secret()
            .unwrap();
        assert!(bytes.len() <= 2560, "{profile}: {} bytes", bytes.len());
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["kind"].clone()
    };
    assert_eq!(kind("small"), "inline");
    assert_eq!(kind("big"), "sealed");
    assert_eq!(kind("edge"), "sealed");
    let mut files: Vec<String> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["big.sealed", "edge.sealed"]);
    // The big session shrinks back under the limit: inline again, its file and key gone.
    vault.save("big", &small).unwrap();
    assert_eq!(kind("big"), "inline");
    assert_eq!(vault.load("big").unwrap(), Some(small));
    assert!(!folder.path().join("big.sealed").exists());
    assert!(matches!(
        entry(&store, "key:big").get_secret(),
        Err(keyring_core::Error::NoEntry)
    ));
    // The project JWT secret goes through the same capped store.
    vault
        .save_jwt_secret("small", &secrecy::SecretString::from("s".repeat(64)))
        .unwrap();
    assert!(vault.load_jwt_secret("small").unwrap().is_some());
}

#[test]
fn forgetting_a_profile_removes_its_session_key_sealed_file_and_jwt_secret_only() {
    use secrecy::SecretString;
    let folder = temp_dir();
    let dir = folder.path().join("sessions");
    let store = mock_store();
    let vault = sealing_vault(&store, &dir);
    for profile in ["gone", "kept"] {
        vault.save(profile, &session(5000)).unwrap();
        vault
            .save_jwt_secret(profile, &SecretString::from("project-jwt-secret"))
            .unwrap();
    }
    vault.forget_profile("gone").unwrap();

    for user in ["session:gone", "key:gone", "jwt-secret:gone"] {
        assert!(
            matches!(
                entry(&store, user).get_secret(),
                Err(keyring_core::Error::NoEntry)
            ),
            "{user} is still in the keyring"
        );
    }
    assert!(!dir.join("gone.sealed").exists(), "the sealed file stayed");
    assert!(vault.load("kept").unwrap().is_some());
    assert!(vault.load_jwt_secret("kept").unwrap().is_some());
    assert!(dir.join("kept.sealed").exists());
    // Forgetting what is not there is not an error.
    vault.forget_profile("gone").unwrap();
    vault.forget_profile("never-saved").unwrap();
}

/// keyring-core's mock store, writing down every call the vault makes (`"get session:p"`):
/// what a save costs in keyring round trips, one line per trip.
#[derive(Debug)]
struct CountingStore {
    inner: Arc<CredentialStore>,
    calls: Arc<std::sync::Mutex<Vec<String>>>,
    hook: Hook,
}

#[derive(Debug)]
struct CountingCredential {
    inner: keyring_core::Entry,
    user: String,
    calls: Arc<std::sync::Mutex<Vec<String>>>,
    hook: Hook,
}

/// What another process does right after a given call of this one (`"get session:p"`, its
/// `nth` time counting from 1): one action, run once, outside every lock.
#[derive(Clone, Default)]
struct Hook(Arc<std::sync::Mutex<Option<Armed>>>);

/// The call a hook waits for, how many more of them, and what it then does.
type Armed = (String, usize, Box<dyn FnOnce() + Send>);

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hook")
    }
}

impl Hook {
    fn after(&self, call: &str, nth: usize, action: impl FnOnce() + Send + 'static) {
        *self.0.lock().unwrap() = Some((call.to_string(), nth, Box::new(action)));
    }

    fn armed(&self) -> bool {
        self.0.lock().unwrap().is_some()
    }

    fn done(&self, call: &str) {
        let action = {
            let mut armed = self.0.lock().unwrap();
            match armed.as_mut() {
                Some((on, nth, _)) if on == call => {
                    *nth -= 1;
                    if *nth == 0 {
                        armed.take().map(|(_, _, action)| action)
                    } else {
                        None
                    }
                }
                _ => None,
            }
        };
        if let Some(action) = action {
            action();
        }
    }
}

impl CountingCredential {
    fn called(&self, what: &str) {
        self.calls
            .lock()
            .unwrap()
            .push(format!("{what} {}", self.user));
    }

    fn done(&self, what: &str) {
        self.hook.done(&format!("{what} {}", self.user));
    }
}

impl keyring_core::api::CredentialApi for CountingCredential {
    fn set_secret(&self, secret: &[u8]) -> keyring_core::Result<()> {
        self.called("set");
        self.inner.set_secret(secret)
    }

    fn get_secret(&self) -> keyring_core::Result<Vec<u8>> {
        self.called("get");
        let secret = self.inner.get_secret();
        self.done("get");
        secret
    }

    fn delete_credential(&self) -> keyring_core::Result<()> {
        self.called("delete");
        self.inner.delete_credential()
    }

    fn get_credential(&self) -> keyring_core::Result<Option<Arc<keyring_core::api::Credential>>> {
        Ok(None)
    }

    fn get_specifiers(&self) -> Option<(String, String)> {
        self.inner.get_specifiers()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl keyring_core::api::CredentialStoreApi for CountingStore {
    fn vendor(&self) -> String {
        format!("Counting: {}", self.inner.vendor())
    }

    fn id(&self) -> String {
        self.inner.id()
    }

    fn build(
        &self,
        service: &str,
        user: &str,
        modifiers: Option<&std::collections::HashMap<&str, &str>>,
    ) -> keyring_core::Result<keyring_core::Entry> {
        let inner = self.inner.build(service, user, modifiers)?;
        Ok(keyring_core::Entry::new_with_credential(Arc::new(
            CountingCredential {
                inner,
                user: user.to_string(),
                calls: self.calls.clone(),
                hook: self.hook.clone(),
            },
        )))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A mock store that counts, the list of its calls, and a vault over it sealing past 2 KiB.
fn counted(
    dir: &std::path::Path,
) -> (
    Arc<CredentialStore>,
    Arc<std::sync::Mutex<Vec<String>>>,
    Vault,
) {
    let (store, calls, _) = hooked();
    (store.clone(), calls, counting_vault(&store, dir))
}

/// A counting mock store, its calls, and the hook that acts as another process between them.
fn hooked() -> (
    Arc<CredentialStore>,
    Arc<std::sync::Mutex<Vec<String>>>,
    Hook,
) {
    let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
    let hook = Hook::default();
    let store: Arc<CredentialStore> = Arc::new(CountingStore {
        inner: mock_store(),
        calls: calls.clone(),
        hook: hook.clone(),
    });
    (store, calls, hook)
}

/// Another vault (another process's) over the same counting store and folder.
fn counting_vault(store: &Arc<CredentialStore>, dir: &std::path::Path) -> Vault {
    let mut vault = Vault::with_store(
        store.clone(),
        Backend::SecretService,
        "test",
        dir.to_path_buf(),
    );
    vault.set_inline_limit(2048);
    vault
}

fn taken(calls: &std::sync::Mutex<Vec<String>>) -> Vec<String> {
    std::mem::take(&mut *calls.lock().unwrap())
}

fn small(mark: &str) -> Session {
    let mut session = session(10);
    session.refresh_token = mark.into();
    session
}

#[test]
fn an_inline_save_asks_about_the_key_only_until_it_has_seen_it_gone() {
    let folder = temp_dir();
    let (store, calls, vault) = counted(folder.path());
    vault.save("p", &small("one")).unwrap();
    assert_eq!(
        taken(&calls),
        ["get session:p", "set session:p", "delete key:p"],
        "the first save of this vault: it knows nothing of the key yet"
    );
    vault.save("p", &small("two")).unwrap();
    assert_eq!(
        taken(&calls),
        ["get session:p", "set session:p"],
        "the key seen gone: two round trips, read and write"
    );
    vault.save("p", &small("three")).unwrap();
    assert_eq!(taken(&calls), ["get session:p", "set session:p"]);
    // Knowledge is per profile and per vault: another profile, and another process, ask once.
    vault.save("q", &small("q")).unwrap();
    assert_eq!(
        taken(&calls),
        ["get session:q", "set session:q", "delete key:q"]
    );
    let restarted = counting_vault(&store, folder.path());
    restarted.save("p", &small("four")).unwrap();
    assert_eq!(
        taken(&calls),
        ["get session:p", "set session:p", "delete key:p"]
    );
    assert_eq!(restarted.load("p").unwrap(), Some(small("four")));
    assert_eq!(
        taken(&calls),
        ["get session:p"],
        "a load with no sealed file never asks for the key"
    );
}

#[test]
fn an_inline_save_after_its_own_sealed_save_removes_the_key_again() {
    let folder = temp_dir();
    let (store, calls, vault) = counted(folder.path());
    vault.save("p", &small("one")).unwrap();
    vault.save("p", &session(5000)).unwrap();
    taken(&calls);
    vault.save("p", &small("two")).unwrap();
    assert_eq!(
        taken(&calls),
        ["get session:p", "set session:p", "delete key:p"]
    );
    assert!(matches!(
        entry(&store, "key:p").get_secret(),
        Err(keyring_core::Error::NoEntry)
    ));
    assert!(!folder.path().join("p.sealed").exists());
}

/// A sealed save of this vault that failed after making its key (the folder cannot be made)
/// leaves a key that sealed nothing: the vault knows it wrote one, and the next inline save
/// removes it.
#[test]
fn a_key_left_by_a_failed_sealed_save_is_removed_by_the_next_inline_save() {
    let folder = temp_dir();
    let blocked = folder.path().join("sessions");
    let (store, calls, vault) = counted(&blocked);
    vault.save("p", &small("one")).unwrap();
    std::fs::write(&blocked, b"a file where the folder should be").unwrap();
    assert!(vault.save("p", &session(5000)).is_err());
    assert!(entry(&store, "key:p").get_secret().is_ok());
    taken(&calls);
    vault.save("p", &small("two")).unwrap();
    assert_eq!(
        taken(&calls),
        ["get session:p", "set session:p", "delete key:p"]
    );
    assert!(matches!(
        entry(&store, "key:p").get_secret(),
        Err(keyring_core::Error::NoEntry)
    ));
}

/// What another process does behind this vault's back is seen in the keyring entry it read
/// anyway or in the sealed folder, never assumed away.
#[test]
fn another_processs_sealed_save_makes_the_next_inline_save_remove_the_key() {
    // Finished: the entry says sealed (even with its file gone).
    let folder = temp_dir();
    let (store, calls, vault) = counted(folder.path());
    vault.save("p", &small("one")).unwrap();
    vault.save("p", &small("two")).unwrap();
    counting_vault(&store, folder.path())
        .save("p", &session(5000))
        .unwrap();
    std::fs::remove_file(folder.path().join("p.sealed")).unwrap();
    taken(&calls);
    vault.save("p", &small("three")).unwrap();
    assert_eq!(
        taken(&calls),
        ["get session:p", "set session:p", "delete key:p"]
    );

    // Stopped between its file and the entry: the entry still inline, the file one count ahead.
    let folder = temp_dir();
    let (store, calls, vault) = counted(folder.path());
    vault.save("p", &small("one")).unwrap();
    vault.save("p", &small("two")).unwrap();
    let inline_entry = entry(&store, "session:p").get_secret().unwrap();
    counting_vault(&store, folder.path())
        .save("p", &session(5000))
        .unwrap();
    entry(&store, "session:p")
        .set_secret(&inline_entry)
        .unwrap();
    taken(&calls);
    vault.save("p", &small("three")).unwrap();
    assert_eq!(
        taken(&calls),
        ["get session:p", "set session:p", "delete key:p"]
    );
    assert_eq!(vault.load("p").unwrap(), Some(small("three")));
    assert!(std::fs::read_dir(folder.path()).unwrap().next().is_none());

    // Killed inside the file write: only its temporary is there.
    let folder = temp_dir();
    let (store, calls, vault) = counted(folder.path());
    vault.save("p", &small("one")).unwrap();
    vault.save("p", &small("two")).unwrap();
    entry(&store, "key:p").set_secret(&[9u8; 32]).unwrap();
    std::fs::write(folder.path().join(".p.sealed.4242.0.tmp"), b"half").unwrap();
    taken(&calls);
    vault.save("p", &small("three")).unwrap();
    assert_eq!(
        taken(&calls),
        ["get session:p", "set session:p", "delete key:p"]
    );
    assert!(std::fs::read_dir(folder.path()).unwrap().next().is_none());
}

/// The app loads a sealed session; right after it read the entry, the CLI (another process,
/// another vault over the same keyring and folder) saves a small session inline, deleting the
/// sealed file and key. The app's read of the file fails, yet the entry changed: the load
/// judges the new entry, and the engine's start-up drops nothing.
#[tokio::test]
async fn a_load_racing_another_processs_save_gets_the_new_session_and_drops_nothing() {
    let folder = temp_dir();
    let (store, _calls, hook) = hooked();
    let app = Arc::new(counting_vault(&store, folder.path()));
    app.save("p", &session(5000)).unwrap();
    let cli = counting_vault(&store, folder.path());
    hook.after("get session:p", 1, move || {
        cli.save("p", &small("cli")).unwrap()
    });
    assert_eq!(app.load("p").unwrap(), Some(small("cli")));
    assert!(!hook.armed(), "the CLI saved between the reads");

    // The same race at the engine's start-up.
    app.save("p", &session(5000)).unwrap();
    let cli = counting_vault(&store, folder.path());
    hook.after("get session:p", 1, move || {
        cli.save("p", &small("cli2")).unwrap()
    });
    let config = session_engine::ClientConfig::new("http://127.0.0.1:9", "anon");
    let client = session_engine::AuthClient::new(config, app.clone(), "p")
        .await
        .unwrap();
    assert!(!hook.armed());
    assert_eq!(client.current_session(), Some(small("cli2")));
    assert_eq!(app.load("p").unwrap(), Some(small("cli2")), "still stored");
}

/// The stored entry really is unreadable when the engine loads it; another process saves a
/// new session before the engine drops it. The drop judges the entry again and keeps (and
/// returns) the new session.
#[tokio::test]
async fn an_unreadable_entry_replaced_before_its_drop_is_kept() {
    let folder = temp_dir();
    let (store, calls, hook) = hooked();
    let app = Arc::new(counting_vault(&store, folder.path()));
    entry(&store, "session:p")
        .set_secret(b"not a session")
        .unwrap();
    let cli = counting_vault(&store, folder.path());
    // The load reads the entry twice (the judgement, the same bytes again); then the CLI saves.
    hook.after("get session:p", 2, move || {
        cli.save("p", &small("cli")).unwrap()
    });
    let config = session_engine::ClientConfig::new("http://127.0.0.1:9", "anon");
    let client = session_engine::AuthClient::new(config, app.clone(), "p")
        .await
        .unwrap();
    assert!(!hook.armed(), "the CLI saved between the load and the drop");
    assert_eq!(client.current_session(), Some(small("cli")));
    taken(&calls);
    assert_eq!(app.load("p").unwrap(), Some(small("cli")), "not removed");

    // Unreadable and unchanged: dropped, as before.
    entry(&store, "session:p")
        .set_secret(b"not a session")
        .unwrap();
    assert_eq!(app.drop_unreadable("p").unwrap(), None);
    assert!(matches!(
        entry(&store, "session:p").get_secret(),
        Err(keyring_core::Error::NoEntry)
    ));
}

/// An entry that changes at every read and never opens: reported, and nothing removed.
#[test]
fn an_entry_that_keeps_changing_is_not_dropped() {
    let folder = temp_dir();
    let (store, _calls, hook) = hooked();
    let app = counting_vault(&store, folder.path());
    fn rewrite(store: Arc<CredentialStore>, hook: Hook, left: usize) {
        entry(&store, "session:p")
            .set_secret(format!("not a session {left}").as_bytes())
            .unwrap();
        if left > 0 {
            let again = hook.clone();
            hook.after("get session:p", 1, move || rewrite(store, again, left - 1));
        }
    }
    rewrite(store.clone(), hook.clone(), 10);
    match app.drop_unreadable("p") {
        Err(StorageError::Backend(why)) => assert!(why.contains("keeps changing"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(
        entry(&store, "session:p").get_secret().is_ok(),
        "not removed"
    );
}

/// An inline entry and a sealed file one count ahead that cannot be read now (a directory in
/// its place gives an I/O error, as root too): the load says so, rather than returning the
/// older inline copy, and the engine drops nothing.
#[tokio::test]
async fn an_unreadable_file_one_count_ahead_of_an_inline_entry_fails_the_load() {
    let folder = temp_dir();
    let store = mock_store();
    let vault = Arc::new(sealing_vault(&store, folder.path()));
    vault.save("p", &small("older")).unwrap();
    let inline_entry = entry(&store, "session:p").get_secret().unwrap();
    vault.save("p", &session(5000)).unwrap();
    entry(&store, "session:p")
        .set_secret(&inline_entry)
        .unwrap();
    let file = folder.path().join("p.sealed");
    let kept = folder.path().join("kept");
    std::fs::rename(&file, &kept).unwrap();
    std::fs::create_dir(&file).unwrap();
    match vault.load("p") {
        Err(StorageError::Backend(why)) => assert!(why.contains("cannot be read"), "{why}"),
        other => panic!("the older inline copy instead of an error: {other:?}"),
    }
    let config = session_engine::ClientConfig::new("http://127.0.0.1:9", "anon");
    assert!(session_engine::AuthClient::new(config, vault.clone(), "p")
        .await
        .is_err());
    assert_eq!(
        entry(&store, "session:p").get_secret().unwrap(),
        inline_entry
    );
    assert!(
        entry(&store, "key:p").get_secret().is_ok(),
        "the key is kept"
    );
    std::fs::remove_dir(&file).unwrap();
    std::fs::rename(&kept, &file).unwrap();
    assert_eq!(
        vault.load("p").unwrap(),
        Some(session(5000)),
        "nothing lost"
    );
}

/// Another process's sealed save stopped after writing its key (no file): this vault's inline
/// saves keep that key (it sealed nothing), its next sealed save uses it, and every load
/// returns the session last saved.
#[test]
fn a_key_another_process_left_is_used_by_the_next_sealed_save() {
    let folder = temp_dir();
    let (store, calls, vault) = counted(folder.path());
    vault.save("p", &small("one")).unwrap();
    vault.save("p", &small("two")).unwrap();
    entry(&store, "key:p").set_secret(&[9u8; 32]).unwrap();
    taken(&calls);
    vault.save("p", &small("three")).unwrap();
    assert_eq!(taken(&calls), ["get session:p", "set session:p"]);
    assert_eq!(vault.load("p").unwrap(), Some(small("three")));
    vault.save("p", &session(5000)).unwrap();
    assert_eq!(vault.load("p").unwrap(), Some(session(5000)));
    let sealed = std::fs::read(folder.path().join("p.sealed")).unwrap();
    assert_eq!(sealed.first(), Some(&1), "a current-format file");
    vault.save("p", &small("four")).unwrap();
    assert_eq!(vault.load("p").unwrap(), Some(small("four")));
    assert!(matches!(
        entry(&store, "key:p").get_secret(),
        Err(keyring_core::Error::NoEntry)
    ));
    assert!(!folder.path().join("p.sealed").exists());
}
