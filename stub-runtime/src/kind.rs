//! The statuses a generated router answers without calling the implementation.

/// When a [`RejectionKind`] can happen to an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// On any request (unrouted paths, unlisted methods, unencodable responses).
    EveryRoute,
    /// On operations with path parameters.
    PathParameters,
    /// On operations with query or header parameters.
    OtherParameters,
    /// On operations with a security requirement.
    Security,
    /// On operations with a request body.
    RequestBody,
}

/// Why a generated router answered a request itself.
///
/// This table is the one place that knows which statuses the router emits:
/// the generator's validator requires each operation to document the statuses
/// that [`Self::applies`] to it, and the runtime answers with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// No route matches the path.
    NoRoute,
    /// The path exists but the spec lists no such method for it.
    MethodNotAllowed,
    /// A path parameter does not parse as its schema's type.
    BadPathParameter,
    /// A query or header parameter is missing or does not parse.
    BadParameter,
    /// A secured operation was called without the credentials it requires.
    MissingCredentials,
    /// A credential header is present but not in the documented form.
    MalformedCredentials,
    /// The body is not well-formed JSON.
    MalformedBody,
    /// The body is larger than the router's limit.
    BodyTooLarge,
    /// The body is not sent with the documented media type.
    UnsupportedMediaType,
    /// The body is JSON that does not match the operation's schema.
    SchemaMismatch,
    /// The implementation's response could not be encoded.
    ResponseEncoding,
}

impl RejectionKind {
    /// Every kind, in a stable order.
    pub const ALL: [Self; 11] = [
        Self::NoRoute,
        Self::MethodNotAllowed,
        Self::BadPathParameter,
        Self::BadParameter,
        Self::MissingCredentials,
        Self::MalformedCredentials,
        Self::MalformedBody,
        Self::BodyTooLarge,
        Self::UnsupportedMediaType,
        Self::SchemaMismatch,
        Self::ResponseEncoding,
    ];

    /// The HTTP status the router answers with.
    pub const fn status(self) -> u16 {
        match self {
            Self::NoRoute => 404,
            Self::MethodNotAllowed => 405,
            Self::BadPathParameter | Self::BadParameter | Self::MalformedBody => 400,
            Self::MissingCredentials | Self::MalformedCredentials => 401,
            Self::BodyTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::SchemaMismatch => 422,
            Self::ResponseEncoding => 500,
        }
    }

    /// The machine-readable error code sent in the error body.
    pub const fn code(self) -> &'static str {
        match self {
            Self::NoRoute => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::BadPathParameter | Self::BadParameter | Self::MalformedBody => "bad_request",
            Self::MissingCredentials | Self::MalformedCredentials => "unauthorized",
            Self::BodyTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::SchemaMismatch => "unprocessable_entity",
            Self::ResponseEncoding => "internal_error",
        }
    }

    /// Which operations can see it.
    pub const fn applies(self) -> Applies {
        match self {
            Self::NoRoute | Self::MethodNotAllowed | Self::ResponseEncoding => Applies::EveryRoute,
            Self::BadPathParameter => Applies::PathParameters,
            Self::BadParameter => Applies::OtherParameters,
            Self::MissingCredentials | Self::MalformedCredentials => Applies::Security,
            Self::MalformedBody
            | Self::BodyTooLarge
            | Self::UnsupportedMediaType
            | Self::SchemaMismatch => Applies::RequestBody,
        }
    }

    /// What causes it, for messages such as "the router answers … with 413".
    pub const fn cause(self) -> &'static str {
        match self {
            Self::NoRoute => "an unknown path",
            Self::MethodNotAllowed => "an unlisted method",
            Self::BadPathParameter => "a path parameter that does not parse",
            Self::BadParameter => "a missing or malformed query or header parameter",
            Self::MissingCredentials => "missing credentials",
            Self::MalformedCredentials => "a malformed credential header",
            Self::MalformedBody => "malformed JSON",
            Self::BodyTooLarge => "a body over the size limit",
            Self::UnsupportedMediaType => "a wrong content type",
            Self::SchemaMismatch => "JSON that breaks the schema",
            Self::ResponseEncoding => "a response that cannot be encoded",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes_agree() {
        for kind in RejectionKind::ALL {
            let expected = match kind.status() {
                400 => "bad_request",
                401 => "unauthorized",
                404 => "not_found",
                405 => "method_not_allowed",
                413 => "payload_too_large",
                415 => "unsupported_media_type",
                422 => "unprocessable_entity",
                500 => "internal_error",
                other => panic!("{kind:?}: unexpected status {other}"),
            };
            assert_eq!(kind.code(), expected, "{kind:?}");
            assert!(!kind.cause().is_empty());
        }
    }

    #[test]
    fn every_kind_is_listed_once() {
        for (i, a) in RejectionKind::ALL.iter().enumerate() {
            assert!(!RejectionKind::ALL[i + 1..].contains(a), "{a:?} twice");
        }
    }
}
