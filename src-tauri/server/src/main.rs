//! `local-gotrue`: the GoTrue-compatible server as a command.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use local_gotrue::{Config, DemoUser, RateLimit, RefreshTokenFormat, SigningAlgorithm};

/// A GoTrue-compatible Supabase Auth server on loopback: the test ground and demo backend of
/// Session Inspector. GoTrue's routes are served with and without the `/auth/v1` prefix; a
/// control surface for tests lives under `/_emulator`.
#[derive(Parser)] // no Debug: it holds the JWT secret and the control token
#[command(name = "local-gotrue", version)]
struct Args {
    /// Listen on 127.0.0.1:PORT (0: the OS picks one; the URL is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// HS256 secret (default: the Supabase CLI's local secret).
    #[arg(long, value_name = "SECRET")]
    jwt_secret: Option<String>,
    /// Access-token lifetime.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    jwt_exp: u64,
    /// Access-token signature (all but hs256 publish their key in the JWKS).
    #[arg(long, value_enum, default_value_t = Signing::Hs256)]
    signing: Signing,
    /// Sign with the keys in this file: a JSON array of private JWKs, the Supabase CLI's
    /// signing_keys_path (GoTrue's GOTRUE_JWT_KEYS). The key with "sign" in its key_ops signs;
    /// all are published in the JWKS and verify; HS256 tokens made with the secret still do.
    #[arg(long, value_name = "PATH", conflicts_with = "signing")]
    signing_keys: Option<PathBuf>,
    /// The `kid` HS256 access tokens carry (GoTrue's GOTRUE_JWT_KEY_ID).
    #[arg(long, value_name = "KID", env = "GOTRUE_JWT_KEY_ID")]
    jwt_key_id: Option<String>,
    /// Refresh-token format.
    #[arg(long, value_enum, default_value_t = TokenFormat::Legacy)]
    token_format: TokenFormat,
    /// How long an already-used refresh token is still accepted (0 allowed).
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    reuse_interval: u64,
    /// GoTrue's REFRESH_TOKEN_ROTATION_ENABLED=false: a refresh token reused outside the
    /// interval still fails, but no longer revokes its family (legacy) or ends its session
    /// (v2). Tokens are swapped on every refresh either way.
    #[arg(long)]
    no_rotation: bool,
    /// GoTrue's REFRESH_TOKEN_ALLOW_REUSE: tolerate every reuse of a v2 token (legacy tokens
    /// ignore it).
    #[arg(long)]
    allow_reuse: bool,
    /// GoTrue's REFRESH_TOKEN_UPGRADE_PERCENTAGE: with --token-format v2, this share of the
    /// sessions still on legacy tokens get a v2 token at their next refresh.
    #[arg(long, value_name = "PERCENT", default_value_t = 0,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    refresh_token_upgrade_percentage: u8,
    /// Limit /token to 150 requests per 5 minutes, burst 30, and anonymous sign-ups to 30 an
    /// hour, per client IP.
    #[arg(long)]
    rate_limit: bool,
    /// Sessions end this long after sign-in.
    #[arg(long, value_name = "SECONDS")]
    timebox: Option<u64>,
    /// Sessions end after this long without a refresh.
    #[arg(long, value_name = "SECONDS")]
    inactivity: Option<u64>,
    /// Only a user's newest session can refresh.
    #[arg(long)]
    single_session: bool,
    /// Answer like the hosted gateway when the apikey is missing or wrong.
    #[arg(long)]
    require_apikey: bool,
    /// Refuse anonymous sign-ins.
    #[arg(long)]
    no_anonymous: bool,
    /// Create this user at start-up if missing.
    #[arg(long, value_name = "EMAIL:PASSWORD", value_parser = demo_user)]
    demo_user: Option<DemoUser>,
    /// Keep state in this SQLite file (default: in memory).
    #[arg(long, value_name = "PATH")]
    data: Option<PathBuf>,
    /// Require this token (header `x-emulator-token`) on the /_emulator control surface.
    /// Without it, any local process may use the control surface (web pages are refused:
    /// requests with an Origin or a foreign Host, and bodies not sent as JSON).
    #[arg(long, value_name = "TOKEN", env = "LOCAL_GOTRUE_CONTROL_TOKEN")]
    control_token: Option<String>,
    /// Sign with a random secret kept in the data file (instead of --jwt-secret).
    #[arg(long, conflicts_with = "jwt_secret")]
    random_jwt_secret: bool,
    /// Email sign-ups wait for their confirmation link (GoTrue's MAILER_AUTOCONFIRM=false).
    #[arg(long)]
    no_autoconfirm: bool,
    /// Phone sign-ups wait for their code (GoTrue's SMS_AUTOCONFIRM=false).
    #[arg(long)]
    no_phone_autoconfirm: bool,
    /// Refuse new users: sign-ups, anonymous sign-ins, and one-time codes to unknown
    /// addresses (GoTrue's DISABLE_SIGNUP).
    #[arg(long)]
    disable_signup: bool,
    /// How soon a user can be sent another code or link (GoTrue's SMTP_MAX_FREQUENCY and
    /// SMS_MAX_FREQUENCY; 0 turns the limit off).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    max_frequency: u64,
    /// How long an emailed code or link works (GoTrue's MAILER_OTP_EXP).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    mailer_otp_exp: u64,
    /// How long a texted code works (GoTrue's SMS_OTP_EXP).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    sms_otp_exp: u64,
    /// No SMS provider is configured: texted codes fail with GoTrue's "Unable to get SMS
    /// provider" (by default the inbox receives them), except --sms-test-otp numbers.
    #[arg(long)]
    no_sms_provider: bool,
    /// GoTrue's SMS_TEST_OTP: PHONE=CODE pairs whose code is fixed and never sent
    /// (comma-separated or repeated).
    #[arg(long, value_name = "PHONE=CODE", value_delimiter = ',', value_parser = test_otp)]
    sms_test_otp: Vec<(String, String)>,
    /// Where email links send the browser without a valid redirect_to (GoTrue's SITE_URL).
    #[arg(long, value_name = "URL", default_value = local_gotrue::config::DEFAULT_SITE_URL)]
    site_url: String,
    /// An email change needs only the link sent to the new address (GoTrue's
    /// MAILER_SECURE_EMAIL_CHANGE_ENABLED=false).
    #[arg(long)]
    no_secure_email_change: bool,
    /// A password change from a session older than a day needs the nonce from
    /// /reauthenticate (GoTrue's SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION).
    #[arg(long)]
    secure_password_change: bool,
    /// A new password needs the current one in `current_password` (GoTrue's
    /// SECURITY_UPDATE_PASSWORD_REQUIRE_CURRENT_PASSWORD).
    #[arg(long)]
    require_current_password: bool,
    /// How long an MFA challenge can be verified (GoTrue raises less than 300 to 300).
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    mfa_challenge_expiry: u64,
    /// WebAuthn MFA factors can be enrolled and verified (GoTrue's
    /// MFA_WEB_AUTHN_ENROLL_ENABLED and MFA_WEB_AUTHN_VERIFY_ENABLED; off by default). Needs
    /// the three --webauthn-rp-* settings.
    #[arg(long)]
    mfa_webauthn: bool,
    /// The WebAuthn relying party id, a domain such as `localhost` (GoTrue's WEBAUTHN_RP_ID).
    #[arg(long, value_name = "DOMAIN", default_value = "")]
    webauthn_rp_id: String,
    /// The origins WebAuthn ceremonies may come from, comma-separated or repeated
    /// (GoTrue's WEBAUTHN_RP_ORIGINS).
    #[arg(long, value_name = "ORIGIN", value_delimiter = ',')]
    webauthn_rp_origins: Vec<String>,
    /// The relying party's name shown by authenticators (GoTrue's WEBAUTHN_RP_DISPLAY_NAME).
    #[arg(long, value_name = "NAME", default_value = "")]
    webauthn_rp_display_name: String,
    /// GoTrue's URI_ALLOW_LIST: redirect_to patterns (globs; `*` stops at `.` and `/`, `**`
    /// does not), comma-separated or repeated. The default admits Session Inspector's
    /// loopback sign-in listener (http://127.0.0.1:<port>/callback/<state>).
    #[arg(long, value_name = "GLOB", value_delimiter = ',',
          default_value = local_gotrue::config::LOOPBACK_CALLBACK_PATTERN)]
    redirect_urls: Vec<String>,
    /// The OAuth providers to enable, comma-separated ("" for none); the built-in fake
    /// provider plays each of them at /_provider/<name>.
    #[arg(
        long,
        value_name = "NAMES",
        value_delimiter = ',',
        default_value = "github,google"
    )]
    external_providers: Vec<String>,
    /// The `role` claims the admin API accepts, comma-separated (GoTrue's JWT_ADMIN_ROLES).
    #[arg(
        long,
        value_name = "ROLES",
        value_delimiter = ',',
        default_value = "service_role,supabase_admin"
    )]
    jwt_admin_roles: Vec<String>,
    /// The OAuth 2.1 server's client registry, /admin/oauth/clients (GoTrue's
    /// OAUTH_SERVER_ENABLED): on unless `--oauth-server=false`.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_value_t = true,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    oauth_server: bool,
    /// Let signed-in users link and unlink OAuth identities through /user/identities
    /// (GoTrue's SECURITY_MANUAL_LINKING_ENABLED).
    #[arg(long)]
    manual_linking: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Signing {
    Hs256,
    Es256,
    Es512,
    Rs256,
    Rs512,
    Eddsa,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TokenFormat {
    Legacy,
    V2,
}

fn demo_user(value: &str) -> Result<DemoUser, String> {
    let (email, password) = value.split_once(':').ok_or("wants EMAIL:PASSWORD")?;
    Ok(DemoUser {
        email: email.into(),
        password: password.into(),
    })
}

/// `PHONE=CODE`, the phone as GoTrue keeps it (digits; a leading `+` is dropped).
fn test_otp(value: &str) -> Result<(String, String), String> {
    let (phone, code) = value.split_once('=').ok_or("wants PHONE=CODE")?;
    let phone = phone.trim().trim_start_matches('+');
    if phone.is_empty() || !phone.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{phone}' is not a phone number (digits only)"));
    }
    if code.trim().is_empty() {
        return Err("the code is empty".into());
    }
    Ok((phone.to_string(), code.trim().to_string()))
}

impl Args {
    fn config(self) -> Config {
        let defaults = Config::default();
        let secs = Duration::from_secs;
        Config {
            bind: ([127, 0, 0, 1], self.port).into(),
            jwt_secret: self.jwt_secret.unwrap_or(defaults.jwt_secret.clone()),
            random_jwt_secret: self.random_jwt_secret,
            control_token: self.control_token,
            jwt_expiry: secs(self.jwt_exp),
            signing: match self.signing {
                Signing::Hs256 => SigningAlgorithm::Hs256,
                Signing::Es256 => SigningAlgorithm::Es256,
                Signing::Es512 => SigningAlgorithm::Es512,
                Signing::Rs256 => SigningAlgorithm::Rs256,
                Signing::Rs512 => SigningAlgorithm::Rs512,
                Signing::Eddsa => SigningAlgorithm::EdDsa,
            },
            signing_keys_path: self.signing_keys,
            jwt_key_id: self.jwt_key_id,
            refresh_token_format: match self.token_format {
                TokenFormat::Legacy => RefreshTokenFormat::Legacy,
                TokenFormat::V2 => RefreshTokenFormat::V2,
            },
            reuse_interval: secs(self.reuse_interval),
            rotation_enabled: !self.no_rotation,
            allow_reuse: self.allow_reuse,
            refresh_token_upgrade_percentage: self.refresh_token_upgrade_percentage,
            rate_limit: self.rate_limit.then(RateLimit::default),
            sessions: local_gotrue::SessionLimits {
                timebox: self.timebox.map(secs),
                inactivity_timeout: self.inactivity.map(secs),
                single_per_user: self.single_session,
            },
            require_api_key: self.require_apikey,
            anonymous_sign_ins: !self.no_anonymous,
            demo_user: self.demo_user,
            data_path: self.data,
            autoconfirm: !self.no_autoconfirm,
            phone_autoconfirm: !self.no_phone_autoconfirm,
            disable_signup: self.disable_signup,
            max_frequency: secs(self.max_frequency),
            mailer_otp_exp: secs(self.mailer_otp_exp),
            sms_otp_exp: secs(self.sms_otp_exp),
            sms_provider: !self.no_sms_provider,
            sms_test_otp: self.sms_test_otp,
            site_url: self.site_url,
            secure_email_change: !self.no_secure_email_change,
            secure_password_change: self.secure_password_change,
            require_current_password: self.require_current_password,
            mfa: local_gotrue::MfaConfig {
                challenge_expiry: secs(self.mfa_challenge_expiry),
                webauthn_enroll_enabled: self.mfa_webauthn,
                webauthn_verify_enabled: self.mfa_webauthn,
                ..local_gotrue::MfaConfig::default()
            },
            webauthn: local_gotrue::WebAuthnConfig {
                rp_id: self.webauthn_rp_id,
                rp_display_name: self.webauthn_rp_display_name,
                rp_origins: non_empty(self.webauthn_rp_origins),
            },
            additional_redirect_urls: non_empty(self.redirect_urls),
            manual_linking: self.manual_linking,
            external_providers: non_empty(self.external_providers)
                .into_iter()
                .map(|name| name.to_lowercase())
                .collect(),
            admin_roles: non_empty(self.jwt_admin_roles),
            oauth_server_enabled: self.oauth_server,
            ..defaults
        }
    }
}

/// A list flag's items, trimmed, without the empty ones (`--external-providers ""`).
fn non_empty(items: Vec<String>) -> Vec<String> {
    items
        .into_iter()
        .map(|item| item.trim().to_string())
        .filter(|item| !item.is_empty())
        .collect()
}

fn main() -> ExitCode {
    let config = Args::parse().config();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let server = match local_gotrue::start(config).await {
            Ok(server) => server,
            Err(error) => {
                eprintln!("local-gotrue: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("local-gotrue listening on {}", server.url());
        println!("  auth URL:  {}", server.auth_url());
        println!("  anon key:  {}", server.anon_key());
        let _ = tokio::signal::ctrl_c().await;
        server.shutdown();
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_the_config() {
        let args = Args::try_parse_from([
            "local-gotrue",
            "--port",
            "54321",
            "--signing",
            "es256",
            "--token-format",
            "v2",
            "--timebox",
            "60",
            "--demo-user",
            "a@b.co:pw",
        ])
        .unwrap();
        let config = args.config();
        assert_eq!(config.bind.port(), 54321);
        assert_eq!(config.signing, SigningAlgorithm::Es256);
        assert_eq!(config.refresh_token_format, RefreshTokenFormat::V2);
        assert_eq!(config.sessions.timebox, Some(Duration::from_secs(60)));
        assert_eq!(config.demo_user.unwrap().email, "a@b.co");
        assert_eq!(config.jwt_expiry, Duration::from_secs(3600));
        assert_eq!(config.jwt_key_id, None);
    }

    #[test]
    fn the_key_file_and_manual_linking_are_flags() {
        let defaults = Args::try_parse_from(["local-gotrue"]).unwrap().config();
        assert!(!defaults.manual_linking, "off by default, as in GoTrue");
        assert_eq!(defaults.signing_keys_path, None);
        let config = Args::try_parse_from([
            "local-gotrue",
            "--signing-keys",
            "keys.json",
            "--manual-linking",
        ])
        .unwrap()
        .config();
        assert_eq!(config.signing_keys_path, Some(PathBuf::from("keys.json")));
        assert!(config.manual_linking);
        assert!(Args::try_parse_from([
            "local-gotrue",
            "--signing-keys",
            "keys.json",
            "--signing",
            "es256"
        ])
        .is_err());
    }

    #[test]
    fn the_hs256_key_id_and_every_gotrue_algorithm_are_flags() {
        let config = Args::try_parse_from(["local-gotrue", "--jwt-key-id", "legacy-1"])
            .unwrap()
            .config();
        assert_eq!(config.jwt_key_id.as_deref(), Some("legacy-1"));
        for (flag, algorithm) in [
            ("es512", SigningAlgorithm::Es512),
            ("rs256", SigningAlgorithm::Rs256),
            ("rs512", SigningAlgorithm::Rs512),
            ("eddsa", SigningAlgorithm::EdDsa),
        ] {
            let config = Args::try_parse_from(["local-gotrue", "--signing", flag])
                .unwrap()
                .config();
            assert_eq!(config.signing, algorithm, "{flag}");
        }
    }

    #[test]
    fn the_one_time_code_settings_are_flags_with_gotrue_defaults() {
        let defaults = Args::try_parse_from(["local-gotrue"]).unwrap().config();
        assert!(defaults.autoconfirm && defaults.phone_autoconfirm && !defaults.disable_signup);
        assert_eq!(defaults.max_frequency, Duration::from_secs(60));
        assert_eq!(defaults.mailer_otp_exp, Duration::from_secs(3600));
        assert_eq!(defaults.sms_otp_exp, Duration::from_secs(60));
        assert_eq!(defaults.site_url, "http://127.0.0.1:3000");
        let config = Args::try_parse_from([
            "local-gotrue",
            "--no-autoconfirm",
            "--no-phone-autoconfirm",
            "--disable-signup",
            "--max-frequency",
            "0",
            "--mailer-otp-exp",
            "120",
            "--sms-otp-exp",
            "30",
            "--site-url",
            "http://127.0.0.1:5173",
        ])
        .unwrap()
        .config();
        assert!(!config.autoconfirm && !config.phone_autoconfirm && config.disable_signup);
        assert_eq!(config.max_frequency, Duration::ZERO);
        assert_eq!(config.mailer_otp_exp, Duration::from_secs(120));
        assert_eq!(config.sms_otp_exp, Duration::from_secs(30));
        assert_eq!(config.site_url, "http://127.0.0.1:5173");
    }

    #[test]
    fn the_site_url_and_the_mfa_challenge_expiry_are_flags() {
        let config = Args::try_parse_from(["local-gotrue"]).unwrap().config();
        assert_eq!(config.site_url, "http://127.0.0.1:3000");
        assert_eq!(config.mfa.challenge_expiry, Duration::from_secs(300));
        let config = Args::try_parse_from([
            "local-gotrue",
            "--site-url",
            "https://app.example.com",
            "--mfa-challenge-expiry",
            "600",
        ])
        .unwrap()
        .config();
        assert_eq!(config.site_url, "https://app.example.com");
        assert_eq!(config.mfa.challenge_expiry, Duration::from_secs(600));
    }

    #[test]
    fn webauthn_factors_are_off_unless_the_flag_turns_them_on() {
        let config = Args::try_parse_from(["local-gotrue"]).unwrap().config();
        assert!(!config.mfa.webauthn_enroll_enabled && !config.mfa.webauthn_verify_enabled);
        assert_eq!(config.webauthn, local_gotrue::WebAuthnConfig::default());
        let config = Args::try_parse_from([
            "local-gotrue",
            "--mfa-webauthn",
            "--webauthn-rp-id",
            "localhost",
            "--webauthn-rp-origins",
            "http://localhost:5173,http://localhost:3000",
            "--webauthn-rp-display-name",
            "auth-js tests",
        ])
        .unwrap()
        .config();
        assert!(config.mfa.webauthn_enroll_enabled && config.mfa.webauthn_verify_enabled);
        assert_eq!(config.webauthn.rp_id, "localhost");
        assert_eq!(
            config.webauthn.rp_origins,
            ["http://localhost:5173", "http://localhost:3000"]
        );
        assert_eq!(config.webauthn.rp_display_name, "auth-js tests");
    }

    #[test]
    fn oauth_settings_are_flags_with_the_loopback_listener_allowed_by_default() {
        let config = Args::try_parse_from(["local-gotrue"]).unwrap().config();
        assert_eq!(
            config.additional_redirect_urls,
            ["http://127.0.0.1:*/callback/*"]
        );
        assert_eq!(config.external_providers, ["github", "google"]);
        let config = Args::try_parse_from([
            "local-gotrue",
            "--redirect-urls",
            "https://app.example.com/**,myapp://*",
            "--redirect-urls",
            "http://localhost:5173/**",
            "--external-providers",
            "GitLab, discord",
        ])
        .unwrap()
        .config();
        assert_eq!(
            config.additional_redirect_urls,
            [
                "https://app.example.com/**",
                "myapp://*",
                "http://localhost:5173/**"
            ]
        );
        assert_eq!(config.external_providers, ["gitlab", "discord"]);
        let none = Args::try_parse_from(["local-gotrue", "--external-providers", ""])
            .unwrap()
            .config();
        assert!(none.external_providers.is_empty());
    }

    #[test]
    fn bad_flags_are_refused_with_a_reason() {
        let Err(error) = Args::try_parse_from(["local-gotrue", "--demo-user", "nocolon"]) else {
            panic!("accepted");
        };
        assert!(error.to_string().contains("EMAIL:PASSWORD"), "{error}");
        assert!(Args::try_parse_from(["local-gotrue", "--signing", "rs999"]).is_err());
        assert!(Args::try_parse_from(["local-gotrue", "--sms-test-otp", "+1x=1"]).is_err());
        assert!(Args::try_parse_from(["local-gotrue", "--sms-test-otp", "15550100"]).is_err());
    }

    #[test]
    fn the_sms_provider_and_test_otps_are_flags() {
        let config = Args::try_parse_from(["local-gotrue"]).unwrap().config();
        assert!(config.sms_provider && config.sms_test_otp.is_empty());
        let config = Args::try_parse_from([
            "local-gotrue",
            "--no-sms-provider",
            "--sms-test-otp",
            "+1234567890=123456,15550100199=000000",
        ])
        .unwrap()
        .config();
        assert!(!config.sms_provider);
        assert_eq!(
            config.sms_test_otp,
            [
                ("1234567890".to_string(), "123456".to_string()),
                ("15550100199".to_string(), "000000".to_string())
            ]
        );
    }

    #[test]
    fn admin_roles_and_the_oauth_server_flags() {
        let config = Args::try_parse_from(["local-gotrue"]).unwrap().config();
        assert_eq!(config.admin_roles, ["service_role", "supabase_admin"]);
        assert!(config.oauth_server_enabled);
        let config = Args::try_parse_from([
            "local-gotrue",
            "--jwt-admin-roles",
            "boss, owner",
            "--oauth-server=false",
        ])
        .unwrap()
        .config();
        assert_eq!(config.admin_roles, ["boss", "owner"]);
        assert!(!config.oauth_server_enabled);
        let on = Args::try_parse_from(["local-gotrue", "--oauth-server"]).unwrap();
        assert!(on.config().oauth_server_enabled);
    }
}
