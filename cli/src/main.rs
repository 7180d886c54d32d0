//! `users`: a command-line client for the Users API.
//!
//! Built on the generated `users-api-client` crate only. Exit codes: 0 success,
//! 1 other failure, 2 usage, 3 not found, 4 unauthorized (credentials missing or refused),
//! 5 service unreachable, 6 request rejected as malformed.

mod args;
mod commands;
mod config;
mod error;
mod output;
mod token;

use std::process::ExitCode;

use clap::Parser;

use crate::error::CliError;

fn main() -> ExitCode {
    // Usage errors, --help and --version exit here (code 2 for errors).
    let cli = args::Cli::parse();
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(anyhow::Error::new(e).context("cannot start the runtime")))
        .and_then(|runtime| runtime.block_on(commands::run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::error::exit;

    #[test]
    fn exit_codes_are_distinct() {
        let codes = [
            exit::OTHER,
            exit::USAGE,
            exit::NOT_FOUND,
            exit::UNAUTHORIZED,
            exit::UNREACHABLE,
            exit::BAD_REQUEST,
        ];
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len());
    }
}
