//! Spec-first code generation for the Users API workspace.
//!
//! [`generate`] reads `spec/users.yaml`, validates it, and returns every
//! generated file: the shared model types, the progenitor client and the axum
//! server stubs, each with its `Cargo.toml`. Output is deterministic: the same
//! spec gives byte-identical files on every run and machine.

mod downgrade;
mod error;
mod load;
mod manifest;
mod mock;
pub mod model;
mod normalize;
mod progenitor_gen;
mod server;
pub mod validate;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proc_macro2::TokenStream;

pub use downgrade::{is_openapi31, to_openapi30};
pub use error::{CodegenError, Problem, Result};
pub use load::Spec;
pub use progenitor_gen::settings as progenitor_settings;

/// Configuration and error helpers emitted into the client crate.
const CLIENT_SUPPORT: &str = include_str!("../templates/client_support.rs");
/// Crate documentation of the client; `{example}` marks where the example goes.
const CLIENT_DOCS: &str = include_str!("../templates/client_docs.md");
/// The client's example, run against the real service by the workspace tests.
const CLIENT_EXAMPLE: &str = include_str!("../templates/client_example.rs");
/// The client crate's README.
const CLIENT_README: &str = include_str!("../templates/client_readme.md");

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

/// Reads, validates and generates from a spec file.
pub fn generate_from_file(spec_path: &Path, options: &Options) -> Result<Vec<GeneratedFile>> {
    let spec = Spec::read(spec_path)?;
    generate(&spec, options)
}

/// Validates a parsed spec against what the generators support; returns the
/// lints that are only warnings under `options.strict == false`.
pub fn check(spec: &Spec, options: &Options) -> Result<Vec<Problem>> {
    checked(spec, options).map(|(_, warnings)| warnings)
}

/// The normalized spec, validated, and the lints that are warnings.
fn checked(spec: &Spec, options: &Options) -> Result<(Spec, Vec<Problem>)> {
    let normalize::Normalized { spec, mut notes } = normalize::normalize(spec);
    notes.splice(0..0, spec.lints.iter().cloned());
    let warnings = validate::validate(&spec, &options.error_schema, options.strict, notes)?;
    Ok((spec, warnings))
}

/// Generates every file from a parsed spec. Nothing is written to disk.
pub fn generate(spec: &Spec, options: &Options) -> Result<Vec<GeneratedFile>> {
    generate_with_warnings(spec, options).map(|(files, _)| files)
}

/// Like [`generate`], also returning the lints reported as warnings.
pub fn generate_with_warnings(
    spec: &Spec,
    options: &Options,
) -> Result<(Vec<GeneratedFile>, Vec<Problem>)> {
    generate_timed(spec, options).map(|g| (g.files, g.warnings))
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

/// Everything one generation gives.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The files.
    pub files: Vec<GeneratedFile>,
    /// Lints reported as warnings (none under `strict`).
    pub warnings: Vec<Problem>,
    /// Where the time went.
    pub timings: StageTimings,
}

/// Runs `f`, adding its wall time to `total`.
fn timed<T>(total: &mut Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    *total += start.elapsed();
    out
}

/// Like [`generate`], with warnings and stage timings.
pub fn generate_timed(spec: &Spec, options: &Options) -> Result<Generated> {
    let wall = Instant::now();
    let mut t = StageTimings::default();
    let (normalized, warnings) = timed(&mut t.check, || checked(spec, options))?;
    let spec = &normalized;
    let types_ident = options.types.1.replace('-', "_");
    // The server stubs need nothing from progenitor: they are generated on a
    // second thread meanwhile (token streams are not `Send`, so the thread
    // hands back formatted files).
    let (files, server_files) = std::thread::scope(|scope| {
        let server = scope.spawn(|| {
            let start = Instant::now();
            let files = server_files(spec, options, &types_ident);
            (start.elapsed(), files)
        });
        let files = progenitor_files(spec, options, &types_ident, &mut t);
        let (elapsed, server_files) = server.join().expect("the server stubs thread panicked");
        t.server = elapsed;
        (files, server_files)
    });
    let mut files = files?;
    files.extend(server_files?);
    if options.client_extras {
        files.extend(timed(&mut t.client, || {
            mock::files(spec, options, &crate_version(&spec.api.info.version))
        })?);
    }
    t.wall = wall.elapsed();
    Ok(Generated {
        files,
        warnings,
        timings: t,
    })
}

/// The model types and the client (progenitor's passes), with their manifests.
fn progenitor_files(
    spec: &Spec,
    options: &Options,
    types_ident: &str,
    t: &mut StageTimings,
) -> Result<Vec<GeneratedFile>> {
    let title = &spec.api.info.title;
    let version = &crate_version(&spec.api.info.version);

    let models = timed(&mut t.models, || progenitor_gen::models(spec))?;
    let usable_error =
        validate::usable_error_schema(spec.api.components.as_ref(), &options.error_schema);
    let client_start = Instant::now();
    let client = progenitor_gen::client(
        spec,
        &models,
        types_ident,
        usable_error.then_some(options.error_schema.as_str()),
        // The client's state (retry policy) lives in the hand-written support module.
        options
            .client_extras
            .then_some("crate::support::ClientState"),
    )?;
    t.client += client_start.elapsed();

    let crate_doc = |what: &str| crate_doc(what, title, version);
    let mut files = vec![GeneratedFile {
        path: options.types.0.join("Cargo.toml"),
        contents: manifest::types(&options.types.1, title, version, models.deps, REGEN_COMMAND),
    }];
    files.extend(timed(&mut t.models, || {
        rust_files(
            options.types.0.join("src"),
            &crate_doc("Model types"),
            "models",
            models.tokens,
            &[],
        )
    })?);
    files.push(GeneratedFile {
        path: options.client.0.join("Cargo.toml"),
        contents: manifest::client(
            &options.client.1,
            title,
            version,
            &options.types.1,
            client.to_string().contains("regress"),
            REGEN_COMMAND,
        ),
    });
    if options.client_extras {
        files.extend(timed(&mut t.client, || {
            rust_files(
                options.client.0.join("src"),
                &format!(
                    "{}\n\n{}",
                    crate_doc("Async client"),
                    CLIENT_DOCS.replace("{example}", &example_block(CLIENT_EXAMPLE))
                ),
                "client",
                client,
                &["support"],
            )
        })?);
        files.push(GeneratedFile {
            path: options.client.0.join("src/support.rs"),
            contents: format!("{}\n{CLIENT_SUPPORT}", header()),
        });
        let base_url = spec
            .api
            .servers
            .first()
            .map_or("http://localhost", |s| s.url.as_str());
        files.push(GeneratedFile {
            path: options.client.0.join("README.md"),
            contents: CLIENT_README
                .replace("{version}", version)
                .replace("{base_url}", base_url)
                .replace("{{", "{")
                .replace("}}", "}"),
        });
    } else {
        files.extend(timed(&mut t.client, || {
            rust_files(
                options.client.0.join("src"),
                &crate_doc("Async client (progenitor)"),
                "client",
                client,
                &[],
            )
        })?);
    }
    Ok(files)
}

/// The operations model and the server stubs, with their manifest and the spec beside them.
fn server_files(spec: &Spec, options: &Options, types_ident: &str) -> Result<Vec<GeneratedFile>> {
    let title = &spec.api.info.title;
    let version = &crate_version(&spec.api.info.version);
    let crate_doc = |what: &str| crate_doc(what, title, version);
    let usable_error =
        validate::usable_error_schema(spec.api.components.as_ref(), &options.error_schema);
    let ops = model::operations(spec)?;
    let trait_name = {
        use heck::ToPascalCase;
        let name: String = spec
            .api
            .info
            .title
            .to_pascal_case()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        match name.chars().next() {
            Some(c) if c.is_ascii_alphabetic() => name,
            _ => format!("Api{name}"),
        }
    };
    let error_type = model::type_name(&options.error_schema);
    let error_code_type =
        match validate::error_codes(spec.api.components.as_ref(), &options.error_schema) {
            Some(_) => format!("types::{error_type}Code"),
            None => "String".to_string(),
        };
    let error = usable_error.then_some(server::ErrorNames {
        type_name: &error_type,
        code_type: &error_code_type,
    });
    let server = server::generate(
        &ops,
        &model::schemes(spec),
        &server::ServerNames {
            trait_name: &trait_name,
            types_crate: types_ident,
            crate_name: &options.server.1.replace('-', "_"),
            error,
        },
    );
    let mut files = Vec::new();
    files.push(GeneratedFile {
        path: options.server.0.join("Cargo.toml"),
        contents: manifest::server(
            &options.server.1,
            title,
            version,
            &options.types.1,
            REGEN_COMMAND,
        ),
    });
    files.extend(rust_files(
        options.server.0.join("src"),
        &crate_doc("Axum server stubs"),
        "server",
        server,
        &[],
    )?);
    // The spec travels beside the stubs (`OPENAPI_YAML` includes it).
    files.push(GeneratedFile {
        path: options.server.0.join("src/openapi.yaml"),
        contents: format!(
            "# @generated by users-api-codegen from the spec, verbatim below. DO NOT EDIT.\n# Regenerate with: {REGEN_COMMAND}\n{}",
            spec.text
        ),
    });
    Ok(files)
}

/// The first line of a generated crate's documentation.
fn crate_doc(what: &str, title: &str, version: &str) -> String {
    format!("{what} for {title} {version}, generated from the OpenAPI spec.")
}

/// `info.version` as a crate version: itself when it is semver, `1.2` as
/// `1.2.0`, anything else `0.0.0` with the text as build metadata.
fn crate_version(version: &str) -> String {
    let v = version.trim().trim_start_matches('v');
    let parts: Vec<&str> = v.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    match parts.len() {
        3 if parts[..2].iter().all(numeric)
            && parts[2]
                .split(['-', '+'])
                .next()
                .is_some_and(|p| numeric(&p)) =>
        {
            v.to_string()
        }
        1 | 2 if parts.iter().all(numeric) => {
            let mut p = parts.clone();
            p.resize(3, "0");
            p.join(".")
        }
        _ => {
            let meta: String = version
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            format!("0.0.0+{}", meta.trim_matches('-'))
        }
    }
}

/// The lines of `source` between `// docs:start` and `// docs:end`, as a
/// compiled (not run) doc-test; the workspace tests run the function itself.
fn example_block(source: &str) -> String {
    let body: Vec<&str> = source
        .lines()
        .skip_while(|l| l.trim() != "// docs:start")
        .skip(1)
        .take_while(|l| l.trim() != "// docs:end")
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect();
    format!(
        "```no_run\n# async fn example(url: &str, id_token: &str) -> Result<(), Box<dyn std::error::Error>> {{\n{}\n# Ok(())\n# }}\n```\n",
        body.join("\n")
    )
}

/// The do-not-edit header of every generated Rust file.
fn header() -> String {
    format!(
        "// @generated by users-api-codegen. DO NOT EDIT.\n// Regenerate with: {REGEN_COMMAND}\n"
    )
}

/// Formats a token stream into `src/generated.rs`, plus a `src/lib.rs` shim
/// that holds the crate docs and keeps `cargo fmt` away from generated code.
fn rust_files(
    src: PathBuf,
    crate_doc: &str,
    stage: &'static str,
    tokens: TokenStream,
    hand_written_modules: &[&str],
) -> Result<[GeneratedFile; 2]> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| CodegenError::Generate {
        stage,
        message: format!("generated code does not parse: {e}"),
    })?;
    let mut body = prettyplease::unparse(&file);
    if stage == "client" {
        // progenitor's per-operation examples are fragments, not doc-tests.
        body = body.replace("```ignore", "```text");
    }
    let docs: String = crate_doc
        .lines()
        .map(|l| {
            if l.is_empty() {
                "//!\n".to_string()
            } else {
                format!("//! {l}\n")
            }
        })
        .collect();
    let modules: String = hand_written_modules
        .iter()
        .map(|m| format!("mod {m};\npub use {m}::*;\n"))
        .collect();
    let shim = format!(
        "{}\n{docs}#![allow(clippy::all, unused_imports)]\n\n#[rustfmt::skip]\nmod generated;\npub use generated::*;\n{modules}",
        header()
    );
    Ok([
        GeneratedFile {
            path: src.join("lib.rs"),
            contents: shim,
        },
        GeneratedFile {
            path: src.join("generated.rs"),
            contents: format!("{}\n{body}", header()),
        },
    ])
}
