//! Server stubs: a trait with one method per operation, a response enum per
//! operation that can only express documented statuses, and an axum router.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::model::{
    ArrayStyle, BodyKind, Operation, Param, ParamType, ResponseCase, RustType, Scheme, SchemeKind,
    Status, body_kind,
};

/// Names the server generator needs from its caller.
pub struct ServerNames<'a> {
    /// Name of the trait (e.g. `UsersApi`).
    pub trait_name: &'a str,
    /// Crate holding the model types.
    pub types_crate: &'a str,
    /// This crate's own name (as a Rust identifier), for doc-tests.
    pub crate_name: &'a str,
    /// The error schema, when the spec has one with `status`, `code` and
    /// `message`; without it the router answers with [`stub_runtime::BuiltinError`].
    pub error: Option<ErrorNames<'a>>,
}

/// The spec's error schema, as the router fills it.
pub struct ErrorNames<'a> {
    /// Rust name of the error schema's type (e.g. `ApiError`).
    pub type_name: &'a str,
    /// Type of its `code` property, relative to this crate (`types::ApiErrorCode`, `String`).
    pub code_type: &'a str,
}

/// Generates the server-stub crate's `lib.rs` body.
pub fn generate(ops: &[Operation], schemes: &[Scheme], names: &ServerNames<'_>) -> TokenStream {
    let trait_ident = Ident::new(names.trait_name, Span::call_site());
    let types_crate = Ident::new(names.types_crate, Span::call_site());
    let ctx = Ctx {
        trait_ident: &trait_ident,
        error_type: names.error.as_ref().map_or("", |e| e.type_name),
        error_fields: names.error.is_some(),
        schemes,
    };
    let errors = error_functions(names.error.as_ref());
    let methods = ops.iter().map(|op| trait_method(op, &ctx));
    let enums = ops.iter().map(|op| response_enum(op, &ctx));
    let param_structs = ops.iter().flat_map(|op| {
        [
            param_struct(op, &op.query_params, "Query", "query"),
            param_struct(op, &op.header_params, "Headers", "header"),
        ]
    });
    let handlers = ops.iter().map(|op| handler(op, &ctx));
    let table = ops.iter().map(|op| {
        let (id, method, path) = (&op.id, &op.method, &op.path);
        quote! { OperationInfo { operation_id: #id, method: #method, path: #path }, }
    });
    let routes = route_calls(ops);
    let uses_uuid = ops
        .iter()
        .flat_map(|op| {
            op.path_params
                .iter()
                .chain(&op.query_params)
                .chain(&op.header_params)
        })
        .any(|p| p.ty == ParamType::Uuid);
    let uuid_reexport = uses_uuid.then(|| quote! { pub use uuid; });
    let credentials = (!schemes.is_empty()).then(|| credentials_struct(schemes));
    let mut trait_doc = String::from(
        "The operations of the API. Implement this trait and pass it to [`router`].\n\n\
         Each method receives typed, already-validated inputs and returns a response\n\
         type that can only express the statuses the spec documents for it.",
    );
    if let Some(op) = ops.first() {
        let ty = enum_ident(op);
        let documented = case_ident(&op.responses[0]);
        let krate = names.crate_name;
        trait_doc.push_str(&format!(
            "\n\nA documented status compiles:\n\n```\nlet _ = {krate}::{ty}::{documented};\n```\n\n\
             An undocumented one does not:\n\n```compile_fail\nlet _ = {krate}::{ty}::Status418;\n```"
        ));
    }
    let trait_doc = doc_attrs(&trait_doc);

    quote! {
        use std::collections::HashMap;
        use std::future::Future;
        use std::sync::Arc;

        use axum::extract::rejection::{JsonRejection, RawPathParamsRejection};
        use axum::extract::{RawPathParams, RawQuery, State};
        use axum::http::{header, HeaderMap, StatusCode};
        use axum::response::{IntoResponse, Response};
        use axum::routing::{MethodFilter, MethodRouter};
        use axum::{Json, Router};
        use stub_runtime::RejectionKind;

        pub use stub_runtime::{ApiKey, BearerToken, JsonBody, Rejection};
        /// The shared model types.
        pub use #types_crate as types;
        #uuid_reexport

        /// The OpenAPI document this crate was generated from, verbatim after a
        /// two-line generated-file comment.
        pub const OPENAPI_YAML: &str = include_str!("openapi.yaml");

        /// One operation of the spec, as routed by [`router`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct OperationInfo {
            /// The spec's operationId.
            pub operation_id: &'static str,
            /// HTTP method, upper case.
            pub method: &'static str,
            /// Path template as written in the spec.
            pub path: &'static str,
        }

        /// Every operation [`router`] serves, in spec order.
        pub const OPERATIONS: &[OperationInfo] = &[ #(#table)* ];

        #credentials

        #trait_doc
        pub trait #trait_ident: Send + Sync + 'static {
            #(#methods)*
        }

        #(#enums)*

        #(#param_structs)*

        /// Settings for [`router_with_options`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct RouterOptions {
            /// Largest request body accepted, in bytes; larger bodies get 413.
            pub body_limit: usize,
            /// Whether secured operations answer 401 when none of their
            /// security requirements is met. With `false` they are called with
            /// whatever [`Credentials`] were sent (possibly none) and the
            /// implementation decides; malformed credentials are still 401.
            pub require_credentials: bool,
        }

        impl Default for RouterOptions {
            fn default() -> Self {
                Self { body_limit: 64 * 1024, require_credentials: true }
            }
        }

        /// What every handler shares: the implementation and the options.
        struct Shared<A> {
            api: Arc<A>,
            options: RouterOptions,
        }

        impl<A> Clone for Shared<A> {
            fn clone(&self) -> Self {
                Self { api: self.api.clone(), options: self.options }
            }
        }

        /// Builds the router for an implementation, with default options.
        pub fn router<A: #trait_ident>(api: Arc<A>) -> Router {
            router_with_options(api, RouterOptions::default())
        }

        /// Builds the router for an implementation.
        ///
        /// Everything rejected before reaching the implementation (unknown route,
        /// undocumented method, bad path parameter, missing or malformed
        /// credentials, wrong content type, oversized or malformed body) is
        /// answered in the spec's error format.
        pub fn router_with_options<A: #trait_ident>(api: Arc<A>, options: RouterOptions) -> Router {
            Router::new()
                #routes
                .fallback(|| async { reject(Rejection::no_route()) })
                .layer(axum::extract::DefaultBodyLimit::max(options.body_limit))
                .with_state(Shared { api, options })
        }

        #(#handlers)*

        #errors
    }
}

/// What the per-operation generators need besides the operation.
struct Ctx<'a> {
    trait_ident: &'a Ident,
    error_type: &'a str,
    /// Whether the error schema has `status`, `code` and `message`.
    error_fields: bool,
    schemes: &'a [Scheme],
}

/// `error_response` and `reject`: in the spec's error schema, or the built-in body.
fn error_functions(error: Option<&ErrorNames<'_>>) -> TokenStream {
    let Some(error) = error else {
        return quote! {
            /// The answer to a request the router refuses itself. The spec
            /// names no error schema with `status`, `code` and `message`, so the
            /// body is [`stub_runtime::BuiltinError`]: `{"status", "code", "message"}`.
            pub fn reject(rejection: Rejection) -> Response {
                let body = stub_runtime::BuiltinError::from(&rejection);
                rejection.respond(&body)
            }
        };
    };
    let error_type = ident(error.type_name);
    let error_code: TokenStream = error
        .code_type
        .parse()
        .expect("the error code type is a Rust path");
    quote! {
        /// An error response whose body's `status` is the HTTP status it is sent with.
        pub fn error_response(status: StatusCode, code: #error_code, message: impl Into<String>) -> Response {
            let body = types::#error_type {
                status: status.as_u16().into(),
                code,
                message: message.into(),
            };
            stub_runtime::error_json(status, &body)
        }

        /// The answer to a request the router refuses itself.
        pub fn reject(rejection: Rejection) -> Response {
            let body = types::#error_type {
                status: rejection.status().as_u16().into(),
                code: rejection
                    .code()
                    .parse()
                    .expect("the generator checked that the error codes include the router's"),
                message: rejection.message().to_string(),
            };
            rejection.respond(&body)
        }
    }
}

fn scheme_field(name: &str) -> Ident {
    ident(&crate::model::field_name(name))
}

/// The `Credentials` struct: one optional field per security scheme.
fn credentials_struct(schemes: &[Scheme]) -> TokenStream {
    let fields = schemes.iter().map(|s| {
        let field = scheme_field(&s.name);
        let name = &s.name;
        let (doc, ty) = match &s.kind {
            SchemeKind::Bearer => (
                format!("Scheme `{name}`: `Authorization: Bearer <token>`."),
                quote!(BearerToken),
            ),
            SchemeKind::ApiKeyHeader(h) => (
                format!("Scheme `{name}`: the `{h}` header."),
                quote!(ApiKey),
            ),
        };
        quote! { #[doc = #doc] pub #field: Option<#ty>, }
    });
    let reads = schemes.iter().map(|s| {
        let field = scheme_field(&s.name);
        match &s.kind {
            SchemeKind::Bearer => quote!(#field: stub_runtime::bearer_token(headers)?,),
            SchemeKind::ApiKeyHeader(h) => match static_header_name(h) {
                // The name is parsed once, not on every request.
                Some(lower) => quote!(#field: stub_runtime::api_key(headers, {
                    static NAME: axum::http::HeaderName =
                        axum::http::HeaderName::from_static(#lower);
                    &NAME
                })?,),
                None => quote!(#field: stub_runtime::api_key(headers, #h)?,),
            },
        }
    });
    let any = schemes.iter().map(|s| {
        let field = scheme_field(&s.name);
        quote!(self.#field.is_none())
    });
    quote! {
        /// The credentials a request presented, one field per security scheme
        /// of the spec. The router checks their form; the implementation
        /// verifies them.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct Credentials {
            #(#fields)*
        }

        impl Credentials {
            /// Reads every scheme's header; a malformed one is refused.
            fn from_headers(headers: &HeaderMap) -> Result<Self, Rejection> {
                Ok(Self { #(#reads)* })
            }

            /// Whether no credential at all was presented.
            pub fn is_empty(&self) -> bool {
                true #(&& #any)*
            }
        }
    }
}

/// `name` lowercased when `HeaderName::from_static` accepts that (a token:
/// letters, digits and ``!#$%&'*+-.^_`|~``), so it can be made at compile time.
fn static_header_name(name: &str) -> Option<String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    (!name.is_empty() && name.chars().all(token)).then(|| name.to_ascii_lowercase())
}

/// One `#[doc]` attribute per line, so the output reads as `///` comments.
fn doc_attrs(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        let l = format!(" {}", l.trim_end());
        quote!(#[doc = #l])
    });
    quote!(#(#lines)*)
}

fn ident(s: &str) -> Ident {
    Ident::new(s, Span::call_site())
}

fn pascal(s: &str) -> String {
    use heck::ToPascalCase;
    s.to_pascal_case()
}

fn enum_ident(op: &Operation) -> Ident {
    format_ident!("{}Response", pascal(&op.id))
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
fn case_ident(r: &ResponseCase) -> Ident {
    let v = variant_ident(r.status);
    match &r.media_variant {
        Some(suffix) => format_ident!("{v}{suffix}"),
        None => v,
    }
}

/// Whether a variant carries the status it is sent with (ranges, `default`).
fn carries_status(status: Status) -> bool {
    !matches!(status, Status::Code(_))
}

/// An expression of type `StatusCode` for a documented status code.
fn status_tokens(status: u16) -> TokenStream {
    match known_status(status) {
        Some((_, _, constant)) => {
            let c = ident(constant);
            quote!(StatusCode::#c)
        }
        None => quote!(StatusCode::from_u16(#status).expect("validated status code")),
    }
}

fn type_tokens(ty: &RustType) -> TokenStream {
    match ty {
        RustType::Model(name) => {
            let name = ident(name);
            quote!(types::#name)
        }
        RustType::Json => quote!(serde_json::Value),
        RustType::String => quote!(String),
        RustType::Bytes => quote!(axum::body::Bytes),
    }
}

fn param_tokens(ty: ParamType) -> TokenStream {
    match ty {
        ParamType::Uuid => quote!(uuid::Uuid),
        ParamType::Integer => quote!(i64),
        ParamType::Number => quote!(f64),
        ParamType::Boolean => quote!(bool),
        ParamType::String => quote!(String),
    }
}

fn expected(ty: ParamType) -> &'static str {
    match ty {
        ParamType::Uuid => "a UUID",
        ParamType::Integer => "an integer",
        ParamType::Number => "a number",
        ParamType::Boolean => "`true` or `false`",
        ParamType::String => "a string",
    }
}

/// The Rust type of a parameter as the implementation receives it.
fn param_field_type(p: &Param) -> TokenStream {
    let one = param_tokens(p.ty);
    let value = if p.array.is_some() {
        quote!(Vec<#one>)
    } else {
        one
    };
    if p.required || default_tokens(p).is_some() {
        value
    } else {
        quote!(Option<#value>)
    }
}

/// The schema's `default` as a Rust expression, for scalar parameters.
fn default_tokens(p: &Param) -> Option<TokenStream> {
    if p.array.is_some() {
        return None;
    }
    let value = p.default.as_ref()?;
    match (p.ty, value) {
        (ParamType::Integer, serde_json::Value::Number(n)) => {
            let n = n.as_i64()?;
            Some(quote!(#n))
        }
        (ParamType::Number, serde_json::Value::Number(n)) => {
            let n = n.as_f64()?;
            Some(quote!(#n))
        }
        (ParamType::Boolean, serde_json::Value::Bool(b)) => Some(quote!(#b)),
        (ParamType::String, serde_json::Value::String(text)) => Some(quote!(String::from(#text))),
        _ => None,
    }
}

/// `{Op}Query` / `{Op}Headers`: one typed field per parameter.
fn param_struct(
    op: &Operation,
    params: &[Param],
    suffix: &str,
    place: &str,
) -> Option<TokenStream> {
    if params.is_empty() {
        return None;
    }
    let name = format_ident!("{}{suffix}", pascal(&op.id));
    let doc = format!("The {place} parameters of `{}`.", op.id);
    let fields = params.iter().map(|p| {
        let f = ident(&p.field);
        let t = param_field_type(p);
        let mut doc = format!("`{}`", p.name);
        if let Some(d) = &p.default {
            doc.push_str(&format!(" (default `{d}`)"));
        }
        quote! { #[doc = #doc] pub #f: #t, }
    });
    Some(quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq)]
        pub struct #name {
            #(#fields)*
        }
    })
}

/// Statements that read one query or header parameter into `#field`.
fn read_param(p: &Param, place: &str) -> TokenStream {
    let (name, field, exp) = (&p.name, ident(&p.field), expected(p.ty));
    let one = param_tokens(p.ty);
    let read = match (place, p.array) {
        ("query", Some(style)) => {
            let style = match style {
                ArrayStyle::FormExploded => quote!(FormExploded),
                ArrayStyle::FormCommas => quote!(FormCommas),
                ArrayStyle::SpaceDelimited => quote!(SpaceDelimited),
                ArrayStyle::PipeDelimited => quote!(PipeDelimited),
            };
            quote!(query_pairs.array::<#one>(#name, stub_runtime::ArrayStyle::#style, #exp))
        }
        ("query", None) => quote!(query_pairs.scalar::<#one>(#name, #exp)),
        (_, Some(_)) => quote! {
            stub_runtime::header_param::<String>(header_map, #name, "a list")
                .and_then(|v| v.map(|v| stub_runtime::QueryPairs::parse(Some(&format!("v={v}")))
                    .array::<#one>("v", stub_runtime::ArrayStyle::FormCommas, #exp)).transpose())
                .map(Option::flatten)
        },
        (_, None) => quote!(stub_runtime::header_param::<#one>(header_map, #name, #exp)),
    };
    let finish = if p.required {
        quote!(.and_then(|v| stub_runtime::required(v, #place, #name)))
    } else if let Some(default) = default_tokens(p) {
        quote!(.map(|v| v.unwrap_or_else(|| #default)))
    } else {
        quote!()
    };
    quote! {
        let #field = match #read #finish {
            Ok(v) => v,
            Err(r) => return reject(r),
        };
    }
}

/// The type a response body has in its variant.
fn body_tokens(media: &str, ty: &RustType, ctx: &Ctx<'_>) -> TokenStream {
    let t = type_tokens(ty);
    if is_error(ty, ctx) || body_kind(media) != BodyKind::Json {
        t
    } else {
        quote!(JsonBody<#t>)
    }
}

fn is_error(ty: &RustType, ctx: &Ctx<'_>) -> bool {
    ctx.error_fields && matches!(ty, RustType::Model(name) if name == ctx.error_type)
}

fn trait_method(op: &Operation, ctx: &Ctx<'_>) -> TokenStream {
    let name = ident(&op.id);
    let ret = enum_ident(op);
    let mut doc = format!("`{} {}`", op.method, op.path);
    if !op.doc.is_empty() {
        doc.push_str("\n\n");
        doc.push_str(&op.doc);
    }
    if let Some(body) = op.body.as_ref().filter(|b| !b.also.is_empty()) {
        let listed: Vec<String> = std::iter::once(&body.media)
            .chain(body.also.iter().map(|(m, _)| m))
            .map(|m| format!("`{m}`"))
            .collect();
        doc.push_str(&format!(
            "\n\nThe body arrives decoded from whichever of {} the request was sent as.",
            listed.join(", ")
        ));
    }
    let credentials = (!op.security.is_empty() && !ctx.schemes.is_empty())
        .then(|| quote!(credentials: Credentials,));
    let params = op.path_params.iter().map(|p| {
        let n = ident(&p.field);
        let t = param_tokens(p.ty);
        quote!(#n: #t,)
    });
    let query = (!op.query_params.is_empty()).then(|| {
        let t = format_ident!("{}Query", pascal(&op.id));
        quote!(query: #t,)
    });
    let headers = (!op.header_params.is_empty()).then(|| {
        let t = format_ident!("{}Headers", pascal(&op.id));
        quote!(headers: #t,)
    });
    let body = op.body.as_ref().map(|b| {
        let t = type_tokens(&b.ty);
        quote!(body: #t,)
    });
    let doc = doc_attrs(&doc);
    quote! {
        #doc
        fn #name(&self, #credentials #(#params)* #query #headers #body) -> impl Future<Output = #ret> + Send;
    }
}

/// The fields of a response variant, in order: the status (ranges and
/// `default`), the body, the documented response headers.
fn variant_fields(r: &ResponseCase, ctx: &Ctx<'_>) -> Vec<TokenStream> {
    let mut fields = Vec::new();
    if carries_status(r.status) {
        fields.push(quote!(StatusCode));
    }
    if let Some((media, ty)) = &r.body {
        fields.push(body_tokens(media, ty, ctx));
    }
    if r.has_headers {
        fields.push(quote!(HeaderMap));
    }
    fields
}

fn response_enum(op: &Operation, ctx: &Ctx<'_>) -> TokenStream {
    let name = enum_ident(op);
    let doc = format!("Every response `{}` documents.", op.id);
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
        let fields = variant_fields(r, ctx);
        if fields.is_empty() {
            quote! { #doc #v, }
        } else {
            quote! { #doc #v(#(#fields),*), }
        }
    });
    let statuses = op.responses.iter().map(|r| {
        let v = case_ident(r);
        let fields = variant_fields(r, ctx).len();
        match r.status {
            Status::Code(code) => {
                let status = status_tokens(code);
                match fields {
                    0 => quote! { Self::#v => #status, },
                    1 => quote! { Self::#v(_) => #status, },
                    _ => quote! { Self::#v(..) => #status, },
                }
            }
            _ => quote! { Self::#v(status, ..) => *status, },
        }
    });
    let arms = op.responses.iter().map(|r| response_arm(r, ctx));
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq)]
        pub enum #name {
            #(#variants)*
        }

        impl #name {
            /// The HTTP status this response is sent with.
            pub fn status(&self) -> StatusCode {
                match self {
                    #(#statuses)*
                }
            }
        }

        impl IntoResponse for #name {
            fn into_response(self) -> Response {
                let status = self.status();
                match self {
                    #(#arms)*
                }
            }
        }
    }
}

fn response_arm(r: &ResponseCase, ctx: &Ctx<'_>) -> TokenStream {
    let v = case_ident(r);
    // A range variant must carry a status in its range.
    let guard = match r.status {
        Status::Range(hundreds) => Some(quote! {
            if status.as_u16() / 100 != #hundreds {
                return reject(Rejection::response_encoding());
            }
        }),
        _ => None,
    };
    let mut pattern = Vec::new();
    if carries_status(r.status) {
        pattern.push(quote!(_));
    }
    let build = match &r.body {
        None => quote!(status.into_response()),
        Some((media, ty)) => {
            pattern.push(quote!(body));
            if is_error(ty, ctx) {
                // The body's `status` always says what the response is sent with.
                quote! {{
                    let mut body = body;
                    body.status = status.as_u16().into();
                    stub_runtime::error_json(status, &body)
                }}
            } else {
                match body_kind(media) {
                    BodyKind::Json => quote!(body.respond(status).unwrap_or_else(reject)),
                    _ => quote!((status, [(header::CONTENT_TYPE, #media)], body).into_response()),
                }
            }
        }
    };
    let build = if r.has_headers {
        pattern.push(quote!(headers));
        quote! {{
            let mut response = #build;
            response.headers_mut().extend(headers);
            response
        }}
    } else {
        build
    };
    if pattern.is_empty() {
        quote! { Self::#v => { #guard #build } }
    } else {
        quote! { Self::#v(#(#pattern),*) => { #guard #build } }
    }
}

/// The check of one operation's security requirement, as a boolean
/// expression. An alternative naming a scheme the stubs do not read is left
/// to the implementation (counted as met).
fn requirement_met(op: &Operation, schemes: &[Scheme]) -> TokenStream {
    let alternatives = op.security.iter().map(|names| {
        let readable = names.iter().all(|n| schemes.iter().any(|s| &s.name == n));
        if names.is_empty() || !readable {
            return quote!(true);
        }
        let all = names.iter().map(|n| {
            let f = scheme_field(n);
            quote!(credentials.#f.is_some())
        });
        quote!((#(#all)&&*))
    });
    quote!(#(#alternatives)||*)
}

/// "`X-Application-ID` or `Authorization: Bearer <token>`" for a requirement.
fn requirement_hint(op: &Operation, schemes: &[Scheme]) -> String {
    let alternatives: Vec<String> = op
        .security
        .iter()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| schemes.iter().find(|s| &s.name == n))
                .map(|s| match &s.kind {
                    SchemeKind::Bearer => "`Authorization: Bearer <token>`".to_string(),
                    SchemeKind::ApiKeyHeader(h) => format!("`{h}`"),
                })
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect();
    format!(
        "this operation needs credentials: send {}",
        alternatives.join(" or ")
    )
}

fn handler(op: &Operation, ctx: &Ctx<'_>) -> TokenStream {
    let trait_ident = ctx.trait_ident;
    let name = format_ident!("handle_{}", op.id);
    let method = ident(&op.id);
    let mut extractors = vec![quote!(State(shared): State<Shared<A>>)];
    let mut steps = Vec::new();
    let mut args = Vec::new();
    let secured = !op.security.is_empty() && !ctx.schemes.is_empty();
    let checks_media = op
        .body
        .as_ref()
        .is_some_and(|b| matches!(b.kind, BodyKind::Text | BodyKind::Bytes) && b.media != "*/*");
    let several_media = op.body.as_ref().is_some_and(|b| !b.also.is_empty());
    // Headers are borrowed from the request, not cloned; an operation with
    // a body needs the request for the body, so it takes a copy of them.
    let needs_headers = secured || !op.header_params.is_empty() || checks_media || several_media;
    let headers_by_ref = needs_headers && op.body.is_none();
    if headers_by_ref {
        steps.push(quote!(let header_map: &HeaderMap = request.headers();));
    } else if needs_headers {
        extractors.push(quote!(header_map: HeaderMap));
        steps.push(quote!(let header_map = &header_map;));
    }
    if !op.query_params.is_empty() {
        extractors.push(quote!(RawQuery(raw_query): RawQuery));
    }
    if secured {
        let met = requirement_met(op, ctx.schemes);
        let hint = requirement_hint(op, ctx.schemes);
        steps.push(quote! {
            let credentials = match Credentials::from_headers(header_map) {
                Ok(c) => c,
                Err(r) => return reject(r),
            };
            if shared.options.require_credentials && !(#met) {
                return reject(Rejection::new(RejectionKind::MissingCredentials, #hint));
            }
        });
        args.push(quote!(credentials));
    }
    if !op.path_params.is_empty() {
        extractors.push(quote!(path: Result<RawPathParams, RawPathParamsRejection>));
        steps.push(quote! {
            let values = match stub_runtime::path_values(path) {
                Ok(v) => v,
                Err(r) => return reject(r),
            };
        });
        for p in &op.path_params {
            let n = ident(&p.field);
            let raw = &p.name;
            let t = param_tokens(p.ty);
            let exp = expected(p.ty);
            steps.push(quote! {
                let #n: #t = match stub_runtime::path_param(&values, #raw, #exp) {
                    Ok(v) => v,
                    Err(r) => return reject(r),
                };
            });
            args.push(quote!(#n));
        }
    }
    for (params, suffix, place, arg) in [
        (&op.query_params, "Query", "query", "query"),
        (&op.header_params, "Headers", "header", "headers"),
    ] {
        if params.is_empty() {
            continue;
        }
        if place == "query" {
            steps.push(quote! {
                let query_pairs = stub_runtime::QueryPairs::parse(raw_query.as_deref());
            });
        }
        steps.extend(params.iter().map(|p| read_param(p, place)));
        let ty = format_ident!("{}{suffix}", pascal(&op.id));
        let fields = params.iter().map(|p| ident(&p.field));
        let arg = ident(arg);
        steps.push(quote! { let #arg = #ty { #(#fields),* }; });
        args.push(quote!(#arg));
    }
    if let Some(body) = &op.body {
        let t = type_tokens(&body.ty);
        let schema = match &body.ty {
            RustType::Model(name) => name.as_str(),
            _ => "body",
        };
        let media = &body.media;
        if checks_media && !several_media {
            steps.push(quote! {
                if let Err(r) = stub_runtime::expect_media_type(header_map, #media) {
                    return reject(r);
                }
            });
        }
        if !body.also.is_empty() {
            // Several media types: the handler takes the whole request and
            // reads it with the extractor of the media type it was sent as.
            extractors.push(quote!(request: axum::extract::Request));
            steps.push(read_any_media(body, &t, schema));
            args.push(quote!(body));
        } else {
            let (ty, read) = body_extractor(body.kind, &t, schema);
            extractors.push(quote!(body: #ty));
            steps.push(quote! {
                let body = match #read {
                    Ok(b) => b,
                    Err(r) => return reject(r),
                };
            });
            args.push(quote!(body));
        }
    }
    if headers_by_ref {
        // `Request` takes the whole request, so it is the last extractor.
        extractors.push(quote!(request: axum::extract::Request));
    }
    quote! {
        async fn #name<A: #trait_ident>(#(#extractors),*) -> Response {
            #(#steps)*
            shared.api.#method(#(#args),*).await.into_response()
        }
    }
}

/// The extractor type of a body of `kind` decoding into `t`, and the
/// expression turning the extracted `body` into `Result<t, Rejection>`.
fn body_extractor(kind: BodyKind, t: &TokenStream, schema: &str) -> (TokenStream, TokenStream) {
    match kind {
        BodyKind::Json => (
            quote!(Result<Json<#t>, JsonRejection>),
            quote!(body.map(|Json(b)| b).map_err(|r| stub_runtime::body_rejection(r, #schema))),
        ),
        BodyKind::Form => (
            quote!(Result<axum::Form<#t>, axum::extract::rejection::FormRejection>),
            quote!(body.map(|axum::Form(b)| b).map_err(|r| stub_runtime::form_rejection(r, #schema))),
        ),
        BodyKind::Text => (
            quote!(Result<String, axum::extract::rejection::StringRejection>),
            quote!(body.map_err(stub_runtime::string_rejection)),
        ),
        BodyKind::Bytes => (
            quote!(Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>),
            quote!(body.map_err(stub_runtime::bytes_rejection)),
        ),
    }
}

/// Statements that read `request` as whichever of the body's media types its
/// `Content-Type` names (`*/*` last, matching any), else refuse it with 415.
fn read_any_media(body: &crate::model::Body, t: &TokenStream, schema: &str) -> TokenStream {
    let mut listed: Vec<(&str, BodyKind)> = std::iter::once((body.media.as_str(), body.kind))
        .chain(body.also.iter().map(|(m, k)| (m.as_str(), *k)))
        .collect();
    listed.sort_by_key(|(media, _)| *media == "*/*");
    let names: Vec<String> = listed
        .iter()
        .map(|(media, _)| crate::model::media_essence(media))
        .collect();
    let refusal = format!("the request body must be sent as {}", names.join(" or "));
    let branches = listed.iter().map(|(media, kind)| {
        let (ty, read) = body_extractor(*kind, t, schema);
        let condition = if *media == "*/*" {
            quote!(true)
        } else {
            quote!(stub_runtime::expect_media_type(header_map, #media).is_ok())
        };
        quote! {
            if #condition {
                let body = match <#ty as axum::extract::FromRequest<()>>::from_request(request, &()).await {
                    Ok(body) => body,
                    Err(never) => match never {},
                };
                match #read {
                    Ok(b) => b,
                    Err(r) => return reject(r),
                }
            } else
        }
    });
    quote! {
        let body = #(#branches)* {
            return reject(Rejection::new(RejectionKind::UnsupportedMediaType, #refusal));
        };
    }
}

/// `.route(...)` calls, one per path, with 405 for every method the spec does not list.
fn route_calls(ops: &[Operation]) -> TokenStream {
    let mut paths: Vec<&str> = Vec::new();
    for op in ops {
        if !paths.contains(&op.path.as_str()) {
            paths.push(&op.path);
        }
    }
    let routes = paths.into_iter().map(|path| {
        let here: Vec<&Operation> = ops.iter().filter(|o| o.path == path).collect();
        let allow = here
            .iter()
            .map(|o| o.method.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let methods = here.iter().map(|op| {
            let filter = ident(&op.method);
            let h = format_ident!("handle_{}", op.id);
            quote!(.on(MethodFilter::#filter, #h::<A>))
        });
        // axum answers HEAD with the GET handler unless HEAD is routed itself.
        let head = (!here.iter().any(|o| o.method == "HEAD")).then(|| {
            quote!(.on(MethodFilter::HEAD, move || async move { reject(Rejection::method_not_allowed(#allow)) }))
        });
        quote! {
            .route(
                #path,
                MethodRouter::new()
                    #(#methods)*
                    #head
                    .fallback(move || async move { reject(Rejection::method_not_allowed(#allow)) }),
            )
        }
    });
    quote!(#(#routes)*)
}
