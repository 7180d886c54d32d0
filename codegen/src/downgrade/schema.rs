//! One JSON Schema 2020-12 (OpenAPI 3.1) schema into its OpenAPI 3.0 form,
//! children first, so a parent rewrite only ever moves 3.0 schemas around.

use serde_json::{Map, Value, json};

use super::{Lints, OPENAPI_DIALECT, join};

/// Keywords holding one subschema.
const ONE: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
];
/// Keywords holding a name -> subschema mapping.
const MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "dependentSchemas",
    "$defs",
];
/// Keywords holding a list of subschemas.
const LISTS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];

/// Keywords that describe a schema rather than constrain it: they stay on a
/// `$ref` wrapper (OpenAPI 3.0 ignores siblings of a bare `$ref`).
const DOCS: &[&str] = &[
    "description",
    "title",
    "summary",
    "deprecated",
    "readOnly",
    "writeOnly",
    "example",
    "default",
    "nullable",
    "externalDocs",
];

/// Keywords that apply to one JSON type only: split per branch when `type`
/// lists several.
const BY_TYPE: &[(&str, &[&str])] = &[
    ("string", &["minLength", "maxLength", "pattern"]),
    (
        "number",
        &[
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
        ],
    ),
    (
        "integer",
        &[
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
        ],
    ),
    ("array", &["items", "minItems", "maxItems", "uniqueItems"]),
    (
        "object",
        &[
            "properties",
            "required",
            "additionalProperties",
            "minProperties",
            "maxProperties",
            "discriminator",
        ],
    ),
];

/// The 3.0 extension holding a 3.1 tuple's position schemas (`prefixItems`).
pub(crate) const PREFIX_ITEMS: &str = "x-prefix-items";

/// Rewrites the schema at `node` (pointer `at` in the original document).
pub(super) fn convert(node: &mut Value, at: &str, lints: &mut Lints) {
    match node {
        Value::Bool(true) => *node = json!({}),
        Value::Bool(false) => *node = json!({ "not": {} }),
        _ => {}
    }
    let Value::Object(map) = node else {
        return;
    };
    children(map, at, lints);
    identifiers(map, at, lints);
    constant(map, at, lints);
    examples(map, at, lints);
    exclusive_bounds(map);
    content(map, at, lints);
    prefix_items(map, at, lints);
    object_keywords(map, at, lints);
    unexpressible(map, at, lints);
    null_alternatives(map);
    types(map, at, lints);
    reference_siblings(map);
}

fn children(map: &mut Map<String, Value>, at: &str, lints: &mut Lints) {
    for key in ONE {
        if let Some(child) = map.get_mut(*key)
            && (child.is_object()
                || !matches!(
                    *key,
                    "additionalProperties" | "items" | "unevaluatedProperties" | "unevaluatedItems"
                ))
        {
            convert(child, &join(at, key), lints);
        }
    }
    for key in MAPS {
        if let Some(Value::Object(children)) = map.get_mut(*key) {
            let here = join(at, key);
            for (name, child) in children.iter_mut() {
                convert(child, &join(&here, name), lints);
            }
        }
    }
    for key in LISTS {
        if let Some(Value::Array(children)) = map.get_mut(*key) {
            let here = join(at, key);
            for (i, child) in children.iter_mut().enumerate() {
                convert(child, &format!("{here}/{i}"), lints);
            }
        }
    }
}

/// `$schema`, `$id`, `$anchor`, `$dynamicRef`, ...: JSON Schema's own
/// identifiers, which OpenAPI 3.0 has none of.
fn identifiers(map: &mut Map<String, Value>, at: &str, lints: &mut Lints) {
    map.shift_remove("$comment");
    if let Some(dialect) = map.shift_remove("$schema") {
        let known = [
            OPENAPI_DIALECT,
            "https://json-schema.org/draft/2020-12/schema",
        ];
        if !dialect.as_str().is_some_and(|d| known.contains(&d)) {
            lints.add(
                &join(at, "$schema"),
                format!("schema dialect {dialect} is not OpenAPI 3.1's: the schema is read as OpenAPI's dialect"),
            );
        }
    }
    for key in [
        "$id",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "$vocabulary",
    ] {
        if map.shift_remove(key).is_some() {
            lints.add(
                &join(at, key),
                format!("`{key}` has no OpenAPI 3.0 form and is ignored: refer to schemas with `$ref: '#/components/schemas/...'`"),
            );
        }
    }
}

/// `const: v` is the one-value `enum: [v]`; without a `type` the value's
/// type is the schema's.
fn constant(map: &mut Map<String, Value>, at: &str, lints: &mut Lints) {
    let Some(value) = map.shift_remove("const") else {
        return;
    };
    if let Some(Value::Array(values)) = map.get("enum")
        && !values.contains(&value)
    {
        lints.add(
            &join(at, "const"),
            "`const` is not one of `enum`: no value is valid; the generated type takes the `const` value",
        );
    }
    if !map.contains_key("type") {
        let t = match &value {
            Value::String(_) => Some("string"),
            Value::Bool(_) => Some("boolean"),
            Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
            Value::Number(_) => Some("number"),
            Value::Object(_) => Some("object"),
            Value::Array(_) => Some("array"),
            Value::Null => None,
        };
        if let Some(t) = t {
            map.insert("type".into(), t.into());
        }
    }
    map.insert("enum".into(), Value::Array(vec![value]));
}

/// A schema's `examples` list: the first becomes `example`.
fn examples(map: &mut Map<String, Value>, at: &str, lints: &mut Lints) {
    if !map.get("examples").is_some_and(Value::is_array) {
        return;
    }
    let Some(Value::Array(list)) = map.shift_remove("examples") else {
        return;
    };
    let count = list.len();
    if let Some(first) = list.into_iter().next()
        && !map.contains_key("example")
    {
        map.insert("example".into(), first);
    }
    if count > 1 {
        lints.add(
            &join(at, "examples"),
            format!(
                "OpenAPI 3.0 has one schema `example`: the first of {count} `examples` is kept"
            ),
        );
    }
}

/// Numeric `exclusiveMinimum: n` is `minimum: n, exclusiveMinimum: true`
/// (the stricter bound when both are given); likewise for the maximum.
fn exclusive_bounds(map: &mut Map<String, Value>) {
    for (exclusive, inclusive, stricter) in [
        ("exclusiveMinimum", "minimum", 1.0),
        ("exclusiveMaximum", "maximum", -1.0),
    ] {
        let Some(bound) = map.get(exclusive).filter(|b| b.is_number()).cloned() else {
            continue;
        };
        let b = bound.as_f64().unwrap_or_default();
        match map.get(inclusive).and_then(Value::as_f64) {
            // The inclusive bound is stricter: the exclusive one adds nothing.
            Some(i) if (i - b) * stricter > 0.0 => {
                map.shift_remove(exclusive);
            }
            _ => {
                map.insert(inclusive.into(), bound);
                map.insert(exclusive.into(), Value::Bool(true));
            }
        }
    }
}

/// `contentEncoding: base64` is `format: byte`; raw bytes of a non-text
/// `contentMediaType` are `format: binary`.
fn content(map: &mut Map<String, Value>, at: &str, lints: &mut Lints) {
    let encoding = map.shift_remove("contentEncoding");
    let media = map.shift_remove("contentMediaType");
    let is_string = map.get("type").is_none_or(|t| t == "string");
    let format = match (&encoding, &media) {
        (Some(e), _) if e == "base64" || e == "base64url" => Some("byte"),
        (Some(e), _) if e == "binary" || e == "8bit" || e == "7bit" => Some("binary"),
        (Some(e), _) => {
            lints.add(
                &join(at, "contentEncoding"),
                format!("content encoding {e} has no OpenAPI 3.0 format: the value is a plain string, not decoded"),
            );
            None
        }
        (None, Some(m)) => {
            let text = m.as_str().is_some_and(|m| {
                m.starts_with("text/") || m.ends_with("json") || m.ends_with("xml")
            });
            (!text).then_some("binary")
        }
        (None, None) => None,
    };
    if let Some(format) = format {
        if !is_string {
            lints.add(
                at,
                "`contentEncoding`/`contentMediaType` on a non-string schema is ignored",
            );
        } else if !map.contains_key("format") {
            map.insert("type".into(), "string".into());
            map.insert("format".into(), format.into());
        }
    }
}

/// `prefixItems` (a tuple) has no 3.0 form: each element is typed as one of
/// the position schemas (and `items`), and the lint says so. The positions
/// stay in the extension [`PREFIX_ITEMS`], which the server stubs' checks
/// apply to each element in place.
fn prefix_items(map: &mut Map<String, Value>, at: &str, lints: &mut Lints) {
    let Some(Value::Array(prefix)) = map.shift_remove("prefixItems") else {
        return;
    };
    let count = prefix.len();
    map.insert(PREFIX_ITEMS.into(), Value::Array(prefix.clone()));
    let mut alternatives: Vec<Value> = Vec::new();
    for schema in prefix {
        if !alternatives.contains(&schema) {
            alternatives.push(schema);
        }
    }
    let mut open = true;
    match map.shift_remove("items") {
        Some(Value::Bool(false)) => {
            open = false;
            map.entry("maxItems").or_insert(Value::from(count));
        }
        Some(Value::Object(extra)) if extra.is_empty() => {}
        Some(extra @ Value::Object(_)) => {
            open = false;
            if !alternatives.contains(&extra) {
                alternatives.push(extra);
            }
        }
        _ => {}
    }
    if open {
        // Items past the tuple may be anything: so may every element.
        lints.add(
            &join(at, "prefixItems"),
            format!("`prefixItems` (a tuple of {count}) has no OpenAPI 3.0 form and items past it are unconstrained: the elements are untyped JSON values (the server stubs check each position)"),
        );
        return;
    }
    lints.add(
        &join(at, "prefixItems"),
        format!("`prefixItems` (a tuple of {count}) has no OpenAPI 3.0 form: every element is typed as one of the position schemas (the server stubs check each position)"),
    );
    let items = if alternatives.len() == 1 {
        alternatives.remove(0)
    } else {
        json!({ "oneOf": alternatives })
    };
    map.entry("type").or_insert(Value::from("array"));
    map.insert("items".into(), items);
}

/// `patternProperties` and `unevaluatedProperties` where they mean what
/// `additionalProperties` says; lints where they do not.
fn object_keywords(map: &mut Map<String, Value>, at: &str, lints: &mut Lints) {
    if let Some(Value::Object(patterns)) = map.shift_remove("patternProperties") {
        let closed = map.get("additionalProperties") == Some(&Value::Bool(false));
        let here = join(at, "patternProperties");
        if patterns.len() == 1 && (closed || !map.contains_key("additionalProperties")) {
            let (pattern, schema) = patterns.into_iter().next().unwrap_or_default();
            lints.add(
                &here,
                format!("OpenAPI 3.0 has no `patternProperties`: other properties are typed as its schema, and their names are not checked against `{pattern}`"),
            );
            map.insert("additionalProperties".into(), schema);
        } else {
            lints.add(
                &here,
                "OpenAPI 3.0 has no `patternProperties`: these patterns and their schemas are not checked; other properties are allowed",
            );
            if closed {
                map.shift_remove("additionalProperties");
            }
        }
    }
    if let Some(rest) = map.shift_remove("unevaluatedProperties") {
        let composed = ["allOf", "anyOf", "oneOf", "$ref"]
            .iter()
            .any(|k| map.contains_key(*k));
        if !composed && !map.contains_key("additionalProperties") {
            // Without composition, "unevaluated" is "additional".
            map.insert("additionalProperties".into(), rest);
        } else {
            lints.add(
                &join(at, "unevaluatedProperties"),
                "`unevaluatedProperties` beside `allOf`/`anyOf`/`oneOf`/`$ref` has no OpenAPI 3.0 form: other properties are allowed",
            );
        }
    }
}

/// Keywords with no 3.0 form and no Rust type to carry them: removed, each
/// with a lint saying what goes unchecked.
fn unexpressible(map: &mut Map<String, Value>, at: &str, lints: &mut Lints) {
    const WHAT: &[(&str, &str)] = &[
        (
            "dependentRequired",
            "properties required when another is present are not checked",
        ),
        (
            "dependentSchemas",
            "schemas applied when a property is present are not checked",
        ),
        (
            "if",
            "the conditional `if`/`then`/`else` is not checked; values are typed by the rest of the schema",
        ),
        ("then", "not checked (see `if`)"),
        ("else", "not checked (see `if`)"),
        ("unevaluatedItems", "extra array items are not checked"),
        (
            "contains",
            "that some item matches `contains` is not checked",
        ),
        ("minContains", "not checked (see `contains`)"),
        ("maxContains", "not checked (see `contains`)"),
        ("propertyNames", "property names are not checked"),
    ];
    for (key, what) in WHAT {
        if map.shift_remove(*key).is_some() {
            lints.add(
                &join(at, key),
                format!("`{key}` has no OpenAPI 3.0 form or Rust type: {what}"),
            );
        }
    }
}

/// Whether `schema` admits `null` only (`type: null`, after conversion).
fn is_null(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            map.get("type") == Some(&Value::from("null"))
                || (map.get("enum") == Some(&json!([null]))
                    && map
                        .keys()
                        .all(|k| k == "enum" || k == "nullable" || DOCS.contains(&k.as_str())))
        }
        _ => false,
    }
}

/// `anyOf`/`oneOf` with a `null` alternative: `nullable` on the rest (an
/// `Option` in Rust).
fn null_alternatives(map: &mut Map<String, Value>) {
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(list)) = map.get_mut(key) else {
            continue;
        };
        if list.len() < 2 || !list.iter().any(is_null) {
            continue;
        }
        list.retain(|s| !is_null(s));
        map.insert("nullable".into(), Value::Bool(true));
        let single = map
            .get(key)
            .and_then(Value::as_array)
            .is_some_and(|l| l.len() == 1)
            && !map.contains_key("allOf");
        if single && let Some(list) = map.shift_remove(key) {
            map.insert("allOf".into(), list);
        }
    }
}

/// `type` as a list: with `null`, `nullable: true`; with several other
/// types, a `oneOf` of one branch per type (its own keywords moved into it).
fn types(map: &mut Map<String, Value>, at: &str, lints: &mut Lints) {
    let listed: Vec<String> = match map.get("type") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(t)) if t == "null" => vec![t.clone()],
        Some(Value::String(_)) | None => return,
        Some(other) => {
            lints.add(
                &join(at, "type"),
                format!("`type` must be a name or a list of names, not {other}: ignored"),
            );
            map.shift_remove("type");
            return;
        }
    };
    map.shift_remove("type");
    let nullable = listed.iter().any(|t| t == "null");
    let mut rest: Vec<String> = Vec::new();
    for t in listed {
        // `number` already admits every integer: oneOf needs disjoint branches.
        if t != "null" && !rest.contains(&t) {
            rest.push(t);
        }
    }
    if rest.iter().any(|t| t == "number") {
        rest.retain(|t| t != "integer");
    }
    if nullable {
        map.insert("nullable".into(), Value::Bool(true));
    }
    match rest.as_slice() {
        [] => {
            map.insert("enum".into(), json!([null]));
        }
        [one] => {
            map.insert("type".into(), Value::from(one.as_str()));
        }
        _ => {
            if map.contains_key("oneOf") {
                lints.add(
                    &join(at, "type"),
                    "a `type` list beside `oneOf` has no OpenAPI 3.0 form: the `type` list is not checked",
                );
                return;
            }
            let values = map.shift_remove("enum");
            let format = map.shift_remove("format");
            let mut branches = Vec::new();
            for t in &rest {
                let mut branch = Map::new();
                branch.insert("type".into(), Value::from(t.as_str()));
                if let Some((_, keys)) = BY_TYPE.iter().find(|(name, _)| name == t) {
                    for key in *keys {
                        if let Some(v) = map.get(*key) {
                            branch.insert((*key).into(), v.clone());
                        }
                    }
                }
                if let Some(f) = format.as_ref().filter(|f| format_fits(f, t)) {
                    branch.insert("format".into(), f.clone());
                }
                if let Some(Value::Array(values)) = &values {
                    let of_type: Vec<Value> = values
                        .iter()
                        .filter(|v| value_fits(v, t))
                        .cloned()
                        .collect();
                    if of_type.is_empty() {
                        continue;
                    }
                    branch.insert("enum".into(), Value::Array(of_type));
                }
                branches.push(Value::Object(branch));
            }
            for (_, keys) in BY_TYPE {
                for key in *keys {
                    map.shift_remove(*key);
                }
            }
            map.insert("oneOf".into(), Value::Array(branches));
        }
    }
}

fn format_fits(format: &Value, t: &str) -> bool {
    let numeric = matches!(
        format.as_str(),
        Some("int32" | "int64" | "float" | "double")
    );
    match t {
        "string" => !numeric,
        "integer" | "number" => numeric,
        _ => false,
    }
}

fn value_fits(value: &Value, t: &str) -> bool {
    match t {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

/// A `$ref` with sibling keywords (3.1 applies both; 3.0 ignores the
/// siblings): `allOf: [{$ref}]`, its documentation and `nullable` beside it,
/// its constraints in a second `allOf` member.
fn reference_siblings(map: &mut Map<String, Value>) {
    if !map.contains_key("$ref") || map.len() == 1 {
        return;
    }
    let Some(target) = map.shift_remove("$ref") else {
        return;
    };
    let mut constraints = Map::new();
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        if !(DOCS.contains(&key.as_str()) || key.starts_with("x-") || key == "allOf")
            && let Some(v) = map.shift_remove(&key)
        {
            constraints.insert(key, v);
        }
    }
    let mut all_of = match map.shift_remove("allOf") {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    all_of.insert(0, json!({ "$ref": target }));
    if !constraints.is_empty() {
        all_of.push(Value::Object(constraints));
    }
    map.insert("allOf".into(), Value::Array(all_of));
}
