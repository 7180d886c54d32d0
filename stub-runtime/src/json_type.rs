//! Checks of a schema that only names a JSON type (`type: string` and
//! nothing else), shared by every generated `validate` module instead of
//! one generated function per such schema. Each is a [`Check`](crate::Check).

use serde_json::Value;

use crate::keywords::is_integer;
use crate::violation::{Direction, Pointer, Violation};

/// The value is a string.
pub fn string(v: &Value, at: &Pointer<'_>, _: Direction) -> Result<(), Violation> {
    expect(v.is_string(), at, "must be a string")
}

/// The value is a number.
pub fn number(v: &Value, at: &Pointer<'_>, _: Direction) -> Result<(), Violation> {
    expect(v.is_number(), at, "must be a number")
}

/// The value is an integer (`1.0` is one, as in JSON Schema).
pub fn integer(v: &Value, at: &Pointer<'_>, _: Direction) -> Result<(), Violation> {
    expect(is_integer(v), at, "must be an integer")
}

/// The value is `true` or `false`.
pub fn boolean(v: &Value, at: &Pointer<'_>, _: Direction) -> Result<(), Violation> {
    expect(v.is_boolean(), at, "must be a boolean")
}

/// The value is an object.
pub fn object(v: &Value, at: &Pointer<'_>, _: Direction) -> Result<(), Violation> {
    expect(v.is_object(), at, "must be an object")
}

/// The value is an array.
pub fn array(v: &Value, at: &Pointer<'_>, _: Direction) -> Result<(), Violation> {
    expect(v.is_array(), at, "must be an array")
}

fn expect(holds: bool, at: &Pointer<'_>, rule: &'static str) -> Result<(), Violation> {
    if holds {
        Ok(())
    } else {
        Err(at.violation(rule))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Check;

    /// Each check against one value of every JSON type: exactly the values
    /// of its own type pass, and a refusal names the pointer and the type.
    #[test]
    fn each_type_accepts_its_own_values_only() {
        let values = [
            json!(null),
            json!(true),
            json!(3),
            json!(2.5),
            json!("s"),
            json!([1]),
            json!({"a": 1}),
        ];
        let checks: [(Check, &str, &[usize]); 6] = [
            (string, "must be a string", &[4]),
            (number, "must be a number", &[2, 3]),
            (integer, "must be an integer", &[2]),
            (boolean, "must be a boolean", &[1]),
            (object, "must be an object", &[6]),
            (array, "must be an array", &[5]),
        ];
        let root = Pointer::Root;
        let at = root.key("p");
        for (check, rule, accepted) in checks {
            for (i, v) in values.iter().enumerate() {
                match check(v, &at, Direction::Request) {
                    Ok(()) => assert!(accepted.contains(&i), "{rule}: {v} passed"),
                    Err(e) => {
                        assert!(!accepted.contains(&i), "{rule}: {v} refused");
                        assert_eq!((e.pointer.as_str(), &*e.rule), ("/p", rule));
                    }
                }
            }
        }
        assert!(integer(&json!(4.0), &at, Direction::Response).is_ok());
    }
}
