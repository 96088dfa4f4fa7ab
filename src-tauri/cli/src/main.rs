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
    let home = home::Home::new(cli.data_dir, cli.keyring_any, Output { json: out.json })?;
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
/// on stderr when `--json` was among the arguments. clap's messages about an argument it did
/// not expect quote that argument, which may be a token typed where none belongs: those get
/// a fixed text instead, so the token stays out of terminals and CI logs.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if informational {
        let _ = error.print();
        return ExitCode::from(error.exit_code() as u8);
    }
    let quotes_input = matches!(
        error.kind(),
        ErrorKind::UnknownArgument
            | ErrorKind::InvalidSubcommand
            | ErrorKind::InvalidValue
            | ErrorKind::ValueValidation
            | ErrorKind::InvalidUtf8
            | ErrorKind::TooManyValues
            | ErrorKind::WrongNumberOfValues
            | ErrorKind::NoEquals
    );
    // `args_os`: an argument that is not UTF-8 must not panic here (it is a usage error).
    let json = std::env::args_os().any(|arg| arg == "--json");
    if !json && !quotes_input {
        let _ = error.print();
        return ExitCode::from(Kind::Usage.exit_code());
    }
    let message = if quotes_input {
        withheld_message(error.kind())
    } else {
        let detail = error.to_string();
        let first = detail.lines().next().unwrap_or("invalid arguments");
        first.trim_start_matches("error: ").to_string()
    };
    let usage = CliError::Usage(message);
    if json {
        Output { json: true }.error(&usage);
    } else {
        Output { json: false }.error(&usage);
        eprintln!("\nFor more information, try '--help'.");
    }
    ExitCode::from(Kind::Usage.exit_code())
}

/// What is said instead of clap's message that quotes an argument.
fn withheld_message(kind: clap::error::ErrorKind) -> String {
    let what = kind.as_str().unwrap_or("invalid arguments");
    format!("{what} (not repeated here, in case it was a token: a token, session or cookie is read from stdin or from a file, never from an argument; see --help)")
}
