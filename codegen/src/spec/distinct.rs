//! Component schemas whose Rust names coincide get distinct ones. typify
//! names a component's type after its key in PascalCase, so keys that differ
//! only in case or punctuation (`String` and `__string`, `user_id` and
//! `UserId`) would be two definitions of one type. The first key in
//! document order whose Rust name is its own key (else the first) keeps the
//! name; every other takes the name with a number, its key is renamed and
//! every `$ref` (and discriminator mapping) to it follows. Names of the
//! Rust prelude that typify's output uses unqualified (`impl
//! TryFrom<String>`), and `Self`, are never a schema's.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::error::Problem;
use crate::names::type_name;
use crate::pointer::escape;

/// Rust names a schema's type cannot have.
const RESERVED: &[&str] = &[
    "Self", "String", "Vec", "Option", "Result", "Box", "Some", "None", "Ok", "Err",
];

/// Renames colliding component schemas; returns whether any was.
pub(crate) fn distinct(raw: &mut Value, notes: &mut Vec<Problem>) -> bool {
    let Some(schemas) = raw
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return false;
    };
    let renames = renames(schemas.keys().map(String::as_str));
    if renames.is_empty() {
        return false;
    }
    let schemas = raw
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .expect("checked above");
    let old = std::mem::take(schemas);
    for (key, schema) in old {
        match renames.get(&key) {
            Some(new) => {
                let name = type_name(&key);
                let why = if RESERVED.contains(&name.as_str()) {
                    "a name Rust code uses for its own"
                } else {
                    "another schema's too"
                };
                notes.push(Problem {
                    pointer: format!("#/components/schemas/{}", escape(&key)),
                    message: format!(
                        "this schema's Rust name `{name}` is {why}; the generators call it `{new}`"
                    ),
                });
                schemas.insert(new.clone(), schema);
            }
            None => {
                schemas.insert(key, schema);
            }
        }
    }
    let prefixes: Vec<(String, String)> = renames
        .iter()
        .map(|(old, new)| {
            (
                format!("#/components/schemas/{}", escape(old)),
                format!("#/components/schemas/{}", escape(new)),
            )
        })
        .collect();
    follow(raw, &prefixes);
    true
}

/// Old key -> new key for every component that must give up its Rust name.
fn renames<'a>(keys: impl Iterator<Item = &'a str> + Clone) -> BTreeMap<String, String> {
    let mut taken: BTreeSet<String> = RESERVED.iter().map(|r| r.to_string()).collect();
    // Keys that are their own Rust name claim it first.
    let (own, other): (Vec<&str>, Vec<&str>) = keys.partition(|k| type_name(k) == *k);
    let mut renames = BTreeMap::new();
    let all_names: BTreeSet<String> = own.iter().chain(&other).map(|k| type_name(k)).collect();
    for key in own.into_iter().chain(other) {
        let name = type_name(key);
        if taken.insert(name.clone()) {
            continue;
        }
        let unique = (2..)
            .map(|n| format!("{name}{n}"))
            .find(|n| !taken.contains(n) && !all_names.contains(n))
            .expect("some number is free");
        taken.insert(unique.clone());
        renames.insert(key.to_string(), unique);
    }
    renames
}

/// Points every `$ref` and discriminator mapping at the renamed components.
fn follow(node: &mut Value, prefixes: &[(String, String)]) {
    let rewrite = |s: &mut String| {
        for (old, new) in prefixes {
            if let Some(rest) = s.strip_prefix(old.as_str())
                && (rest.is_empty() || rest.starts_with('/'))
            {
                *s = format!("{new}{rest}");
                return;
            }
        }
    };
    match node {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(s) if key == "$ref" => rewrite(s),
                    Value::Object(mapping) if key == "mapping" => {
                        for target in mapping.values_mut() {
                            if let Value::String(s) = target {
                                rewrite(s);
                            }
                        }
                    }
                    _ => follow(child, prefixes),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| follow(i, prefixes)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn colliding_keys_get_numbered_names_and_refs_follow() {
        let mut raw = json!({
            "paths": { "/a": { "get": { "responses": { "200": { "description": "x",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/__string" } } } } } } } },
            "components": { "schemas": {
                "__string": { "type": "string" },
                "String": { "type": "string", "maxLength": 3 },
                "Pet": { "oneOf": [{ "$ref": "#/components/schemas/__string" }],
                         "discriminator": { "propertyName": "k", "mapping": { "s": "#/components/schemas/__string" } } },
                "pet": { "type": "object", "properties": { "n": { "$ref": "#/components/schemas/__string/x" } } }
            } }
        });
        let mut notes = Vec::new();
        assert!(distinct(&mut raw, &mut notes));
        let schemas = raw["components"]["schemas"].as_object().unwrap();
        let keys: BTreeSet<&str> = schemas.keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["String2", "String3", "Pet", "Pet2"]));
        assert_eq!(
            schemas["String2"]["maxLength"], 3,
            "the own-named key comes first"
        );
        let to = json!("#/components/schemas/String3");
        assert_eq!(
            raw.pointer("/paths/~1a/get/responses/200/content/application~1json/schema/$ref"),
            Some(&to)
        );
        assert_eq!(schemas["Pet"]["oneOf"][0]["$ref"], to);
        assert_eq!(schemas["Pet"]["discriminator"]["mapping"]["s"], to);
        assert_eq!(
            schemas["Pet2"]["properties"]["n"]["$ref"],
            "#/components/schemas/String3/x"
        );
        assert_eq!(notes.len(), 3);
    }

    #[test]
    fn distinct_names_are_left_alone() {
        let mut raw = json!({ "components": { "schemas": { "A": {}, "B": {} } } });
        let before = raw.clone();
        assert!(!distinct(&mut raw, &mut Vec::new()));
        assert_eq!(raw, before);
    }
}
