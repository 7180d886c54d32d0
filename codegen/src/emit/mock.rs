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

/// The mock crate's `src/lib.rs` and `src/generated.rs`, from the document
/// as the client was generated from (see [`super::rewrite`]). The model
/// types are named, not generated again: the pass covers the operations
/// only. Its manifest is [`manifest_file`], which needs the client's pass.
pub fn files(
    api: &OpenAPI,
    options: &Options,
    version: &str,
    models: &[ModelType],
) -> Result<[GeneratedFile; 2]> {
    let (dir, _) = place(options);
    let client_crate = options.client.1.replace('-', "_");
    // The mocks reach the client's `types` module through `use client::*`,
    // as progenitor names them itself.
    let settings = settings_with_models(models, "types::");
    let mut generator = progenitor_impl::Generator::new(&settings);
    let tokens = guarded("mock", || generator.httpmock(api, &client_crate))?;
    let doc = format!(
        "Typed [httpmock](https://docs.rs/httpmock/0.8) mocks for `{}` {version}, generated \
         from the OpenAPI spec.\n\n\
         `use {}_mock::MockServerExt;` adds one method per operation to \
         `httpmock::MockServer`; its `when` and `then` arguments take the spec's \
         parameters and response bodies, typed.",
        options.client.1,
        options.client.1.replace('-', "_"),
    );
    rust_files(dir.join("src"), &doc, "mock", &parse("mock", tokens)?, &[])
}

/// The mock crate's `Cargo.toml`: the mocks name the client's types, and the
/// crates its parameters use (`client_uses`).
pub fn manifest_file(options: &Options, version: &str, client_uses: Uses) -> GeneratedFile {
    let (dir, name) = place(options);
    GeneratedFile {
        path: dir.join("Cargo.toml"),
        contents: manifest::mock(
            &name,
            version,
            &options.client.1,
            client_uses,
            REGEN_COMMAND,
        ),
    }
}
