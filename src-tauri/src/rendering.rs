//! How WebKitGTK draws the window. In its accelerated compositing mode the web process draws
//! the page through OpenGL; without a GPU driver (a VM, a remote desktop, Xvfb) that is Mesa's
//! software GL, which made the web process about 130 MB larger 5 s after start, the countdown
//! appear later and each repaint slower (`src-tauri/scripts/bench-window.sh`, BENCHMARKS.md;
//! measured with and without, on Xvfb), and some newer WebKitGTK versions leave the window
//! blank in it (tauri#15936). This window is text, a progress bar and a virtualized list, which
//! WebKit's non-composited mode (painted on the CPU) draws as well; the E2E tests have always
//! run in that mode. So the app asks for it before GTK starts, unless
//! the user chose for themselves: `WEBKIT_DISABLE_COMPOSITING_MODE=0` keeps compositing on.
//! WebKit reads the variable once, in the app's process, when the first web view is made.

/// WebKitGTK's switch (HardwareAccelerationManager: set and not "0" turns compositing off).
pub const COMPOSITING_SWITCH: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Turns WebKit's compositing mode off unless the user set the switch. Call first thing in
/// `main`, while it is the only thread (the environment is process-wide).
pub fn prefer_cpu_rendering() {
    #[cfg(target_os = "linux")]
    if std::env::var_os(COMPOSITING_SWITCH).is_none() {
        std::env::set_var(COMPOSITING_SWITCH, "1");
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    // One test touches the variable: the environment is shared by the test threads.
    #[test]
    fn compositing_goes_off_unless_the_user_chose() {
        std::env::set_var(COMPOSITING_SWITCH, "0");
        prefer_cpu_rendering();
        assert_eq!(std::env::var(COMPOSITING_SWITCH).unwrap(), "0");
        std::env::remove_var(COMPOSITING_SWITCH);
        prefer_cpu_rendering();
        assert_eq!(std::env::var(COMPOSITING_SWITCH).unwrap(), "1");
        std::env::remove_var(COMPOSITING_SWITCH);
    }
}
