//! Everything the server can be told at start-up. Defaults follow hosted Supabase where it
//! differs from the GoTrue binary (reuse interval 10 s), and say so.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The Supabase CLI's published local-development secret: any local stack signs with it.
pub const DEFAULT_JWT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

/// The Supabase CLI's default `[auth] site_url`.
pub const DEFAULT_SITE_URL: &str = "http://127.0.0.1:3000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshTokenFormat {
    /// 12 characters of lowercase base32, one database row each, linked to its parent.
    Legacy,
    /// Session id + counter + HMAC + checksum; nothing stored per token.
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// The project's shared secret (GoTrue's default).
    Hs256,
    /// A P-256 key with a `kid`, published in the JWKS.
    Es256,
    /// A P-521 key (ECDSA with SHA-512).
    Es512,
    /// A 2048-bit RSA key, PKCS#1 v1.5 with SHA-256.
    Rs256,
    /// The same kind of key with SHA-512.
    Rs512,
    /// An Ed25519 key.
    EdDsa,
}

impl SigningAlgorithm {
    /// From its lowercase name (`hs256`, `es256`, `es512`, `rs256`, `rs512`, `eddsa`).
    pub fn from_name(name: &str) -> Option<SigningAlgorithm> {
        Some(match name.to_ascii_lowercase().as_str() {
            "hs256" => SigningAlgorithm::Hs256,
            "es256" => SigningAlgorithm::Es256,
            "es512" => SigningAlgorithm::Es512,
            "rs256" => SigningAlgorithm::Rs256,
            "rs512" => SigningAlgorithm::Rs512,
            "eddsa" => SigningAlgorithm::EdDsa,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests allowed per 5 minutes (refill rate = this / 300 per second).
    pub per_five_minutes: u32,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_five_minutes: 150,
            burst: 30,
        }
    }
}

/// GoTrue's optional session checks; all off by default, as in GoTrue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionLimits {
    pub timebox: Option<Duration>,
    pub inactivity_timeout: Option<Duration>,
    pub single_per_user: bool,
}

#[derive(Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub email: String,
    pub password: String,
}

/// Never the password.
impl fmt::Debug for DemoUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoUser")
            .field("email", &self.email)
            .field("password", &REDACTED)
            .finish()
    }
}

/// How a secret shows in `Debug`.
const REDACTED: &str = "[redacted]";

#[derive(Clone)]
pub struct Config {
    /// Where to listen; port 0 lets the OS choose.
    pub bind: SocketAddr,
    pub jwt_secret: String,
    /// Ignore `jwt_secret` and use a random secret made once per data file and kept in it
    /// (per process without one): for the app's demo, whose tokens must not be forgeable
    /// with a secret printed in public documentation.
    pub random_jwt_secret: bool,
    /// Access-token lifetime (GoTrue's `JWT_EXP`, default 3600 s).
    pub jwt_expiry: Duration,
    /// `iss` claim; `None` means `<base url>/auth/v1`, as the Supabase CLI sets it.
    pub issuer: Option<String>,
    pub signing: SigningAlgorithm,
    /// A JSON array of private JWKs (the Supabase CLI's `signing_keys_path`, GoTrue's
    /// `JWT_KEYS`): when set, its keys replace `signing` (see `jwk_file`).
    pub signing_keys_path: Option<PathBuf>,
    /// GoTrue's `JWT_KEY_ID`: the `kid` HS256 access tokens carry (none when `None`).
    pub jwt_key_id: Option<String>,
    pub refresh_token_format: RefreshTokenFormat,
    /// GoTrue's `REFRESH_TOKEN_ROTATION_ENABLED`. Legacy tokens are swapped on every refresh
    /// whatever it says; it decides whether a reuse outside the interval also revokes the
    /// token family (legacy) or terminates the session (v2). The request fails either way.
    pub rotation_enabled: bool,
    /// Seconds an already-used token stays usable. The GoTrue binary defaults to 0, hosted
    /// Supabase and the CLI to 10; we follow hosted.
    pub reuse_interval: Duration,
    /// GoTrue's `REFRESH_TOKEN_ALLOW_REUSE`: every reuse of a v2 token is tolerated (the
    /// legacy path never reads it).
    pub allow_reuse: bool,
    /// GoTrue's `REFRESH_TOKEN_UPGRADE_PERCENTAGE`: with the v2 format, this share of the
    /// sessions still on legacy tokens (chosen by session id) get a v2 token at their next
    /// refresh. 0 leaves them legacy.
    pub refresh_token_upgrade_percentage: u8,
    /// `/token` rate limiting per client IP; `None` is off.
    pub rate_limit: Option<RateLimit>,
    pub sessions: SessionLimits,
    /// Act like the hosted gateway: requests without a valid `apikey` get its 401.
    pub require_api_key: bool,
    pub anonymous_sign_ins: bool,
    pub autoconfirm: bool,
    /// A user created at start-up (if missing), for demos.
    pub demo_user: Option<DemoUser>,
    /// An SQLite file to keep users, sessions and keys in; `None` keeps them in memory.
    pub data_path: Option<PathBuf>,
    /// The server's clock moves with `tokio::time` instead of the system clock, so a client
    /// in the same paused-time test sees tokens expire as virtual time passes.
    pub clock_follows_tokio: bool,
    /// When set, the control surface (`/_emulator`) answers only requests that carry it in
    /// `x-emulator-token`: the app gives its demo server a random one per launch. `None`
    /// leaves it open to loopback clients (tests, the command-line server).
    pub control_token: Option<String>,
    /// GoTrue's `SMS_AUTOCONFIRM`: a new phone user is confirmed at once (the Supabase CLI's
    /// default, `[auth.sms] enable_confirmations = false`); the code is still sent.
    pub phone_autoconfirm: bool,
    /// GoTrue's `DISABLE_SIGNUP`: no new users, by sign-up, anonymous sign-in or one-time code.
    pub disable_signup: bool,
    /// GoTrue's `SMTP_MAX_FREQUENCY` and `SMS_MAX_FREQUENCY` (one setting here): how soon the
    /// same user can be sent another code or link. Zero turns the limit off (GoTrue would
    /// read it as its default, 60 s).
    pub max_frequency: Duration,
    /// GoTrue's `MAILER_OTP_EXP`: how long an emailed code or link works. The GoTrue binary
    /// defaults to a day; hosted Supabase to an hour, which we follow.
    pub mailer_otp_exp: Duration,
    /// GoTrue's `SMS_OTP_EXP`: how long a texted code works (default 60 s).
    pub sms_otp_exp: Duration,
    /// Whether an SMS provider is configured. The inbox plays one by default; without one
    /// (GoTrue's `SMS_PROVIDER` naming none it knows, as in a CLI stack with Twilio off) every
    /// texted code fails with GoTrue's 500 "Unable to get SMS provider", except test OTPs.
    pub sms_provider: bool,
    /// GoTrue's `SMS_TEST_OTP`: phone numbers (digits) whose code is fixed and never sent.
    pub sms_test_otp: Vec<(String, String)>,
    /// GoTrue's `SITE_URL`: where email links send the browser when no valid `redirect_to`
    /// was given (the Supabase CLI's default, `http://127.0.0.1:3000`).
    pub site_url: String,
    /// GoTrue's `MAILER_SECURE_EMAIL_CHANGE_ENABLED`: an email change needs the links sent to
    /// both the current and the new address (default on, as in GoTrue).
    pub secure_email_change: bool,
    /// GoTrue's `SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION`: a password change from a
    /// session older than a day needs the nonce from `/reauthenticate` (default off).
    pub secure_password_change: bool,
    /// GoTrue's `SECURITY_UPDATE_PASSWORD_REQUIRE_CURRENT_PASSWORD`: a new password needs the
    /// current one (`current_password`), except from a recovery session (default off).
    pub require_current_password: bool,
    /// GoTrue's `MFA_*` settings.
    pub mfa: MfaConfig,
    /// GoTrue's `WEBAUTHN_*` settings: the relying party WebAuthn factors register with.
    pub webauthn: WebAuthnConfig,
    /// GoTrue's `URI_ALLOW_LIST` (the dashboard's "Redirect URLs"): glob patterns a
    /// `redirect_to` may match (`.` and `/` separate, `*` stays between them, `**` crosses
    /// them). The default lets Session Inspector's loopback sign-in listener in (see
    /// `LOOPBACK_CALLBACK_PATTERN`).
    pub additional_redirect_urls: Vec<String>,
    /// The external OAuth providers that are enabled (lowercase GoTrue names). Each is served
    /// by the built-in fake provider (`/_provider/<name>`).
    pub external_providers: Vec<String>,
    /// GoTrue's `JWT_ADMIN_ROLES`: the `role` claims the admin API accepts (GoTrue's default:
    /// `service_role`, `supabase_admin`).
    pub admin_roles: Vec<String>,
    /// GoTrue's `OAUTH_SERVER_ENABLED` (`[auth.oauth_server] enabled`): the project acts as
    /// an OAuth 2.1 server; here that is its client registry under `/admin/oauth/clients`.
    /// On by default, as in the Supabase CLI configuration auth-js's tests run against.
    pub oauth_server_enabled: bool,
    /// GoTrue's `SECURITY_MANUAL_LINKING_ENABLED` (off by default, as in GoTrue): signed-in
    /// users may link and unlink identities through `/user/identities`.
    pub manual_linking: bool,
}

/// What Session Inspector's loopback listener sends as `redirect_to`:
/// `http://127.0.0.1:<port>/callback/<state>`. `*` matches the port and the state (neither has
/// a `.` or `/`). GoTrue releases since v2.171 accept any loopback IP address without an
/// entry; older ones need it, so it is in the default allow list.
pub const LOOPBACK_CALLBACK_PATTERN: &str = "http://127.0.0.1:*/callback/*";

/// GoTrue's default `JWT_ADMIN_ROLES`.
pub const DEFAULT_ADMIN_ROLES: [&str; 2] = ["service_role", "supabase_admin"];

/// The providers enabled by default.
pub const DEFAULT_EXTERNAL_PROVIDERS: [&str; 2] = ["github", "google"];

/// Every setting but the secrets (the JWT secret, the control token, the demo password).
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("jwt_secret", &REDACTED)
            .field("random_jwt_secret", &self.random_jwt_secret)
            .field("jwt_expiry", &self.jwt_expiry)
            .field("issuer", &self.issuer)
            .field("signing", &self.signing)
            .field("signing_keys_path", &self.signing_keys_path)
            .field("jwt_key_id", &self.jwt_key_id)
            .field("refresh_token_format", &self.refresh_token_format)
            .field("rotation_enabled", &self.rotation_enabled)
            .field("reuse_interval", &self.reuse_interval)
            .field("allow_reuse", &self.allow_reuse)
            .field(
                "refresh_token_upgrade_percentage",
                &self.refresh_token_upgrade_percentage,
            )
            .field("rate_limit", &self.rate_limit)
            .field("sessions", &self.sessions)
            .field("require_api_key", &self.require_api_key)
            .field("anonymous_sign_ins", &self.anonymous_sign_ins)
            .field("autoconfirm", &self.autoconfirm)
            .field("demo_user", &self.demo_user)
            .field("data_path", &self.data_path)
            .field("clock_follows_tokio", &self.clock_follows_tokio)
            .field(
                "control_token",
                &self.control_token.as_ref().map(|_| REDACTED),
            )
            .field("phone_autoconfirm", &self.phone_autoconfirm)
            .field("disable_signup", &self.disable_signup)
            .field("max_frequency", &self.max_frequency)
            .field("mailer_otp_exp", &self.mailer_otp_exp)
            .field("sms_otp_exp", &self.sms_otp_exp)
            .field("sms_provider", &self.sms_provider)
            .field("sms_test_otp", &self.sms_test_otp.len())
            .field("site_url", &self.site_url)
            .field("secure_email_change", &self.secure_email_change)
            .field("secure_password_change", &self.secure_password_change)
            .field("require_current_password", &self.require_current_password)
            .field("mfa", &self.mfa)
            .field("webauthn", &self.webauthn)
            .field("additional_redirect_urls", &self.additional_redirect_urls)
            .field("external_providers", &self.external_providers)
            .field("admin_roles", &self.admin_roles)
            .field("oauth_server_enabled", &self.oauth_server_enabled)
            .field("manual_linking", &self.manual_linking)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            jwt_secret: DEFAULT_JWT_SECRET.to_string(),
            random_jwt_secret: false,
            jwt_expiry: Duration::from_secs(3600),
            issuer: None,
            signing: SigningAlgorithm::Hs256,
            signing_keys_path: None,
            jwt_key_id: None,
            refresh_token_format: RefreshTokenFormat::Legacy,
            rotation_enabled: true,
            reuse_interval: Duration::from_secs(10),
            allow_reuse: false,
            refresh_token_upgrade_percentage: 0,
            rate_limit: None,
            sessions: SessionLimits::default(),
            require_api_key: false,
            anonymous_sign_ins: true,
            autoconfirm: true,
            demo_user: None,
            data_path: None,
            clock_follows_tokio: false,
            control_token: None,
            phone_autoconfirm: true,
            disable_signup: false,
            max_frequency: Duration::from_secs(60),
            mailer_otp_exp: Duration::from_secs(3600),
            sms_otp_exp: Duration::from_secs(60),
            sms_provider: true,
            sms_test_otp: Vec::new(),
            site_url: DEFAULT_SITE_URL.to_string(),
            secure_email_change: true,
            secure_password_change: false,
            require_current_password: false,
            mfa: MfaConfig::default(),
            webauthn: WebAuthnConfig::default(),
            additional_redirect_urls: vec![LOOPBACK_CALLBACK_PATTERN.to_string()],
            external_providers: DEFAULT_EXTERNAL_PROVIDERS.map(String::from).to_vec(),
            admin_roles: DEFAULT_ADMIN_ROLES.map(String::from).to_vec(),
            oauth_server_enabled: true,
            manual_linking: false,
        }
    }
}

/// GoTrue's MFA settings, with its defaults. TOTP and WebAuthn factors are implemented
/// (WebAuthn off by default, as in GoTrue); phone factors are off, as GoTrue has them by
/// default, and answered as GoTrue answers then.
#[derive(Debug, Clone, PartialEq)]
pub struct MfaConfig {
    /// `MFA_CHALLENGE_EXPIRY_DURATION`: how long a challenge can be verified. GoTrue raises
    /// anything below its default, 300 s, to 300 s; so does this server.
    pub challenge_expiry: Duration,
    /// `MFA_TOTP_ENROLL_ENABLED`.
    pub totp_enroll_enabled: bool,
    /// `MFA_TOTP_VERIFY_ENABLED` (challenging and verifying).
    pub totp_verify_enabled: bool,
    /// `MFA_MAX_ENROLLED_FACTORS`: factors of any status a user may have.
    pub max_enrolled_factors: u32,
    /// `MFA_MAX_VERIFIED_FACTORS`.
    pub max_verified_factors: u32,
    /// `MFA_WEB_AUTHN_ENROLL_ENABLED` (default off).
    pub webauthn_enroll_enabled: bool,
    /// `MFA_WEB_AUTHN_VERIFY_ENABLED` (challenging and verifying; default off).
    pub webauthn_verify_enabled: bool,
}

/// GoTrue's `WebAuthnConfiguration`: the relying party. GoTrue only warns at start when a
/// value is missing with WebAuthn on; a challenge then fails, and so it does here.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WebAuthnConfig {
    /// `WEBAUTHN_RP_ID`: the domain credentials are scoped to (e.g. `localhost`).
    pub rp_id: String,
    /// `WEBAUTHN_RP_DISPLAY_NAME`.
    pub rp_display_name: String,
    /// `WEBAUTHN_RP_ORIGINS`: the origins a ceremony may come from
    /// (e.g. `http://localhost:5173`).
    pub rp_origins: Vec<String>,
}

impl Default for MfaConfig {
    fn default() -> Self {
        MfaConfig {
            challenge_expiry: Duration::from_secs(300),
            totp_enroll_enabled: true,
            totp_verify_enabled: true,
            max_enrolled_factors: 10,
            max_verified_factors: 10,
            webauthn_enroll_enabled: false,
            webauthn_verify_enabled: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret() {
        let config = Config {
            jwt_secret: "the-jwt-secret-0123456789-0123456789".into(),
            control_token: Some("the-control-token-0123456789".into()),
            demo_user: Some(DemoUser {
                email: "demo@example.com".into(),
                password: "the-demo-password".into(),
            }),
            ..Config::default()
        };
        let shown = format!("{config:?} {config:#?}");
        for secret in ["the-jwt-secret", "the-control-token", "the-demo-password"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("demo@example.com") && shown.contains("reuse_interval"));
    }
}
