//! Checks HTTP traffic against `spec/users.yaml`: documented status, content
//! type, required headers and body schema for responses; body schema and
//! parameter formats for requests.
//!
//! The operations come from the code generator's own model
//! ([`users_api_codegen::model::operations`]), the same one the router is
//! generated from, and paths are matched with `matchit`, the matcher axum
//! routes with. Only the schemas are this module's own work: OpenAPI 3.0
//! schemas are converted to JSON Schema (draft 7) and compiled.

use std::collections::BTreeMap;

use jsonschema::Validator;
use openapiv3::{Components, ReferenceOr, Response, StatusCode};
use serde_json::{Map, Value, json};
use users_api_codegen::Spec;
use users_api_codegen::model::{self, Operation, ParamType, Status};
use users_api_codegen::validate::{resolve_body, resolve_response};

pub use crate::files::workspace_root;

/// One documented response: its media type, body schema and required headers.
struct ResponseSpec {
    media_type: Option<String>,
    schema: Option<Validator>,
    headers: Vec<String>,
}

/// One operation, compiled for checking.
struct OperationSpec {
    op: Operation,
    request: Option<(String, Validator)>,
    responses: BTreeMap<Status, ResponseSpec>,
}

/// What a request looked like, for checking.
pub struct Exchange<'a> {
    /// HTTP method, upper case.
    pub method: &'a str,
    /// Path without query.
    pub path: &'a str,
    /// Request `Content-Type`, if any.
    pub request_content_type: Option<&'a str>,
    /// Request body.
    pub request_body: &'a [u8],
    /// Response status.
    pub status: u16,
    /// Response `Content-Type`, if any.
    pub response_content_type: Option<&'a str>,
    /// Response header names (lower case).
    pub response_headers: Vec<String>,
    /// Response `Allow` header, if any.
    pub allow: Option<&'a str>,
    /// Response body.
    pub response_body: &'a [u8],
}

/// The spec, compiled for checking.
pub struct SpecValidator {
    operations: Vec<OperationSpec>,
    /// Path template → indexes into `operations`.
    paths: matchit::Router<Vec<usize>>,
    error: Validator,
    compiler: Compiler,
}

/// Converts an OpenAPI 3.0 schema into JSON Schema. `strict` forbids
/// properties the spec does not declare, so a misnamed field is caught.
pub fn to_json_schema(node: &Value, strict: bool) -> Value {
    match node {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                match k.as_str() {
                    "$ref" => {
                        let target = v.as_str().unwrap_or_default();
                        out.insert(
                            k.clone(),
                            json!(target.replace("#/components/schemas/", "#/definitions/")),
                        );
                    }
                    "nullable" | "example" | "examples" | "discriminator" | "xml"
                    | "externalDocs" | "deprecated" => {}
                    k if k.starts_with("x-") => {}
                    "properties" => {
                        let props: Map<String, Value> = v
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(name, s)| (name.clone(), to_json_schema(s, strict)))
                            .collect();
                        out.insert(k.into(), Value::Object(props));
                    }
                    _ => {
                        out.insert(k.clone(), to_json_schema(v, strict));
                    }
                }
            }
            if map.get("nullable") == Some(&Value::Bool(true))
                && let Some(Value::String(t)) = map.get("type")
            {
                out.insert("type".into(), json!([t, "null"]));
            }
            if strict && map.contains_key("properties") && !map.contains_key("additionalProperties")
            {
                out.insert("additionalProperties".into(), json!(false));
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| to_json_schema(v, strict)).collect())
        }
        other => other.clone(),
    }
}

/// Compiles OpenAPI schemas into validators that share the component schemas.
struct Compiler {
    definitions: Value,
}

impl Compiler {
    fn new(components: Option<&Components>) -> Self {
        let schemas = components.map(|c| &c.schemas);
        let schemas = serde_json::to_value(schemas).expect("schemas serialize");
        Self {
            definitions: to_json_schema(&schemas, true),
        }
    }

    /// A validator for an OpenAPI schema, given as JSON.
    fn compile(&self, schema: &Value) -> Validator {
        let mut root = to_json_schema(schema, true);
        if let Value::Object(m) = &mut root {
            m.insert("definitions".into(), self.definitions.clone());
        } else {
            root = json!({ "allOf": [root], "definitions": self.definitions.clone() });
        }
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&root)
            .expect("spec schema compiles")
    }

    /// The validator for the schema of `media` in a `content` map.
    fn content(&self, content: &openapiv3::Content, media: &str) -> Option<Validator> {
        let schema = content.get(media)?.schema.as_ref()?;
        Some(self.compile(&serde_json::to_value(schema).expect("schema serializes")))
    }
}

fn status_of(code: &StatusCode) -> Status {
    match code {
        StatusCode::Code(n) => Status::Code(*n),
        StatusCode::Range(n) => Status::Range(*n),
    }
}

/// The documented responses of `op`, keyed by status.
fn responses(
    compiler: &Compiler,
    components: Option<&Components>,
    doc: &openapiv3::Operation,
    op: &Operation,
) -> BTreeMap<Status, ResponseSpec> {
    let documented = doc
        .responses
        .responses
        .iter()
        .map(|(code, r)| (status_of(code), r))
        .chain(doc.responses.default.iter().map(|r| (Status::Default, r)));
    let mut out = BTreeMap::new();
    for (status, r) in documented {
        let r: &Response = resolve_response(r, components).expect("response resolves");
        // The media type the generated router sends: the model's choice.
        let media_type = op
            .responses
            .iter()
            .find(|case| case.status == status && case.media_variant.is_none())
            .and_then(|case| case.body.as_ref())
            .map(|(media, _)| media.clone());
        let schema = media_type
            .as_deref()
            .and_then(|m| compiler.content(&r.content, m));
        let headers = r
            .headers
            .iter()
            .filter(|(_, h)| matches!(h, ReferenceOr::Item(h) if h.required))
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        out.insert(
            status,
            ResponseSpec {
                media_type,
                schema,
                headers,
            },
        );
    }
    out
}

impl SpecValidator {
    /// Loads and compiles `spec/users.yaml`.
    pub fn load() -> Self {
        let text = std::fs::read_to_string(workspace_root().join("spec/users.yaml"))
            .expect("spec/users.yaml is readable");
        Self::from_yaml(&text)
    }

    /// Compiles a spec given as YAML text.
    pub fn from_yaml(text: &str) -> Self {
        let spec = Spec::parse("spec", text).expect("the spec parses");
        let api = &spec.api;
        let components = api.components.as_ref();
        let compiler = Compiler::new(components);
        let mut operations = Vec::new();
        let mut by_path: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for op in model::operations(&spec).expect("the code generator's model of the spec") {
            let doc = api
                .paths
                .paths
                .get(&op.path)
                .and_then(ReferenceOr::as_item)
                .and_then(|item| {
                    item.iter()
                        .find(|(m, _)| m.eq_ignore_ascii_case(&op.method))
                })
                .map(|(_, doc)| doc)
                .expect("every modelled operation is in the document");
            let request = op.body.as_ref().map(|body| {
                let b = doc.request_body.as_ref().expect("a body was modelled");
                let b = resolve_body(b, components).expect("request body resolves");
                let schema = compiler
                    .content(&b.content, &body.media)
                    .expect("request body schema");
                (body.media.clone(), schema)
            });
            let responses = responses(&compiler, components, doc, &op);
            by_path
                .entry(op.path.clone())
                .or_default()
                .push(operations.len());
            operations.push(OperationSpec {
                op,
                request,
                responses,
            });
        }
        let mut paths = matchit::Router::new();
        for (template, ops) in by_path {
            paths
                .insert(template, ops)
                .expect("path templates are routable");
        }
        let error = compiler.compile(&json!({ "$ref": "#/components/schemas/ApiError" }));
        Self {
            operations,
            paths,
            error,
            compiler,
        }
    }

    /// A validator for one component schema, as strict as the checks here
    /// (a property the spec does not declare is refused).
    pub fn component(&self, name: &str) -> Validator {
        self.compiler
            .compile(&json!({ "$ref": format!("#/components/schemas/{name}") }))
    }

    /// `(method, path template, operationId)` of every operation.
    pub fn operations(&self) -> Vec<(String, String, String)> {
        self.operations
            .iter()
            .map(|o| (o.op.method.clone(), o.op.path.clone(), o.op.id.clone()))
            .collect()
    }

    /// The operations at `path`, with the path's arguments.
    fn matching_paths<'p>(&self, path: &'p str) -> (Vec<&OperationSpec>, Vec<(String, &'p str)>) {
        match self.paths.at(path) {
            Ok(found) => (
                found.value.iter().map(|&i| &self.operations[i]).collect(),
                found
                    .params
                    .iter()
                    .map(|(name, value)| (name.to_string(), value))
                    .collect(),
            ),
            Err(_) => (Vec::new(), Vec::new()),
        }
    }

    /// Problems with the request, if it does not follow the spec.
    pub fn check_request(&self, ex: &Exchange<'_>) -> Vec<String> {
        let mut problems = Vec::new();
        let (candidates, args) = self.matching_paths(ex.path);
        let Some(spec) = candidates.iter().find(|o| o.op.method == ex.method) else {
            problems.push(format!(
                "{} {} is not an operation of the spec",
                ex.method, ex.path
            ));
            return problems;
        };
        let id = &spec.op.id;
        for (name, value) in args {
            let uuid = spec
                .op
                .path_params
                .iter()
                .any(|p| p.name == name && p.ty == ParamType::Uuid);
            if uuid && uuid::Uuid::parse_str(value).is_err() {
                problems.push(format!(
                    "{id}: path parameter `{name}` = {value:?} is not a uuid"
                ));
            }
        }
        if let Some((media, schema)) = &spec.request {
            if ex
                .request_content_type
                .map(|c| !c.starts_with(media.as_str()))
                .unwrap_or(true)
            {
                problems.push(format!(
                    "{id}: request content type {:?} is not {media}",
                    ex.request_content_type
                ));
            }
            match serde_json::from_slice::<Value>(ex.request_body) {
                Ok(body) => problems.extend(
                    schema
                        .iter_errors(&body)
                        .map(|e| format!("{id}: request body: {e} at {}", e.instance_path())),
                ),
                Err(e) => problems.push(format!("{id}: request body is not JSON: {e}")),
            }
        }
        problems
    }

    /// Problems with the response, if it does not follow the spec.
    pub fn check_response(&self, ex: &Exchange<'_>) -> Vec<String> {
        let (candidates, _) = self.matching_paths(ex.path);
        let mut problems = Vec::new();
        let Some(spec) = candidates.iter().find(|o| o.op.method == ex.method) else {
            // Not an operation: the router must answer 404 (unknown path) or
            // 405 with `Allow` (undocumented method), in the error format.
            let expected = if candidates.is_empty() { 404 } else { 405 };
            if ex.status != expected {
                problems.push(format!(
                    "{} {}: expected {expected} for a request outside the spec, got {}",
                    ex.method, ex.path, ex.status
                ));
            }
            if expected == 405 {
                let mut allowed: Vec<&str> =
                    candidates.iter().map(|o| o.op.method.as_str()).collect();
                allowed.sort_unstable();
                let mut got: Vec<&str> = ex
                    .allow
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                got.sort_unstable();
                if got != allowed {
                    problems.push(format!(
                        "{} {}: Allow header {:?} should list {allowed:?}",
                        ex.method, ex.path, ex.allow
                    ));
                }
            }
            if ex.method != "HEAD" {
                problems.extend(self.check_body(
                    &self.error,
                    "application/json",
                    ex,
                    "router error",
                ));
            }
            return problems;
        };
        let id = &spec.op.id;
        let documented = [
            Status::Code(ex.status),
            Status::Range(ex.status / 100),
            Status::Default,
        ]
        .iter()
        .find_map(|s| spec.responses.get(s));
        let Some(documented) = documented else {
            problems.push(format!(
                "{id}: status {} is not documented (documented: {:?})",
                ex.status,
                spec.responses
                    .keys()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            ));
            return problems;
        };
        for header in &documented.headers {
            if !ex.response_headers.iter().any(|h| h == header) {
                problems.push(format!(
                    "{id}: {} response lacks the required header {header}",
                    ex.status
                ));
            }
        }
        match (&documented.media_type, &documented.schema) {
            (Some(media), Some(schema)) => problems.extend(self.check_body(schema, media, ex, id)),
            (None, _) if !ex.response_body.is_empty() => {
                problems.push(format!("{id}: {} should have no body", ex.status));
            }
            _ => {}
        }
        problems
    }

    fn check_body(
        &self,
        schema: &Validator,
        media: &str,
        ex: &Exchange<'_>,
        what: &str,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let ct = ex.response_content_type.unwrap_or("");
        if !ct.starts_with(media) {
            problems.push(format!(
                "{what}: {} content type {ct:?} is not {media}",
                ex.status
            ));
            return problems;
        }
        if media != "application/json" {
            let text = String::from_utf8_lossy(ex.response_body);
            // A YAML document is validated as the data it holds; other text as a string.
            let body = if media.ends_with("yaml") {
                match serde_yaml::from_str::<Value>(&text) {
                    Ok(value) => value,
                    Err(e) => {
                        problems.push(format!("{what}: {} body is not YAML: {e}", ex.status));
                        return problems;
                    }
                }
            } else {
                Value::String(text.into_owned())
            };
            problems.extend(schema.iter_errors(&body).map(|e| {
                format!(
                    "{what}: {} body at {:?} breaks the schema at {}",
                    ex.status,
                    e.instance_path().to_string(),
                    e.schema_path()
                )
            }));
            return problems;
        }
        match serde_json::from_slice::<Value>(ex.response_body) {
            Ok(body) => {
                problems.extend(
                    schema.iter_errors(&body).map(|e| {
                        format!("{what}: {} body: {e} at {}", ex.status, e.instance_path())
                    }),
                );
                if let (Some(s), true) =
                    (body.get("status").and_then(Value::as_u64), ex.status >= 400)
                    && s != u64::from(ex.status)
                {
                    problems.push(format!(
                        "{what}: error body says status {s} but the response is {}",
                        ex.status
                    ));
                }
            }
            Err(e) => problems.push(format!("{what}: {} body is not JSON: {e}", ex.status)),
        }
        problems
    }
}
