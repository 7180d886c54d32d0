//! Names that never collide. typify names the types it derives from a
//! schema after it: an inline property `kind` of `Pet` becomes `PetKind`,
//! array items `…Item`, map values `…Value`, the inner type of a nullable
//! component `…Inner`; progenitor names an inline parameter type after its
//! operation (`GetPetKind`). When such a derived name is also the name of
//! a component schema (or of another derived type), typify silently reuses
//! the first type of that name: a wrong type, two definitions, or a
//! recursive type of infinite size. Here every inline schema whose derived
//! name is taken moves into `components/schemas` under a name nobody uses,
//! leaving a `$ref`; inline schemas whose names are free stay where they are.

use std::collections::BTreeSet;

use heck::{ToPascalCase, ToSnakeCase};
use serde_json::{Value, json};

use crate::error::Problem;
use crate::names::type_name;
use crate::pointer::escape;

/// Gives every type typify or progenitor would derive a unique name;
/// returns whether the document changed.
pub(crate) fn separate(raw: &mut Value, notes: &mut Vec<Problem>) -> bool {
    let Some(schemas) = raw
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return false;
    };
    let mut names = Names {
        taken: schemas.keys().map(|k| type_name(k)).collect(),
        hoisted: Vec::new(),
        notes,
    };
    // A nullable component becomes `Name(Option<NameInner>)`, the inner
    // type named after the schema's `title` when it has one: when that
    // inner name is taken (a title naming the component itself included),
    // its schema moves to a free name and the component becomes a
    // nullable reference to it.
    let nullable: Vec<String> = schemas
        .iter()
        .filter(|(_, s)| s.get("nullable") == Some(&Value::Bool(true)) && s.get("$ref").is_none())
        .map(|(name, _)| name.clone())
        .collect();
    let mut wrapped = Vec::new();
    for name in nullable {
        let title = schemas[&name].get("title").and_then(Value::as_str);
        let inner = match title {
            Some(title) => type_name(title),
            None => format!("{}Inner", type_name(&name)),
        };
        if names.claim(inner.clone()) {
            continue;
        }
        let unique = names.unique(&inner);
        names.notes.push(Problem {
            pointer: format!("#/components/schemas/{}", escape(&name)),
            message: format!(
                "the inner type of this nullable schema would be called `{inner}`, which another type already is; the generators call it `{unique}`"
            ),
        });
        wrapped.push((name, unique));
    }
    let merged = merged_parts(schemas, &names.taken);
    let keys: Vec<String> = schemas.keys().cloned().collect();
    let schemas = raw
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .expect("checked above");
    for (name, unique) in wrapped {
        let reference = json!({
            "nullable": true,
            "allOf": [{ "$ref": format!("#/components/schemas/{unique}") }],
        });
        if let Some(mut moved) = schemas.insert(name, reference) {
            if let Some(map) = moved.as_object_mut() {
                map.shift_remove("nullable");
                map.shift_remove("title");
            }
            let at = format!("#/components/schemas/{}", escape(&unique));
            names.children(&mut moved, &unique, &at);
            names.hoisted.push((unique, moved));
        }
    }
    for (owner, prop, derived) in merged {
        let at = format!(
            "#/components/schemas/{}/properties/{}",
            escape(&owner),
            escape(&prop)
        );
        let Some(schema) = schemas
            .get_mut(&owner)
            .and_then(|s| s.get_mut("properties"))
            .and_then(|p| p.get_mut(&prop))
        else {
            continue;
        };
        names.hoist(schema, &derived, &at);
    }
    for key in keys {
        let at = format!("#/components/schemas/{}", escape(&key));
        if let Some(schema) = schemas.get_mut(&key) {
            names.children(schema, &type_name(&key), &at);
        }
    }
    if let Some(paths) = raw.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            names.parameters(path, item);
        }
    }
    if names.hoisted.is_empty() {
        return false;
    }
    let hoisted = std::mem::take(&mut names.hoisted);
    let schemas = raw
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .expect("checked above");
    for (name, schema) in hoisted {
        schemas.insert(name, schema);
    }
    true
}

struct Names<'a> {
    /// Rust names already used: component schemas and derived names.
    taken: BTreeSet<String>,
    /// Schemas moved out, with their new names.
    hoisted: Vec<(String, Value)>,
    notes: &'a mut Vec<Problem>,
}

impl Names<'_> {
    /// Takes `name` if free.
    fn claim(&mut self, name: String) -> bool {
        self.taken.insert(name)
    }

    /// A free name made of `wanted` and a number, now taken.
    fn unique(&mut self, wanted: &str) -> String {
        let unique = (2..)
            .map(|n| format!("{wanted}{n}"))
            .find(|n| !self.taken.contains(n))
            .expect("some number is free");
        self.taken.insert(unique.clone());
        unique
    }

    /// Visits the inline schemas typify derives names for inside `schema`
    /// (whose type is called `name`).
    fn children(&mut self, schema: &mut Value, name: &str, at: &str) {
        let Some(map) = schema.as_object_mut() else {
            return;
        };
        if let Some(Value::Object(properties)) = map.get_mut("properties") {
            for (prop, child) in properties.iter_mut() {
                let derived = format!("{name}_{}", prop.to_snake_case());
                let at = format!("{at}/properties/{}", escape(prop));
                self.inline(child, &derived, &at);
            }
        }
        if let Some(items) = map.get_mut("items") {
            self.inline(items, &format!("{name}Item"), &format!("{at}/items"));
        }
        if let Some(values @ Value::Object(_)) = map.get_mut("additionalProperties") {
            let at = format!("{at}/additionalProperties");
            self.inline(values, &format!("{name}Value"), &at);
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(Value::Array(members)) = map.get_mut(key) {
                for (i, member) in members.iter_mut().enumerate() {
                    // Members are merged or become variants; their own
                    // inline parts are named after the parent.
                    self.children(member, name, &format!("{at}/{key}/{i}"));
                }
            }
        }
    }

    /// An inline schema typify would call `derived` (or its `title`): kept
    /// if that name is free, else moved into the components under a new name.
    fn inline(&mut self, schema: &mut Value, derived: &str, at: &str) {
        if !is_named(schema) {
            if let Some(map) = schema.as_object() {
                // Arrays and maps of named things name those after this one.
                if map.contains_key("items") || map.contains_key("additionalProperties") {
                    self.children(schema, &derived.to_pascal_case(), at);
                }
            }
            return;
        }
        let wanted = match schema.get("title").and_then(Value::as_str) {
            Some(title) => type_name(title),
            None => derived.to_pascal_case(),
        };
        if self.claim(wanted.clone()) {
            self.children(schema, &wanted, at);
            return;
        }
        self.hoist(schema, &wanted, at);
    }

    /// Moves the inline `schema`, which typify would call `wanted`, a name
    /// already taken, into the components under a free name.
    fn hoist(&mut self, schema: &mut Value, wanted: &str, at: &str) {
        let unique = self.unique(wanted);
        self.notes.push(Problem {
            pointer: at.to_string(),
            message: format!(
                "the type derived from this schema would be called `{wanted}`, which another type already is; the generators call it `{unique}`"
            ),
        });
        let mut moved = std::mem::replace(
            schema,
            json!({ "$ref": format!("#/components/schemas/{unique}") }),
        );
        if let Some(map) = moved.as_object_mut() {
            map.shift_remove("title");
        }
        self.children(&mut moved, &unique, at);
        self.hoisted.push((unique, moved));
    }

    /// Inline parameter schemas progenitor names `<operationId>-<name>`
    /// (path-level ones once per operation).
    fn parameters(&mut self, path: &str, item: &mut Value) {
        let Some(item) = item.as_object_mut() else {
            return;
        };
        let ids: Vec<(String, String)> = item
            .iter()
            .filter_map(|(method, op)| {
                let id = op.get("operationId")?.as_str()?;
                Some((method.clone(), id.to_string()))
            })
            .collect();
        let at_path = format!("#/paths/{}", escape(path));
        for (method, id) in &ids {
            if let Some(Value::Array(params)) = item.get_mut("parameters") {
                self.parameter_list(params, id, &format!("{at_path}/parameters"));
            }
            if let Some(Value::Array(params)) =
                item.get_mut(method).and_then(|op| op.get_mut("parameters"))
            {
                self.parameter_list(params, id, &format!("{at_path}/{method}/parameters"));
            }
        }
    }

    fn parameter_list(&mut self, params: &mut [Value], id: &str, at: &str) {
        for (i, p) in params.iter_mut().enumerate() {
            let Some(name) = p.get("name").and_then(Value::as_str).map(str::to_string) else {
                continue;
            };
            if let Some(schema) = p.get_mut("schema") {
                self.inline(schema, &format!("{id}-{name}"), &format!("{at}/{i}/schema"));
            }
        }
    }
}

/// Inline properties typify also names after another schema: it merges an
/// `allOf` of references into one struct, so a property `kind` of a
/// referenced `Base` is derived as `{Merger}Kind` as well as `BaseKind`.
/// Returns `(component, property, name)` for each such property whose
/// merged name is a component's (`Merger` + `Kind` can spell a component,
/// even `Base` itself), following references through nested `allOf`s.
fn merged_parts(
    schemas: &serde_json::Map<String, Value>,
    components: &BTreeSet<String>,
) -> Vec<(String, String, String)> {
    let mut found = BTreeSet::new();
    for (merger, schema) in schemas {
        let merger_name = type_name(merger);
        let mut seen = BTreeSet::new();
        let mut pending = vec![schema];
        while let Some(schema) = pending.pop() {
            let Some(members) = schema.get("allOf").and_then(Value::as_array) else {
                continue;
            };
            for member in members {
                let Some(target) = member
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .map(crate::pointer::unescape)
                else {
                    pending.push(member);
                    continue;
                };
                if !seen.insert(target.clone()) {
                    continue;
                }
                let Some(referenced) = schemas.get(&target) else {
                    continue;
                };
                pending.push(referenced);
                let Some(properties) = referenced.get("properties").and_then(Value::as_object)
                else {
                    continue;
                };
                for (prop, child) in properties {
                    if !is_named(child) || child.get("title").is_some() {
                        continue;
                    }
                    let derived =
                        format!("{merger_name}_{}", prop.to_snake_case()).to_pascal_case();
                    if components.contains(&derived) {
                        found.insert((target.clone(), prop.clone(), derived));
                    }
                }
            }
        }
    }
    found.into_iter().collect()
}

/// Whether typify gives this inline schema a type of its own (a struct,
/// an enum or a constrained newtype) rather than a built-in type.
fn is_named(schema: &Value) -> bool {
    let Some(map) = schema.as_object() else {
        return false;
    };
    if map.contains_key("$ref") {
        return false;
    }
    let has = |k: &str| map.contains_key(k);
    let object_with_fields = map
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    object_with_fields
        || has("enum")
        || has("oneOf")
        || has("anyOf")
        || has("allOf")
        || has("pattern")
        || has("minLength")
        || has("maxLength")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A nullable enum whose `title` is its own name (apideck.com/sms,
    /// survey seed 7): typify named the wrapper and the inner enum alike,
    /// two definitions of `Currency`, one of infinite size.
    #[test]
    fn a_nullable_schema_titled_like_itself_gets_a_free_inner_name() {
        let mut raw = json!({
            "components": { "schemas": {
                "Currency": { "type": "string", "nullable": true, "title": "Currency", "enum": ["USD", "EUR"] },
                "Money": { "type": "string", "nullable": true, "title": "Amount", "enum": ["1"] }
            } }
        });
        let mut notes = Vec::new();
        assert!(separate(&mut raw, &mut notes));
        let schemas = &raw["components"]["schemas"];
        assert_eq!(
            schemas["Currency"],
            json!({ "nullable": true, "allOf": [{ "$ref": "#/components/schemas/Currency2" }] })
        );
        assert_eq!(
            schemas["Currency2"],
            json!({ "type": "string", "enum": ["USD", "EUR"] })
        );
        // A title naming a free type is left to typify.
        assert_eq!(schemas["Money"]["title"], "Amount");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].message.contains("`Currency2`"),
            "{}",
            notes[0].message
        );
    }

    /// typify merges `Solution`'s `allOf` of references and names their
    /// inline enums after it: `kind` of `SolutionKind` would be
    /// `SolutionKind` again, `state` two references down `SolutionState`
    /// (azure.com/security-externalSecuritySolutions, survey seed 7).
    #[test]
    fn merged_inline_parts_named_like_a_component_move_out() {
        let mut raw = json!({
            "components": { "schemas": {
                "Solution": { "allOf": [
                    { "$ref": "#/components/schemas/SolutionKind" },
                    { "$ref": "#/components/schemas/SolutionBase" }
                ] },
                "SolutionKind": { "properties": { "kind": { "type": "string", "enum": ["a"] } } },
                "SolutionBase": { "allOf": [{ "$ref": "#/components/schemas/SolutionState" }] },
                "SolutionState": { "properties": {
                    "state": { "type": "string", "enum": ["on"] },
                    "note": { "type": "string", "enum": ["x"] }
                } }
            } }
        });
        let mut notes = Vec::new();
        assert!(separate(&mut raw, &mut notes));
        let schemas = &raw["components"]["schemas"];
        assert_eq!(
            schemas["SolutionKind"]["properties"]["kind"],
            json!({ "$ref": "#/components/schemas/SolutionKind2" })
        );
        assert_eq!(
            schemas["SolutionKind2"],
            json!({ "type": "string", "enum": ["a"] })
        );
        assert_eq!(
            schemas["SolutionState"]["properties"]["state"],
            json!({ "$ref": "#/components/schemas/SolutionState2" })
        );
        // `SolutionNote` is nobody's name: left to typify.
        assert_eq!(
            schemas["SolutionState"]["properties"]["note"],
            json!({ "type": "string", "enum": ["x"] })
        );
        assert_eq!(notes.len(), 2, "{notes:?}");
    }
}
