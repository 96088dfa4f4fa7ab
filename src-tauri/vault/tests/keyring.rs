//! The vault on the real OS keyrings: the Secret Service (gnome-keyring) and the kernel
//! keyring. They need a session bus with an unlocked keyring and a kernel session keyring:
//! `make test` runs these through src-tauri/scripts/with-keyring.sh, which provides both.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use local_gotrue::{Config, DemoUser};
use session_engine::{AuthClient, ClientConfig, Credentials, Session, SessionStore};
use session_vault::{Backend, Vault};

const SERVICE: &str = "dev.sessioninspector.test";
const EMAIL: &str = "demo@example.com";
const PASSWORD: &str = "demo-password-1";

/// Unique per call: keyring entries can outlive a test run (the kernel keyring links them
/// beyond the session), so no two runs may share a profile name.
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

/// A folder removed when the test ends, passed or not.
fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("{name}-"))
        .tempdir()
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

async fn signed_in_client(
    server: &local_gotrue::Server,
    vault: Arc<Vault>,
    profile: &str,
) -> AuthClient {
    let client = AuthClient::new(
        ClientConfig::new(server.url(), server.anon_key()),
        vault,
        profile,
    )
    .await
    .unwrap();
    client
        .sign_in_with_password(Credentials::Email {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    client
}

fn open(backend: Backend, dir: &Path) -> Vault {
    Vault::open_backend(backend, SERVICE, dir.to_path_buf()).unwrap_or_else(|e| {
        panic!(
            "{backend:?} is not usable here ({e}); run through src-tauri/scripts/with-keyring.sh"
        )
    })
}

async fn round_trip(backend: Backend) {
    let srv = server().await;
    for inline_limit in [usize::MAX, 0] {
        let folder = temp_dir("vault-real");
        let dir = folder.path().to_path_buf();
        let mut vault = open(backend, &dir);
        vault.set_inline_limit(inline_limit);
        let vault = Arc::new(vault);
        let profile = unique(&format!("round-trip-{inline_limit}"));
        let client = signed_in_client(&srv, vault.clone(), &profile).await;
        let session = client.refresh_session(None).await.unwrap().response.session;
        // A fresh vault over the same keyring finds it: it is in the OS keyring, not in memory.
        let reopened = open(backend, &dir);
        assert_eq!(
            reopened.load(&profile).unwrap(),
            Some(session),
            "{backend:?}, inline limit {inline_limit}"
        );
        reopened.remove(&profile).unwrap();
        assert_eq!(open(backend, &dir).load(&profile).unwrap(), None);
    }
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
    let folder = temp_dir("vault-open");
    let vault = Vault::open(SERVICE, folder.path().to_path_buf());
    assert_eq!(vault.backend(), Backend::SecretService);
    assert!(vault.backend().notice().is_none());
    assert!(Backend::KernelKeyring.notice().unwrap().contains("reboot"));
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
    let srv = server().await;
    let folder = temp_dir("vault-leak");
    let dir = folder.path().to_path_buf();
    let mut vault = open(Backend::SecretService, &dir);
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
}

/// Kills a rotating child at random moments; after each kill, the persisted session must
/// still refresh. Reports how many sessions were lost (the goal is none).
async fn kill_test(backend: &str, kills: usize) {
    let srv = server().await;
    let folder = temp_dir("vault-kill");
    let dir = folder.path().to_path_buf();
    let rotor = env!("CARGO_BIN_EXE_vault-rotor");
    let args = |mode: &str, profile: &str| {
        let mut command = Command::new(rotor);
        command.args([
            mode,
            backend,
            &srv.url(),
            srv.anon_key(),
            dir.to_str().unwrap(),
            profile,
            EMAIL,
            PASSWORD,
        ]);
        command
    };
    let (mut lost, mut rotations) = (0, 0u64);
    let profiles: Vec<String> = (0..5).map(|i| unique(&format!("kill{i}"))).collect();
    for round in 0..kills {
        let profile = profiles[round % profiles.len()].clone();
        let mut child = args("rotate", &profile)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Count its rotations as they are printed; the kill comes once it is rotating.
        let stdout = child.stdout.take().unwrap();
        let (first_tx, first_rx) = std::sync::mpsc::channel();
        let counter = std::thread::spawn(move || {
            use std::io::BufRead;
            let mut count = 0u64;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if line.starts_with("rotated") {
                    count += 1;
                    let _ = first_tx.send(());
                }
            }
            count
        });
        first_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the rotor starts rotating");
        let mut pause = [0u8; 2];
        getrandom::fill(&mut pause).unwrap();
        tokio::time::sleep(Duration::from_millis(u64::from(
            u16::from_le_bytes(pause) % 300,
        )))
        .await;
        child.kill().unwrap(); // SIGKILL: no chance to tidy up
        child.wait().unwrap();
        rotations += counter.join().unwrap();
        let verify = args("verify", &profile).output().unwrap();
        if !verify.status.success() {
            lost += 1;
            eprintln!(
                "round {round}: {}",
                String::from_utf8_lossy(&verify.stdout).trim()
            );
        }
    }
    println!("kill test ({backend}): {kills} SIGKILLs at random points, {rotations} rotations in all, sessions lost: {lost}");
    let cleanup = Vault::open_backend(
        if backend == "keyutils" {
            Backend::KernelKeyring
        } else {
            Backend::SecretService
        },
        SERVICE,
        dir.clone(),
    )
    .unwrap();
    for profile in &profiles {
        cleanup.remove(profile).unwrap();
    }
    assert_eq!(lost, 0);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn sigkill_at_random_points_loses_no_session_in_the_secret_service() {
    kill_test("secret-service", 50).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
async fn sigkill_at_random_points_loses_no_session_in_the_kernel_keyring() {
    kill_test("keyutils", 50).await;
}

/// A session that needs no server; `mark` tells copies apart.
#[cfg(target_os = "linux")]
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
#[cfg(target_os = "linux")]
struct OwnSessionThread {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

#[cfg(target_os = "linux")]
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
    fn load_in_a_new_vault(&self, dir: &Path, profile: &str) -> Option<Session> {
        let (dir, profile) = (dir.to_path_buf(), profile.to_string());
        self.run(move || open(Backend::KernelKeyring, &dir).load(&profile))
            .unwrap()
    }
}

/// Loads the profile on every thread at hand, named, for one assertion that shows them all.
#[cfg(target_os = "linux")]
fn loads_everywhere(
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
        token(fresh.load_in_a_new_vault(dir, profile)),
    ));
    loads.push((
        "the test's own thread".into(),
        token(vault.load(profile).unwrap()),
    ));
    loads
}

/// Removes the profile from every thread, so that no made-up token outlives the test whatever
/// copies the vault left behind.
#[cfg(target_os = "linux")]
fn forget_everywhere(threads: &[&OwnSessionThread], vault: &Arc<Vault>, profile: &str) {
    for thread in threads {
        let (vault, profile) = (vault.clone(), profile.to_string());
        let _ = thread.run(move || vault.remove(&profile));
    }
    let _ = vault.remove(profile);
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
fn the_kernel_keyring_gives_every_thread_the_newest_save() {
    let folder = temp_dir("vault-threads");
    let dir = folder.path().to_path_buf();
    let vault = Arc::new(open(Backend::KernelKeyring, &dir));
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
    // C last: what the others load must not depend on C having looked first.
    let mut loads = loads_everywhere(&[("A", &a), ("B", &b)], &vault, &dir, &profile);
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
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs a kernel session keyring: run through src-tauri/scripts/with-keyring.sh (make test does)"]
fn a_session_removed_from_the_kernel_keyring_stays_removed_on_every_thread() {
    let folder = temp_dir("vault-threads");
    let dir = folder.path().to_path_buf();
    let vault = Arc::new(open(Backend::KernelKeyring, &dir));
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
    let loads = loads_everywhere(&[("A", &a), ("B", &b), ("C", &c)], &vault, &dir, &profile);
    forget_everywhere(&[&a, &b, &c], &vault, &profile);
    assert!(
        loads.iter().all(|(_, token)| token.is_none()),
        "a removed session must not come back from an older copy: {loads:?}"
    );
}
