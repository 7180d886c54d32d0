//! References that point anywhere in the document (a JSON pointer into a
//! path, a parameter's schema, a property of another schema), which 3.1
//! documents use freely and the 3.0 generators cannot follow: they only
//! resolve `#/components/<kind>/<name>`. A schema so referenced moves to
//! `components/schemas` (a `$ref` left in its place); any other object is
//! copied where it is referenced. Percent-encoded pointers are decoded.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{Lints, free_name, join};
use crate::pointer::{escape, from_fragment};

/// Keys whose values are data, never references.
const DATA_KEYS: &[&str] = &["example", "examples", "default", "enum", "const"];
/// Keys holding one schema.
const ONE_SCHEMA: &[&str] = &[
    "schema",
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
/// Keys holding a name -> schema mapping.
const SCHEMA_MAPS: &[&str] = &["properties", "patternProperties", "dependentSchemas"];
/// Keys holding a list of schemas.
const SCHEMA_LISTS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];

/// One `$ref` found: where it is, and whether it stands for a schema.
struct Found {
    at: Vec<String>,
    target: String,
    schema: bool,
}

/// Rewrites every reference that is not `#/components/<kind>/<name>`.
pub(super) fn resolve(doc: &mut Value, lints: &mut Lints) {
    let mut found = Vec::new();
    collect(doc, &mut Vec::new(), &mut found);
    let mut taken: BTreeSet<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    // Schema targets: deepest first, so one inside another moves out first.
    let mut schema_targets: Vec<String> = found
        .iter()
        .filter(|f| f.schema && !is_component(&f.target))
        .map(|f| f.target.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    schema_targets.sort_by_key(|t| std::cmp::Reverse(t.len()));
    // Names first; the references change before anything moves, so every
    // place found is still where it was.
    let mut moved: BTreeMap<String, String> = BTreeMap::new();
    for target in &schema_targets {
        if doc.pointer(target).is_none() {
            continue;
        }
        let name = component_name(target, &taken);
        taken.insert(name.clone());
        moved.insert(target.clone(), name);
    }
    // Schema references first: an object copied next carries them rewritten.
    let (schemas, others): (Vec<&Found>, Vec<&Found>) = found
        .iter()
        .partition(|f| f.schema || is_component(&f.target));
    for f in schemas.into_iter().chain(others) {
        let pointer = to_pointer(&f.at);
        let replacement = if is_component(&f.target) {
            Some(serde_json::json!({ "$ref": format!("#{}", f.target) }))
        } else if let Some(name) = moved.get(&f.target) {
            Some(serde_json::json!({ "$ref": join("#/components/schemas", name) }))
        } else if !f.schema {
            inline(doc, &f.target)
        } else {
            None
        };
        let (Some(Value::Object(fields)), Some(Value::Object(node))) =
            (replacement, doc.pointer_mut(&pointer))
        else {
            continue;
        };
        node.shift_remove("$ref");
        // A copied object keeps the reference's own siblings over its fields.
        for (k, v) in fields {
            if k == "$ref" {
                node.insert(k, v);
            } else {
                node.entry(k).or_insert(v);
            }
        }
    }
    for target in &schema_targets {
        let Some(name) = moved.get(target) else {
            continue;
        };
        let new = join("#/components/schemas", name);
        let Some(place) = doc.pointer_mut(target) else {
            continue;
        };
        let value = std::mem::replace(place, serde_json::json!({ "$ref": new }));
        if let Some(schemas) = schemas_mut(doc) {
            schemas.insert(name.clone(), value);
        }
        lints.add(
            &format!("#{target}"),
            format!("this schema is referenced by a JSON pointer the generators cannot follow: it becomes the component {new} (type `{name}`)"),
        );
    }
}

fn to_pointer(at: &[String]) -> String {
    at.iter().map(|s| format!("/{}", escape(s))).collect()
}

/// The object at `target`, following references to references (a few).
fn inline(doc: &Value, target: &str) -> Option<Value> {
    let mut target = target.to_string();
    for _ in 0..8 {
        let value = doc.pointer(&target)?;
        match value.get("$ref").and_then(Value::as_str) {
            Some(next) if !is_component(&decode(next)?) => target = decode(next)?,
            _ => return Some(value.clone()),
        }
    }
    None
}

fn schemas_mut(doc: &mut Value) -> Option<&mut Map<String, Value>> {
    let root = doc.as_object_mut()?;
    let components = root
        .entry("components")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()?;
    components
        .entry("schemas")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

/// Whether a decoded pointer names a component directly.
fn is_component(target: &str) -> bool {
    let segments: Vec<&str> = target.split('/').collect();
    segments.len() == 4 && segments[0].is_empty() && segments[1] == "components"
}

/// A local reference (`#/...`) as a plain JSON pointer, percent-decoded.
fn decode(reference: &str) -> Option<String> {
    Some(from_fragment(reference.strip_prefix('#')?).into_owned())
}

/// A component name from the target's last meaningful segments.
fn component_name(target: &str, taken: &BTreeSet<String>) -> String {
    let words: Vec<String> = target
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .filter(|s| {
            !s.is_empty()
                && !s.bytes().all(|b| b.is_ascii_digit())
                && ![
                    "components",
                    "schemas",
                    "parameters",
                    "paths",
                    "properties",
                    "items",
                    "schema",
                    "content",
                    "allOf",
                    "anyOf",
                    "oneOf",
                    "responses",
                    "requestBody",
                ]
                .contains(&s.as_str())
                && !s.contains('/')
        })
        .collect();
    let tail = words.len().saturating_sub(2);
    let base: String = words[tail..]
        .iter()
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<String>()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let base = if base.is_empty() {
        "Referenced".to_string()
    } else {
        base
    };
    free_name(&base, taken)
}

/// Every `$ref` with a local target, and whether its place holds a schema.
fn collect(node: &Value, at: &mut Vec<String>, found: &mut Vec<Found>) {
    match node {
        Value::Object(map) => {
            if let Some(target) = map.get("$ref").and_then(Value::as_str).and_then(decode) {
                let original = map.get("$ref").and_then(Value::as_str).unwrap_or_default();
                // Only references the generators cannot take as written.
                if !is_component(&target) || original != format!("#{target}") {
                    found.push(Found {
                        at: at.clone(),
                        target,
                        schema: in_schema_place(at),
                    });
                }
            }
            // In `properties` and the like, `default` or `example` is a name.
            let names = at
                .last()
                .is_some_and(|k| SCHEMA_MAPS.contains(&k.as_str()) || k == "schemas");
            for (key, value) in map {
                if !names && (DATA_KEYS.contains(&key.as_str()) || key.starts_with("x-")) {
                    continue;
                }
                at.push(key.clone());
                collect(value, at, found);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push(i.to_string());
                collect(item, at, found);
                at.pop();
            }
        }
        _ => {}
    }
}

/// Whether the place `at` holds a schema (by the keys leading to it).
fn in_schema_place(at: &[String]) -> bool {
    let n = at.len();
    let last = at.last().map(String::as_str).unwrap_or_default();
    let before = if n >= 2 { at[n - 2].as_str() } else { "" };
    ONE_SCHEMA.contains(&last)
        || SCHEMA_MAPS.contains(&before)
        || SCHEMA_LISTS.contains(&before)
        || (n == 3 && at[0] == "components" && at[1] == "schemas")
}
