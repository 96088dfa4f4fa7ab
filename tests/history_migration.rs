//! The history an earlier version kept in the settings file moves to `history.ndjson` at
//! start-up, once. Its own test binary: it points HOME at a private folder.

#[path = "support/mock_ipc.rs"]
#[allow(dead_code)]
mod mock_ipc;

use serde_json::{json, Value};
use session_inspector_lib::history::{self, HistoryEntry};
use tauri::test::mock_builder;

#[test]
fn an_old_settings_history_moves_to_its_own_file_once() {
    let home = mock_ipc::private_home();
    let folder = home.data.join("dev.sessioninspector.app");
    let old: Vec<Value> = (0..3)
        .map(|i| {
            json!({"at": format!("2026-01-0{}T00:00:00Z", i + 1), "kind": "TOKEN_REFRESHED",
                   "profile": "p", "refreshTokenFingerprint": format!("fp:{i}")})
        })
        .collect();
    let start = || {
        let app = session_inspector_lib::build(mock_builder())
            .build(session_inspector_lib::context())
            .unwrap();
        assert_eq!(tauri::Manager::path(&app).app_data_dir().unwrap(), folder);
        history::migrate(app.handle());
        drop(app);
    };
    std::fs::create_dir_all(&folder).unwrap();
    let settings_file = folder.join("settings.json");
    std::fs::write(
        &settings_file,
        json!({"settings": {"profiles": [], "history": old}}).to_string(),
    )
    .unwrap();

    start();
    let moved = history::read(&folder.join(history::FILE)).unwrap();
    let expected: Vec<HistoryEntry> = serde_json::from_value(Value::Array(old)).unwrap();
    assert_eq!(moved, expected);
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(&settings_file).unwrap()).unwrap();
    assert!(
        settings["settings"]["history"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "the settings still hold it: {settings}"
    );

    start();
    assert_eq!(
        history::read(&folder.join(history::FILE)).unwrap(),
        expected,
        "a second start copied it again"
    );

    // A migration stopped after writing the file, before the settings dropped the list: the
    // next start finishes it without adding the lines twice.
    std::fs::write(
        &settings_file,
        json!({"settings": {"profiles": [], "history": expected}}).to_string(),
    )
    .unwrap();
    start();
    assert_eq!(
        history::read(&folder.join(history::FILE)).unwrap(),
        expected,
        "an interrupted migration, run again, duplicated lines"
    );
}
