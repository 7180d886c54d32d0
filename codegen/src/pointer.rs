//! JSON pointers (RFC 6901), as problems name places in the spec and
//! `$ref`s name their targets: shared by `spec` and `downgrade` (OpenAPI 3.1
//! input), which do not import each other.

use std::borrow::Cow;
use std::fmt;

/// A `$ref`'s fragment (`/paths/~1a~1%7Bid%7D/get`) as a plain JSON pointer:
/// a fragment is a URI part, so its percent-escapes are decoded first
/// (RFC 6901, section 6), whatever the OpenAPI version.
pub(crate) fn from_fragment(fragment: &str) -> Cow<'_, str> {
    percent_encoding::percent_decode_str(fragment).decode_utf8_lossy()
}

/// Escapes one JSON-pointer segment.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Unescapes one JSON-pointer segment.
pub(crate) fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Where a walk over the document is: a pointer kept as its unescaped
/// segments on the walk's stack, written out (escaped, through `Display`)
/// only when a problem names it. A walk visits every node of the document
/// and names very few, so no node pays for a string of its own.
#[derive(Clone, Copy)]
pub(crate) enum At<'a> {
    /// The pointer the walk starts from, as written (`#`, `#/paths`).
    Root(&'a str),
    /// A member of the object at the parent pointer.
    Key(&'a At<'a>, &'a str),
    /// An item of the array at the parent pointer.
    Index(&'a At<'a>, usize),
}

impl<'a> At<'a> {
    /// The pointer to this object's member `key`.
    pub(crate) fn key(&'a self, key: &'a str) -> Self {
        At::Key(self, key)
    }

    /// The pointer to this array's item `i`.
    pub(crate) fn index(&'a self, i: usize) -> Self {
        At::Index(self, i)
    }

    /// The last segment when it is a member name.
    pub(crate) fn last_key(&self) -> Option<&'a str> {
        match *self {
            At::Key(_, key) => Some(key),
            _ => None,
        }
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Root(root) => f.write_str(root),
            At::Key(parent, key) => write!(f, "{parent}/{}", escape(key)),
            At::Index(parent, i) => write!(f, "{parent}/{i}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pointer_is_written_with_its_segments_escaped() {
        let root = At::Root("#/components");
        let schemas = root.key("schemas");
        let odd = schemas.key("a/b~c");
        let item = odd.index(3);
        assert_eq!(item.to_string(), "#/components/schemas/a~1b~0c/3");
        assert_eq!(
            odd.to_string(),
            format!("#/components/schemas/{}", escape("a/b~c"))
        );
        assert_eq!(odd.last_key(), Some("a/b~c"));
        assert_eq!(item.last_key(), None);
        assert_eq!(root.to_string(), "#/components");
    }
}
