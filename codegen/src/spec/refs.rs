//! The one `$ref` resolver: every stage resolves references to
//! `components` through [`resolve`].

use openapiv3::{Components, Example, Parameter, ReferenceOr, RequestBody, Response, Schema};

/// How many `$ref`s in a row are followed before giving up (a cycle).
const MAX_HOPS: usize = 32;

/// Something a `$ref` into `components` can name.
pub(crate) trait Component: Sized {
    /// The `components` section, as in `#/components/<section>/<name>`.
    const SECTION: &'static str;
    /// The entry `name` of that section.
    fn entry<'a>(components: &'a Components, name: &str) -> Option<&'a ReferenceOr<Self>>;
}

macro_rules! component {
    ($ty:ty, $section:literal, $field:ident) => {
        impl Component for $ty {
            const SECTION: &'static str = $section;
            fn entry<'a>(components: &'a Components, name: &str) -> Option<&'a ReferenceOr<Self>> {
                components.$field.get(name)
            }
        }
    };
}

component!(Schema, "schemas", schemas);
component!(Parameter, "parameters", parameters);
component!(RequestBody, "requestBodies", request_bodies);
component!(Response, "responses", responses);
component!(Example, "examples", examples);

/// The item itself, or what its `$ref` (followed through chains) names.
/// `None` for a dangling, foreign or cyclic reference (validation reports those).
pub(crate) fn resolve<'a, T: Component>(
    mut item: &'a ReferenceOr<T>,
    components: Option<&'a Components>,
) -> Option<&'a T> {
    for _ in 0..MAX_HOPS {
        match item {
            ReferenceOr::Item(found) => return Some(found),
            ReferenceOr::Reference { reference } => {
                item = T::entry(components?, component_name::<T>(reference)?)?;
            }
        }
    }
    None
}

/// The component name a `$ref` names in `T`'s section.
pub(crate) fn component_name<T: Component>(reference: &str) -> Option<&str> {
    reference
        .strip_prefix("#/components/")?
        .strip_prefix(T::SECTION)?
        .strip_prefix('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_chains_and_stops_on_cycles() {
        let components: Components = serde_json::from_value(serde_json::json!({
            "schemas": {
                "A": { "$ref": "#/components/schemas/B" },
                "B": { "type": "string" },
                "Loop": { "$ref": "#/components/schemas/Loop" }
            }
        }))
        .unwrap();
        let at = |r: &str| ReferenceOr::<Schema>::Reference {
            reference: r.into(),
        };
        assert!(resolve(&at("#/components/schemas/A"), Some(&components)).is_some());
        assert!(resolve(&at("#/components/schemas/Loop"), Some(&components)).is_none());
        assert!(resolve(&at("#/components/responses/B"), Some(&components)).is_none());
        assert!(resolve(&at("#/components/schemas/Nope"), Some(&components)).is_none());
    }
}
