//! Compiled `pattern`s.

use std::sync::OnceLock;

/// A `pattern`: ECMA-262 syntax (via `regress`, as typify's types use),
/// compiled once on first use, matched anywhere in the string.
#[derive(Debug)]
pub struct Pattern {
    source: &'static str,
    compiled: OnceLock<Option<regress::Regex>>,
}

impl Pattern {
    /// A pattern not compiled yet (for a `static`).
    pub const fn new(source: &'static str) -> Self {
        Self {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// Whether `source` compiles (the generator checks before emitting one).
    pub fn compiles(source: &str) -> bool {
        regress::Regex::new(source).is_ok()
    }

    /// Whether `s` contains a match. A pattern that does not compile (the
    /// generator never emits one) matches everything.
    pub fn is_match(&self, s: &str) -> bool {
        self.compiled
            .get_or_init(|| regress::Regex::new(self.source).ok())
            .as_ref()
            .is_none_or(|re| re.find(s).is_some())
    }

    /// The pattern as written in the spec.
    pub fn source(&self) -> &'static str {
        self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_ecma_and_unanchored() {
        // A lookahead: ECMA-262, which the `regex` crate lacks.
        static P: Pattern = Pattern::new(r"^(?=.*\d)[a-z\d]+$");
        assert!(P.is_match("ab1"));
        assert!(!P.is_match("abc"));
        static Q: Pattern = Pattern::new("b+");
        assert!(Q.is_match("abbbc"));
        assert!(!Q.is_match("ac"));
        assert!(!Pattern::compiles("(unclosed"));
        assert_eq!(Q.source(), "b+");
    }
}
