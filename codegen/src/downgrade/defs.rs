//! `$defs` (schemas kept inside a schema, 3.1; `definitions` in documents
//! written for older JSON Schema drafts) move to `components/schemas`, the
//! only place OpenAPI 3.0 keeps named schemas, and every `$ref` to them
//! follows.

use serde_json::{Map, Value};

use super::{Lints, free_name, join};

/// The keywords that hold named subschemas.
const KEYWORDS: &[&str] = &["$defs", "definitions"];

/// Keywords whose value maps names to schemas.
const NAMED: &[&str] = &[
    "properties",
    "patternProperties",
    "dependentSchemas",
    "$defs",
    "definitions",
    "schemas",
];

/// Keys whose values are data, never schemas: not searched for `$defs`.
const DATA_KEYS: &[&str] = &["example", "examples", "default", "enum", "const"];

/// Moves every `$defs` entry of the document into `components/schemas`.
pub(super) fn hoist(doc: &mut Value, lints: &mut Lints) {
    let mut found = Vec::new();
    collect(doc, "", false, &mut found);
    if found.is_empty() {
        return;
    }
    // Deepest first: a `$defs` inside another moves out before its parent.
    found.sort_by_key(|(at, _)| std::cmp::Reverse(at.len()));
    let mut taken: std::collections::BTreeSet<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut moved: Vec<(String, String)> = Vec::new();
    let mut hoisted = Map::new();
    for (at, keyword) in &found {
        let Some(Value::Object(defs)) = doc
            .pointer_mut(at)
            .and_then(Value::as_object_mut)
            .and_then(|m| m.shift_remove(*keyword))
        else {
            continue;
        };
        for (key, schema) in defs {
            let name = free_name(&key, &taken);
            taken.insert(name.clone());
            let old = join(&join(&format!("#{at}"), keyword), &key);
            let new = join("#/components/schemas", &name);
            lints.add(
                &old,
                format!(
                    "`{keyword}` entry moved to {new} (OpenAPI 3.0 keeps named schemas there only); its type is named after `{name}`"
                ),
            );
            moved.push((old, new));
            hoisted.insert(name, schema);
        }
    }
    if let Some(root) = doc.as_object_mut() {
        let components = root
            .entry("components")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(components) = components.as_object_mut() {
            let schemas = components
                .entry("schemas")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(schemas) = schemas.as_object_mut() {
                schemas.extend(hoisted);
            }
        }
    }
    // Longest old pointer first, so a nested entry wins over its parent.
    moved.sort_by_key(|(old, _)| std::cmp::Reverse(old.len()));
    retarget(doc, &moved);
}

/// Pointers (without `#`) of every object that holds a `$defs` (or
/// `definitions`) mapping, with the keyword. `names`: `node` maps names to
/// schemas (`properties`, ...), where `$defs` would be a property's name.
fn collect(node: &Value, at: &str, names: bool, found: &mut Vec<(String, &'static str)>) {
    match node {
        Value::Object(map) => {
            for keyword in KEYWORDS.iter().filter(|_| !names) {
                if map.get(*keyword).is_some_and(Value::is_object) {
                    found.push((at.to_string(), keyword));
                }
            }
            for (key, value) in map {
                if !names && (DATA_KEYS.contains(&key.as_str()) || key.starts_with("x-")) {
                    continue;
                }
                let holds_names = !names && NAMED.contains(&key.as_str());
                collect(value, &join(at, key), holds_names, found);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect(item, &format!("{at}/{i}"), false, found);
            }
        }
        _ => {}
    }
}

/// Rewrites every `$ref` that points into a moved entry.
fn retarget(node: &mut Value, moved: &[(String, String)]) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get_mut("$ref") {
                for (old, new) in moved {
                    if let Some(rest) = target.strip_prefix(old.as_str())
                        && (rest.is_empty() || rest.starts_with('/'))
                    {
                        *target = format!("{new}{rest}");
                        break;
                    }
                }
            }
            map.values_mut().for_each(|v| retarget(v, moved));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| retarget(v, moved)),
        _ => {}
    }
}
