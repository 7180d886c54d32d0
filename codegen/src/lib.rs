//! Spec-first code generation: from one OpenAPI 3.0 document to the model
//! types, a progenitor client (with typed mocks) and axum server stubs.
//!
//! One pass, read top-down:
//! - [`spec`](Spec): the document, loaded once and normalized once, with the
//!   one `$ref` resolver, media-type and path helpers every stage uses;
//! - `validate`: what the generators support, checked on the normalized
//!   document, every problem named by its JSON pointer;
//! - `ir`: the operations as the server generator needs them, built once;
//! - `emit`: the crates: types and client (progenitor, on the document
//!   rewritten once for it, shared with the mocks), mocks, server stubs,
//!   manifests, formatting.
//!
//! Output is deterministic: the same spec gives byte-identical files on
//! every run and machine.

mod downgrade;
mod emit;
mod error;
mod ir;
mod names;
mod options;
mod server;
mod spec;
mod validate;

/// The server generator reads the IR under this name.
use ir as model;

use std::path::Path;
use std::time::Instant;

pub use downgrade::{is_openapi31, to_openapi30};
pub use emit::manifest::{DEPENDENCIES, Dependency, standalone_workspace};
pub use emit::progenitor::settings as progenitor_settings;
pub use error::{CodegenError, Problem, Result};
pub use options::{ClientDocs, GeneratedFile, Options, REGEN_COMMAND, StageTimings};
pub use spec::Spec;

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
    let spec::normalize::Normalized { spec, mut notes } = spec::normalize::normalize(spec);
    notes.splice(0..0, spec.lints.iter().cloned());
    let warnings = validate::validate(&spec, &options.error_schema, options.strict, notes)?;
    Ok((spec, warnings))
}

/// The document progenitor's `Generator` is given for the client: the spec
/// normalized, validated and rewritten into the subset progenitor supports.
/// For comparisons with progenitor alone (benchmarks).
pub fn progenitor_input(spec: &Spec, options: &Options) -> Result<openapiv3::OpenAPI> {
    let (normalized, _) = checked(spec, options)?;
    Ok(emit::rewrite::for_progenitor(&normalized.api))
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

/// Like [`generate`], with warnings and stage timings.
pub fn generate_timed(spec: &Spec, options: &Options) -> Result<Generated> {
    let wall = Instant::now();
    let mut t = StageTimings::default();
    let started = Instant::now();
    let (normalized, warnings) = checked(spec, options)?;
    let spec = &normalized;
    let components = spec.api.components.as_ref();
    let usable_error = validate::usable_error_schema(components, &options.error_schema);
    // The document as progenitor takes it: rewritten once, for the client and its mocks.
    let for_progenitor = emit::rewrite::for_progenitor(&spec.api);
    t.check = started.elapsed();
    let version = emit::manifest::crate_version(&spec.api.info.version);
    let types_ident = options.types.1.replace('-', "_");
    let inputs = emit::client_crate::ClientInputs {
        api: &for_progenitor,
        types_ident: &types_ident,
        error_schema: usable_error.then_some(options.error_schema.as_str()),
        version: &version,
    };
    // The server stubs need nothing from progenitor: they are generated on a
    // second thread meanwhile (token streams are not `Send`, so the thread
    // hands back formatted files).
    let (files, server_files) = std::thread::scope(|scope| {
        let server = scope.spawn(|| {
            let start = Instant::now();
            let files =
                emit::server_crate::files(spec, options, &types_ident, usable_error, &version);
            (start.elapsed(), files)
        });
        let files = emit::client_crate::files(spec, options, &inputs, &mut t);
        let (elapsed, server_files) = server.join().expect("the server stubs thread panicked");
        t.server = elapsed;
        (files, server_files)
    });
    let (mut files, client_uses) = files?;
    files.extend(server_files?);
    if options.client_extras {
        let started = Instant::now();
        files.extend(emit::mock::files(
            &for_progenitor,
            options,
            &version,
            client_uses,
        )?);
        t.client += started.elapsed();
    }
    t.wall = wall.elapsed();
    Ok(Generated {
        files,
        warnings,
        timings: t,
    })
}
