//! The array keywords of a schema check, one call each on the checked
//! value: `minItems` / `maxItems`, `uniqueItems`, a `prefixItems` position
//! and `items`. A value that is not an array passes (the `type` keyword
//! refuses it, if the schema says so).

use serde_json::Value;

use crate::violation::{Check, Direction, Pointer, Violation};

/// `minItems` (`min`, 0 when absent) and `maxItems`.
pub fn count(v: &Value, at: &Pointer<'_>, min: usize, max: Option<usize>) -> Result<(), Violation> {
    match v.as_array() {
        Some(a) => crate::item_count(a, at, min, max),
        None => Ok(()),
    }
}

/// `uniqueItems: true`: no two items equal as JSON values.
pub fn unique(v: &Value, at: &Pointer<'_>) -> Result<(), Violation> {
    match v.as_array() {
        Some(a) if !crate::unique_items(a) => Err(at.violation("must not contain equal items")),
        _ => Ok(()),
    }
}

/// The `prefixItems` schema of position `index` (`check`), on the item
/// there if the array is that long.
#[inline]
pub fn position(
    v: &Value,
    at: &Pointer<'_>,
    dir: Direction,
    index: usize,
    check: Check,
) -> Result<(), Violation> {
    match v.as_array().and_then(|a| a.get(index)) {
        Some(x) => check(x, &at.index(index), dir),
        None => Ok(()),
    }
}

/// `items`: `check` on every item, at its index.
#[inline]
pub fn items(v: &Value, at: &Pointer<'_>, dir: Direction, check: Check) -> Result<(), Violation> {
    let Some(a) = v.as_array() else {
        return Ok(());
    };
    for (i, x) in a.iter().enumerate() {
        check(x, &at.index(i), dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn string(v: &Value, at: &Pointer<'_>, dir: Direction) -> Result<(), Violation> {
        crate::json_type::string(v, at, dir)
    }

    /// Refuses in responses only: shows `dir` is passed on.
    fn not_in_responses(_: &Value, at: &Pointer<'_>, dir: Direction) -> Result<(), Violation> {
        match dir {
            Direction::Response => Err(at.violation("not in responses")),
            Direction::Request => Ok(()),
        }
    }

    fn said(result: Result<(), Violation>) -> Option<String> {
        result.err().map(|e| e.to_string())
    }

    const AT: Pointer<'static> = Pointer::Root;
    const REQ: Direction = Direction::Request;

    #[test]
    fn counts_and_uniqueness_name_the_bound_not_the_items() {
        assert_eq!(said(count(&json!([1]), &AT, 1, Some(3))), None);
        assert_eq!(
            said(count(&json!([]), &AT, 1, None)).as_deref(),
            Some("(root): must have at least 1 items")
        );
        assert_eq!(
            said(count(&json!([1, 2, 3, 4]), &AT, 0, Some(3))).as_deref(),
            Some("(root): must have at most 3 items")
        );
        assert_eq!(said(unique(&json!([1, 2]), &AT)), None);
        assert_eq!(
            said(unique(&json!([7, 7.0]), &AT)).as_deref(),
            Some("(root): must not contain equal items")
        );
        // A value that is not an array passes every array keyword.
        assert_eq!(said(count(&json!("x"), &AT, 1, None)), None);
        assert_eq!(said(unique(&json!({"a": 1, "b": 1}), &AT)), None);
        assert_eq!(said(items(&json!("x"), &AT, REQ, string)), None);
        assert_eq!(said(position(&json!("x"), &AT, REQ, 0, string)), None);
    }

    #[test]
    fn positions_and_items_are_checked_at_their_index_in_the_given_direction() {
        assert_eq!(said(position(&json!([1, "b"]), &AT, REQ, 1, string)), None);
        assert_eq!(
            said(position(&json!(["a", 2]), &AT, REQ, 1, string)).as_deref(),
            Some("/1: must be a string")
        );
        // An array shorter than the position passes it.
        assert_eq!(said(position(&json!([1]), &AT, REQ, 1, string)), None);
        assert_eq!(said(items(&json!(["a", "b"]), &AT, REQ, string)), None);
        assert_eq!(
            said(items(&json!(["a", 2]), &AT, REQ, string)).as_deref(),
            Some("/1: must be a string")
        );
        assert_eq!(said(items(&json!([1]), &AT, REQ, not_in_responses)), None);
        assert_eq!(
            said(items(
                &json!([1]),
                &AT,
                Direction::Response,
                not_in_responses
            ))
            .as_deref(),
            Some("/0: not in responses")
        );
    }
}
