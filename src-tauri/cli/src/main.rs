//! `session-inspector-cli`: the app's engine, profiles and keyring on the command line. Each
//! subcommand is a module named for it; `home` is the app's side (folders, settings, vault),
//! `input` reads a paste, `view` and `output` print, `error` maps failures to exit codes.

mod args;
mod decode;
mod error;
mod home;
mod import;
mod input;
mod output;
mod profiles;
mod refresh;
mod view;
mod watch;

use std::process::ExitCode;

use clap::FromArgMatches as _;

use args::{Cli, Command};
use error::{CliError, Kind};
use output::Output;

fn main() -> ExitCode {
    let cli = match args::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    let out = Output { json: cli.json };
    match run(cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            out.error(&error);
            ExitCode::from(error.kind().exit_code())
        }
    }
}

fn run(cli: Cli, out: &Output) -> Result<(), CliError> {
    if let Command::Decode(args) = &cli.command {
        // No runtime, no folders: decoding reads the paste and nothing else.
        return decode::run(args, out);
    }
    let home = home::Home::new(cli.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(async {
        match &cli.command {
            Command::Decode(_) => Ok(()),
            Command::Refresh(args) => refresh::run(args, &home, out).await,
            Command::Import(args) => import::run(args, &home, out).await,
            Command::Watch(args) => watch::run(args, &home, out).await,
            Command::Profiles(args) => profiles::run(args, &home, out).await,
        }
    })
}

/// clap's help and version go to stdout with 0; a usage error exits 2, as `{kind, message}`
/// on stderr when `--json` was among the arguments.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if !informational && std::env::args().any(|arg| arg == "--json") {
        let message = error.kind().as_str().unwrap_or("invalid arguments");
        let detail = error.to_string();
        let first = detail.lines().next().unwrap_or(message);
        let usage = CliError::Usage(first.trim_start_matches("error: ").to_string());
        Output { json: true }.error(&usage);
        return ExitCode::from(Kind::Usage.exit_code());
    }
    let _ = error.print();
    ExitCode::from(error.exit_code() as u8)
}
