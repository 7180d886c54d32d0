//! Media types: how a body is read and written, and which one the
//! generators prefer when several are listed.

/// The media type of JSON bodies.
pub(crate) const JSON: &str = "application/json";

/// The ways a request body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// JSON (any `application/json` or `+json` media type).
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `text/*`: a string.
    Text,
    /// Anything else (`application/octet-stream`, `*/*`): raw bytes.
    Bytes,
}

/// A media type without its parameters, lower case (`text/plain; charset=x` -> `text/plain`).
pub fn media_essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// How a media type is read and written.
pub fn body_kind(media: &str) -> BodyKind {
    let essence = media_essence(media);
    if essence == JSON || essence.ends_with("+json") {
        BodyKind::Json
    } else if essence == "application/x-www-form-urlencoded" {
        BodyKind::Form
    } else if essence.starts_with("text/") || essence.ends_with("yaml") {
        BodyKind::Text
    } else {
        BodyKind::Bytes
    }
}

/// The media type the generators use when several are listed: JSON first,
/// then form, text, and anything else in spec order.
pub fn preferred_media(content: &openapiv3::Content) -> Option<(&String, &openapiv3::MediaType)> {
    let rank = |media: &str| match body_kind(media) {
        BodyKind::Json => 0,
        BodyKind::Form => 1,
        BodyKind::Text => 2,
        BodyKind::Bytes => 3,
    };
    content.iter().min_by_key(|(media, _)| rank(media))
}

/// The variant suffix of a response's additional media type: `text/html` -> `TextHtml`.
pub fn media_variant(media: &str) -> String {
    use heck::ToPascalCase;
    let name: String = media_essence(media)
        .replace('*', "any")
        .to_pascal_case()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if name.is_empty() {
        "Other".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_media_types_name_their_variants() {
        assert_eq!(media_variant("text/html; charset=utf-8"), "TextHtml");
        assert_eq!(
            media_variant("application/problem+json"),
            "ApplicationProblemJson"
        );
        assert_eq!(media_variant("*/*"), "AnyAny");
        assert_eq!(media_variant(";"), "Other");
    }

    #[test]
    fn kinds() {
        assert_eq!(body_kind("Application/JSON; charset=utf-8"), BodyKind::Json);
        assert_eq!(body_kind("application/problem+json"), BodyKind::Json);
        assert_eq!(body_kind("application/x-yaml"), BodyKind::Text);
        assert_eq!(body_kind("*/*"), BodyKind::Bytes);
    }
}
