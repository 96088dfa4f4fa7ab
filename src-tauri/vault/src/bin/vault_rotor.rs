//! A test tool for the kill test (tests/keyring.rs): the engine with a real keyring vault,
//! rotating a session against a local GoTrue server until it is killed. It signs in first when
//! the vault holds no session for the profile.
//!
//! After every session the engine has saved (its call returned, so the vault's save is done)
//! it prints `saved <n> <fingerprint of the refresh token>`: the kill test holds the vault to
//! the last one it heard of. A fingerprint, never the token.
//!
//! vault-rotor secret-service|keyutils PROJECT_URL ANON_KEY SEALED_DIR PROFILE EMAIL PASSWORD SERVICE INLINE_LIMIT

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use session_engine::tokens::fingerprint;
use session_engine::{AuthClient, ClientConfig, Credentials};
use session_vault::{Backend, Vault};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [backend, url, key, dir, profile, email, password, service, inline_limit] = args.as_slice()
    else {
        eprintln!("usage: vault-rotor secret-service|keyutils URL KEY DIR PROFILE EMAIL PASSWORD SERVICE INLINE_LIMIT");
        return ExitCode::from(2);
    };
    let backend = match backend.as_str() {
        "secret-service" => Backend::SecretService,
        "keyutils" => Backend::KernelKeyring,
        other => {
            eprintln!("unknown backend {other}");
            return ExitCode::from(2);
        }
    };
    let Ok(inline_limit) = inline_limit.parse::<usize>() else {
        eprintln!("the inline limit is a number of bytes");
        return ExitCode::from(2);
    };
    let vault = match Vault::open_backend(backend, service, dir.into()) {
        Ok(mut vault) => {
            vault.set_inline_limit(inline_limit);
            Arc::new(vault)
        }
        Err(error) => {
            eprintln!("no vault: {error}");
            return ExitCode::from(3);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async move {
        let client = match AuthClient::new(
            ClientConfig::new(url.as_str(), key.as_str()),
            vault,
            profile.as_str(),
        )
        .await
        {
            Ok(client) => client,
            Err(error) => {
                eprintln!("cannot start: {error}");
                return ExitCode::from(3);
            }
        };
        let mut out = std::io::stdout();
        // Whoever reads us is gone: stop rotating.
        let mut say = |n: u64, token: &str| {
            writeln!(out, "saved {n} {}", fingerprint(token))
                .and_then(|_| out.flush())
                .is_ok()
        };
        if client.current_session().is_none() {
            let credentials = Credentials::Email {
                email: email.clone(),
                password: password.clone().into(),
            };
            match client.sign_in_with_password(credentials).await {
                Ok(signed_in) => {
                    if !say(0, signed_in.session.refresh_token.as_str()) {
                        return ExitCode::SUCCESS;
                    }
                }
                Err(error) => {
                    eprintln!("sign-in failed: {error}");
                    return ExitCode::from(1);
                }
            }
        }
        for n in 1u64.. {
            match client.refresh_session(None).await {
                Ok(refreshed) => {
                    if !say(n, refreshed.response.session.refresh_token.as_str()) {
                        return ExitCode::SUCCESS;
                    }
                }
                Err(error) => {
                    eprintln!("failed after {n}: {error}");
                    return ExitCode::from(1);
                }
            }
        }
        ExitCode::SUCCESS
    })
}
