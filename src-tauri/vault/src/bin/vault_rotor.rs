//! A test tool for the kill test (tests/keyring.rs): the engine with a real keyring vault,
//! rotating a session against a local GoTrue server until it is killed (`rotate`), or
//! refreshing the persisted session once and saying whether that worked (`verify`).
//!
//! vault-rotor rotate|verify secret-service|keyutils PROJECT_URL ANON_KEY SEALED_DIR PROFILE EMAIL PASSWORD

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use session_engine::{AuthClient, ClientConfig, Credentials};
use session_vault::{Backend, Vault};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, backend, url, key, dir, profile, email, password] = args.as_slice() else {
        eprintln!("usage: vault-rotor rotate|verify secret-service|keyutils URL KEY DIR PROFILE EMAIL PASSWORD");
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
    let vault = match Vault::open_backend(backend, "dev.sessioninspector.test", dir.into()) {
        Ok(vault) => Arc::new(vault),
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
        if mode == "verify" {
            if client.current_session().is_none() {
                println!("no session persisted");
                return ExitCode::from(1);
            }
            return match client.refresh_session(None).await {
                Ok(_) => {
                    println!("ok");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    println!("lost: {error} ({:?})", error.code());
                    ExitCode::from(1)
                }
            };
        }
        if client.current_session().is_none() {
            let credentials = Credentials::Email {
                email: email.clone(),
                password: password.clone().into(),
            };
            if let Err(error) = client.sign_in_with_password(credentials).await {
                eprintln!("sign-in failed: {error}");
                return ExitCode::from(1);
            }
        }
        let mut out = std::io::stdout();
        for n in 1u64.. {
            if let Err(error) = client.refresh_session(None).await {
                let _ = writeln!(out, "failed after {n}: {error}");
                return ExitCode::from(1);
            }
            // Whoever reads us is gone: stop rotating.
            if writeln!(out, "rotated {n}")
                .and_then(|_| out.flush())
                .is_err()
            {
                return ExitCode::SUCCESS;
            }
        }
        ExitCode::SUCCESS
    })
}
