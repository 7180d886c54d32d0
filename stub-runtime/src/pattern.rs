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

#[cfg(feature = "axum")]
impl Pattern {
    /// `pattern` on `v` (at `at`): a string must contain a match; a value
    /// of another JSON type passes. The rule shows the pattern, never `v`.
    pub fn check(
        &self,
        v: &serde_json::Value,
        at: &crate::Pointer<'_>,
    ) -> Result<(), crate::Violation> {
        match v.as_str() {
            Some(s) if !self.is_match(s) => {
                Err(at.violation(format!("must match the pattern `{}`", self.source)))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "axum")]
    fn check_refuses_strings_without_a_match_and_passes_other_values() {
        use serde_json::json;
        static DIGITS: Pattern = Pattern::new("^[0-9]+$");
        let at = crate::Pointer::Root;
        assert_eq!(DIGITS.check(&json!("123"), &at), Ok(()));
        let refused = DIGITS
            .check(&json!("12a-s3cret"), &at.key("pin"))
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "/pin: must match the pattern `^[0-9]+$`"
        );
        assert_eq!(DIGITS.check(&json!(12), &at), Ok(()));
    }

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
