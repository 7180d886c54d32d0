//! Errors reported while loading, validating or generating from a spec.

use std::path::PathBuf;

/// Everything that can go wrong in code generation.
///
/// Each variant names the place in the spec it is about, so a user can jump
/// straight to the offending line or JSON pointer.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// The spec file could not be read.
    #[error("cannot read spec {path}: {source}")]
    Read {
        /// The file that was being read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The document is not valid YAML, or not a valid OpenAPI 3.0 document.
    #[error("{file}: {message}")]
    Parse {
        /// Name of the spec file (for messages).
        file: String,
        /// Parser message, including line and column where known.
        message: String,
    },
    /// The document parsed but breaks a rule this generator relies on.
    #[error(
        "{file}: {count} problem(s) in the spec:\n{}",
        format_problems(problems)
    )]
    Invalid {
        /// Name of the spec file (for messages).
        file: String,
        /// Number of problems found.
        count: usize,
        /// Each problem with its location.
        problems: Vec<Problem>,
    },
    /// A generator failed on a construct validation let through.
    #[error("{stage} generation failed: {message}")]
    Generate {
        /// Which generator failed (`models`, `client`, `server`).
        stage: &'static str,
        /// What went wrong.
        message: String,
    },
    /// progenitor or typify panicked (`todo!`, `assert!`) on a construct
    /// they do not support; caught by [`guarded`](crate::guarded).
    #[error("{stage} generation failed: unsupported construct (progenitor panicked): {message}")]
    Unsupported {
        /// Which generator panicked (`models`, `client`, or the caller's name).
        stage: &'static str,
        /// The panic's message, with its place in progenitor's source.
        message: String,
    },
}

/// One validation problem: where in the spec, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// A JSON pointer into the spec, e.g. `#/paths/~1users/get/responses/200`.
    pub pointer: String,
    /// What is wrong there.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at {}: {}", self.pointer, self.message)
    }
}

fn format_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Convenience alias for results in this crate.
pub type Result<T, E = CodegenError> = std::result::Result<T, E>;
