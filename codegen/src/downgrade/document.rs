//! The document around the schemas: where schemas sit (paths, webhooks,
//! components, parameters, bodies, responses, headers, callbacks), and the
//! 3.1 changes outside them (`webhooks`, `info.summary`,
//! `license.identifier`, `jsonSchemaDialect`, `components/pathItems`,
//! optional `paths` and `responses`, `mutualTLS`).

use serde_json::{Map, Value};

use super::{Lints, OPENAPI_DIALECT, WEBHOOK_PREFIX, join, schema};

/// The HTTP methods of a path item.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Rewrites everything but the schemas' `$defs` (see `defs`).
pub(super) fn convert(doc: &mut Value, lints: &mut Lints) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    if let Some(dialect) = root.shift_remove("jsonSchemaDialect")
        && dialect.as_str() != Some(OPENAPI_DIALECT)
    {
        lints.add(
            "#/jsonSchemaDialect",
            format!(
                "schemas are read in OpenAPI 3.1's own dialect ({OPENAPI_DIALECT}), not {dialect}"
            ),
        );
    }
    if let Some(Value::Object(info)) = root.get_mut("info") {
        info_fields(info);
    }
    let mut path_items = Map::new();
    if let Some(Value::Object(components)) = root.get_mut("components") {
        path_items = self::components(components, lints);
    }
    let ctx = Context { path_items };
    let removed_schemes = mutual_tls(root, lints);
    if let Some(Value::Object(paths)) = root.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            ctx.path_item(item, &join("#/paths", path), lints);
        }
    }
    let webhooks = match root.shift_remove("webhooks") {
        Some(Value::Object(hooks)) => hooks,
        _ => Map::new(),
    };
    let paths = root
        .entry("paths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !paths.is_object() {
        *paths = Value::Object(Map::new());
    }
    if let Some(paths) = paths.as_object_mut() {
        for (name, mut item) in webhooks {
            let at = join("#/webhooks", &name);
            ctx.path_item(&mut item, &at, lints);
            let path = webhook_path(&name, paths);
            lints.add(
                &at,
                format!("webhook `{name}` is generated as the path {path}: the server stubs' trait and router receive it there (point the sender, or a route of yours, at it); the client can send it"),
            );
            paths.insert(path, item);
        }
    }
    if !removed_schemes.is_empty() {
        drop_requirements(doc, &removed_schemes);
    }
}

/// `info.summary` leads the description; `license.identifier` (SPDX)
/// becomes the license's URL when it has none.
fn info_fields(info: &mut Map<String, Value>) {
    if let Some(Value::String(summary)) = info.shift_remove("summary") {
        let description = match info.get("description").and_then(Value::as_str) {
            Some(d) if !d.is_empty() => format!("{summary}\n\n{d}"),
            _ => summary,
        };
        info.insert("description".into(), description.into());
    }
    if let Some(Value::Object(license)) = info.get_mut("license")
        && let Some(Value::String(id)) = license.shift_remove("identifier")
    {
        license
            .entry("url")
            .or_insert_with(|| format!("https://spdx.org/licenses/{id}.html").into());
    }
}

/// `/webhooks/<name>` (characters outside a path segment as `-`), made
/// unique among `paths`.
fn webhook_path(name: &str, paths: &Map<String, Value>) -> String {
    let segment: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._~".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let base = format!("{WEBHOOK_PREFIX}{segment}");
    if !paths.contains_key(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|p| !paths.contains_key(p))
        .unwrap_or(base)
}

/// Converts the components; returns `pathItems` (removed: 3.0 has none;
/// references to them are inlined).
fn components(components: &mut Map<String, Value>, lints: &mut Lints) -> Map<String, Value> {
    let at = "#/components";
    let ctx = Context::default();
    if let Some(Value::Object(schemas)) = components.get_mut("schemas") {
        let here = join(at, "schemas");
        for (name, s) in schemas.iter_mut() {
            schema::convert(s, &join(&here, name), lints);
        }
    }
    type Each = fn(&Context, &mut Value, &str, &mut Lints);
    let kinds: [(&str, Each); 5] = [
        ("parameters", Context::parameter),
        ("headers", Context::parameter),
        ("requestBodies", Context::body),
        ("responses", Context::response),
        ("callbacks", Context::callback),
    ];
    for (kind, each) in kinds {
        if let Some(Value::Object(all)) = components.get_mut(kind) {
            let here = join(at, kind);
            for (name, node) in all.iter_mut() {
                each(&ctx, node, &join(&here, name), lints);
            }
        }
    }
    let mut items = match components.shift_remove("pathItems") {
        Some(Value::Object(items)) => items,
        _ => Map::new(),
    };
    for (name, item) in items.iter_mut() {
        ctx.path_item(item, &join("#/components/pathItems", name), lints);
    }
    items
}

/// Security schemes of type `mutualTLS` (3.1): no 3.0 form; removed, with
/// the requirements naming them. Returns their names.
fn mutual_tls(root: &mut Map<String, Value>, lints: &mut Lints) -> Vec<String> {
    let Some(Value::Object(schemes)) = root
        .get_mut("components")
        .and_then(|c| c.get_mut("securitySchemes"))
    else {
        return Vec::new();
    };
    let names: Vec<String> = schemes
        .iter()
        .filter(|(_, s)| s.get("type").and_then(Value::as_str) == Some("mutualTLS"))
        .map(|(n, _)| n.clone())
        .collect();
    for name in &names {
        schemes.shift_remove(name);
        lints.add(
            &join("#/components/securitySchemes", name),
            "security scheme type `mutualTLS` has no OpenAPI 3.0 form: the generated code does not ask for a client certificate (configure TLS yourself)",
        );
    }
    names
}

/// Removes the named schemes from every security requirement.
fn drop_requirements(node: &mut Value, names: &[String]) {
    match node {
        Value::Object(map) => {
            if let Some(Value::Array(requirements)) = map.get_mut("security") {
                for r in requirements.iter_mut() {
                    if let Some(r) = r.as_object_mut() {
                        r.retain(|k, _| !names.contains(k));
                    }
                }
            }
            map.values_mut().for_each(|v| drop_requirements(v, names));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| drop_requirements(v, names)),
        _ => {}
    }
}

/// What the walk needs besides the node: the component path items, for
/// inlining references to them.
#[derive(Default)]
struct Context {
    path_items: Map<String, Value>,
}

impl Context {
    fn path_item(&self, item: &mut Value, at: &str, lints: &mut Lints) {
        let Some(map) = item.as_object_mut() else {
            return;
        };
        // A reference to `components/pathItems` is replaced by the item
        // (already converted); its siblings override the item's fields.
        if let Some(Value::String(target)) = map.get("$ref")
            && let Some(name) = target.strip_prefix("#/components/pathItems/")
        {
            let name = name.replace("~1", "/").replace("~0", "~");
            let Some(Value::Object(referenced)) = self.path_items.get(&name).cloned() else {
                lints.add(at, format!("path item reference {target} points nowhere"));
                return;
            };
            map.shift_remove("$ref");
            for (k, v) in referenced {
                map.entry(k).or_insert(v);
            }
            return;
        }
        if let Some(Value::Array(params)) = map.get_mut("parameters") {
            let here = join(at, "parameters");
            for (i, p) in params.iter_mut().enumerate() {
                self.parameter(p, &format!("{here}/{i}"), lints);
            }
        }
        for method in METHODS {
            if let Some(Value::Object(op)) = map.get_mut(*method) {
                self.operation(op, &join(at, method), lints);
            }
        }
    }

    fn operation(&self, op: &mut Map<String, Value>, at: &str, lints: &mut Lints) {
        if let Some(Value::Array(params)) = op.get_mut("parameters") {
            let here = join(at, "parameters");
            for (i, p) in params.iter_mut().enumerate() {
                self.parameter(p, &format!("{here}/{i}"), lints);
            }
        }
        if let Some(body) = op.get_mut("requestBody") {
            self.body(body, &join(at, "requestBody"), lints);
        }
        match op.get_mut("responses") {
            Some(Value::Object(responses)) => {
                let here = join(at, "responses");
                for (status, r) in responses.iter_mut() {
                    self.response(r, &join(&here, status), lints);
                }
            }
            // 3.1 makes `responses` optional; 3.0 requires it.
            _ => {
                op.insert("responses".into(), Value::Object(Map::new()));
            }
        }
        if let Some(Value::Object(callbacks)) = op.get_mut("callbacks") {
            let here = join(at, "callbacks");
            for (name, c) in callbacks.iter_mut() {
                self.callback(c, &join(&here, name), lints);
            }
        }
    }

    fn callback(&self, callback: &mut Value, at: &str, lints: &mut Lints) {
        if self.reference(callback, at, lints) {
            return;
        }
        if let Some(map) = callback.as_object_mut() {
            for (expression, item) in map.iter_mut() {
                self.path_item(item, &join(at, expression), lints);
            }
        }
    }

    /// A parameter or a header: a schema, or content.
    fn parameter(&self, param: &mut Value, at: &str, lints: &mut Lints) {
        if self.reference(param, at, lints) {
            return;
        }
        if let Some(s) = param.get_mut("schema") {
            schema::convert(s, &join(at, "schema"), lints);
        }
        if let Some(content) = param.get_mut("content") {
            self.content(content, &join(at, "content"), lints);
        }
    }

    fn body(&self, body: &mut Value, at: &str, lints: &mut Lints) {
        if self.reference(body, at, lints) {
            return;
        }
        if let Some(content) = body.get_mut("content") {
            self.content(content, &join(at, "content"), lints);
        }
    }

    fn response(&self, response: &mut Value, at: &str, lints: &mut Lints) {
        if self.reference(response, at, lints) {
            return;
        }
        if let Some(Value::Object(headers)) = response.get_mut("headers") {
            let here = join(at, "headers");
            for (name, h) in headers.iter_mut() {
                self.parameter(h, &join(&here, name), lints);
            }
        }
        if let Some(content) = response.get_mut("content") {
            self.content(content, &join(at, "content"), lints);
        }
    }

    fn content(&self, content: &mut Value, at: &str, lints: &mut Lints) {
        let Some(content) = content.as_object_mut() else {
            return;
        };
        for (media, m) in content.iter_mut() {
            let here = join(at, media);
            if let Some(s) = m.get_mut("schema") {
                schema::convert(s, &join(&here, "schema"), lints);
            }
            if let Some(Value::Object(encodings)) = m.get_mut("encoding") {
                for (name, e) in encodings.iter_mut() {
                    if let Some(Value::Object(headers)) = e.get_mut("headers") {
                        let there = join(&join(&join(&here, "encoding"), name), "headers");
                        for (h, header) in headers.iter_mut() {
                            self.parameter(header, &join(&there, h), lints);
                        }
                    }
                }
            }
        }
    }

    /// A reference object (not a schema): true when `node` is one. 3.1 lets
    /// it override `summary` and `description`, which 3.0 cannot: dropped
    /// with a lint.
    fn reference(&self, node: &mut Value, at: &str, lints: &mut Lints) -> bool {
        let Some(map) = node.as_object_mut() else {
            return false;
        };
        if !map.contains_key("$ref") {
            return false;
        }
        for key in ["summary", "description"] {
            if map.shift_remove(key).is_some() {
                lints.add(
                    &join(at, key),
                    format!("OpenAPI 3.0 cannot override the `{key}` of a referenced object: the referenced one's is used"),
                );
            }
        }
        true
    }
}
