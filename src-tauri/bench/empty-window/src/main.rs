//! An empty Tauri 2 window: the floor the app's start-up and memory are measured against
//! (src-tauri/scripts/bench-window.sh). Nothing but the window and its static page.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the empty window failed to start");
}
