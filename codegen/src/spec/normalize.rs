//! Rewrites a spec into the form both generators take, so client and server
//! agree on names: every operation gets a snake_case operationId (derived
//! from its method and path when missing), and inline request and response
//! schemas move into `components/schemas` under names derived from the
//! operation, where the shared model types are generated from. Every media
//! type of a body stays: the server accepts or answers each, and the client
//! generator picks the one progenitor takes.

use std::collections::BTreeSet;

use heck::ToPascalCase;
use openapiv3::{MediaType, Operation, ReferenceOr, Schema, SchemaKind, Type};

use super::load::Spec;
use super::paths::{operations_mut, responses_mut};
use crate::error::Problem;
use crate::names::{field_name, type_name};
use crate::pointer::{At, escape};

/// Names the generated client already uses for its own methods (progenitor's
/// `Client`, `ClientInfo` and `ClientHooks`): an operation so named gets `_op`.
const RESERVED: &[&str] = &[
    "new",
    "new_with_client",
    "baseurl",
    "client",
    "api_version",
    "inner",
    "pre",
    "post",
    "exec",
];

/// A normalized spec and what normalizing changed that a strict spec should
/// have said itself (lints).
pub struct Normalized {
    /// The rewritten copy (its `text` stays the original).
    pub spec: Spec,
    /// One lint per rewrite a spec author may want to know about.
    pub notes: Vec<Problem>,
}

/// The normalized copy of `spec`.
pub fn normalize(spec: &Spec) -> Normalized {
    let mut notes = Vec::new();
    let mut api = spec.api.clone();
    // Rust names in use: hoisted schemas must not take one.
    let mut taken: BTreeSet<String> = api
        .components
        .iter()
        .flat_map(|c| c.schemas.keys().map(|k| type_name(k)))
        .collect();
    let mut hoisted: Vec<(String, Schema)> = Vec::new();
    // The document's `security` is every operation's default.
    let top_level_security = api.security.take();
    let mut ids = OperationIds::new(&api);
    for (path, item) in api.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, op) in operations_mut(item) {
            let at = format!("#/paths/{}/{method}", escape(path));
            let id = match op.operation_id.as_deref() {
                None => {
                    let id = ids.free(&field_name(&format!("{method}_{path}")));
                    notes.push(note(
                        &at,
                        format!("missing operationId; the generators call this operation `{id}`"),
                    ));
                    id
                }
                Some(given) => {
                    let id = ids.given(given);
                    let wanted = OperationIds::rust_name(given);
                    if id != wanted {
                        notes.push(note(
                            format!("{at}/operationId"),
                            format!("operationId `{given}` would be `{wanted}` in Rust, which another operation already is; the generators call it `{id}`"),
                        ));
                    } else if id != given {
                        notes.push(note(
                            format!("{at}/operationId"),
                            format!("operationId `{given}` is not snake_case ([a-z][a-z0-9_]*); the generators call it `{id}`"),
                        ));
                    }
                    id
                }
            };
            op.operation_id = Some(id.clone());
            if op.security.is_none() {
                op.security = top_level_security.clone();
            }
            hoist(op, &id, &mut taken, &mut hoisted);
        }
    }
    if !hoisted.is_empty() {
        let components = api.components.get_or_insert_with(Default::default);
        for (name, schema) in hoisted {
            components.schemas.insert(name, ReferenceOr::Item(schema));
        }
    }
    let mut raw = serde_json::to_value(&api).unwrap_or_else(|_| spec.raw.clone());
    let repaired = super::repair::repair(&mut raw, "#", &mut notes);
    let loosened = loosen_colliding_enums(&mut raw, &At::Root("#"), &mut notes);
    let renamed = super::distinct::distinct(&mut raw, &mut notes);
    let separated = super::separate::separate(&mut raw, &mut notes);
    // Read from the tree, which stays (not from a copy of it).
    if (repaired || loosened || renamed || separated)
        && let Ok(rewritten) = serde::Deserialize::deserialize(&raw)
    {
        api = rewritten;
    }
    Normalized {
        spec: Spec {
            file: spec.file.clone(),
            text: spec.text.clone(),
            raw,
            api,
            lints: spec.lints.clone(),
        },
        notes,
    }
}

/// The Rust names of operations, one per operation. Distinct operationIds
/// can share a Rust name (`getPet` and `get_pet`), and names derived from
/// method and path can too (`GET /jobs` and `GET /jobs/`): the first keeps
/// it, the others take it with a number. An operationId given twice is the
/// spec's own error, left for the checks to report.
struct OperationIds {
    /// Rust names the given operationIds want, reserved before any
    /// derived name is chosen.
    wanted: BTreeSet<String>,
    /// Rust name -> the operationId that has it (`None`: derived).
    used: std::collections::BTreeMap<String, Option<String>>,
}

impl OperationIds {
    fn new(api: &openapiv3::OpenAPI) -> Self {
        let wanted = api
            .operations()
            .filter_map(|(_, _, op)| op.operation_id.as_deref())
            .map(Self::rust_name)
            .collect();
        Self {
            wanted,
            used: Default::default(),
        }
    }

    /// The Rust name an operationId wants.
    fn rust_name(given: &str) -> String {
        let mut id = field_name(given);
        if RESERVED.contains(&id.as_str()) {
            id.push_str("_op");
        }
        id
    }

    /// The name for the operationId `given`.
    fn given(&mut self, given: &str) -> String {
        let id = Self::rust_name(given);
        match self.used.get(&id) {
            // Free, or the same operationId again (the checks refuse it).
            None => {}
            Some(Some(owner)) if owner == given => return id,
            Some(_) => return self.free(&id),
        }
        self.used.insert(id.clone(), Some(given.to_string()));
        id
    }

    /// `base`, or `base` with a number, whichever no operation has or wants.
    fn free(&mut self, base: &str) -> String {
        let id = std::iter::once(base.to_string())
            .chain((2..).map(|n| format!("{base}_{n}")))
            .find(|id| !self.used.contains_key(id) && !self.wanted.contains(id))
            .expect("some number is free");
        self.used.insert(id.clone(), None);
        id
    }
}

/// String enums whose values differ only in punctuation (`Etc/GMT+1`,
/// `Etc/GMT-1`) cannot become distinct Rust variants: they are loosened to
/// plain strings. Returns whether any was.
fn loosen_colliding_enums(
    node: &mut serde_json::Value,
    at: &At<'_>,
    notes: &mut Vec<Problem>,
) -> bool {
    let mut changed = false;
    match node {
        serde_json::Value::Object(map) => {
            let collides = map.get("type").and_then(|t| t.as_str()) == Some("string")
                && map
                    .get("enum")
                    .and_then(|e| e.as_array())
                    .is_some_and(|values| {
                        let mut seen = BTreeSet::new();
                        values.iter().filter_map(|v| v.as_str()).any(|v| {
                            let key: String = v
                                .chars()
                                .filter(char::is_ascii_alphanumeric)
                                .collect::<String>()
                                .to_ascii_lowercase();
                            !seen.insert(key)
                        })
                    });
            if collides {
                map.shift_remove("enum");
                notes.push(note(
                    at.to_string(),
                    "enum values differ only in punctuation; the generators take this value as a plain string".into(),
                ));
                changed = true;
            }
            for (key, child) in map.iter_mut() {
                changed |= loosen_colliding_enums(child, &at.key(key), notes);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                changed |= loosen_colliding_enums(child, &at.index(i), notes);
            }
        }
        _ => {}
    }
    changed
}

fn note(pointer: impl Into<String>, message: String) -> Problem {
    Problem {
        pointer: pointer.into(),
        message,
    }
}

/// Moves the operation's inline body schemas into `hoisted`, leaving `$ref`s.
fn hoist(
    op: &mut Operation,
    id: &str,
    taken: &mut BTreeSet<String>,
    hoisted: &mut Vec<(String, Schema)>,
) {
    let base = id.to_pascal_case();
    if let Some(ReferenceOr::Item(body)) = &mut op.request_body {
        for media in body.content.values_mut() {
            hoist_media(media, &format!("{base}Body"), taken, hoisted);
        }
    }
    for (code, response) in responses_mut(op) {
        let code = if code == "default" {
            "Default".to_string()
        } else {
            code
        };
        if let ReferenceOr::Item(response) = response {
            for media in response.content.values_mut() {
                hoist_media(media, &format!("{base}Response{code}"), taken, hoisted);
            }
        }
    }
}

fn hoist_media(
    media: &mut MediaType,
    name: &str,
    taken: &mut BTreeSet<String>,
    hoisted: &mut Vec<(String, Schema)>,
) {
    let Some(ReferenceOr::Item(schema)) = &media.schema else {
        return;
    };
    if !needs_a_name(schema) {
        return;
    }
    let mut unique = name.to_string();
    let mut n = 2;
    while !taken.insert(unique.clone()) {
        unique = format!("{name}{n}");
        n += 1;
    }
    hoisted.push((unique.clone(), schema.clone()));
    media.schema = Some(ReferenceOr::Reference {
        reference: format!("#/components/schemas/{unique}"),
    });
}

/// Strings and free-form objects map to Rust types directly; anything else
/// inline becomes a named model type.
fn needs_a_name(schema: &Schema) -> bool {
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(_)) | SchemaKind::Any(_) => false,
        SchemaKind::Type(Type::Object(o)) => {
            !o.properties.is_empty() || o.additional_properties.is_some()
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
openapi: 3.0.3
info: { title: T, version: "1" }
paths:
  /things/{id}:
    get:
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: { type: object, properties: { name: { type: string } } }
    post:
      operationId: createThing.v2
      requestBody:
        content:
          application/json:
            schema: { type: array, items: { type: integer } }
      responses:
        '204': { description: done }
"#;

    #[test]
    fn ids_are_rust_names_and_inline_schemas_get_names() {
        let Normalized { spec, notes } = normalize(&Spec::parse("t.yaml", SPEC).unwrap());
        assert_eq!(notes.len(), 2, "a missing and a non-snake id: {notes:?}");
        let item = spec.api.paths.paths["/things/{id}"].as_item().unwrap();
        let get = item.get.as_ref().unwrap();
        assert_eq!(get.operation_id.as_deref(), Some("get_things_id"));
        assert_eq!(
            item.post.as_ref().unwrap().operation_id.as_deref(),
            Some("create_thing_v2")
        );
        let schemas = &spec.api.components.as_ref().unwrap().schemas;
        assert!(
            schemas.contains_key("GetThingsIdResponse200"),
            "{:?}",
            schemas.keys()
        );
        assert!(schemas.contains_key("CreateThingV2Body"));
        assert_eq!(
            spec.raw.pointer(
                "/paths/~1things~1{id}/get/responses/200/content/application~1json/schema/$ref"
            ),
            Some(&serde_json::json!(
                "#/components/schemas/GetThingsIdResponse200"
            ))
        );
    }

    /// Property names of component schema `name`, in the order the
    /// normalized document lists them.
    fn property_order(spec: &Spec, name: &str) -> Vec<String> {
        let schema = spec.api.components.as_ref().unwrap().schemas[name]
            .as_item()
            .unwrap();
        let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
            panic!("{name} is not an object")
        };
        object.properties.keys().cloned().collect()
    }

    /// `GET /jobs` and `GET /jobs/` without operationIds (useapi.net,
    /// survey seed 2026) both derived `get_jobs`, and `getPet` and `get_pet`
    /// are distinct operationIds with one Rust name: each operation gets a
    /// name of its own, derived ones never take a given one's.
    #[test]
    fn operations_never_share_a_rust_name() {
        let yaml = r#"
openapi: 3.0.3
info: { title: T, version: "1" }
paths:
  /jobs:
    get: { responses: { '204': { description: ok } } }
  /jobs/:
    get: { responses: { '204': { description: ok } } }
    post: { operationId: get_jobs_2, responses: { '204': { description: ok } } }
  /pet:
    get: { operationId: getPet, responses: { '204': { description: ok } } }
    put: { operationId: get_pet, responses: { '204': { description: ok } } }
"#;
        let Normalized { spec, notes } = normalize(&Spec::parse("t.yaml", yaml).unwrap());
        let names: Vec<&str> = spec
            .api
            .operations()
            .map(|(_, _, op)| op.operation_id.as_deref().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "get_jobs",
                "get_jobs_3",
                "get_jobs_2",
                "get_pet",
                "get_pet_2"
            ]
        );
        assert!(
            notes
                .iter()
                .any(|n| n.message.contains("`get_pet` would be `get_pet` in Rust")),
            "{notes:?}"
        );
        // The whole check (normalize, then validate) accepts the document.
        let original = Spec::parse("t.yaml", yaml).unwrap();
        let checked = crate::check(&original, &crate::Options::default());
        assert!(checked.is_ok(), "{checked:?}");
    }

    #[test]
    fn a_repaired_or_json_document_keeps_its_property_order() {
        // `enum: [1, 2]` on a string and a bare CR are repaired, so the
        // document is rebuilt from its JSON tree.
        let yaml = r#"
openapi: 3.0.3
info: { title: T, version: "1" }
paths: {}
components:
  schemas:
    Zebra:
      type: object
      description: "two\rlines"
      properties:
        zeta: { type: string, enum: [1, 2] }
        alpha: { type: string }
        mid: { type: integer }
        beta: { type: boolean }
"#;
        let Normalized { spec, notes } = normalize(&Spec::parse("t.yaml", yaml).unwrap());
        assert!(!notes.is_empty(), "the spec was repaired");
        assert_eq!(
            property_order(&spec, "Zebra"),
            ["zeta", "alpha", "mid", "beta"]
        );
        // JSON text is typed from its JSON tree too.
        let json = r#"{"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": {},
            "components": {"schemas": {"Zebra": {"type": "object", "properties":
            {"zeta": {"type": "string"}, "alpha": {"type": "string"}, "mid": {"type": "integer"}}}}}}"#;
        let Normalized { spec, .. } = normalize(&Spec::parse("t.json", json).unwrap());
        assert_eq!(property_order(&spec, "Zebra"), ["zeta", "alpha", "mid"]);
    }
}
