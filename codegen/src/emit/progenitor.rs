//! Model types and the client, both produced by progenitor (and typify).

use openapiv3::OpenAPI;
use proc_macro2::TokenStream;
use progenitor_impl::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;

use super::format::parse;
use super::guard::guarded;
use super::manifest::Uses;
use crate::error::{CodegenError, Result};
use crate::names::type_name;
use crate::spec::Spec;

/// Output of model generation.
pub struct Models {
    /// The model module body.
    pub tokens: TokenStream,
    /// Runtime crates the model types use.
    pub uses: Uses,
    /// The component schemas' types, which the client's and the mocks'
    /// passes take as replacements instead of generating them again.
    pub types: Vec<ModelType>,
}

/// One component schema's type in the types crate.
#[derive(Clone)]
pub struct ModelType {
    /// Its Rust name.
    pub rust: String,
    /// The impls it has, which progenitor's code may call.
    pub impls: Vec<TypeImpl>,
}

/// [`settings`] with every model type replaced by `{prefix}{name}`: a pass
/// over the operations that names the models instead of generating them.
pub(crate) fn settings_with_models(types: &[ModelType], prefix: &str) -> GenerationSettings {
    let mut settings = settings();
    for ty in types {
        settings.with_replacement(
            &ty.rust,
            format!("{prefix}{}", ty.rust),
            ty.impls.iter().copied(),
        );
    }
    settings
}

/// The progenitor settings every generation uses (builder interface, merged
/// tags, `PartialEq` on models, `BTreeMap` for maps, `serde_json::Number`
/// for integers without bounds, see [`super::integers`]).
pub fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("PartialEq")
        .with_map_type("::std::collections::BTreeMap");
    let (schema, ty, impls) = super::integers::conversion();
    settings.with_conversion(schema, ty, impls.into_iter());
    settings
}

/// Runs progenitor, turning a panic into an error that names the stage.
fn run(
    stage: &'static str,
    settings: &GenerationSettings,
    api: &OpenAPI,
) -> Result<(Generator, TokenStream, Uses)> {
    let widened = super::integers::widened(api);
    let input = widened.api.as_ref().unwrap_or(api);
    let mut generator = Generator::new(settings);
    let tokens = guarded(stage, || generator.generate_tokens(input))?;
    let uses = uses(&generator, widened.numbers);
    Ok((generator, tokens, uses))
}

/// The runtime crates the code `generator` produced uses (`numbers`: it
/// names `serde_json::Number`, see [`super::integers`]).
fn uses(generator: &Generator, numbers: bool) -> Uses {
    let space = generator.get_type_space();
    Uses {
        chrono: space.uses_chrono(),
        uuid: space.uses_uuid(),
        regress: space.uses_regress(),
        serde_json: space.uses_serde_json() || numbers,
        websockets: generator.uses_websockets(),
    }
}

/// Removes every `default` from the schemas of a document.
fn strip_defaults(node: &mut serde_json::Value) {
    match node {
        serde_json::Value::Object(map) => {
            map.shift_remove("default");
            map.values_mut().for_each(strip_defaults);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_defaults),
        _ => {}
    }
}

/// Generates the shared model types from `components/schemas` only.
pub fn models(spec: &Spec) -> Result<Models> {
    // The document without its paths (not copied to be dropped).
    let api = OpenAPI {
        openapi: spec.api.openapi.clone(),
        info: spec.api.info.clone(),
        servers: spec.api.servers.clone(),
        paths: Default::default(),
        components: spec.api.components.clone(),
        security: spec.api.security.clone(),
        tags: spec.api.tags.clone(),
        external_docs: spec.api.external_docs.clone(),
        extensions: spec.api.extensions.clone(),
    };
    // Positional: plain structs, without typify's builder module, which
    // nothing uses (the client keeps its own builder interface).
    let mut model_settings = settings();
    model_settings.with_interface(InterfaceStyle::Positional);
    // typify refuses a `default` (or enum) value that breaks its own schema,
    // which real specs have: retry without `default`s before giving up.
    let (generator, _, uses) = match run("models", &model_settings, &api) {
        Ok(done) => done,
        Err(first) => {
            let mut raw = serde_json::to_value(&api).unwrap_or_default();
            strip_defaults(&mut raw);
            let Ok(stripped) = serde_json::from_value::<OpenAPI>(raw) else {
                return Err(first);
            };
            run("models", &model_settings, &stripped).map_err(|_| first)?
        }
    };
    let space = generator.get_type_space();
    // Each type's name once (typify computes it on every call): the first
    // type of a name is the schema's.
    let mut by_name = std::collections::HashMap::new();
    for ty in space.iter_types() {
        by_name.entry(ty.name()).or_insert(ty);
    }
    let names: Vec<(String, String)> = api
        .components
        .iter()
        .flat_map(|c| c.schemas.keys())
        .map(|n| (n.clone(), type_name(n)))
        .collect();
    let mut types = Vec::new();
    for (schema, rust) in names {
        let ty = by_name.get(&rust).ok_or_else(|| CodegenError::Generate {
            stage: "models",
            message: format!("schema {schema}: expected a type named {rust}"),
        })?;
        let impls = [TypeImpl::Default, TypeImpl::Display, TypeImpl::FromStr]
            .into_iter()
            .filter(|i| ty.has_impl(*i))
            .collect();
        types.push(ModelType { rust, impls });
    }
    Ok(Models {
        tokens: space.to_stream(),
        uses,
        types,
    })
}

/// The model types and the client in one module: progenitor's single pass
/// over `api` (the document as progenitor takes it), for a build script.
pub fn standalone(api: &OpenAPI) -> Result<(syn::File, Uses)> {
    let (_, tokens, uses) = run("client", &settings(), api)?;
    let mut file = parse("client", tokens)?;
    syn::visit_mut::VisitMut::visit_file_mut(&mut Tidy, &mut file);
    syn::visit_mut::VisitMut::visit_file_mut(&mut DistinctSetters, &mut file);
    Ok((file, uses))
}

/// Generates the client from `api` (the document as progenitor takes it,
/// see [`super::rewrite`]), using the shared model types from `types_crate`.
/// `inner_type`, when given, is the client's state type (progenitor's inner
/// type, read by the client's hooks: the retry policy). The file is handed
/// on parsed, to be formatted as it is.
pub fn client(
    api: &OpenAPI,
    models: &Models,
    types_crate: &str,
    error_schema: Option<&str>,
    inner_type: Option<&str>,
) -> Result<(syn::File, Uses)> {
    let mut settings = settings_with_models(&models.types, &format!("::{types_crate}::"));
    if let Some(inner) = inner_type {
        settings.with_inner_type(inner.parse().expect("inner type is a path"));
    }
    let krate: TokenStream = types_crate.parse().expect("crate name is an identifier");
    let (_, tokens, uses) = run("client", &settings, api)?;
    let mut file = parse("client", tokens)?;
    // progenitor marks whole modules `#[allow(clippy::all)]`: its output is
    // made to pass clippy instead (see `Tidy`).
    syn::visit_mut::VisitMut::visit_file_mut(&mut Tidy, &mut file);
    syn::visit_mut::VisitMut::visit_file_mut(&mut DistinctSetters, &mut file);
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
        // progenitor imports `super::types` into `builder` whether or not an
        // operation takes a model type (it marks its other import alike).
        if let syn::Item::Mod(m) = item
            && m.ident == "builder"
            && let Some((_, items)) = &mut m.content
            && let Some(syn::Item::Use(types_use)) = items.iter_mut().find(
                |i| matches!(i, syn::Item::Use(u) if quote!(#u).to_string() == "use super :: types ;"),
            )
        {
            types_use.attrs.push(syn::parse_quote!(#[allow(unused_imports)]));
        }
    }
    let base_url = api
        .servers
        .first()
        .map(|s| s.url.clone())
        .unwrap_or_else(|| "http://localhost".into());
    file.items.push(syn::parse_quote! {
        /// The spec's first server: where the client points by default.
        pub const DEFAULT_BASE_URL: &str = #base_url;
    });
    if let Some(name) = error_schema {
        let error_type = syn::Ident::new(&type_name(name), proc_macro2::Span::call_site());
        file.items.push(syn::parse_quote! {
            /// The body of every documented error response.
            pub type ErrorBody = types::#error_type;
        });
    }
    Ok((file, uses))
}

/// Gives builder setters names of their own. progenitor names an
/// operation builder's setter after its parameter, so a parameter called
/// `new` or `send` gives the builder two methods of that name
/// (salesloft.com, survey seed 2026). The setter, a method taking `value`,
/// gets a trailing `_` (the wire name does not change); a method that is
/// not a setter keeps its name, and of two setters the first does.
struct DistinctSetters;

impl DistinctSetters {
    /// Whether `method` is a setter: `fn name<V>(mut self, value: V)`.
    fn is_setter(method: &syn::ImplItemFn) -> bool {
        method.sig.inputs.iter().any(|arg| {
            matches!(arg, syn::FnArg::Typed(t)
                if matches!(&*t.pat, syn::Pat::Ident(p) if p.ident == "value"))
        })
    }
}

impl syn::visit_mut::VisitMut for DistinctSetters {
    fn visit_item_impl_mut(&mut self, item: &mut syn::ItemImpl) {
        let methods = || {
            item.items.iter().filter_map(|i| match i {
                syn::ImplItem::Fn(f) => Some(f),
                _ => None,
            })
        };
        let mut taken: std::collections::BTreeSet<String> = methods()
            .filter(|f| !Self::is_setter(f))
            .map(|f| f.sig.ident.to_string())
            .collect();
        for i in &mut item.items {
            let syn::ImplItem::Fn(method) = i else {
                continue;
            };
            if !Self::is_setter(method) {
                continue;
            }
            let mut name = method.sig.ident.to_string();
            if taken.contains(&name) {
                while taken.contains(&name) {
                    name.push('_');
                }
                method.sig.ident = syn::Ident::new(&name, method.sig.ident.span());
            }
            taken.insert(name);
        }
    }
}

/// Makes progenitor's client pass clippy: removes its blanket
/// `#[allow(clippy::all)]` and writes `Struct { name: name }` as
/// `Struct { name }` (`clippy::redundant_field_names`).
struct Tidy;

impl syn::visit_mut::VisitMut for Tidy {
    fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
        syn::visit_mut::visit_field_value_mut(self, field);
        if let (syn::Member::Named(name), syn::Expr::Path(path)) = (&field.member, &field.expr)
            && field.attrs.is_empty()
            && path.qself.is_none()
            && path.path.is_ident(name)
        {
            field.colon_token = None;
        }
    }

    fn visit_attributes_mut(&mut self, attrs: &mut Vec<syn::Attribute>) {
        attrs.retain(|a| {
            !(a.path().is_ident("allow")
                && a.parse_args::<syn::Path>()
                    .is_ok_and(|p| quote!(#p).to_string() == "clippy :: all"))
        });
    }
}
