//! Model types and the client, both produced by progenitor (and typify).

use std::panic::{AssertUnwindSafe, catch_unwind};

use openapiv3::OpenAPI;
use proc_macro2::TokenStream;
use progenitor_impl::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;

use crate::error::{CodegenError, Result};
use crate::load::Spec;
use crate::model::type_name;

/// Which optional runtime crates the model types use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeDeps {
    /// `chrono` (date-time formats).
    pub chrono: bool,
    /// `uuid` (uuid formats).
    pub uuid: bool,
    /// `regress` (patterns).
    pub regress: bool,
}

/// Output of model generation.
pub struct Models {
    /// The model module body.
    pub tokens: TokenStream,
    /// Runtime crates needed.
    pub deps: TypeDeps,
    /// Per component schema: (schema name, Rust name, impls the type has).
    pub types: Vec<(String, String, Vec<TypeImpl>)>,
}

/// The progenitor settings every generation uses (builder interface, merged
/// tags, `PartialEq` on models, `BTreeMap` for maps).
pub fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("PartialEq")
        .with_map_type("::std::collections::BTreeMap");
    settings
}

/// Runs progenitor, turning a panic into an error that names the stage.
fn run(
    stage: &'static str,
    settings: &GenerationSettings,
    api: &OpenAPI,
) -> Result<(Generator, TokenStream)> {
    let mut generator = Generator::new(settings);
    let outcome = catch_unwind(AssertUnwindSafe(|| generator.generate_tokens(api)));
    match outcome {
        Ok(Ok(tokens)) => Ok((generator, tokens)),
        Ok(Err(e)) => Err(CodegenError::Generate {
            stage,
            message: e.to_string(),
        }),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "progenitor panicked".into());
            Err(CodegenError::Generate {
                stage,
                message: format!("unsupported construct (progenitor panicked): {message}"),
            })
        }
    }
}

/// Generates the shared model types from `components/schemas` only.
pub fn models(spec: &Spec) -> Result<Models> {
    let mut api = spec.api.clone();
    api.paths = Default::default();
    // Positional: plain structs, without typify's builder module, which
    // nothing uses (the client keeps its own builder interface).
    let mut model_settings = settings();
    model_settings.with_interface(InterfaceStyle::Positional);
    let (generator, _) = run("models", &model_settings, &api)?;
    let space = generator.get_type_space();
    let names: Vec<(String, String)> = api
        .components
        .iter()
        .flat_map(|c| c.schemas.keys())
        .map(|n| (n.clone(), type_name(n)))
        .collect();
    let mut types = Vec::new();
    for (schema, rust) in names {
        let ty = space
            .iter_types()
            .find(|t| t.name() == rust)
            .ok_or_else(|| CodegenError::Generate {
                stage: "models",
                message: format!("schema {schema}: expected a type named {rust}"),
            })?;
        let impls = [TypeImpl::Default, TypeImpl::Display, TypeImpl::FromStr]
            .into_iter()
            .filter(|i| ty.has_impl(*i))
            .collect();
        types.push((schema, rust, impls));
    }
    Ok(Models {
        tokens: space.to_stream(),
        deps: TypeDeps {
            chrono: space.uses_chrono(),
            uuid: space.uses_uuid(),
            regress: space.uses_regress(),
        },
        types,
    })
}

/// Generates the client, using the shared model types from `types_crate`.
pub fn client(
    spec: &Spec,
    models: &Models,
    types_crate: &str,
    error_schema: &str,
) -> Result<TokenStream> {
    let mut settings = settings();
    let krate: TokenStream = types_crate.parse().expect("crate name is an identifier");
    for (_, rust, impls) in &models.types {
        settings.with_replacement(
            rust,
            format!("::{types_crate}::{rust}"),
            impls.iter().copied(),
        );
    }
    let (_, tokens) = run("client", &settings, &spec.api)?;
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| CodegenError::Generate {
        stage: "client",
        message: e.to_string(),
    })?;
    // Re-export the shared models through `types`, where progenitor users
    // expect them, with the types crate's `error` module (one ConversionError).
    for item in &mut file.items {
        if let syn::Item::Mod(m) = item
            && m.ident == "types"
            && let Some((_, items)) = &mut m.content
        {
            items.retain(|i| !matches!(i, syn::Item::Mod(inner) if inner.ident == "error"));
            items.insert(0, syn::parse_quote!(pub use ::#krate::*;));
        }
    }
    let base_url = spec
        .api
        .servers
        .first()
        .map(|s| s.url.clone())
        .unwrap_or_else(|| "http://localhost".into());
    let error_type = syn::Ident::new(&type_name(error_schema), proc_macro2::Span::call_site());
    Ok(quote! {
        #file

        /// The spec's first server: where [`Client::builder`] points by default.
        pub const DEFAULT_BASE_URL: &str = #base_url;

        /// The body of every documented error response.
        pub type ErrorBody = types::#error_type;
    })
}
