//! Session Inspector's Tauri shell: wiring only. Commands are thin adapters in `commands/`;
//! the session logic lives in Tauri-free crates.

mod commands;
pub mod error;

use tauri::{Builder, Context, Runtime};

/// Everything the app registers, generic over the runtime so that the mock-runtime tests
/// exercise exactly the wiring users get.
pub fn build<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_store::Builder::default().build())
        .invoke_handler(tauri::generate_handler![commands::app::app_info])
}

/// The real context: config, embedded `ui/dist`, and the capabilities/ACL tauri-build compiled.
pub fn context<R: Runtime>() -> Context<R> {
    tauri::generate_context!()
}

pub fn run() {
    build(Builder::default())
        .run(context())
        .expect("Session Inspector failed to start");
}
