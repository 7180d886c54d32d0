//! Each rewrite on a small 3.1 document, checked against the 3.0 form written
//! out by hand, and the result parsed by `openapiv3` (what the generators read).

use serde_json::{Value, json};

use super::*;

/// A 3.1 document with `schema` as the component `S`.
fn doc_with(schema: Value) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": { "title": "t", "version": "1" },
        "paths": {},
        "components": { "schemas": { "S": schema } }
    })
}

/// `schema` rewritten; also asserts the whole document now parses as 3.0.
fn converted(schema: Value) -> (Value, Vec<Problem>) {
    let mut doc = doc_with(schema);
    let lints = to_openapi30(&mut doc);
    assert_eq!(doc["openapi"], "3.0.3");
    serde_json::from_value::<openapiv3::OpenAPI>(doc.clone()).expect("parses as OpenAPI 3.0");
    (doc["components"]["schemas"]["S"].clone(), lints)
}

fn pointers(lints: &[Problem]) -> Vec<&str> {
    lints.iter().map(|p| p.pointer.as_str()).collect()
}

#[test]
fn a_30_document_is_untouched() {
    let mut doc = doc_with(json!({ "type": ["string", "null"] }));
    doc["openapi"] = "3.0.3".into();
    let before = doc.clone();
    assert!(to_openapi30(&mut doc).is_empty());
    assert_eq!(doc, before);
}

#[test]
fn type_with_null_is_nullable() {
    let (s, lints) = converted(json!({ "type": ["string", "null"], "maxLength": 3 }));
    assert_eq!(
        s,
        json!({ "type": "string", "nullable": true, "maxLength": 3 })
    );
    assert!(lints.is_empty());
}

#[test]
fn null_alone_is_the_null_enum() {
    let (s, _) = converted(json!({ "type": "null" }));
    assert_eq!(s, json!({ "nullable": true, "enum": [null] }));
}

#[test]
fn several_types_are_one_of_with_their_keywords() {
    let (s, _) = converted(json!({
        "type": ["string", "integer", "null"],
        "maxLength": 5, "minimum": 1, "format": "int64", "description": "d"
    }));
    assert_eq!(
        s,
        json!({
            "description": "d",
            "nullable": true,
            "oneOf": [
                { "type": "string", "maxLength": 5 },
                { "type": "integer", "minimum": 1, "format": "int64" }
            ]
        })
    );
}

#[test]
fn integer_and_number_keep_number_only() {
    let (s, _) = converted(json!({ "type": ["integer", "number"] }));
    assert_eq!(s, json!({ "type": "number" }));
}

#[test]
fn const_is_a_single_enum_with_its_type() {
    let (s, _) = converted(json!({ "const": "card" }));
    assert_eq!(s, json!({ "type": "string", "enum": ["card"] }));
}

#[test]
fn numeric_exclusive_bounds() {
    let (s, _) = converted(
        json!({ "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10, "maximum": 5 }),
    );
    assert_eq!(
        s,
        json!({ "type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 5 })
    );
}

#[test]
fn examples_keep_the_first_and_say_so() {
    let (s, lints) = converted(json!({ "type": "integer", "examples": [1, 2] }));
    assert_eq!(s, json!({ "type": "integer", "example": 1 }));
    assert_eq!(pointers(&lints), ["#/components/schemas/S/examples"]);
}

#[test]
fn ref_with_siblings_is_wrapped() {
    let mut doc = doc_with(json!({
        "type": "object",
        "properties": {
            "a": { "$ref": "#/components/schemas/T", "description": "an a", "maxLength": 4 },
            "b": { "anyOf": [{ "$ref": "#/components/schemas/T" }, { "type": "null" }] }
        }
    }));
    doc["components"]["schemas"]["T"] = json!({ "type": "string" });
    assert!(to_openapi30(&mut doc).is_empty());
    let props = &doc["components"]["schemas"]["S"]["properties"];
    assert_eq!(
        props["a"],
        json!({ "description": "an a", "allOf": [{ "$ref": "#/components/schemas/T" }, { "maxLength": 4 }] })
    );
    assert_eq!(
        props["b"],
        json!({ "nullable": true, "allOf": [{ "$ref": "#/components/schemas/T" }] })
    );
}

#[test]
fn content_encoding_and_media_type_are_formats() {
    let (s, _) = converted(json!({ "type": "object", "properties": {
        "b64": { "type": "string", "contentEncoding": "base64" },
        "raw": { "type": "string", "contentMediaType": "image/png" },
        "text": { "type": "string", "contentMediaType": "text/plain" }
    }}));
    assert_eq!(
        s["properties"]["b64"],
        json!({ "type": "string", "format": "byte" })
    );
    assert_eq!(
        s["properties"]["raw"],
        json!({ "type": "string", "format": "binary" })
    );
    assert_eq!(s["properties"]["text"], json!({ "type": "string" }));
}

#[test]
fn unexpressible_keywords_are_lints_with_pointers() {
    let (s, lints) = converted(json!({
        "type": "object",
        "properties": { "a": { "type": "string" } },
        "dependentRequired": { "a": ["b"] },
        "if": { "required": ["a"] }, "then": { "required": ["b"] }, "else": {},
        "patternProperties": { "^x-": { "type": "string" }, "^y-": { "type": "integer" } }
    }));
    assert_eq!(
        s,
        json!({ "type": "object", "properties": { "a": { "type": "string" } } })
    );
    let mut at = pointers(&lints);
    at.sort();
    assert_eq!(
        at,
        [
            "#/components/schemas/S/dependentRequired",
            "#/components/schemas/S/else",
            "#/components/schemas/S/if",
            "#/components/schemas/S/patternProperties",
            "#/components/schemas/S/then",
        ]
    );
}

#[test]
fn one_pattern_property_is_a_map() {
    let (s, lints) = converted(json!({
        "type": "object", "additionalProperties": false,
        "patternProperties": { "^[a-z]+$": { "type": "integer" } }
    }));
    assert_eq!(
        s,
        json!({ "type": "object", "additionalProperties": { "type": "integer" } })
    );
    assert_eq!(lints.len(), 1);
    assert!(lints[0].message.contains("^[a-z]+$"), "{}", lints[0]);
}

#[test]
fn unevaluated_properties_without_composition_is_additional() {
    let (s, lints) = converted(json!({ "type": "object", "unevaluatedProperties": false }));
    assert_eq!(
        s,
        json!({ "type": "object", "additionalProperties": false })
    );
    assert!(lints.is_empty());
}

#[test]
fn closed_prefix_items_type_each_element() {
    let (s, lints) = converted(json!({
        "type": "array",
        "prefixItems": [{ "type": "string" }, { "type": "integer" }],
        "items": false
    }));
    assert_eq!(
        s,
        json!({
            "type": "array",
            "x-prefix-items": [{ "type": "string" }, { "type": "integer" }],
            "maxItems": 2,
            "items": { "oneOf": [{ "type": "string" }, { "type": "integer" }] }
        })
    );
    assert_eq!(pointers(&lints), ["#/components/schemas/S/prefixItems"]);
}

#[test]
fn defs_move_to_components_and_refs_follow() {
    let mut doc = doc_with(json!({
        "type": "object",
        "properties": { "p": { "$ref": "#/components/schemas/S/$defs/Point" } },
        "$defs": { "Point": { "type": "object", "properties": { "x": { "type": ["integer", "null"] } } } }
    }));
    let lints = to_openapi30(&mut doc);
    assert_eq!(
        doc["components"]["schemas"]["S"]["properties"]["p"],
        json!({ "$ref": "#/components/schemas/Point" })
    );
    assert_eq!(
        doc["components"]["schemas"]["Point"]["properties"]["x"],
        json!({ "type": "integer", "nullable": true })
    );
    assert_eq!(pointers(&lints), ["#/components/schemas/S/$defs/Point"]);
}

#[test]
fn webhooks_become_paths_and_paths_may_be_missing() {
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": { "title": "t", "version": "1", "summary": "short", "license": { "name": "MIT", "identifier": "MIT" } },
        "jsonSchemaDialect": OPENAPI_DIALECT,
        "webhooks": { "new pet": { "post": {
            "operationId": "new_pet",
            "requestBody": { "content": { "application/json": { "schema": { "type": ["string", "null"] } } } },
            "responses": { "200": { "description": "ok" } }
        } } }
    });
    let lints = to_openapi30(&mut doc);
    let api: openapiv3::OpenAPI = serde_json::from_value(doc.clone()).unwrap();
    let (path, method, op) = api
        .operations()
        .next()
        .expect("the webhook is an operation");
    assert_eq!((path, method), ("/webhooks/new-pet", "post"));
    assert_eq!(op.operation_id.as_deref(), Some("new_pet"));
    assert_eq!(api.info.description.as_deref(), Some("short"));
    assert_eq!(
        api.info.license.unwrap().url.as_deref(),
        Some("https://spdx.org/licenses/MIT.html")
    );
    assert_eq!(
        doc.pointer("/paths/~1webhooks~1new-pet/post/requestBody/content/application~1json/schema"),
        Some(&json!({ "type": "string", "nullable": true }))
    );
    assert_eq!(pointers(&lints), ["#/webhooks/new pet"]);
}

#[test]
fn a_foreign_dialect_is_a_lint() {
    let mut doc = doc_with(json!({}));
    doc["jsonSchemaDialect"] = "https://example.com/dialect".into();
    let lints = to_openapi30(&mut doc);
    assert_eq!(pointers(&lints), ["#/jsonSchemaDialect"]);
    assert!(doc.get("jsonSchemaDialect").is_none());
}

#[test]
fn path_item_references_are_inlined() {
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": { "title": "t", "version": "1" },
        "paths": { "/a": { "$ref": "#/components/pathItems/A" } },
        "components": { "pathItems": { "A": { "get": { "operationId": "a", "responses": {} } } } }
    });
    to_openapi30(&mut doc);
    let api: openapiv3::OpenAPI = serde_json::from_value(doc).unwrap();
    assert_eq!(api.operations().count(), 1);
}

#[test]
fn definitions_move_too_but_a_property_so_named_stays() {
    let mut doc = doc_with(json!({
        "type": "object",
        "properties": {
            "line": { "$ref": "#/components/schemas/S/definitions/line" },
            "definitions": { "type": "object", "properties": { "a": { "type": "string" } } }
        },
        "definitions": { "line": { "type": "string" } }
    }));
    let lints = to_openapi30(&mut doc);
    let s = &doc["components"]["schemas"]["S"];
    assert_eq!(
        s["properties"]["line"],
        json!({ "$ref": "#/components/schemas/line" })
    );
    assert_eq!(
        s["properties"]["definitions"]["properties"]["a"],
        json!({ "type": "string" })
    );
    assert_eq!(
        doc["components"]["schemas"]["line"],
        json!({ "type": "string" })
    );
    assert_eq!(
        pointers(&lints),
        ["#/components/schemas/S/definitions/line"]
    );
}

#[test]
fn deep_and_percent_encoded_references_are_followed() {
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": { "title": "t", "version": "1" },
        "paths": {
            "/a/{id}": { "get": {
                "operationId": "a",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "ok", "content": { "application/json": { "schema": {
                    "type": "object", "properties": { "logo": { "type": "string", "format": "uri" } }
                } } } } }
            } },
            "/b/{id}": { "get": {
                "operationId": "b",
                "parameters": [{ "$ref": "#/paths/~1a~1%7Bid%7D/get/parameters/0" }],
                "responses": { "200": { "description": "ok", "content": { "application/json": { "schema": {
                    "type": "object", "properties": {
                        "icon": { "$ref": "#/paths/~1a~1%7Bid%7D/get/responses/200/content/application~1json/schema/properties/logo" }
                    }
                } } } } }
            } }
        }
    });
    let lints = to_openapi30(&mut doc);
    let api: openapiv3::OpenAPI = serde_json::from_value(doc.clone()).unwrap();
    let b = api.paths.paths["/b/{id}"]
        .as_item()
        .unwrap()
        .get
        .as_ref()
        .unwrap();
    assert!(
        matches!(&b.parameters[0], openapiv3::ReferenceOr::Item(p) if p.parameter_data_ref().name == "id"),
        "the parameter is copied where it is referenced"
    );
    assert_eq!(
        doc["components"]["schemas"]["GetLogo"],
        json!({ "type": "string", "format": "uri" })
    );
    let icon =
        "/paths/~1b~1{id}/get/responses/200/content/application~1json/schema/properties/icon";
    assert_eq!(
        doc.pointer(icon),
        Some(&json!({ "$ref": "#/components/schemas/GetLogo" }))
    );
    assert_eq!(lints.len(), 1, "{lints:?}");
}

#[test]
fn a_moved_schema_never_takes_a_name_that_differs_only_in_case() {
    let mut doc = doc_with(json!({
        "type": "object",
        "properties": { "a": { "$ref": "#/components/schemas/S/$defs/s" } },
        "$defs": { "s": { "type": "string" } }
    }));
    to_openapi30(&mut doc);
    assert_eq!(
        doc["components"]["schemas"]["S"]["properties"]["a"],
        json!({ "$ref": "#/components/schemas/s2" })
    );
}
