//! What a caller asks for (names and places of the generated crates) and
//! what a generation gives back (files).

use std::path::PathBuf;
use std::time::Duration;

/// The command that regenerates the checked-in code.
pub const REGEN_COMMAND: &str = "cargo xtask regen";

/// Names and places of the generated crates.
#[derive(Debug, Clone)]
pub struct Options {
    /// Component schema used for every error body.
    pub error_schema: String,
    /// Directory and crate name of the model types.
    pub types: (PathBuf, String),
    /// Directory and crate name of the client.
    pub client: (PathBuf, String),
    /// Directory and crate name of the server stubs.
    pub server: (PathBuf, String),
    /// Directory and crate name of the skeleton server (a binary answering
    /// each operation with its spec example, else 501), if one is wanted.
    pub skeleton: Option<(PathBuf, String)>,
    /// Hold the spec to this workspace's own standard: lints (undocumented
    /// router statuses, the error schema's shape, operationId style) are
    /// errors. Off for foreign specs, where they are warnings.
    pub strict: bool,
    /// Emit the client's hand-written support (builder, `ErrorExt`), its
    /// docs with the example, and README. They assume a spec shaped like
    /// ours (an error schema with `status`, `code`, `message`).
    pub client_extras: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            error_schema: "ApiError".into(),
            types: ("generated-types".into(), "users-api-types".into()),
            client: ("generated-client".into(), "users-api-client".into()),
            server: (
                "generated-server-stubs".into(),
                "users-api-server-stubs".into(),
            ),
            skeleton: None,
            strict: true,
            client_extras: true,
        }
    }
}

/// One generated file, with its path relative to the workspace root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the workspace root.
    pub path: PathBuf,
    /// Full contents.
    pub contents: String,
}

/// Wall time of each stage of one generation, for benchmarks. Each
/// generating stage includes parsing and pretty-printing its output, so
/// `models + client` is progenitor's share and `check + server` ours. The
/// server stubs are generated on a second thread while progenitor runs, so
/// `wall` is less than the sum of the stages.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimings {
    /// Normalizing and validating the spec.
    pub check: Duration,
    /// progenitor/typify: the model types.
    pub models: Duration,
    /// progenitor: the client (and, for this workspace's spec, its typed mocks).
    pub client: Duration,
    /// The operations model and the server stubs (beside `models` and `client`).
    pub server: Duration,
    /// The whole generation, as a caller waits for it.
    pub wall: Duration,
}

impl StageTimings {
    /// The sum of the stages: the work done, whatever ran in parallel.
    pub fn total(&self) -> Duration {
        self.check + self.models + self.client + self.server
    }
}
