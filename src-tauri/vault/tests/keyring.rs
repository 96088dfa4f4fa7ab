//! The vault on the real OS keyrings: the Secret Service (gnome-keyring) and the kernel
//! keyring. They need a session bus with an unlocked keyring and a kernel session keyring:
//! `make test` runs these through src-tauri/scripts/with-keyring.sh, which provides both, one
//! test at a time.
//!
//! Hermetic: every test refuses to run outside with-keyring.sh (whose gnome-keyring keeps its
//! data in a throwaway folder), works under a keyring service name of its own, checks which
//! keyring the vault actually used by reading the entry there itself, and ends by asserting
//! that nothing of its own is left in either keyring. The kernel store writes to the user's
//! persistent keyring, which outlives the session keyring with-keyring.sh gives us: whatever
//! a failed test left there is swept away when its `Run` drops.
#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use keyring_core::{CredentialStore, Entry};
use linux_keyutils::{KeyRing, KeyRingIdentifier};
use local_gotrue::{Config, DemoUser};
use session_engine::tokens::fingerprint;
use session_engine::{
    AuthClient, AuthError, ClientConfig, Credentials, Session, SessionStore, StorageError,
};
use session_vault::{Backend, Vault};

const EMAIL: &str = "demo@example.com";
const PASSWORD: &str = "demo-password-1";

/// Unique per call: no two tests, and no two runs, share a profile or service name.
fn unique(name: &str) -> String {
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).unwrap();
    format!(
        "{name}-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(suffix)
            .replace(['-', '_'], "x")
    )
}

fn random_below(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    u64::from_le_bytes(bytes) % bound
}

/// A folder removed when the test ends, passed or not. It is on disk (cargo's target folder),
/// not in `/tmp`: on tmpfs a sealed save has no fsync to wait for, and a kill could hardly
/// land inside it.
fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("{name}-"))
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

async fn server() -> local_gotrue::Server {
    let config = Config {
        demo_user: Some(DemoUser {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        }),
        ..Config::default()
    };
    local_gotrue::start(config).await.unwrap()
}

fn client_config(server: &local_gotrue::Server) -> ClientConfig {
    ClientConfig::new(server.url(), server.anon_key())
}

fn demo_credentials() -> Credentials {
    Credentials::Email {
        email: EMAIL.into(),
        password: PASSWORD.into(),
    }
}

async fn signed_in_client(
    server: &local_gotrue::Server,
    vault: Arc<Vault>,
    profile: &str,
) -> AuthClient {
    let client = AuthClient::new(client_config(server), vault, profile)
        .await
        .unwrap();
    client
        .sign_in_with_password(demo_credentials())
        .await
        .unwrap();
    client
}

/// Stops the test unless it runs inside with-keyring.sh: a throwaway gnome-keyring (its data
/// under a temporary XDG_DATA_HOME) on a private bus, in a fresh kernel session keyring. Run
/// anywhere else, these tests would open the user's own keyrings.
fn require_private_keyrings() {
    let temp = std::env::temp_dir();
    for var in ["XDG_DATA_HOME", "XDG_RUNTIME_DIR"] {
        let value = std::env::var_os(var).map(PathBuf::from);
        assert!(
            value.as_ref().is_some_and(|path| path.starts_with(&temp)),
            "{var} is {value:?}, not a throwaway folder: run these tests through \
             src-tauri/scripts/with-keyring.sh, never against your own keyrings"
        );
    }
    let session = KeyRing::from_special_id(KeyRingIdentifier::Session, false)
        .and_then(|ring| ring.metadata())
        .map(|metadata| metadata.get_description().to_string());
    assert_eq!(
        session.as_deref().ok(),
        Some("_ses"),
        "not in a session keyring of its own (keyctl session): run through with-keyring.sh"
    );
}

fn secret_service_store() -> Arc<CredentialStore> {
    zbus_secret_service_keyring_store::Store::new()
        .expect("the private Secret Service of with-keyring.sh")
}

/// The kernel keyring the vault's store keeps every entry in (see src/kernel_keyring.rs).
fn persistent_keyring() -> KeyRing {
    KeyRing::get_persistent(KeyRingIdentifier::Thread).expect("the persistent kernel keyring")
}

/// One test's keyring service: opens vaults under it, reads and damages its entries around
/// the vault, and takes everything under it away when dropped.
struct Run {
    service: String,
}

impl Run {
    fn new() -> Run {
        require_private_keyrings();
        Run {
            service: unique("dev.sessioninspector.test"),
        }
    }

    /// A vault on `backend`, which must be the keyring it says it uses.
    fn open(&self, backend: Backend, dir: &Path) -> Vault {
        open_under(&self.service, backend, dir)
    }

    fn raw(&self, backend: Backend) -> Raw {
        Raw {
            backend,
            service: self.service.clone(),
        }
    }

    /// What is left under this run's service: kernel key descriptions and Secret Service
    /// item labels.
    fn leftovers(&self) -> Vec<String> {
        let suffix = format!("@{}", self.service);
        let mut left: Vec<String> = persistent_keyring()
            .get_links(4096)
            .unwrap()
            .iter()
            .filter_map(|node| node.as_key())
            .filter_map(|key| key.metadata().ok())
            .map(|metadata| metadata.get_description().to_string())
            .filter(|description| description.ends_with(&suffix))
            .map(|description| format!("kernel keyring: {description}"))
            .collect();
        let spec = HashMap::from([("service", self.service.as_str())]);
        let items = Entry::search_in_store(&secret_service_store(), &spec).unwrap();
        for item in items {
            let (_, user) = item.get_specifiers().unwrap_or_default();
            left.push(format!("secret service: {user}@{}", self.service));
        }
        left
    }

    fn assert_nothing_left(&self) {
        let left = self.leftovers();
        assert!(left.is_empty(), "left in the keyrings: {left:?}");
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let suffix = format!("@{}", self.service);
        if let Ok(links) = persistent_keyring().get_links(4096) {
            for key in links.iter().filter_map(|node| node.as_key()) {
                let ours = key
                    .metadata()
                    .is_ok_and(|metadata| metadata.get_description().ends_with(&suffix));
                if ours {
                    let _ = key.invalidate();
                }
            }
        }
        let spec = HashMap::from([("service", self.service.as_str())]);
        if let Ok(items) = Entry::search_in_store(&secret_service_store(), &spec) {
            for item in items {
                let _ = item.delete_credential();
            }
        }
    }
}

fn open_under(service: &str, backend: Backend, dir: &Path) -> Vault {
    let vault = Vault::open_backend(backend, service, dir.to_path_buf()).unwrap_or_else(|e| {
        panic!(
            "{backend:?} is not usable here ({e}); run through src-tauri/scripts/with-keyring.sh"
        )
    });
    assert_eq!(
        vault.backend(),
        backend,
        "the keyring the vault says it uses"
    );
    vault
}

/// A vault entry read, written or deleted straight in the OS keyring, around the vault: the
/// proof of which keyring the vault used, and the way to damage what it keeps.
struct Raw {
    backend: Backend,
    service: String,
}

impl Raw {
    fn kernel_description(&self, user: &str) -> String {
        // keyring-core's layout, which src/kernel_keyring.rs keeps.
        format!("keyring:{user}@{}", self.service)
    }

    fn secret_service_entry(&self, user: &str) -> Entry {
        Entry::new_in_store(&secret_service_store(), &self.service, user).unwrap()
    }

    fn get(&self, user: &str) -> Option<Vec<u8>> {
        match self.backend {
            Backend::SecretService => match self.secret_service_entry(user).get_secret() {
                Ok(secret) => Some(secret),
                Err(keyring_core::Error::NoEntry) => None,
                Err(error) => panic!("the Secret Service: {error}"),
            },
            Backend::KernelKeyring => persistent_keyring()
                .search(&self.kernel_description(user))
                .ok()
                .map(|key| key.read_to_vec().unwrap()),
            other => unreachable!("these tests read no {other:?} entries"),
        }
    }

    fn set(&self, user: &str, secret: &[u8]) {
        match self.backend {
            Backend::SecretService => self.secret_service_entry(user).set_secret(secret).unwrap(),
            Backend::KernelKeyring => {
                persistent_keyring()
                    .add_key(&self.kernel_description(user), secret)
                    .unwrap();
            }
            other => unreachable!("these tests write no {other:?} entries"),
        }
    }

    fn delete(&self, user: &str) {
        match self.backend {
            Backend::SecretService => self.secret_service_entry(user).delete_credential().unwrap(),
            Backend::KernelKeyring => persistent_keyring()
                .search(&self.kernel_description(user))
                .unwrap()
                .invalidate()
                .unwrap(),
            other => unreachable!("these tests delete no {other:?} entries"),
        }
    }
}

async fn round_trip(backend: Backend) {
    let run = Run::new();
    let srv = server().await;
    for inline_limit in [usize::MAX, 0] {
        let folder = temp_dir("vault-real");
        let dir = folder.path().to_path_buf();
        let mut vault = run.open(backend, &dir);
        vault.set_inline_limit(inline_limit);
        let vault = Arc::new(vault);
        let profile = unique(&format!("round-trip-{inline_limit}"));
        let client = signed_in_client(&srv, vault.clone(), &profile).await;
        let session = client.refresh_session(None).await.unwrap().response.session;
        // The entry is in that keyring itself, read without the vault.
        let entry = run.raw(backend).get(&format!("session:{profile}"));
        let entry = String::from_utf8(entry.expect("the entry is in the keyring")).unwrap();
        let kind = if inline_limit == 0 {
            "sealed"
        } else {
            "inline"
        };
        assert!(
            entry.contains(&format!("\"kind\":\"{kind}\"")),
            "{backend:?}: {kind}"
        );
        // A fresh vault over the same keyring finds it: it is in the OS keyring, not in memory.
        let reopened = run.open(backend, &dir);
        assert_eq!(
            reopened.load(&profile).unwrap(),
            Some(session),
            "{backend:?}, inline limit {inline_limit}"
        );
        reopened.remove(&profile).unwrap();
        assert_eq!(run.open(backend, &dir).load(&profile).unwrap(), None);
    }
    run.assert_nothing_left();
}

#[tokio::test]
#[ignore = "needs a Secret Service: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn secret_service_keeps_sessions_inline_and_sealed() {
    round_trip(Backend::SecretService).await;
}

#[tokio::test]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn the_kernel_keyring_keeps_sessions_inline_and_sealed() {
    round_trip(Backend::KernelKeyring).await;
}

#[test]
#[ignore = "needs a Secret Service: run through src-tauri/scripts/with-keyring.sh (make test does)"]
fn open_prefers_the_secret_service_and_says_nothing_about_it() {
    let run = Run::new();
    let folder = temp_dir("vault-open");
    let vault = Vault::open(&run.service, folder.path().to_path_buf());
    assert_eq!(vault.backend(), Backend::SecretService);
    assert!(vault.backend().notice().is_none());
    vault.save("p", &made_up_session("open")).unwrap();
    assert!(
        run.raw(Backend::SecretService).get("session:p").is_some(),
        "saved in the Secret Service itself"
    );
    vault.remove("p").unwrap();
    run.assert_nothing_left();
}

fn encodings(secret: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let mut forms = vec![secret.to_string()];
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        // A token inside a larger encoded blob shows up at one of three alignments.
        for pad in ["", "a", "ab"] {
            let encoded = engine.encode(format!("{pad}{secret}"));
            let skip = (pad.len() * 4).div_ceil(3) + 1;
            forms.push(
                encoded
                    .chars()
                    .skip(skip)
                    .take(encoded.len().saturating_sub(skip + 4))
                    .collect(),
            );
        }
    }
    forms
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
#[ignore = "needs a Secret Service: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn no_token_reaches_the_disk_after_sign_in_and_five_refreshes() {
    let run = Run::new();
    let srv = server().await;
    let folder = temp_dir("vault-leak");
    let dir = folder.path().to_path_buf();
    let mut vault = run.open(Backend::SecretService, &dir);
    vault.set_inline_limit(0); // seal everything, so there are files to search
    let profile = unique("leak");
    let vault = Arc::new(vault);
    let client = signed_in_client(&srv, vault.clone(), &profile).await;
    let mut seen: Vec<Session> = vec![client.current_session().unwrap()];
    for _ in 0..5 {
        seen.push(client.refresh_session(None).await.unwrap().response.session);
    }
    let files = files_under(&dir);
    assert!(!files.is_empty(), "the sealed session is on disk");
    let mut hits = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for session in &seen {
            for secret in [&session.access_token, &session.refresh_token] {
                hits += encodings(secret)
                    .iter()
                    .filter(|form| form.len() >= 8 && text.contains(form.as_str()))
                    .count();
            }
        }
    }
    println!(
        "searched {} file(s) for {} tokens in 13 forms each: {hits} hits",
        files.len(),
        seen.len() * 2
    );
    vault.remove(&profile).unwrap();
    assert_eq!(hits, 0);
    run.assert_nothing_left();
}

// The kill test.

/// Where a round's sessions go: inline in the keyring entry, or sealed in a file (the save with
/// the most steps: key, temporary file, sync, rename, keyring entry).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Saves {
    Inline,
    Sealed,
}

impl Saves {
    fn inline_limit(self) -> usize {
        match self {
            Saves::Inline => usize::MAX,
            Saves::Sealed => 0,
        }
    }
}

/// File events in a folder (inotify): the sealed round times its kills by them, so that they
/// land inside sealed saves rather than wherever a random delay falls.
struct FolderEvents {
    fd: std::os::fd::OwnedFd,
}

impl FolderEvents {
    fn watch(dir: &Path) -> FolderEvents {
        use std::os::fd::FromRawFd as _;
        use std::os::unix::ffi::OsStrExt as _;
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
        assert!(fd >= 0, "inotify: {}", std::io::Error::last_os_error());
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
        let mask = libc::IN_CREATE | libc::IN_MODIFY | libc::IN_CLOSE_WRITE | libc::IN_MOVED_TO;
        let watch = unsafe {
            libc::inotify_add_watch(std::os::fd::AsRawFd::as_raw_fd(&fd), path.as_ptr(), mask)
        };
        assert!(watch >= 0, "inotify: {}", std::io::Error::last_os_error());
        FolderEvents { fd }
    }

    /// How many events came, waiting up to `timeout` for the first.
    fn take(&self, timeout: Duration) -> usize {
        use std::os::fd::AsRawFd as _;
        let mut poll = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
        if unsafe { libc::poll(&mut poll, 1, millis) } <= 0 {
            return 0;
        }
        let mut buffer = [0u8; 8192];
        let read = unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
            )
        };
        let mut count = 0;
        let mut at = 0usize;
        let header = std::mem::size_of::<libc::inotify_event>();
        while read > 0 && at + header <= read as usize {
            let event: libc::inotify_event =
                unsafe { std::ptr::read_unaligned(buffer[at..].as_ptr().cast()) };
            at += header + event.len as usize;
            count += 1;
        }
        count
    }

    fn drain(&self) {
        while self.take(Duration::ZERO) > 0 {}
    }
}

/// When a round's SIGKILL comes, counted from the rotor's first save.
#[derive(Debug, Clone, Copy)]
enum Trigger {
    After(Duration),
    /// Right after the `nth` file event in the sealed folder (plus a jitter).
    FileEvent {
        nth: usize,
        jitter: Duration,
    },
}

/// What a round of the kill test found in the vault after the kill.
#[derive(Debug, PartialEq)]
enum Kept {
    /// The server's current refresh token.
    Current,
    /// The current token's parent, while the rotor never said it had saved the current one:
    /// the kill came after the server rotated the token and before the save of its answer was
    /// done. No client can avoid that window (it cannot save an answer before it has it), and
    /// GoTrue covers it: the parent of the current token, at any age, gets the current token
    /// again. So it is kept, and the check proves the next start converges to the current
    /// token. The parent of a token the rotor had said it saved is a late save: lost.
    OneBehind,
}

/// The server's current refresh token in the session `token` belongs to, and its parent.
fn server_head(server: &local_gotrue::Server, token: &str) -> Option<(String, Option<String>)> {
    use local_gotrue::db;
    server.state().db.run(|conn| {
        let row = db::refresh_token(conn, token).unwrap()?;
        let head = db::active_refresh_token(conn, row.session_id?).unwrap()?;
        Some((head.token, head.parent))
    })
}

/// Temporary files of sealed saves in `dir` (a save killed before its rename leaves one).
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect()
}

struct KillRun<'a> {
    run: &'a Run,
    server: local_gotrue::Server,
    backend: Backend,
    saves: Saves,
    dir: PathBuf,
}

impl KillRun<'_> {
    fn rotor(&self, profile: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vault-rotor"));
        command.args([
            match self.backend {
                Backend::SecretService => "secret-service",
                _ => "keyutils",
            },
            &self.server.url(),
            self.server.anon_key(),
            self.dir.to_str().unwrap(),
            profile,
            EMAIL,
            PASSWORD,
            &self.run.service,
            &self.saves.inline_limit().to_string(),
        ]);
        command
    }

    fn vault(&self) -> Arc<Vault> {
        let mut vault = self.run.open(self.backend, &self.dir);
        vault.set_inline_limit(self.saves.inline_limit());
        Arc::new(vault)
    }

    /// Starts a rotor, kills it when `trigger` says (once it has saved a session), and returns
    /// the fingerprint of the last session it said it had saved, how many it saved, and
    /// whether the trigger fired.
    fn kill_one(
        &self,
        profile: &str,
        trigger: Trigger,
        events: &FolderEvents,
    ) -> (String, u64, bool) {
        let mut child: Child = self
            .rotor(profile)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (saved_tx, saved_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            use std::io::BufRead;
            let (mut last, mut count) = (None, 0u64);
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(fingerprint) = line
                    .strip_prefix("saved ")
                    .and_then(|rest| rest.split_whitespace().nth(1))
                {
                    last = Some(fingerprint.to_string());
                    count += 1;
                    let _ = saved_tx.send(());
                }
            }
            (last, count)
        });
        if saved_rx.recv_timeout(Duration::from_secs(20)).is_err() {
            let _ = child.kill();
            panic!("the rotor saved no session: {:?}", child.wait());
        }
        let fired = match trigger {
            Trigger::After(pause) => {
                std::thread::sleep(pause);
                true
            }
            Trigger::FileEvent { nth, jitter } => {
                events.drain();
                let deadline = Instant::now() + Duration::from_secs(10);
                let mut seen = 0;
                while seen < nth && Instant::now() < deadline {
                    seen += events.take(deadline.saturating_duration_since(Instant::now()));
                }
                std::thread::sleep(jitter);
                seen >= nth
            }
        };
        child.kill().unwrap(); // SIGKILL: no chance to tidy up
        child.wait().unwrap();
        let (last, count) = reader.join().unwrap();
        (last.expect("it said it saved one"), count, fired)
    }

    /// What the vault holds after a kill, held against the server's chain and the rotor's last
    /// word; then the app's next start refreshes from it, which must give the server's current
    /// token, saved. Returns how it was kept, or why the session counts as lost.
    async fn check(&self, profile: &str, last_saved: &str) -> Result<Kept, String> {
        let vault = self.vault();
        let kept = match vault.load(profile) {
            Err(error) => return Err(format!("the saved session does not load: {error:?}")),
            Ok(None) => {
                return Err(format!(
                    "nothing is saved, though the rotor said it saved {last_saved}"
                ))
            }
            Ok(Some(session)) => session,
        };
        if self
            .run
            .raw(self.backend)
            .get(&format!("session:{profile}"))
            .is_none()
        {
            return Err(format!("the session is not in the {:?}", self.backend));
        }
        let kept_token = kept.refresh_token.as_str().to_string();
        let Some((head, parent)) = server_head(&self.server, &kept_token) else {
            return Err("the server does not know the saved token".into());
        };
        let how = if kept_token == head {
            Kept::Current
        } else if parent.as_deref() == Some(kept_token.as_str())
            && last_saved == fingerprint(&kept_token)
        {
            Kept::OneBehind
        } else {
            return Err(format!(
                "the vault holds {}, the server's current token is {} (its parent {}), and the \
                 rotor last said it saved {last_saved}",
                fingerprint(&kept_token),
                fingerprint(&head),
                parent.as_deref().map_or("none".into(), fingerprint),
            ));
        };
        // The app's next start: the refresh from what was kept must give the current chain.
        let client = AuthClient::new(client_config(&self.server), vault, profile)
            .await
            .map_err(|e| format!("the app cannot start: {e}"))?;
        let refreshed = client
            .refresh_session(None)
            .await
            .map_err(|e| format!("{how:?}, and the refresh from it failed: {e}"))?
            .response
            .session;
        let token = refreshed.refresh_token.as_str();
        if how == Kept::OneBehind && token != head {
            // GoTrue answers the parent of its current token with that current token again.
            return Err(format!(
                "refreshed from the parent, got {} instead of the current {}",
                fingerprint(token),
                fingerprint(&head)
            ));
        }
        let now_current = server_head(&self.server, token).map(|(head, _)| head);
        if now_current.as_deref() != Some(token) {
            return Err("after the refresh the server has a newer token".into());
        }
        let saved = self.vault().load(profile).map_err(|e| format!("{e:?}"))?;
        if saved.as_ref().map(|s| s.refresh_token.as_str()) != Some(token) {
            return Err("the refreshed session was not saved".into());
        }
        Ok(how)
    }
}

/// Kills a rotating child at random moments (and, for sealed saves, at file events in the
/// sealed folder, so that kills land inside the sealed save). After each kill the vault must
/// hold the server's current refresh token, or its parent when the kill came between the
/// server's answer and the end of the save; either way the next start converges.
async fn kill_test(backend: Backend, saves: Saves, kills: usize) {
    let run = Run::new();
    let folder = temp_dir("vault-kill");
    let test = KillRun {
        run: &run,
        server: server().await,
        backend,
        saves,
        dir: folder.path().to_path_buf(),
    };
    let events = FolderEvents::watch(&test.dir);
    let profiles: Vec<String> = (0..5).map(|i| unique(&format!("kill{i}"))).collect();
    let mut found: HashMap<String, usize> = HashMap::new();
    let (mut lost, mut saved_in_all, mut mid_write, mut on_events) = (Vec::new(), 0, 0, 0);
    // Sealed rounds go on (up to twice as many) until a kill has landed inside a sealed save:
    // whether one does is a matter of timing, which a loaded machine stretches or shrinks.
    let mut round = 0;
    while round < kills || (saves == Saves::Sealed && mid_write == 0 && round < 2 * kills) {
        let profile = profiles[round % profiles.len()].clone();
        let trigger = if saves == Saves::Sealed && (round % 2 == 1 || round >= kills) {
            let nth = 1 + random_below(8) as usize;
            Trigger::FileEvent {
                nth,
                // The first event is the sealed file's creation: kill at once after it.
                jitter: if nth == 1 {
                    Duration::ZERO
                } else {
                    Duration::from_micros(random_below(1000))
                },
            }
        } else {
            Trigger::After(Duration::from_millis(random_below(300)))
        };
        let before = temporaries(&test.dir);
        let (last, count, fired) =
            tokio::task::block_in_place(|| test.kill_one(&profile, trigger, &events));
        saved_in_all += count;
        if fired && matches!(trigger, Trigger::FileEvent { .. }) {
            on_events += 1;
        }
        if temporaries(&test.dir).iter().any(|t| !before.contains(t)) {
            mid_write += 1; // killed between creating the sealed file and renaming it
        }
        match test.check(&profile, &last).await {
            Ok(how) => *found.entry(format!("{how:?}")).or_default() += 1,
            Err(why) => {
                eprintln!("round {round} ({trigger:?}): {why}");
                lost.push(round);
            }
        }
        round += 1;
    }
    let kills = round;
    println!(
        "kill test ({backend:?}, {saves:?} saves): {kills} SIGKILLs ({on_events} on file events), \
         {saved_in_all} saves in all; kept {found:?}; killed while writing the sealed file: \
         {mid_write}; lost: {}",
        lost.len()
    );
    let cleanup = test.vault();
    for profile in &profiles {
        cleanup.remove(profile).unwrap();
    }
    let on_disk = files_under(&test.dir);
    assert!(
        on_disk.is_empty(),
        "signed out everywhere, and still on disk: {on_disk:?}"
    );
    run.assert_nothing_left();
    assert_eq!(lost, Vec::<usize>::new(), "rounds that lost the session");
    if saves == Saves::Sealed {
        assert!(
            on_events > 0 && mid_write > 0,
            "no kill landed inside a sealed save ({on_events} on file events, {mid_write} mid-write)"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn sigkill_during_inline_saves_loses_no_session_in_the_secret_service() {
    kill_test(Backend::SecretService, Saves::Inline, 40).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn sigkill_during_sealed_saves_loses_no_session_in_the_secret_service() {
    kill_test(Backend::SecretService, Saves::Sealed, 40).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn sigkill_during_inline_saves_loses_no_session_in_the_kernel_keyring() {
    kill_test(Backend::KernelKeyring, Saves::Inline, 40).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn sigkill_during_sealed_saves_loses_no_session_in_the_kernel_keyring() {
    kill_test(Backend::KernelKeyring, Saves::Sealed, 40).await;
}

/// An inline save skips deleting the sealing key only while its vault knows there is none: a
/// second vault on the same keyring and folder (another process: the command-line tool, or
/// the app started twice) that seals the profile behind its back is noticed, whether its
/// save finished (the entry says sealed) or stopped between the file and the entry (the file
/// is there). Either way the next inline save removes the file and the key, and loads as
/// itself, not as the older sealed copy.
fn another_process_sealing_behind_the_vaults_back(backend: Backend) {
    let run = Run::new();
    let raw = run.raw(backend);
    for stopped in [false, true] {
        let folder = temp_dir("vault-two");
        let dir = folder.path();
        let profile = unique("two");
        let ours = run.open(backend, dir);
        // Two inline saves: after the first, this vault has seen the key gone.
        ours.save(&profile, &made_up_session("ours-1")).unwrap();
        ours.save(&profile, &made_up_session("ours-2")).unwrap();
        let ours_entry = raw.get(&format!("session:{profile}")).unwrap();

        let mut other = run.open(backend, dir);
        other.set_inline_limit(0);
        other.save(&profile, &made_up_session("other")).unwrap();
        assert!(raw.get(&format!("key:{profile}")).is_some());
        assert!(dir.join(format!("{profile}.sealed")).exists());
        if stopped {
            // Killed between writing the sealed file and updating the entry.
            raw.set(&format!("session:{profile}"), &ours_entry);
            assert_eq!(
                ours.load(&profile).unwrap(),
                Some(made_up_session("other")),
                "the file one count ahead is the newer session"
            );
        }

        ours.save(&profile, &made_up_session("ours-3")).unwrap();
        assert_eq!(
            ours.load(&profile).unwrap(),
            Some(made_up_session("ours-3")),
            "{backend:?}, stopped: {stopped}"
        );
        assert_eq!(
            raw.get(&format!("key:{profile}")),
            None,
            "{backend:?}, stopped: {stopped}: the key"
        );
        assert!(
            files_under(dir).is_empty(),
            "{backend:?}, stopped: {stopped}: {:?}",
            files_under(dir)
        );
        ours.remove(&profile).unwrap();
    }
    run.assert_nothing_left();
}

#[test]
#[ignore = "needs a Secret Service: run through src-tauri/scripts/with-keyring.sh (make test does)"]
fn another_process_sealing_in_the_secret_service_is_cleaned_up_by_the_next_inline_save() {
    another_process_sealing_behind_the_vaults_back(Backend::SecretService);
}

#[test]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
fn another_process_sealing_in_the_kernel_keyring_is_cleaned_up_by_the_next_inline_save() {
    another_process_sealing_behind_the_vaults_back(Backend::KernelKeyring);
}

// Failure paths.

/// Warnings logged through `tracing` (which hands them to `log` when no subscriber is set).
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct WarningLog;

impl log::Log for WarningLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            WARNINGS
                .lock()
                .unwrap()
                .push(format!("{}: {}", record.target(), record.args()));
        }
    }

    fn flush(&self) {}
}

/// Starts keeping warnings (once per process; call before the code that warns).
fn capture_warnings() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        log::set_logger(&WarningLog).unwrap();
        log::set_max_level(log::LevelFilter::Warn);
    });
}

fn warnings_mentioning(text: &str) -> Vec<String> {
    WARNINGS
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.contains(text))
        .cloned()
        .collect()
}

/// Ways what the vault keeps can be damaged behind its back.
#[derive(Debug, Clone, Copy)]
enum Damage {
    SealedFileDeleted,
    KeyDeleted,
    KeyOfTheWrongLength,
    EntryNotJson,
}

impl Damage {
    const ALL: [Damage; 4] = [
        Damage::SealedFileDeleted,
        Damage::KeyDeleted,
        Damage::KeyOfTheWrongLength,
        Damage::EntryNotJson,
    ];

    fn apply(self, raw: &Raw, dir: &Path, profile: &str) {
        match self {
            Damage::SealedFileDeleted => {
                std::fs::remove_file(dir.join(format!("{profile}.sealed"))).unwrap()
            }
            Damage::KeyDeleted => raw.delete(&format!("key:{profile}")),
            Damage::KeyOfTheWrongLength => raw.set(&format!("key:{profile}"), &[7u8; 16]),
            Damage::EntryNotJson => raw.set(&format!("session:{profile}"), b"not a session"),
        }
    }

    /// The vault's own words for it.
    fn reason(self) -> &'static str {
        match self {
            Damage::SealedFileDeleted => "the sealed session file is missing",
            Damage::KeyDeleted => "the sealed session's key is missing",
            Damage::KeyOfTheWrongLength => "the profile's sealing key has the wrong length",
            Damage::EntryNotJson => "the keyring entry is not a session (",
        }
    }
}

/// For each damage: the vault reports it as `Corrupt` with its reason; the app's next start
/// drops the session with a warning naming the profile (it starts signed out; the session
/// could not be read, so there is nothing to keep), leaves nothing of it behind, and the next
/// sign-in is saved and loads again.
async fn damaged_sessions(backend: Backend) {
    capture_warnings();
    let run = Run::new();
    let srv = server().await;
    let raw = run.raw(backend);
    for damage in Damage::ALL {
        let folder = temp_dir("vault-damage");
        let dir = folder.path();
        let mut vault = run.open(backend, dir);
        vault.set_inline_limit(0);
        let vault = Arc::new(vault);
        let profile = unique("damage");
        signed_in_client(&srv, vault.clone(), &profile).await;
        assert!(
            raw.get(&format!("session:{profile}")).is_some(),
            "{backend:?}"
        );
        assert!(raw.get(&format!("key:{profile}")).is_some(), "{backend:?}");
        assert!(dir.join(format!("{profile}.sealed")).exists());

        damage.apply(&raw, dir, &profile);
        match vault.load(&profile) {
            Err(StorageError::Corrupt(why)) => {
                assert!(why.starts_with(damage.reason()), "{damage:?}: {why}")
            }
            other => panic!("{damage:?}: {other:?}"),
        }

        let restarted = AuthClient::new(client_config(&srv), vault.clone(), &profile)
            .await
            .unwrap_or_else(|e| panic!("{damage:?}: the app does not start: {e}"));
        assert_eq!(restarted.current_session(), None, "{damage:?}");
        let warned = warnings_mentioning(&profile);
        assert!(
            warned
                .iter()
                .any(|w| w.contains("dropping an unreadable stored session")
                    && w.contains(damage.reason())),
            "{damage:?}: not said: {warned:?}"
        );
        for user in [format!("session:{profile}"), format!("key:{profile}")] {
            assert_eq!(raw.get(&user), None, "{damage:?}: {user} left behind");
        }
        assert!(
            files_under(dir).is_empty(),
            "{damage:?}: a file left behind"
        );

        restarted
            .sign_in_with_password(demo_credentials())
            .await
            .unwrap_or_else(|e| panic!("{damage:?}: signing in again: {e}"));
        assert_eq!(
            run.open(backend, dir).load(&profile).unwrap(),
            restarted.current_session(),
            "{damage:?}"
        );
        vault.remove(&profile).unwrap();
    }
    run.assert_nothing_left();
}

#[tokio::test]
#[ignore = "needs a Secret Service: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn damage_in_the_secret_service_is_reported_then_dropped_and_signing_in_works_again() {
    damaged_sessions(Backend::SecretService).await;
}

#[tokio::test]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn damage_in_the_kernel_keyring_is_reported_then_dropped_and_signing_in_works_again() {
    damaged_sessions(Backend::KernelKeyring).await;
}

/// The kernel refuses a secret larger than a user key can hold (32,767 bytes): a vault told to
/// keep everything inline then cannot save a session with large user metadata. The refresh
/// says so (a storage error), the new session stays current in memory, the keyring keeps the
/// previous one intact, and the next start converges from it to the server's current token.
#[tokio::test]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn a_write_the_kernel_keyring_refuses_is_an_error_and_the_session_is_not_lost() {
    let run = Run::new();
    let srv = server().await;
    let folder = temp_dir("vault-refused");
    let dir = folder.path();
    let profile = unique("refused");
    let vault = Arc::new(run.open(Backend::KernelKeyring, dir));
    let client = signed_in_client(&srv, vault.clone(), &profile).await;
    client
        .update_user_metadata(serde_json::json!({"bio": "x".repeat(40_000)}))
        .await
        .unwrap();
    let before = vault
        .load(&profile)
        .unwrap()
        .expect("saved (sealed: it is large)");
    assert!(dir.join(format!("{profile}.sealed")).exists());
    drop(client);

    let mut everything_inline = run.open(Backend::KernelKeyring, dir);
    everything_inline.set_inline_limit(usize::MAX);
    let app = AuthClient::new(client_config(&srv), Arc::new(everything_inline), &profile)
        .await
        .unwrap();
    let error = app.refresh_session(None).await.unwrap_err();
    match &error {
        AuthError::Storage(StorageError::Backend(why)) => {
            assert!(why.starts_with("the OS keyring refused"), "{why}")
        }
        other => panic!("not a storage error: {other:?}"),
    }
    let in_memory = app
        .current_session()
        .expect("the new session is kept in memory");
    let head = server_head(&srv, in_memory.refresh_token.as_str()).unwrap();
    assert_eq!(
        head.0,
        in_memory.refresh_token.as_str(),
        "it is the current one"
    );
    assert_eq!(
        vault.load(&profile).unwrap().as_ref(),
        Some(&before),
        "the keyring keeps the previous session, intact"
    );
    assert_eq!(head.1.as_deref(), Some(before.refresh_token.as_str()));

    // The next start, with the normal limits: from the kept parent to the current token.
    let next = AuthClient::new(client_config(&srv), vault.clone(), &profile)
        .await
        .unwrap();
    let converged = next.refresh_session(None).await.unwrap().response.session;
    assert_eq!(converged.refresh_token, in_memory.refresh_token);
    assert_eq!(vault.load(&profile).unwrap(), Some(converged));
    vault.remove(&profile).unwrap();
    run.assert_nothing_left();
}

/// The sealed folder cannot be created (a file is in its place): the sign-in says so (a storage
/// error), its session is current in memory, and no session entry is written. The sealing key
/// made for it is already in the keyring (it protects nothing, and the next save replaces it);
/// signing out takes it away, the missing folder being no reason to fail.
async fn a_sealed_folder_that_cannot_be_made(backend: Backend) {
    let run = Run::new();
    let srv = server().await;
    let folder = temp_dir("vault-no-folder");
    let blocked = folder.path().join("sessions");
    std::fs::write(&blocked, b"a file where the folder should be").unwrap();
    let mut vault = run.open(backend, &blocked);
    vault.set_inline_limit(0);
    let vault = Arc::new(vault);
    let profile = unique("no-folder");
    let client = AuthClient::new(client_config(&srv), vault.clone(), &profile)
        .await
        .unwrap();
    match client.sign_in_with_password(demo_credentials()).await {
        Err(AuthError::Storage(StorageError::Backend(why))) => {
            assert!(why.starts_with("cannot create"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    let in_memory = client.current_session().expect("kept in memory");
    let token = in_memory.refresh_token.as_str();
    assert_eq!(
        server_head(&srv, token).map(|(head, _)| head).as_deref(),
        Some(token)
    );
    let raw = run.raw(backend);
    assert_eq!(
        raw.get(&format!("session:{profile}")),
        None,
        "no session entry"
    );
    assert_eq!(
        raw.get(&format!("key:{profile}")).map(|k| k.len()),
        Some(32)
    );
    assert_eq!(vault.load(&profile).unwrap(), None);
    vault.remove(&profile).unwrap();
    run.assert_nothing_left();
}

#[tokio::test]
#[ignore = "needs a Secret Service: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn a_sealed_folder_that_cannot_be_made_fails_the_save_in_the_secret_service() {
    a_sealed_folder_that_cannot_be_made(Backend::SecretService).await;
}

#[tokio::test]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn a_sealed_folder_that_cannot_be_made_fails_the_save_in_the_kernel_keyring() {
    a_sealed_folder_that_cannot_be_made(Backend::KernelKeyring).await;
}

// Falling back: `Vault::open` in a child process that has no Secret Service (its bus address
// leads nowhere) and, for the memory case, no kernel keyring either (keyctl, add_key and
// request_key fail with EPERM, as under a container's default seccomp profile).

const FALLBACK_CHILD: &str = "SESSION_VAULT_TEST_FALLBACK_CHILD";
const FALLBACK_SERVICE: &str = "SESSION_VAULT_TEST_FALLBACK_SERVICE";

/// Makes every kernel keyring call fail with EPERM in this process from now on (a seccomp
/// filter; inherited across exec). Called between fork and exec: system calls only.
fn deny_kernel_keyrings() -> std::io::Result<()> {
    const fn op(code: u32, k: u32, jt: u8) -> libc::sock_filter {
        libc::sock_filter {
            code: code as u16,
            jt,
            jf: 0,
            k,
        }
    }
    let is = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
    let ret = libc::BPF_RET | libc::BPF_K;
    let filter = [
        op(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0), // seccomp_data.nr
        op(is, libc::SYS_keyctl as u32, 3),
        op(is, libc::SYS_add_key as u32, 2),
        op(is, libc::SYS_request_key as u32, 1),
        op(ret, libc::SECCOMP_RET_ALLOW, 0),
        op(ret, libc::SECCOMP_RET_ERRNO | libc::EPERM as u32, 0),
    ];
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &program) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Runs `test` again in a child process, told by `FALLBACK_CHILD` to play `role`; returns its
/// output after checking it passed.
fn run_fallback_child(test: &str, role: &str, service: &str, keyrings: bool) -> String {
    use std::os::unix::process::CommandExt as _;
    let folder = temp_dir("vault-no-bus");
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(FALLBACK_CHILD, role)
        .env(FALLBACK_SERVICE, service)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", folder.path().join("no-bus").display()),
        );
    if !keyrings {
        unsafe { command.pre_exec(deny_kernel_keyrings) };
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{role}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The child's side: opens the vault as the app does and checks what it got.
fn fallback_child(role: &str) {
    let service = std::env::var(FALLBACK_SERVICE).unwrap();
    let folder = temp_dir("vault-fallback");
    let dir = folder.path().join("sessions");
    let mut vault = Vault::open(&service, dir.clone());
    vault.set_inline_limit(0);
    let session = made_up_session("fallback");
    match role {
        "no-secret-service" => {
            assert_eq!(vault.backend(), Backend::KernelKeyring);
            assert_eq!(
                vault.backend().notice(),
                Some("No Secret Service (gnome-keyring, KWallet) was found: sessions are kept in the kernel keyring and will not survive a reboot.")
            );
            vault.save("p", &session).unwrap();
            let raw = Raw {
                backend: Backend::KernelKeyring,
                service,
            };
            assert!(
                raw.get("session:p").is_some(),
                "in the kernel keyring itself"
            );
            assert_eq!(
                Vault::open(&raw.service, dir.clone()).load("p").unwrap(),
                Some(session),
                "a new vault (the app's next start) finds it"
            );
            vault.remove("p").unwrap();
            assert_eq!(raw.get("session:p"), None);
        }
        "no-keyring" => {
            assert_eq!(vault.backend(), Backend::Memory);
            assert_eq!(
                vault.backend().notice(),
                Some("No OS keyring is available: sessions are kept in memory only and are lost when the app quits.")
            );
            vault.save("p", &session).unwrap();
            assert_eq!(vault.load("p").unwrap(), Some(session));
            assert!(!dir.exists(), "nothing written to disk, not even sealed");
            // What the notice warns of: the app's next start finds nothing.
            let next = Vault::open(&service, dir.clone());
            assert_eq!(next.backend(), Backend::Memory);
            assert_eq!(next.load("p").unwrap(), None);
        }
        other => panic!("unknown role {other}"),
    }
    println!("fallback child {role}: {:?} as expected", vault.backend());
}

#[test]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
fn without_a_secret_service_open_falls_back_to_the_kernel_keyring_and_says_so() {
    if let Ok(role) = std::env::var(FALLBACK_CHILD) {
        return fallback_child(&role);
    }
    let run = Run::new();
    let out = run_fallback_child(
        "without_a_secret_service_open_falls_back_to_the_kernel_keyring_and_says_so",
        "no-secret-service",
        &run.service,
        true,
    );
    assert!(
        out.contains("fallback child no-secret-service: KernelKeyring as expected"),
        "{out}"
    );
    run.assert_nothing_left();
}

#[test]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
fn without_any_keyring_open_falls_back_to_memory_and_says_so() {
    if let Ok(role) = std::env::var(FALLBACK_CHILD) {
        return fallback_child(&role);
    }
    let run = Run::new();
    let out = run_fallback_child(
        "without_any_keyring_open_falls_back_to_memory_and_says_so",
        "no-keyring",
        &run.service,
        false,
    );
    assert!(
        out.contains("fallback child no-keyring: Memory as expected"),
        "{out}"
    );
    run.assert_nothing_left();
}

/// A session that needs no server; `mark` tells copies apart.
fn made_up_session(mark: &str) -> Session {
    Session {
        access_token: format!("access-{mark}").into(),
        token_type: "bearer".into(),
        expires_in: 3600,
        expires_at: 2_000_000_000,
        refresh_token: format!("refresh-{mark}").into(),
        user: serde_json::from_value(serde_json::json!({"id": "u1", "email": EMAIL})).unwrap(),
        provider_token: None,
        provider_refresh_token: None,
    }
}

/// A thread with a kernel session keyring of its own. That is the situation of every thread
/// of an app that starts with the shared per-user session keyring (`_uid_ses.<uid>`, what a
/// process gets without a login session): the first time a thread asks for the persistent
/// keyring to be linked into "its" session keyring, the kernel gives that thread a new
/// anonymous session keyring instead. Thread pools (tokio's blocking threads) then run vault
/// calls on threads whose session keyrings all differ.
struct OwnSessionThread {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl OwnSessionThread {
    fn spawn() -> OwnSessionThread {
        let (jobs, queue) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let (joined_tx, joined) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // KEYCTL_JOIN_SESSION_KEYRING with no name: a new anonymous session keyring,
            // installed for this thread alone.
            let id = unsafe {
                libc::syscall(
                    libc::SYS_keyctl,
                    libc::KEYCTL_JOIN_SESSION_KEYRING as libc::c_long,
                    std::ptr::null::<libc::c_char>(),
                )
            };
            joined_tx.send(id).unwrap();
            for job in queue {
                job();
            }
        });
        let id = joined.recv().unwrap();
        assert!(
            id > 0,
            "the thread could not join a session keyring of its own"
        );
        OwnSessionThread { jobs }
    }

    fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> T {
        let (done_tx, done) = std::sync::mpsc::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done_tx.send(job());
            }))
            .unwrap();
        done.recv().expect("the job panicked")
    }

    fn save(&self, vault: &Arc<Vault>, profile: &str, session: &Session) {
        let (vault, profile, session) = (vault.clone(), profile.to_string(), session.clone());
        self.run(move || vault.save(&profile, &session)).unwrap();
    }

    fn load(&self, vault: &Arc<Vault>, profile: &str) -> Option<Session> {
        let (vault, profile) = (vault.clone(), profile.to_string());
        self.run(move || vault.load(&profile)).unwrap()
    }

    fn remove(&self, vault: &Arc<Vault>, profile: &str) {
        let (vault, profile) = (vault.clone(), profile.to_string());
        self.run(move || vault.remove(&profile)).unwrap();
    }

    /// What a vault opened afresh on this thread loads (the app opens a new vault per window).
    fn load_in_a_new_vault(&self, service: &str, dir: &Path, profile: &str) -> Option<Session> {
        let (service, dir, profile) = (service.to_string(), dir.to_path_buf(), profile.to_string());
        self.run(move || open_under(&service, Backend::KernelKeyring, &dir).load(&profile))
            .unwrap()
    }
}

/// Loads the profile on every thread at hand, named, for one assertion that shows them all.
fn loads_everywhere(
    run: &Run,
    threads: &[(&str, &OwnSessionThread)],
    vault: &Arc<Vault>,
    dir: &Path,
    profile: &str,
) -> Vec<(String, Option<String>)> {
    let token = |session: Option<Session>| session.map(|s| s.refresh_token.as_str().to_string());
    let mut loads: Vec<(String, Option<String>)> = threads
        .iter()
        .map(|(name, thread)| (name.to_string(), token(thread.load(vault, profile))))
        .collect();
    let fresh = OwnSessionThread::spawn();
    loads.push((
        "a new vault on a new thread".into(),
        token(fresh.load_in_a_new_vault(&run.service, dir, profile)),
    ));
    loads.push((
        "the test's own thread".into(),
        token(vault.load(profile).unwrap()),
    ));
    loads
}

/// Removes the profile from every thread, so that no made-up token outlives the test whatever
/// copies the vault left behind.
fn forget_everywhere(threads: &[&OwnSessionThread], vault: &Arc<Vault>, profile: &str) {
    for thread in threads {
        let (vault, profile) = (vault.clone(), profile.to_string());
        let _ = thread.run(move || vault.remove(&profile));
    }
    let _ = vault.remove(profile);
}

#[test]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
fn the_kernel_keyring_gives_every_thread_the_newest_save() {
    let run = Run::new();
    let folder = temp_dir("vault-threads");
    let dir = folder.path().to_path_buf();
    let vault = Arc::new(run.open(Backend::KernelKeyring, &dir));
    let profile = unique("threads");
    let (a, b, c) = (
        OwnSessionThread::spawn(),
        OwnSessionThread::spawn(),
        OwnSessionThread::spawn(),
    );
    let (older, newer) = (made_up_session("older"), made_up_session("newer"));
    a.save(&vault, &profile, &older);
    assert_eq!(b.load(&vault, &profile), Some(older), "B reads A's save");
    c.save(&vault, &profile, &newer);
    assert!(
        run.raw(Backend::KernelKeyring)
            .get(&format!("session:{profile}"))
            .is_some(),
        "in the persistent kernel keyring"
    );
    // C last: what the others load must not depend on C having looked first.
    let mut loads = loads_everywhere(&run, &[("A", &a), ("B", &b)], &vault, &dir, &profile);
    loads.push((
        "C".into(),
        c.load(&vault, &profile)
            .map(|s| s.refresh_token.as_str().to_string()),
    ));
    forget_everywhere(&[&a, &b, &c], &vault, &profile);
    assert!(
        loads
            .iter()
            .all(|(_, token)| token.as_deref() == Some("refresh-newer")),
        "every thread must load C's newer save, not an older copy: {loads:?}"
    );
    run.assert_nothing_left();
}

#[test]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
fn a_session_removed_from_the_kernel_keyring_stays_removed_on_every_thread() {
    let run = Run::new();
    let folder = temp_dir("vault-threads");
    let dir = folder.path().to_path_buf();
    let vault = Arc::new(run.open(Backend::KernelKeyring, &dir));
    let profile = unique("signed-out");
    let (a, b, c) = (
        OwnSessionThread::spawn(),
        OwnSessionThread::spawn(),
        OwnSessionThread::spawn(),
    );
    a.save(&vault, &profile, &made_up_session("older"));
    assert!(b.load(&vault, &profile).is_some(), "B reads A's save");
    c.save(&vault, &profile, &made_up_session("newer"));
    c.remove(&vault, &profile); // signing out
    let loads = loads_everywhere(
        &run,
        &[("A", &a), ("B", &b), ("C", &c)],
        &vault,
        &dir,
        &profile,
    );
    forget_everywhere(&[&a, &b, &c], &vault, &profile);
    assert!(
        loads.iter().all(|(_, token)| token.is_none()),
        "a removed session must not come back from an older copy: {loads:?}"
    );
    run.assert_nothing_left();
}
