//! The JSON Schema keywords generated checks call into: JSON equality,
//! `multipleOf`, `uniqueItems`, string length and `properties`.

use serde_json::{Map, Value};

use crate::violation::{Check, Direction, Pointer, Violation};

/// `properties`: property `key` of `object` (at `at`), when present,
/// checked by `check`.
pub fn property(
    object: &Map<String, Value>,
    key: &str,
    at: &Pointer<'_>,
    dir: Direction,
    check: Check,
) -> Result<(), Violation> {
    match object.get(key) {
        Some(value) => check(value, &at.key(key), dir),
        None => Ok(()),
    }
}

/// Whether `v` is an integer in JSON Schema's sense (`1.0` is one).
pub fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64()
                || n.is_u64()
                || n.as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        _ => false,
    }
}

/// Whether `x` is a multiple of `m` (`m > 0`): exactly for integers, within
/// rounding of the quotient for fractions (`0.3` is a multiple of `0.1`).
pub fn multiple_of(x: f64, m: f64) -> bool {
    if m <= 0.0 || !x.is_finite() {
        return false;
    }
    if x.fract() == 0.0 && m.fract() == 0.0 {
        return x % m == 0.0;
    }
    // Relative to the quotient: decimal steps (0.7 of 0.1) pass, a value
    // far below the step (5e-324 of 0.5) does not.
    let q = x / m;
    (q - q.round()).abs() <= 1e-9 * q.abs()
}

/// The length of a string as JSON Schema counts it: Unicode code points.
pub fn char_count(s: &str) -> usize {
    s.chars().count()
}

/// JSON Schema equality: numbers by value (`1` equals `1.0`), objects
/// regardless of key order.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, a)| y.get(k).is_some_and(|b| json_eq(a, b)))
        }
        _ => a == b,
    }
}

/// Whether no two items are equal ([`json_eq`]).
pub fn unique_items(items: &[Value]) -> bool {
    items
        .iter()
        .enumerate()
        .all(|(i, a)| items[i + 1..].iter().all(|b| !json_eq(a, b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A check of the test's own (json_type builds on this module, not the
    /// other way round).
    fn integer(v: &Value, at: &Pointer<'_>, _: Direction) -> Result<(), Violation> {
        if is_integer(v) {
            Ok(())
        } else {
            Err(at.violation("must be an integer"))
        }
    }

    #[test]
    fn a_present_property_is_checked_at_its_pointer_and_an_absent_one_passes() {
        let object = json!({"n": "x", "a/b": 1});
        let object = object.as_object().unwrap();
        let root = Pointer::Root;
        let check: Check = integer;
        let e = property(object, "n", &root, Direction::Request, check).unwrap_err();
        assert_eq!((e.pointer.as_str(), &*e.rule), ("/n", "must be an integer"));
        assert!(property(object, "a/b", &root, Direction::Request, check).is_ok());
        assert!(property(object, "missing", &root, Direction::Request, check).is_ok());
    }

    #[test]
    fn integers_include_whole_floats() {
        assert!(is_integer(&json!(3)));
        assert!(is_integer(&json!(3.0)));
        assert!(is_integer(&json!(u64::MAX)));
        assert!(!is_integer(&json!(3.5)));
        assert!(!is_integer(&json!("3")));
    }

    #[test]
    fn multiples() {
        assert!(multiple_of(10.0, 5.0));
        assert!(!multiple_of(11.0, 5.0));
        assert!(multiple_of(0.3, 0.1));
        assert!(!multiple_of(0.35, 0.1));
        assert!(multiple_of(-4.5, 1.5));
        assert!(!multiple_of(f64::INFINITY, 1.0));
        assert!(multiple_of(0.0, 0.5));
        // Far below the step: Schemathesis' coverage phase sends this.
        assert!(!multiple_of(5e-324, 0.5));
        assert!(!multiple_of(1e-12, 0.1));
    }

    #[test]
    fn uniqueness_compares_numbers_by_value_and_objects_by_content() {
        assert!(unique_items(&[json!(1), json!(2)]));
        assert!(!unique_items(&[json!(1), json!(1.0)]));
        assert!(!unique_items(&[
            json!({"a": 1, "b": 2}),
            json!({"b": 2, "a": 1})
        ]));
        assert!(unique_items(&[json!([1, 2]), json!([2, 1])]));
    }

    #[test]
    fn lengths_count_code_points() {
        assert_eq!(char_count("héé"), 3);
        assert_eq!(char_count("😀"), 1);
    }
}
