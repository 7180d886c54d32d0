//! One response enum per operation: a variant per documented status (and
//! media type), its status, and how it is sent.

use proc_macro2::TokenStream;
use quote::quote;

use super::rust::{carries_status, case_ident, doc_attrs, enum_ident, status_tokens, type_tokens};
use crate::error::Result;
use crate::model::{BodyKind, Operation, ResponseCase, RustType, Status, body_kind};

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

/// The enum and its `stub_runtime::Responses`: each variant's status, and
/// how it is sent.
pub fn response_enum(op: &Operation, error: Option<&ErrorBody<'_>>) -> Result<TokenStream> {
    let name = enum_ident(op);
    let doc = doc_attrs(&format!("Every response `{}` documents.", op.id));
    let variants = op.responses.iter().map(|r| {
        let v = case_ident(r);
        let mut text = format!("{}: {}", r.status, r.description.trim());
        if let (Some(_), Some((media, _))) = (&r.media_variant, &r.body) {
            text.push_str(&format!("\n\nThe same response as `{media}`."));
        }
        if r.has_headers {
            text.push_str("\n\nThe `HeaderMap` holds the response headers the spec documents.");
        }
        let doc = doc_attrs(&text);
        let fields = variant_fields(r, error);
        if fields.is_empty() {
            quote! { #doc #v, }
        } else {
            quote! { #doc #v(#(#fields),*), }
        }
    });
    let mut statuses = Vec::new();
    for r in &op.responses {
        let v = case_ident(r);
        statuses.push(match r.status {
            Status::Code(code) => {
                let status = status_tokens(code, op)?;
                match variant_fields(r, error).len() {
                    0 => quote! { Self::#v => #status, },
                    _ => quote! { Self::#v(..) => #status, },
                }
            }
            _ => quote! { Self::#v(status, ..) => *status, },
        });
    }
    let arms = arms(op, error);
    Ok(quote! {
        #doc
        #[derive(Debug, Clone, PartialEq)]
        pub enum #name {
            #(#variants)*
        }

        impl Responses for #name {
            fn status(&self) -> StatusCode {
                match self {
                    #(#statuses)*
                }
            }

            fn send(self, status: StatusCode) -> Response {
                match self {
                    #(#arms)*
                }
            }
        }
    })
}

/// The `send` arms. Cases sent alike with bindings of one type
/// (error bodies, no body) share one arm.
fn arms(op: &Operation, error: Option<&ErrorBody<'_>>) -> Vec<TokenStream> {
    let mut shared: Vec<(String, Vec<TokenStream>, TokenStream)> = Vec::new();
    let mut arms = Vec::new();
    for r in &op.responses {
        let (pattern, build) = arm(r, error);
        let groupable = !r.has_headers
            && !matches!(r.status, Status::Range(_))
            && matches!(Build::of(r, error), Build::Error | Build::Empty);
        if !groupable {
            arms.push(quote!(#pattern => #build,));
            continue;
        }
        let key = build.to_string();
        match shared.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, patterns, _)) => patterns.push(pattern),
            None => shared.push((key, vec![pattern], build)),
        }
    }
    arms.extend(
        shared
            .into_iter()
            .map(|(_, patterns, build)| quote!(#(#patterns)|* => #build,)),
    );
    arms
}

/// One case's pattern and the expression sending it.
fn arm(r: &ResponseCase, error: Option<&ErrorBody<'_>>) -> (TokenStream, TokenStream) {
    let v = case_ident(r);
    let mut pattern = Vec::new();
    if carries_status(r.status) {
        pattern.push(quote!(_));
    }
    let build = Build::of(r, error);
    if !matches!(build, Build::Empty) {
        pattern.push(quote!(body));
    }
    let mut send = match build {
        Build::Empty => quote!(status.into_response()),
        Build::Error => quote!(Errors::error(status, body)),
        Build::Json => quote!(Errors::json(status, body)),
        Build::Media(media) => quote!(stub_runtime::media_body(status, #media, body)),
    };
    if r.has_headers {
        pattern.push(quote!(headers));
        send = quote!(stub_runtime::with_headers(#send, headers));
    }
    if let Status::Range(hundreds) = r.status {
        send = quote!(Errors::in_range(status, #hundreds, || #send));
    }
    let pattern = if pattern.is_empty() {
        quote!(Self::#v)
    } else {
        quote!(Self::#v(#(#pattern),*))
    };
    (pattern, send)
}
