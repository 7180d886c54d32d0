//! Checks HTTP traffic against `spec/users.yaml`: documented status, content
//! type, required headers and body schema for responses; body schema and
//! parameter formats for requests.
//!
//! An oracle independent of the code generator: the operations are read
//! from the raw document (`paths`, as JSON values, `$ref`s followed here),
//! never from the generator's model, so a blind spot of that model shows up
//! as a disagreement. Paths are matched with `matchit`, the matcher axum
//! routes with. OpenAPI 3.0 schemas are converted to JSON Schema (draft 7)
//! and compiled.

use std::collections::BTreeMap;

use jsonschema::Validator;
use serde_json::{Map, Value, json};

pub use crate::files::workspace_root;

/// The HTTP methods a path item can hold operations for.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The status a documented response is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    /// One status code.
    Code(u16),
    /// A range: `4XX` is `Range(4)`.
    Range(u16),
    /// `default`.
    Default,
}

impl Status {
    /// The status of a response key (`200`, `4XX`, `default`).
    fn parse(key: &str) -> Option<Self> {
        match key {
            "default" => Some(Self::Default),
            _ if key.len() == 3 && key.ends_with("XX") => key[..1].parse().ok().map(Self::Range),
            _ => key.parse().ok().map(Self::Code),
        }
    }
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

/// One documented response: its media types with their body schemas, and
/// its required headers.
struct ResponseSpec {
    media: Vec<(String, Option<Validator>)>,
    headers: Vec<String>,
}

/// One operation, compiled for checking.
struct OperationSpec {
    id: String,
    method: String,
    path: String,
    /// Path parameters whose schema is a uuid string.
    uuid_params: Vec<String>,
    /// Request media types with their body schemas.
    request: Vec<(String, Option<Validator>)>,
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

/// Follows a local `$ref` (and chains of them) within `root`.
fn deref<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..32 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(target) => match target.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(found) => node = found,
                None => break,
            },
            None => break,
        }
    }
    node
}

/// The essence of a media type: no parameters, lower case.
fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Compiles OpenAPI schemas into validators that share the component schemas.
struct Compiler {
    definitions: Value,
}

impl Compiler {
    fn new(doc: &Value) -> Self {
        let schemas = doc
            .pointer("/components/schemas")
            .cloned()
            .unwrap_or(json!({}));
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

    /// Every media type of a `content` map, with its schema's validator.
    fn content(&self, content: Option<&Value>) -> Vec<(String, Option<Validator>)> {
        content
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(media, m)| (media.clone(), m.get("schema").map(|s| self.compile(s))))
            .collect()
    }
}

/// Compiles one operation of the raw document.
fn operation(
    compiler: &Compiler,
    doc: &Value,
    path: &str,
    item: &Value,
    method: &str,
    op: &Value,
) -> OperationSpec {
    let params = item
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .chain(op.get("parameters").and_then(Value::as_array))
        .flatten()
        .map(|p| deref(doc, p));
    let uuid_params = params
        .filter(|p| p["in"] == "path")
        .filter(|p| {
            let schema = deref(doc, &p["schema"]);
            schema["type"] == "string" && schema["format"] == "uuid"
        })
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    let request = op
        .get("requestBody")
        .map(|b| compiler.content(deref(doc, b).get("content")))
        .unwrap_or_default();
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(key, r)| {
            let status = Status::parse(key)?;
            let r = deref(doc, r);
            let headers = r
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(_, h)| deref(doc, h)["required"] == true)
                .map(|(name, _)| name.to_ascii_lowercase())
                .collect();
            let media = compiler.content(r.get("content"));
            Some((status, ResponseSpec { media, headers }))
        })
        .collect();
    OperationSpec {
        id: op["operationId"].as_str().unwrap_or_default().to_string(),
        method: method.to_ascii_uppercase(),
        path: path.to_string(),
        uuid_params,
        request,
        responses,
    }
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
        let doc: Value = serde_yaml::from_str(text).expect("the spec is YAML");
        let compiler = Compiler::new(&doc);
        let mut operations = Vec::new();
        let mut by_path: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (path, item) in doc["paths"].as_object().expect("the spec has paths") {
            let item = deref(&doc, item);
            for method in METHODS {
                let Some(op) = item.get(method) else {
                    continue;
                };
                by_path
                    .entry(path.clone())
                    .or_default()
                    .push(operations.len());
                operations.push(operation(&compiler, &doc, path, item, method, op));
            }
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
            .map(|o| (o.method.clone(), o.path.clone(), o.id.clone()))
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
        let Some(spec) = candidates.iter().find(|o| o.method == ex.method) else {
            problems.push(format!(
                "{} {} is not an operation of the spec",
                ex.method, ex.path
            ));
            return problems;
        };
        let id = &spec.id;
        for (name, value) in args {
            let uuid = spec.uuid_params.contains(&name);
            if uuid && uuid::Uuid::parse_str(value).is_err() {
                problems.push(format!(
                    "{id}: path parameter `{name}` = {value:?} is not a uuid"
                ));
            }
        }
        if spec.request.is_empty() {
            return problems;
        }
        let sent = ex.request_content_type.map(essence);
        let Some((media, schema)) = spec
            .request
            .iter()
            .find(|(media, _)| Some(essence(media)) == sent)
        else {
            let listed: Vec<&str> = spec.request.iter().map(|(m, _)| m.as_str()).collect();
            problems.push(format!(
                "{id}: request content type {:?} is none of {listed:?}",
                ex.request_content_type
            ));
            return problems;
        };
        let json = essence(media) == "application/json" || essence(media).ends_with("+json");
        if let (Some(schema), true) = (schema, json) {
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
        let Some(spec) = candidates.iter().find(|o| o.method == ex.method) else {
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
                let mut allowed: Vec<&str> = candidates.iter().map(|o| o.method.as_str()).collect();
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
        let id = &spec.id;
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
        if documented.media.is_empty() {
            if !ex.response_body.is_empty() {
                problems.push(format!("{id}: {} should have no body", ex.status));
            }
            return problems;
        }
        let sent = ex.response_content_type.map(essence);
        match documented
            .media
            .iter()
            .find(|(media, _)| Some(essence(media)) == sent)
        {
            Some((media, Some(schema))) => problems.extend(self.check_body(schema, media, ex, id)),
            Some((_, None)) => {}
            None => {
                let listed: Vec<&str> = documented.media.iter().map(|(m, _)| m.as_str()).collect();
                problems.push(format!(
                    "{id}: {} content type {:?} is none of {listed:?}",
                    ex.status, ex.response_content_type
                ));
            }
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
