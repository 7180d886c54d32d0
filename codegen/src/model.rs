//! A small, generator-friendly view of the spec's operations.

use openapiv3::{Parameter, ReferenceOr, Schema, SchemaKind, StatusCode, Type};

pub use stub_runtime::ArrayStyle;

use crate::error::{CodegenError, Result};
use crate::load::Spec;
use crate::validate::{self, JSON};

/// One operation, as the server generator needs it.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The operationId (snake_case).
    pub id: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Path template, OpenAPI style (`/users/{user}`).
    pub path: String,
    /// Doc text: summary and description.
    pub doc: String,
    /// Path parameters in template order.
    pub path_params: Vec<Param>,
    /// Query parameters, in spec order.
    pub query_params: Vec<Param>,
    /// Header parameters, in spec order.
    pub header_params: Vec<Param>,
    /// The request body, if any.
    pub body: Option<Body>,
    /// The security requirement: alternatives, each a set of scheme names
    /// that must all be present. Empty: no security. An empty alternative:
    /// anonymous callers allowed.
    pub security: Vec<Vec<String>>,
    /// Documented responses, ordered by status.
    pub responses: Vec<ResponseCase>,
}

/// A security scheme of the spec, as the router takes it from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    /// Name in `components/securitySchemes`.
    pub name: String,
    /// How the credential travels.
    pub kind: SchemeKind,
}

/// Where a credential is carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeKind {
    /// `Authorization: Bearer <token>` (oauth2, openIdConnect, http bearer).
    Bearer,
    /// An API key in the named request header.
    ApiKeyHeader(String),
}

/// The security schemes the operations use, in name order. The spec must
/// already be validated.
pub fn schemes(spec: &Spec) -> Vec<Scheme> {
    let Some(components) = spec.api.components.as_ref() else {
        return Vec::new();
    };
    components
        .security_schemes
        .iter()
        .filter_map(|(name, scheme)| {
            let kind = match scheme.as_item()? {
                s if validate::is_bearer(s) => SchemeKind::Bearer,
                openapiv3::SecurityScheme::APIKey {
                    location: openapiv3::APIKeyLocation::Header,
                    name: header,
                    ..
                } => SchemeKind::ApiKeyHeader(header.clone()),
                _ => return None,
            };
            Some(Scheme {
                name: name.clone(),
                kind,
            })
        })
        .collect()
}

/// A parameter and how to parse it.
#[derive(Debug, Clone)]
pub struct Param {
    /// Name on the wire (template segment, query key or header name).
    pub name: String,
    /// Rust field or argument name (snake_case, never a keyword).
    pub field: String,
    /// Type of one value.
    pub ty: ParamType,
    /// `Some(style)` for an array of values.
    pub array: Option<ArrayStyle>,
    /// Whether the request must carry it (path parameters always do).
    pub required: bool,
    /// The schema's `default`, applied when the parameter is absent.
    pub default: Option<serde_json::Value>,
}

/// The types a parameter value can be parsed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `format: uuid`.
    Uuid,
    /// `type: integer`.
    Integer,
    /// `type: number`.
    Number,
    /// `type: boolean`.
    Boolean,
    /// Any other string.
    String,
}

/// A request body: how it is encoded and what it decodes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// The media type the router accepts.
    pub media: String,
    /// How the body is read.
    pub kind: BodyKind,
    /// Its Rust type.
    pub ty: RustType,
    /// Other media types the operation lists that decode into the same type,
    /// accepted too (a JSON body also sent as a form, say). Media types whose
    /// type differs are linted and refused with 415.
    pub also: Vec<(String, BodyKind)>,
}

/// The ways a request body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// JSON (any `application/json` or `+json` media type).
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `text/*`: a string.
    Text,
    /// Anything else (`application/octet-stream`, `*/*`): raw bytes.
    Bytes,
}

/// The status a documented response is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// One status code.
    Code(u16),
    /// A range: `4XX` is `Range(4)`.
    Range(u16),
    /// `default`: any status not documented otherwise.
    Default,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Code(code) => write!(f, "{code}"),
            Self::Range(hundreds) => write!(f, "{hundreds}XX"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// A Rust type named by its path relative to the generated crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustType {
    /// A component schema, by its Rust name.
    Model(String),
    /// A free-form JSON value.
    Json,
    /// A string.
    String,
    /// Raw bytes.
    Bytes,
}

/// One documented status of an operation.
#[derive(Debug, Clone)]
pub struct ResponseCase {
    /// The status (code, range or default).
    pub status: Status,
    /// The response description.
    pub description: String,
    /// Media type and type of the body, if any.
    pub body: Option<(String, RustType)>,
    /// Whether it documents response headers the implementation sets
    /// (`WWW-Authenticate` aside: the router adds that one to every 401).
    pub has_headers: bool,
    /// For a response listing several media types, every one but the
    /// preferred gets its own case: this is its variant suffix (`TextHtml`).
    pub media_variant: Option<String>,
}

/// Converts a component schema name into the Rust type name typify gives it.
pub fn type_name(schema: &str) -> String {
    use heck::ToPascalCase;
    schema.replace('\'', "").to_pascal_case()
}

/// Builds the operation list. The spec must already be validated.
pub fn operations(spec: &Spec) -> Result<Vec<Operation>> {
    let api = &spec.api;
    let components = api.components.as_ref();
    let mut out = Vec::new();
    for (path, item) in api.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        if !validate::is_routable(path) {
            continue; // linted: the server stubs leave it out
        }
        for (method, op) in item.iter() {
            let id = op.operation_id.clone().unwrap_or_default();
            let fail = |message: String| CodegenError::Generate {
                stage: "server",
                message: format!("{id}: {message}"),
            };
            let (mut path_params, mut query_params, mut header_params) =
                (Vec::new(), Vec::new(), Vec::new());
            for p in item.parameters.iter().chain(op.parameters.iter()) {
                let Some(param) = validate::resolve_parameter(p, components) else {
                    continue;
                };
                match param {
                    Parameter::Path { parameter_data, .. } => {
                        path_params.push(param_of(parameter_data, None, true, spec));
                    }
                    Parameter::Query {
                        style: openapiv3::QueryStyle::DeepObject,
                        ..
                    } => {} // linted: left to the implementation
                    Parameter::Query {
                        parameter_data,
                        style,
                        ..
                    } => {
                        let style = match style {
                            openapiv3::QueryStyle::SpaceDelimited => ArrayStyle::SpaceDelimited,
                            openapiv3::QueryStyle::PipeDelimited => ArrayStyle::PipeDelimited,
                            _ if parameter_data.explode == Some(false) => ArrayStyle::FormCommas,
                            _ => ArrayStyle::FormExploded,
                        };
                        let required = parameter_data.required;
                        query_params.push(param_of(parameter_data, Some(style), required, spec));
                    }
                    Parameter::Header { parameter_data, .. } => {
                        let required = parameter_data.required;
                        let style = Some(ArrayStyle::FormCommas);
                        header_params.push(param_of(parameter_data, style, required, spec));
                    }
                    Parameter::Cookie { .. } => {}
                }
            }
            let order: Vec<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            path_params.sort_by_key(|p| order.iter().position(|n| *n == p.name));

            let request_body = op
                .request_body
                .as_ref()
                .and_then(|b| validate::resolve_body(b, components));
            let body = match request_body.and_then(|b| preferred_media(&b.content)) {
                Some((media, content)) => {
                    let kind = body_kind(media);
                    let ty = body_type(media, content).map_err(fail)?;
                    let also = request_body
                        .into_iter()
                        .flat_map(|b| b.content.iter())
                        .filter(|(other, content)| {
                            *other != media && body_type(other, content).as_ref() == Ok(&ty)
                        })
                        .map(|(other, _)| (other.clone(), body_kind(other)))
                        .collect();
                    Some(Body {
                        media: media.clone(),
                        kind,
                        ty,
                        also,
                    })
                }
                None => None,
            };

            let mut responses = Vec::new();
            let documented = op
                .responses
                .responses
                .iter()
                .map(|(code, r)| {
                    let status = match code {
                        StatusCode::Code(c) => Status::Code(*c),
                        StatusCode::Range(r) => Status::Range(*r),
                    };
                    (status, r)
                })
                .chain(op.responses.default.iter().map(|r| (Status::Default, r)));
            for (status, response) in documented {
                let Some(response) = validate::resolve_response(response, components) else {
                    continue;
                };
                let has_headers = response
                    .headers
                    .keys()
                    .any(|h| !h.eq_ignore_ascii_case("www-authenticate"));
                let preferred = preferred_media(&response.content).map(|(media, _)| media);
                let mut case = ResponseCase {
                    status,
                    description: response.description.clone(),
                    body: None,
                    has_headers,
                    media_variant: None,
                };
                if preferred.is_none() {
                    responses.push(case.clone());
                }
                // The preferred media type first, then the others in spec order.
                let listed = response
                    .content
                    .iter()
                    .filter(|(media, _)| Some(*media) == preferred)
                    .chain(
                        response
                            .content
                            .iter()
                            .filter(|(media, _)| Some(*media) != preferred),
                    );
                let mut suffixes = Vec::new();
                for (media, content) in listed {
                    let suffix = (Some(media) != preferred).then(|| media_variant(media));
                    if let Some(suffix) = &suffix {
                        // Two media types with one essence (`text/html` with
                        // and without `charset`): the first answers for both.
                        if suffixes.contains(suffix)
                            || media_essence(media)
                                == preferred.map(|p| media_essence(p)).unwrap_or_default()
                        {
                            continue;
                        }
                        suffixes.push(suffix.clone());
                    }
                    let ty = match (body_kind(media), &content.schema) {
                        (BodyKind::Json, Some(s)) => rust_type(s).map_err(fail)?,
                        (BodyKind::Json, None) => RustType::Json,
                        (BodyKind::Bytes, _) => RustType::Bytes,
                        _ => RustType::String,
                    };
                    case.body = Some((media.clone(), ty));
                    case.media_variant = suffix;
                    responses.push(case.clone());
                }
            }
            if responses.is_empty() {
                // `responses: {}`: the implementation picks any status.
                responses.push(ResponseCase {
                    status: Status::Default,
                    description: "No response is documented: any status, without a body.".into(),
                    body: None,
                    has_headers: false,
                    media_variant: None,
                });
            }
            responses.sort_by_key(|r| r.status);

            let security = op
                .security
                .iter()
                .flatten()
                .map(|r| r.keys().cloned().collect())
                .collect();

            let doc = [op.summary.as_deref(), op.description.as_deref()]
                .into_iter()
                .flatten()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("\n\n");

            out.push(Operation {
                id,
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                doc,
                path_params,
                query_params,
                header_params,
                body,
                security,
                responses,
            });
        }
    }
    Ok(out)
}

/// The Rust type a request body of `media` decodes into.
pub fn body_type(
    media: &str,
    content: &openapiv3::MediaType,
) -> std::result::Result<RustType, String> {
    Ok(match (body_kind(media), &content.schema) {
        (BodyKind::Text, _) => RustType::String,
        (BodyKind::Bytes, _) => RustType::Bytes,
        (_, Some(schema)) => rust_type(schema)?,
        (_, None) => RustType::Json,
    })
}

/// The variant suffix of a response's additional media type: `text/html` -> `TextHtml`.
pub fn media_variant(media: &str) -> String {
    use heck::ToPascalCase;
    let name: String = media_essence(media)
        .replace('*', "any")
        .to_pascal_case()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if name.is_empty() {
        "Other".into()
    } else {
        name
    }
}

/// The media type the generators use when several are listed: JSON first,
/// then form, text, and anything else in spec order.
pub fn preferred_media(content: &openapiv3::Content) -> Option<(&String, &openapiv3::MediaType)> {
    let rank = |media: &str| match body_kind(media) {
        BodyKind::Json => 0,
        BodyKind::Form => 1,
        BodyKind::Text => 2,
        BodyKind::Bytes => 3,
    };
    content.iter().min_by_key(|(media, _)| rank(media))
}

/// A media type without its parameters, lower case (`text/plain; charset=x` -> `text/plain`).
pub fn media_essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// How a media type is read and written.
pub fn body_kind(media: &str) -> BodyKind {
    let essence = media_essence(media);
    if essence == JSON || essence.ends_with("+json") {
        BodyKind::Json
    } else if essence == "application/x-www-form-urlencoded" {
        BodyKind::Form
    } else if essence.starts_with("text/") || essence.ends_with("yaml") {
        BodyKind::Text
    } else {
        BodyKind::Bytes
    }
}

/// A Rust identifier for a wire name: snake_case, never a keyword.
pub fn field_name(name: &str) -> String {
    use heck::ToSnakeCase;
    let mut field: String = name
        .to_snake_case()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if field.is_empty() || field.starts_with(|c: char| c.is_ascii_digit()) {
        field.insert(0, '_');
    }
    if syn::parse_str::<syn::Ident>(&field).is_err() {
        field.push('_');
    }
    field
}

fn param_of(
    data: &openapiv3::ParameterData,
    style: Option<ArrayStyle>,
    required: bool,
    spec: &Spec,
) -> Param {
    let (ty, array, default) = match &data.format {
        openapiv3::ParameterSchemaOrContent::Schema(schema) => {
            let resolved = resolve_schema(schema, spec.api.components.as_ref());
            match resolved.map(|s| &s.schema_kind) {
                Some(SchemaKind::Type(Type::Array(a))) => {
                    let item = a
                        .items
                        .as_ref()
                        .map(|i| i.clone().unbox())
                        .map_or(ParamType::String, |i| param_type(&i, spec));
                    (item, style, None)
                }
                _ => (
                    param_type(schema, spec),
                    None,
                    resolved.and_then(|s| s.schema_data.default.clone()),
                ),
            }
        }
        _ => (ParamType::String, None, None),
    };
    Param {
        name: data.name.clone(),
        field: field_name(&data.name),
        ty,
        array,
        required,
        default,
    }
}

/// A schema, or the component schema its `$ref` names.
pub(crate) fn resolve_schema<'a>(
    schema: &'a ReferenceOr<Schema>,
    components: Option<&'a openapiv3::Components>,
) -> Option<&'a Schema> {
    match schema {
        ReferenceOr::Item(s) => Some(s),
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .and_then(|n| components?.schemas.get(n))
            .and_then(|s| s.as_item()),
    }
}

fn param_type(schema: &ReferenceOr<Schema>, spec: &Spec) -> ParamType {
    match resolve_schema(schema, spec.api.components.as_ref()).map(|s| &s.schema_kind) {
        Some(SchemaKind::Type(Type::String(s))) => match &s.format {
            openapiv3::VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => ParamType::Uuid,
            _ => ParamType::String,
        },
        Some(SchemaKind::Type(Type::Integer(_))) => ParamType::Integer,
        Some(SchemaKind::Type(Type::Number(_))) => ParamType::Number,
        Some(SchemaKind::Type(Type::Boolean(_))) => ParamType::Boolean,
        _ => ParamType::String,
    }
}

fn rust_type(schema: &ReferenceOr<Schema>) -> std::result::Result<RustType, String> {
    match schema {
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .map(|name| RustType::Model(type_name(name)))
            .ok_or_else(|| format!("unsupported schema reference {reference}")),
        ReferenceOr::Item(s) => match &s.schema_kind {
            SchemaKind::Type(Type::String(_)) => Ok(RustType::String),
            SchemaKind::Type(Type::Object(o)) if o.properties.is_empty() => Ok(RustType::Json),
            SchemaKind::Any(_) => Ok(RustType::Json),
            // Anything else left inline (behind a `$ref`ed request body, say)
            // is taken as free-form JSON.
            _ => Ok(RustType::Json),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_media_types_name_their_variants() {
        assert_eq!(media_variant("text/html; charset=utf-8"), "TextHtml");
        assert_eq!(
            media_variant("application/problem+json"),
            "ApplicationProblemJson"
        );
        assert_eq!(media_variant("*/*"), "AnyAny");
        assert_eq!(media_variant(";"), "Other");
    }
}
