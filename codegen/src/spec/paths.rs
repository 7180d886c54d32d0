//! Path templates and the operations and responses of a path item.

use std::collections::BTreeSet;

use openapiv3::{Operation, PathItem, ReferenceOr, Response};

/// Whether every parameter in a path template is a whole segment (`/{id}`),
/// which is what the router can match.
pub(crate) fn is_routable(path: &str) -> bool {
    path.split('/').all(|segment| {
        !segment.contains(['{', '}'])
            || (segment.starts_with('{')
                && segment.ends_with('}')
                && !segment[1..segment.len() - 1].contains(['{', '}']))
    })
}

/// The `{name}` segments of a path template, in template order.
pub(crate) fn template_names(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

/// Every `{name}` of a path template, whole segment or not (`/rides?page={page}`
/// names `page`), as a set.
pub(crate) fn braced_names(path: &str) -> BTreeSet<String> {
    path.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

/// The `{name}` segments of a path template, as a set.
pub(crate) fn template_name_set(path: &str) -> BTreeSet<String> {
    template_names(path).map(str::to_string).collect()
}

/// Every operation of a path item with its method, mutably.
pub(crate) fn operations_mut(
    item: &mut PathItem,
) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_mut().map(|op| (method, op)))
}

/// An operation's responses with their keys (`200`, `4XX`, `default`).
pub(crate) fn responses(op: &Operation) -> impl Iterator<Item = (String, &ReferenceOr<Response>)> {
    op.responses
        .responses
        .iter()
        .map(|(code, r)| (code.to_string(), r))
        .chain(
            op.responses
                .default
                .iter()
                .map(|r| ("default".to_string(), r)),
        )
}

/// An operation's responses with their keys (`200`, `4XX`, `default`), mutably.
pub(crate) fn responses_mut(
    op: &mut Operation,
) -> impl Iterator<Item = (String, &mut ReferenceOr<Response>)> {
    let responses = &mut op.responses;
    responses
        .responses
        .iter_mut()
        .map(|(code, r)| (code.to_string(), r))
        .chain(
            responses
                .default
                .iter_mut()
                .map(|r| ("default".to_string(), r)),
        )
}
