//! The Users API: the generated trait implemented over a store and a verifier.

use std::sync::Arc;

use users_api_server_stubs::types::{ApiError, ApiErrorCode, OAuthToken, Users};
use users_api_server_stubs::{
    AuthenticateFromOauthTokenResponse as AuthResponse, BearerToken, GetOpenapiJsonResponse,
    GetOpenapiYamlResponse, OPENAPI_YAML, UsersApi, UsersDisconnectUserResponse as Disconnect,
    UsersSnapshotResponse as Snapshot, UsersSpecificUserSnapshotResponse as Specific,
};
use uuid::Uuid;

use crate::auth::{AuthError, Identity, Verifier};
use crate::profile;
use crate::store::{StoreError, UserStore};

/// The service state shared by all requests.
pub struct Service<S> {
    store: S,
    verifier: Arc<Verifier>,
    openapi_json: serde_json::Value,
}

impl<S: UserStore> Service<S> {
    /// Wires a store and a verifier together.
    pub fn new(store: S, verifier: Arc<Verifier>) -> Self {
        let openapi_json =
            serde_yaml::from_str(OPENAPI_YAML).expect("the embedded spec is valid YAML");
        Self {
            store,
            verifier,
            openapi_json,
        }
    }

    async fn caller(&self, token: &BearerToken) -> Result<Identity, ApiError> {
        self.verifier
            .verify_bearer(&token.0)
            .await
            .map_err(unauthorized)
    }

    async fn identity_from(&self, body: &OAuthToken) -> Result<Identity, ApiError> {
        match body.id_token.as_deref() {
            Some(id_token) => self.verifier.verify_id_token(id_token),
            None => self.verifier.verify_access_token(&body.access_token).await,
        }
        .map_err(unauthorized)
    }

    async fn users(&self) -> Result<Users, ApiError> {
        Ok(Users {
            iterable: self.store.list().await.map_err(internal)?,
            schema: None,
        })
    }
}

fn error(status: i64, code: ApiErrorCode, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code,
        message: message.into(),
    }
}

fn unauthorized(e: AuthError) -> ApiError {
    tracing::info!(reason = %e, "token rejected");
    error(401, ApiErrorCode::Unauthorized, e.to_string())
}

fn internal(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "storage failure");
    error(500, ApiErrorCode::InternalError, "internal storage error")
}

fn not_found(user: Uuid) -> ApiError {
    error(
        404,
        ApiErrorCode::NotFound,
        format!("no user with id {user}"),
    )
}

impl<S: UserStore> UsersApi for Service<S> {
    async fn authenticate_from_oauth_token(&self, body: OAuthToken) -> AuthResponse {
        let identity = match self.identity_from(&body).await {
            Ok(i) => i,
            Err(e) => return AuthResponse::Unauthorized(e),
        };
        let id = profile::user_id(&identity);
        let now = chrono::Utc::now();
        let update = Box::new(move |stored| profile::authenticated(stored, id, &identity, now));
        match self.store.save_with(id, update).await {
            Ok(p) => AuthResponse::Ok(p),
            Err(e) => AuthResponse::InternalServerError(internal(e)),
        }
    }

    async fn users_disconnect_user(&self, token: BearerToken, user: Uuid) -> Disconnect {
        if let Err(e) = self.caller(&token).await {
            return Disconnect::Unauthorized(e);
        }
        match self.store.remove(user).await {
            Ok(true) => {}
            Ok(false) => return Disconnect::NotFound(not_found(user)),
            Err(e) => return Disconnect::InternalServerError(internal(e)),
        }
        match self.users().await {
            Ok(users) => Disconnect::Ok(users),
            Err(e) => Disconnect::InternalServerError(e),
        }
    }

    async fn users_snapshot(&self, token: BearerToken) -> Snapshot {
        if let Err(e) = self.caller(&token).await {
            return Snapshot::Unauthorized(e);
        }
        match self.users().await {
            Ok(users) => Snapshot::Ok(users),
            Err(e) => Snapshot::InternalServerError(e),
        }
    }

    async fn users_specific_user_snapshot(&self, token: BearerToken, user: Uuid) -> Specific {
        if let Err(e) = self.caller(&token).await {
            return Specific::Unauthorized(e);
        }
        match self.store.get(user).await {
            Ok(Some(p)) => Specific::Ok(p),
            Ok(None) => Specific::NotFound(not_found(user)),
            Err(e) => Specific::InternalServerError(internal(e)),
        }
    }

    async fn get_openapi_yaml(&self) -> GetOpenapiYamlResponse {
        GetOpenapiYamlResponse::Ok(OPENAPI_YAML.to_string())
    }

    async fn get_openapi_json(&self) -> GetOpenapiJsonResponse {
        GetOpenapiJsonResponse::Ok(self.openapi_json.clone())
    }
}
