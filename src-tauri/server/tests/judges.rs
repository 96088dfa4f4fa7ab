//! Independent judges: the official Supabase clients, `@supabase/auth-js` and Python's
//! `supabase_auth`, run their scenario scripts (tests/judges/) against a real server and
//! assert what the clients themselves report. `make test` installs both clients.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{start_with, EMAIL, PASSWORD};
use local_gotrue::{Config, RefreshTokenFormat};

fn judges() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/judges")
}

fn python() -> PathBuf {
    std::env::var_os("JUDGE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/judges/venv/bin/python")
        })
}

/// Runs one judge against a fresh server with its defaults; returns its report.
async fn run_judge(program: PathBuf, script: &str, dir: PathBuf) -> String {
    run_judge_on(program, script, dir, "defaults", |_| {}).await
}

/// Runs one judge against a fresh server configured by `configure`; the judge learns the
/// configuration's name from `JUDGE_SERVER`.
async fn run_judge_on(
    program: PathBuf,
    script: &str,
    dir: PathBuf,
    server: &str,
    configure: impl FnOnce(&mut Config),
) -> String {
    assert!(
        program.exists() || program.components().count() == 1,
        "{} is missing: run `make test`, which installs the judges",
        program.display()
    );
    let h = start_with(configure).await;
    let mut command = Command::new(&program);
    command
        .arg(script)
        .current_dir(&dir)
        .env("JUDGE_SERVER", server)
        .env("GOTRUE_URL", h.server.auth_url())
        .env("ANON_KEY", h.server.anon_key())
        .env("EMULATOR_URL", format!("{}/_emulator", h.server.url()))
        .env("DEMO_EMAIL", EMAIL)
        .env("DEMO_PASSWORD", PASSWORD);
    let output = tokio::time::timeout(
        Duration::from_secs(180),
        tokio::task::spawn_blocking(move || command.output()),
    )
    .await
    .expect("the judge finishes within 3 minutes")
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let report = String::from_utf8_lossy(&output.stdout).to_string();
    println!("{report}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{script} failed:\n{report}");
    let last = report.lines().last().unwrap_or_default().to_string();
    assert!(
        last.ends_with(" 0 failed") && !last.starts_with("0 passed"),
        "unexpected summary {last:?}"
    );
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_the_server_as_its_clients_see_it() {
    let dir = judges().join("auth-js");
    assert!(
        dir.join("node_modules/@supabase/auth-js").exists(),
        "@supabase/auth-js is not installed: run `make test`"
    );
    let report = run_judge("node".into(), "scenario.mjs", dir).await;
    assert!(report.contains("\"check\":\"retry_503.request_count\",\"ok\":true"));
    assert!(
        report.contains("\"check\":\"key_rotation.new_key_verifies_after_refetch\",\"ok\":true")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn supabase_auth_python_judges_the_server_as_its_clients_see_it() {
    let report = run_judge(python(), "scenario.py", judges().join("python")).await;
    assert!(report.contains("\"check\": \"reuse_outside_interval.b0\", \"ok\": true"));
}

/// GoTrue's refresh rules (issue 11, items 1 and 2) as each official client sees them.
async fn judge_rules(program: PathBuf, script: &str, dir: PathBuf) {
    let report = run_judge_on(
        program.clone(),
        script,
        dir.clone(),
        "legacy-no-rotation",
        |c| c.rotation_enabled = false,
    )
    .await;
    assert!(report.contains("rules.legacy_swaps_without_rotation.family_kept"));
    let report = run_judge_on(program, script, dir, "v2", |c| {
        c.refresh_token_format = RefreshTokenFormat::V2
    })
    .await;
    assert!(report.contains("rules.v2_termination.rotated"));
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_gotrue_refresh_rules() {
    judge_rules("node".into(), "rules.mjs", judges().join("auth-js")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn supabase_auth_python_judges_gotrue_refresh_rules() {
    judge_rules(python(), "rules.py", judges().join("python")).await;
}

/// One-time codes and emailed links (`signInWithOtp`, `verifyOtp` with a code from the inbox
/// and with a token hash, `resetPasswordForEmail`) as auth-js sees them.
#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_one_time_codes() {
    let report = run_judge("node".into(), "otp.mjs", judges().join("auth-js")).await;
    assert!(report.contains("\"check\":\"otp.email_code.signed_in\",\"ok\":true"));
    assert!(report.contains("\"check\":\"otp.recovery.password_recovery\",\"ok\":true"));
}

/// MFA (TOTP) as auth-js's `mfa` API sees it: enroll, challenge, verify with a code the script
/// computes, `MFA_CHALLENGE_VERIFIED`, the assurance level before and after, unenroll.
#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_mfa() {
    let report = run_judge("node".into(), "mfa.mjs", judges().join("auth-js")).await;
    assert!(report.contains("\"check\":\"mfa.verify.event\",\"ok\":true"));
    assert!(report.contains("\"check\":\"mfa.aal_after\",\"ok\":true"));
}

/// The OAuth sign-in with PKCE (`signInWithOAuth` + `exchangeCodeForSession`) through the
/// built-in fake provider, as auth-js lives it.
#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_the_oauth_pkce_sign_in() {
    let report = run_judge("node".into(), "oauth.mjs", judges().join("auth-js")).await;
    assert!(report.contains("\"check\":\"oauth_pkce.session\",\"ok\":true"));
    assert!(report.contains("\"check\":\"oauth_pkce.code_used_once\",\"ok\":true"));
}
