//! The JSON Schema keywords generated checks call into: JSON equality,
//! `multipleOf`, `uniqueItems`, string length, `properties`,
//! `additionalProperties`, `oneOf`, `anyOf` and `not`.

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

/// `additionalProperties: false`: `object` (at `at`) has no property but
/// the `known` ones; the rule lists them, never the unknown key.
pub fn no_other_properties(
    object: &Map<String, Value>,
    at: &Pointer<'_>,
    known: &[&str],
) -> Result<(), Violation> {
    if object.keys().all(|key| known.contains(&key.as_str())) {
        return Ok(());
    }
    if known.is_empty() {
        return Err(at.violation("must have no properties"));
    }
    let listed: Vec<String> = known.iter().map(|n| format!("`{n}`")).collect();
    Err(at.violation(format!(
        "must have no properties other than {}",
        listed.join(", ")
    )))
}

/// `additionalProperties` with a schema: every property of `object` that
/// is not one of the `known` ones checked by `check`, at its key.
pub fn other_properties(
    object: &Map<String, Value>,
    at: &Pointer<'_>,
    dir: Direction,
    known: &[&str],
    check: Check,
) -> Result<(), Violation> {
    for (key, value) in object {
        if !known.contains(&key.as_str()) {
            check(value, &at.key(key), dir)?;
        }
    }
    Ok(())
}

/// `oneOf`: `v` (at `at`) matches exactly one of the `branches` (`None`:
/// a branch that accepts every value). Every branch runs.
pub fn one_of(
    v: &Value,
    at: &Pointer<'_>,
    dir: Direction,
    branches: &[Option<Check>],
) -> Result<(), Violation> {
    let matched = branches
        .iter()
        .filter(|branch| branch.is_none_or(|check| check(v, at, dir).is_ok()))
        .count();
    if matched == 1 {
        Ok(())
    } else {
        Err(at.violation(format!(
            "must match exactly one of the {} schemas of `oneOf`",
            branches.len()
        )))
    }
}

/// `anyOf`: `v` (at `at`) matches at least one of the `branches`.
pub fn any_of(
    v: &Value,
    at: &Pointer<'_>,
    dir: Direction,
    branches: &[Check],
) -> Result<(), Violation> {
    if branches.iter().any(|check| check(v, at, dir).is_ok()) {
        Ok(())
    } else {
        Err(at.violation(format!(
            "must match at least one of the {} schemas of `anyOf`",
            branches.len()
        )))
    }
}

/// `not`: `v` (at `at`) does not match `check`.
pub fn not(v: &Value, at: &Pointer<'_>, dir: Direction, check: Check) -> Result<(), Violation> {
    match check(v, at, dir) {
        Ok(()) => Err(at.violation("must not match the schema of `not`")),
        Err(_) => Ok(()),
    }
}

/// `required`: `object` (at `at`) has property `key`; its absence is
/// reported at the property's pointer.
pub fn required_key(
    object: &Map<String, Value>,
    at: &Pointer<'_>,
    key: &str,
) -> Result<(), Violation> {
    if object.contains_key(key) {
        Ok(())
    } else {
        Err(at.key(key).violation("is required"))
    }
}

/// `required` for a `readOnly` property (`when` is
/// [`Direction::Response`]) or a `writeOnly` one ([`Direction::Request`]):
/// [`required_key`] when the value travels `dir == when`, else nothing.
pub fn required_in(
    object: &Map<String, Value>,
    at: &Pointer<'_>,
    key: &str,
    dir: Direction,
    when: Direction,
) -> Result<(), Violation> {
    if dir == when {
        required_key(object, at, key)
    } else {
        Ok(())
    }
}

/// `readOnly`: property `key` of `object` (at `at`) is refused in a
/// request; a response may carry it.
pub fn read_only(
    object: &Map<String, Value>,
    at: &Pointer<'_>,
    key: &str,
    dir: Direction,
) -> Result<(), Violation> {
    if dir == Direction::Request && object.contains_key(key) {
        Err(at.key(key).violation("is read-only and must not be sent"))
    } else {
        Ok(())
    }
}

/// `writeOnly`: property `key` of `object` (at `at`) is refused in a
/// response; a request may carry it.
pub fn write_only(
    object: &Map<String, Value>,
    at: &Pointer<'_>,
    key: &str,
    dir: Direction,
) -> Result<(), Violation> {
    if dir == Direction::Response && object.contains_key(key) {
        Err(at
            .key(key)
            .violation("is write-only and must not be returned"))
    } else {
        Ok(())
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

    /// Type checks of the tests' own: `json_type` builds on this module,
    /// so the tests here do not call it.
    fn string(v: &Value, at: &Pointer<'_>, _: Direction) -> Result<(), Violation> {
        if v.is_string() {
            Ok(())
        } else {
            Err(at.violation("must be a string"))
        }
    }

    fn number(v: &Value, at: &Pointer<'_>, _: Direction) -> Result<(), Violation> {
        if v.is_number() {
            Ok(())
        } else {
            Err(at.violation("must be a number"))
        }
    }

    fn said(result: Result<(), Violation>) -> Option<String> {
        result.err().map(|e| e.to_string())
    }

    #[test]
    fn one_of_any_of_and_not_count_matching_branches() {
        let at = Pointer::Root;
        let dir = Direction::Request;
        let number: Check = number;
        let integer: Check = integer;
        // 1 is a number and an integer: two `oneOf` branches match.
        assert_eq!(
            said(one_of(&json!(1), &at, dir, &[Some(number), Some(integer)])).as_deref(),
            Some("(root): must match exactly one of the 2 schemas of `oneOf`")
        );
        assert_eq!(
            said(one_of(
                &json!(1.5),
                &at,
                dir,
                &[Some(number), Some(integer)]
            )),
            None
        );
        // A branch that accepts everything counts as a match.
        assert_eq!(
            said(one_of(&json!("s3cret"), &at, dir, &[None, Some(number)])),
            None
        );
        assert!(said(one_of(&json!(2), &at, dir, &[None, Some(number)])).is_some());
        assert_eq!(said(any_of(&json!(1), &at, dir, &[string, integer])), None);
        assert_eq!(
            said(any_of(&json!(true), &at, dir, &[string, integer])).as_deref(),
            Some("(root): must match at least one of the 2 schemas of `anyOf`")
        );
        assert_eq!(said(not(&json!(1), &at, dir, string)), None);
        assert_eq!(
            said(not(&json!("x"), &at, dir, string)).as_deref(),
            Some("(root): must not match the schema of `not`")
        );
    }

    #[test]
    fn no_other_properties_lists_the_known_ones_never_the_unknown_key() {
        let o = json!({"a": 1, "s3cret": 2});
        let o = o.as_object().unwrap();
        assert_eq!(
            said(no_other_properties(o, &Pointer::Root, &["a", "s3cret"])),
            None
        );
        assert_eq!(
            said(no_other_properties(o, &Pointer::Root, &["a", "b"])).as_deref(),
            Some("(root): must have no properties other than `a`, `b`")
        );
        assert_eq!(
            said(no_other_properties(o, &Pointer::Root, &[])).as_deref(),
            Some("(root): must have no properties")
        );
        let empty = serde_json::Map::new();
        assert_eq!(said(no_other_properties(&empty, &Pointer::Root, &[])), None);
    }

    #[test]
    fn other_properties_are_checked_at_their_key_and_known_ones_left_alone() {
        let o = json!({"n": 1, "x": "text", "y": 2});
        let o = o.as_object().unwrap();
        let at = Pointer::Root;
        assert_eq!(
            said(other_properties(o, &at, Direction::Request, &["n"], string)).as_deref(),
            Some("/y: must be a string")
        );
        assert_eq!(
            said(other_properties(
                o,
                &at,
                Direction::Request,
                &["n", "y"],
                string
            )),
            None
        );
    }

    /// A present key passes whatever its value (`null` included); an absent
    /// one is refused at its own pointer below `at`, its value never shown.
    #[test]
    fn required_key_refuses_only_an_absent_property_at_its_pointer() {
        let object = json!({"id": null, "name": "x"});
        let object = object.as_object().unwrap();
        let root = Pointer::Root;
        let at = root.key("user");
        assert_eq!(required_key(object, &at, "id"), Ok(()));
        assert_eq!(required_key(object, &at, "name"), Ok(()));
        let missing = required_key(object, &at, "email").unwrap_err();
        assert_eq!(missing.pointer, "/user/email");
        assert_eq!(missing.to_string(), "/user/email: is required");
        // Keys are matched exactly, not by prefix or case.
        assert!(required_key(object, &at, "Name").is_err());
        assert!(required_key(object, &at, "nam").is_err());
    }

    /// `required_in` requires the key only in the direction it names.
    #[test]
    fn required_in_requires_only_in_its_direction() {
        let object = json!({});
        let object = object.as_object().unwrap();
        let at = Pointer::Root;
        let (req, resp) = (Direction::Request, Direction::Response);
        assert_eq!(required_in(object, &at, "id", req, resp), Ok(()));
        let missing = required_in(object, &at, "id", resp, resp).unwrap_err();
        assert_eq!(missing.to_string(), "/id: is required");
        assert!(required_in(object, &at, "pw", req, req).is_err());
        assert_eq!(required_in(object, &at, "pw", resp, req), Ok(()));
    }

    /// A `readOnly` property is refused in a request only, a `writeOnly` one
    /// in a response only, each at its own pointer; an absent one passes both.
    #[test]
    fn read_only_and_write_only_refuse_a_present_property_one_way_each() {
        let object = json!({"id": 1, "password": "x"});
        let object = object.as_object().unwrap();
        let at = Pointer::Root;
        let sent = read_only(object, &at, "id", Direction::Request).unwrap_err();
        assert_eq!(sent.to_string(), "/id: is read-only and must not be sent");
        assert_eq!(read_only(object, &at, "id", Direction::Response), Ok(()));
        assert_eq!(read_only(object, &at, "absent", Direction::Request), Ok(()));
        let returned = write_only(object, &at, "password", Direction::Response).unwrap_err();
        assert_eq!(
            returned.to_string(),
            "/password: is write-only and must not be returned"
        );
        assert_eq!(
            write_only(object, &at, "password", Direction::Request),
            Ok(())
        );
        assert_eq!(
            write_only(object, &at, "absent", Direction::Response),
            Ok(())
        );
    }

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
