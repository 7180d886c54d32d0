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
//!
//! The examples are on the re-exports in `stub-runtime` and run as its doc
//! tests: this crate has no dev-dependencies, since a proc-macro crate's
//! tests are built for the host, and cargo resolves the host's features
//! apart: with `stub-runtime` and axum as dev-dependencies here, `cargo test
//! --workspace` compiled tokio, hyper, axum and about 25 other crates a
//! second time.

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
/// The example is on the re-export, `stub_runtime::Responses`, where it
/// runs as a doc test.
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
/// The example is on the re-export, `stub_runtime::CredentialFields`,
/// where it runs as a doc test.
#[proc_macro_derive(CredentialFields, attributes(credential))]
pub fn derive_credential_fields(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    credentials::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
