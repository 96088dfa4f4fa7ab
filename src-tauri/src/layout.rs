//! How the window lays out the live log: the width of its column beside the panels, the
//! full-width mode, and the screenshot-safe mode. Kept in the settings (no secret in it) so a
//! relaunch opens the window as it was left; the file is written only when one of them changes.

use tauri::{AppHandle, Runtime};

use crate::error::Error;
use crate::settings;

/// The log column's narrowest and widest, in CSS pixels: below the minimum a row shows little
/// more than its time; the window itself limits it further.
pub const LOG_WIDTH_MIN: u32 = 320;
pub const LOG_WIDTH_MAX: u32 = 4000;

pub use session_profiles::LogLayout;

/// The layout, when its width is inside the bounds.
fn checked(layout: LogLayout) -> Result<LogLayout, Error> {
    if !(LOG_WIDTH_MIN..=LOG_WIDTH_MAX).contains(&layout.log_width) {
        return Err(Error::InvalidInput(format!(
            "The log's width must be between {LOG_WIDTH_MIN} and {LOG_WIDTH_MAX} pixels."
        )));
    }
    Ok(layout)
}

/// The layout saved, or the default one.
pub fn load<R: Runtime>(app: &AppHandle<R>) -> Result<LogLayout, Error> {
    Ok(settings::load(app)?.layout)
}

/// Saves `layout` (when it differs from the one saved) and returns it.
pub fn save<R: Runtime>(app: &AppHandle<R>, layout: LogLayout) -> Result<LogLayout, Error> {
    let layout = checked(layout)?;
    settings::update(app, |saved| {
        saved.layout = layout;
        Ok::<_, Error>(layout)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_width_outside_the_bounds_is_refused_in_words() {
        let narrow = LogLayout {
            log_width: LOG_WIDTH_MIN - 1,
            ..LogLayout::default()
        };
        let refused = checked(narrow).unwrap_err().to_string();
        assert_eq!(
            refused,
            "The log's width must be between 320 and 4000 pixels."
        );
        assert!(checked(LogLayout::default()).is_ok());
    }

    #[test]
    fn settings_written_before_the_layout_existed_read_as_the_default() {
        let old: settings::Settings = serde_json::from_str(r#"{"profiles": []}"#).unwrap();
        assert_eq!(old.layout, LogLayout::default());
        let partial: LogLayout = serde_json::from_str(r#"{"fullWidth": true}"#).unwrap();
        assert_eq!((partial.log_width, partial.full_width), (440, true));
    }
}
