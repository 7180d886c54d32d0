//! Server stubs: a trait with one method per operation, a response enum per
//! operation that can only express documented statuses, and an axum router.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Auth, Operation, ParamType, ResponseCase, RustType};

/// Names the server generator needs from its caller.
pub struct ServerNames<'a> {
    /// Name of the trait (e.g. `UsersApi`).
    pub trait_name: &'a str,
    /// Crate holding the model types.
    pub types_crate: &'a str,
    /// This crate's own name (as a Rust identifier), for doc-tests.
    pub crate_name: &'a str,
}

/// Generates the server-stub crate's `lib.rs` body.
pub fn generate(ops: &[Operation], names: &ServerNames<'_>, spec_text: &str) -> TokenStream {
    let trait_ident = Ident::new(names.trait_name, Span::call_site());
    let types_crate = Ident::new(names.types_crate, Span::call_site());
    let methods = ops.iter().map(trait_method);
    let enums = ops.iter().map(response_enum);
    let handlers = ops.iter().map(|op| handler(op, &trait_ident));
    let table = ops.iter().map(|op| {
        let (id, method, path) = (&op.id, &op.method, &op.path);
        quote! { OperationInfo { operation_id: #id, method: #method, path: #path }, }
    });
    let routes = route_calls(ops);
    let uses_uuid = ops
        .iter()
        .any(|op| op.path_params.iter().any(|p| p.ty == ParamType::Uuid));
    let uuid_reexport = uses_uuid.then(|| quote! { pub use uuid; });
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
        use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
        use axum::response::{IntoResponse, Response};
        use axum::routing::{MethodFilter, MethodRouter};
        use axum::{Json, Router};

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

        /// A bearer token taken from the `Authorization` header.
        ///
        /// The router only checks that one was sent; the implementation verifies it.
        /// `Debug` never prints the token.
        #[derive(Clone, PartialEq, Eq)]
        pub struct BearerToken(pub String);

        impl std::fmt::Debug for BearerToken {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("BearerToken(<redacted>)")
            }
        }

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
        }

        impl Default for RouterOptions {
            fn default() -> Self {
                Self { body_limit: 64 * 1024 }
            }
        }

        /// Builds the router for an implementation, with default options.
        pub fn router<A: #trait_ident>(api: Arc<A>) -> Router {
            router_with_options(api, RouterOptions::default())
        }

        /// Builds the router for an implementation.
        ///
        /// Everything rejected before reaching the implementation (unknown route,
        /// undocumented method, bad path parameter, missing token, wrong content type,
        /// oversized or malformed body) is answered in the spec's error format.
        pub fn router_with_options<A: #trait_ident>(api: Arc<A>, options: RouterOptions) -> Router {
            Router::new()
                #routes
                .fallback(not_found)
                .layer(axum::extract::DefaultBodyLimit::max(options.body_limit))
                .with_state(api)
        }

        #(#handlers)*

        /// Builds an error response in the spec's error format.
        pub fn error_response(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
            let body = serde_json::json!({
                "status": status.as_u16(),
                "code": code,
                "message": message.into(),
            });
            (status, Json(body)).into_response()
        }

        fn with_bearer_challenge(mut response: Response) -> Response {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }

        fn json_response<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
            (status, Json(body)).into_response()
        }

        fn text_response(status: StatusCode, media_type: &'static str, body: String) -> Response {
            (status, [(header::CONTENT_TYPE, media_type)], body).into_response()
        }

        async fn not_found() -> Response {
            error_response(StatusCode::NOT_FOUND, "not_found", "no such route")
        }

        fn method_not_allowed(allow: &'static str) -> Response {
            let mut response = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("method not allowed; this path supports {allow}"),
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
            response
        }

        /// The bearer token of a request, exactly as the router takes it for
        /// secured operations (`Authorization: Bearer <token>`, scheme case-insensitive).
        pub fn bearer_token(headers: &HeaderMap) -> Option<BearerToken> {
            let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
            let (scheme, token) = value.split_once(' ')?;
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
                .then(|| BearerToken(token.to_string()))
        }

        fn missing_token() -> Response {
            with_bearer_challenge(error_response(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing bearer token: send `Authorization: Bearer <token>`",
            ))
        }

        fn path_values(path: Result<Path<HashMap<String, String>>, PathRejection>) -> Result<HashMap<String, String>, Response> {
            path.map(|Path(values)| values).map_err(|e| {
                error_response(StatusCode::BAD_REQUEST, "bad_request", format!("invalid path: {}", e.body_text()))
            })
        }

        fn path_param<T: std::str::FromStr>(values: &HashMap<String, String>, name: &str, expected: &str) -> Result<T, Response>
        where
            T::Err: std::fmt::Display,
        {
            let raw = values.get(name).map(String::as_str).unwrap_or_default();
            raw.parse().map_err(|e| {
                error_response(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("path parameter `{name}` must be {expected}: {e}"),
                )
            })
        }

        fn body_rejection(rejection: JsonRejection) -> Response {
            let status = rejection.status();
            let code = match status {
                StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
                StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
                StatusCode::UNPROCESSABLE_ENTITY => "unprocessable_entity",
                _ => "bad_request",
            };
            let status = match code {
                "bad_request" => StatusCode::BAD_REQUEST,
                _ => status,
            };
            error_response(status, code, redact_quoted(&rejection.body_text()))
        }

        /// Shortens long quoted strings in parser messages, so a credential
        /// sent in the wrong field is never echoed back.
        fn redact_quoted(message: &str) -> String {
            let mut out = String::with_capacity(message.len());
            let mut parts = message.split('"');
            if let Some(first) = parts.next() {
                out.push_str(first);
            }
            for (i, part) in parts.enumerate() {
                out.push('"');
                if i % 2 == 0 && part.chars().count() > 24 {
                    out.push_str("<redacted>");
                } else {
                    out.push_str(part);
                }
            }
            out
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

fn auth_arg(op: &Operation) -> Option<TokenStream> {
    match op.auth {
        Auth::None => None,
        Auth::Required => Some(quote!(token: BearerToken,)),
        Auth::Optional => Some(quote!(token: Option<BearerToken>,)),
    }
}

fn trait_method(op: &Operation) -> TokenStream {
    let name = ident(&op.id);
    let ret = enum_ident(op);
    let mut doc = format!("`{} {}`", op.method, op.path);
    if !op.doc.is_empty() {
        doc.push_str("\n\n");
        doc.push_str(&op.doc);
    }
    let auth = auth_arg(op);
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
        fn #name(&self, #auth #(#params)* #body) -> impl Future<Output = #ret> + Send;
    }
}

fn response_enum(op: &Operation) -> TokenStream {
    let name = enum_ident(op);
    let doc = format!("Every response `{}` documents.", op.id);
    let variants = op.responses.iter().map(|r| {
        let v = variant_ident(r.status);
        let doc = doc_attrs(&format!("{}: {}", r.status, r.description.trim()));
        match &r.body {
            Some((_, ty)) => {
                let t = type_tokens(ty);
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
    let arms = op.responses.iter().map(response_arm);
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

fn response_arm(r: &ResponseCase) -> TokenStream {
    let v = variant_ident(r.status);
    let build = match &r.body {
        Some((media, RustType::String)) if media != crate::validate::JSON => {
            quote!(text_response(status, #media, body))
        }
        Some(_) => quote!(json_response(status, &body)),
        None => quote!(status.into_response()),
    };
    let build = if r.www_authenticate {
        quote!(with_bearer_challenge(#build))
    } else {
        build
    };
    if r.body.is_some() {
        quote! { Self::#v(body) => #build, }
    } else {
        quote! { Self::#v => #build, }
    }
}

fn handler(op: &Operation, trait_ident: &Ident) -> TokenStream {
    let name = format_ident!("handle_{}", op.id);
    let method = ident(&op.id);
    let mut extractors = vec![quote!(State(api): State<Arc<A>>)];
    let mut steps = Vec::new();
    let mut args = Vec::new();
    match op.auth {
        Auth::None => {}
        Auth::Required => {
            extractors.push(quote!(headers: HeaderMap));
            steps.push(quote! {
                let Some(token) = bearer_token(&headers) else {
                    return missing_token();
                };
            });
            args.push(quote!(token));
        }
        Auth::Optional => {
            extractors.push(quote!(headers: HeaderMap));
            steps.push(quote! { let token = bearer_token(&headers); });
            args.push(quote!(token));
        }
    }
    if !op.path_params.is_empty() {
        extractors.push(quote!(path: Result<Path<HashMap<String, String>>, PathRejection>));
        steps.push(quote! {
            let values = match path_values(path) {
                Ok(v) => v,
                Err(r) => return r,
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
                let #n: #t = match path_param(&values, #raw, #expected) {
                    Ok(v) => v,
                    Err(r) => return r,
                };
            });
            args.push(quote!(#n));
        }
    }
    if let Some(body) = &op.body {
        let t = type_tokens(body);
        extractors.push(quote!(body: Result<Json<#t>, JsonRejection>));
        steps.push(quote! {
            let body = match body {
                Ok(Json(b)) => b,
                Err(rejection) => return body_rejection(rejection),
            };
        });
        args.push(quote!(body));
    }
    quote! {
        async fn #name<A: #trait_ident>(#(#extractors),*) -> Response {
            #(#steps)*
            api.#method(#(#args),*).await.into_response()
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
        let head = (!here.iter().any(|o| o.method == "HEAD")).then(
            || quote!(.on(MethodFilter::HEAD, move || async move { method_not_allowed(#allow) })),
        );
        quote! {
            .route(
                #path,
                MethodRouter::new()
                    #(#methods)*
                    #head
                    .fallback(move || async move { method_not_allowed(#allow) }),
            )
        }
    });
    quote!(#(#routes)*)
}
