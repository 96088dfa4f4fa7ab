use chrono::Utc;
use session_engine::recorder::Exchange;
use session_engine::tokens::fingerprint;
use session_engine::Token;
use tauri::Url;

use super::*;

const KEY: &str = "anon-key-0123456789";
const ACCESS: &str = "eyJhbGciOiJIUzI1NiJ9.current-access.sig";
const REFRESH: &str = "current-refresh-token";
const USED: &str = "used-refresh-token";

fn base() -> Url {
    Url::parse("http://127.0.0.1:5400/auth/v1").unwrap()
}

/// An exchange as the recorder keeps it: every secret a fingerprint.
fn recorded(method: &str, path: &str, bearer: &str, body: Option<String>) -> Exchange {
    Exchange {
        id: 12,
        started_at: Utc::now(),
        duration_ms: 3.0,
        method: method.into(),
        url: format!("http://127.0.0.1:5400/auth/v1{path}"),
        request_headers: vec![
            ("apikey".into(), fingerprint(KEY)),
            (
                "authorization".into(),
                format!("Bearer {}", fingerprint(bearer)),
            ),
            ("x-supabase-api-version".into(), "2024-01-01".into()),
            ("x-client-info".into(), "session-inspector/0.1".into()),
            (
                "content-type".into(),
                "application/json;charset=UTF-8".into(),
            ),
            ("accept".into(), "*/*".into()),
        ],
        request_body: body,
        status: Some(200),
        response_headers: vec![],
        response_body: None,
        server_date: None,
        error: None,
    }
}

fn refresh_exchange() -> Exchange {
    let body = format!(r#"{{"refresh_token":"{}"}}"#, fingerprint(USED));
    recorded("POST", "/token?grant_type=refresh_token", KEY, Some(body))
}

fn held(fill: bool) -> Held {
    Held {
        api_key: Some(Token::from(KEY)),
        access_token: Some(Token::from(ACCESS)),
        refresh_token: Some(Token::from(REFRESH)),
        fill,
    }
}

fn names(rendered: &Rendered) -> Vec<(&str, bool)> {
    rendered
        .slots
        .iter()
        .map(|s| (s.name.as_str(), s.filled))
        .collect()
}

#[test]
fn a_redacted_curl_names_each_fingerprint_and_holds_no_secret() {
    let rendered = render(&refresh_exchange(), &base(), CopyFormat::Curl, &held(false));
    let text = rendered.text.as_str();
    for secret in [KEY, ACCESS, REFRESH, USED] {
        assert!(!text.contains(secret), "{secret} in\n{text}");
    }
    assert_eq!(
        names(&rendered),
        [("SI_SUPABASE_KEY", false), ("SI_REFRESH_TOKEN", false)]
    );
    assert!(text.contains(&fingerprint(USED)), "{text}");
    assert!(
        text.contains(
            ": \"${SI_REFRESH_TOKEN:?set SI_REFRESH_TOKEN to the refresh_token in the body, fp:"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "curl -sS \\\n  -X POST \\\n  'http://127.0.0.1:5400/auth/v1/token?grant_type=refresh_token'"
        ),
        "{text}"
    );
    assert!(text.contains("-H 'apikey: '\"$SI_SUPABASE_KEY\""), "{text}");
    assert!(
        text.contains("-H 'authorization: Bearer '\"$SI_SUPABASE_KEY\""),
        "{text}"
    );
    assert!(
        text.contains("-H 'x-client-info: session-inspector/0.1'"),
        "{text}"
    );
    assert!(
        !text.contains("accept"),
        "only the headers that matter: {text}"
    );
    assert!(
        text.contains(r#"--data-raw '{"refresh_token":"'"$SI_REFRESH_TOKEN"'"}'"#),
        "{text}"
    );
    assert_eq!(rendered.slots[1].why.as_deref(), Some("redacted copy"));
}

#[test]
fn real_tokens_fill_only_what_the_app_still_holds() {
    let rendered = render(&refresh_exchange(), &base(), CopyFormat::Curl, &held(true));
    let text = rendered.text.as_str();
    // The key is held; the refresh token sent was used up by that very exchange.
    assert_eq!(
        names(&rendered),
        [("SI_SUPABASE_KEY", true), ("SI_REFRESH_TOKEN", false)]
    );
    assert!(text.contains(&format!("SI_SUPABASE_KEY='{KEY}'")), "{text}");
    assert!(!text.contains(USED) && !text.contains(REFRESH), "{text}");
    assert!(
        rendered.slots[1]
            .why
            .as_deref()
            .unwrap()
            .contains("not held"),
        "{:?}",
        rendered.slots[1]
    );
    assert!(text.contains("It holds real tokens"), "{text}");

    let user = recorded("GET", "/user", ACCESS, None);
    let rendered = render(&user, &base(), CopyFormat::Curl, &held(true));
    assert_eq!(
        names(&rendered),
        [("SI_SUPABASE_KEY", true), ("SI_ACCESS_TOKEN", true)]
    );
    assert!(rendered
        .text
        .contains(&format!("SI_ACCESS_TOKEN='{ACCESS}'")));
    assert!(!rendered.text.contains("-X GET"), "GET is curl's default");
    assert!(
        !rendered.text.contains("content-type"),
        "no body, no content type"
    );
    assert!(rendered.slots[1]
        .place
        .contains("the access token of the current session"));
}

#[test]
fn a_quote_in_the_body_still_pastes_into_a_shell() {
    let body = r#"{"email":"o'brien@example.com","password":"[redacted]"}"#.to_string();
    let exchange = recorded("POST", "/token?grant_type=password", KEY, Some(body));
    let rendered = render(&exchange, &base(), CopyFormat::Curl, &held(true));
    assert!(
        rendered.text.contains(
            r#"--data-raw '{"email":"o'\''brien@example.com","password":"'"$SI_PASSWORD"'"}'"#
        ),
        "{}",
        rendered.text.as_str()
    );
    let password = &rendered.slots[1];
    assert_eq!(
        (password.name.as_str(), password.fingerprint.as_deref()),
        ("SI_PASSWORD", None)
    );
    assert!(password.why.as_deref().unwrap().contains("never recorded"));
}

#[test]
fn the_shell_reads_the_script_back_as_the_recorded_request() {
    // `sh` with the variables set prints the arguments curl would get.
    let body = r#"{"email":"it's $HOME `x`","password":"[redacted]"}"#.to_string();
    let exchange = recorded("POST", "/token?grant_type=password", KEY, Some(body));
    let rendered = render(&exchange, &base(), CopyFormat::Curl, &held(true));
    let script = rendered.text.replace("curl -sS", "printf '%s\\n'");
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .env("SI_PASSWORD", "pa\"ss")
        .output()
        .unwrap();
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        printed.contains(r#"{"email":"it's $HOME `x`","password":"pa"ss"}"#),
        "{printed}"
    );
    assert!(printed.contains(&format!("apikey: {KEY}")), "{printed}");

    // A placeholder left unset stops the script before curl, naming it; a plain PASSWORD
    // already in the environment (CI's, say) is not taken for it.
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .env_remove("SI_PASSWORD")
        .env("PASSWORD", "someone-elses")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("set SI_PASSWORD to"));
}

#[test]
fn supabase_js_writes_the_call_a_developer_would() {
    let js = |exchange: &Exchange| {
        render(exchange, &base(), CopyFormat::SupabaseJs, &held(false))
            .text
            .to_string()
    };
    let refresh = js(&refresh_exchange());
    assert!(refresh.starts_with("// Exchange #12: POST"), "{refresh}");
    assert!(refresh.contains("import { createClient } from '@supabase/supabase-js'\n\nconst SI_SUPABASE_KEY = process.env.SI_SUPABASE_KEY"), "{refresh}");
    assert!(
        refresh.contains(r#"createClient("http://127.0.0.1:5400", SI_SUPABASE_KEY)"#),
        "{refresh}"
    );
    assert!(
        refresh.contains("supabase.auth.refreshSession({ refresh_token: SI_REFRESH_TOKEN })"),
        "{refresh}"
    );

    let body = r#"{"email":"demo@example.com","password":"[redacted]","gotrue_meta_security":{}}"#;
    let password = js(&recorded(
        "POST",
        "/token?grant_type=password",
        KEY,
        Some(body.into()),
    ));
    assert!(
        password.contains(
            r#"signInWithPassword({ email: "demo@example.com", password: SI_PASSWORD })"#
        ),
        "{password}"
    );

    let user = js(&recorded("GET", "/user", ACCESS, None));
    assert!(
        user.contains("supabase.auth.getUser(SI_ACCESS_TOKEN)"),
        "{user}"
    );

    let logout = js(&recorded("POST", "/logout?scope=others", ACCESS, None));
    assert!(
        logout.contains(
            "setSession({ access_token: SI_ACCESS_TOKEN, refresh_token: SI_REFRESH_TOKEN })"
        ),
        "{logout}"
    );
    assert!(
        logout.contains(r#"signOut({ scope: "others" })"#),
        "{logout}"
    );

    let otp = js(&recorded(
        "POST",
        "/otp",
        KEY,
        Some(r#"{"email":"a@b.c","create_user":false}"#.into()),
    ));
    assert!(
        otp.contains(r#"signInWithOtp({ email: "a@b.c", options: { shouldCreateUser: false } })"#),
        "{otp}"
    );

    let verify = js(&recorded(
        "POST",
        "/verify",
        KEY,
        Some(r#"{"type":"email","email":"a@b.c","token":"[redacted]"}"#.into()),
    ));
    assert!(
        verify.contains(r#"verifyOtp({ email: "a@b.c", token: SI_TOKEN, type: "email" })"#),
        "{verify}"
    );

    let mfa = js(&recorded(
        "POST",
        "/factors/f1/verify",
        ACCESS,
        Some(r#"{"challenge_id":"c1","code":"[redacted]"}"#.into()),
    ));
    assert!(
        mfa.contains(r#"mfa.verify({ factorId: "f1", challengeId: "c1", code: SI_CODE })"#),
        "{mfa}"
    );
}

#[test]
fn an_endpoint_without_a_supabase_js_call_is_a_fetch() {
    let settings = recorded("GET", "/settings", KEY, None);
    let text = render(&settings, &base(), CopyFormat::SupabaseJs, &held(true))
        .text
        .to_string();
    assert!(
        text.contains(
            r#"const response = await fetch("http://127.0.0.1:5400/auth/v1/settings", {"#
        ),
        "{text}"
    );
    assert!(text.contains("    apikey: SI_SUPABASE_KEY,"), "{text}");
    assert!(
        text.contains("    authorization: `Bearer ${SI_SUPABASE_KEY}`,"),
        "{text}"
    );
    assert!(
        text.contains(&format!(r#"const SI_SUPABASE_KEY = "{KEY}""#)),
        "{text}"
    );
}

/// Runs `script` under `shell` with `curl` swapped for `printf`, with `env` set.
fn run_under(shell: &[&str], script: &str, env: &[(&str, &str)]) -> std::process::Output {
    let script = script.replace("curl -sS", "printf '%s\\n'");
    let mut command = std::process::Command::new(shell[0]);
    command.args(&shell[1..]).arg(&script);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn a_redacted_curl_is_valid_in_bash_and_in_sh() {
    // A held key's place once said "the project's API key": plain bash reads that `'` inside
    // `"${NAME:?…}"` as a quote and the script never ends. A recorded key may hold anything.
    let body = format!(
        r#"{{"refresh_token":"{}","it's! {{x}}":"[redacted]"}}"#,
        fingerprint(USED)
    );
    let exchange = recorded("POST", "/token?grant_type=refresh_token", KEY, Some(body));
    let checks: [&[&str]; 3] = [
        &["bash", "-n", "-c"],
        &["sh", "-n", "-c"],
        &["bash", "--posix", "-n", "-c"],
    ];
    // The plain refresh alone has one held-key placeholder; the odd key adds its own quote.
    for exchange in [&refresh_exchange(), &exchange] {
        let rendered = render(exchange, &base(), CopyFormat::Curl, &held(false));
        let script = rendered.text.as_str();
        for shell in checks {
            let out = run_under(shell, script, &[]);
            assert!(
                out.status.success(),
                "{shell:?}: {}\n{script}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let rendered = render(&exchange, &base(), CopyFormat::Curl, &held(false));
    let script = rendered.text.as_str();
    let env = [
        ("SI_SUPABASE_KEY", "the-key"),
        ("SI_REFRESH_TOKEN", "the-refresh"),
        ("SI_IT_S___X_", "pw"),
    ];
    for shell in [["bash", "-c"], ["sh", "-c"]] {
        let out = run_under(&shell, script, &env);
        let printed = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{shell:?}: {}\n{script}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(printed.contains("apikey: the-key"), "{printed}");
        assert!(
            printed.contains(r#"{"refresh_token":"the-refresh","it's! {x}":"pw"}"#),
            "{printed}"
        );
        // Unset, the first placeholder stops the script in every shell, naming itself.
        let out = run_under(&shell, script, &[]);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("set SI_SUPABASE_KEY to the apikey header"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_line_break_in_a_recorded_key_stays_inside_the_comment() {
    let body = r#"{"x\n;globalThis.pwned = 1 //\u2028;globalThis.pwned = 2":"[redacted]"}"#;
    let exchange = recorded("POST", "/admin/odd", KEY, Some(body.into()));
    for format in [CopyFormat::SupabaseJs, CopyFormat::Curl] {
        let text = render(&exchange, &base(), format, &held(false)).text;
        for line in text.lines() {
            assert!(
                !line.starts_with(";globalThis"),
                "{format:?}:\n{text}",
                text = text.as_str()
            );
        }
        // In a string literal U+2028 is only text (ES2019); in a comment it ends the line.
        let comments = text
            .lines()
            .filter(|l| ["const ", "//", "#", ": "].iter().any(|s| l.starts_with(s)));
        assert!(
            comments.clone().all(|l| !l.contains('\u{2028}')),
            "{}",
            text.as_str()
        );
        assert!(comments.count() > 0);
    }
}

#[test]
fn set_session_gets_the_refresh_token_only_beside_the_current_access_token() {
    // Sent with an older access token: setSession would find it expired and spend the app's
    // current refresh token, so that one stays a placeholder.
    let old = recorded("POST", "/logout?scope=local", "an-older-access-token", None);
    let rendered = render(&old, &base(), CopyFormat::SupabaseJs, &held(true));
    let text = rendered.text.as_str();
    assert_eq!(
        names(&rendered),
        [
            ("SI_SUPABASE_KEY", true),
            ("SI_ACCESS_TOKEN", false),
            ("SI_REFRESH_TOKEN", false)
        ],
        "{text}"
    );
    assert!(!text.contains(REFRESH), "{text}");
    assert!(
        text.contains("const SI_REFRESH_TOKEN = process.env.SI_REFRESH_TOKEN"),
        "{text}"
    );
    assert!(
        rendered.slots[2]
            .why
            .as_deref()
            .unwrap()
            .contains("left out"),
        "{:?}",
        rendered.slots[2]
    );

    // Sent with the current one: both are filled, and the copy says what running it can do.
    let current = recorded("POST", "/logout?scope=local", ACCESS, None);
    let rendered = render(&current, &base(), CopyFormat::SupabaseJs, &held(true));
    let text = rendered.text.as_str();
    assert_eq!(
        names(&rendered),
        [
            ("SI_SUPABASE_KEY", true),
            ("SI_ACCESS_TOKEN", true),
            ("SI_REFRESH_TOKEN", true)
        ],
        "{text}"
    );
    assert!(
        text.contains(&format!(r#"const SI_REFRESH_TOKEN = "{REFRESH}""#)),
        "{text}"
    );
    assert!(
        text.contains("can refresh the app's own session")
            && text.contains("does not expire on its own"),
        "{text}"
    );
}

#[test]
fn a_fetch_fallback_names_each_secret_once() {
    // No apikey header: no client can be made, so a password sign-in becomes a fetch.
    let mut exchange = recorded(
        "POST",
        "/token?grant_type=password",
        KEY,
        Some(r#"{"email":"a@b.c","password":"[redacted]"}"#.into()),
    );
    exchange
        .request_headers
        .retain(|(name, _)| name != "apikey");
    let rendered = render(&exchange, &base(), CopyFormat::SupabaseJs, &held(false));
    let text = rendered.text.as_str();
    assert_eq!(
        names(&rendered),
        [("SI_SUPABASE_KEY", false), ("SI_PASSWORD", false)],
        "{text}"
    );
    assert!(text.contains("password: SI_PASSWORD"), "{text}");
}

#[test]
fn a_pkce_exchange_is_a_fetch_that_carries_the_code_verifier() {
    let body = r#"{"auth_code":"[redacted]","code_verifier":"[redacted]"}"#;
    let exchange = recorded("POST", "/token?grant_type=pkce", KEY, Some(body.into()));
    let rendered = render(&exchange, &base(), CopyFormat::SupabaseJs, &held(false));
    let text = rendered.text.as_str();
    assert!(!text.contains("exchangeCodeForSession"), "{text}");
    assert!(
        text.contains(r#"fetch("http://127.0.0.1:5400/auth/v1/token?grant_type=pkce""#),
        "{text}"
    );
    assert!(
        text.contains(
            "JSON.stringify({ auth_code: SI_AUTH_CODE, code_verifier: SI_CODE_VERIFIER })"
        ),
        "{text}"
    );
}
