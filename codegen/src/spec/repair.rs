//! Values the generators refuse, repaired with a lint naming the place:
//! a `default` or `enum` value that breaks its own schema (its type, bounds
//! or, for an object, a required property missing; typify refuses the
//! whole type; a string schema's numbers and booleans are read
//! as their text instead), and carriage returns in descriptions (a bare
//! CR is not allowed in a Rust doc comment). A string's `minLength: 0`,
//! which says nothing, is dropped without a lint: typify would check it as
//! `count() < 0usize`, a comparison clippy refuses as always false. A
//! `format` on an object, array or boolean (typify stops on it) is dropped,
//! and so is a property whose Rust name an earlier property has.

use serde_json::Value;

use crate::error::Problem;
use crate::pointer::At;

/// Properties with one Rust field name (`prefs/background` and
/// `prefs_background`): typify would declare the field twice. The first
/// stays; the others are left out (and out of `required`), with a lint.
fn one_field_per_name(
    map: &mut serde_json::Map<String, Value>,
    at: &At<'_>,
    notes: &mut Vec<Problem>,
) -> bool {
    let Some(Value::Object(properties)) = map.get_mut("properties") else {
        return false;
    };
    let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let mut dropped = Vec::new();
    for key in properties.keys() {
        let field = crate::names::field_name(key);
        if let Some(first) = seen.get(&field) {
            dropped.push((key.clone(), first.clone()));
        } else {
            seen.insert(field, key.clone());
        }
    }
    for (key, first) in &dropped {
        properties.shift_remove(key);
        notes.push(Problem {
            pointer: at.key("properties").key(key).to_string(),
            message: format!(
                "property `{key}` has the Rust name of property `{first}`; the generators leave it out"
            ),
        });
    }
    if let Some(Value::Array(required)) = map.get_mut("required") {
        required.retain(|r| !dropped.iter().any(|(key, _)| r.as_str() == Some(key)));
    }
    !dropped.is_empty()
}

/// Repairs the document in place; returns whether anything changed.
pub(crate) fn repair(node: &mut Value, at: &str, notes: &mut Vec<Problem>) -> bool {
    walk(node, &At::Root(at), notes, false)
}

/// `names`: the keys of this object are names (of properties, paths,
/// components), not keywords.
fn walk(node: &mut Value, at: &At<'_>, notes: &mut Vec<Problem>, names: bool) -> bool {
    let mut changed = false;
    match node {
        Value::Object(map) if names => {
            for (key, child) in map.iter_mut() {
                changed |= walk(child, &at.key(key), notes, false);
            }
        }
        Value::Object(map) => {
            for key in ["description", "summary", "title"] {
                if let Some(Value::String(text)) = map.get_mut(key)
                    && text.contains('\r')
                {
                    *text = text.replace("\r\n", "\n").replace('\r', "\n");
                    changed = true;
                }
            }
            if map.get("type").and_then(Value::as_str) == Some("string")
                && map.get("minLength").and_then(Value::as_u64) == Some(0)
            {
                map.shift_remove("minLength");
                changed = true;
            }
            if let Some(ty @ ("object" | "array" | "boolean")) =
                map.get("type").and_then(Value::as_str)
                && map.contains_key("format")
            {
                // typify stops (`todo!`) on a format beside these types.
                notes.push(Problem {
                    pointer: format!("{at}/format"),
                    message: format!(
                        "a `format` on type `{ty}` means nothing; the generators leave it out"
                    ),
                });
                map.shift_remove("format");
                changed = true;
            }
            if let Some(Value::String(ty)) = map.get("type") {
                let ty = ty.clone();
                let nullable = map.get("nullable") == Some(&Value::Bool(true));
                changed |= scalars_as_text(map, &ty, at, notes);
                if let Some(Value::Array(values)) = map.get_mut("enum") {
                    let before = values.len();
                    values.retain(|v| fits(&ty, v) || (nullable && v.is_null()));
                    if values.len() != before {
                        notes.push(Problem {
                            pointer: format!("{at}/enum"),
                            message: format!(
                                "{} enum value(s) are not of type `{ty}`; the generators leave them out",
                                before - values.len()
                            ),
                        });
                        changed = true;
                    }
                    if values.is_empty() {
                        map.shift_remove("enum");
                    }
                }
                if let Some(default) = map.get("default") {
                    let listed = map
                        .get("enum")
                        .and_then(Value::as_array)
                        .is_none_or(|values| values.contains(default));
                    let valid = (fits(&ty, default) || (nullable && default.is_null()))
                        && listed
                        && within_bounds(map, default)
                        && has_required(map, default);
                    if !valid {
                        notes.push(Problem {
                            pointer: format!("{at}/default"),
                            message: format!(
                                "default {default} does not fit its schema (type `{ty}`{}); the generators leave it out",
                                if listed { "" } else { ", enum" }
                            ),
                        });
                        map.shift_remove("default");
                        changed = true;
                    }
                }
            }
            changed |= one_field_per_name(map, at, notes);
            for (key, child) in map.iter_mut() {
                // Examples and defaults are data, not schemas.
                if matches!(key.as_str(), "example" | "examples" | "default" | "enum") {
                    continue;
                }
                let names = matches!(
                    key.as_str(),
                    "properties" | "paths" | "schemas" | "parameters" | "responses" | "content"
                ) && child.is_object();
                changed |= walk(child, &at.key(key), notes, names);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                changed |= walk(child, &at.index(i), notes, false);
            }
        }
        _ => {}
    }
    changed
}

/// The text of a number or boolean, for a `type: string` schema listing one.
fn text_of(value: &Value) -> Option<Value> {
    (value.is_number() || value.is_boolean()).then(|| Value::String(value.to_string()))
}

/// A `type: string` schema whose `enum` (or `default`) lists numbers or
/// booleans (`enum: [1, 2, 3]`): every parameter and JSON string is text,
/// so they are read as their text (`"1"`), which is what such a spec means;
/// with a lint. Dropping them would leave the parameter unchecked.
fn scalars_as_text(
    map: &mut serde_json::Map<String, Value>,
    ty: &str,
    at: &At<'_>,
    notes: &mut Vec<Problem>,
) -> bool {
    if ty != "string" {
        return false;
    }
    let mut changed = false;
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        let mut read = Vec::new();
        for v in values.iter_mut() {
            if let Some(text) = text_of(v) {
                read.push(format!("`{v}`"));
                *v = text;
            }
        }
        if !read.is_empty() {
            notes.push(Problem {
                pointer: format!("{at}/enum"),
                message: format!(
                    "enum value(s) {} of a `string` schema are read as strings (their text)",
                    read.join(", ")
                ),
            });
            changed = true;
        }
    }
    if let Some(text) = map.get("default").and_then(text_of) {
        notes.push(Problem {
            pointer: format!("{at}/default"),
            message: format!(
                "default {} of a `string` schema is read as a string (its text)",
                map["default"]
            ),
        });
        map.insert("default".into(), text);
        changed = true;
    }
    changed
}

/// Whether `value` is of the JSON type `ty` names.
fn fits(ty: &str, value: &Value) -> bool {
    match ty {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// Whether an object default has every property its schema requires
/// (`default: {}` beside `required: [id]` does not).
fn has_required(schema: &serde_json::Map<String, Value>, value: &Value) -> bool {
    let (Some(required), Some(object)) = (
        schema.get("required").and_then(Value::as_array),
        value.as_object(),
    ) else {
        return true;
    };
    required
        .iter()
        .filter_map(Value::as_str)
        .all(|name| object.contains_key(name))
}

/// Whether a numeric default lies within `minimum` and `maximum`.
fn within_bounds(schema: &serde_json::Map<String, Value>, value: &Value) -> bool {
    let Some(v) = value.as_f64() else {
        return true;
    };
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    bound("minimum").is_none_or(|min| v >= min) && bound("maximum").is_none_or(|max| v <= max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_object_default_without_a_required_property_goes_with_a_lint() {
        let mut doc = json!({
            "a": { "type": "object", "required": ["id"], "default": {},
                   "properties": { "id": { "type": "string" } } },
            "b": { "type": "object", "required": ["id"], "default": { "id": "x" } }
        });
        let mut notes = Vec::new();
        assert!(repair(&mut doc, "#", &mut notes));
        assert_eq!(doc["a"].get("default"), None);
        assert_eq!(doc["b"]["default"], json!({ "id": "x" }));
        let pointers: Vec<&str> = notes.iter().map(|n| n.pointer.as_str()).collect();
        assert_eq!(pointers, ["#/a/default"]);
    }

    #[test]
    fn bad_defaults_and_values_go_with_a_lint() {
        let mut doc = json!({
            "a": { "type": "integer", "default": "ten", "description": "one\r\ntwo\rthree" },
            "b": { "type": "string", "enum": ["x", [1], null], "default": "y" },
            "c": { "type": "integer", "minimum": 1, "default": 0 },
            "d": { "type": "string", "nullable": true, "default": null, "example": { "type": "integer", "default": "no" } }
        });
        let mut notes = Vec::new();
        assert!(repair(&mut doc, "#", &mut notes));
        assert_eq!(
            doc["a"],
            json!({ "type": "integer", "description": "one\ntwo\nthree" })
        );
        assert_eq!(doc["b"], json!({ "type": "string", "enum": ["x"] }));
        assert_eq!(doc["c"], json!({ "type": "integer", "minimum": 1 }));
        assert_eq!(doc["d"].get("default"), Some(&Value::Null));
        assert_eq!(doc["d"]["example"]["default"], "no");
        let pointers: Vec<&str> = notes.iter().map(|n| n.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["#/a/default", "#/b/enum", "#/b/default", "#/c/default"]
        );
    }

    #[test]
    fn numbers_listed_by_a_string_schema_are_read_as_their_text() {
        // bhagavadgita.io: a string path parameter with `enum: [1, 2, 3]`.
        let mut doc = json!({
            "v": { "type": "string", "enum": [1, 2.5, true, "x", null], "default": 1 },
            "n": { "type": "integer", "enum": [1, "2"], "default": 1 }
        });
        let mut notes = Vec::new();
        assert!(repair(&mut doc, "#", &mut notes));
        assert_eq!(
            doc["v"],
            json!({ "type": "string", "enum": ["1", "2.5", "true", "x"], "default": "1" })
        );
        assert_eq!(
            doc["n"],
            json!({ "type": "integer", "enum": [1], "default": 1 })
        );
        let pointers: Vec<&str> = notes.iter().map(|n| n.pointer.as_str()).collect();
        // In document order.
        assert_eq!(
            pointers,
            ["#/v/enum", "#/v/default", "#/v/enum", "#/n/enum"]
        );
    }

    #[test]
    fn properties_with_one_rust_name_keep_the_first_and_formats_on_objects_go() {
        let mut doc = json!({
            "p": { "type": "object", "format": "application/json", "required": ["prefs_background", "a"],
                   "properties": { "prefs/background": { "type": "string" }, "prefs_background": { "type": "integer" }, "a": {} } }
        });
        let mut notes = Vec::new();
        assert!(repair(&mut doc, "#", &mut notes));
        assert_eq!(
            doc["p"],
            json!({ "type": "object", "required": ["a"],
                    "properties": { "prefs/background": { "type": "string" }, "a": {} } })
        );
        let pointers: Vec<&str> = notes.iter().map(|n| n.pointer.as_str()).collect();
        assert_eq!(pointers, ["#/p/format", "#/p/properties/prefs_background"]);
    }

    #[test]
    fn a_string_min_length_of_zero_goes_silently() {
        let mut doc = json!({
            "s": { "type": "string", "minLength": 0, "maxLength": 5 },
            "t": { "type": "string", "minLength": 1 },
            "a": { "type": "array", "minItems": 0, "items": { "type": "string", "minLength": 0 } }
        });
        let mut notes = Vec::new();
        assert!(repair(&mut doc, "#", &mut notes));
        assert_eq!(doc["s"], json!({ "type": "string", "maxLength": 5 }));
        assert_eq!(doc["t"]["minLength"], 1);
        assert_eq!(doc["a"]["items"], json!({ "type": "string" }));
        assert!(notes.is_empty());
    }
}
