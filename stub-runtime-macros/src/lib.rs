//! Derives for generated axum server stubs, re-exported by `stub-runtime`
//! (a stub crate depends on `stub-runtime` alone and writes
//! `#[derive(Responses)]`, `#[derive(CredentialFields)]`).
//!
//! - [`Responses`](macro@Responses): a response enum's status and how each
//!   variant is sent, from one `#[response(...)]` per variant;
//! - [`CredentialFields`](macro@CredentialFields): which header fills each
//!   field of a credentials struct, from one `#[credential(...)]` per field.
//!
//! The expansion names everything through `::stub_runtime`, so it needs no
//! import beyond the derive. A wrong attribute is a compile error pointing
//! at it and naming it.

mod credentials;
mod responses;

use proc_macro::TokenStream;
use syn::DeriveInput;

/// Implements `stub_runtime::Responses` for a response enum: `status` and
/// `send`, one match arm per variant.
///
/// Every variant has one `#[response(...)]`:
/// - `status = 404` (a code, 100 to 999), `status = "4XX"` (a range) or
///   `status = "default"`; a range or `default` variant carries its
///   `StatusCode` as its first field, and a range variant given a status
///   outside its range is sent as 500;
/// - how the body (the next field) is sent, if there is one: `error` (the
///   error format's body, its `status` set to the one sent), `json` (a
///   `JsonBody<T>`) or `media = "text/plain"` (anything `IntoResponse`,
///   with that `Content-Type`);
/// - `headers`: the last field is a `HeaderMap` added to the response.
///
/// The error format (a `stub_runtime::ErrorFormat`, which also answers a
/// body that cannot be encoded) is the type named `Errors` where the enum
/// is defined, as in every generated stub crate, or the one named by
/// `#[responses(errors = Type)]` on the enum.
///
/// ```
/// use stub_runtime::prelude::*;
/// use stub_runtime::{BuiltinError, BuiltinErrors, JsonBody, TextBody, response};
///
/// /// Every response `get_pet` documents.
/// #[derive(Responses)]
/// #[responses(errors = BuiltinErrors)]
/// enum GetPetResponse {
///     /// 200: the pet's name.
///     #[response(status = 200, json)]
///     Ok(JsonBody<String>),
///     /// 200: the same, as text.
///     #[response(status = 200, media = "text/plain")]
///     OkText(TextBody),
///     /// 404: no such pet.
///     #[response(status = 404, error)]
///     NotFound(BuiltinError),
///     /// 5XX: the service failed.
///     #[response(status = "5XX", error)]
///     ServerError(StatusCode, BuiltinError),
/// }
///
/// let missing = BuiltinError { status: 0, code: "not_found".into(), message: "no pet".into() };
/// let sent = response(GetPetResponse::NotFound(missing.clone()));
/// assert_eq!(sent.status(), StatusCode::NOT_FOUND);
/// let sent = response(GetPetResponse::OkText(TextBody::from("Rex")));
/// assert_eq!(sent.headers()["content-type"], "text/plain");
/// // A range variant sent with a status outside its range is a 500.
/// let sent = response(GetPetResponse::ServerError(StatusCode::NOT_FOUND, missing));
/// assert_eq!(sent.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// ```
#[proc_macro_derive(Responses, attributes(response, responses))]
pub fn derive_responses(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    responses::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `stub_runtime::CredentialFields` for a credentials struct:
/// `slots`, each field with the header its scheme is read from (the struct
/// must also be `Default` and `PartialEq`, every field an `Option`).
///
/// Every field has one `#[credential(...)]`:
/// - `bearer`: an `Option<BearerToken>` from `Authorization: Bearer <token>`;
/// - `api_key = "X-Api-Key"`: an `Option<ApiKey>` from that header. A name
///   `HeaderName::from_static` takes (once lowercased) is made once, at
///   compile time; any other is looked up by its text on each request.
///
/// ```
/// use stub_runtime::prelude::*;
/// use stub_runtime::{ApiKey, BearerToken};
/// use axum::http::{HeaderMap, HeaderValue};
///
/// #[derive(Debug, Default, PartialEq, CredentialFields)]
/// struct Credentials {
///     #[credential(api_key = "X-Application-ID")]
///     application: Option<ApiKey>,
///     #[credential(bearer)]
///     auth0: Option<BearerToken>,
/// }
///
/// let mut headers = HeaderMap::new();
/// headers.insert("x-application-id", HeaderValue::from_static("app-1"));
/// let read = Credentials::from_headers(&headers).unwrap();
/// assert_eq!(read.application.as_ref().map(ApiKey::as_str), Some("app-1"));
/// assert!(read.auth0.is_none());
/// ```
#[proc_macro_derive(CredentialFields, attributes(credential))]
pub fn derive_credential_fields(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    credentials::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
