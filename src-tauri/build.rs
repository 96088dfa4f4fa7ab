use std::path::{Path, PathBuf};
use std::process::Command;

use tauri_build::{AppManifest, Attributes};

fn main() {
    // The app's own commands get an ACL manifest, so capabilities gate them too
    // (without one, every registered command is callable from any local webview).
    // Permissions and capabilities live under src-tauri/ rather than the repo root.
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed=src-tauri/permissions");
    println!("cargo:rerun-if-changed=ui/dist");
    stamp_build_commit();
    tauri_build::try_build(
        Attributes::new()
            .capabilities_path_pattern("src-tauri/capabilities/**/*")
            .app_manifest(
                AppManifest::new().permissions_path_pattern("src-tauri/permissions/**/*"),
            ),
    )
    .expect("tauri-build failed");
}

/// What the About dialog says this build was made from: `SESSION_INSPECTOR_COMMIT` (the short
/// commit, or "unknown") and `SESSION_INSPECTOR_DIRTY` ("true" when tracked files differed
/// from that commit, "false", or "unknown"). A source tarball has no `.git`, and a tarball
/// unpacked inside some other repository must not take that repository's commit: only a
/// repository whose top level is this package's root counts. Never fails the build.
fn stamp_build_commit() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let (commit, dirty) = match Repository::at(&root) {
        Some(repo) => {
            repo.rerun_on_new_commits();
            let commit = repo.git(&["rev-parse", "--short=10", "HEAD"]);
            // No optional locks: `status` would otherwise refresh the index (taking index.lock
            // next to a developer's own git, and touching the watched index: a rebuild loop).
            let dirty = repo
                .git(&[
                    "--no-optional-locks",
                    "status",
                    "--porcelain",
                    "--untracked-files=no",
                ])
                .map(|changes| (!changes.is_empty()).to_string());
            (commit, dirty)
        }
        None => (None, None),
    };
    println!(
        "cargo:rustc-env=SESSION_INSPECTOR_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
    println!(
        "cargo:rustc-env=SESSION_INSPECTOR_DIRTY={}",
        dirty.as_deref().unwrap_or("unknown")
    );
}

struct Repository {
    root: PathBuf,
}

impl Repository {
    /// The git repository whose top level is `root`, when git is installed and there is one.
    fn at(root: &Path) -> Option<Repository> {
        let repo = Repository {
            root: root.to_path_buf(),
        };
        let top = PathBuf::from(repo.git(&["rev-parse", "--show-toplevel"])?);
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        same(&top, root).then_some(repo)
    }

    /// One line of git's answer, trimmed; None when git is missing or refuses.
    fn git(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(args)
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// A new commit, a checkout or staged changes re-run this script, so the stamp follows.
    /// In a worktree `.git` is a file: git itself says where HEAD (the worktree's git dir) and
    /// the refs (the common dir) live. Only paths that exist are named, since cargo re-runs a
    /// script on every build while a named path is missing.
    fn rerun_on_new_commits(&self) {
        let path = |args: &[&str]| self.git(args).map(|p| self.root.join(p));
        let mut watched = Vec::new();
        if let Some(git_dir) = path(&["rev-parse", "--git-dir"]) {
            watched.push(git_dir.join("HEAD"));
            watched.push(git_dir.join("index"));
        }
        if let Some(common) = path(&["rev-parse", "--git-common-dir"]) {
            watched.push(common.join("packed-refs"));
            if let Some(reference) = self.git(&["symbolic-ref", "-q", "HEAD"]) {
                watched.push(common.join(reference));
            }
        }
        // Edits not yet staged show as "modified" when this script runs again: on a change
        // under the app's own sources, or any of the above. Watching the whole tracked tree
        // would re-run it on every build, so an edit elsewhere (ui/, the other crates) is seen
        // at the next run only: the flag says what the last run of this script saw.
        watched.push(self.root.join("src-tauri/src"));
        for file in watched.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", file.display());
        }
    }
}
