//! Independent judges: the official Supabase clients, `@supabase/auth-js` and Python's
//! `supabase_auth`, run their scenario scripts (tests/judges/) against a real server and
//! assert what the clients themselves report. `make test` installs both clients.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{start_with, EMAIL, PASSWORD};
use local_gotrue::{Config, RefreshTokenFormat, WebAuthnConfig};

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

/// Runs one judge against a fresh server with its defaults and asserts that it reported
/// exactly the `expected` checks, in that order, each passed.
async fn run_judge(program: PathBuf, script: &str, dir: PathBuf, expected: &[&str]) {
    run_judge_on(program, script, dir, "defaults", |_| {}, expected).await
}

/// Runs one judge against a fresh server configured by `configure` (the judge learns the
/// configuration's name from `JUDGE_SERVER`) and asserts its report: exactly the `expected`
/// checks, in that order, each passed, and the summary line counting them. A scenario that
/// is dropped, skipped or renamed fails here, not only one that fails.
async fn run_judge_on(
    program: PathBuf,
    script: &str,
    dir: PathBuf,
    server: &str,
    configure: impl FnOnce(&mut Config),
    expected: &[&str],
) {
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
        .env("SERVICE_ROLE_KEY", h.server.service_role_key())
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
    let (checks, summary) = read_report(&report);
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(failed.is_empty(), "{script} on {server}: failed {failed:?}");
    let names: Vec<&str> = checks.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names, expected,
        "{script} on {server}: the checks reported are not the checks expected"
    );
    assert_eq!(
        summary,
        format!("{} passed, 0 failed", expected.len()),
        "{script} on {server}: the summary line"
    );
}

/// The checks of a judge's report (`{"check", "ok", "detail"}` lines, in order) and its last
/// line. Any other line on stdout breaks the output contract (tests/judges/README.md).
fn read_report(report: &str) -> (Vec<(String, bool)>, String) {
    let mut lines: Vec<&str> = report.lines().filter(|l| !l.trim().is_empty()).collect();
    let summary = lines.pop().unwrap_or_default().to_string();
    let checks = lines
        .iter()
        .map(|line| {
            let check: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a check line ({e}): {line}"));
            let name = check["check"].as_str().expect("a check name").to_string();
            let ok = check["ok"].as_bool().expect("ok is a boolean");
            (name, ok)
        })
        .collect();
    (checks, summary)
}

/// What `scenario.mjs` and `scenario.py` report, in order (tests/judges/README.md, scenarios
/// 1 to 9 and the later blocks). The two clients differ where they behave differently (auth-js
/// retries a 503 inside one call, supabase_auth does not) and in where each script checks the
/// server's invariants.
const AUTH_JS_SCENARIO: &[&str] = &[
    "password_sign_in",
    "refresh_rotates",
    "parent_of_active_returns_active",
    "reuse_inside_interval",
    "reuse_outside_interval.b0",
    "reuse_outside_interval.b1",
    "reuse_outside_interval.b2",
    "sign_out.global",
    "sign_out.refresh_not_found",
    "sign_out.get_user_session_missing",
    "retry_503.recovers",
    "retry_503.request_count",
    "rate_limit_429",
    "rejected_refresh_keeps_a_valid_session",
    "rejected_refresh_ends_an_expired_session",
    "sign_out_refreshes_an_expired_access_token",
    "invariants",
    "key_rotation.first_key_verifies",
    "key_rotation.new_key_verifies_after_refetch",
    "key_rotation.previous_key_still_verifies",
];

const PYTHON_SCENARIO: &[&str] = &[
    "password_sign_in",
    "refresh_rotates",
    "parent_of_active_returns_active",
    "reuse_inside_interval",
    "reuse_outside_interval.b0",
    "reuse_outside_interval.b1",
    "reuse_outside_interval.b2",
    "sign_out.global",
    "sign_out.refresh_not_found",
    "sign_out.get_user_session_missing",
    "retry_503.no_internal_retry",
    "retry_503.recovers",
    "rate_limit_429",
    "rejected_refresh_keeps_a_valid_session",
    "rejected_refresh_of_an_expired_session",
    "sign_out_refreshes_an_expired_access_token",
    "key_rotation.first_key_verifies",
    "key_rotation.new_key_verifies_after_refetch",
    "invariants",
];

/// What `rules.mjs` and `rules.py` report on each server (the same names in both).
const RULES_LEGACY_NO_ROTATION: &[&str] = &[
    "rules.legacy_swaps_without_rotation.new_token",
    "rules.legacy_swaps_without_rotation.headers",
    "rules.legacy_swaps_without_rotation.reuse_fails",
    "rules.legacy_swaps_without_rotation.family_kept",
    "rules.parent_of_active.same_token",
    "rules.parent_of_active.no_reuse_header",
];

const RULES_V2: &[&str] = &[
    "rules.v2_causes.normal",
    "rules.v2_causes.joined",
    "rules.v2_termination.rotated",
    "rules.v2_termination.session_gone",
];

const OTP: &[&str] = &[
    "otp.email_code.sent",
    "otp.email_code.inbox",
    "otp.email_code.signed_in",
    "otp.resend_too_soon.429",
    "otp.token_hash.signed_in",
    "otp.token_hash.single_use",
    "otp.wrong_code.otp_expired",
    "otp.should_create_user_false.otp_disabled",
    "otp.phone.sent",
    "otp.phone.signed_in",
    "otp.recovery.password_recovery",
    "otp.invariants",
];

const ADMIN: &[&str] = &[
    "admin.create_user",
    "admin.create_user_duplicate",
    "admin.create_user_invalid_email",
    "admin.list_users_paged",
    "admin.list_users_bad_page",
    "admin.get_user",
    "admin.get_user_missing",
    "admin.update_user",
    "admin.banned_cannot_sign_in",
    "admin.delete_user",
    "admin.soft_delete",
    "admin.generate_link_signup",
    "admin.generate_link_sends_nothing",
    "admin.generate_link_verifies",
    "admin.generate_link_recovery_unknown",
    "admin.generate_link_email_change",
    "admin.invite",
    "admin.mfa_list_factors",
    "admin.mfa_delete_factor",
    "admin.oauth_create_client",
    "admin.oauth_get_client_without_secret",
    "admin.oauth_regenerate_secret",
    "admin.oauth_invalid_redirect_uris",
    "admin.oauth_delete_client",
    "admin.not_admin",
    "admin.bad_jwt",
    "admin.invariants",
];

#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_the_admin_api() {
    run_judge("node".into(), "admin.mjs", auth_js(), ADMIN).await;
}

const ACCOUNT: &[&str] = &[
    "account.email_change.pending",
    "account.email_change.first_of_two",
    "account.email_change.applied",
    "account.email_exists.422",
    "account.same_password.422",
    "account.reauthenticate.nonce_sent",
    "account.reauthenticate.password_changed",
    "account.resend.too_soon",
    "account.resend.invalid_email",
    "account.password_change.revokes_tokens",
    "account.invariants",
];

const MFA: &[&str] = &[
    "mfa.totp_helper_rfc6238",
    "mfa.aal_before",
    "mfa.enroll",
    "mfa.list_factors_unverified",
    "mfa.challenge",
    "mfa.verify.wrong_code",
    "mfa.verify.session",
    "mfa.verify.event",
    "mfa.aal_after",
    "mfa.refresh_keeps_aal2",
    "mfa.second_sign_in_needs_step_up",
    "mfa.unenroll_at_aal1_refused",
    "mfa.challenge_and_verify",
    "mfa.unenroll",
    "mfa.expired_challenge",
    "mfa.invariants",
];

const WEBAUTHN: &[&str] = &[
    "webauthn.enroll",
    "webauthn.challenge_create",
    "webauthn.verify_create",
    "webauthn.aal_and_factors",
    "webauthn.challenge_request",
    "webauthn.verify_wrong_origin",
    "webauthn.verify_request",
    "webauthn.unenroll",
    "webauthn.invariants",
];

const OAUTH: &[&str] = &[
    "oauth_pkce.url",
    "oauth_pkce.redirect",
    "oauth_pkce.session",
    "oauth_pkce.stored",
    "oauth_pkce.signed_in_event",
    "oauth_pkce.code_used_once",
    "oauth_denied.error",
    "oauth_disabled_provider.refused",
];

fn auth_js() -> PathBuf {
    let dir = judges().join("auth-js");
    assert!(
        dir.join("node_modules/@supabase/auth-js").exists(),
        "@supabase/auth-js is not installed: run `make test`"
    );
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_the_server_as_its_clients_see_it() {
    run_judge("node".into(), "scenario.mjs", auth_js(), AUTH_JS_SCENARIO).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn supabase_auth_python_judges_the_server_as_its_clients_see_it() {
    run_judge(
        python(),
        "scenario.py",
        judges().join("python"),
        PYTHON_SCENARIO,
    )
    .await;
}

/// GoTrue's refresh rules (issue 11, items 1 and 2) as each official client sees them.
async fn judge_rules(program: PathBuf, script: &str, dir: PathBuf) {
    run_judge_on(
        program.clone(),
        script,
        dir.clone(),
        "legacy-no-rotation",
        |c| c.rotation_enabled = false,
        RULES_LEGACY_NO_ROTATION,
    )
    .await;
    run_judge_on(
        program,
        script,
        dir,
        "v2",
        |c| c.refresh_token_format = RefreshTokenFormat::V2,
        RULES_V2,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_gotrue_refresh_rules() {
    judge_rules("node".into(), "rules.mjs", auth_js()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn supabase_auth_python_judges_gotrue_refresh_rules() {
    judge_rules(python(), "rules.py", judges().join("python")).await;
}

/// One-time codes and emailed links (`signInWithOtp`, `verifyOtp` with a code from the inbox
/// and with a token hash, `resetPasswordForEmail`) as auth-js sees them.
#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_one_time_codes() {
    run_judge("node".into(), "otp.mjs", auth_js(), OTP).await;
}

/// Account changes (`updateUser` with an email and a password, `verifyOtp` type
/// `email_change` for both addresses, `reauthenticate`, `resend`) as auth-js sees them, with
/// email autoconfirm off so the secure email change needs both confirmations.
#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_account_changes() {
    run_judge_on(
        "node".into(),
        "account.mjs",
        auth_js(),
        "no-autoconfirm",
        |c| c.autoconfirm = false,
        ACCOUNT,
    )
    .await;
}

/// MFA (TOTP) as auth-js's `mfa` API sees it: enroll, challenge, verify with a code the script
/// computes, `MFA_CHALLENGE_VERIFIED`, the assurance level before and after, unenroll.
#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_mfa() {
    run_judge("node".into(), "mfa.mjs", auth_js(), MFA).await;
}

/// WebAuthn MFA factors as auth-js's `mfa` API sees them, with the script's own software
/// authenticator: a registration, a step-up with an assertion, a refused assertion, unenroll.
#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_webauthn_factors() {
    run_judge_on(
        "node".into(),
        "webauthn.mjs",
        auth_js(),
        "webauthn",
        |c| {
            c.mfa.webauthn_enroll_enabled = true;
            c.mfa.webauthn_verify_enabled = true;
            c.webauthn = WebAuthnConfig {
                rp_id: "localhost".into(),
                rp_display_name: "judges".into(),
                rp_origins: vec!["http://localhost:5173".into()],
            };
        },
        WEBAUTHN,
    )
    .await;
}

/// The OAuth sign-in with PKCE (`signInWithOAuth` + `exchangeCodeForSession`) through the
/// built-in fake provider, as auth-js lives it.
#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_the_oauth_pkce_sign_in() {
    run_judge("node".into(), "oauth.mjs", auth_js(), OAUTH).await;
}

const IDENTITY_LINKING: &[&str] = &[
    "link_identity.before",
    "link_identity.url",
    "link_identity.session",
    "link_identity.after",
    "unlink_identity.removed",
    "unlink_identity.last_refused",
];

const IDENTITY_DEFAULTS: &[&str] = &[
    "manual_linking_disabled.refused",
    "saml_disabled.refused",
    "web3_disabled.refused",
    "id_token.unverifiable",
];

/// Linking and unlinking an identity (`linkIdentity`, `exchangeCodeForSession`,
/// `getUserIdentities`, `unlinkIdentity`) on a server with manual linking on.
#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_identity_linking() {
    run_judge_on(
        "node".into(),
        "identity.mjs",
        auth_js(),
        "manual_linking",
        |c| c.manual_linking = true,
        IDENTITY_LINKING,
    )
    .await;
}

/// GoTrue's answers, as auth-js reports them, with manual linking, SAML and Web3 off and an
/// ID token no provider key verifies.
#[tokio::test(flavor = "multi_thread")]
async fn auth_js_judges_disabled_identity_features() {
    run_judge("node".into(), "identity.mjs", auth_js(), IDENTITY_DEFAULTS).await;
}
