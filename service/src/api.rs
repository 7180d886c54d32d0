//! The Users API: the generated trait implemented over a store, with
//! authorization ([`crate::access`]), typed failures ([`crate::failure`]) and
//! reads kept in memory by the store's decorator ([`crate::cache`]).

use std::sync::Arc;

use axum::body::Bytes;

use users_api_server_stubs::types::{OAuthToken, Users};
use users_api_server_stubs::{
    AuthenticateFromOauthTokenResponse as AuthResponse, Credentials, GetOpenapiJsonResponse,
    GetOpenapiYamlResponse, JsonBody, OPENAPI_YAML, UsersApi,
    UsersDisconnectUserResponse as Disconnect, UsersSnapshotResponse as Snapshot,
    UsersSpecificUserSnapshotResponse as Specific,
};
use uuid::Uuid;

use crate::access::{Access, Caller};
use crate::auth::Verifier;
use crate::cache::Cached;
use crate::config::AccessMode;
use crate::failure::{Failure, NotFound};
use crate::profile;
use crate::store::{RevocationCheck, Storage, UserStore};

/// The service state shared by all requests.
pub struct Service<S> {
    store: Cached<S>,
    access: Access,
    /// The spec as JSON text, made once (a `serde_json::Value` of it held
    /// several times the bytes, and was copied for every request).
    openapi_json: Bytes,
}

impl<S: Storage> Service<S> {
    /// Wires a store and a verifier together under an access mode.
    pub fn new(store: Cached<S>, verifier: Arc<Verifier>, mode: AccessMode) -> Self {
        let openapi: serde_json::Value =
            serde_yaml::from_str(OPENAPI_YAML).expect("the embedded spec is valid YAML");
        let openapi_json = serde_json::to_vec(&openapi)
            .expect("a JSON value serializes")
            .into();
        Self {
            store,
            access: Access::new(verifier, mode),
            openapi_json,
        }
    }

    /// The access mode this service enforces.
    pub fn mode(&self) -> AccessMode {
        self.access.mode()
    }

    /// The users `caller` may see.
    async fn visible_users(&self, caller: Caller) -> Result<JsonBody<Users>, Failure> {
        match caller.only() {
            None => Ok(JsonBody::Raw(self.store.list_body().await?)),
            // From the one-user bodies, like `GET /users/{id}`.
            Some(me) => Ok(JsonBody::Raw(crate::wire::list_of(
                self.store.user_body(me).await?.as_deref(),
            ))),
        }
    }
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl<S: Storage> UsersApi for Service<S> {
    async fn authenticate_from_oauth_token(&self, body: OAuthToken) -> AuthResponse {
        let principal = match self.access.sign_in_identity(&body).await {
            Ok(p) => p,
            Err(e) => return e.into(),
        };
        // Refused early when already known to be revoked; the store checks
        // again inside the write's transaction, against a racing sign-out.
        let id = match self.access.not_revoked(&self.store, &principal).await {
            Ok(id) => id,
            Err(e) => return e.into(),
        };
        let check = RevocationCheck::Token(principal.identity.issued_at);
        let now = chrono::Utc::now();
        let update =
            Box::new(move |stored| profile::authenticated(stored, id, &principal.identity, now));
        match self.store.save_with(id, check, update).await {
            // The stored text is the body: the profile is serialized once.
            Ok(saved) => AuthResponse::Ok(JsonBody::Raw(saved.json)),
            Err(e) => Failure::from(e).into(),
        }
    }

    async fn users_disconnect_user(&self, credentials: Credentials, user: Uuid) -> Disconnect {
        let caller = match self.access.authorize(&self.store, &credentials).await {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        if !caller.may_see(user) {
            return NotFound(user).into();
        }
        let now = now_seconds();
        match self.store.remove(user, now).await {
            Ok(true) => {
                metrics::counter!(crate::meters::REVOCATIONS).increment(1);
                self.access.signed_out(user);
            }
            Ok(false) => return NotFound(user).into(),
            Err(e) => return Failure::from(e).into(),
        }
        match self.visible_users(caller).await {
            Ok(users) => Disconnect::Ok(users),
            Err(e) => e.into(),
        }
    }

    async fn users_snapshot(&self, credentials: Credentials) -> Snapshot {
        let caller = match self.access.authorize(&self.store, &credentials).await {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        match self.visible_users(caller).await {
            Ok(users) => Snapshot::Ok(users),
            Err(e) => e.into(),
        }
    }

    async fn users_specific_user_snapshot(&self, credentials: Credentials, user: Uuid) -> Specific {
        let caller = match self.access.authorize(&self.store, &credentials).await {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        if !caller.may_see(user) {
            return NotFound(user).into();
        }
        match self.store.user_body(user).await {
            Ok(Some(bytes)) => Specific::Ok(JsonBody::Raw(bytes)),
            Ok(None) => NotFound(user).into(),
            Err(e) => Failure::from(e).into(),
        }
    }

    async fn get_openapi_yaml(&self) -> GetOpenapiYamlResponse {
        GetOpenapiYamlResponse::Ok(OPENAPI_YAML.into())
    }

    async fn get_openapi_json(&self) -> GetOpenapiJsonResponse {
        GetOpenapiJsonResponse::Ok(JsonBody::Raw(self.openapi_json.clone()))
    }

    async fn get_docs(&self) -> users_api_server_stubs::GetDocsResponse {
        // The 1.1 MB page, sent from where it lives (no copy per request).
        users_api_server_stubs::GetDocsResponse::Ok(crate::docs::page().into())
    }
}
