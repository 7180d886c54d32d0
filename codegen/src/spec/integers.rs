//! Which `type: integer` schemas hold integers beyond an `i64`. JSON Schema
//! bounds an integer only by its own keywords: without a `format` that
//! fixes a width (`int32`, `int64`, ...) and without a `minimum` and a
//! `maximum` inside `i64`'s range, any integer is valid, so the generated
//! Rust type must hold any integer `serde_json` reads, not `i64`.

/// The integer formats typify types by width (`int8` .. `uint64`, `int`,
/// `uint`); any other format is an annotation and bounds nothing.
const SIZED: &[&str] = &[
    "int8", "uint8", "int16", "uint16", "int", "int32", "uint", "uint32", "int64", "uint64",
];

/// Whether an integer schema with this `format`, bounds and `enum` admits
/// integers outside `i64`.
pub(crate) fn unbounded(
    format: Option<&str>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    has_enum: bool,
) -> bool {
    let sized = format.is_some_and(|f| SIZED.contains(&f));
    let within = |b: Option<f64>| b.is_some_and(|b| b >= i64::MIN as f64 && b <= i64::MAX as f64);
    let bounded = within(minimum) && within(maximum);
    !(sized || has_enum || bounded)
}

#[cfg(test)]
mod tests {
    use super::unbounded;

    #[test]
    fn only_a_width_an_enum_or_two_bounds_inside_i64_bound_an_integer() {
        assert!(unbounded(None, None, None, false));
        assert!(unbounded(None, Some(0.0), None, false));
        assert!(unbounded(None, None, Some(100.0), false));
        assert!(unbounded(Some("timestamp"), None, None, false));
        assert!(unbounded(None, Some(0.0), Some(1e20), false));
        assert!(!unbounded(None, Some(1.0), Some(100.0), false));
        assert!(!unbounded(Some("int64"), None, None, false));
        assert!(!unbounded(Some("int32"), Some(0.0), None, false));
        assert!(!unbounded(None, None, None, true));
    }
}
