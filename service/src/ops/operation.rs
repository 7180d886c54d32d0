//! The spec operation a request is for: the `operation_id` label of metrics
//! and log lines. The generated router reports the operation it matched
//! (see [`super::request_context::routed`]); a request refused before the
//! router runs is looked up by method and path in the generated
//! [`OPERATIONS`] table (matched with `matchit`, axum's matcher). Anything
//! else is [`UNMATCHED`], so a label never holds a client's raw path.

use std::sync::LazyLock;

use axum::http::Method;
use users_api_server_stubs::OPERATIONS;

/// The label of a request no operation of the spec matches.
pub const UNMATCHED: &str = "unmatched";

/// An operation of the spec, or none ([`UNMATCHED`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation(usize);

impl Operation {
    /// How many there are: every operation of the spec, and [`UNMATCHED`].
    pub const COUNT: usize = OPERATIONS.len() + 1;

    /// The operation at `index` of `OPERATIONS` (what the generated router
    /// reports, see [`super::request_context::routed`]); past the end,
    /// the unmatched one.
    pub fn at(index: usize) -> Self {
        Self(index.min(OPERATIONS.len()))
    }

    /// The label of a request no operation serves.
    pub fn unmatched() -> Self {
        Self(OPERATIONS.len())
    }

    /// Its position, below [`Operation::COUNT`].
    pub fn index(self) -> usize {
        self.0
    }

    /// Its operationId, or [`UNMATCHED`].
    pub fn id(self) -> &'static str {
        OPERATIONS
            .get(self.0)
            .map_or(UNMATCHED, |op| op.operation_id)
    }

    /// Every one, in index order.
    pub fn all() -> impl Iterator<Item = Self> {
        (0..Self::COUNT).map(Self)
    }
}

/// Per path template: `(method, index in OPERATIONS)` of its operations.
type Table = matchit::Router<Vec<(&'static str, usize)>>;

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut templates: Vec<(&str, Vec<(&str, usize)>)> = Vec::new();
    for (i, op) in OPERATIONS.iter().enumerate() {
        match templates.iter_mut().find(|(path, _)| *path == op.path) {
            Some((_, ops)) => ops.push((op.method, i)),
            None => templates.push((op.path, vec![(op.method, i)])),
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

/// The operation serving `method` on `path`, or the unmatched one.
pub fn operation_of(method: &Method, path: &str) -> Operation {
    TABLE
        .at(path)
        .ok()
        .and_then(|m| {
            m.value
                .iter()
                .find(|(verb, _)| *verb == method.as_str())
                .map(|(_, i)| Operation(*i))
        })
        .unwrap_or(Operation::unmatched())
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
            assert_eq!(operation_of(&method, &path).id(), op.operation_id, "{path}");
        }
        let ids: Vec<_> = Operation::all().map(Operation::id).collect();
        assert_eq!(ids.len(), OPERATIONS.len() + 1);
        assert_eq!(ids.last(), Some(&UNMATCHED));
        assert_eq!(
            operation_of(&Method::GET, "/users/anything").id(),
            "users_specific_user_snapshot",
            "the router, not this table, checks the parameter"
        );
        for (method, path) in [
            (Method::GET, "/nowhere"),
            (Method::DELETE, "/users"),
            (Method::GET, "/users/a/b/c"),
            (Method::POST, "/users"),
        ] {
            assert_eq!(
                operation_of(&method, path).id(),
                UNMATCHED,
                "{method} {path}"
            );
        }
    }
}
