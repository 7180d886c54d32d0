//! Integers of any size in the types and the client. typify types every
//! `type: integer` without a width `i64` (or `u64`, `NonZeroU64` from a
//! lower bound alone), which refuses valid values of an unbounded integer;
//! [`widened`] rewrites progenitor's copy of the document so that each such
//! schema is a bare `{type: integer}`, and [`conversion`] maps that to
//! `serde_json::Number`, which holds any integer `serde_json` reads (beyond
//! `u64`, as the nearest `f64`). Bounds stay in the spec the checks are
//! generated from; metadata (`description`, `default`) is kept.

use openapiv3::OpenAPI;
use progenitor_impl::TypeImpl;
use schemars::schema::{InstanceType, SchemaObject};
use serde_json::Value;

use crate::spec::integers::unbounded;

/// The Rust type of an unbounded integer.
pub(crate) const NUMBER: &str = "::serde_json::Number";

/// The schema typify is told to type as [`NUMBER`], and the impls it has.
pub(crate) fn conversion() -> (SchemaObject, &'static str, [TypeImpl; 2]) {
    let schema = SchemaObject {
        instance_type: Some(InstanceType::Integer.into()),
        ..Default::default()
    };
    (schema, NUMBER, [TypeImpl::Display, TypeImpl::FromStr])
}

/// progenitor's copy of a document, widened.
pub(crate) struct Widened {
    /// `api` with every unbounded integer schema stripped of its bounds and
    /// format (`None`: nothing to strip, use `api` as it is).
    pub api: Option<OpenAPI>,
    /// Whether the document has an unbounded integer, so the generated code
    /// names `serde_json::Number`.
    pub numbers: bool,
}

/// Widens `api` (see the module docs).
pub(crate) fn widened(api: &OpenAPI) -> Widened {
    let Ok(mut raw) = serde_json::to_value(api) else {
        return Widened {
            api: None,
            numbers: false,
        };
    };
    let mut found = Found::default();
    strip(&mut raw, &mut found);
    Widened {
        api: found
            .stripped
            .then(|| serde_json::from_value(raw).ok())
            .flatten(),
        numbers: found.unbounded,
    }
}

/// The keywords that bound an integer or fix its width.
const BOUNDS: &[&str] = &[
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];

/// What [`strip`] saw.
#[derive(Default)]
struct Found {
    /// An unbounded integer schema.
    unbounded: bool,
    /// One that had bounds to strip.
    stripped: bool,
}

/// Strips the [`BOUNDS`] of every unbounded integer schema under `node`.
fn strip(node: &mut Value, found: &mut Found) {
    match node {
        Value::Object(map) => {
            let bound = |k: &str| map.get(k).and_then(Value::as_f64);
            if map.get("type").and_then(Value::as_str) == Some("integer")
                && unbounded(
                    map.get("format").and_then(Value::as_str),
                    bound("minimum"),
                    bound("maximum"),
                    map.contains_key("enum"),
                )
            {
                found.unbounded = true;
                for k in BOUNDS {
                    found.stripped |= map.shift_remove(*k).is_some();
                }
            }
            map.values_mut().for_each(|v| strip(v, found));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip(v, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unbounded_integers_lose_their_bounds_and_bounded_ones_keep_them() {
        let mut doc = json!({
            "a": { "type": "integer", "minimum": 0, "description": "kept" },
            "b": { "type": "integer", "format": "int32" },
            "c": { "type": "integer", "minimum": 1, "maximum": 100 },
            "d": { "type": "integer", "format": "unix-time", "default": 3 },
            "e": { "type": "integer", "enum": [1, 2] },
            "f": { "type": "array", "items": { "type": "integer", "maximum": 9 } },
        });
        let mut found = Found::default();
        strip(&mut doc, &mut found);
        assert!(found.unbounded && found.stripped);
        assert_eq!(
            doc,
            json!({
                "a": { "type": "integer", "description": "kept" },
                "b": { "type": "integer", "format": "int32" },
                "c": { "type": "integer", "minimum": 1, "maximum": 100 },
                "d": { "type": "integer", "default": 3 },
                "e": { "type": "integer", "enum": [1, 2] },
                "f": { "type": "array", "items": { "type": "integer" } },
            })
        );
        let mut bounded = json!({ "type": "integer", "format": "int64" });
        let mut found = Found::default();
        strip(&mut bounded, &mut found);
        assert!(!found.unbounded && !found.stripped);
    }
}
