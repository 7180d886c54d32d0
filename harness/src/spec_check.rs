//! Checks HTTP traffic against `spec/users.yaml`: documented status, content
//! type, and body schema for responses; body schema and parameter formats for
//! requests. OpenAPI 3.0 schemas are converted to JSON Schema (draft 7) first.

use std::collections::BTreeMap;

use jsonschema::Validator;
use serde_json::{Map, Value, json};

pub use crate::files::workspace_root;

/// One documented response: its media type and body schema.
struct ResponseSpec {
    media_type: Option<String>,
    schema: Option<Validator>,
    headers: Vec<String>,
}

struct OperationSpec {
    id: String,
    method: String,
    template: Vec<String>,
    path_formats: BTreeMap<String, String>,
    request: Option<(String, Validator)>,
    responses: BTreeMap<u16, ResponseSpec>,
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
    error: Validator,
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

fn resolve<'a>(spec: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(spec, spec.pointer(&r[1..]).expect("$ref resolves")),
        None => node,
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
        let spec: Value = serde_yaml::from_str(text).expect("spec is YAML");
        let definitions = to_json_schema(&spec["components"]["schemas"], true);
        let compile = |schema: &Value| -> Validator {
            let mut root = to_json_schema(schema, true);
            if let Value::Object(m) = &mut root {
                m.insert("definitions".into(), definitions.clone());
            } else {
                root = json!({ "allOf": [root], "definitions": definitions.clone() });
            }
            jsonschema::draft7::options()
                .should_validate_formats(true)
                .build(&root)
                .expect("spec schema compiles")
        };
        let mut operations = Vec::new();
        for (path, item) in spec["paths"].as_object().expect("paths") {
            let path_params: Vec<&Value> = item["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .collect();
            for (method, op) in item.as_object().expect("path item") {
                if method == "parameters" || method.starts_with("x-") {
                    continue;
                }
                let mut path_formats = BTreeMap::new();
                for p in path_params
                    .iter()
                    .copied()
                    .chain(op["parameters"].as_array().into_iter().flatten())
                {
                    let p = resolve(&spec, p);
                    if p["in"] == "path" {
                        let format = p["schema"]["format"].as_str().unwrap_or("").to_string();
                        path_formats.insert(p["name"].as_str().unwrap_or("").to_string(), format);
                    }
                }
                let request = op.get("requestBody").map(|b| {
                    let b = resolve(&spec, b);
                    let (media, content) = b["content"]
                        .as_object()
                        .and_then(|c| c.iter().next())
                        .expect("one media type");
                    (media.clone(), compile(&content["schema"]))
                });
                let mut responses = BTreeMap::new();
                for (code, r) in op["responses"].as_object().expect("responses") {
                    let r = resolve(&spec, r);
                    let content = r["content"].as_object().and_then(|c| c.iter().next());
                    responses.insert(
                        code.parse().expect("numeric status"),
                        ResponseSpec {
                            media_type: content.map(|(m, _)| m.clone()),
                            schema: content.map(|(_, c)| compile(&c["schema"])),
                            headers: r["headers"]
                                .as_object()
                                .into_iter()
                                .flatten()
                                .filter(|(_, h)| h["required"] == true)
                                .map(|(name, _)| name.to_ascii_lowercase())
                                .collect(),
                        },
                    );
                }
                operations.push(OperationSpec {
                    id: op["operationId"].as_str().unwrap_or_default().to_string(),
                    method: method.to_ascii_uppercase(),
                    template: path.split('/').map(str::to_string).collect(),
                    path_formats,
                    request,
                    responses,
                });
            }
        }
        let error = compile(&json!({ "$ref": "#/components/schemas/ApiError" }));
        Self { operations, error }
    }

    /// `(method, path template, operationId)` of every operation.
    pub fn operations(&self) -> Vec<(String, String, String)> {
        self.operations
            .iter()
            .map(|o| (o.method.clone(), o.template.join("/"), o.id.clone()))
            .collect()
    }

    fn matching_paths(&self, path: &str) -> Vec<&OperationSpec> {
        let segments: Vec<&str> = path.split('/').collect();
        self.operations
            .iter()
            .filter(|o| {
                o.template.len() == segments.len()
                    && o.template
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
            })
            .collect()
    }

    fn path_args<'p>(op: &OperationSpec, path: &'p str) -> Vec<(String, &'p str)> {
        op.template
            .iter()
            .zip(path.split('/'))
            .filter_map(|(t, s)| {
                t.strip_prefix('{')
                    .and_then(|t| t.strip_suffix('}'))
                    .map(|name| (name.to_string(), s))
            })
            .collect()
    }

    /// Problems with the request, if it does not follow the spec.
    pub fn check_request(&self, ex: &Exchange<'_>) -> Vec<String> {
        let mut problems = Vec::new();
        let candidates = self.matching_paths(ex.path);
        let Some(op) = candidates.iter().find(|o| o.method == ex.method) else {
            problems.push(format!(
                "{} {} is not an operation of the spec",
                ex.method, ex.path
            ));
            return problems;
        };
        for (name, value) in Self::path_args(op, ex.path) {
            if op.path_formats.get(&name).map(String::as_str) == Some("uuid")
                && uuid::Uuid::parse_str(value).is_err()
            {
                problems.push(format!(
                    "{}: path parameter `{name}` = {value:?} is not a uuid",
                    op.id
                ));
            }
        }
        if let Some((media, schema)) = &op.request {
            if ex
                .request_content_type
                .map(|c| !c.starts_with(media.as_str()))
                .unwrap_or(true)
            {
                problems.push(format!(
                    "{}: request content type {:?} is not {media}",
                    op.id, ex.request_content_type
                ));
            }
            match serde_json::from_slice::<Value>(ex.request_body) {
                Ok(body) => problems.extend(
                    schema
                        .iter_errors(&body)
                        .map(|e| format!("{}: request body: {e} at {}", op.id, e.instance_path())),
                ),
                Err(e) => problems.push(format!("{}: request body is not JSON: {e}", op.id)),
            }
        }
        problems
    }

    /// Problems with the response, if it does not follow the spec.
    pub fn check_response(&self, ex: &Exchange<'_>) -> Vec<String> {
        let candidates = self.matching_paths(ex.path);
        let op = candidates.iter().find(|o| o.method == ex.method);
        let mut problems = Vec::new();
        let Some(op) = op else {
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
        let Some(documented) = op.responses.get(&ex.status) else {
            problems.push(format!(
                "{}: status {} is not documented (documented: {:?})",
                op.id,
                ex.status,
                op.responses.keys().collect::<Vec<_>>()
            ));
            return problems;
        };
        for header in &documented.headers {
            if !ex.response_headers.iter().any(|h| h == header) {
                problems.push(format!(
                    "{}: {} response lacks the required header {header}",
                    op.id, ex.status
                ));
            }
        }
        match (&documented.media_type, &documented.schema) {
            (Some(media), Some(schema)) => {
                problems.extend(self.check_body(schema, media, ex, &op.id))
            }
            (None, _) if !ex.response_body.is_empty() => {
                problems.push(format!("{}: {} should have no body", op.id, ex.status));
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
