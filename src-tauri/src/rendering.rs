//! How WebKitGTK draws the window. In its accelerated compositing mode the web process draws
//! the page through OpenGL; without a GPU driver (a VM, a remote desktop, Xvfb) that is Mesa's
//! software GL, which made the web process about 130 MB larger 5 s after start, the countdown
//! appear later and each repaint slower (`src-tauri/scripts/bench-window.sh`, BENCHMARKS.md;
//! measured with and without, on Xvfb), and some newer WebKitGTK versions leave the window
//! blank in it (tauri#15936). This window is text, a progress bar and a virtualized list, which
//! WebKit's non-composited mode (painted on the CPU) draws as well; the E2E tests have always
//! run in that mode. So the main window's web view is set to it, on every Linux desktop, GPU or
//! not, through its own settings (hardware acceleration policy "never"), not through the
//! process environment: nothing the app starts (the browser of an OAuth sign-in) inherits it.
//! The user keeps the last word: started with `WEBKIT_DISABLE_COMPOSITING_MODE=0`, the app
//! leaves WebKit's default (compositing on); set to anything else, WebKit turns it off itself.
//!
//! The empty window of the benchmarks (`src-tauri/bench/empty-window`) compiles this same file,
//! so the app and its floor are drawn in the same mode.

use std::ffi::OsStr;

/// WebKitGTK's own switch (set and not "0" turns compositing off); read here only as the
/// user's choice.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const COMPOSITING_SWITCH: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// The rule: given the user's value of `WEBKIT_DISABLE_COMPOSITING_MODE`, does the app turn
/// compositing off in the web view? Only "0" (compositing wanted) says no.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn turn_compositing_off(user_choice: Option<&OsStr>) -> bool {
    user_choice != Some(OsStr::new("0"))
}

/// Applies the rule to a web view that has just been made. Runs on the main thread inside the
/// same turn of the event loop that made it (tauri runs `with_webview` at once when called
/// there, as `setup` is), so before WebKit draws the first frame.
#[cfg(target_os = "linux")]
pub(crate) fn apply<R: tauri::Runtime>(webview: &tauri::WebviewWindow<R>) -> tauri::Result<()> {
    if !turn_compositing_off(std::env::var_os(COMPOSITING_SWITCH).as_deref()) {
        return Ok(());
    }
    webview.with_webview(|platform| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt as _, WebViewExt as _};
        if let Some(settings) = platform.inner().settings() {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    })
}

/// Other systems: WebKitGTK is Linux's web view; nothing to choose.
#[cfg(not(target_os = "linux"))]
pub(crate) fn apply<R: tauri::Runtime>(_webview: &tauri::WebviewWindow<R>) -> tauri::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compositing_goes_off_unless_the_user_asked_for_it() {
        assert!(turn_compositing_off(None));
        assert!(turn_compositing_off(Some(OsStr::new("1"))));
        assert!(turn_compositing_off(Some(OsStr::new(""))));
        assert!(!turn_compositing_off(Some(OsStr::new("0"))));
    }
}
