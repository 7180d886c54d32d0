//! OpenAPI 3.1 in: a 3.1 document, as a JSON tree, rewritten into the
//! OpenAPI 3.0.3 form that `openapiv3` (and so progenitor, typify and drift)
//! reads, before anything parses it.
//!
//! Every 3.1 construct is either carried into an equivalent 3.0 form (type
//! arrays, `const`, numeric exclusive bounds, `examples`, `$ref` with
//! siblings, `contentEncoding`/`contentMediaType`, `$defs`, `webhooks`,
//! `info.summary`, `license.identifier`, ...) or reported as a lint with its
//! JSON pointer in the original document and a plain explanation (what the
//! generated Rust will not check). Nothing is dropped silently and nothing
//! panics. A 3.0 document passes through untouched.

mod defs;
mod document;
mod refs;
mod schema;

pub(crate) use schema::PREFIX_ITEMS;

use serde_json::Value;

use crate::error::Problem;

/// The only `jsonSchemaDialect` the generated code follows: OpenAPI 3.1's own.
pub const OPENAPI_DIALECT: &str = "https://spec.openapis.org/oas/3.1/dialect/base";

/// Where webhooks are served: `webhooks/<name>` becomes the path
/// `/webhooks/<name>`, so the server stubs receive it like any operation.
pub const WEBHOOK_PREFIX: &str = "/webhooks/";

/// Whether `doc` declares OpenAPI 3.1 (`openapi: 3.1.x`).
pub fn is_openapi31(doc: &Value) -> bool {
    doc.get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| v.trim() == "3.1" || v.trim().starts_with("3.1."))
}

/// Rewrites an OpenAPI 3.1 document into OpenAPI 3.0.3 in place and returns
/// one lint per construct that could not be carried over exactly. Any other
/// document (3.0.x, or not OpenAPI at all) is left as it is, for the parser
/// to accept or refuse.
pub fn to_openapi30(doc: &mut Value) -> Vec<Problem> {
    if !is_openapi31(doc) {
        return Vec::new();
    }
    let mut lints = Lints::default();
    defs::hoist(doc, &mut lints);
    refs::resolve(doc, &mut lints);
    document::convert(doc, &mut lints);
    if let Some(root) = doc.as_object_mut() {
        root.insert("openapi".into(), Value::from("3.0.3"));
    }
    lints.0
}

/// The lints collected during one rewrite.
#[derive(Default)]
struct Lints(Vec<Problem>);

impl Lints {
    fn add(&mut self, pointer: &str, message: impl Into<String>) {
        self.0.push(Problem {
            pointer: pointer.to_string(),
            message: message.into(),
        });
    }
}

/// A free component name: `base`, else `base2`, `base3`, ... Names that
/// differ only in case or punctuation count as taken: the generated Rust
/// types would have one name.
fn free_name(base: &str, taken: &std::collections::BTreeSet<String>) -> String {
    let key = |n: &str| -> String {
        n.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let used: std::collections::BTreeSet<String> = taken.iter().map(|n| key(n)).collect();
    if !used.contains(&key(base)) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}{n}"))
        .find(|n| !used.contains(&key(n)))
        .unwrap_or_else(|| base.to_string())
}

/// `at` extended by one JSON-pointer segment (RFC 6901 escaping).
fn join(at: &str, segment: &str) -> String {
    format!("{at}/{}", crate::pointer::escape(segment))
}

#[cfg(test)]
mod tests;
