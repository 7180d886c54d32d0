//! The model-types crate and the client crate (progenitor's passes), with
//! their manifests and, for a spec shaped like ours, the hand-written support.

use std::path::Path;
use std::time::Instant;

use openapiv3::OpenAPI;

use super::format::{crate_doc, example_block, header, parse, rust_files};
use super::manifest::{self, Uses};
use super::progenitor::{self, ModelType};
use super::{client_aliases, client_arms, client_hooks};
use crate::error::{CodegenError, Result};
use crate::ir::SchemeKind;
use crate::options::{GeneratedFile, Options, REGEN_COMMAND, StageTimings};
use crate::spec::Spec;

/// Configuration and error helpers emitted into the client crate, with
/// placeholders (see [`support_module`]).
const CLIENT_SUPPORT: &str = include_str!("../../templates/client_support.rs");

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

/// What the types and client crates give the rest of the generation.
pub(crate) struct ClientOutput {
    /// Both crates' files.
    pub files: Vec<GeneratedFile>,
    /// The runtime crates the client's code uses.
    pub uses: Uses,
}

/// The model types and the client, with their manifests. `models_done` is
/// handed the model types as soon as their pass is over (the mocks' pass,
/// on another thread, names them).
pub(crate) fn files(
    spec: &Spec,
    options: &Options,
    inputs: &ClientInputs<'_>,
    t: &mut StageTimings,
    models_done: impl FnOnce(&[ModelType]),
) -> Result<ClientOutput> {
    let title = &spec.api.info.title;
    let version = inputs.version;
    let started = Instant::now();
    let models = progenitor::models(spec)?;
    t.models += started.elapsed();
    models_done(&models.types);
    let started = Instant::now();
    let (mut client, client_uses) = progenitor::client(
        inputs.api,
        &models,
        inputs.types_ident,
        inputs.error_schema,
        // The client's state (retry policy) lives in the hand-written support module.
        options
            .client_extras
            .then_some("::client_runtime::ClientState"),
    )?;
    // Statuses with one outcome share one arm: fewer states in each
    // operation's future for rustc to compile (see `client_arms`).
    client_arms::merge_alike_arms(&mut client);
    // The support module's hooks override `exec` only (a test checks it).
    client_hooks::drop_noop_hooks(&mut client);
    // Parameters that read alike share one type (see `client_aliases`).
    client_aliases::alias_identical_types(&mut client);
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
        &parse("models", models.tokens)?,
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
            options.client_extras,
            REGEN_COMMAND,
        ),
    });
    let started = Instant::now();
    files.extend(client_files(spec, options, &client, version, &crate_doc)?);
    t.client += started.elapsed();
    Ok(ClientOutput {
        files,
        uses: client_uses,
    })
}

fn client_files(
    spec: &Spec,
    options: &Options,
    client: &syn::File,
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
    let docs = match &options.client_docs {
        Some(d) => format!(
            "{}\n\n{}",
            crate_doc("Async client"),
            d.docs.replace("{example}", &example_block(&d.example))
        ),
        None => format!(
            "{}\n\nConfigure once with [`Client::builder`], call operations builder-style, \
             and classify failures with [`ErrorExt`].",
            crate_doc("Async client")
        ),
    };
    let mut files: Vec<GeneratedFile> =
        rust_files(src, &docs, "client", client, &["support"])?.into();
    files.push(GeneratedFile {
        path: options.client.0.join("src/support.rs"),
        contents: format!("{}\n{}", header(), support_module(spec, options)?),
    });
    if let Some(d) = &options.client_docs {
        let base_url = spec
            .api
            .servers
            .first()
            .map_or("http://localhost", |s| s.url.as_str());
        files.push(GeneratedFile {
            path: Path::new(&options.client.0).join("README.md"),
            contents: d
                .readme
                .replace("{version}", version)
                .replace("{base_url}", base_url)
                .replace("{{", "{")
                .replace("}}", "}"),
        });
    }
    Ok(files)
}

/// The API key the client builder can send: the spec's first `apiKey`
/// security scheme carried in a header (name order), as (scheme, header).
fn api_key_scheme(spec: &Spec) -> Option<(String, String)> {
    crate::ir::schemes(spec.api.components.as_ref())
        .into_iter()
        .find_map(|s| match s.kind {
            SchemeKind::ApiKeyHeader(header) if is_header_name(&header) => Some((s.name, header)),
            _ => None,
        })
}

/// Whether `name` is a valid HTTP header name (RFC 9110 token).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// `templates/client_support.rs` for this spec and these options: the
/// client crate's name in the doc-tests, and the builder's API-key method
/// (kept between `// api-key:start` and `// api-key:end` only when the spec
/// has an API-key header scheme).
fn support_module(spec: &Spec, options: &Options) -> Result<String> {
    let method = &options.api_key_method;
    if syn::parse_str::<syn::Ident>(method).is_err() {
        return Err(CodegenError::Generate {
            stage: "client",
            message: format!("api_key_method {method:?} is not a Rust identifier"),
        });
    }
    let key = api_key_scheme(spec);
    let mut out = String::with_capacity(CLIENT_SUPPORT.len());
    let mut keep = true;
    for line in CLIENT_SUPPORT.lines() {
        match line.trim() {
            "// api-key:start" => keep = key.is_some(),
            "// api-key:end" => keep = true,
            _ if keep => {
                out.push_str(line);
                out.push('\n');
            }
            _ => {}
        }
    }
    let out = out.replace("__CLIENT__", &options.client.1.replace('-', "_"));
    Ok(match key {
        Some((scheme, header)) => out
            .replace("__API_KEY_METHOD__", method)
            .replace("__API_KEY_HEADER_LOWER__", &header.to_ascii_lowercase())
            .replace("__API_KEY_HEADER__", &header)
            .replace("__API_KEY_SCHEME__", &scheme.replace('`', "'")),
        None => out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(schemes: &str) -> Spec {
        let text = format!(
            "openapi: 3.0.3\ninfo: {{ title: t, version: '1' }}\npaths: {{}}\n\
             components:\n  securitySchemes:\n{schemes}"
        );
        Spec::parse("t.yaml", &text).unwrap()
    }

    #[test]
    fn the_api_key_method_sends_the_specs_header_scheme() {
        let options = Options {
            api_key_method: "app_key".into(),
            ..Options::named("shop")
        };
        let with = spec(
            "    cookie: { type: apiKey, in: cookie, name: sid }\n\
             \x20   key: { type: apiKey, in: header, name: X-Shop-Key }\n",
        );
        let support = support_module(&with, &options).unwrap();
        assert!(support.contains("pub fn app_key(mut self, key: impl Into<String>)"));
        assert!(support.contains(r#"self.http.api_key = Some(("x-shop-key", key.into()));"#));
        assert!(support.contains("`X-Shop-Key` header"));
        assert!(support.contains("shop_client::Client::builder()"));
        assert!(!support.contains("// api-key:"));
    }

    #[test]
    fn without_a_header_scheme_there_is_no_api_key_method() {
        let without = spec("    cookie: { type: apiKey, in: cookie, name: sid }\n");
        let support = support_module(&without, &Options::named("shop")).unwrap();
        assert!(!support.contains("api_key"), "{support}");
        assert!(!support.contains("__"), "a placeholder is left: {support}");
        assert!(support.contains("pub fn bearer_token("));
    }

    /// The operations skip the `pre` and `post` hooks (see `client_hooks`):
    /// the support module must keep their no-op defaults.
    #[test]
    fn the_support_module_keeps_the_default_pre_and_post_hooks() {
        let support: syn::File = syn::parse_str(CLIENT_SUPPORT).unwrap();
        assert!(!client_hooks::overrides_pre_or_post(&support));
        let planted = CLIENT_SUPPORT.replace("async fn exec(", "async fn post(");
        assert!(client_hooks::overrides_pre_or_post(
            &syn::parse_str(&planted).unwrap()
        ));
    }

    #[test]
    fn a_method_name_that_is_not_an_identifier_is_refused() {
        let options = Options {
            api_key_method: "app-key".into(),
            ..Options::named("shop")
        };
        let with = spec("    key: { type: apiKey, in: header, name: X-Shop-Key }\n");
        assert!(support_module(&with, &options).is_err());
    }
}
