//! Session Inspector's Tauri shell: wiring only. `commands/` holds the IPC surface (a few lines
//! each); every operation lives in a module named for its job, over the Tauri-free crates
//! (`session-engine`, `session-vault`, `local-gotrue`). See ARCHITECTURE.md.

pub mod about;
mod activation;
#[cfg(feature = "bench")]
mod bench_stream;
pub mod clipboard;
mod commands;
pub mod copy_as;
pub mod demo;
pub mod error;
pub mod export;
pub mod history;
pub mod identities;
pub mod inspector;
pub mod ipc_types;
pub mod layout;
pub mod live_log;
pub mod log_stream;
pub mod logging;
pub mod oauth;
pub mod playground;
pub mod predictor;
pub mod private_files;
mod profile_store;
pub mod profiles;
mod qr;
mod rendering;
pub mod reset;
mod reveal;
pub mod settings;
mod signature;
pub mod timeline;
mod vault;
pub mod views;

use tauri::{Builder, Context, Manager, Runtime};

/// Everything the app registers, generic over the runtime so that the mock-runtime tests
/// exercise exactly the wiring users get.
pub fn build<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(logging::plugin())
        .plugin(tauri_plugin_store::Builder::default().build())
        // For Rust only: the window is granted none of its commands.
        .plugin(tauri_plugin_clipboard_manager::init())
        // Opens the system browser for OAuth sign-ins, from Rust only (no window permission).
        .plugin(tauri_plugin_opener::init())
        .manage(inspector::Inspector::default())
        .manage(clipboard::LastCopy::default())
        .manage(oauth::PendingOAuth::default())
        .manage(history::History::default())
        .manage(predictor::Predictor::default())
        .manage(playground::Playground::default())
        .setup(|app| {
            // Before the first frame: see rendering.rs.
            if let Some(window) = app.get_webview_window("main") {
                if let Err(error) = rendering::apply(&window) {
                    tracing::warn!(%error, "could not choose how the window is drawn");
                }
            }
            // Files an earlier version left readable by others, off the start-up path (the
            // folder holds WebKit's caches); what the app writes meanwhile is private already.
            if let Ok(folder) = app.path().app_data_dir() {
                tauri::async_runtime::spawn_blocking(move || {
                    match private_files::tighten(&folder) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(entries = n, "app files made private"),
                        Err(error) => tracing::warn!(%error, "app files could not be made private"),
                    }
                });
            }
            start_inspector(app.handle().clone());
            #[cfg(feature = "bench")]
            bench_stream::start_from_env(app.state::<inspector::Inspector>().log.clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::app::app_about,
            commands::app::app_copy_path,
            commands::app::app_reset,
            commands::profile::inspector_status,
            commands::profile::settings_auto_refresh,
            commands::profile::profile_add,
            commands::profile::profile_select,
            commands::profile::profile_remove,
            commands::profile::profile_detect_local,
            commands::session::session_current,
            commands::timeline::timeline_get,
            commands::session::session_refresh,
            commands::session::session_signature,
            commands::session::jwt_secret_kept,
            commands::session::jwt_secret_save,
            commands::session::jwt_secret_forget,
            commands::session::session_reveal,
            commands::session::session_copy,
            commands::session::paste_preview,
            commands::session::paste_rotate,
            commands::log::log_exchange,
            commands::log::log_copy_as,
            commands::log::log_layout,
            commands::log::log_layout_save,
            commands::log::log_export,
            commands::log::session_events,
            commands::auth::auth_sign_in_password,
            commands::auth::auth_sign_in_anonymously,
            commands::auth::auth_sign_out,
            commands::auth::auth_end_session,
            commands::sign_in::auth_sign_in_methods,
            commands::sign_in::auth_otp_send,
            commands::sign_in::auth_otp_verify,
            commands::sign_in::auth_email_link_verify,
            commands::sign_in::auth_oauth_start,
            commands::sign_in::auth_oauth_wait,
            commands::sign_in::auth_oauth_cancel,
            commands::sign_in::demo_inbox,
            commands::playground::playground_scenarios,
            commands::playground::playground_run,
            commands::playground::playground_reset,
            commands::mfa::mfa_factors,
            commands::mfa::mfa_enroll_totp,
            commands::mfa::mfa_verify,
            commands::mfa::mfa_unenroll,
            commands::identities::identities_list,
            commands::identities::identities_link_start,
            commands::identities::identities_unlink,
            commands::account::auth_reset_password,
            commands::account::account_change_email,
            commands::account::account_change_password,
            commands::account::account_reauthenticate,
            commands::account::account_resend_email_change,
            commands::account::account_confirm_email_change,
            commands::account::account_confirm_email_change_link,
        ])
}

/// Opens the last profile (or the built-in demo) in the background; commands wait for it.
/// Called by `setup`, and by tests, whose mock app does not run `setup`.
pub fn start_inspector<R: Runtime>(app: tauri::AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        tracing::info!(version = %app.package_info().version, "Session Inspector starting");
        // Before the first profile opens and its events are recorded.
        let migrating = app.clone();
        let _ = tauri::async_runtime::spawn_blocking(move || history::migrate(&migrating)).await;
        let inspector = app.state::<inspector::Inspector>();
        inspector.start(app.clone()).await;
    });
}

/// The real context: config, embedded `ui/dist`, and the capabilities/ACL tauri-build compiled.
pub fn context<R: Runtime>() -> Context<R> {
    tauri::generate_context!()
}

pub fn run() {
    private_files::restrict_new_files();
    build(Builder::default())
        .build(context())
        .expect("Session Inspector failed to start")
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                clipboard::clear_on_exit(app);
                history::flush_now(app);
            }
        });
}
