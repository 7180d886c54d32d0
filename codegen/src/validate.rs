//! Checks that a spec uses only what the generators support.
//!
//! progenitor panics on some constructs (several success bodies, several
//! request media types); the server generator supports a deliberate subset.
//! Everything is checked here first so users get an error that names the
//! place in the spec instead of a panic or a confusing compile error.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{Components, OpenAPI, Operation, Parameter, ReferenceOr, StatusCode};

use stub_runtime::{Applies, RejectionKind};

use crate::error::{CodegenError, Problem, Result};
use crate::ir::{BodyKind, body_type, is_supported_scheme};
use crate::pointer::{At, escape, from_fragment};
use crate::spec::Spec;
use crate::spec::media::{body_kind, preferred_media};
use crate::spec::paths::{braced_names, is_routable, responses, template_name_set};
use crate::spec::refs::resolve;

/// Fields the error schema must have: the server stubs fill them.
const ERROR_FIELDS: [&str; 3] = ["status", "code", "message"];

/// Validates the whole document, returning every problem found at once.
///
/// Some rules only matter for a spec held to this workspace's own standard
/// (every status the router answers documented, the `ApiError` shape,
/// snake_case operationIds): with `strict` they are problems, otherwise
/// lints returned as warnings, and generation goes on.
pub fn validate(
    spec: &Spec,
    error_schema: &str,
    strict: bool,
    lints: Vec<Problem>,
) -> Result<Vec<Problem>> {
    let mut v = Validator {
        problems: Vec::new(),
        lints,
        raw: &spec.raw,
    };
    v.check_version(&spec.api);
    v.check_refs(&spec.raw, &At::Root("#"));
    v.check_paths(&spec.api, error_schema);
    if strict {
        v.problems.append(&mut v.lints);
    }
    if v.problems.is_empty() {
        Ok(v.lints)
    } else {
        Err(CodegenError::Invalid {
            file: spec.file.clone(),
            count: v.problems.len(),
            problems: v.problems,
        })
    }
}

struct Validator<'a> {
    problems: Vec<Problem>,
    /// Problems only for a strict spec; warnings otherwise.
    lints: Vec<Problem>,
    raw: &'a serde_json::Value,
}

impl Validator<'_> {
    fn problem(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    fn lint(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.lints.push(Problem {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    fn check_version(&mut self, api: &OpenAPI) {
        if !api.openapi.starts_with("3.0.") {
            self.problem(
                "#/openapi",
                format!("version {} is not supported; use 3.0.x", api.openapi),
            );
        }
    }

    /// Every `$ref` must be local and point at something that exists.
    fn check_refs(&mut self, node: &serde_json::Value, pointer: &At<'_>) {
        match node {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    match target.strip_prefix('#') {
                        Some(local) if self.raw.pointer(&from_fragment(local)).is_some() => {}
                        Some(_) => self.problem(
                            format!("{pointer}/$ref"),
                            format!("dangling $ref: {target} does not exist in this document"),
                        ),
                        None => self.problem(
                            format!("{pointer}/$ref"),
                            format!(
                                "external $ref {target} is not supported; use #/components/..."
                            ),
                        ),
                    }
                }
                for (key, child) in map {
                    // Example values are data: a `$ref` key there is not a reference.
                    if key == "example"
                        || key == "examples" && pointer.last_key() != Some("components")
                    {
                        continue;
                    }
                    self.check_refs(child, &pointer.key(key));
                }
            }
            serde_json::Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.check_refs(child, &pointer.index(i));
                }
            }
            _ => {}
        }
    }

    fn check_paths(&mut self, api: &OpenAPI, error_schema: &str) {
        let mut ids: BTreeMap<String, String> = BTreeMap::new();
        let components = api.components.as_ref();
        let mut needs_error_schema = false;
        for (path, item) in api.paths.iter() {
            let at_path = format!("#/paths/{}", escape(path));
            let ReferenceOr::Item(item) = item else {
                self.problem(at_path, "a path item must not be a $ref");
                continue;
            };
            for (method, op) in item.iter() {
                let at = format!("{at_path}/{method}");
                if let Some(id) = &op.operation_id
                    && let Some(first) = ids.insert(id.clone(), at.clone())
                {
                    self.problem(
                        format!("{at}/operationId"),
                        format!("operationId `{id}` (as a Rust name) is also used at {first}"),
                    );
                }
                let params: Vec<&ReferenceOr<Parameter>> =
                    item.parameters.iter().chain(op.parameters.iter()).collect();
                self.check_parameters(path, &at, &params, components);
                self.check_body(&at, op, components);
                needs_error_schema |= self.check_responses(&at, op, components);
                self.check_security(&at, op, api);
                self.check_router_statuses(&at, op, &params, components);
            }
        }
        if needs_error_schema {
            self.check_error_schema(components, error_schema);
        }
    }

    fn check_parameters(
        &mut self,
        path: &str,
        at: &str,
        params: &[&ReferenceOr<Parameter>],
        components: Option<&Components>,
    ) {
        if !is_routable(path) {
            self.lint(
                at,
                format!("the server stubs leave this operation out: the router matches only whole path segments as parameters, not {path}"),
            );
            // The client still sends it, so every name in braces needs its
            // path parameter.
            let declared: BTreeSet<String> = params
                .iter()
                .filter_map(|p| match resolve(p, components)? {
                    Parameter::Path { parameter_data, .. } => Some(parameter_data.name.clone()),
                    _ => None,
                })
                .collect();
            for missing in braced_names(path).difference(&declared) {
                self.problem(
                    at,
                    format!("path template variable {{{missing}}} has no matching path parameter"),
                );
            }
            return;
        }
        let template: BTreeSet<String> = template_name_set(path);
        let mut declared = BTreeSet::new();
        for (i, param) in params.iter().enumerate() {
            let Some(param) = resolve(param, components) else {
                continue; // a dangling $ref, already reported
            };
            let at_param = format!("{at}/parameters/{i}");
            match param {
                Parameter::Path { parameter_data, .. } => {
                    declared.insert(parameter_data.name.clone());
                    if !template.contains(&parameter_data.name) {
                        self.problem(
                            at_param,
                            format!(
                                "path parameter `{}` does not appear in the path template {path}",
                                parameter_data.name
                            ),
                        );
                    }
                }
                Parameter::Query {
                    parameter_data,
                    style: openapiv3::QueryStyle::DeepObject,
                    ..
                } => self.lint(
                    at_param,
                    format!(
                        "query parameter `{}`: the server stubs do not read deepObject parameters; the implementation gets no field for it",
                        parameter_data.name
                    ),
                ),
                Parameter::Query { parameter_data, .. }
                | Parameter::Header { parameter_data, .. }
                | Parameter::Cookie { parameter_data, .. } => {
                    if let openapiv3::ParameterSchemaOrContent::Content(_) = &parameter_data.format
                    {
                        self.problem(
                            at_param,
                            format!(
                                "parameter `{}`: `content` parameters are not supported; give a `schema`",
                                parameter_data.name
                            ),
                        );
                    }
                }
            }
        }
        for missing in template.difference(&declared) {
            self.problem(
                at,
                format!("path template segment {{{missing}}} has no matching path parameter"),
            );
        }
    }

    fn check_body(&mut self, at: &str, op: &Operation, components: Option<&Components>) {
        let Some(body) = &op.request_body else {
            return;
        };
        let Some(body) = resolve(body, components) else {
            return;
        };
        let at = format!("{at}/requestBody/content");
        if body.content.is_empty() {
            self.problem(at, "request body has no media type");
            return;
        }
        // Several media types are all accepted when they decode into one type.
        let Some((preferred, content)) = preferred_media(&body.content) else {
            return;
        };
        let ty = body_type(preferred, content);
        for (media, content) in &body.content {
            if body_type(media, content) != ty {
                self.lint(
                    format!("{at}/{}", escape(media)),
                    format!("`{media}` decodes into another type than `{preferred}`: the generated client sends `{preferred}` and the server stubs refuse `{media}` with 415"),
                );
            }
        }
    }

    /// Returns whether the operation has error responses (which need the error schema).
    fn check_responses(
        &mut self,
        at: &str,
        op: &Operation,
        components: Option<&Components>,
    ) -> bool {
        let mut success: BTreeMap<String, String> = BTreeMap::new();
        let mut failure: BTreeMap<String, String> = BTreeMap::new();
        let at = format!("{at}/responses");
        if op.responses.responses.is_empty() && op.responses.default.is_none() {
            self.lint(
                &at,
                "no response is documented; the server stubs answer with the status the implementation picks (a `Default` variant), without a body",
            );
        }
        for (code, response) in responses(op) {
            let at_code = format!("{at}/{code}");
            let Some(response) = resolve(response, components) else {
                continue;
            };
            let body = match preferred_media(&response.content) {
                None => "(no body)".to_string(),
                Some((media, content)) => {
                    let schema = serde_json::to_string(&content.schema).unwrap_or_default();
                    format!("{media} {schema}")
                }
            };
            let bucket = if code.starts_with('2') {
                &mut success
            } else {
                &mut failure
            };
            bucket.entry(body).or_insert(at_code);
        }
        !failure.is_empty()
    }

    fn check_security(&mut self, at: &str, op: &Operation, api: &OpenAPI) {
        let schemes = api.components.as_ref().map(|c| &c.security_schemes);
        for (i, requirement) in op.security.iter().flatten().enumerate() {
            for name in requirement.keys() {
                let at_req = format!("{at}/security/{i}/{}", escape(name));
                match schemes.and_then(|s| s.get(name)) {
                    None => self.problem(at_req, format!("security scheme `{name}` is not defined")),
                    Some(ReferenceOr::Item(scheme)) if !is_supported_scheme(scheme) => self.lint(
                        at_req,
                        format!("security scheme `{name}` is not read by the server stubs (they read bearer tokens, as oauth2, openIdConnect or http bearer, and API keys in a header); requirements naming it are left to the implementation"),
                    ),
                    Some(_) => {}
                }
            }
        }
    }

    /// The generated router answers some requests itself (bad path parameter,
    /// missing token, bad body); those statuses must be documented.
    fn check_router_statuses(
        &mut self,
        at: &str,
        op: &Operation,
        params: &[&ReferenceOr<Parameter>],
        components: Option<&Components>,
    ) {
        let has_path_params = params
            .iter()
            .any(|p| matches!(resolve(p, components), Some(Parameter::Path { .. })));
        let body_kinds: Vec<BodyKind> = op
            .request_body
            .as_ref()
            .and_then(|b| resolve(b, components))
            .and_then(|b| preferred_media(&b.content))
            .map(|(media, _)| body_kind(media))
            .into_iter()
            .collect();
        let secured = op
            .security
            .as_ref()
            .is_some_and(|reqs| reqs.iter().any(|r| !r.is_empty()));
        let needed = RejectionKind::ALL
            .into_iter()
            .filter(|kind| match kind.applies() {
                Applies::EveryRoute => false,
                Applies::PathParameters => has_path_params,
                Applies::OtherParameters => params.iter().any(|p| {
                    matches!(
                        resolve(p, components),
                        Some(
                            Parameter::Query { .. }
                                | Parameter::Header { .. }
                                | Parameter::Cookie { .. }
                        )
                    )
                }),
                Applies::Security => secured,
                // Text and bytes are never decoded against a schema.
                Applies::RequestBody => body_kinds.iter().any(|k| {
                    *kind != RejectionKind::SchemaMismatch
                        || matches!(k, BodyKind::Json | BodyKind::Form)
                }),
            });
        let needed: Vec<(u16, &str)> = needed.map(|k| (k.status(), k.cause())).collect();
        for (status, why) in needed {
            let documented = op.responses.default.is_some()
                || op
                    .responses
                    .responses
                    .contains_key(&StatusCode::Code(status))
                || op
                    .responses
                    .responses
                    .contains_key(&StatusCode::Range(status / 100));
            if !documented {
                self.lint(
                    format!("{at}/responses"),
                    format!("the router answers {why} with {status}, which the operation does not document"),
                );
            }
        }
    }

    fn check_error_schema(&mut self, components: Option<&Components>, name: &str) {
        let at = format!("#/components/schemas/{}", escape(name));
        let schema = components.and_then(|c| c.schemas.get(name));
        let Some(ReferenceOr::Item(schema)) = schema else {
            self.lint(
                at,
                format!("error responses need the error schema `{name}`"),
            );
            return;
        };
        let openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) = &schema.schema_kind
        else {
            self.lint(at, "the error schema must be an object");
            return;
        };
        for field in ERROR_FIELDS {
            if !object.properties.contains_key(field) || !object.required.iter().any(|r| r == field)
            {
                self.lint(
                    format!("{at}/properties"),
                    format!("the error schema must have the required property `{field}`"),
                );
            }
        }
        if let Some(codes) = error_codes(components, name) {
            for kind in RejectionKind::ALL {
                if !codes.iter().any(|c| c == kind.code()) {
                    self.lint(
                        format!("{at}/properties/code/enum"),
                        format!(
                            "the router answers {} with code `{}`, which the error schema's `code` enum lacks",
                            kind.cause(),
                            kind.code()
                        ),
                    );
                }
            }
        }
    }
}

/// Whether the error schema exists with the required `status`, `code` and
/// `message` properties the router fills.
fn has_error_fields(components: Option<&Components>, name: &str) -> bool {
    let Some(ReferenceOr::Item(schema)) = components.and_then(|c| c.schemas.get(name)) else {
        return false;
    };
    let openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) = &schema.schema_kind else {
        return false;
    };
    ERROR_FIELDS
        .iter()
        .all(|f| object.properties.contains_key(*f) && object.required.iter().any(|r| r == f))
}

/// Whether the router can answer in the error schema: it has the fields,
/// and its `code`, if an enum, holds every code the router sends.
pub fn usable_error_schema(components: Option<&Components>, name: &str) -> bool {
    has_error_fields(components, name)
        && error_codes(components, name).is_none_or(|codes| {
            RejectionKind::ALL
                .iter()
                .all(|k| codes.iter().any(|c| c == k.code()))
        })
}

/// The values of the error schema's `code` property, when it is an inline
/// string enum (its Rust type is then `<ErrorSchema>Code`).
pub fn error_codes(components: Option<&Components>, name: &str) -> Option<Vec<String>> {
    let schema = components?.schemas.get(name)?.as_item()?;
    let openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) = &schema.schema_kind else {
        return None;
    };
    let code = object.properties.get("code")?.as_item()?;
    match &code.schema_kind {
        openapiv3::SchemaKind::Type(openapiv3::Type::String(s)) if !s.enumeration.is_empty() => {
            Some(s.enumeration.iter().flatten().cloned().collect())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pointers of the problems `validate` finds in `yaml`.
    fn problems(yaml: &str) -> Vec<String> {
        let spec = Spec::parse("t.yaml", yaml).unwrap();
        match validate(&spec, "ApiError", false, Vec::new()) {
            Ok(_) => Vec::new(),
            Err(CodegenError::Invalid { problems, .. }) => {
                problems.into_iter().map(|p| p.pointer).collect()
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_braced_name_outside_a_whole_segment_needs_its_path_parameter_too() {
        let yaml = "openapi: 3.0.3\ninfo: { title: t, version: '1' }\npaths:\n\
                    \x20 '/rides?page={page}':\n\
                    \x20   get:\n      parameters: [{ name: page, in: path, required: true, schema: { type: string } }]\n\
                    \x20     responses: { '200': { description: ok } }\n\
                    \x20   post:\n      responses: { '200': { description: ok } }\n";
        assert_eq!(problems(yaml), ["#/paths/~1rides?page={page}/post"]);
    }

    #[test]
    fn a_percent_encoded_ref_names_what_it_decodes_to() {
        let yaml = "openapi: 3.0.3\ninfo: { title: t, version: '1' }\npaths:\n\
                    \x20 '/a/{id}':\n    get:\n\
                    \x20     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]\n\
                    \x20     responses:\n        '200':\n          description: ok\n\
                    \x20         headers: { X-A: { schema: { type: string } } }\n\
                    \x20 '/b':\n    get:\n      responses:\n        '200':\n          description: ok\n\
                    \x20         headers:\n\
                    \x20           X-A: { $ref: '#/paths/~1a~1%7Bid%7D/get/responses/200/headers/X-A' }\n\
                    \x20           X-B: { $ref: '#/paths/~1a~1%7Bid%7D/get/responses/200/headers/X-B' }\n";
        assert_eq!(
            problems(yaml),
            ["#/paths/~1b/get/responses/200/headers/X-B/$ref"]
        );
    }

    #[test]
    fn refs_in_component_examples_are_checked_but_not_inside_example_data() {
        let yaml = "openapi: 3.0.3\ninfo: { title: t, version: '1' }\npaths: {}\n\
                    components:\n  examples:\n    gone: { $ref: '#/components/examples/nowhere' }\n\
                    \x20 schemas:\n    S:\n      type: object\n\
                    \x20     example: { $ref: '#/not/a/reference' }\n\
                    \x20   'a/b~c':\n      type: array\n      items: { $ref: '#/components/schemas/Missing' }\n";
        assert_eq!(
            problems(yaml),
            [
                "#/components/examples/gone/$ref",
                "#/components/schemas/a~1b~0c/items/$ref"
            ]
        );
    }
}
