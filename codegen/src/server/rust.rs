//! Rust spellings of spec things: identifiers that never panic or collide,
//! type paths, status constants and doc comments.

use std::collections::BTreeSet;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::error::{CodegenError, Result};
use crate::model::{Operation, ParamType, ResponseCase, RustType, Status};
use crate::names::is_ident;

/// An identifier for `name`: itself when it is one, else with every
/// character outside `[A-Za-z0-9_]` replaced, a `_` before a leading digit
/// and after a keyword. Never panics, whatever the spec says.
pub fn ident(name: &str) -> Ident {
    if is_ident(name) {
        return Ident::new(name, Span::call_site());
    }
    let mut s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if !is_ident(&s) {
        s.push('_'); // a keyword, or `_` alone
    }
    Ident::new(&s, Span::call_site())
}

/// `snake_case` to `PascalCase`.
pub fn pascal(s: &str) -> String {
    use heck::ToPascalCase;
    s.to_pascal_case()
}

/// A type name made of `base` (PascalCased) and `suffix`, as typify forms
/// names: an `X` before anything that does not start with a letter, a `_`
/// after a keyword (`Self`).
pub fn type_ident(base: &str, suffix: &str) -> Ident {
    let mut name = format!("{}{suffix}", pascal(base));
    if !name.starts_with(char::is_alphabetic) {
        name.insert(0, 'X');
    }
    ident(&name)
}

/// The type of a component schema, named as typify names it.
pub fn model_ident(name: &str) -> Ident {
    type_ident(name, "")
}

/// `{Operation}Response`.
pub fn enum_ident(op: &Operation) -> Ident {
    type_ident(&op.id, "Response")
}

/// Hands out distinct identifiers within one scope.
pub struct Unique {
    taken: BTreeSet<String>,
}

impl Unique {
    /// A scope where `reserved` are already taken.
    pub fn new(reserved: &[&str]) -> Self {
        Self {
            taken: reserved.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// A snake_case identifier for the wire name `wanted`, numbered (`_2`,
    /// `_3` ...) when another one already has its spelling.
    pub fn field(&mut self, wanted: &str) -> Ident {
        let base = ident(&crate::model::field_name(wanted)).to_string();
        let mut name = base.clone();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        ident(&name)
    }
}

/// One `#[doc]` attribute per line (a bare CR ends a line too, as rustc
/// refuses one inside a doc comment), so the output reads as `///` comments.
/// Nothing for blank text.
pub fn doc_attrs(text: &str) -> TokenStream {
    if text.trim().is_empty() {
        return TokenStream::new();
    }
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines = text.lines().map(|l| {
        let l = format!(" {}", l.trim_end());
        quote!(#[doc = #l])
    });
    quote!(#(#lines)*)
}

/// Known statuses: (code, response variant, `http::StatusCode` constant).
const STATUSES: &[(u16, &str, &str)] = &[
    (200, "Ok", "OK"),
    (201, "Created", "CREATED"),
    (202, "Accepted", "ACCEPTED"),
    (204, "NoContent", "NO_CONTENT"),
    (400, "BadRequest", "BAD_REQUEST"),
    (401, "Unauthorized", "UNAUTHORIZED"),
    (403, "Forbidden", "FORBIDDEN"),
    (404, "NotFound", "NOT_FOUND"),
    (405, "MethodNotAllowed", "METHOD_NOT_ALLOWED"),
    (408, "RequestTimeout", "REQUEST_TIMEOUT"),
    (409, "Conflict", "CONFLICT"),
    (413, "PayloadTooLarge", "PAYLOAD_TOO_LARGE"),
    (415, "UnsupportedMediaType", "UNSUPPORTED_MEDIA_TYPE"),
    (421, "MisdirectedRequest", "MISDIRECTED_REQUEST"),
    (422, "UnprocessableEntity", "UNPROCESSABLE_ENTITY"),
    (429, "TooManyRequests", "TOO_MANY_REQUESTS"),
    (500, "InternalServerError", "INTERNAL_SERVER_ERROR"),
    (502, "BadGateway", "BAD_GATEWAY"),
    (503, "ServiceUnavailable", "SERVICE_UNAVAILABLE"),
];

fn known_status(status: u16) -> Option<&'static (u16, &'static str, &'static str)> {
    STATUSES.iter().find(|(code, _, _)| *code == status)
}

fn variant_ident(status: Status) -> Ident {
    match status {
        Status::Code(code) => match known_status(code) {
            Some((_, name, _)) => ident(name),
            None => format_ident!("Status{code}"),
        },
        Status::Range(hundreds) => format_ident!("Status{hundreds}xx"),
        Status::Default => ident("Default"),
    }
}

/// The variant of one response case: its status, then the media type when
/// the response lists several (`OkTextHtml`).
pub fn case_ident(r: &ResponseCase) -> Ident {
    let v = variant_ident(r.status);
    match &r.media_variant {
        Some(suffix) => ident(&format!("{v}{suffix}")),
        None => v,
    }
}

/// Whether a variant carries the status it is sent with (ranges, `default`).
pub fn carries_status(status: Status) -> bool {
    !matches!(status, Status::Code(_))
}

/// The value of a variant's `#[response(status = ...)]`: `404`, `"4XX"` or
/// `"default"`; an error for a number HTTP has no status for (outside 100
/// to 999).
pub fn status_value(status: Status, op: &Operation) -> Result<TokenStream> {
    match status {
        Status::Code(code) if (100..1000).contains(&code) => {
            let code = proc_macro2::Literal::u16_unsuffixed(code);
            Ok(quote!(#code))
        }
        Status::Code(code) => Err(CodegenError::Generate {
            stage: "server",
            message: format!(
                "{}: response status {code} is not an HTTP status code (100 to 999)",
                op.id
            ),
        }),
        Status::Range(hundreds) => {
            let range = format!("{hundreds}XX");
            Ok(quote!(#range))
        }
        Status::Default => Ok(quote!("default")),
    }
}

/// The path of a body or response type, relative to the generated crate.
pub fn type_tokens(ty: &RustType) -> TokenStream {
    match ty {
        RustType::Model(name) => {
            let name = model_ident(name);
            quote!(types::#name)
        }
        RustType::Json => quote!(serde_json::Value),
        RustType::String => quote!(String),
        RustType::Bytes => quote!(axum::body::Bytes),
    }
}

/// The Rust type of one parameter value.
pub fn param_tokens(ty: ParamType) -> TokenStream {
    match ty {
        ParamType::Uuid => quote!(uuid::Uuid),
        ParamType::Integer => quote!(i64),
        ParamType::AnyInteger => quote!(stub_runtime::Integer),
        ParamType::Number => quote!(f64),
        ParamType::Boolean => quote!(bool),
        ParamType::String => quote!(String),
    }
}

/// What a parameter must be, for rejection messages ("a UUID").
pub fn expected(ty: ParamType) -> &'static str {
    match ty {
        ParamType::Uuid => "a UUID",
        ParamType::Integer | ParamType::AnyInteger => "an integer",
        ParamType::Number => "a number",
        ParamType::Boolean => "`true` or `false`",
        ParamType::String => "a string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_name_becomes_an_identifier() {
        for (name, want) in [
            ("user", "user"),
            ("1st", "_1st"),
            ("a-b.c", "a_b_c"),
            ("type", "type_"),
            ("self", "self_"),
            ("_", "__"),
            ("", "__"),
            ("naïve", "naïve"),
            ("☃", "__"),
            ("r#type", "r_type"),
            (" a", "_a"),
            ("a/*c*/", "a__c__"),
        ] {
            assert_eq!(ident(name).to_string(), want, "{name:?}");
        }
    }

    #[test]
    fn type_names_follow_typify() {
        assert_eq!(model_ident("2fa").to_string(), "X2fa");
        assert_eq!(model_ident("user-profile").to_string(), "UserProfile");
        assert_eq!(model_ident("Self").to_string(), "Self_");
        assert_eq!(
            type_ident("_1st_op", "Response").to_string(),
            "X1stOpResponse"
        );
    }

    #[test]
    fn unique_names_are_numbered() {
        let mut scope = Unique::new(&["query"]);
        let names: Vec<String> = ["query", "user-id", "user_id", "UserId", "type"]
            .iter()
            .map(|n| scope.field(n).to_string())
            .collect();
        assert_eq!(
            names,
            ["query_2", "user_id", "user_id_2", "user_id_3", "type_"]
        );
    }

    #[test]
    fn bare_carriage_returns_end_doc_lines() {
        let docs = doc_attrs("one\rtwo\r\nthree").to_string();
        assert!(!docs.contains("\\r"), "{docs}");
        assert_eq!(docs.matches("doc").count(), 3, "{docs}");
        assert!(doc_attrs(" \n ").is_empty());
    }
}
