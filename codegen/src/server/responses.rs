//! One response enum per operation: a variant per documented status (and
//! media type), with the `#[response(...)]` from which
//! `#[derive(stub_runtime::Responses)]` writes its status and how it is sent.

use proc_macro2::TokenStream;
use quote::quote;

use super::rust::{carries_status, case_ident, doc_attrs, enum_ident, status_value, type_tokens};
use crate::error::Result;
use crate::model::{BodyKind, Operation, ResponseCase, RustType, body_kind};

/// The spec's error schema, when it has `status`, `code` and `message`:
/// bodies of that type get their `status` set to the one they are sent with.
pub struct ErrorBody<'a> {
    /// Rust name of the schema's type.
    pub type_name: &'a str,
}

/// How one response case is sent.
enum Build {
    /// No body: the status alone.
    Empty,
    /// The spec's error schema.
    Error,
    /// A JSON body ([`stub_runtime::JsonBody`]).
    Json,
    /// Any other media type, as text (`stub_runtime::TextBody`, which can
    /// be sent from a `&'static str` without a copy) or bytes.
    Media(String),
}

impl Build {
    fn of(r: &ResponseCase, error: Option<&ErrorBody<'_>>) -> Self {
        match &r.body {
            None => Self::Empty,
            Some((_, RustType::Model(name))) if error.is_some_and(|e| e.type_name == name) => {
                Self::Error
            }
            Some((media, _)) if body_kind(media) == BodyKind::Json => Self::Json,
            Some((media, _)) => Self::Media(media.clone()),
        }
    }
}

/// The fields of a response variant, in order: the status (ranges and
/// `default`), the body, the documented response headers.
fn variant_fields(r: &ResponseCase, error: Option<&ErrorBody<'_>>) -> Vec<TokenStream> {
    let mut fields = Vec::new();
    if carries_status(r.status) {
        fields.push(quote!(StatusCode));
    }
    if let Some((_, ty)) = &r.body {
        let t = type_tokens(ty);
        fields.push(match (Build::of(r, error), ty) {
            (Build::Json, _) => quote!(JsonBody<#t>),
            (Build::Media(_), RustType::String) => quote!(stub_runtime::TextBody),
            _ => t,
        });
    }
    if r.has_headers {
        fields.push(quote!(axum::http::HeaderMap));
    }
    fields
}

/// The enum, deriving `stub_runtime::Responses`: each variant's
/// `#[response(...)]` says its status and how it is sent.
pub fn response_enum(op: &Operation, error: Option<&ErrorBody<'_>>) -> Result<TokenStream> {
    let name = enum_ident(op);
    let doc = doc_attrs(&format!("Every response `{}` documents.", op.id));
    let variants = op
        .responses
        .iter()
        .map(|r| variant(op, r, error))
        .collect::<Result<Vec<_>>>()?;
    Ok(quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Responses)]
        pub enum #name {
            #(#variants)*
        }
    })
}

/// One variant: its docs, its `#[response(...)]` and its fields.
fn variant(op: &Operation, r: &ResponseCase, error: Option<&ErrorBody<'_>>) -> Result<TokenStream> {
    let v = case_ident(r);
    let mut text = format!("{}: {}", r.status, r.description.trim());
    if let (Some(_), Some((media, _))) = (&r.media_variant, &r.body) {
        text.push_str(&format!("\n\nThe same response as `{media}`."));
    }
    if r.has_headers {
        text.push_str("\n\nThe `HeaderMap` holds the response headers the spec documents.");
    }
    let doc = doc_attrs(&text);
    let status = status_value(r.status, op)?;
    let mut how = vec![quote!(status = #status)];
    match Build::of(r, error) {
        Build::Empty => {}
        Build::Error => how.push(quote!(error)),
        Build::Json => how.push(quote!(json)),
        Build::Media(media) => how.push(quote!(media = #media)),
    }
    if r.has_headers {
        how.push(quote!(headers));
    }
    let fields = variant_fields(r, error);
    let fields = (!fields.is_empty()).then(|| quote!((#(#fields),*)));
    Ok(quote! {
        #doc
        #[response(#(#how),*)]
        #v #fields,
    })
}
