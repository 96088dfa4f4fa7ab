//! The real binary with the app's profiles and the OS keyring: sessions saved by the test
//! with the app's vault (same service, same sealed folder) are the ones the binary refreshes,
//! imports into and watches, and what it saves is what the app will load. They open a real
//! keyring, so they run only inside `src-tauri/scripts/with-keyring.sh` (a throwaway
//! gnome-keyring), as `src-tauri/scripts/test.sh` runs them:
//!   src-tauri/scripts/with-keyring.sh cargo test -p session-inspector-cli --test cli_keyring -- --ignored --test-threads=1

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine as _;
use session_engine::tokens::fingerprint;
use session_engine::{Session, SessionStore as _};
use session_profiles::{Folders, IDENTIFIER};
use session_vault::{Backend, Vault};
use support::{
    data_folder, require_throwaway_keyring, run_async, server, settings_for, sign_in,
    write_settings,
};

/// The app's vault over `data`, as the app opens it.
fn app_vault(data: &Path) -> Vault {
    let vault = Vault::open(IDENTIFIER, Folders::at(data).sealed_folder());
    assert_ne!(vault.backend(), Backend::Memory, "a real keyring");
    vault
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opens the OS keyring: run inside src-tauri/scripts/with-keyring.sh"]
async fn refresh_of_a_profile_saves_the_new_session_where_the_app_finds_it() {
    require_throwaway_keyring();
    let server = server(|_| {}).await;
    let session = sign_in(&server).await;
    let data = data_folder();
    let file = write_settings(data.path(), &settings_for(&server, "p-refresh", "Staging"));
    let settings_before = std::fs::read(&file).unwrap();
    // Sealed, as the app seals a session too large for one keyring entry: the binary finds
    // the app's sealed folder and key.
    let mut vault = app_vault(data.path());
    vault.set_inline_limit(0);
    vault.save("p-refresh", &session).unwrap();
    assert!(data.path().join("sessions").is_dir());

    let refreshed = run_async(
        data.path(),
        &["refresh", "--profile", "Staging", "--json"],
        "",
    )
    .await;
    assert_eq!(refreshed.code, 0, "{refreshed:?}");
    refreshed.assert_never_shows(&session.refresh_token);
    let report = refreshed.json();
    assert_eq!(report["saved"], true);
    assert_eq!(report["profile"]["id"], "p-refresh");
    assert_eq!(
        report["usedUpRefreshTokenFingerprint"],
        fingerprint(&session.refresh_token)
    );
    let stored = vault.load("p-refresh").unwrap().expect("saved");
    assert_eq!(
        report["session"]["refreshTokenFingerprint"],
        fingerprint(&stored.refresh_token)
    );
    assert_ne!(stored.refresh_token, session.refresh_token);
    assert!(
        refreshed
            .stdout
            .contains("Switch the app to another profile and back"),
        "the running app is warned about, in the report's warnings: {refreshed:?}"
    );

    // Refreshed again, for people, by id.
    let human = run_async(data.path(), &["refresh", "-p", "p-refresh"], "").await;
    assert_eq!(human.code, 0, "{human:?}");
    assert!(
        human
            .stdout
            .starts_with("Refreshed; the new session of profile \"Staging\""),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains(support::EMAIL));
    human.assert_never_shows(&stored.refresh_token);
    assert_ne!(
        vault.load("p-refresh").unwrap().unwrap().refresh_token,
        stored.refresh_token
    );

    // What the warning says of an app still holding the first session: two refreshes behind,
    // its token is reuse (the reuse interval here is 0 s).
    let args = [
        "refresh",
        "--stdin",
        "--url",
        &server.url(),
        "--anon-key",
        server.anon_key(),
    ];
    let reused = run_async(data.path(), &args, &session.refresh_token).await;
    assert_eq!(reused.code, 6, "{reused:?}");
    assert!(reused.stderr.contains("Already Used"), "{reused:?}");

    assert_eq!(
        std::fs::read(&file).unwrap(),
        settings_before,
        "settings.json untouched"
    );
    // No token in any file: the sealed session is encrypted, the rest are in the keyring.
    let newest = vault.load("p-refresh").unwrap().unwrap();
    for path in support::files_in(data.path()) {
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for token in [
            &session.refresh_token,
            &session.access_token,
            &newest.refresh_token,
            &newest.access_token,
        ] {
            assert!(
                !text.contains(token.as_str()),
                "{} holds a token",
                path.display()
            );
        }
    }
    vault.forget_profile("p-refresh").unwrap();
}

/// A session as an @supabase/ssr cookie, as a browser's devtools copy it.
fn cookie(session: &Session) -> String {
    let value = serde_json::json!({
        "access_token": session.access_token.as_str(),
        "refresh_token": session.refresh_token.as_str(),
        "token_type": "bearer", "expires_in": session.expires_in, "expires_at": session.expires_at,
        "user": {"id": session.user.id},
    });
    format!(
        "sb-abcd-auth-token=base64-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opens the OS keyring: run inside src-tauri/scripts/with-keyring.sh"]
async fn import_then_profiles_then_refresh() {
    require_throwaway_keyring();
    let server = server(|_| {}).await;
    let data = data_folder();
    write_settings(data.path(), &settings_for(&server, "p-import", "Imported"));
    let vault = app_vault(data.path());

    // Nothing stored yet: listed without a session; refresh and watch say so.
    let listed = run_async(data.path(), &["profiles", "--json"], "").await;
    assert_eq!(listed.code, 0, "{listed:?}");
    assert_eq!(listed.json()["keyring"], true);
    assert!(
        listed.json()["profiles"][1]["session"].is_null(),
        "{}",
        listed.stdout
    );
    assert!(
        listed.json()["profiles"][0].get("session").is_none(),
        "the demo's is the app's"
    );
    for command in ["refresh", "watch"] {
        let none = run_async(
            data.path(),
            &[command, "--profile", "Imported", "--json"],
            "",
        )
        .await;
        assert_eq!(none.code, 5, "{command}: {none:?}");
        assert_eq!(none.error()["kind"], "noSession");
    }

    // A cookie with a working access token: saved as it is, nothing used up.
    let session = sign_in(&server).await;
    let imported = run_async(
        data.path(),
        &["import", "--profile", "Imported", "--json"],
        &cookie(&session),
    )
    .await;
    assert_eq!(imported.code, 0, "{imported:?}");
    imported.assert_never_shows(&session.refresh_token);
    imported.assert_never_shows(&session.access_token);
    assert!(imported.json()["usedUpRefreshTokenFingerprint"].is_null());
    let stored = vault.load("p-import").unwrap().expect("imported");
    assert_eq!(stored.refresh_token, session.refresh_token);
    assert_eq!(
        stored.user.email,
        support::EMAIL,
        "the user fetched, as setSession does"
    );

    let listed = run_async(data.path(), &["profiles", "--json"], "").await;
    let shown = &listed.json()["profiles"][1]["session"];
    assert_eq!(
        shown["refreshTokenFingerprint"],
        fingerprint(&session.refresh_token)
    );
    assert_eq!(shown["email"], support::EMAIL);
    let human = run_async(data.path(), &["profiles"], "").await;
    assert!(
        human.stdout.contains(&fingerprint(&session.refresh_token)),
        "{}",
        human.stdout
    );
    human.assert_never_shows(&session.refresh_token);

    let refreshed = run_async(
        data.path(),
        &["refresh", "--profile", "Imported", "--json"],
        "",
    )
    .await;
    assert_eq!(refreshed.code, 0, "{refreshed:?}");
    assert_eq!(
        refreshed.json()["usedUpRefreshTokenFingerprint"],
        fingerprint(&session.refresh_token)
    );

    // A refresh token alone: importing needs a refresh, which uses it up, and says so.
    let other = sign_in(&server).await;
    let rotated = run_async(
        data.path(),
        &["import", "-p", "p-import"],
        &other.refresh_token,
    )
    .await;
    assert_eq!(rotated.code, 0, "{rotated:?}");
    assert!(
        rotated.stderr.contains("used up the pasted refresh token"),
        "{rotated:?}"
    );
    assert!(
        rotated
            .stderr
            .contains("replaced the profile's stored session"),
        "{rotated:?}"
    );
    let stored = vault.load("p-import").unwrap().unwrap();
    assert_ne!(stored.refresh_token, other.refresh_token);

    // What cannot become a stored session, and a paste into a profile that does not exist.
    let access_only = run_async(
        data.path(),
        &["import", "-p", "p-import"],
        &other.access_token,
    )
    .await;
    assert_eq!(access_only.code, 3, "{access_only:?}");
    let garbage = run_async(data.path(), &["import", "-p", "p-import"], "hello there").await;
    assert_eq!(garbage.code, 3, "{garbage:?}");
    let nowhere = run_async(data.path(), &["import", "-p", "nope"], &cookie(&other)).await;
    assert_eq!(nowhere.code, 4, "{nowhere:?}");
    assert_eq!(
        vault.load("p-import").unwrap().unwrap().refresh_token,
        stored.refresh_token
    );
    vault.forget_profile("p-import").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opens the OS keyring: run inside src-tauri/scripts/with-keyring.sh"]
async fn watch_prints_auth_events_as_ndjson_and_auto_refreshes_until_interrupted() {
    require_throwaway_keyring();
    // Tokens that live a minute: with a 58 s margin the auto-refresh is due at once.
    let server = server(|config| config.jwt_expiry = Duration::from_secs(60)).await;
    let session = sign_in(&server).await;
    let data = data_folder();
    write_settings(data.path(), &settings_for(&server, "p-watch", "Watched"));
    let vault = app_vault(data.path());
    vault.save("p-watch", &session).unwrap();

    // Without auto-refresh: the recovery and INITIAL_SESSION, then --count ends it.
    let counted = run_async(data.path(), &["watch", "-p", "Watched", "--count", "2"], "").await;
    assert_eq!(counted.code, 0, "{counted:?}");
    let events: Vec<serde_json::Value> = counted
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect();
    let kinds: Vec<_> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["SIGNED_IN", "INITIAL_SESSION"],
        "{}",
        counted.stdout
    );
    assert_eq!(events[1]["type"], "authEvent");
    assert_eq!(events[1]["previous"], "SIGNED_IN");
    assert_eq!(
        events[1]["session"]["refreshTokenFingerprint"],
        fingerprint(&session.refresh_token)
    );
    counted.assert_never_shows(&session.refresh_token);
    counted.assert_never_shows(&session.access_token);
    assert!(
        !counted.stderr.contains("gets this new session back"),
        "nothing refreshed, nothing to warn about: {counted:?}"
    );

    // With auto-refresh, until Ctrl+C.
    let data_path = data.path().to_path_buf();
    let (lines, status, announced_stored) = tokio::task::spawn_blocking(move || {
        let mut child = support::command(
            &data_path,
            &["watch", "-p", "p-watch", "--auto-refresh", "--margin", "58"],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        let mut announced_stored = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            let refreshed = line.contains("\"TOKEN_REFRESHED\"");
            lines.push(line);
            if refreshed {
                // Read the moment the line is out, while the watch still runs: the keyring
                // must hold the announced session already.
                announced_stored = app_vault(&data_path).load("p-watch").unwrap();
                break;
            }
        }
        // SAFETY: signalling our own child, which is still running.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        (lines, child.wait().unwrap(), announced_stored)
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(0), "Ctrl+C ends it cleanly: {lines:?}");
    let events: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<_> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        kinds,
        ["SIGNED_IN", "INITIAL_SESSION", "TOKEN_REFRESHED"],
        "{lines:?}"
    );
    assert_eq!(events[2]["cause"], "autoRefresh", "{lines:?}");
    let refreshed = &events[2]["session"];
    let stored = announced_stored.expect("a session in the keyring when announced");
    assert_eq!(
        refreshed["refreshTokenFingerprint"],
        fingerprint(&stored.refresh_token),
        "saved before it was announced"
    );
    assert_ne!(stored.refresh_token, session.refresh_token);
    for line in &lines {
        assert!(
            !line.contains(session.refresh_token.as_str())
                && !line.contains(stored.refresh_token.as_str())
        );
    }
    vault.forget_profile("p-watch").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opens the OS keyring: run inside src-tauri/scripts/with-keyring.sh"]
async fn a_token_from_stdin_is_refreshed_into_a_profile_and_a_due_session_rotates_once() {
    require_throwaway_keyring();
    // Tokens that live 8 s: inside the 10 s refresh margin as soon as they are issued.
    let server = server(|config| config.jwt_expiry = Duration::from_secs(8)).await;
    let data = data_folder();
    write_settings(data.path(), &settings_for(&server, "p-stdin", "Pasted"));
    let vault = app_vault(data.path());

    // --stdin with --profile: the profile's project, and the result saved as its session.
    let pasted = sign_in(&server).await;
    let args = ["refresh", "--stdin", "--profile", "Pasted", "--json"];
    let saved = run_async(data.path(), &args, &pasted.refresh_token).await;
    assert_eq!(saved.code, 0, "{saved:?}");
    assert_eq!(saved.json()["saved"], true);
    let stored = vault
        .load("p-stdin")
        .unwrap()
        .expect("saved into the profile");
    assert_eq!(
        saved.json()["session"]["refreshTokenFingerprint"],
        fingerprint(&stored.refresh_token)
    );
    assert!(
        saved.stdout.contains("to another profile and back"),
        "{saved:?}"
    );

    // The stored session is due (8 s left, 10 s margin): opening it refreshes it, as the app
    // does when it opens the profile, and that is the one refresh; not a second one after it.
    let due = run_async(data.path(), &["refresh", "-p", "p-stdin", "--json"], "").await;
    assert_eq!(due.code, 0, "{due:?}");
    let newest = vault.load("p-stdin").unwrap().unwrap();
    assert_eq!(
        due.json()["usedUpRefreshTokenFingerprint"],
        fingerprint(&stored.refresh_token)
    );
    // One rotation only: the token before it is exactly one behind, so GoTrue hands it the
    // newest session (two behind would be refused).
    let check = [
        "refresh",
        "--stdin",
        "--reveal",
        "--json",
        "--url",
        &server.url(),
        "--anon-key",
        server.anon_key(),
    ];
    let behind = run_async(data.path(), &check, &stored.refresh_token).await;
    assert_eq!(behind.code, 0, "{behind:?}");
    assert_eq!(
        behind.json()["session"]["refreshTokenFingerprint"],
        fingerprint(&newest.refresh_token)
    );
    vault.forget_profile("p-stdin").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opens the OS keyring: run inside src-tauri/scripts/with-keyring.sh"]
async fn refresh_stdin_into_a_profile_says_whether_it_replaced_the_stored_session() {
    require_throwaway_keyring();
    let server = server(|_| {}).await;
    let data = data_folder();
    write_settings(data.path(), &settings_for(&server, "p-over", "Over"));
    let vault = app_vault(data.path());
    let stored = sign_in(&server).await;
    vault.save("p-over", &stored).unwrap();
    let args = ["refresh", "--stdin", "--profile", "p-over"];

    // The stored session's own refresh token: the app (if open) is one refresh behind.
    let same = run_async(data.path(), &args, &stored.refresh_token).await;
    assert_eq!(same.code, 0, "{same:?}");
    assert!(
        same.stderr.contains("gets this new session back"),
        "{same:?}"
    );
    assert!(!same.stderr.contains("replaced"), "{same:?}");
    let current = vault.load("p-over").unwrap().unwrap();

    // Another session's: the stored one is replaced, and no "one behind" comfort is given.
    let other = sign_in(&server).await;
    let replaced = run_async(data.path(), &args, &other.refresh_token).await;
    assert_eq!(replaced.code, 0, "{replaced:?}");
    assert!(
        replaced.stderr.contains(&format!(
            "replaced the profile's stored session (refresh token {})",
            fingerprint(&current.refresh_token)
        )),
        "{replaced:?}"
    );
    assert!(
        !replaced.stderr.contains("gets this new session back"),
        "{replaced:?}"
    );
    replaced.assert_never_shows(&current.refresh_token);
    vault.forget_profile("p-over").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opens the OS keyring: run inside src-tauri/scripts/with-keyring.sh"]
async fn an_unreadable_slot_is_listed_as_such_and_import_replaces_it() {
    require_throwaway_keyring();
    let server = server(|_| {}).await;
    let data = data_folder();
    write_settings(data.path(), &settings_for(&server, "p-bad", "Bad"));
    // Sealed, then its file removed: the keyring names a sealed session that is not there.
    let mut vault = app_vault(data.path());
    vault.set_inline_limit(0);
    vault.save("p-bad", &sign_in(&server).await).unwrap();
    for file in support::files_in(&data.path().join("sessions")) {
        std::fs::remove_file(file).unwrap();
    }
    assert!(matches!(
        vault.load("p-bad"),
        Err(session_engine::StorageError::Corrupt(_))
    ));

    let listed = run_async(data.path(), &["profiles", "--json"], "").await;
    assert_eq!(listed.code, 0, "{listed:?}");
    let entry = &listed.json()["profiles"][1];
    assert!(entry["session"].is_null(), "{entry}");
    assert!(
        entry["unreadable"].as_str().unwrap().contains("missing"),
        "{entry}"
    );
    let human = run_async(data.path(), &["profiles"], "").await;
    assert_eq!(human.code, 0, "{human:?}");
    assert!(
        human.stdout.contains("stored session unreadable"),
        "{human:?}"
    );

    let session = sign_in(&server).await;
    let imported = run_async(data.path(), &["import", "-p", "p-bad"], &cookie(&session)).await;
    assert_eq!(imported.code, 0, "{imported:?}");
    assert!(
        imported
            .stderr
            .contains("replaced the profile's unreadable stored session"),
        "{imported:?}"
    );
    let repaired = vault
        .load("p-bad")
        .unwrap()
        .expect("saved over the bad slot");
    assert_eq!(repaired.refresh_token, session.refresh_token);
    vault.forget_profile("p-bad").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opens the OS keyring: run inside src-tauri/scripts/with-keyring.sh"]
async fn watch_without_auto_refresh_warns_when_the_start_up_recovery_refreshes() {
    require_throwaway_keyring();
    // Tokens that live 8 s: inside the profile's 10 s margin, so opening it refreshes it.
    let server = server(|config| config.jwt_expiry = Duration::from_secs(8)).await;
    let data = data_folder();
    write_settings(data.path(), &settings_for(&server, "p-due", "Due"));
    let vault = app_vault(data.path());
    let session = sign_in(&server).await;
    vault.save("p-due", &session).unwrap();

    let watched = run_async(data.path(), &["watch", "-p", "p-due", "--count", "3"], "").await;
    assert_eq!(watched.code, 0, "{watched:?}");
    assert!(
        watched.stdout.contains("\"TOKEN_REFRESHED\""),
        "{watched:?}"
    );
    assert_ne!(
        vault.load("p-due").unwrap().unwrap().refresh_token,
        session.refresh_token,
        "the recovery saved a new session"
    );
    assert!(
        watched.stderr.contains("gets this new session back"),
        "a running app is told about: {watched:?}"
    );
    vault.forget_profile("p-due").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opens the OS keyring: run inside src-tauri/scripts/with-keyring.sh"]
async fn the_kernel_keyring_is_refused_unless_asked_for() {
    require_throwaway_keyring();
    let server = server(|_| {}).await;
    let data = data_folder();
    write_settings(data.path(), &settings_for(&server, "p-kernel", "Kernel"));
    let session = sign_in(&server).await;
    // No Secret Service on this bus (as over SSH or from cron): only the kernel keyring answers.
    let run_without_bus = |extra: &'static [&'static str], paste: String| {
        let data = data.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut args = vec!["import", "-p", "p-kernel", "--json"];
            args.extend_from_slice(extra);
            let mut child = support::command(&data, &args)
                .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
                .env_remove("SESSION_INSPECTOR_KEYRING_ANY")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write as _;
            let _ = child.stdin.take().unwrap().write_all(paste.as_bytes());
            child.wait_with_output().unwrap()
        })
    };
    let refused = run_without_bus(&[], cookie(&session)).await.unwrap();
    assert_eq!(refused.status.code(), Some(8), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--keyring-any"), "{stderr}");
    assert!(stderr.contains("kernel keyring"), "{stderr}");

    let allowed = run_without_bus(&["--keyring-any"], cookie(&session))
        .await
        .unwrap();
    assert_eq!(allowed.status.code(), Some(0), "{allowed:?}");
    assert!(
        String::from_utf8_lossy(&allowed.stderr).contains("will not survive a reboot"),
        "{allowed:?}"
    );
    let kernel = Vault::open_backend(
        Backend::KernelKeyring,
        IDENTIFIER,
        Folders::at(data.path()).sealed_folder(),
    )
    .unwrap();
    assert_eq!(
        kernel.load("p-kernel").unwrap().unwrap().refresh_token,
        session.refresh_token
    );
    kernel.forget_profile("p-kernel").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opens the OS keyring: run inside src-tauri/scripts/with-keyring.sh"]
async fn watch_stops_rather_than_bring_back_a_profile_the_app_removed() {
    require_throwaway_keyring();
    // Tokens that live a minute; with a 55 s margin the auto-refresh is due in about 5 s.
    let server = server(|config| config.jwt_expiry = Duration::from_secs(60)).await;
    let data = data_folder();
    let file = write_settings(data.path(), &settings_for(&server, "p-gone", "Gone"));
    let vault = app_vault(data.path());
    vault.save("p-gone", &sign_in(&server).await).unwrap();

    let data_path = data.path().to_path_buf();
    let ran = tokio::task::spawn_blocking(move || {
        let mut child = support::command(
            &data_path,
            // --count: a watch that went on refreshing would still end, and fail below.
            &[
                "watch",
                "-p",
                "p-gone",
                "--auto-refresh",
                "--margin",
                "55",
                "--count",
                "6",
            ],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(&mut stdout);
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        // The app removes the profile (as Reset all data does): settings, then its slot.
        std::fs::write(&file, "{}").unwrap();
        app_vault(&data_path).forget_profile("p-gone").unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        (first, rest, stderr, child.wait().unwrap())
    });
    let (first, rest, stderr, status) = tokio::time::timeout(Duration::from_secs(40), ran)
        .await
        .expect("watch ends by itself")
        .unwrap();
    assert_eq!(status.code(), Some(4), "a profile error: {stderr}");
    assert!(first.contains("SIGNED_IN"), "{first}");
    assert!(rest.contains("\"refreshFailed\""), "{rest}");
    assert!(
        stderr.contains("no longer in the app's settings"),
        "{stderr}"
    );
    assert!(
        vault.load("p-gone").unwrap().is_none(),
        "the removed profile's session did not come back"
    );
}
