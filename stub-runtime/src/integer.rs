//! [`Integer`]: a parameter of `type: integer` whose schema does not bound
//! it inside an `i64` (no `format`, no `minimum` and `maximum` that fit), so
//! any integer is valid there, as JSON Schema says.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Number;

/// An integer parameter of any size: exact within `i64` and `u64`, beyond
/// them the nearest `f64` (as `serde_json` reads such a number in a body).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Integer(Number);

impl Integer {
    /// The value as a JSON number.
    pub fn number(&self) -> &Number {
        &self.0
    }

    /// The value when it fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.as_i64()
    }

    /// The value when it fits a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        self.0.as_u64()
    }
}

impl From<i64> for Integer {
    fn from(n: i64) -> Self {
        Self(n.into())
    }
}

impl From<Integer> for Number {
    fn from(n: Integer) -> Self {
        n.0
    }
}

impl fmt::Display for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The text of a parameter is not an integer (digits after an optional sign).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an integer")]
pub struct NotAnInteger;

impl FromStr for Integer {
    type Err = NotAnInteger;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NotAnInteger);
        }
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Self(n.into()));
        }
        if let Ok(n) = text.parse::<u64>() {
            return Ok(Self(n.into()));
        }
        text.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Self)
            .ok_or(NotAnInteger)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_of_any_size_parse_and_serialize_as_json_numbers() {
        let parse = |t: &str| {
            t.parse::<Integer>()
                .map(|n| serde_json::to_string(&n).unwrap())
        };
        assert_eq!(parse("42").as_deref(), Ok("42"));
        assert_eq!(parse("+7").as_deref(), Ok("7"));
        assert_eq!(
            parse("-9223372036854775808").as_deref(),
            Ok("-9223372036854775808")
        );
        assert_eq!(
            parse("18446744073709551615").as_deref(),
            Ok("18446744073709551615")
        );
        // Beyond u64: what serde_json makes of the same digits in a body.
        let big = "170141183460469231731687303715884105727";
        let body: serde_json::Value = serde_json::from_str(big).unwrap();
        assert_eq!(parse(big).unwrap(), body.to_string());
        assert!(body.as_f64().unwrap() > 1.7e38);
    }

    #[test]
    fn anything_but_digits_after_a_sign_is_refused() {
        for text in ["", "-", "1.5", "1e3", " 1", "0x10", "١٢", "NaN", "inf"] {
            assert_eq!(text.parse::<Integer>(), Err(NotAnInteger), "{text:?}");
        }
        // Digits beyond f64's range are no number serde_json can hold.
        assert_eq!("9".repeat(400).parse::<Integer>(), Err(NotAnInteger));
    }

    #[test]
    fn small_values_are_exact() {
        let n: Integer = "-12".parse().unwrap();
        assert_eq!(n.as_i64(), Some(-12));
        assert_eq!(n, Integer::from(-12));
        assert_eq!(n.to_string(), "-12");
        let big: Integer = "18446744073709551615".parse().unwrap();
        assert_eq!(big.as_u64(), Some(u64::MAX));
        assert_eq!(big.as_i64(), None);
    }
}
