//! The command line's arguments and the help that teaches them. No argument ever takes a
//! token: a secret in argv is visible to every user in `ps` and stays in shell history, so
//! tokens are read from stdin or a file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const ABOUT: &str = "Session Inspector on the command line: the app's engine, profiles and keyring";

const LONG_ABOUT: &str = "\
Session Inspector on the command line: decode whatever you have copied (a JWT, a refresh
token, a session JSON, an @supabase/ssr cookie, a Bearer header), refresh a session the way
the Supabase clients do, import a session into one of the app's profiles, and watch a
profile's auth events as NDJSON. It uses the app's engine, the app's profiles (read-only:
the app owns its settings) and the app's keyring.

Tokens are never taken as arguments (argv shows in `ps` and in shell history): pipe them
on stdin or give a file. Output shows fingerprints (fp:...), never tokens, unless you ask
for them with --reveal.";

const AFTER_HELP: &str = "\
Examples:
  pbpaste | session-inspector-cli decode
  session-inspector-cli profiles
  session-inspector-cli refresh --profile 'My project'
  session-inspector-cli refresh --stdin --url https://abc.supabase.co --anon-key \"$ANON\" < token.txt
  session-inspector-cli import --profile 'My project' < session.json
  session-inspector-cli watch --profile 'My project' --auto-refresh | jq .event";

/// The command with its whole help: the examples, then the exit codes.
pub fn command() -> clap::Command {
    use clap::CommandFactory as _;
    let after = format!("{AFTER_HELP}\n\n{}", crate::error::exit_code_table());
    Cli::command().after_help(after)
}

#[derive(Debug, Parser)]
#[command(name = "session-inspector-cli", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// Machine output: one JSON document on stdout (watch: one JSON object a line); an error
    /// as {kind, message, code?, status?, exitCode} on stderr.
    #[arg(long, global = true)]
    pub json: bool,

    /// One folder standing for both of the app's: settings.json and the `sessions` folder of
    /// sealed sessions are both looked for in it (on Windows the app keeps them apart, in
    /// Roaming and Local). The keyring stays the app's, keyed by profile id, so use it only
    /// with a keyring of its own (tests use a throwaway one). Default: the app's folders,
    /// e.g. ~/.local/share/dev.sessioninspector.app
    #[arg(
        long,
        global = true,
        env = "SESSION_INSPECTOR_DATA_DIR",
        value_name = "DIR"
    )]
    pub data_dir: Option<PathBuf>,

    /// Use the kernel keyring when no Secret Service answers (Linux; over SSH or from cron,
    /// say). Without it that is refused: the app in a desktop session keeps its sessions in
    /// the Secret Service, would not find them there, and the kernel keyring forgets them at
    /// reboot.
    #[arg(long, global = true, env = "SESSION_INSPECTOR_KEYRING_ANY")]
    pub keyring_any: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Say what a paste holds, as the window's paste box does; nothing is sent anywhere
    #[command(after_help = "\
Examples:
  pbpaste | session-inspector-cli decode
  session-inspector-cli decode cookie.txt
  wl-paste | session-inspector-cli decode --json | jq .accessClaims.exp

Accepted: an access token (JWT), a refresh token (legacy or v2), `Authorization: Bearer ...`,
a supabase-js localStorage value, @supabase/ssr cookies (chunked too, as devtools copy
them: header, table rows, document.cookie), a token response or session JSON.")]
    Decode(DecodeArgs),

    /// Refresh a session: a profile's stored one, or a refresh token read from stdin
    #[command(after_help = "\
Examples:
  session-inspector-cli refresh --profile 'My project'
  session-inspector-cli refresh --stdin --profile 'My project' < session.json
  session-inspector-cli refresh --stdin --url http://127.0.0.1:54321 --anon-key \"$ANON\" --reveal < token.txt

The refresh token is used up by this refresh (GoTrue rotates it). With --profile the new
session is saved in the app's keyring; without one it is printed and kept nowhere (use
--reveal to see its tokens). If the app has the same profile open, it still holds the old
session: GoTrue answers its next refresh with the new session (one refresh behind is
tolerated, as for a client that lost an answer), but two behind is reuse, refused with
refresh_token_already_used, and the session is revoked. Switch the app to another profile and
back to load the new session from the keyring.")]
    Refresh(RefreshArgs),

    /// Save a pasted session into a profile's keyring slot (the app's settings are not touched)
    #[command(after_help = "\
Examples:
  session-inspector-cli import --profile 'My project' < session.json
  pbpaste | session-inspector-cli import --profile my-project-id

A paste with an access token that still works and a refresh token is saved as it is (its user
is fetched from the server, as supabase-js's setSession does). A paste with only a refresh
token (or an expired access token) is refreshed first, which uses that token up.")]
    Import(ImportArgs),

    /// Print a profile's auth events as NDJSON, one line each, until Ctrl+C
    #[command(after_help = "\
Examples:
  session-inspector-cli watch --profile 'My project'
  session-inspector-cli watch --profile 'My project' --auto-refresh --margin 60 | jq -c '{event, at}'

Each line is {\"type\":\"authEvent\",\"event\":\"TOKEN_REFRESHED\",\"at\":...,\"session\":{...}} with the
session redacted (fingerprints), or {\"type\":\"refreshFailed\",\"at\":...,\"error\":{kind, message,
code?}} when an automatic refresh fails. The first lines are the stored session's recovery
(SIGNED_IN, or TOKEN_REFRESHED when it was due) and INITIAL_SESSION.")]
    Watch(WatchArgs),

    /// List the app's profiles and, from the keyring, their stored sessions
    #[command(after_help = "\
Examples:
  session-inspector-cli profiles
  session-inspector-cli profiles --json | jq -r '.profiles[].id'
  session-inspector-cli profiles --no-keyring")]
    Profiles(ProfilesArgs),
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// A file to read; stdin when absent or `-`
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// The project the paste should belong to: an access token issued by another server is
    /// pointed out
    #[arg(long, env = "SUPABASE_URL", value_name = "PROJECT_URL")]
    pub url: Option<String>,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).multiple(true).args(["profile", "stdin"]))]
pub struct RefreshArgs {
    /// The profile (id or name) whose stored session is refreshed, or whose project a token
    /// from --stdin is sent to
    #[arg(long, short, value_name = "ID|NAME")]
    pub profile: Option<String>,

    /// Read the refresh token from stdin (or anything holding one: a session JSON, a cookie)
    #[arg(long)]
    pub stdin: bool,

    /// With --stdin and no profile: the project URL (a profile's own URL wins)
    #[arg(long, env = "SUPABASE_URL", value_name = "PROJECT_URL")]
    pub url: Option<String>,

    /// With --url: the project's anon (publishable) key
    #[arg(
        long,
        env = "SUPABASE_ANON_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub anon_key: Option<String>,

    /// Print the new access and refresh tokens (stdout only)
    #[arg(long)]
    pub reveal: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The profile (id or name) to save the session into
    #[arg(long, short, value_name = "ID|NAME")]
    pub profile: String,

    /// A file to read; stdin when absent or `-`
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The profile (id or name) to watch
    #[arg(long, short, value_name = "ID|NAME")]
    pub profile: String,

    /// Refresh the session before its access token expires, as the app's auto-refresh does
    /// (saved to the keyring)
    #[arg(long)]
    pub auto_refresh: bool,

    /// With --auto-refresh: how long before expiry, in seconds (default: the profile's margin)
    #[arg(long, value_name = "SECS", requires = "auto_refresh")]
    pub margin: Option<u64>,

    /// Stop after this many lines (at least 1)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// List from the settings only, without opening the keyring
    #[arg(long)]
    pub no_keyring: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arguments_are_consistent() {
        command().debug_assert();
    }

    #[test]
    fn a_token_is_never_an_argument() {
        // A positional after `refresh` would be a token in argv.
        assert!(Cli::try_parse_from(["x", "refresh", "--stdin", "sometoken"]).is_err());
        assert!(
            Cli::try_parse_from(["x", "refresh"]).is_err(),
            "a source is required"
        );
        assert!(Cli::try_parse_from(["x", "refresh", "--profile", "p"]).is_ok());
    }
}
