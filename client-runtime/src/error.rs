//! The class of a failed call, read from progenitor's error without
//! matching on message text.

use progenitor_client::Error;

/// The class of a failed call, for deciding what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request was rejected as malformed (400, 405, 413, 415, 422) or could not be built.
    BadRequest,
    /// The credentials were missing or rejected (401, 403).
    Unauthorized,
    /// The resource does not exist (404).
    NotFound,
    /// The server failed or timed out (408, 5xx).
    Server,
    /// The server could not be reached or the connection failed.
    Transport,
    /// A response the spec does not document, or a body that does not parse.
    Unexpected,
}

/// Classification of a generated client's errors, without string matching.
pub trait ErrorExt {
    /// The spec's error body.
    type Body;
    /// The class of failure.
    fn kind(&self) -> ErrorKind;
    /// The spec's error body, when the server sent one.
    fn api_error(&self) -> Option<&Self::Body>;
    /// 404.
    fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }
    /// 401 or 403.
    fn is_unauthorized(&self) -> bool {
        self.kind() == ErrorKind::Unauthorized
    }
    /// A rejected or unbuildable request.
    fn is_bad_request(&self) -> bool {
        self.kind() == ErrorKind::BadRequest
    }
    /// The server could not be reached.
    fn is_transport(&self) -> bool {
        self.kind() == ErrorKind::Transport
    }
}

/// The class of an HTTP status.
fn kind_of_status(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Unauthorized,
        404 => ErrorKind::NotFound,
        400 | 405 | 413 | 415 | 422 => ErrorKind::BadRequest,
        408 | 500..=599 => ErrorKind::Server,
        _ => ErrorKind::Unexpected,
    }
}

impl<E> ErrorExt for Error<E> {
    type Body = E;

    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidRequest(_) => ErrorKind::BadRequest,
            Self::CommunicationError(e) | Self::InvalidUpgrade(e) if e.status().is_none() => {
                ErrorKind::Transport
            }
            Self::ErrorResponse(r) => kind_of_status(r.status().as_u16()),
            Self::UnexpectedResponse(r) => kind_of_status(r.status().as_u16()),
            _ => ErrorKind::Unexpected,
        }
    }

    fn api_error(&self) -> Option<&E> {
        match self {
            Self::ErrorResponse(r) => Some(r.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_fall_into_their_classes() {
        for (status, kind) in [
            (400, ErrorKind::BadRequest),
            (401, ErrorKind::Unauthorized),
            (403, ErrorKind::Unauthorized),
            (404, ErrorKind::NotFound),
            (405, ErrorKind::BadRequest),
            (408, ErrorKind::Server),
            (413, ErrorKind::BadRequest),
            (415, ErrorKind::BadRequest),
            (422, ErrorKind::BadRequest),
            (429, ErrorKind::Unexpected),
            (500, ErrorKind::Server),
            (503, ErrorKind::Server),
            (599, ErrorKind::Server),
            (302, ErrorKind::Unexpected),
        ] {
            assert_eq!(kind_of_status(status), kind, "{status}");
        }
    }

    #[test]
    fn an_invalid_request_is_a_bad_request_without_a_body() {
        let err: Error<String> = Error::InvalidRequest("body was not initialized".into());
        assert_eq!(err.kind(), ErrorKind::BadRequest);
        assert!(err.is_bad_request());
        assert_eq!(err.api_error(), None);
    }
}
