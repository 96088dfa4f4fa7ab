//! The app's real wiring and real ACL (tauri-build's compiled capabilities, through
//! `generate_context!()`), driven on Tauri's mock runtime: no display needed. Every app here
//! lives in this process's private home (its log file included).

#[path = "support/mock_ipc.rs"]
mod mock_ipc;

use mock_ipc::{call as invoke, private_home};
use serde_json::Value;
use tauri::test::{mock_builder, MockRuntime};
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

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
const APP_COMMANDS: [&str; 36] = [
    "app_info",
    "inspector_status",
    "settings_auto_refresh",
    "profile_add",
    "profile_select",
    "profile_remove",
    "profile_detect_local",
    "session_current",
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
    "mfa_factors",
    "mfa_enroll_totp",
    "mfa_verify",
    "mfa_unenroll",
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
