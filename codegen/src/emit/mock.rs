//! The client's typed mock crate: progenitor's `httpmock` generator gives,
//! per operation, `When`/`Then` wrappers typed from the spec and a
//! `MockServerExt` method on `httpmock::MockServer`. Downstream crates add it
//! as a dev-dependency and test their code without the service.
//!
//! progenitor's mocks target httpmock 0.8 (not 0.9): the workspace pins it.

use std::path::PathBuf;

use openapiv3::OpenAPI;

use super::format::{parse, rust_files};
use super::guard::guarded;
use super::manifest::{self, Uses};
use super::progenitor::{ModelType, settings_with_models};
use crate::error::Result;
use crate::options::{GeneratedFile, Options, REGEN_COMMAND};

/// Directory and crate name of the mock crate: the client's, with `-mock`.
pub fn place(options: &Options) -> (PathBuf, String) {
    let (dir, name) = &options.client;
    (
        PathBuf::from(format!("{}-mock", dir.display())),
        format!("{name}-mock"),
    )
}

/// The mock crate's `Cargo.toml`, `src/lib.rs` and `src/generated.rs`, from
/// the document as the client was generated from (see [`super::rewrite`])
/// and the crates the client's code uses. The model types are named, not
/// generated again: the pass covers the operations only.
pub fn files(
    api: &OpenAPI,
    options: &Options,
    version: &str,
    client_uses: Uses,
    models: &[ModelType],
) -> Result<Vec<GeneratedFile>> {
    let (dir, name) = place(options);
    let client_crate = options.client.1.replace('-', "_");
    // The mocks reach the client's `types` module through `use client::*`,
    // as progenitor names them itself.
    let settings = settings_with_models(models, "types::");
    let mut generator = progenitor_impl::Generator::new(&settings);
    let tokens = guarded("mock", || generator.httpmock(api, &client_crate))?;
    // The mocks name the client's types, and the crates its parameters use.
    let manifest = manifest::mock(
        &name,
        version,
        &options.client.1,
        client_uses,
        REGEN_COMMAND,
    );
    let doc = format!(
        "Typed [httpmock](https://docs.rs/httpmock/0.8) mocks for `{}` {version}, generated \
         from the OpenAPI spec.\n\n\
         `use {}_mock::MockServerExt;` adds one method per operation to \
         `httpmock::MockServer`; its `when` and `then` arguments take the spec's \
         parameters and response bodies, typed.",
        options.client.1,
        options.client.1.replace('-', "_"),
    );
    let mut out = vec![GeneratedFile {
        path: dir.join("Cargo.toml"),
        contents: manifest,
    }];
    out.extend(rust_files(
        dir.join("src"),
        &doc,
        "mock",
        &parse("mock", tokens)?,
        &[],
    )?);
    Ok(out)
}
