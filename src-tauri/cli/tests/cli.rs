//! The real binary, without the OS keyring: its help, `decode` of every kind of paste and of
//! garbage, `refresh` of a token read from stdin against the built-in server on loopback (the
//! rotation seen from both sides), and the errors that come before any keyring is opened,
//! each with its exit code. Tests that open the keyring are in `cli_keyring.rs`.

mod support;

use base64::Engine as _;
use session_engine::tokens::fingerprint;
use support::{data_folder, run, run_async, server, settings_for, sign_in, write_settings};

#[test]
fn help_teaches_every_command_with_examples_and_the_exit_codes() {
    let data = data_folder();
    let help = run(data.path(), &["--help"], "");
    assert_eq!(help.code, 0, "{help:?}");
    for command in ["decode", "refresh", "import", "watch", "profiles"] {
        assert!(help.stdout.contains(command), "{command}: {}", help.stdout);
        let sub = run(data.path(), &[command, "--help"], "");
        assert_eq!(sub.code, 0, "{sub:?}");
        assert!(
            sub.stdout.contains("Examples:"),
            "{command}: {}",
            sub.stdout
        );
        assert!(
            sub.stdout
                .contains(&format!("session-inspector-cli {command}")),
            "{command}'s examples use it: {}",
            sub.stdout
        );
    }
    for row in [
        "0  success",
        "1  internal",
        "2  usage",
        "3  badInput",
        "4  profile",
        "5  noSession",
        "6  refused",
        "7  unreachable",
        "8  keyring",
    ] {
        assert!(help.stdout.contains(row), "{row}: {}", help.stdout);
    }
}

/// `--count 0` would still print a line before counting: it is refused.
#[test]
fn watch_count_zero_is_a_usage_error() {
    let data = data_folder();
    let refused = run(data.path(), &["watch", "-p", "x", "--count", "0"], "");
    assert_eq!(refused.code, 2, "{refused:?}");
}

/// An argument that is not UTF-8 is a usage error, not a panic (exit 101).
#[cfg(unix)]
#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error() {
    use std::os::unix::ffi::OsStrExt as _;
    let data = data_folder();
    for json in [false, true] {
        let mut command = support::command(data.path(), &["refresh", "--stdin"]);
        command.arg(std::ffi::OsStr::from_bytes(b"\xff\xfe"));
        if json {
            command.arg("--json");
        }
        let output = command.stdin(std::process::Stdio::null()).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{output:?}");
    }
}

#[test]
fn a_token_as_an_argument_is_a_usage_error() {
    let data = data_folder();
    let refused = run(data.path(), &["refresh", "--stdin", "abcdefghijkl"], "");
    assert_eq!(refused.code, 2, "{refused:?}");
    refused.assert_never_shows("abcdefghijkl");
    // Typed where an argument or a file name goes, a token is never printed back, in either
    // output format (clap's own message would quote it, and so would "cannot read <file>").
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJlLXNlY3JldA";
    let mut settings = session_profiles::Settings::default();
    settings.profiles.push(session_profiles::Profile::project(
        "p1".into(),
        "Prod".into(),
        "http://127.0.0.1:9".into(),
        "anon".into(),
    ));
    write_settings(data.path(), &settings);
    for (args, code) in [
        (vec!["refresh", "--stdin", token], 2),
        (vec!["refresh", "-p", "p1", token], 2),
        (vec!["watch", "-p", "p1", token], 2),
        (vec![token], 2),
        (vec!["decode", token], 3),
        (vec!["import", "-p", "p1", token], 3),
    ] {
        for json in [false, true] {
            let mut args = args.clone();
            if json {
                args.push("--json");
            }
            let refused = run(data.path(), &args, "");
            assert_eq!(refused.code, code, "{args:?}: {refused:?}");
            refused.assert_never_shows(token);
            refused.assert_never_shows("c2lnbmF0dXJlLXNlY3JldA");
            assert!(
                refused.stderr.contains("never from an argument"),
                "{args:?}: {refused:?}"
            );
            if json {
                assert_eq!(refused.error()["exitCode"], code, "{refused:?}");
            }
        }
    }
    // The JSON form of a usage error, and no source at all.
    let refused = run(data.path(), &["refresh", "--json"], "");
    assert_eq!(refused.code, 2, "{refused:?}");
    assert_eq!(refused.error()["kind"], "usage");
    assert_eq!(refused.error()["exitCode"], 2);
    // --stdin without a project to send to.
    let refused = run(
        data.path(),
        &["refresh", "--stdin", "--json"],
        "abcdefghijkl",
    );
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.error()["message"]
        .as_str()
        .unwrap()
        .contains("--url and --anon-key"));
}

/// The forms a developer has at hand, made from one real session.
fn pastes(access: &str, refresh: &str) -> Vec<(&'static str, String)> {
    let session = serde_json::json!({
        "access_token": access, "refresh_token": refresh, "token_type": "bearer",
        "expires_in": 3600, "expires_at": 4_102_444_800i64, "user": {"id": "u"}
    });
    let cookie = format!(
        "sb-abcd-auth-token=base64-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(session.to_string())
    );
    vec![
        ("refresh_token", refresh.to_string()),
        ("access_token", access.to_string()),
        ("bearer_header", format!("Authorization: Bearer {access}")),
        ("token_response", session.to_string()),
        (
            "storage_value",
            format!(
                "\"sb-abcd-auth-token\": {}",
                serde_json::json!(session.to_string())
            ),
        ),
        ("ssr_cookie", cookie),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decode_says_what_each_kind_of_paste_holds_without_showing_its_tokens() {
    let server = server(|_| {}).await;
    let session = sign_in(&server).await;
    let (access, refresh) = (
        session.access_token.as_str(),
        session.refresh_token.as_str(),
    );
    let data = data_folder();
    for (kind, paste) in pastes(access, refresh) {
        let decoded = run_async(data.path(), &["decode", "--json"], &paste).await;
        assert_eq!(decoded.code, 0, "{kind}: {decoded:?}");
        decoded.assert_never_shows(access);
        decoded.assert_never_shows(refresh);
        let json = decoded.json();
        assert_eq!(json["kind"], kind, "{json}");
        let holds_refresh = !matches!(kind, "access_token" | "bearer_header");
        assert_eq!(json["canRotate"], holds_refresh, "{kind}: {json}");
        if holds_refresh {
            assert_eq!(
                json["refreshTokenFingerprint"],
                fingerprint(refresh),
                "{kind}"
            );
        } else {
            assert_eq!(
                json["accessTokenFingerprint"],
                fingerprint(access),
                "{kind}"
            );
            assert_eq!(json["accessClaims"]["email"], support::EMAIL, "{kind}");
            assert_eq!(json["accessClaims"]["sub"], session.user.id.as_str());
        }
        // For people: the same, in words.
        let human = run_async(data.path(), &["decode"], &paste).await;
        assert_eq!(human.code, 0, "{kind}: {human:?}");
        human.assert_never_shows(access);
        human.assert_never_shows(refresh);
        assert!(human.stdout.contains("fp:"), "{kind}: {}", human.stdout);
    }
    // An access token shows its claims, its expiry in words, and another issuer is named.
    let human = run_async(
        data.path(),
        &["decode", "--url", "https://other.supabase.co"],
        access,
    )
    .await;
    assert_eq!(human.code, 0, "{human:?}");
    assert!(
        human.stdout.starts_with("An access token for user "),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("expires "), "{}", human.stdout);
    assert!(human.stdout.contains(support::EMAIL), "{}", human.stdout);
    assert!(
        human
            .stdout
            .contains("not by this profile's server (https://other.supabase.co/auth/v1)"),
        "{}",
        human.stdout
    );
}

#[test]
fn decode_reads_a_file_too() {
    let data = data_folder();
    let file = data.path().join("token.txt");
    std::fs::write(&file, "abcdefghijkl\n").unwrap();
    let decoded = run(
        data.path(),
        &["decode", "--json", file.to_str().unwrap()],
        "",
    );
    assert_eq!(decoded.code, 0, "{decoded:?}");
    assert_eq!(decoded.json()["refreshTokenShape"]["format"], "legacy");
    let missing = data.path().join("missing.txt");
    let failed = run(data.path(), &["decode", missing.to_str().unwrap()], "");
    assert_eq!(failed.code, 3, "{failed:?}");
    assert!(
        failed.stderr.starts_with("error: no such file"),
        "{failed:?}"
    );
    failed.assert_never_shows("missing.txt");
}

#[test]
fn garbage_is_bad_input_said_in_one_line_that_never_repeats_it() {
    let data = data_folder();
    let cases = [
        ("", "nothing to import"),
        ("   \n", "nothing to import"),
        ("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", "looks like a JWT"),
        ("sessionid=s3cr3tvalue", "not an sb-"),
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ""),
        ("{\"access_token\": ", "JSON"),
        ("\u{0}\u{1}binary", "binary"),
    ];
    for (paste, says) in cases {
        let failed = run(data.path(), &["decode"], paste);
        assert_eq!(failed.code, 3, "{paste:?}: {failed:?}");
        assert!(failed.stdout.is_empty(), "{failed:?}");
        assert_eq!(failed.stderr.lines().count(), 1, "{failed:?}");
        assert!(failed.stderr.starts_with("error: "), "{failed:?}");
        assert!(failed.stderr.contains(says), "{paste:?}: {failed:?}");
        if paste.trim().len() > 8 {
            failed.assert_never_shows(paste.trim());
        }
        let json = run(data.path(), &["decode", "--json"], paste);
        assert_eq!(json.code, 3);
        assert_eq!(json.error()["kind"], "badInput");
        assert_eq!(json.error()["exitCode"], 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_from_stdin_rotates_and_the_used_up_token_is_then_refused() {
    let server = server(|_| {}).await;
    let session = sign_in(&server).await;
    let old = session.refresh_token.to_string();
    let data = data_folder();
    let project = ["--url", &server.url(), "--anon-key", server.anon_key()];
    let args = |extra: &[&'static str]| {
        let mut args = vec!["refresh", "--stdin"];
        args.extend(project.iter().copied());
        args.extend(extra.iter().copied());
        args
    };

    // The token is read from stdin: here as the session JSON a browser's storage holds.
    let paste =
        serde_json::json!({"access_token": session.access_token.as_str(), "refresh_token": old})
            .to_string();
    let refreshed = run_async(data.path(), &args(&["--json"]), &paste).await;
    assert_eq!(refreshed.code, 0, "{refreshed:?}");
    refreshed.assert_never_shows(&old);
    refreshed.assert_never_shows(&session.access_token);
    let report = refreshed.json();
    assert_eq!(report["usedUpRefreshTokenFingerprint"], fingerprint(&old));
    assert_eq!(report["saved"], false);
    let new_fp = report["session"]["refreshTokenFingerprint"]
        .as_str()
        .unwrap();
    assert_ne!(new_fp, fingerprint(&old), "rotated");
    assert_eq!(report["session"]["email"], support::EMAIL);
    assert!(
        report["session"].get("refreshToken").is_none(),
        "redacted: {report}"
    );
    assert!(report["session"]["expiresInSecs"].as_i64().unwrap() > 3000);
    assert!(
        report["warnings"][0].as_str().unwrap().contains("--reveal"),
        "the lost session is pointed out: {refreshed:?}"
    );
    assert!(
        refreshed.stderr.is_empty(),
        "with --json the warnings are in the report: {refreshed:?}"
    );

    // The old token again, at once: GoTrue hands the parent of the session's newest token
    // that token again (its client lost the answer), so nothing new is issued.
    let again = run_async(data.path(), &args(&["--json", "--reveal"]), &old).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.json()["session"]["refreshTokenFingerprint"], new_fp);
    let newest = again.json()["session"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    // One more rotation, and the old token is two behind: reuse, refused with its own exit
    // code and GoTrue's code (the reuse interval here is 0 s).
    let next = run_async(data.path(), &args(&["--json"]), &newest).await;
    assert_eq!(next.code, 0, "{next:?}");
    let reused = run_async(data.path(), &args(&["--json"]), &old).await;
    assert_eq!(reused.code, 6, "{reused:?}");
    let error = reused.error();
    assert_eq!(error["kind"], "refused");
    assert_eq!(error["code"], "refresh_token_already_used");
    assert_eq!(error["status"], 400);
    assert_eq!(error["exitCode"], 6);
    reused.assert_never_shows(&old);
    let human = run_async(data.path(), &args(&[]), &old).await;
    assert_eq!(human.code, 6);
    assert_eq!(
        human.stderr.trim(),
        "error: Invalid Refresh Token: Already Used"
    );

    // Nothing was written to the data folder.
    assert!(support::files_in(data.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reveal_prints_working_tokens_on_stdout_only() {
    let server = server(|_| {}).await;
    let session = sign_in(&server).await;
    let data = data_folder();
    let args = [
        "refresh",
        "--stdin",
        "--reveal",
        "--json",
        "--url",
        &server.url(),
        "--anon-key",
        server.anon_key(),
    ];
    let revealed = run_async(data.path(), &args, &session.refresh_token).await;
    assert_eq!(revealed.code, 0, "{revealed:?}");
    let new = revealed.json()["session"]["refreshToken"]
        .as_str()
        .expect("revealed")
        .to_string();
    assert_eq!(
        revealed.json()["session"]["refreshTokenFingerprint"],
        fingerprint(&new)
    );
    assert!(!revealed.stderr.contains(&new));
    assert!(!revealed.stderr.contains("--reveal"), "{revealed:?}");
    // The revealed token is the session's: it refreshes in turn.
    let again = run_async(data.path(), &args, &new).await;
    assert_eq!(again.code, 0, "{again:?}");
    // For people, the tokens are labelled lines.
    let human_args = [
        "refresh",
        "--stdin",
        "--reveal",
        "--url",
        &server.url(),
        "--anon-key",
        server.anon_key(),
    ];
    let newest = again.json()["session"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let human = run_async(data.path(), &human_args, &newest).await;
    assert_eq!(human.code, 0, "{human:?}");
    assert!(
        human
            .stdout
            .lines()
            .any(|l| l.trim_start().starts_with("refresh_token ")),
        "{}",
        human.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paste_without_a_refresh_token_or_an_unknown_token_is_refused_in_words() {
    let server = server(|_| {}).await;
    let session = sign_in(&server).await;
    let data = data_folder();
    let args = [
        "refresh",
        "--stdin",
        "--json",
        "--url",
        &server.url(),
        "--anon-key",
        server.anon_key(),
    ];
    // An access token alone: nothing to refresh, nothing sent.
    let failed = run_async(data.path(), &args, &session.access_token).await;
    assert_eq!(failed.code, 3, "{failed:?}");
    assert!(failed.error()["message"]
        .as_str()
        .unwrap()
        .contains("holds no refresh token"));
    failed.assert_never_shows(&session.access_token);
    // A well-formed token the server never issued.
    let unknown = run_async(data.path(), &args, "zzzzzzzzzzzz").await;
    assert_eq!(unknown.code, 6, "{unknown:?}");
    assert_eq!(unknown.error()["code"], "refresh_token_not_found");
}

#[test]
fn a_server_that_does_not_answer_is_unreachable() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = data_folder();
    let url = format!("http://127.0.0.1:{port}");
    let failed = run(
        data.path(),
        &[
            "refresh",
            "--stdin",
            "--json",
            "--url",
            &url,
            "--anon-key",
            "k",
        ],
        "abcdefghijkl",
    );
    assert_eq!(failed.code, 7, "{failed:?}");
    assert_eq!(failed.error()["kind"], "unreachable");
    // Plain http to another host is refused before anything is sent.
    let insecure = run(
        data.path(),
        &[
            "refresh",
            "--stdin",
            "--url",
            "http://example.com",
            "--anon-key",
            "k",
        ],
        "abcdefghijkl",
    );
    assert_eq!(insecure.code, 3, "{insecure:?}");
    assert!(insecure.stderr.contains("must use https"), "{insecure:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_are_read_from_the_apps_settings_and_never_written() {
    let server = server(|_| {}).await;
    let data = data_folder();
    let mut settings = settings_for(&server, "p-1", "Staging");
    settings.profiles[1].auto_refresh = true;
    let file = write_settings(data.path(), &settings);
    let before = std::fs::read(&file).unwrap();

    let listed = run_async(data.path(), &["profiles", "--no-keyring", "--json"], "").await;
    assert_eq!(listed.code, 0, "{listed:?}");
    let json = listed.json();
    assert_eq!(json["keyring"], false);
    assert_eq!(json["profiles"][0]["backend"], "builtIn");
    let project = &json["profiles"][1];
    assert_eq!(project["id"], "p-1");
    assert_eq!(project["name"], "Staging");
    assert_eq!(project["projectUrl"], server.url());
    assert_eq!(project["autoRefresh"], true);
    assert_eq!(project["lastUsed"], true);
    assert!(project.get("session").is_none());
    listed.assert_never_shows(server.anon_key());
    let human = run_async(data.path(), &["profiles", "--no-keyring"], "").await;
    assert_eq!(human.code, 0);
    assert!(
        human.stdout.contains("* \"Staging\" (p-1)"),
        "{}",
        human.stdout
    );

    // Profile errors come before any keyring is opened or anything is read.
    let unknown = run_async(data.path(), &["refresh", "--profile", "Nope", "--json"], "").await;
    assert_eq!(unknown.code, 4, "{unknown:?}");
    assert_eq!(unknown.error()["kind"], "profile");
    for command in ["refresh", "watch", "import"] {
        let demo = run_async(data.path(), &[command, "--profile", "Built-in demo"], "").await;
        assert_eq!(demo.code, 4, "{command}: {demo:?}");
        assert!(demo.stderr.contains("runs inside the app"), "{demo:?}");
    }
    let session = sign_in(&server).await;
    let demo = run_async(
        data.path(),
        &["refresh", "--stdin", "--profile", "built-in-demo"],
        &session.refresh_token,
    )
    .await;
    assert_eq!(demo.code, 4, "{demo:?}");

    // Settings the app could not have written: refused, never guessed.
    std::fs::write(&file, b"{\"settings\": {\"profiles\": 7}}").unwrap();
    let unreadable = run_async(data.path(), &["profiles", "--no-keyring", "--json"], "").await;
    assert_eq!(unreadable.code, 4, "{unreadable:?}");
    assert!(unreadable.error()["message"]
        .as_str()
        .unwrap()
        .contains("settings.json"));
    std::fs::write(&file, &before).unwrap();

    // No settings yet: no profiles, said plainly.
    let empty = data_folder();
    let none = run_async(empty.path(), &["profiles"], "").await;
    assert_eq!(none.code, 0, "{none:?}");
    assert!(none.stdout.starts_with("No profiles"), "{none:?}");
    assert!(
        support::files_in(empty.path()).is_empty(),
        "nothing created"
    );

    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "settings.json untouched"
    );
    assert_eq!(support::files_in(data.path()), vec![file]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_another_server_is_pointed_out_before_it_is_sent() {
    let issuer = server(|_| {}).await;
    let other = server(|_| {}).await;
    let session = sign_in(&issuer).await;
    let paste = serde_json::json!({
        "access_token": session.access_token.as_str(),
        "refresh_token": session.refresh_token.as_str(),
    })
    .to_string();
    let data = data_folder();
    let args = [
        "refresh",
        "--stdin",
        "--url",
        &other.url(),
        "--anon-key",
        other.anon_key(),
    ];
    let refused = run_async(data.path(), &args, &paste).await;
    // The window's warning, then the server's answer: it never issued that token.
    assert!(
        refused.stderr.starts_with(&format!(
            "note: Its access token was issued by {}/auth/v1, not by this profile's server",
            issuer.url()
        )),
        "{refused:?}"
    );
    assert_eq!(refused.code, 6, "{refused:?}");
    assert!(
        refused.stderr.contains("Refresh Token Not Found"),
        "{refused:?}"
    );
    // With --json every line of stderr is a JSON object: the note, then the error.
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let refused = run_async(data.path(), &json_args, &paste).await;
    assert_eq!(refused.code, 6, "{refused:?}");
    let lines: Vec<serde_json::Value> = refused
        .stderr
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON object a line"))
        .collect();
    assert_eq!(lines.len(), 2, "{refused:?}");
    assert!(lines[0]["note"]
        .as_str()
        .unwrap()
        .starts_with("Its access token was issued by"));
    assert_eq!(lines[1]["kind"], "refused");
    // Sent to its own server, nothing is noted.
    let args = [
        "refresh",
        "--stdin",
        "--url",
        &issuer.url(),
        "--anon-key",
        issuer.anon_key(),
    ];
    let fine = run_async(data.path(), &args, &paste).await;
    assert_eq!(fine.code, 0, "{fine:?}");
    assert!(!fine.stderr.contains("issued by"), "{fine:?}");
}

/// Output that cannot be written after GoTrue rotated the session: the error says how to get
/// the new tokens back, and doing so works.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_whose_output_is_lost_says_how_to_get_it_back() {
    let server = server(|_| {}).await;
    let session = sign_in(&server).await;
    let data = data_folder();
    let url = server.url();
    let args = [
        "refresh",
        "--stdin",
        "--reveal",
        "--url",
        url.as_str(),
        "--anon-key",
        server.anon_key(),
    ];
    let (data_path, token) = (data.path().to_path_buf(), session.refresh_token.clone());
    let args_owned: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let args: Vec<&str> = args_owned.iter().map(String::as_str).collect();
        // /dev/full: every write fails (ENOSPC), as a full disk or a closed pipe would.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut child = support::command(&data_path, &args)
            .stdin(std::process::Stdio::piped())
            .stdout(full)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(token.as_bytes());
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&fingerprint(&session.refresh_token)) && stderr.contains("send it again"),
        "{stderr}"
    );
    assert!(!stderr.contains(session.refresh_token.as_str()), "{stderr}");
    // As it says: the used-up token brings the new session back.
    let mut again = args.to_vec();
    again.push("--json");
    let recovered = run_async(data.path(), &again, &session.refresh_token).await;
    assert_eq!(recovered.code, 0, "{recovered:?}");
    assert_ne!(
        recovered.json()["session"]["refreshToken"],
        session.refresh_token.as_str()
    );
}
