//! Failures of a command, their one-line messages and their exit codes.
//!
//! API failures are classified with [`ErrorExt::kind`], never by matching on
//! message text.

use std::fmt;

use users_api_client::{ClientError, ErrorExt, ErrorKind};

/// Process exit codes.
pub mod exit {
    /// Any failure without a more specific code.
    pub const OTHER: u8 = 1;
    /// Bad command-line usage (also clap's code).
    pub const USAGE: u8 = 2;
    /// The user does not exist.
    pub const NOT_FOUND: u8 = 3;
    /// The service refused the credentials (or their absence).
    pub const UNAUTHORIZED: u8 = 4;
    /// The service could not be reached.
    pub const UNREACHABLE: u8 = 5;
    /// The service rejected the request as malformed.
    pub const BAD_REQUEST: u8 = 6;
}

/// Hint printed when the service cannot be reached.
pub const UNREACHABLE_HINT: &str =
    "is the service running? start it with `cargo run -p users-service` or pass --url";

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// An API call failed.
    Api {
        /// What was being done, e.g. `cannot list users`.
        action: String,
        /// The service's base URL.
        url: String,
        /// The client's error (boxed: it is large).
        error: Box<ClientError>,
        /// Whether this was `users login` (whose token came from the user,
        /// not from an earlier login).
        login: bool,
    },
    /// Bad input that the argument parser could not catch.
    Usage(String),
    /// Anything else (files, the terminal, building the client).
    Other(anyhow::Error),
}

impl CliError {
    /// Wraps an API failure with what was being attempted.
    pub fn api(action: impl Into<String>, url: &str, error: ClientError) -> Self {
        Self::Api {
            action: action.into(),
            url: url.to_string(),
            error: Box::new(error),
            login: false,
        }
    }

    /// Wraps a failure of `users login`'s sign-in call.
    pub fn login(url: &str, error: ClientError) -> Self {
        Self::Api {
            action: "cannot sign in".into(),
            url: url.to_string(),
            error: Box::new(error),
            login: true,
        }
    }

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Api { error, .. } => match error.kind() {
                ErrorKind::NotFound => exit::NOT_FOUND,
                ErrorKind::Unauthorized => exit::UNAUTHORIZED,
                ErrorKind::Transport => exit::UNREACHABLE,
                ErrorKind::BadRequest => exit::BAD_REQUEST,
                _ => exit::OTHER,
            },
            Self::Usage(_) => exit::USAGE,
            Self::Other(_) => exit::OTHER,
        }
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        Self::Other(e)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::Api {
                action,
                url,
                error,
                login,
            } => api_message(action, url, error.as_ref(), *login),
            Self::Usage(message) => message.clone(),
            Self::Other(e) => format!("{e:#}"),
        };
        // Always exactly one line.
        f.write_str(&text.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

fn api_message(action: &str, url: &str, error: &ClientError, login: bool) -> String {
    let server_says = error.api_error().map(|e| e.message.as_str());
    match error.kind() {
        ErrorKind::Transport => format!(
            "{action}: cannot reach {url} ({}); {UNREACHABLE_HINT}",
            root_cause(error)
        ),
        ErrorKind::Unauthorized => format!(
            "{action}: the service refused the credentials ({}); {}",
            server_says.unwrap_or("unauthorized"),
            if login {
                "get a fresh ID token from your identity provider and try again"
            } else {
                "run `users login` to sign in, or pass --token (or set USERS_TOKEN)"
            }
        ),
        ErrorKind::NotFound => format!("{action}: {}", server_says.unwrap_or("not found")),
        ErrorKind::BadRequest => format!(
            "{action}: the service rejected the request: {}",
            server_says.map_or_else(|| error.to_string(), str::to_string)
        ),
        ErrorKind::Server => format!(
            "{action}: the service failed: {}",
            server_says.map_or_else(|| error.to_string(), str::to_string)
        ),
        _ => format!("{action}: {error}"),
    }
}

/// The innermost error's message, e.g. `Connection refused (os error 111)`.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
