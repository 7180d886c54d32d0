//! Reading the ID token for `users login`, and its lifetime.

use std::io::{self, BufRead, IsTerminal, Read};
use std::path::Path;

use anyhow::Context;
use base64::Engine;

use crate::error::CliError;

/// Lifetime sent when the token's own `exp` cannot be read.
pub const DEFAULT_EXPIRES_IN: i64 = 3600;

/// Where `users login` gets the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// Given on the command line.
    Argument(&'a str),
    /// In a file.
    File(&'a Path),
    /// On standard input.
    Stdin,
}

impl<'a> Source<'a> {
    /// Picks the source from `login`'s argument and `--token-file`; `-` or
    /// neither means standard input.
    pub fn from_args(token: Option<&'a str>, file: Option<&'a Path>) -> Self {
        match (token, file) {
            (Some("-"), _) => Self::Stdin,
            (Some(token), _) => Self::Argument(token),
            (None, Some(path)) if path == Path::new("-") => Self::Stdin,
            (None, Some(path)) => Self::File(path),
            (None, None) => Self::Stdin,
        }
    }

    /// Reads the token, surrounding whitespace removed; it must not be empty.
    pub fn read(self) -> Result<String, CliError> {
        let (raw, from) = match self {
            Self::Argument(token) => (token.to_string(), "the argument"),
            Self::File(path) => (
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the token file {}", path.display()))?,
                "the token file",
            ),
            Self::Stdin => (read_stdin()?, "standard input"),
        };
        let token = raw.trim();
        if token.is_empty() {
            return Err(CliError::Usage(format!(
                "no token in {from}: pass an ID token as the argument, with --token-file PATH, \
                 or on standard input"
            )));
        }
        if token.chars().any(char::is_whitespace) {
            return Err(CliError::Usage(format!(
                "the token in {from} contains whitespace; expected a single ID token (a JWT)"
            )));
        }
        Ok(token.to_string())
    }
}

/// All of standard input, or one line when it is a terminal.
fn read_stdin() -> Result<String, CliError> {
    let stdin = io::stdin();
    let mut text = String::new();
    let result = if stdin.is_terminal() {
        eprint!("Paste the ID token and press Enter: ");
        stdin.lock().read_line(&mut text)
    } else {
        stdin.lock().read_to_string(&mut text)
    };
    result.context("cannot read the token from standard input")?;
    Ok(text)
}

/// Seconds until the JWT's `exp` claim (at least 0), or `None` when the token
/// is not a JWT with a numeric `exp`. The signature is not checked: the
/// service verifies the token, this only fills in `expires_in`.
pub fn seconds_left(token: &str, now_unix: i64) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_i64()?;
    Some(exp.saturating_sub(now_unix).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            enc.encode(r#"{"alg":"HS256"}"#),
            enc.encode(claims)
        )
    }

    #[test]
    fn reads_exp() {
        assert_eq!(seconds_left(&jwt(r#"{"exp":1100}"#), 1000), Some(100));
        assert_eq!(seconds_left(&jwt(r#"{"exp":900}"#), 1000), Some(0));
        assert_eq!(seconds_left(&jwt(r#"{"sub":"x"}"#), 1000), None);
        assert_eq!(seconds_left("not-a-jwt", 1000), None);
        assert_eq!(seconds_left("a.!!!.c", 1000), None);
    }

    #[test]
    fn sources() {
        assert_eq!(Source::from_args(None, None), Source::Stdin);
        assert_eq!(Source::from_args(Some("-"), None), Source::Stdin);
        assert_eq!(Source::from_args(None, Some(Path::new("-"))), Source::Stdin);
        assert_eq!(Source::from_args(Some("t"), None), Source::Argument("t"));
        assert_eq!(Source::Argument("  t \n").read().unwrap(), "t");
        assert!(matches!(
            Source::Argument(" ").read(),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            Source::Argument("a b").read(),
            Err(CliError::Usage(_))
        ));
    }
}
