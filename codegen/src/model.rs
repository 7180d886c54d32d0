//! A small, generator-friendly view of the spec's operations.

use openapiv3::{Parameter, ReferenceOr, Schema, SchemaKind, StatusCode, Type};

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
    pub path_params: Vec<PathParam>,
    /// The JSON request body type, if any.
    pub body: Option<RustType>,
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

/// A path parameter and how to parse it.
#[derive(Debug, Clone)]
pub struct PathParam {
    /// Name in the template.
    pub name: String,
    /// Target type.
    pub ty: ParamType,
}

/// The types a path parameter can be parsed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `format: uuid`.
    Uuid,
    /// `type: integer`.
    Integer,
    /// Any other string.
    String,
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
}

/// One documented status of an operation.
#[derive(Debug, Clone)]
pub struct ResponseCase {
    /// The status code.
    pub status: u16,
    /// The response description.
    pub description: String,
    /// Media type and type of the body, if any.
    pub body: Option<(String, RustType)>,
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
        for (method, op) in item.iter() {
            let id = op.operation_id.clone().unwrap_or_default();
            let fail = |message: String| CodegenError::Generate {
                stage: "server",
                message: format!("{id}: {message}"),
            };
            let mut path_params = Vec::new();
            for p in item.parameters.iter().chain(op.parameters.iter()) {
                if let Some(Parameter::Path { parameter_data, .. }) =
                    validate::resolve_parameter(p, components)
                {
                    let ty = match &parameter_data.format {
                        openapiv3::ParameterSchemaOrContent::Schema(s) => param_type(s, spec),
                        _ => ParamType::String,
                    };
                    path_params.push(PathParam {
                        name: parameter_data.name.clone(),
                        ty,
                    });
                }
            }
            let order: Vec<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            path_params.sort_by_key(|p| order.iter().position(|n| *n == p.name));

            let body = match op
                .request_body
                .as_ref()
                .and_then(|b| validate::resolve_body(b, components))
                .and_then(|b| b.content.get(JSON))
                .and_then(|m| m.schema.as_ref())
            {
                Some(schema) => Some(rust_type(schema).map_err(fail)?),
                None => None,
            };

            let mut responses = Vec::new();
            for (code, response) in &op.responses.responses {
                let StatusCode::Code(status) = code else {
                    continue;
                };
                let Some(response) = validate::resolve_response(response, components) else {
                    continue;
                };
                let body = match response.content.first() {
                    Some((media, content)) => {
                        let ty = match &content.schema {
                            Some(s) if media == JSON => rust_type(s).map_err(fail)?,
                            _ => RustType::String,
                        };
                        Some((media.clone(), ty))
                    }
                    None => None,
                };
                responses.push(ResponseCase {
                    status: *status,
                    description: response.description.clone(),
                    body,
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
                body,
                security,
                responses,
            });
        }
    }
    Ok(out)
}

fn param_type(schema: &ReferenceOr<Schema>, spec: &Spec) -> ParamType {
    let schema = match schema {
        ReferenceOr::Item(s) => Some(s),
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .and_then(|n| spec.api.components.as_ref()?.schemas.get(n))
            .and_then(|s| s.as_item()),
    };
    match schema.map(|s| &s.schema_kind) {
        Some(SchemaKind::Type(Type::String(s))) => match &s.format {
            openapiv3::VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => ParamType::Uuid,
            _ => ParamType::String,
        },
        Some(SchemaKind::Type(Type::Integer(_))) => ParamType::Integer,
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
            _ => Err("inline body schemas must be a $ref to components/schemas, a string, or a free-form object".into()),
        },
    }
}
