//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use uuid::Uuid;

/// Extra `--help` text: where the token is saved, and the exit codes.
const AFTER_HELP: &str = "\
The token saved by `users login` is kept in $USERS_CONFIG_DIR/users-cli/token
(default: the platform's config directory, e.g. ~/.config/users-cli/token).

Exit codes: 0 ok, 1 other error, 2 usage, 3 not found, 4 unauthorized or not
signed in, 5 service unreachable, 6 request rejected as malformed.";

/// Command-line client for the Users API.
///
/// Sign in once with `users login`, then list, show and sign out users.
#[derive(Debug, Parser)]
#[command(name = "users", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Base URL of the Users API service.
    #[arg(
        long,
        env = "USERS_URL",
        global = true,
        value_name = "URL",
        default_value = users_api_client::DEFAULT_BASE_URL,
        value_parser = parse_base_url,
    )]
    pub url: String,

    /// Print machine-readable JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in with an OpenID Connect ID token and save it for later commands.
    ///
    /// The token comes from the argument, from --token-file, or from standard
    /// input when neither is given (or either is `-`).
    Login(LoginArgs),
    /// List every user.
    List(AuthArgs),
    /// Show one user.
    Get {
        /// The user's id (a UUID).
        #[arg(value_name = "ID", value_parser = parse_user_id)]
        id: Uuid,
        #[command(flatten)]
        auth: AuthArgs,
    },
    /// Sign a user out (disconnect) and print the users that are left.
    ///
    /// Signing out the saved login's user also deletes the saved token.
    Logout {
        /// The user's id (a UUID).
        #[arg(value_name = "ID", value_parser = parse_user_id)]
        id: Uuid,
        #[command(flatten)]
        auth: AuthArgs,
    },
}

/// Options of `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The ID token; `-` reads it from standard input.
    #[arg(value_name = "TOKEN", conflicts_with = "token_file")]
    pub token: Option<String>,

    /// Read the ID token from this file (`-` for standard input).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,

    /// Do not save the token for later commands.
    #[arg(long)]
    pub no_save: bool,
}

/// Credentials of the commands that need a signed-in caller.
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// ID token to send; defaults to the one saved by `users login`.
    #[arg(
        long,
        env = "USERS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

/// Accepts `http://` and `https://` URLs; drops a trailing slash.
fn parse_base_url(value: &str) -> Result<String, String> {
    let trimmed = value.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| {
            "expected an http:// or https:// URL, like http://127.0.0.1:1000".to_string()
        })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("the URL has no host, expected something like http://127.0.0.1:1000".into());
    }
    Ok(trimmed.to_string())
}

/// Parses a user id, with a message that says what an id looks like.
fn parse_user_id(value: &str) -> Result<Uuid, String> {
    Uuid::parse_str(value.trim()).map_err(|_| {
        "not a valid user id: expected a UUID like 67e55044-10b1-426f-9247-bb680e5fe0c8 \
         (see `users list`)"
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn base_urls() {
        assert_eq!(parse_base_url("http://h:1/").unwrap(), "http://h:1");
        assert_eq!(parse_base_url("https://h").unwrap(), "https://h");
        assert!(parse_base_url("h:1").is_err());
        assert!(parse_base_url("http://").is_err());
    }

    #[test]
    fn user_ids() {
        assert!(parse_user_id("67e55044-10b1-426f-9247-bb680e5fe0c8").is_ok());
        assert!(parse_user_id("nope").is_err());
    }
}
