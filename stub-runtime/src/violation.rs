//! Where a value breaks its schema ([`Pointer`]) and how ([`Violation`]).

use std::borrow::Cow;
use std::fmt;

/// The JSON pointer (RFC 6901) of the value being checked, built as the
/// checks descend: a chain of borrowed segments, rendered only when a check
/// fails, so a valid value costs no allocation.
#[derive(Debug, Clone, Copy)]
pub enum Pointer<'a> {
    /// The whole document.
    Root,
    /// A property of the object at the parent pointer.
    Key(&'a Pointer<'a>, &'a str),
    /// An element of the array at the parent pointer.
    Index(&'a Pointer<'a>, usize),
}

impl<'a> Pointer<'a> {
    /// The pointer of property `key` below this one.
    pub fn key(&'a self, key: &'a str) -> Self {
        Self::Key(self, key)
    }

    /// The pointer of element `index` below this one.
    pub fn index(&'a self, index: usize) -> Self {
        Self::Index(self, index)
    }

    /// A violation of `rule` at this pointer.
    pub fn violation(&self, rule: impl Into<Cow<'static, str>>) -> Violation {
        Violation {
            pointer: self.to_string(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for Pointer<'_> {
    /// `""` for the root, `/a/0/b~1c` below it (`~` and `/` escaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => Ok(()),
            Self::Key(parent, key) => {
                write!(f, "{parent}/")?;
                for c in key.chars() {
                    match c {
                        '~' => f.write_str("~0")?,
                        '/' => f.write_str("~1")?,
                        c => write!(f, "{c}")?,
                    }
                }
                Ok(())
            }
            Self::Index(parent, index) => write!(f, "{parent}/{index}"),
        }
    }
}

/// Which way a value travels: `readOnly` properties are refused in
/// requests, `writeOnly` ones in responses, and neither is required there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A request parameter or body.
    Request,
    /// A response body.
    Response,
}

/// The first schema rule a value breaks, and where.
///
/// The rule is fixed text plus numbers and names from the spec; it never
/// contains the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {rule}", if pointer.is_empty() { "(root)" } else { pointer.as_str() })]
pub struct Violation {
    /// JSON pointer of the failing value (`""` for the whole value).
    pub pointer: String,
    /// The rule it breaks (`must be >= 0`).
    pub rule: Cow<'static, str>,
}

/// The signature of a generated schema check.
pub type Check = fn(&serde_json::Value, &Pointer<'_>, Direction) -> Result<(), Violation>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_tilde_and_slash() {
        let root = Pointer::Root;
        let a = root.key("a/b");
        let i = a.index(3);
        let c = i.key("c~d");
        assert_eq!(c.to_string(), "/a~1b/3/c~0d");
        assert_eq!(root.to_string(), "");
    }

    #[test]
    fn violations_name_pointer_and_rule() {
        let root = Pointer::Root;
        let age = root.key("age");
        assert_eq!(
            age.violation("must be >= 0").to_string(),
            "/age: must be >= 0"
        );
        assert_eq!(
            root.violation("must be an object").to_string(),
            "(root): must be an object"
        );
    }
}
