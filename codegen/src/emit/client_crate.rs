//! The model-types crate and the client crate (progenitor's passes), with
//! their manifests and, for a spec shaped like ours, the hand-written support.

use std::path::Path;
use std::time::Instant;

use openapiv3::OpenAPI;

use super::format::{crate_doc, example_block, header, rust_files};
use super::manifest::{self, Uses};
use super::progenitor::{self, Models};
use crate::error::Result;
use crate::options::{GeneratedFile, Options, REGEN_COMMAND, StageTimings};
use crate::spec::Spec;

/// Configuration and error helpers emitted into the client crate.
const CLIENT_SUPPORT: &str = include_str!("../../templates/client_support.rs");
/// Crate documentation of the client; `{example}` marks where the example goes.
const CLIENT_DOCS: &str = include_str!("../../templates/client_docs.md");
/// The client's example, run against the real service by the workspace tests.
const CLIENT_EXAMPLE: &str = include_str!("../../templates/client_example.rs");
/// The client crate's README.
const CLIENT_README: &str = include_str!("../../templates/client_readme.md");

/// What the client crate needs besides the spec.
pub(crate) struct ClientInputs<'a> {
    /// The document as progenitor takes it (computed once, shared with the mocks).
    pub api: &'a OpenAPI,
    /// The types crate, as a Rust identifier.
    pub types_ident: &'a str,
    /// The error schema, when the router can answer in it.
    pub error_schema: Option<&'a str>,
    /// The crate version.
    pub version: &'a str,
}

/// The model types and the client, with their manifests, and the runtime
/// crates the client's code uses.
pub(crate) fn files(
    spec: &Spec,
    options: &Options,
    inputs: &ClientInputs<'_>,
    t: &mut StageTimings,
) -> Result<(Vec<GeneratedFile>, Uses)> {
    let title = &spec.api.info.title;
    let version = inputs.version;
    let started = Instant::now();
    let models = progenitor::models(spec)?;
    t.models += started.elapsed();
    let started = Instant::now();
    let (client, client_uses) = progenitor::client(
        inputs.api,
        &models,
        inputs.types_ident,
        inputs.error_schema,
        // The client's state (retry policy) lives in the hand-written support module.
        options
            .client_extras
            .then_some("crate::support::ClientState"),
    )?;
    t.client += started.elapsed();

    let crate_doc = |what: &str| crate_doc(what, title, version);
    let mut files = vec![GeneratedFile {
        path: options.types.0.join("Cargo.toml"),
        contents: manifest::types(&options.types.1, title, version, models.uses, REGEN_COMMAND),
    }];
    let started = Instant::now();
    files.extend(rust_files(
        options.types.0.join("src"),
        &crate_doc("Model types"),
        "models",
        models.tokens.clone(),
        &[],
    )?);
    t.models += started.elapsed();
    files.push(GeneratedFile {
        path: options.client.0.join("Cargo.toml"),
        contents: manifest::client(
            &options.client.1,
            title,
            version,
            &options.types.1,
            client_uses,
            REGEN_COMMAND,
        ),
    });
    let started = Instant::now();
    files.extend(client_files(
        spec, options, &models, client, version, &crate_doc,
    )?);
    t.client += started.elapsed();
    Ok((files, client_uses))
}

fn client_files(
    spec: &Spec,
    options: &Options,
    _models: &Models,
    client: proc_macro2::TokenStream,
    version: &str,
    crate_doc: &dyn Fn(&str) -> String,
) -> Result<Vec<GeneratedFile>> {
    let src = options.client.0.join("src");
    if !options.client_extras {
        return Ok(rust_files(
            src,
            &crate_doc("Async client (progenitor)"),
            "client",
            client,
            &[],
        )?
        .into());
    }
    let mut files: Vec<GeneratedFile> = rust_files(
        src,
        &format!(
            "{}\n\n{}",
            crate_doc("Async client"),
            CLIENT_DOCS.replace("{example}", &example_block(CLIENT_EXAMPLE))
        ),
        "client",
        client,
        &["support"],
    )?
    .into();
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
        path: Path::new(&options.client.0).join("README.md"),
        contents: CLIENT_README
            .replace("{version}", version)
            .replace("{base_url}", base_url)
            .replace("{{", "{")
            .replace("}}", "}"),
    });
    Ok(files)
}
