//! The app's files are its user's alone. Every file the process creates is 0600 and every
//! folder 0700 (a process-wide umask, set before anything is written: the settings store, the
//! log, the demo database, sealed sessions and exports included, whichever plugin writes
//! them), and what an earlier version left more open in the app's folder is tightened at
//! start-up. Tokens are never in these files; emails, user ids, project URLs and timings are.

use std::path::Path;

/// Makes every file and folder this process creates from now on private to its user.
/// Call first thing in `main`, before any thread or plugin writes a file.
pub fn restrict_new_files() {
    #[cfg(unix)]
    // SAFETY: umask only swaps the process's file-mode mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

/// Takes group and other permissions off `dir` and everything under it (symbolic links are
/// neither followed nor changed). Returns how many entries were tightened.
pub fn tighten(dir: &Path) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let metadata = match std::fs::symlink_metadata(dir) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        if metadata.file_type().is_symlink() {
            return Ok(0);
        }
        let mut changed = 0;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))?;
            changed += 1;
        }
        if metadata.is_dir() {
            for entry in std::fs::read_dir(dir)? {
                changed += tighten(&entry?.path())?;
            }
        }
        Ok(changed)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(0)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn tighten_closes_group_and_other_everywhere_but_through_links() {
        let root = tempfile::tempdir().unwrap();
        let app = root.path().join("app");
        std::fs::create_dir_all(app.join("logs")).unwrap();
        std::fs::write(app.join("settings.json"), "{}").unwrap();
        std::fs::write(app.join("logs/app.log"), "").unwrap();
        let outside = root.path().join("outside.txt");
        std::fs::write(&outside, "").unwrap();
        std::os::unix::fs::symlink(&outside, app.join("link")).unwrap();
        for path in [&app, &app.join("logs")] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        for path in [
            &app.join("settings.json"),
            &app.join("logs/app.log"),
            &outside,
        ] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }

        assert_eq!(tighten(&app).unwrap(), 4);
        assert_eq!(mode(&app), 0o700);
        assert_eq!(mode(&app.join("logs")), 0o700);
        assert_eq!(mode(&app.join("settings.json")), 0o600);
        assert_eq!(mode(&app.join("logs/app.log")), 0o600);
        assert_eq!(mode(&outside), 0o644, "a link's target is left alone");
        assert_eq!(tighten(&app).unwrap(), 0, "nothing left to do");
        assert_eq!(tighten(&root.path().join("missing")).unwrap(), 0);
    }
}
