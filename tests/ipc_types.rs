//! The webview's IPC types are generated from the Rust types: the committed file must be
//! exactly what the Rust types give today, so a renamed field cannot reach the UI unnoticed.

use session_inspector_lib::ipc_types::{typescript, GENERATED_FILE};

#[test]
fn the_generated_typescript_matches_the_rust_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GENERATED_FILE);
    let generated = typescript();
    if std::env::var_os("UPDATE_IPC_TYPES").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{GENERATED_FILE} is out of date with the Rust types: run \
         `UPDATE_IPC_TYPES=1 cargo test --test ipc_types` and commit the result.\n\
         --- committed\n{committed}\n--- generated\n{generated}"
    );
}
