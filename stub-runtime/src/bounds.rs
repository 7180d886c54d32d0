//! The bound keywords of a schema check, one call each: `minimum` and
//! `maximum` (plain or exclusive), `multipleOf` on numbers,
//! `minLength` / `maxLength` on strings, `minItems` / `maxItems` on arrays
//! and `minProperties` / `maxProperties` on objects. A value of another JSON type
//! passes (the `type` keyword refuses it, if the schema says so). A rule
//! names the bound as the spec writes it, never the value.

use serde_json::{Map, Value};

use crate::keywords::{char_count, multiple_of};
use crate::violation::{Pointer, Violation};

/// `minimum` (`exclusive`: `exclusiveMinimum`) of a number.
pub fn minimum(v: &Value, at: &Pointer<'_>, bound: f64, exclusive: bool) -> Result<(), Violation> {
    match v.as_f64() {
        Some(n) if exclusive && n <= bound => Err(at.violation(format!("must be > {bound}"))),
        Some(n) if !exclusive && n < bound => Err(at.violation(format!("must be >= {bound}"))),
        _ => Ok(()),
    }
}

/// `maximum` (`exclusive`: `exclusiveMaximum`) of a number.
pub fn maximum(v: &Value, at: &Pointer<'_>, bound: f64, exclusive: bool) -> Result<(), Violation> {
    match v.as_f64() {
        Some(n) if exclusive && n >= bound => Err(at.violation(format!("must be < {bound}"))),
        Some(n) if !exclusive && n > bound => Err(at.violation(format!("must be <= {bound}"))),
        _ => Ok(()),
    }
}

/// `multipleOf` (`factor > 0`) of a number, as [`multiple_of`] decides it.
pub fn multiple(v: &Value, at: &Pointer<'_>, factor: f64) -> Result<(), Violation> {
    match v.as_f64() {
        Some(n) if !multiple_of(n, factor) => {
            Err(at.violation(format!("must be a multiple of {factor}")))
        }
        _ => Ok(()),
    }
}

/// `minLength` (`min`, 0 when absent) and `maxLength` of a string, in
/// Unicode code points as JSON Schema counts them.
pub fn length(
    v: &Value,
    at: &Pointer<'_>,
    min: usize,
    max: Option<usize>,
) -> Result<(), Violation> {
    let Some(s) = v.as_str() else {
        return Ok(());
    };
    let length = char_count(s);
    if length < min {
        return Err(at.violation(format!("must be at least {min} characters long")));
    }
    match max {
        Some(max) if length > max => {
            Err(at.violation(format!("must be at most {max} characters long")))
        }
        _ => Ok(()),
    }
}

/// `minItems` (`min`, 0 when absent) and `maxItems` of array `a`.
pub fn item_count(
    a: &[Value],
    at: &Pointer<'_>,
    min: usize,
    max: Option<usize>,
) -> Result<(), Violation> {
    count(a.len(), at, min, max, "items")
}

/// `minProperties` (`min`, 0 when absent) and `maxProperties` of object `o`.
pub fn property_count(
    o: &Map<String, Value>,
    at: &Pointer<'_>,
    min: usize,
    max: Option<usize>,
) -> Result<(), Violation> {
    count(o.len(), at, min, max, "properties")
}

fn count(
    n: usize,
    at: &Pointer<'_>,
    min: usize,
    max: Option<usize>,
    what: &str,
) -> Result<(), Violation> {
    if n < min {
        return Err(at.violation(format!("must have at least {min} {what}")));
    }
    match max {
        Some(max) if n > max => Err(at.violation(format!("must have at most {max} {what}"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule(result: Result<(), Violation>) -> String {
        result.map_err(|v| v.to_string()).err().unwrap_or_default()
    }

    /// Each bound at, just inside and just outside it, plain and exclusive;
    /// the rule names the bound as written (`1.5`, `0`).
    #[test]
    fn minimum_and_maximum_hold_at_the_bound_unless_exclusive() {
        let at = Pointer::Root;
        assert_eq!(minimum(&json!(0), &at, 0.0, false), Ok(()));
        assert_eq!(
            rule(minimum(&json!(-1), &at, 0.0, false)),
            "(root): must be >= 0"
        );
        assert_eq!(
            rule(minimum(&json!(1.5), &at, 1.5, true)),
            "(root): must be > 1.5"
        );
        assert_eq!(minimum(&json!(1.6), &at, 1.5, true), Ok(()));
        assert_eq!(maximum(&json!(10), &at, 10.0, false), Ok(()));
        assert_eq!(
            rule(maximum(&json!(11), &at, 10.0, false)),
            "(root): must be <= 10"
        );
        assert_eq!(
            rule(maximum(&json!(10), &at, 10.0, true)),
            "(root): must be < 10"
        );
        assert_eq!(maximum(&json!(9.5), &at, 10.0, true), Ok(()));
        // Not a number: another keyword's business.
        assert_eq!(minimum(&json!("-1"), &at, 0.0, false), Ok(()));
        assert_eq!(maximum(&json!(null), &at, 0.0, true), Ok(()));
    }

    #[test]
    fn multiple_refuses_a_number_off_the_step() {
        let at = Pointer::Root;
        let at = at.key("n");
        assert_eq!(multiple(&json!(1.5), &at, 0.5), Ok(()));
        assert_eq!(multiple(&json!(12), &at, 3.0), Ok(()));
        assert_eq!(
            rule(multiple(&json!(13), &at, 3.0)),
            "/n: must be a multiple of 3"
        );
        assert_eq!(multiple(&json!("13"), &at, 3.0), Ok(()));
    }

    /// Lengths count code points (`é` and `😀` are one each), both ends
    /// inclusive; a missing `maxLength` bounds nothing.
    #[test]
    fn length_counts_code_points_between_both_bounds() {
        let at = Pointer::Root;
        assert_eq!(length(&json!("é😀"), &at, 2, Some(2)), Ok(()));
        assert_eq!(
            rule(length(&json!("é"), &at, 2, None)),
            "(root): must be at least 2 characters long"
        );
        assert_eq!(
            rule(length(&json!("abc"), &at, 0, Some(2))),
            "(root): must be at most 2 characters long"
        );
        assert_eq!(length(&json!("x".repeat(1000)), &at, 1, None), Ok(()));
        assert_eq!(length(&json!(12345), &at, 0, Some(2)), Ok(()));
    }

    /// Counts are inclusive at both ends; the rule names the bound and
    /// what is counted.
    #[test]
    fn item_and_property_counts_hold_between_both_bounds() {
        let at = Pointer::Root;
        let two = [json!(1), json!(2)];
        assert_eq!(item_count(&two, &at, 2, Some(2)), Ok(()));
        assert_eq!(
            rule(item_count(&two, &at, 3, None)),
            "(root): must have at least 3 items"
        );
        assert_eq!(
            rule(item_count(&two, &at, 0, Some(1))),
            "(root): must have at most 1 items"
        );
        let object = json!({"a": 1});
        let object = object.as_object().unwrap();
        assert_eq!(property_count(object, &at, 1, None), Ok(()));
        assert_eq!(
            rule(property_count(object, &at, 2, Some(5))),
            "(root): must have at least 2 properties"
        );
        assert_eq!(
            rule(property_count(object, &at, 0, Some(0))),
            "(root): must have at most 0 properties"
        );
    }
}
