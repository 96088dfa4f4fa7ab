//! `local-gotrue`: the GoTrue-compatible server as a command.

use std::process::ExitCode;
use std::time::Duration;

use local_gotrue::{Config, DemoUser, RateLimit, RefreshTokenFormat, SigningAlgorithm};

const HELP: &str = "local-gotrue: a GoTrue-compatible Supabase Auth server on loopback

USAGE: local-gotrue [OPTIONS]

  --port N                   listen on 127.0.0.1:N (default 0: the OS picks; the URL is printed)
  --jwt-secret S             HS256 secret (default: the Supabase CLI's local secret)
  --jwt-exp SECONDS          access-token lifetime (default 3600)
  --signing hs256|es256      access-token signature (default hs256; es256 publishes a JWKS key)
  --token-format legacy|v2   refresh-token format (default legacy)
  --reuse-interval SECONDS   reuse tolerance for used refresh tokens (default 10; 0 allowed)
  --no-rotation              keep refresh tokens when refreshing
  --allow-reuse              tolerate every reuse
  --rate-limit               limit /token to 150 per 5 minutes, burst 30, per client IP
  --timebox SECONDS          sessions end this long after sign-in
  --inactivity SECONDS       sessions end after this long without a refresh
  --single-session           only a user's newest session can refresh
  --require-apikey           answer like the hosted gateway without a valid apikey
  --no-anonymous             refuse anonymous sign-ins
  --demo-user EMAIL:PASSWORD create this user at start-up if missing
  --data PATH                keep state in this SQLite file (default: in memory)
";

fn parse(args: &[String]) -> Result<(Config, u16), String> {
    let mut config = Config::default();
    let mut port = 0u16;
    let mut it = args.iter();
    let secs = |v: &str| {
        v.parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("not a number of seconds: {v}"))
    };
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--port" => port = value()?.parse().map_err(|_| "bad --port".to_string())?,
            "--jwt-secret" => config.jwt_secret = value()?,
            "--jwt-exp" => config.jwt_expiry = secs(&value()?)?,
            "--signing" => {
                config.signing = match value()?.as_str() {
                    "hs256" => SigningAlgorithm::Hs256,
                    "es256" => SigningAlgorithm::Es256,
                    other => return Err(format!("unknown --signing {other}")),
                }
            }
            "--token-format" => {
                config.refresh_token_format = match value()?.as_str() {
                    "legacy" => RefreshTokenFormat::Legacy,
                    "v2" => RefreshTokenFormat::V2,
                    other => return Err(format!("unknown --token-format {other}")),
                }
            }
            "--reuse-interval" => config.reuse_interval = secs(&value()?)?,
            "--no-rotation" => config.rotation_enabled = false,
            "--allow-reuse" => config.allow_reuse = true,
            "--rate-limit" => config.rate_limit = Some(RateLimit::default()),
            "--timebox" => config.sessions.timebox = Some(secs(&value()?)?),
            "--inactivity" => config.sessions.inactivity_timeout = Some(secs(&value()?)?),
            "--single-session" => config.sessions.single_per_user = true,
            "--require-apikey" => config.require_api_key = true,
            "--no-anonymous" => config.anonymous_sign_ins = false,
            "--demo-user" => {
                let v = value()?;
                let (email, password) = v
                    .split_once(':')
                    .ok_or("--demo-user wants EMAIL:PASSWORD")?;
                config.demo_user = Some(DemoUser {
                    email: email.into(),
                    password: password.into(),
                });
            }
            "--data" => config.data_path = Some(value()?.into()),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    config.bind = ([127, 0, 0, 1], port).into();
    Ok((config, port))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (config, _) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            if message.is_empty() {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            eprintln!("local-gotrue: {message}\n\n{HELP}");
            return ExitCode::from(2);
        }
    };
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
