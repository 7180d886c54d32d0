//! Parameters whose Rust names coincide, in progenitor's copy of the
//! document. progenitor names a parameter's builder field after it in
//! snake_case, so `maxResults` and `MaxResults`, or a path and a query
//! parameter both called `id`, become one name bound twice (a compile
//! error) or trip an assertion. The client keeps the first of them (path
//! parameters first, as the URL needs them) and leaves the others out, with
//! a note on the method; the server stubs read every one.

use std::collections::BTreeSet;

use openapiv3::{Components, Operation, Parameter, PathItem, ReferenceOr};

use crate::names::field_name;
use crate::spec::paths::operations_mut;
use crate::spec::refs::resolve;

/// The Rust name of a parameter and whether it is in the path (`None` when
/// it does not resolve; validation reports those).
fn key(p: &ReferenceOr<Parameter>, components: Option<&Components>) -> Option<(String, bool)> {
    let p = resolve(p, components)?;
    Some((
        field_name(&p.parameter_data_ref().name),
        matches!(p, Parameter::Path { .. }),
    ))
}

/// The wire name and location of a parameter, as `in` and `name`.
fn wire(p: &ReferenceOr<Parameter>, components: Option<&Components>) -> (String, &'static str) {
    match resolve(p, components) {
        Some(p) => {
            let place = match p {
                Parameter::Query { .. } => "query",
                Parameter::Header { .. } => "header",
                Parameter::Path { .. } => "path",
                Parameter::Cookie { .. } => "cookie",
            };
            (p.parameter_data_ref().name.clone(), place)
        }
        None => (String::new(), "unknown"),
    }
}

/// Whether one operation's parameters (the path item's and its own) hold
/// two with one Rust name.
fn collides(
    shared: &[ReferenceOr<Parameter>],
    own: &[ReferenceOr<Parameter>],
    components: Option<&Components>,
) -> bool {
    let mut seen = BTreeSet::new();
    shared
        .iter()
        .chain(own)
        .filter_map(|p| key(p, components))
        .any(|(name, _)| !seen.insert(name))
}

/// When an operation's collision involves a path-level parameter, the path
/// item's parameters move into each of its operations (those an operation
/// overrides stay out), so each operation can leave its own out.
pub(crate) fn inline_when_colliding(item: &mut PathItem, components: Option<&Components>) {
    if item.parameters.is_empty() {
        return;
    }
    let shared = item.parameters.clone();
    let any = operations_mut(item).any(|(_, op)| collides(&shared, &op.parameters, components));
    if !any {
        return;
    }
    item.parameters.clear();
    for (_, op) in operations_mut(item) {
        let overridden: BTreeSet<(String, &'static str)> =
            op.parameters.iter().map(|p| wire(p, components)).collect();
        let inherited = shared
            .iter()
            .filter(|p| !overridden.contains(&wire(p, components)))
            .cloned();
        let own = std::mem::take(&mut op.parameters);
        op.parameters = inherited.chain(own).collect();
    }
}

/// The Rust name progenitor gives an operation's request body, whatever the
/// parameters are called.
const BODY: &str = "body";

/// Leaves out of `op` every parameter whose Rust name an earlier one has
/// (path parameters come first), or the request body's (`body`, when the
/// operation has one); returns the note for the method.
pub(crate) fn drop_colliding(
    op: &mut Operation,
    components: Option<&Components>,
) -> Option<String> {
    let mut kept = BTreeSet::new();
    if op.request_body.is_some() {
        kept.insert(BODY.to_owned());
    }
    let keys: Vec<Option<(String, bool)>> =
        op.parameters.iter().map(|p| key(p, components)).collect();
    for (name, _) in keys.iter().flatten().filter(|(_, path)| *path) {
        kept.insert(name.clone());
    }
    let mut dropped = Vec::new();
    let mut i = 0;
    op.parameters.retain(|p| {
        let k = &keys[i];
        i += 1;
        match k {
            Some((_, true)) | None => true,
            Some((name, false)) if kept.insert(name.clone()) => true,
            Some(_) => {
                let (name, place) = wire(p, components);
                dropped.push(format!("the {place} parameter `{name}`"));
                false
            }
        }
    });
    (!dropped.is_empty()).then(|| {
        format!(
            "This method does not send {}: its Rust name is another parameter's or the request body's (the server stubs read it).",
            dropped.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(yaml: &str) -> PathItem {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn names(op: &Operation) -> Vec<String> {
        op.parameters
            .iter()
            .map(|p| p.as_item().unwrap().parameter_data_ref().name.clone())
            .collect()
    }

    #[test]
    fn the_first_of_two_names_is_kept_and_path_parameters_win() {
        let mut item = item(
            "parameters:\n  - { name: MaxResults, in: query, schema: { type: integer } }\n\
             get:\n  parameters:\n    - { name: maxResults, in: query, schema: { type: integer } }\n\
             \x20   - { name: id, in: query, schema: { type: string } }\n\
             \x20   - { name: id, in: path, required: true, schema: { type: string } }\n\
             \x20 responses: {}\n\
             post:\n  responses: {}\n",
        );
        inline_when_colliding(&mut item, None);
        assert!(item.parameters.is_empty());
        let get = item.get.as_mut().unwrap();
        assert_eq!(names(get), ["MaxResults", "maxResults", "id", "id"]);
        let note = drop_colliding(get, None).unwrap();
        assert_eq!(names(get), ["MaxResults", "id"]);
        assert!(
            matches!(get.parameters[1].as_item(), Some(Parameter::Path { .. })),
            "the path parameter stays"
        );
        assert!(note.contains("the query parameter `maxResults`"), "{note}");
        assert!(note.contains("the query parameter `id`"), "{note}");
        let post = item.post.as_mut().unwrap();
        assert_eq!(names(post), ["MaxResults"], "inherited where no collision");
        assert_eq!(drop_colliding(post, None), None);
    }

    #[test]
    fn a_parameter_named_like_the_request_body_is_left_out_only_beside_a_body() {
        let mut item = item(
            "post:\n  parameters:\n    - { name: Body, in: query, schema: { type: string } }\n\
             \x20   - { name: id, in: query, schema: { type: string } }\n\
             \x20 requestBody: { content: { text/plain: { schema: { type: string } } } }\n\
             \x20 responses: {}\n\
             get:\n  parameters:\n    - { name: body, in: query, schema: { type: string } }\n\
             \x20 responses: {}\n",
        );
        let post = item.post.as_mut().unwrap();
        let note = drop_colliding(post, None).unwrap();
        assert_eq!(names(post), ["id"]);
        assert!(note.contains("the query parameter `Body`"), "{note}");
        let get = item.get.as_mut().unwrap();
        assert_eq!(drop_colliding(get, None), None, "no body, no collision");
        assert_eq!(names(get), ["body"]);
    }

    #[test]
    fn distinct_names_stay_where_they_are() {
        let mut item = item(
            "parameters:\n  - { name: a, in: query, schema: { type: integer } }\n\
             get:\n  parameters:\n    - { name: b, in: query, schema: { type: integer } }\n\
             \x20 responses: {}\n",
        );
        let before = item.clone();
        inline_when_colliding(&mut item, None);
        assert_eq!(item, before);
        assert_eq!(drop_colliding(item.get.as_mut().unwrap(), None), None);
    }
}
