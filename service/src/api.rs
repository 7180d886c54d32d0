//! The Users API: the generated trait implemented over a store and a verifier.
//!
//! Reads of `GET /users` and `GET /users/{user}` are also offered as
//! ready-serialized JSON ([`Service::users_snapshot_json`],
//! [`Service::users_specific_user_json`]), kept in a cache that every write
//! invalidates; `crate::http` answers those requests from it. Decoding every
//! stored profile and encoding it again on each read was most of the cost of
//! a read (see docs/PERFORMANCE.md).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;

use users_api_server_stubs::types::{ApiError, ApiErrorCode, OAuthToken, UserProfile, Users};
use users_api_server_stubs::{
    AuthenticateFromOauthTokenResponse as AuthResponse, BearerToken, GetOpenapiJsonResponse,
    GetOpenapiYamlResponse, OPENAPI_YAML, UsersApi, UsersDisconnectUserResponse as Disconnect,
    UsersSnapshotResponse as Snapshot, UsersSpecificUserSnapshotResponse as Specific,
};
use uuid::Uuid;

use crate::auth::{AuthError, Identity, Verifier};
use crate::profile;
use crate::store::{StoreError, Update, UserStore};

/// The service state shared by all requests.
pub struct Service<S> {
    store: Arc<S>,
    verifier: Arc<Verifier>,
    openapi_json: serde_json::Value,
    cache: Arc<ReadCache>,
}

/// Serialized read responses, valid until a write touches them.
///
/// Correctness rests on two rules. A write invalidates (bumping the
/// generation, dropping the list and the written user) only after it has
/// finished, from a task that runs to completion even if the request is
/// cancelled. A read fills the cache only if no write finished while it was
/// reading. So an entry present always matches what is committed, as long as
/// this process is the only writer of its database (as the service assumes).
#[derive(Default)]
struct ReadCache {
    state: Mutex<CacheState>,
    /// One rebuild of the (possibly large) list at a time.
    rebuild: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct CacheState {
    generation: u64,
    list: Option<Bytes>,
    users: HashMap<Uuid, Bytes>,
}

impl ReadCache {
    fn state(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn generation(&self) -> u64 {
        self.state().generation
    }

    fn list(&self) -> Option<Bytes> {
        self.state().list.clone()
    }

    fn user(&self, id: Uuid) -> Option<Bytes> {
        self.state().users.get(&id).cloned()
    }

    fn put_list(&self, generation: u64, bytes: Bytes) {
        let mut state = self.state();
        if state.generation == generation {
            state.list = Some(bytes);
        }
    }

    fn put_user(&self, generation: u64, id: Uuid, bytes: Bytes) {
        let mut state = self.state();
        if state.generation == generation {
            state.users.insert(id, bytes);
        }
    }

    /// Called after a write to `id` has finished, successfully or not.
    fn written(&self, id: Uuid) {
        let mut state = self.state();
        state.generation += 1;
        state.list = None;
        state.users.remove(&id);
    }
}

/// Invalidates the cache for a user when dropped: at the end of a write task.
struct Written(Arc<ReadCache>, Uuid);

impl Drop for Written {
    fn drop(&mut self) {
        self.0.written(self.1);
    }
}

/// Serializes a response body exactly as `axum::Json` does.
fn to_json<T: serde::Serialize>(value: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|e| {
        tracing::error!(error = %e, "serializing a response failed");
        error(500, ApiErrorCode::InternalError, "internal error")
    })
}

impl<S: UserStore> Service<S> {
    /// Wires a store and a verifier together.
    pub fn new(store: S, verifier: Arc<Verifier>) -> Self {
        let openapi_json =
            serde_yaml::from_str(OPENAPI_YAML).expect("the embedded spec is valid YAML");
        Self {
            store: Arc::new(store),
            verifier,
            openapi_json,
            cache: Arc::default(),
        }
    }

    /// Creates or updates user `id` in a task of its own, which finishes the
    /// write and then invalidates the read cache even if this request is
    /// cancelled (its client went away, or it timed out).
    async fn save(&self, id: Uuid, update: Update) -> Result<UserProfile, StoreError> {
        let (store, cache) = (self.store.clone(), self.cache.clone());
        tokio::spawn(async move {
            let _invalidate = Written(cache, id);
            store.save_with(id, update).await
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Removes user `id`, like [`Self::save`].
    async fn remove(&self, id: Uuid) -> Result<bool, StoreError> {
        let (store, cache) = (self.store.clone(), self.cache.clone());
        tokio::spawn(async move {
            let _invalidate = Written(cache, id);
            store.remove(id).await
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// The body of a `200` answer to `GET /users` for `token`, or the
    /// answer that is not a `200`. The same bytes `users_snapshot` gives.
    pub async fn users_snapshot_json(&self, token: &BearerToken) -> Result<Bytes, Snapshot> {
        if let Err(e) = self.caller(token).await {
            return Err(Snapshot::Unauthorized(e));
        }
        if let Some(bytes) = self.cache.list() {
            return Ok(bytes);
        }
        let _one_at_a_time = self.cache.rebuild.lock().await;
        if let Some(bytes) = self.cache.list() {
            return Ok(bytes);
        }
        let generation = self.cache.generation();
        let users = self.users().await.map_err(Snapshot::InternalServerError)?;
        let bytes = to_json(&users).map_err(Snapshot::InternalServerError)?;
        self.cache.put_list(generation, bytes.clone());
        Ok(bytes)
    }

    /// The body of a `200` answer to `GET /users/{user}` for `token`, or
    /// the answer that is not a `200`. The same bytes
    /// `users_specific_user_snapshot` gives.
    pub async fn users_specific_user_json(
        &self,
        token: &BearerToken,
        user: Uuid,
    ) -> Result<Bytes, Specific> {
        if let Err(e) = self.caller(token).await {
            return Err(Specific::Unauthorized(e));
        }
        if let Some(bytes) = self.cache.user(user) {
            return Ok(bytes);
        }
        let generation = self.cache.generation();
        match self.store.get(user).await {
            Ok(Some(profile)) => {
                let bytes = to_json(&profile).map_err(Specific::InternalServerError)?;
                self.cache.put_user(generation, user, bytes.clone());
                Ok(bytes)
            }
            Ok(None) => Err(Specific::NotFound(not_found(user))),
            Err(e) => Err(Specific::InternalServerError(internal(e))),
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

fn error(status: i32, code: ApiErrorCode, message: impl Into<String>) -> ApiError {
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
        match self.save(id, update).await {
            Ok(p) => AuthResponse::Ok(p),
            Err(e) => AuthResponse::InternalServerError(internal(e)),
        }
    }

    async fn users_disconnect_user(&self, token: BearerToken, user: Uuid) -> Disconnect {
        if let Err(e) = self.caller(&token).await {
            return Disconnect::Unauthorized(e);
        }
        match self.remove(user).await {
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
