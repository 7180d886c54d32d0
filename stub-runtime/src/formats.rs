//! String `format`s, each checked by a crate that knows it: `uuid`,
//! `date` and `date-time` (RFC 3339, chrono), `email` (email_address),
//! `uri` (RFC 3986 absolute URI, fluent-uri), `ipv4`/`ipv6` (std), `byte`
//! (standard base64).

use std::net::{Ipv4Addr, Ipv6Addr};

use base64::Engine as _;

/// A `format` the generated checks know. Any other format is an annotation
/// and is not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `uuid`: RFC 9562 hyphenated form.
    Uuid,
    /// `date`: RFC 3339 full-date.
    Date,
    /// `date-time`: RFC 3339 date-time (offset required).
    DateTime,
    /// `email`: RFC 5322 address (no display name).
    Email,
    /// `uri`: RFC 3986 URI with a scheme.
    Uri,
    /// `ipv4`: dotted quad.
    Ipv4,
    /// `ipv6`: RFC 4291 text form.
    Ipv6,
    /// `byte`: RFC 4648 standard base64 with padding.
    Byte,
}

impl Format {
    /// The format named `name` in a schema, if it is one checked here.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "uuid" => Self::Uuid,
            "date" => Self::Date,
            "date-time" => Self::DateTime,
            "email" => Self::Email,
            "uri" => Self::Uri,
            "ipv4" => Self::Ipv4,
            "ipv6" => Self::Ipv6,
            "byte" => Self::Byte,
            _ => return None,
        })
    }

    /// Its name in a schema.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Uuid => "uuid",
            Self::Date => "date",
            Self::DateTime => "date-time",
            Self::Email => "email",
            Self::Uri => "uri",
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::Byte => "byte",
        }
    }

    /// `format` on `v` (at `at`): a string must be in this format; a value
    /// of another JSON type passes. The rule names the format, never `v`.
    pub fn check(
        self,
        v: &serde_json::Value,
        at: &crate::Pointer<'_>,
    ) -> Result<(), crate::Violation> {
        match v.as_str() {
            Some(s) if !self.accepts(s) => {
                Err(at.violation(format!("must be in the `{}` format", self.name())))
            }
            _ => Ok(()),
        }
    }

    /// Whether `s` is in this format.
    pub fn accepts(self, s: &str) -> bool {
        match self {
            Self::Uuid => s.len() == 36 && uuid::Uuid::try_parse(s).is_ok(),
            Self::Date => s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
            Self::DateTime => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
            Self::Email => email_address::EmailAddress::parse_with_options(
                s,
                email_address::Options::default().without_display_text(),
            )
            .is_ok(),
            Self::Uri => fluent_uri::Uri::parse(s).is_ok(),
            Self::Ipv4 => s.parse::<Ipv4Addr>().is_ok(),
            Self::Ipv6 => s.parse::<Ipv6Addr>().is_ok(),
            Self::Byte => base64::engine::general_purpose::STANDARD.decode(s).is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Format::{self, *};

    #[test]
    fn check_refuses_strings_out_of_the_format_and_passes_other_values() {
        use serde_json::json;
        let at = crate::Pointer::Root;
        assert_eq!(Date.check(&json!("2024-02-29"), &at), Ok(()));
        let refused = Date.check(&json!("s3cret"), &at.key("born")).unwrap_err();
        assert_eq!(refused.to_string(), "/born: must be in the `date` format");
        assert_eq!(Uuid.check(&json!(7), &at), Ok(()));
    }

    fn check(format: Format, good: &[&str], bad: &[&str]) {
        assert_eq!(Format::from_name(format.name()), Some(format));
        for s in good {
            assert!(format.accepts(s), "{} should accept {s:?}", format.name());
        }
        for s in bad {
            assert!(!format.accepts(s), "{} should refuse {s:?}", format.name());
        }
    }

    #[test]
    fn uuids_are_hyphenated() {
        check(
            Uuid,
            &["67e55044-10b1-426f-9247-bb680e5fe0c8"],
            &[
                "67e5504410b1426f9247bb680e5fe0c8",
                "67e55044-10b1-426f-9247-bb680e5fe0cz",
                "",
            ],
        );
    }

    #[test]
    fn dates_and_date_times_follow_rfc3339() {
        check(
            Date,
            &["2024-02-29"],
            &["2023-02-29", "2024-2-9", "2024-02-29T00:00:00Z"],
        );
        check(
            DateTime,
            &["2024-02-29T12:30:00Z", "2024-02-29T12:30:00.5+02:00"],
            &["2024-02-29T12:30:00", "2024-02-29", "yesterday"],
        );
    }

    #[test]
    fn emails_uris_and_addresses() {
        check(
            Email,
            &["a.b@example.com"],
            &["no-at-sign", "A <a@example.com>", "@example.com"],
        );
        check(
            Uri,
            &["https://example.com/a?b#c", "urn:isbn:0451450523"],
            &["/relative/path", "http://exa mple.com", ""],
        );
        check(Ipv4, &["192.168.0.1"], &["256.0.0.1", "1.2.3", "::1"]);
        check(
            Ipv6,
            &["::1", "2001:db8::8a2e:370:7334"],
            &["1.2.3.4", "2001:db8:::1"],
        );
    }

    #[test]
    fn bytes_are_padded_standard_base64() {
        check(Byte, &["aGVsbG8=", ""], &["aGVsbG8", "a-b_", "!!!!"]);
    }

    #[test]
    fn unknown_formats_are_not_checked() {
        assert_eq!(Format::from_name("password"), None);
        assert_eq!(Format::from_name("hostname"), None);
    }
}
