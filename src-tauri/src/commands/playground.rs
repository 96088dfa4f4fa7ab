//! The playground (built-in server only): its scenarios, running one, and undoing what they
//! changed on the server. The scenarios' logic is `playground.rs`.

use tauri::State;

use super::logged;
use crate::error::Error;
use crate::inspector::Inspector;
use crate::playground::{self, Playground, Scenario, ScenarioInfo, ScenarioReport};

/// The scenarios, in the panel's order, with what each does and what to watch.
#[tauri::command]
pub fn playground_scenarios() -> Vec<ScenarioInfo> {
    playground::scenarios()
}

/// Runs one scenario on the built-in server; its steps show in the live log as they happen.
#[tauri::command]
pub async fn playground_run(
    inspector: State<'_, Inspector>,
    playground: State<'_, Playground>,
    scenario: Scenario,
) -> Result<ScenarioReport, Error> {
    let result = async {
        let active = inspector.active().await?;
        Ok(playground.run(&active, &inspector.log, scenario).await?)
    };
    logged(&inspector.log, "playground", result.await)
}

/// Undoes the scenarios' changes to the server: faults, outage, clock skew, rate limit, policy.
#[tauri::command]
pub async fn playground_reset(inspector: State<'_, Inspector>) -> Result<(), Error> {
    Ok(playground::reset(&*inspector.active().await?)?)
}
