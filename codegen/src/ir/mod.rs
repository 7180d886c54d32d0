//! The generators' view of the spec, built once from the normalized
//! document: operations with their parameters (by location), bodies,
//! responses (by code, range or default) and security. Private to the crate.

mod body;
mod operation;
mod params;
mod responses;
mod schemes;

pub use stub_runtime::ArrayStyle;

pub use crate::names::field_name;
pub use crate::spec::media::{BodyKind, body_kind, media_essence};
// The server generator reads these through `crate::model` too (as before
// the IR moved here); not every one is used at every moment of its work.
#[allow(unused_imports)]
pub use crate::{
    names::type_name,
    spec::media::{media_variant, preferred_media},
};
pub use body::body_type;
pub use operation::operations;
pub use schemes::{is_supported_scheme, schemes};

/// One operation, as the server generator needs it.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The operationId (snake_case).
    pub id: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Path template, OpenAPI style (`/users/{user}`).
    pub path: String,
    /// Doc text: summary and description.
    pub doc: String,
    /// Path parameters in template order.
    pub path_params: Vec<Param>,
    /// Query parameters, in spec order.
    pub query_params: Vec<Param>,
    /// Header parameters, in spec order.
    pub header_params: Vec<Param>,
    /// Cookie parameters, in spec order.
    pub cookie_params: Vec<Param>,
    /// The request body, if any.
    pub body: Option<Body>,
    /// The security requirement: alternatives, each a set of scheme names
    /// that must all be present. Empty: no security. An empty alternative:
    /// anonymous callers allowed.
    pub security: Vec<Vec<String>>,
    /// Documented responses, ordered by status.
    pub responses: Vec<ResponseCase>,
}

/// A security scheme of the spec, as the router takes it from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    /// Name in `components/securitySchemes`.
    pub name: String,
    /// How the credential travels.
    pub kind: SchemeKind,
}

/// Where a credential is carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeKind {
    /// `Authorization: Bearer <token>` (oauth2, openIdConnect, http bearer).
    Bearer,
    /// An API key in the named request header.
    ApiKeyHeader(String),
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A path template segment.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie of the `Cookie` header.
    Cookie,
}

/// A parameter and how to parse it.
#[derive(Debug, Clone)]
pub struct Param {
    /// Name on the wire (template segment, query key or header name).
    pub name: String,
    /// Type of one value.
    pub ty: ParamType,
    /// `Some(style)` for an array of values.
    pub array: Option<ArrayStyle>,
    /// Whether the request must carry it (path parameters always do).
    pub required: bool,
    /// The schema's `default`, applied when the parameter is absent.
    pub default: Option<serde_json::Value>,
    /// The schema as written (what the request checks are generated from).
    pub schema: Option<openapiv3::ReferenceOr<openapiv3::Schema>>,
}

/// The types a parameter value can be parsed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `format: uuid`.
    Uuid,
    /// `type: integer` with a width or bounds inside `i64`.
    Integer,
    /// `type: integer` of any size (see `spec::integers`).
    AnyInteger,
    /// `type: number`.
    Number,
    /// `type: boolean`.
    Boolean,
    /// Any other string.
    String,
}

/// A request body: how it is encoded and what it decodes into.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// The media type the router accepts.
    pub media: String,
    /// How the body is read.
    pub kind: BodyKind,
    /// Its Rust type.
    pub ty: RustType,
    /// Other media types the operation lists that decode into the same type,
    /// accepted too (a JSON body also sent as a form, say). Media types whose
    /// type differs are linted and refused with 415.
    pub also: Vec<(String, BodyKind)>,
    /// The schema of the preferred media type (JSON or a form), as written.
    pub schema: Option<openapiv3::ReferenceOr<openapiv3::Schema>>,
    /// `required: true`: a request without a body is refused.
    pub required: bool,
}

/// The status a documented response is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// One status code.
    Code(u16),
    /// A range: `4XX` is `Range(4)`.
    Range(u16),
    /// `default`: any status not documented otherwise.
    Default,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Code(code) => write!(f, "{code}"),
            Self::Range(hundreds) => write!(f, "{hundreds}XX"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// A Rust type named by its path relative to the generated crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustType {
    /// A component schema, by its Rust name.
    Model(String),
    /// A free-form JSON value.
    Json,
    /// A string.
    String,
    /// Raw bytes.
    Bytes,
}

/// One documented status of an operation.
#[derive(Debug, Clone)]
pub struct ResponseCase {
    /// The status (code, range or default).
    pub status: Status,
    /// The response description.
    pub description: String,
    /// Media type and type of the body, if any.
    pub body: Option<(String, RustType)>,
    /// Whether it documents response headers the implementation sets
    /// (`WWW-Authenticate` aside: the router adds that one to every 401).
    pub has_headers: bool,
    /// For a response listing several media types, every one but the
    /// preferred gets its own case: this is its variant suffix (`TextHtml`).
    pub media_variant: Option<String>,
    /// The schema of a JSON body, as written (what the response checks are
    /// generated from).
    pub schema: Option<openapiv3::ReferenceOr<openapiv3::Schema>>,
}
