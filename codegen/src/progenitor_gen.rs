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
    let tokens = guarded(stage, || generator.generate_tokens(api))?;
    Ok((generator, tokens))
}

/// Runs one progenitor call; its error or panic becomes an error that names
/// the stage.
pub(crate) fn guarded<T>(
    stage: &'static str,
    f: impl FnOnce() -> std::result::Result<T, progenitor_impl::Error>,
) -> Result<T> {
    // A progenitor panic becomes an error below; keep the default hook from
    // printing it as if the generator had crashed.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    match outcome {
        Ok(Ok(out)) => Ok(out),
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

/// Removes every `default` from the schemas of a document.
fn strip_defaults(node: &mut serde_json::Value) {
    match node {
        serde_json::Value::Object(map) => {
            map.remove("default");
            map.values_mut().for_each(strip_defaults);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_defaults),
        _ => {}
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
    // typify refuses a `default` (or enum) value that breaks its own schema,
    // which real specs have: retry without `default`s before giving up.
    let (generator, _) = match run("models", &model_settings, &api) {
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

/// The document as progenitor takes it: it sends query arrays only in the
/// `form`, exploded style, so an array in another style is handed over as one
/// string the caller joins, with a note saying so on the method.
pub(crate) fn for_progenitor(api: &OpenAPI) -> OpenAPI {
    use openapiv3::ReferenceOr;
    let mut api = api.clone();
    // Bodies and responses shared through `components` are inlined, so the
    // rewrites below see every one of them.
    inline_shared_bodies(&mut api);
    let components = api.components.clone();
    for item in api.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        // progenitor calls `reqwest::Client::options`/`trace`, which do not
        // exist: the client leaves OPTIONS and TRACE operations out.
        item.options = None;
        item.trace = None;
        let shared: Vec<String> = item
            .parameters
            .iter_mut()
            .filter_map(|p| joined_string(p, components.as_ref()))
            .collect();
        for (_, op) in crate::normalize::operations_mut(item) {
            let mut notes = shared.clone();
            notes.extend(drop_deep_objects(op, components.as_ref()));
            notes.extend(
                op.parameters
                    .iter_mut()
                    .filter_map(|p| joined_string(p, components.as_ref())),
            );
            notes.extend(upgrade_note(op));
            notes.extend(one_request_media(op));
            notes.extend(raw_when_several_media(op));
            notes.extend(drop_second_success_body(op, components.as_ref()));
            notes.extend(one_body_per_outcome(op, components.as_ref()));
            notes.extend(media_progenitor_sends(op));
            if !notes.is_empty() {
                let text = op.description.take().unwrap_or_default();
                op.description = Some(
                    format!("{text}\n\nNote (generator): {}", notes.join(" "))
                        .trim()
                        .to_string(),
                );
            }
        }
    }
    api
}

/// A `101` response: progenitor returns the upgraded connection, but sends
/// the upgrade request headers only for dropshot's websocket extension.
fn upgrade_note(op: &openapiv3::Operation) -> Option<String> {
    let upgrades = op
        .responses
        .responses
        .contains_key(&openapiv3::StatusCode::Code(101));
    (upgrades && !op.extensions.contains_key("x-dropshot-websocket")).then(|| {
        "A `101` answer is returned as the upgraded connection (`reqwest::Upgraded`). The server switches only when the request asks to (`Connection: upgrade`, `Upgrade: <protocol>`), which this method does not send: give the client a `reqwest::Client` with those default headers (`Client::new_with_client`).".to_string()
    })
}

/// progenitor takes one request media type: its copy keeps the preferred
/// one; the note names the others the server stubs also accept.
fn one_request_media(op: &mut openapiv3::Operation) -> Option<String> {
    let openapiv3::ReferenceOr::Item(body) = op.request_body.as_mut()? else {
        return None;
    };
    if body.content.len() < 2 {
        return None;
    }
    let (media, kept) =
        crate::model::preferred_media(&body.content).map(|(m, c)| (m.clone(), c.clone()))?;
    let ty = crate::model::body_type(&media, &kept);
    let (accepted, refused): (Vec<_>, Vec<_>) = body
        .content
        .iter()
        .filter(|(other, _)| **other != media)
        .partition(|(other, content)| crate::model::body_type(other, content) == ty);
    let accepted: Vec<&String> = accepted.into_iter().map(|(m, _)| m).collect();
    let refused: Vec<&String> = refused.into_iter().map(|(m, _)| m).collect();
    let list = |media: Vec<&String>| {
        media
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut note =
        format!("The request body lists several media types; this client sends `{media}`.");
    if !accepted.is_empty() {
        note.push_str(&format!(
            " The server stubs also accept {} (same type).",
            list(accepted)
        ));
    }
    if !refused.is_empty() {
        note.push_str(&format!(
            " {} decode into another type: neither this client nor the server stubs use them.",
            list(refused)
        ));
    }
    body.content.clear();
    body.content.insert(media, kept);
    Some(note)
}

/// progenitor types a response by its `application/json` body alone: a
/// response that also lists other media types is handed over without the
/// JSON one, so the client returns its raw body whatever was sent.
fn raw_when_several_media(op: &mut openapiv3::Operation) -> Vec<String> {
    use crate::model::{BodyKind, body_kind};
    let mut notes = Vec::new();
    for (code, response) in crate::normalize::responses_mut(op) {
        let openapiv3::ReferenceOr::Item(response) = response else {
            continue;
        };
        let json = response
            .content
            .keys()
            .any(|m| body_kind(m) == BodyKind::Json);
        let other = response
            .content
            .keys()
            .any(|m| body_kind(m) != BodyKind::Json);
        if !(json && other) {
            continue;
        }
        let listed: Vec<String> = response.content.keys().map(|m| format!("`{m}`")).collect();
        notes.push(format!(
            "Response {code} is {}: the client returns its raw body (`ByteStream`); its `Content-Type` (`ResponseValue::headers`) says which was sent.",
            listed.join(" or ")
        ));
        response
            .content
            .retain(|m, _| body_kind(m) != BodyKind::Json);
    }
    notes
}

/// progenitor counts a `default` response as a success too, and takes one
/// success body: a `default` whose body differs from the 2xx one is left out
/// of its copy, so the client returns it as an unexpected response.
fn drop_second_success_body(
    op: &mut openapiv3::Operation,
    components: Option<&openapiv3::Components>,
) -> Option<String> {
    let body_of = |r: &openapiv3::ReferenceOr<openapiv3::Response>| {
        crate::validate::resolve_response(r, components).and_then(|r| {
            r.content
                .first()
                .map(|(m, c)| (m.clone(), c.schema.clone()))
        })
    };
    let default = op.responses.default.as_ref().map(body_of)?;
    let success = op
        .responses
        .responses
        .iter()
        .find(|(code, _)| code.to_string().starts_with('2'))
        .map(|(_, r)| body_of(r))?;
    if success.is_none() || default == success {
        return None;
    }
    op.responses.default = None;
    Some("The `default` response is returned as `Error::UnexpectedResponse`.".into())
}

/// progenitor takes one success body and one error body per operation: in
/// its copy, responses whose body differs from the first of their kind are
/// left out, so the client returns them as unexpected responses.
fn one_body_per_outcome(
    op: &mut openapiv3::Operation,
    components: Option<&openapiv3::Components>,
) -> Vec<String> {
    let body_of = |r: &openapiv3::ReferenceOr<openapiv3::Response>| {
        crate::validate::resolve_response(r, components).and_then(|r| {
            r.content
                .first()
                .map(|(m, c)| (m.clone(), c.schema.clone()))
        })
    };
    let mut first: [Option<Option<_>>; 2] = [None, None];
    let mut dropped = Vec::new();
    op.responses.responses.retain(|code, response| {
        let kind = usize::from(!code.to_string().starts_with('2'));
        let body = body_of(response);
        match &first[kind] {
            None => {
                first[kind] = Some(body);
                true
            }
            Some(seen) if *seen == body => true,
            Some(_) => {
                dropped.push(code.to_string());
                false
            }
        }
    });
    if dropped.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "Responses {} have a body of another type than the first of their kind; they are returned as `Error::UnexpectedResponse`.",
        dropped.join(", ")
    )]
}

/// Replaces `$ref`s to `components/requestBodies` and `components/responses`
/// in operations by copies of what they point at.
fn inline_shared_bodies(api: &mut OpenAPI) {
    use openapiv3::ReferenceOr;
    let Some(components) = api.components.clone() else {
        return;
    };
    for item in api.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (_, op) in crate::normalize::operations_mut(item) {
            if let Some(body) = &mut op.request_body
                && let Some(resolved) = crate::validate::resolve_body(body, Some(&components))
            {
                *body = ReferenceOr::Item(resolved.clone());
            }
            for response in op
                .responses
                .responses
                .values_mut()
                .chain(op.responses.default.as_mut())
            {
                if let Some(resolved) =
                    crate::validate::resolve_response(response, Some(&components))
                {
                    *response = ReferenceOr::Item(resolved.clone());
                }
            }
        }
    }
}

/// progenitor sends JSON, form, `text/plain` and `application/octet-stream`
/// request bodies and types JSON responses only by `application/json`: in
/// its copy, other JSON types become `application/json`, other text
/// `text/plain`, anything else `application/octet-stream`.
fn media_progenitor_sends(op: &mut openapiv3::Operation) -> Vec<String> {
    use crate::model::{BodyKind, body_kind};
    let mut notes = Vec::new();
    if let Some(openapiv3::ReferenceOr::Item(body)) = &mut op.request_body {
        let renamed: Vec<(String, openapiv3::MediaType)> = body
            .content
            .drain(..)
            .map(|(media, content)| {
                let essence = crate::model::media_essence(&media);
                let sent = match body_kind(&media) {
                    BodyKind::Json => "application/json",
                    BodyKind::Form => "application/x-www-form-urlencoded",
                    BodyKind::Text if essence == "text/x-markdown" => "text/x-markdown",
                    BodyKind::Text => "text/plain",
                    BodyKind::Bytes => "application/octet-stream",
                };
                if essence != sent {
                    notes.push(format!("The `{media}` request body is sent as `{sent}`."));
                }
                let mut content = content;
                if !content.encoding.is_empty() {
                    notes.push(format!(
                        "Per-field encodings of the `{media}` body are not applied."
                    ));
                    content.encoding.clear();
                }
                if sent.starts_with("text/") {
                    // progenitor takes a text body only as an inline string.
                    content.schema = Some(openapiv3::ReferenceOr::Item(
                        serde_json::from_value(serde_json::json!({"type": "string"}))
                            .expect("a string schema"),
                    ));
                }
                if sent == "application/octet-stream" {
                    // progenitor takes a binary body only as an inline binary string.
                    content.schema = Some(openapiv3::ReferenceOr::Item(
                        serde_json::from_value(
                            serde_json::json!({"type": "string", "format": "binary"}),
                        )
                        .expect("a binary string schema"),
                    ));
                }
                (sent.to_string(), content)
            })
            .collect();
        body.content.extend(renamed);
    }
    for response in op
        .responses
        .responses
        .values_mut()
        .chain(op.responses.default.as_mut())
    {
        if let openapiv3::ReferenceOr::Item(response) = response {
            let renamed: Vec<_> = response
                .content
                .drain(..)
                .map(|(media, content)| match body_kind(&media) {
                    BodyKind::Json => ("application/json".to_string(), content),
                    _ => (media, content),
                })
                .collect();
            response.content.extend(renamed);
        }
    }
    notes
}

/// Whether a schema (or what its `$ref` names) is an object or a composition.
fn is_object(
    schema: &openapiv3::ReferenceOr<openapiv3::Schema>,
    components: Option<&openapiv3::Components>,
) -> bool {
    let resolved = crate::model::resolve_schema(schema, components);
    resolved.is_some_and(|s| {
        matches!(
            s.schema_kind,
            openapiv3::SchemaKind::Type(openapiv3::Type::Object(_))
                | openapiv3::SchemaKind::AllOf { .. }
                | openapiv3::SchemaKind::OneOf { .. }
                | openapiv3::SchemaKind::AnyOf { .. }
        )
    })
}

/// progenitor cannot send `deepObject` query parameters: its copy leaves
/// them out.
fn drop_deep_objects(
    op: &mut openapiv3::Operation,
    components: Option<&openapiv3::Components>,
) -> Vec<String> {
    let mut notes = Vec::new();
    op.parameters.retain(
        |p| match crate::validate::resolve_parameter(p, components) {
            Some(openapiv3::Parameter::Query {
                parameter_data,
                style: openapiv3::QueryStyle::DeepObject,
                ..
            }) => {
                notes.push(format!(
                    "The deepObject query parameter `{}` is not sent by this client.",
                    parameter_data.name
                ));
                false
            }
            _ => true,
        },
    );
    notes
}

/// Turns a query array in a style progenitor cannot send into a string
/// parameter; returns the note for the method's docs.
fn joined_string(
    param: &mut openapiv3::ReferenceOr<openapiv3::Parameter>,
    components: Option<&openapiv3::Components>,
) -> Option<String> {
    use openapiv3::{Parameter, ParameterSchemaOrContent, QueryStyle, ReferenceOr};
    if let Some(Parameter::Path { parameter_data, .. }) =
        crate::validate::resolve_parameter(param, components)
        && let ParameterSchemaOrContent::Schema(schema) = &parameter_data.format
        && is_object(schema, components)
    {
        // A path parameter typed as an object: progenitor would format it
        // with `Display`, which model structs lack. Send it as a string.
        let mut data = parameter_data.clone();
        let note = format!("The path parameter `{}` is sent as a string.", data.name);
        data.format = ParameterSchemaOrContent::Schema(ReferenceOr::Item(
            serde_json::from_value(serde_json::json!({"type": "string"})).expect("a string schema"),
        ));
        *param = ReferenceOr::Item(Parameter::Path {
            parameter_data: data,
            style: openapiv3::PathStyle::Simple,
        });
        return Some(note);
    }
    let Parameter::Query {
        parameter_data,
        style,
        ..
    } = crate::validate::resolve_parameter(param, components)?.clone()
    else {
        return None;
    };
    let separator = match style {
        QueryStyle::SpaceDelimited => "a space",
        QueryStyle::PipeDelimited => "`|`",
        QueryStyle::Form if parameter_data.explode == Some(false) => "`,`",
        _ => return None,
    };
    let mut data = parameter_data;
    let note = format!(
        "`{}` is sent as one string: join its items with {separator}.",
        data.name
    );
    data.format = ParameterSchemaOrContent::Schema(ReferenceOr::Item(
        serde_json::from_value(serde_json::json!({"type": "string"})).expect("a string schema"),
    ));
    data.explode = None;
    *param = ReferenceOr::Item(Parameter::Query {
        parameter_data: data,
        allow_reserved: false,
        style: QueryStyle::Form,
        allow_empty_value: None,
    });
    Some(note)
}

/// Generates the client, using the shared model types from `types_crate`.
/// `inner_type`, when given, is the client's state type (progenitor's inner
/// type, read by the client's hooks: the retry policy).
pub fn client(
    spec: &Spec,
    models: &Models,
    types_crate: &str,
    error_schema: Option<&str>,
    inner_type: Option<&str>,
) -> Result<TokenStream> {
    let mut settings = settings();
    if let Some(inner) = inner_type {
        settings.with_inner_type(inner.parse().expect("inner type is a path"));
    }
    let krate: TokenStream = types_crate.parse().expect("crate name is an identifier");
    for (_, rust, impls) in &models.types {
        settings.with_replacement(
            rust,
            format!("::{types_crate}::{rust}"),
            impls.iter().copied(),
        );
    }
    let (_, tokens) = run("client", &settings, &for_progenitor(&spec.api))?;
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
    let error_body = error_schema.map(|name| {
        let error_type = syn::Ident::new(&type_name(name), proc_macro2::Span::call_site());
        quote! {
            /// The body of every documented error response.
            pub type ErrorBody = types::#error_type;
        }
    });
    Ok(quote! {
        #file

        /// The spec's first server: where the client points by default.
        pub const DEFAULT_BASE_URL: &str = #base_url;

        #error_body
    })
}
