//! An empty Tauri 2 window: the floor the app's start-up and memory are measured against
//! (src-tauri/scripts/bench-window.sh). Nothing but the window and its static page, drawn in the
//! same WebKit mode as the app's: it compiles the app's own rule (src-tauri/src/rendering.rs).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[path = "../../../src/rendering.rs"]
mod rendering;

use tauri::Manager as _;

fn main() {
    tauri::Builder::default()
        .setup(|app| {
            if let Some(window) = app.get_webview_window("main") {
                rendering::apply(&window)?;
            }
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the empty window failed to start");
}
