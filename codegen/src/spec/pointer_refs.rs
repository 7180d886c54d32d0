//! `$ref`s that point inside another schema (`#/paths/~1track/get/responses/
//! 200/content/application~1json/schema/properties/origin`, or
//! `#/components/schemas/A/properties/b`) are valid JSON pointers, but every
//! later stage resolves references by component name, and normalization
//! moves inline schemas, so such a pointer would dangle. Right after
//! loading, each schema such a `$ref` names moves into
//! `components/schemas` under a name of its own (from the pointer's last
//! name), leaving a `$ref` where it was, and every `$ref` to it follows.
//! A response, parameter or request body an operation's `$ref` names
//! inside another operation (`#/paths/~1%7Bid%7D/get/responses/404`) moves
//! into its own section of the components alike.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToPascalCase;
use serde_json::{Value, json};

use crate::names::type_name;

/// Pointer segments that are keywords, not names.
const KEYWORDS: &[&str] = &[
    "properties",
    "items",
    "additionalProperties",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "schema",
    "schemas",
    "content",
    "responses",
    "requestBody",
    "parameters",
    "components",
    "paths",
];

/// Segments after which a pointer is inside a schema.
const SCHEMA_MARKS: &[&str] = &[
    "schema",
    "properties",
    "items",
    "additionalProperties",
    "allOf",
    "oneOf",
    "anyOf",
];

/// Moves every schema a deep `$ref` names into the components; returns
/// whether the document changed.
pub(crate) fn to_components(raw: &mut Value) -> bool {
    let mut targets = BTreeSet::new();
    collect(raw, &mut targets);
    if targets.is_empty() {
        return false;
    }
    // Rust (or component) names already used, per section.
    let mut taken: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for section in ["schemas", "responses", "parameters", "requestBodies"] {
        let names = raw
            .pointer(&format!("/components/{section}"))
            .and_then(Value::as_object)
            .map(|s| s.keys().map(|k| type_name(k)).collect())
            .unwrap_or_default();
        taken.insert(section, names);
    }
    // Deepest first, so a target inside another is moved before its parent.
    let mut ordered: Vec<String> = targets.into_iter().collect();
    ordered.sort_by_key(|p| std::cmp::Reverse(segments(p).len()));
    let mut moved: BTreeMap<String, String> = BTreeMap::new();
    let mut new_entries: Vec<(&'static str, String, Value)> = Vec::new();
    for reference in ordered {
        let Some(section) = section_of(&reference) else {
            continue;
        };
        let pointer = crate::pointer::from_fragment(&reference["#".len()..]);
        let Some(slot) = raw.pointer_mut(&pointer) else {
            continue; // dangling: validation names it
        };
        let segs = segments(&crate::pointer::from_fragment(&reference));
        let mut names = segs
            .iter()
            .filter(|s| !KEYWORDS.contains(&s.as_str()) && s.parse::<usize>().is_err());
        let wanted = if section == "schemas" {
            names
                .next_back()
                .map(|s| s.to_pascal_case())
                .unwrap_or_default()
        } else {
            names.map(|s| s.to_pascal_case()).collect::<String>() + &segs[segs.len() - 1]
        };
        let wanted = if wanted.is_empty() {
            "Schema".to_string()
        } else {
            wanted
        };
        let taken = taken.get_mut(section).expect("every section listed");
        let name = (1..)
            .map(|n| {
                if n == 1 {
                    wanted.clone()
                } else {
                    format!("{wanted}{n}")
                }
            })
            .find(|n| !taken.contains(n))
            .expect("some number is free");
        taken.insert(name.clone());
        let to = format!("#/components/{section}/{name}");
        let entry = std::mem::replace(slot, json!({ "$ref": to }));
        new_entries.push((section, name, entry));
        moved.insert(reference, to);
    }
    if moved.is_empty() {
        return false;
    }
    let Some(root) = raw.as_object_mut() else {
        return false;
    };
    if let Some(components) = root
        .entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut()
    {
        for (section, name, entry) in new_entries {
            if let Some(entries) = components
                .entry(section)
                .or_insert_with(|| json!({}))
                .as_object_mut()
            {
                entries.insert(name, entry);
            }
        }
    }
    follow(raw, &moved);
    true
}

/// The components section a deep reference's target belongs in.
fn section_of(reference: &str) -> Option<&'static str> {
    let segs = segments(reference);
    let n = segs.len();
    let at = |i: usize| n.checked_sub(i).map(|i| segs[i].as_str());
    let in_properties = at(3) == Some("properties");
    if at(1) == Some("requestBody") {
        Some("requestBodies")
    } else if at(2) == Some("parameters") && !in_properties && at(1)?.parse::<usize>().is_ok() {
        Some("parameters")
    } else if at(2) == Some("responses") && !in_properties {
        Some("responses")
    } else if segs.iter().any(|s| SCHEMA_MARKS.contains(&s.as_str())) {
        Some("schemas")
    } else {
        None
    }
}

/// The deep `$ref`s of the document.
fn collect(node: &Value, out: &mut BTreeSet<String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && is_deep(r)
            {
                out.insert(r.clone());
            }
            map.values().for_each(|v| collect(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}

/// A local pointer into something other than a whole component.
fn is_deep(reference: &str) -> bool {
    let Some(rest) = reference.strip_prefix("#/") else {
        return false;
    };
    // Counted without unescaping: most `$ref`s of a document are whole
    // components, and this runs for every one.
    let whole_component = rest.starts_with("components/") && rest.split('/').count() == 3;
    !whole_component && section_of(reference).is_some()
}

/// The unescaped segments of a local reference.
fn segments(reference: &str) -> Vec<String> {
    reference
        .trim_start_matches('#')
        .trim_start_matches('/')
        .split('/')
        .map(crate::pointer::unescape)
        .collect()
}

/// Points every moved `$ref` at its component.
fn follow(node: &mut Value, moved: &BTreeMap<String, String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(to) = moved.get(r.as_str())
            {
                *r = to.clone();
            }
            map.values_mut().for_each(|v| follow(v, moved));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| follow(v, moved)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_references_become_components() {
        let origin =
            "#/paths/~1track/get/responses/200/content/application~1json/schema/properties/origin";
        let mut raw = json!({
            "paths": { "/track": { "get": { "responses": { "200": { "description": "x", "content": {
                "application/json": { "schema": { "type": "object", "properties": {
                    "origin": { "type": "object", "properties": {
                        "near": { "$ref": origin },
                        "geometry": { "type": "string" } } },
                    "destination": { "$ref": origin },
                    "shape": { "$ref": format!("{origin}/properties/geometry") }
                } } } } } } } } },
            "components": { "schemas": {
                "Origin": { "type": "integer" },
                "A": { "properties": { "b": { "type": "string" } } },
                "C": { "$ref": "#/components/schemas/A/properties/b" },
                "D": { "$ref": "#/components/schemas/A" }
            } }
        });
        assert!(to_components(&mut raw));
        let schemas = &raw["components"]["schemas"];
        let schema = "/paths/~1track/get/responses/200/content/application~1json/schema";
        let at = |p: &str| raw.pointer(&format!("{schema}{p}")).unwrap().clone();
        assert_eq!(
            at("/properties/origin"),
            json!({ "$ref": "#/components/schemas/Origin2" })
        );
        assert_eq!(
            at("/properties/destination"),
            json!({ "$ref": "#/components/schemas/Origin2" })
        );
        assert_eq!(
            at("/properties/shape"),
            json!({ "$ref": "#/components/schemas/Geometry" })
        );
        // The moved schema refers to itself by its new name, and to the
        // nested target moved before it.
        assert_eq!(
            schemas["Origin2"]["properties"]["near"]["$ref"],
            "#/components/schemas/Origin2"
        );
        assert_eq!(
            schemas["Origin2"]["properties"]["geometry"]["$ref"],
            "#/components/schemas/Geometry"
        );
        assert_eq!(schemas["Geometry"], json!({ "type": "string" }));
        assert_eq!(schemas["C"]["$ref"], "#/components/schemas/B");
        assert_eq!(
            schemas["D"]["$ref"], "#/components/schemas/A",
            "whole components stay"
        );
        assert_eq!(schemas["Origin"], json!({ "type": "integer" }));
    }

    #[test]
    fn a_response_inside_another_operation_becomes_a_component() {
        let gone = json!({ "description": "Gone." });
        let mut raw = json!({ "paths": { "/{id}": {
            "get": { "responses": { "404": gone } },
            "delete": { "responses": { "404": { "$ref": "#/paths/~1%7Bid%7D/get/responses/404" } } }
        } } });
        assert!(to_components(&mut raw));
        let to = json!({ "$ref": "#/components/responses/IdGet404" });
        assert_eq!(raw["paths"]["/{id}"]["get"]["responses"]["404"], to);
        assert_eq!(raw["paths"]["/{id}"]["delete"]["responses"]["404"], to);
        assert_eq!(raw["components"]["responses"]["IdGet404"], gone);
    }

    #[test]
    fn documents_without_deep_references_are_untouched() {
        let mut raw = json!({ "components": { "schemas": { "A": { "$ref": "#/components/schemas/B" }, "B": {} } } });
        assert!(!to_components(&mut raw));
        // A whole response component, in a section deep references can name.
        let mut raw = json!({
            "paths": { "/a": { "get": { "responses": { "404": { "$ref": "#/components/responses/NotFound" } } } } },
            "components": { "responses": { "NotFound": { "description": "no such thing" } } }
        });
        assert!(!to_components(&mut raw));
    }
}
