//! The spec operation a request is for, by method and path, from the
//! generated [`OPERATIONS`] table (matched with `matchit`, axum's matcher):
//! the `operation_id` label of metrics and log lines. Anything else is
//! [`UNMATCHED`], so a label never holds a client's raw path.

use std::sync::LazyLock;

use axum::http::Method;
use users_api_server_stubs::OPERATIONS;

/// The label of a request no operation of the spec matches.
pub const UNMATCHED: &str = "unmatched";

/// Per path template: `(method, operationId)` of its operations.
type Table = matchit::Router<Vec<(&'static str, &'static str)>>;

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut templates: Vec<(&str, Vec<(&str, &str)>)> = Vec::new();
    for op in OPERATIONS {
        match templates.iter_mut().find(|(path, _)| *path == op.path) {
            Some((_, ops)) => ops.push((op.method, op.operation_id)),
            None => templates.push((op.path, vec![(op.method, op.operation_id)])),
        }
    }
    let mut table = Table::new();
    for (path, ops) in templates {
        table
            .insert(path, ops)
            .expect("the spec's path templates are distinct and valid");
    }
    table
});

/// The operationId serving `method` on `path`, or [`UNMATCHED`].
pub fn operation_of(method: &Method, path: &str) -> &'static str {
    TABLE
        .at(path)
        .ok()
        .and_then(|m| {
            m.value
                .iter()
                .find(|(verb, _)| *verb == method.as_str())
                .map(|(_, id)| *id)
        })
        .unwrap_or(UNMATCHED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_found_by_a_concrete_path() {
        assert!(!OPERATIONS.is_empty());
        for op in OPERATIONS {
            let path = op
                .path
                .replace("{user}", "3f0c3a6e-1b1e-4c39-9d59-0c7e4f1a2b3c");
            let method = Method::from_bytes(op.method.as_bytes()).unwrap();
            assert_eq!(operation_of(&method, &path), op.operation_id, "{path}");
        }
        assert_eq!(
            operation_of(&Method::GET, "/users/anything"),
            "users_specific_user_snapshot",
            "the router, not this table, checks the parameter"
        );
        for (method, path) in [
            (Method::GET, "/nowhere"),
            (Method::DELETE, "/users"),
            (Method::GET, "/users/a/b/c"),
            (Method::POST, "/users"),
        ] {
            assert_eq!(operation_of(&method, path), UNMATCHED, "{method} {path}");
        }
    }
}
