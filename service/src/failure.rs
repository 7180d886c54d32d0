//! Why an operation failed, as types: each converts into the response enum
//! of exactly the operations whose spec documents its status, so an
//! impossible status for an operation is a compile error (no `From` impl),
//! never a 500 chosen at run time.

use users_api_server_stubs::types::{ApiError, ApiErrorCode};
use users_api_server_stubs::{
    AuthenticateFromOauthTokenResponse, UsersDisconnectUserResponse, UsersSnapshotResponse,
    UsersSpecificUserSnapshotResponse,
};
use uuid::Uuid;

use crate::auth::AuthError;
use crate::store::StoreError;

/// A failure every user operation documents (401, 503, 500).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 401: missing, refused or revoked credentials (fixed text, never input).
    Unauthorized(String),
    /// 503: the database is out of reach, or the identity provider's
    /// userinfo calls are at their limit; retry later (`Retry-After`).
    Unavailable(&'static str),
    /// 500: anything else; details only in the log.
    Internal,
}

/// 404: no user with this id (or none the caller may see).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotFound(pub Uuid);

impl Failure {
    /// The body of the error response.
    pub fn api_error(&self) -> ApiError {
        let (status, code, message) = match self {
            Self::Unauthorized(m) => (401, ApiErrorCode::Unauthorized, m.clone()),
            Self::Unavailable(m) => (503, ApiErrorCode::ServiceUnavailable, (*m).to_string()),
            Self::Internal => (500, ApiErrorCode::InternalError, "internal error".into()),
        };
        ApiError {
            status,
            code,
            message,
        }
    }

    /// Credentials refused for `reason` (fixed text).
    pub fn refused(reason: &str) -> Self {
        tracing::info!(reason, "credentials refused");
        Self::Unauthorized(reason.to_string())
    }
}

impl NotFound {
    /// The body of the 404 response.
    pub fn api_error(&self) -> ApiError {
        ApiError {
            status: 404,
            code: ApiErrorCode::NotFound,
            message: format!("no user with id {}", self.0),
        }
    }
}

impl From<AuthError> for Failure {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::RateLimited(which) => {
                tracing::warn!(limit = ?which, "userinfo calls at their limit");
                Self::Unavailable(
                    "too many access tokens are being checked with the identity provider; \
                     retry shortly",
                )
            }
            other => {
                tracing::info!(reason = %other, "token rejected");
                Self::Unauthorized(other.to_string())
            }
        }
    }
}

impl From<StoreError> for Failure {
    /// 401 for a revoked sign-in, 503 when the database is out of reach
    /// (nothing was changed, or the change was not acknowledged), else 500.
    fn from(e: StoreError) -> Self {
        if matches!(e, StoreError::Revoked) {
            return Self::refused(
                "the token was revoked when its user signed out; sign in with a new token",
            );
        }
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            return Self::Unavailable("the database is unavailable; retry later");
        }
        tracing::error!(error = %e, "storage failure");
        Self::Internal
    }
}

/// `From<Failure>` for a response enum, naming its 401, 503 and 500
/// variants: a response enum without one does not compile.
macro_rules! documents_failures {
    ($($response:ident),* $(,)?) => {$(
        impl From<Failure> for $response {
            fn from(failure: Failure) -> Self {
                let body = failure.api_error();
                match failure {
                    Failure::Unauthorized(_) => Self::Unauthorized(body),
                    Failure::Unavailable(_) => Self::ServiceUnavailable(body),
                    Failure::Internal => Self::InternalServerError(body),
                }
            }
        }
    )*};
}

/// `From<NotFound>` for the response enums with a 404 variant.
macro_rules! documents_not_found {
    ($($response:ident),* $(,)?) => {$(
        impl From<NotFound> for $response {
            fn from(not_found: NotFound) -> Self {
                Self::NotFound(not_found.api_error())
            }
        }
    )*};
}

documents_failures!(
    AuthenticateFromOauthTokenResponse,
    UsersDisconnectUserResponse,
    UsersSnapshotResponse,
    UsersSpecificUserSnapshotResponse,
);
documents_not_found!(
    UsersDisconnectUserResponse,
    UsersSpecificUserSnapshotResponse
);

#[cfg(test)]
mod tests {
    use super::*;
    use users_api_server_stubs::Responses as _;

    #[test]
    fn each_failure_lands_in_the_variant_of_its_status() {
        for (failure, status) in [
            (Failure::Unauthorized("no".into()), 401),
            (Failure::Unavailable("later"), 503),
            (Failure::Internal, 500),
        ] {
            let response = UsersSnapshotResponse::from(failure.clone());
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(failure.api_error().status, i32::from(status));
        }
        let missing = UsersSpecificUserSnapshotResponse::from(NotFound(Uuid::nil()));
        assert_eq!(missing.status().as_u16(), 404);
        assert_eq!(
            Failure::from(StoreError::Revoked),
            Failure::Unauthorized(
                "the token was revoked when its user signed out; sign in with a new token".into()
            )
        );
    }
}
