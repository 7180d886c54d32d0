//! Server stubs: a trait with one method per operation, a response enum per
//! operation that can only express documented statuses, and an axum router.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Operation, ParamType, ResponseCase, RustType, Scheme, SchemeKind};

/// Names the server generator needs from its caller.
pub struct ServerNames<'a> {
    /// Name of the trait (e.g. `UsersApi`).
    pub trait_name: &'a str,
    /// Crate holding the model types.
    pub types_crate: &'a str,
    /// This crate's own name (as a Rust identifier), for doc-tests.
    pub crate_name: &'a str,
    /// Rust name of the error schema's type (e.g. `ApiError`).
    pub error_type: &'a str,
    /// Type of its `code` property, relative to this crate (`types::ApiErrorCode`, `String`).
    pub error_code_type: &'a str,
}

/// Generates the server-stub crate's `lib.rs` body.
pub fn generate(
    ops: &[Operation],
    schemes: &[Scheme],
    names: &ServerNames<'_>,
    spec_text: &str,
) -> TokenStream {
    let trait_ident = Ident::new(names.trait_name, Span::call_site());
    let types_crate = Ident::new(names.types_crate, Span::call_site());
    let error_type = ident(names.error_type);
    let error_code: TokenStream = names
        .error_code_type
        .parse()
        .expect("the error code type is a Rust path");
    let ctx = Ctx {
        trait_ident: &trait_ident,
        error_type: names.error_type,
        schemes,
    };
    let methods = ops.iter().map(|op| trait_method(op, &ctx));
    let enums = ops.iter().map(|op| response_enum(op, &ctx));
    let handlers = ops.iter().map(|op| handler(op, &ctx));
    let table = ops.iter().map(|op| {
        let (id, method, path) = (&op.id, &op.method, &op.path);
        quote! { OperationInfo { operation_id: #id, method: #method, path: #path }, }
    });
    let routes = route_calls(ops);
    let uses_uuid = ops
        .iter()
        .any(|op| op.path_params.iter().any(|p| p.ty == ParamType::Uuid));
    let uuid_reexport = uses_uuid.then(|| quote! { pub use uuid; });
    let credentials = credentials_struct(schemes);
    let mut trait_doc = String::from(
        "The operations of the API. Implement this trait and pass it to [`router`].\n\n\
         Each method receives typed, already-validated inputs and returns a response\n\
         type that can only express the statuses the spec documents for it.",
    );
    if let Some(op) = ops.first() {
        let ty = enum_ident(op);
        let documented = variant_ident(op.responses[0].status);
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

        use axum::extract::rejection::{JsonRejection, PathRejection};
        use axum::extract::{Path, State};
        use axum::http::{header, HeaderMap, StatusCode};
        use axum::response::{IntoResponse, Response};
        use axum::routing::{MethodFilter, MethodRouter};
        use axum::{Json, Router};
        use stub_runtime::RejectionKind;

        pub use stub_runtime::{ApiKey, BearerToken, JsonBody, Rejection};
        /// The shared model types.
        pub use #types_crate as types;
        #uuid_reexport

        /// The OpenAPI document this crate was generated from, verbatim.
        pub const OPENAPI_YAML: &str = #spec_text;

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

        fn text_response(status: StatusCode, media_type: &'static str, body: String) -> Response {
            (status, [(header::CONTENT_TYPE, media_type)], body).into_response()
        }
    }
}

/// What the per-operation generators need besides the operation.
struct Ctx<'a> {
    trait_ident: &'a Ident,
    error_type: &'a str,
    schemes: &'a [Scheme],
}

fn scheme_field(name: &str) -> Ident {
    use heck::ToSnakeCase;
    format_ident!("{}", name.to_snake_case())
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
            SchemeKind::ApiKeyHeader(h) => quote!(#field: stub_runtime::api_key(headers, #h)?,),
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

fn variant_ident(status: u16) -> Ident {
    match known_status(status) {
        Some((_, name, _)) => ident(name),
        None => format_ident!("Status{status}"),
    }
}

/// An expression of type `StatusCode` for a documented status.
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
    }
}

fn param_tokens(ty: ParamType) -> TokenStream {
    match ty {
        ParamType::Uuid => quote!(uuid::Uuid),
        ParamType::Integer => quote!(i64),
        ParamType::String => quote!(String),
    }
}

/// The type a response body has in its variant.
fn body_tokens(media: &str, ty: &RustType, ctx: &Ctx<'_>) -> TokenStream {
    let t = type_tokens(ty);
    if is_error(ty, ctx) || (media != crate::validate::JSON && *ty == RustType::String) {
        t
    } else {
        quote!(JsonBody<#t>)
    }
}

fn is_error(ty: &RustType, ctx: &Ctx<'_>) -> bool {
    matches!(ty, RustType::Model(name) if name == ctx.error_type)
}

fn trait_method(op: &Operation, ctx: &Ctx<'_>) -> TokenStream {
    let name = ident(&op.id);
    let ret = enum_ident(op);
    let mut doc = format!("`{} {}`", op.method, op.path);
    if !op.doc.is_empty() {
        doc.push_str("\n\n");
        doc.push_str(&op.doc);
    }
    let credentials = (!op.security.is_empty() && !ctx.schemes.is_empty())
        .then(|| quote!(credentials: Credentials,));
    let params = op.path_params.iter().map(|p| {
        let n = ident(&p.name);
        let t = param_tokens(p.ty);
        quote!(#n: #t,)
    });
    let body = op.body.as_ref().map(|b| {
        let t = type_tokens(b);
        quote!(body: #t,)
    });
    let doc = doc_attrs(&doc);
    quote! {
        #doc
        fn #name(&self, #credentials #(#params)* #body) -> impl Future<Output = #ret> + Send;
    }
}

fn response_enum(op: &Operation, ctx: &Ctx<'_>) -> TokenStream {
    let name = enum_ident(op);
    let doc = format!("Every response `{}` documents.", op.id);
    let variants = op.responses.iter().map(|r| {
        let v = variant_ident(r.status);
        let doc = doc_attrs(&format!("{}: {}", r.status, r.description.trim()));
        match &r.body {
            Some((media, ty)) => {
                let t = body_tokens(media, ty, ctx);
                quote! { #doc #v(#t), }
            }
            None => quote! { #doc #v, },
        }
    });
    let statuses = op.responses.iter().map(|r| {
        let v = variant_ident(r.status);
        let status = status_tokens(r.status);
        let pat = if r.body.is_some() {
            quote!(Self::#v(_))
        } else {
            quote!(Self::#v)
        };
        quote! { #pat => #status, }
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
    let v = variant_ident(r.status);
    let Some((media, ty)) = &r.body else {
        return quote! { Self::#v => status.into_response(), };
    };
    let build = if is_error(ty, ctx) {
        // The body's `status` always says what the response is sent with.
        quote! {{
            let mut body = body;
            body.status = status.as_u16().into();
            stub_runtime::error_json(status, &body)
        }}
    } else if media != crate::validate::JSON && *ty == RustType::String {
        quote!(text_response(status, #media, body))
    } else {
        quote!(body.respond(status).unwrap_or_else(reject))
    };
    quote! { Self::#v(body) => #build, }
}

/// The check of one operation's security requirement, as a boolean expression.
fn requirement_met(op: &Operation) -> TokenStream {
    let alternatives = op.security.iter().map(|names| {
        if names.is_empty() {
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
    if !op.security.is_empty() && !ctx.schemes.is_empty() {
        extractors.push(quote!(headers: HeaderMap));
        let met = requirement_met(op);
        let hint = requirement_hint(op, ctx.schemes);
        steps.push(quote! {
            let credentials = match Credentials::from_headers(&headers) {
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
        extractors.push(quote!(path: Result<Path<HashMap<String, String>>, PathRejection>));
        steps.push(quote! {
            let values = match stub_runtime::path_values(path) {
                Ok(v) => v,
                Err(r) => return reject(r),
            };
        });
        for p in &op.path_params {
            let n = ident(&p.name);
            let raw = &p.name;
            let t = param_tokens(p.ty);
            let expected = match p.ty {
                ParamType::Uuid => "a UUID",
                ParamType::Integer => "an integer",
                ParamType::String => "a string",
            };
            steps.push(quote! {
                let #n: #t = match stub_runtime::path_param(&values, #raw, #expected) {
                    Ok(v) => v,
                    Err(r) => return reject(r),
                };
            });
            args.push(quote!(#n));
        }
    }
    if let Some(body) = &op.body {
        let t = type_tokens(body);
        let schema = match body {
            RustType::Model(name) => name.as_str(),
            RustType::Json => "object",
            RustType::String => "string",
        };
        extractors.push(quote!(body: Result<Json<#t>, JsonRejection>));
        steps.push(quote! {
            let body = match body {
                Ok(Json(b)) => b,
                Err(rejection) => return reject(stub_runtime::body_rejection(rejection, #schema)),
            };
        });
        args.push(quote!(body));
    }
    quote! {
        async fn #name<A: #trait_ident>(#(#extractors),*) -> Response {
            #(#steps)*
            shared.api.#method(#(#args),*).await.into_response()
        }
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
