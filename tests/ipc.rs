//! The app's real wiring and real ACL (tauri-build's compiled capabilities, through
//! `generate_context!()`), driven on Tauri's mock runtime: no display needed. Every app here
//! lives in this process's private home (its log file included); the one test that opens the
//! vault runs only inside `with-keyring.sh`'s throwaway keyring.

#[path = "support/mock_ipc.rs"]
mod mock_ipc;

use mock_ipc::{call as invoke, private_home, require_throwaway_keyring};
use serde_json::{json, Value};
use tauri::test::{mock_builder, MockRuntime};
use tauri::{App, Manager as _, WebviewWindow, WebviewWindowBuilder};

fn app() -> App<MockRuntime> {
    private_home();
    session_inspector_lib::build(mock_builder())
        .build(session_inspector_lib::context())
        .expect("the app builds on the mock runtime")
}

fn window(app: &App<MockRuntime>, label: &str) -> WebviewWindow<MockRuntime> {
    WebviewWindowBuilder::new(app, label, Default::default())
        .build()
        .expect("a mock window")
}

fn assert_denied(result: Result<Value, Value>, cmd: &str) {
    let error = result.expect_err(&format!("{cmd} must be rejected"));
    let text = error.as_str().unwrap_or_default();
    assert!(
        text.contains("not allowed"),
        "{cmd}: unexpected rejection {error}"
    );
}

#[test]
fn app_info_answers_the_main_window_with_the_package_version() {
    let app = app();
    let main = window(&app, "main");
    let info = invoke(&main, "app_info", Value::Null).expect("app_info is granted to main");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["name"], "Session Inspector");
    assert_eq!(info["identifier"], "dev.sessioninspector.app");
    assert_eq!(info["tauriVersion"], tauri::VERSION);
}

#[test]
fn the_playground_lists_its_eight_scenarios_and_refuses_one_it_does_not_have() {
    let app = app();
    let main = window(&app, "main");
    let listed = invoke(&main, "playground_scenarios", Value::Null).expect("granted to main");
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 8, "{listed}");
    assert_eq!(names[0], "twoClients");
    assert_eq!(listed[2]["seconds"], 10, "the outage's countdown");
    let refused = invoke(&main, "playground_run", json!({"scenario": "meteorStrike"}))
        .expect_err("no such scenario");
    assert!(refused.to_string().contains("meteorStrike"), "{refused}");
}

#[test]
fn app_about_names_the_build_and_the_folders_in_the_apps_own_data_home() {
    let app = app();
    let main = window(&app, "main");
    let about = invoke(&main, "app_about", Value::Null).expect("app_about is granted to main");
    let commit = about["commit"].as_str().unwrap();
    // `--short=10` gives at least 10 hex digits (more when 10 would be ambiguous).
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{about}"
    );
    assert_eq!(about["buildProfile"], "debug");
    assert_eq!(about["demo"], cfg!(feature = "demo"), "{about}");
    assert_eq!(about["license"], "MIT");
    let data = private_home().data.join("dev.sessioninspector.app");
    assert_eq!(about["dataFolder"], data.display().to_string());
    assert_eq!(
        about["logFile"],
        data.join("logs/session-inspector.log")
            .display()
            .to_string()
    );
    // Only the two paths can be copied; anything else is refused before Rust sees it.
    let refused = invoke(&main, "app_copy_path", json!({"which": "/etc/passwd"}));
    assert!(refused.is_err(), "{refused:?}");
}

/// The command line reads the app's settings and sealed sessions through `session-profiles`
/// without Tauri: its folders must be the ones Tauri resolves for the app.
#[test]
fn the_shared_folders_are_the_ones_tauri_resolves_for_the_app() {
    let app = app();
    let shared = session_profiles::Folders::of_user().expect("a data folder");
    assert_eq!(app.config().identifier, session_profiles::IDENTIFIER);
    assert_eq!(app.path().app_data_dir().unwrap(), shared.data);
    assert_eq!(app.path().app_local_data_dir().unwrap(), shared.local_data);
    let store = tauri_plugin_store::resolve_store_path(app.handle(), session_profiles::STORE_FILE);
    assert_eq!(store.unwrap(), shared.settings_file());
    assert!(shared.data.starts_with(&private_home().data), "{shared:?}");
}

#[test]
fn app_commands_are_refused_to_a_window_without_the_capability() {
    let app = app();
    let other = window(&app, "other");
    assert_denied(invoke(&other, "app_info", Value::Null), "app_info");
}

#[test]
fn the_settings_store_is_not_reachable_from_the_webview() {
    // Tokens and settings are read through the app's own commands only; the store plugin's
    // commands would let a script read or write any file under app data.
    let app = app();
    let main = window(&app, "main");
    for cmd in ["plugin:store|load", "plugin:store|get", "plugin:store|set"] {
        assert_denied(
            invoke(&main, cmd, serde_json::json!({"path": "settings.json"})),
            cmd,
        );
    }
}

#[test]
fn core_window_commands_outside_the_capability_are_refused() {
    let app = app();
    let main = window(&app, "main");
    assert_denied(
        invoke(
            &main,
            "plugin:window|close",
            serde_json::json!({"label": "main"}),
        ),
        "plugin:window|close",
    );
    assert_denied(
        invoke(
            &main,
            "plugin:event|emit",
            serde_json::json!({"event": "x", "payload": null}),
        ),
        "plugin:event|emit",
    );
}

/// Every command the app registers, as listed in `permissions/app.toml`.
const APP_COMMANDS: [&str; 56] = [
    "app_info",
    "app_about",
    "app_copy_path",
    "app_reset",
    "inspector_status",
    "settings_auto_refresh",
    "profile_add",
    "profile_select",
    "profile_remove",
    "profile_detect_local",
    "session_current",
    "timeline_get",
    "session_refresh",
    "session_signature",
    "jwt_secret_kept",
    "jwt_secret_save",
    "jwt_secret_forget",
    "session_reveal",
    "session_copy",
    "paste_preview",
    "paste_rotate",
    "log_exchange",
    "log_copy_as",
    "log_layout",
    "log_layout_save",
    "log_export",
    "session_events",
    "auth_sign_in_password",
    "auth_sign_in_anonymously",
    "auth_sign_out",
    "auth_end_session",
    "auth_sign_in_methods",
    "auth_otp_send",
    "auth_otp_verify",
    "auth_email_link_verify",
    "auth_oauth_start",
    "auth_oauth_wait",
    "auth_oauth_cancel",
    "demo_inbox",
    "playground_scenarios",
    "playground_run",
    "playground_reset",
    "mfa_factors",
    "mfa_enroll_totp",
    "mfa_verify",
    "mfa_unenroll",
    "identities_list",
    "identities_link_start",
    "identities_unlink",
    "auth_reset_password",
    "account_change_email",
    "account_change_password",
    "account_reauthenticate",
    "account_resend_email_change",
    "account_confirm_email_change",
    "account_confirm_email_change_link",
];

#[test]
fn every_app_command_is_in_the_acl_and_refused_outside_the_main_window() {
    let manifest = include_str!("../src-tauri/permissions/app.toml");
    let listed = manifest.matches("\"").count() / 2;
    for cmd in APP_COMMANDS {
        assert!(
            manifest.contains(&format!("\"{cmd}\"")),
            "{cmd} has no permission"
        );
    }
    // Nothing quoted in the manifest beyond the commands (each once), identifiers and
    // descriptions: a command missing from this list fails here.
    assert_eq!(
        listed,
        APP_COMMANDS.len()
            + manifest.matches("description = ").count()
            + manifest.matches("identifier = ").count(),
        "the ACL manifest and this list disagree"
    );
    let app = app();
    let other = window(&app, "other");
    for cmd in APP_COMMANDS {
        assert_denied(invoke(&other, cmd, serde_json::json!({})), cmd);
    }
}

/// What a bad input comes to.
enum Refused {
    /// The command ran and said no: the app's error `kind`, and words of its message that
    /// name the rule that refused.
    Kind(&'static str, &'static str),
    /// Tauri refused the arguments before the command ran (a string naming the argument:
    /// such inputs never reach the app's code, so there is no `kind`).
    Args(&'static str),
    /// Not an error: the command's answer.
    Answer(Value),
}

/// Every command a window can send bad input to, on the running demo: each input gets its
/// own error kind (or Tauri's refusal naming the argument), nothing reaches the server, the
/// session stays as it was and nothing is written to the Downloads folder.
#[test]
#[ignore = "opens the OS keyring: run through src-tauri/scripts/with-keyring.sh (test.sh does)"]
fn every_bad_input_is_refused_with_its_kind_and_nothing_is_sent() {
    use Refused::{Answer, Args, Kind};
    require_throwaway_keyring();
    let app = app();
    let main = window(&app, "main");
    session_inspector_lib::start_inspector(app.handle().clone());
    let status = invoke(&main, "inspector_status", Value::Null).expect("the demo starts");
    assert_eq!(status["keyring"], "secretService", "{status}");
    let inspector = app.state::<session_inspector_lib::inspector::Inspector>();
    let active = tauri::async_runtime::block_on(inspector.active()).unwrap();
    let session = active.client.current_session().expect("the demo signed in");
    let server = active.demo_server.as_ref().expect("the demo server");
    let requests = || -> Value {
        tauri::async_runtime::block_on(async {
            reqwest::Client::new()
                .get(format!("{}/_emulator/requests", server.url()))
                .header("x-emulator-token", server.control_token().unwrap())
                .send()
                .await?
                .json::<Value>()
                .await
        })
        .expect("the built-in server's control surface answers")["routes"]
            .clone()
    };
    let requests_before = requests();

    let fingerprint = session_engine::tokens::fingerprint(&session.refresh_token);
    let too_large = " ".repeat(session_inspector_lib::export::EXPORT_LIMIT + 1);
    let export_name = "session-inspector-log-20260101-000000.ndjson";
    // A magic link of another project: verifying it here would hand that project's live
    // token to this server.
    let elsewhere =
        "https://elsewhere.supabase.co/auth/v1/verify?token=pkce_0123abcd&type=magiclink";
    let otp = |channel: &str, recipient: &str| json!({"channel": channel, "recipient": recipient, "createUser": false});
    let verify = |channel: &str, recipient: &str, kind: &str| json!({"channel": channel, "recipient": recipient, "code": "123456", "kind": kind});
    #[rustfmt::skip]
    let table: Vec<(&str, &str, Value, Refused)> = vec![
        // Arguments of the wrong type, or missing.
        ("session_reveal", "no `which`", json!({"fingerprint": fingerprint}), Args("which")),
        ("session_reveal", "`which` a number", json!({"which": 1, "fingerprint": fingerprint}), Args("which")),
        ("session_reveal", "`fingerprint` a number", json!({"which": "refresh", "fingerprint": 7}), Args("fingerprint")),
        ("profile_select", "no `id`", json!({}), Args("id")),
        ("profile_add", "`anonKey` missing", json!({"name": "x", "projectUrl": "https://x.supabase.co"}), Args("anonKey")),
        ("settings_auto_refresh", "`enabled` a string", json!({"enabled": "yes", "marginSecs": 30}), Args("enabled")),
        ("settings_auto_refresh", "a negative margin", json!({"enabled": true, "marginSecs": -5}), Args("marginSecs")),
        ("settings_auto_refresh", "a margin out of range", json!({"enabled": true, "marginSecs": 1}), Kind("invalidInput", "between 5 and 3600")),
        ("log_exchange", "`id` a string", json!({"id": "last"}), Args("id")),
        ("log_export", "`ndjson` missing", json!({"fileName": export_name}), Args("ndjson")),
        ("paste_rotate", "`text` an object", json!({"text": {"refresh_token": "x"}}), Args("text")),
        ("mfa_verify", "`code` a number", json!({"factorId": "x", "code": 123456}), Args("code")),
        // Unknown ids and names.
        ("profile_select", "an unknown profile id", json!({"id": "project-0"}), Kind("invalidInput", "there is no profile")),
        ("profile_remove", "an unknown profile id", json!({"id": "project-0"}), Kind("invalidInput", "there is no profile")),
        ("profile_remove", "the built-in profile", json!({"id": "built-in-demo"}), Kind("invalidInput", "cannot be removed")),
        ("session_reveal", "an unknown `which`", json!({"which": "idToken", "fingerprint": fingerprint}), Args("which")),
        ("session_copy", "an unknown `which`", json!({"which": "both", "fingerprint": fingerprint}), Args("which")),
        ("session_reveal", "a fingerprint not shown", json!({"which": "refresh", "fingerprint": "fp:000000000000"}), Kind("invalidInput", "session changed")),
        ("log_layout_save", "a width that is not a number", json!({"layout": {"logWidth": "wide", "fullWidth": false, "screenshotSafe": false}}), Args("layout")),
        ("log_layout_save", "a width too narrow", json!({"layout": {"logWidth": 100, "fullWidth": false, "screenshotSafe": false}}), Kind("invalidInput", "between 320 and 4000")),
        ("log_copy_as", "an unknown format", json!({"id": 1, "format": "python", "realTokens": false}), Args("format")),
        ("log_copy_as", "no `realTokens`", json!({"id": 1, "format": "curl"}), Args("realTokens")),
        ("log_copy_as", "an unknown exchange id", json!({"id": 999_999_999, "format": "curl", "realTokens": false}), Kind("invalidInput", "no longer kept")),
        ("log_exchange", "an unknown exchange id", json!({"id": 999_999_999}), Answer(Value::Null)),
        ("auth_sign_out", "an unknown scope", json!({"scope": "everywhere"}), Args("scope")),
        ("auth_sign_out", "no scope", json!({}), Args("scope")),
        ("auth_otp_send", "an unknown channel", otp("fax", "demo@example.com"), Args("channel")),
        ("auth_otp_verify", "an unknown kind", verify("email", "demo@example.com", "carrierPigeon"), Args("kind")),
        // The export.
        ("log_export", "more than the export limit", json!({"fileName": export_name, "ndjson": too_large}), Kind("invalidInput", "too large")),
        ("log_export", "a name the app does not make", json!({"fileName": "../notes.ndjson", "ndjson": "{}"}), Kind("invalidInput", "file name")),
        ("log_export", "a line that is not an object", json!({"fileName": export_name, "ndjson": "{}\n[1]"}), Kind("invalidInput", "Line 2")),
        // The sign-in commands.
        ("auth_otp_send", "an email address in the phone form", otp("phone", "demo@example.com"), Kind("invalidInput", "Enter a phone number")),
        ("auth_otp_send", "a phone number in the email form", otp("email", "+15551234567"), Kind("invalidInput", "Enter an email address")),
        ("auth_otp_verify", "an email address in the phone form", verify("phone", "demo@example.com", "sms"), Kind("invalidInput", "Enter a phone number")),
        ("auth_email_link_verify", "another project's link", json!({"link": elsewhere}), Kind("linkForAnotherProject", "https://elsewhere.supabase.co")),
        ("auth_email_link_verify", "not a link", json!({"link": "hello"}), Kind("invalidInput", "Paste the whole link")),
        ("auth_oauth_wait", "no sign-in waiting", json!({}), Kind("noSignInWaiting", "No browser sign-in is waiting")),
        ("auth_oauth_start", "no provider", json!({"provider": "  "}), Kind("invalidInput", "Choose a provider")),
        ("mfa_verify", "a factor id that is not a UUID", json!({"factorId": "../../user", "code": "123456"}), Kind("invalidInput", "not a UUID")),
        ("mfa_unenroll", "a factor id that is not a UUID", json!({"factorId": "totp"}), Kind("invalidInput", "not a UUID")),
        // Linked identities.
        ("identities_unlink", "an identity id that is not a UUID", json!({"identityId": "../../user"}), Kind("invalidInput", "identity_id (a UUID)")),
        ("identities_unlink", "no `identityId`", json!({}), Args("identityId")),
        ("identities_link_start", "no provider", json!({"provider": " "}), Kind("invalidInput", "Choose a provider to link")),
        // Account changes.
        ("auth_reset_password", "not an email address", json!({"email": "demo"}), Kind("invalidInput", "Enter an email address")),
        ("account_change_email", "not an email address", json!({"email": "  "}), Kind("invalidInput", "Enter the new email address")),
        ("account_change_password", "`password` a number", json!({"password": 12345678}), Args("password")),
        ("account_change_password", "`nonce` a number", json!({"password": "new-password", "nonce": 123456}), Args("nonce")),
        ("account_change_password", "an empty password", json!({"password": "", "nonce": null}), Kind("invalidInput", "Enter the new password")),
        ("account_confirm_email_change", "no code", json!({"email": "demo@sessioninspector.local", "code": " "}), Kind("invalidInput", "Enter the address")),
        ("account_confirm_email_change_link", "another project's link", json!({"link": elsewhere.replace("magiclink", "email_change")}), Kind("linkForAnotherProject", "https://elsewhere.supabase.co")),
        ("account_confirm_email_change_link", "a sign-in link, not an email-change one", json!({"link": elsewhere}), Kind("invalidInput", "not an email-change link")),
    ];
    for (cmd, case, args, expected) in table {
        let answer = invoke(&main, cmd, args);
        let what = format!("{cmd}, {case}: {answer:?}");
        match expected {
            Kind(kind, words) => {
                let error = answer.expect_err(&what);
                assert_eq!(error["kind"], kind, "{what}");
                let message = error["message"].as_str().unwrap_or_default();
                assert!(
                    message.contains(words),
                    "{what}: the message names the rule"
                );
            }
            Args(name) => {
                let error = answer.expect_err(&what);
                let text = error.as_str().unwrap_or_default();
                let named = format!("invalid args `{name}` for command `{cmd}`");
                assert!(text.starts_with(&named), "{what}: expected {named}");
            }
            Answer(expected) => assert_eq!(answer.as_ref(), Ok(&expected), "{what}"),
        }
    }

    assert_eq!(requests(), requests_before, "nothing reached the server");
    assert_eq!(
        active.client.current_session().as_ref(),
        Some(&session),
        "the session is as it was"
    );
    assert!(
        std::fs::read_dir(&private_home().downloads)
            .unwrap()
            .next()
            .is_none(),
        "no export was written"
    );
}

/// Removing the active project closes it before its keyring entries go: a copy of its client
/// (a command still running, a refresh in flight) cannot save a live session back under the
/// removed profile's id, where no settings list it and no later reset would find it.
#[cfg(feature = "demo")]
#[test]
#[ignore = "opens the OS keyring: run through src-tauri/scripts/with-keyring.sh (test.sh does)"]
fn removing_the_active_project_closes_it_before_its_keyring_entries_go() {
    use session_engine::{AuthError, SessionStore as _, StorageError};
    require_throwaway_keyring();
    let stack =
        tauri::async_runtime::block_on(local_gotrue::start(local_gotrue::Config::default()))
            .expect("a project server");
    let app = app();
    let main = window(&app, "main");
    session_inspector_lib::start_inspector(app.handle().clone());
    invoke(&main, "inspector_status", Value::Null).expect("the demo starts");
    let add =
        json!({"name": "Soon removed", "projectUrl": stack.url(), "anonKey": stack.anon_key()});
    let status = invoke(&main, "profile_add", add).expect("the project is added");
    let id = status["profileId"].as_str().unwrap().to_string();
    let inspector = app.state::<session_inspector_lib::inspector::Inspector>();
    let (client, vault) = {
        let active = tauri::async_runtime::block_on(inspector.active()).unwrap();
        assert_eq!(active.profile.id, id);
        (active.client.clone(), active.vault.clone())
    };

    // Its history goes with it; another profile's stays.
    let data = tauri::Manager::path(app.handle()).app_data_dir().unwrap();
    let line = |profile: &str| {
        json!({"at": "2026-01-01T00:00:00Z", "kind": "SIGNED_IN", "profile": profile,
               "refreshTokenFingerprint": null})
        .to_string()
    };
    let history_file = data.join(session_inspector_lib::history::FILE);
    std::fs::write(
        &history_file,
        format!("{}\n{}\n", line(&id), line("another")),
    )
    .unwrap();

    let status = invoke(&main, "profile_remove", json!({"id": id})).expect("removed");
    assert_eq!(status["builtIn"], true, "{status}");
    let left = session_inspector_lib::history::read(&history_file).unwrap();
    assert!(
        left.iter().all(|entry| entry.profile != id) && left.iter().any(|e| e.profile == "another"),
        "the history after removing the profile: {left:?}"
    );

    let late = tauri::async_runtime::block_on(client.sign_in_anonymously());
    assert!(
        matches!(late, Err(AuthError::Storage(StorageError::Closed))),
        "a late sign-in on the removed profile: {late:?}"
    );
    assert_eq!(
        vault.load(&id).unwrap(),
        None,
        "a session came back under the removed profile's id"
    );
}

/// A reset refused because the settings list a profile whose id cannot be read refuses before
/// it closes anything: the profile that was open stays open, the same one.
#[cfg(feature = "demo")]
#[test]
#[ignore = "opens the OS keyring: run through src-tauri/scripts/with-keyring.sh (test.sh does)"]
fn a_reset_refused_for_unreadable_settings_leaves_the_profile_open() {
    use tauri_plugin_store::StoreExt as _;
    require_throwaway_keyring();
    let app = app();
    let main = window(&app, "main");
    session_inspector_lib::start_inspector(app.handle().clone());
    invoke(&main, "inspector_status", Value::Null).expect("a profile opens");
    let inspector = app.state::<session_inspector_lib::inspector::Inspector>();
    let open =
        std::sync::Arc::downgrade(&tauri::async_runtime::block_on(inspector.active()).unwrap());
    // Unreadable settings kept aside that name a profile without an id.
    let store = app.store("settings.json").unwrap();
    let aside = "settings-unreadable-backup";
    store.set(aside, json!({"profiles": [{"name": "no id"}]}));

    let error = invoke(&main, "app_reset", Value::Null).expect_err("the reset refuses");
    store.delete(aside);
    assert_eq!(error["kind"], "resetSettingsUnreadable", "{error}");
    let active = tauri::async_runtime::block_on(inspector.active()).unwrap();
    let still = open.upgrade().expect("the profile was closed");
    assert!(
        std::sync::Arc::ptr_eq(&active, &still),
        "the profile was reopened"
    );
    tauri::async_runtime::block_on(active.client.refresh_session(None))
        .expect("its client still saves a refreshed session");
}
