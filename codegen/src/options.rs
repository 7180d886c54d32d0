//! What a caller asks for (names and places of the generated crates) and
//! what a generation gives back (files).

use std::path::PathBuf;
use std::time::Duration;

/// The command that regenerates the checked-in code.
pub const REGEN_COMMAND: &str = "cargo xtask regen";

/// Names and places of the generated crates.
///
/// Nothing in here is specific to one API: [`Options::named`] (and
/// `Default`, which is `named("api")`) gives the rules for any spec; a
/// workspace that generates its own spec sets the rest.
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
    /// Emit the client's hand-written support (builder, retries,
    /// `ErrorExt`). It assumes an error schema with `status`, `code`,
    /// `message`.
    pub client_extras: bool,
    /// Name of the client builder's method that sends an API key, in the
    /// header of the spec's first `apiKey` security scheme carried in a
    /// header (no method when the spec has none). Only with `client_extras`.
    pub api_key_method: String,
    /// The client crate's documentation, example and README, written for
    /// one spec. Only with `client_extras`; `None` gives short generic docs
    /// and no README.
    pub client_docs: Option<ClientDocs>,
}

/// Documentation of a client crate written for its spec (see [`Options::client_docs`]).
#[derive(Debug, Clone)]
pub struct ClientDocs {
    /// Crate docs (Markdown); `{example}` marks where the example goes.
    pub docs: String,
    /// Rust source whose lines between `// docs:start` and `// docs:end`
    /// are the crate docs' example (a compiled doc-test with `url` and
    /// `id_token` in scope).
    pub example: String,
    /// The crate's README; `{version}` and `{base_url}` are filled in,
    /// `{{`/`}}` are literal braces.
    pub readme: String,
}

impl Options {
    /// Crates `{name}-types`, `{name}-client` and `{name}-server-stubs` in
    /// the directories `types`, `client` and `server-stubs`, with the rules
    /// for a foreign spec: lints are warnings, errors in the schema `Error`,
    /// no client extras.
    pub fn named(name: &str) -> Self {
        let krate = |what: &str| (PathBuf::from(what), format!("{name}-{what}"));
        Self {
            error_schema: "Error".into(),
            types: krate("types"),
            client: krate("client"),
            server: krate("server-stubs"),
            skeleton: None,
            strict: false,
            client_extras: false,
            api_key_method: "api_key".into(),
            client_docs: None,
        }
    }

    /// Also a skeleton server: crate `crate_name` in the directory `server`.
    pub fn with_skeleton(mut self, crate_name: impl Into<String>) -> Self {
        self.skeleton = Some((PathBuf::from("server"), crate_name.into()));
        self
    }

    /// The same crates with their directories under `dir`.
    pub fn in_dir(mut self, dir: &std::path::Path) -> Self {
        let skeleton = self.skeleton.as_mut().map(|(path, _)| path);
        for path in [&mut self.types.0, &mut self.client.0, &mut self.server.0]
            .into_iter()
            .chain(skeleton)
        {
            *path = dir.join(&*path);
        }
        self
    }
}

impl Default for Options {
    /// `Options::named("api")`.
    fn default() -> Self {
        Self::named("api")
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
/// server stubs, and the skeleton server and typed mocks, are generated on
/// two more threads while progenitor runs, so `wall` is less than the sum of
/// the stages.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimings {
    /// Normalizing and validating the spec, and rewriting it for progenitor.
    pub check: Duration,
    /// progenitor/typify: the model types.
    pub models: Duration,
    /// progenitor: the client (and, for this workspace's spec, its typed mocks).
    pub client: Duration,
    /// The operations model, the server stubs and the skeleton server
    /// (beside `models` and `client`).
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
