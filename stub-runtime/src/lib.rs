//! The hand-written half of generated axum server stubs.
//!
//! Generated stub crates keep only what differs per operation (the trait,
//! response enums, routes, credential fields); everything that is the same
//! for every operation lives here, as `progenitor-client` does for generated
//! clients: the table of statuses the router answers by itself
//! ([`RejectionKind`]), typed credentials ([`BearerToken`], [`ApiKey`]) and the reading of a
//! generated `Credentials` struct ([`CredentialFields`](trait@CredentialFields)),
//! request rejections with messages that never echo input ([`Rejection`]),
//! JSON bodies that may be pre-serialized ([`JsonBody`]), text bodies that
//! may be static ([`TextBody`]), what every response enum shares
//! ([`Responses`](trait@Responses), sent by [`response`]), the router's
//! scaffolding ([`Routes`], [`RouterOptions`]) and the
//! responses built on a spec's error schema ([`ErrorFormat`], [`SchemaErrors`]), and what the
//! generated schema checks call ([`Violation`], [`Pointer`], [`Format`],
//! [`Pattern`], [`checked_json`], [`checked_form`], [`check_param`], [`check_response`], and one
//! function per keyword such as [`required_key`], [`minimum`], [`length`], [`one_of`] or
//! [`array::items`]), the readers of a request's parts (the [`PathValues`] and [`QueryPairs`]
//! extractors; [`json_request`], [`form_request`], [`text_request`] and [`bytes_request`] for its
//! body), the checks the router's options
//! turn on ([`param_check`], [`request_check`], [`respond`]), and
//! the answers an operation documents in a schema of its own ([`Documented`]).
//! Generated code imports what it names with one glob ([`prelude`]), and
//! derives its response enums and credentials struct
//! ([`derive@Responses`], [`derive@CredentialFields`], from `stub-runtime-macros`).
//!
//! The `skeleton` feature (on by default) adds [`skeleton`]: what a
//! generated skeleton server runs on.
//!
//! Without the default `axum` feature only [`RejectionKind`] is built: that is
//! what the code generator reads to check that a spec documents every status
//! its router can answer.

// The derives name this crate `::stub_runtime`, as in a stub crate; this
// lets its own tests derive too.
#[cfg(test)]
extern crate self as stub_runtime;

mod kind;
mod pattern;
mod style;

pub use kind::{Applies, RejectionKind};
pub use pattern::Pattern;
pub use style::ArrayStyle;

/// Checks of the array keywords of a schema, one call each.
#[cfg(feature = "axum")]
pub mod array;
#[cfg(feature = "axum")]
mod body;
#[cfg(feature = "axum")]
mod bounds;
#[cfg(feature = "axum")]
mod checked;
#[cfg(feature = "axum")]
mod credentials;
#[cfg(feature = "axum")]
mod documented;
#[cfg(feature = "axum")]
mod form;
#[cfg(feature = "axum")]
mod format;
#[cfg(feature = "axum")]
mod formats;
#[cfg(feature = "axum")]
mod gate;
#[cfg(feature = "axum")]
mod integer;
/// Checks of schemas that name a JSON type and nothing else.
#[cfg(feature = "axum")]
pub mod json_type;
#[cfg(feature = "axum")]
mod keywords;
#[cfg(feature = "axum")]
mod params;
/// What generated code imports with one glob.
#[cfg(feature = "axum")]
pub mod prelude;
#[cfg(feature = "axum")]
mod query;
#[cfg(feature = "axum")]
mod rejection;
#[cfg(feature = "axum")]
mod responses;
#[cfg(feature = "axum")]
mod router;
#[cfg(feature = "axum")]
mod schema_errors;
#[cfg(feature = "axum")]
mod security;
/// The runtime of a generated skeleton server (feature `skeleton`).
#[cfg(feature = "skeleton")]
pub mod skeleton;
#[cfg(feature = "axum")]
mod text;
#[cfg(feature = "axum")]
mod violation;

#[cfg(feature = "axum")]
pub use body::JsonBody;
#[cfg(feature = "axum")]
pub use bounds::{item_count, length, maximum, minimum, multiple, property_count};
#[cfg(feature = "axum")]
pub use checked::{
    ResponseCheck, check_param, check_response, checked_form, checked_json, form_request,
    json_request,
};
#[cfg(feature = "axum")]
pub use credentials::{CredentialFields, SchemeSlot};
#[cfg(feature = "axum")]
pub use documented::{Answer, AnswerBody, Documented, Fill, Slot};
#[cfg(feature = "axum")]
pub use form::{FormBody, FormError, form_body, form_rejection, from_form};
#[cfg(feature = "axum")]
pub use format::{BuiltinErrors, ErrorFormat, Refused, media_body, with_headers};
#[cfg(feature = "axum")]
pub use formats::Format;
#[cfg(feature = "axum")]
pub use gate::{param_check, request_check, respond};
#[cfg(feature = "axum")]
pub use integer::{Integer, NotAnInteger};
#[cfg(feature = "axum")]
pub use keywords::{
    any_of, char_count, is_integer, json_eq, multiple_of, no_other_properties, not, one_of,
    other_properties, property, read_only, required_in, required_key, unique_items, write_only,
};
#[cfg(feature = "axum")]
pub use params::{
    PathValues, body_rejection, bytes_body, bytes_rejection, bytes_request, expect_body,
    expect_media_type, json_body, path_param, path_values, string_rejection, text_body,
    text_request,
};
#[cfg(feature = "axum")]
pub use query::{QueryPairs, header_array, header_param, required};
#[cfg(feature = "axum")]
pub use rejection::{BuiltinError, Rejection, error_json};
#[cfg(feature = "axum")]
pub use responses::{Responses, response};
#[cfg(feature = "axum")]
pub use router::{
    OperationHook, OperationInfo, RouterOptions, Routes, Shared, require_credentials,
};
#[cfg(feature = "axum")]
pub use schema_errors::SchemaErrors;
#[cfg(feature = "axum")]
pub use security::{ApiKey, BearerToken, api_key, bearer_token};
/// Derives [`CredentialFields`](trait@CredentialFields) (see `stub-runtime-macros`).
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
#[cfg(feature = "axum")]
pub use stub_runtime_macros::CredentialFields;
/// Derives [`Responses`](trait@Responses) (see `stub-runtime-macros`).
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
#[cfg(feature = "axum")]
pub use stub_runtime_macros::Responses;
#[cfg(feature = "axum")]
pub use text::TextBody;
#[cfg(feature = "axum")]
pub use violation::{Check, Direction, Pointer, Violation};

/// What the derives' expansions name; not a public API.
#[cfg(feature = "axum")]
#[doc(hidden)]
pub mod __private {
    pub use axum::http::{HeaderName, StatusCode};
    pub use axum::response::{IntoResponse, Response};

    /// The status `code`, checked by the derive to be 100 to 999; called in
    /// a `const` block, so a wrong code fails the build, never a request.
    pub const fn status_code(code: u16) -> StatusCode {
        match StatusCode::from_u16(code) {
            Ok(status) => status,
            Err(_) => panic!("a status code from 100 to 999"),
        }
    }
}
