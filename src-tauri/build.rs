use tauri_build::{AppManifest, Attributes};

fn main() {
    // The app's own commands get an ACL manifest, so capabilities gate them too
    // (without one, every registered command is callable from any local webview).
    // Permissions and capabilities live under src-tauri/ rather than the repo root.
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed=src-tauri/permissions");
    println!("cargo:rerun-if-changed=ui/dist");
    tauri_build::try_build(
        Attributes::new()
            .capabilities_path_pattern("src-tauri/capabilities/**/*")
            .app_manifest(
                AppManifest::new().permissions_path_pattern("src-tauri/permissions/**/*"),
            ),
    )
    .expect("tauri-build failed");
}
