//! The Users API: the generated trait implemented over a store and a verifier.
//!
//! Every request arrives through the generated router. Who may do what is
//! decided here from the typed [`Credentials`] and the [`AccessMode`]; reads
//! answer with JSON serialized once and kept until a write touches it
//! ([`JsonBody::Raw`]), since decoding every stored profile and encoding it
//! again on each read was most of the cost of a read (docs/PERFORMANCE.md).
//! A store shared with other instances ([`UserStore::shared`], PostgreSQL)
//! may be written by another instance at any time, and that write must show
//! on the next read here: revocation checks and single-user reads go to the
//! database, and the list is kept only with the database's
//! [`UserStore::state`] it was read in, checked (one small query) before each
//! use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;

use users_api_server_stubs::types::{ApiError, ApiErrorCode, OAuthToken, UserProfile, Users};
use users_api_server_stubs::{
    AuthenticateFromOauthTokenResponse as AuthResponse, Credentials, GetOpenapiJsonResponse,
    GetOpenapiYamlResponse, JsonBody, OPENAPI_YAML, UsersApi,
    UsersDisconnectUserResponse as Disconnect, UsersSnapshotResponse as Snapshot,
    UsersSpecificUserSnapshotResponse as Specific,
};
use uuid::Uuid;

use crate::auth::{AuthError, Principal, Verifier};
use crate::config::AccessMode;
use crate::profile;
use crate::store::{ListJson, StoreError, Update, UserStore};

/// The service state shared by all requests.
pub struct Service<S> {
    store: Arc<S>,
    verifier: Arc<Verifier>,
    mode: AccessMode,
    /// Per user id: tokens issued at or before this time (epoch seconds) are
    /// refused. Unused for a shared store, which is asked each time.
    revoked: Mutex<HashMap<Uuid, u64>>,
    /// Whether the store has other writers: no caching in memory then.
    shared: bool,
    openapi_json: serde_json::Value,
    cache: Arc<ReadCache>,
    /// For a shared store: the serialized list and the state it was read in.
    shared_list: Mutex<Option<(String, Bytes)>>,
}

/// Who a request acts as, once its credentials were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// `local` mode without a token: any client on this machine.
    Local,
    /// A registered application (`applications` mode).
    Application,
    /// The user a verified bearer token names.
    User(Uuid),
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

/// Serializes a response body exactly as `axum::Json` does. The buffer is
/// cut to its length, since a kept body would otherwise hold the spare
/// capacity of its last doubling.
fn to_json<T: serde::Serialize>(value: &T) -> Result<Bytes, ApiError> {
    match serde_json::to_vec(value) {
        Ok(mut bytes) => {
            bytes.shrink_to_fit();
            Ok(Bytes::from(bytes))
        }
        Err(e) => {
            tracing::error!(error = %e, "serializing a response failed");
            Err(error(500, ApiErrorCode::InternalError, "internal error"))
        }
    }
}

/// The body of `GET /users` listing `user` alone (or nobody), built from
/// that user's serialized profile: the same bytes as serializing [`Users`].
fn list_of(user: Option<&[u8]>) -> Bytes {
    let mut body = ListJson::default();
    if let Some(user) = user {
        body.push_serialized(user);
    }
    Bytes::from(body.finish())
}

/// Bodies at least this large are built rarely and grow their buffer (and
/// the database's reads) to their size on the way; after one, freed memory is
/// handed back to the system instead of staying in the allocator's arenas.
const LARGE_BODY: usize = 1 << 20;

impl<S: UserStore> Service<S> {
    /// Wires a store and a verifier together under an access mode, loading
    /// the recorded sign-out revocations.
    pub async fn open(
        store: S,
        verifier: Arc<Verifier>,
        mode: AccessMode,
    ) -> Result<Self, StoreError> {
        let openapi_json =
            serde_yaml::from_str(OPENAPI_YAML).expect("the embedded spec is valid YAML");
        let shared = store.shared();
        let revoked = if shared {
            HashMap::new()
        } else {
            store.revocations().await?.into_iter().collect()
        };
        Ok(Self {
            shared,
            store: Arc::new(store),
            verifier,
            mode,
            revoked: Mutex::new(revoked),
            openapi_json,
            cache: Arc::default(),
            shared_list: Mutex::default(),
        })
    }

    /// The access mode this service enforces.
    pub fn mode(&self) -> AccessMode {
        self.mode
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

    /// Removes user `id` and revokes its earlier tokens, like [`Self::save`].
    async fn remove(&self, id: Uuid) -> Result<bool, StoreError> {
        let now = now_seconds();
        let (store, cache) = (self.store.clone(), self.cache.clone());
        let removed = tokio::spawn(async move {
            let _invalidate = Written(cache, id);
            store.remove(id, now).await
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
        if removed {
            metrics::counter!(crate::meters::REVOCATIONS).increment(1);
            let mut revoked = self.revoked.lock().unwrap_or_else(|e| e.into_inner());
            let at = revoked.entry(id).or_default();
            *at = (*at).max(now);
        }
        Ok(removed)
    }

    /// Checks a request's credentials against the access mode.
    async fn authorize(&self, credentials: &Credentials) -> Result<Caller, ApiError> {
        if let Some(token) = &credentials.auth0 {
            let principal = self
                .verifier
                .verify_bearer(token.as_str())
                .await
                .map_err(unauthorized)?;
            return self.not_revoked(&principal).await.map(Caller::User);
        }
        match (self.mode, &credentials.application) {
            (AccessMode::Local, _) => Ok(Caller::Local),
            (AccessMode::Applications, Some(key)) => {
                let registered = match Uuid::try_parse(key.as_str()) {
                    Ok(id) => self.store.is_application(id).await.map_err(store_failed)?,
                    Err(_) => false,
                };
                if registered {
                    Ok(Caller::Application)
                } else {
                    Err(refused(
                        "the application id is not registered with this service",
                    ))
                }
            }
            (AccessMode::Applications, None) => Err(refused(
                "send a registered application id in X-Application-ID, or a bearer token",
            )),
            (AccessMode::Tokens, _) => Err(refused(
                "this service needs a bearer token: send `Authorization: Bearer <token>`",
            )),
        }
    }

    /// The user a verified identity is, unless a sign-out (on any instance,
    /// for a shared store) revoked its token.
    async fn not_revoked(&self, principal: &Principal) -> Result<Uuid, ApiError> {
        let (id, identity) = (principal.user_id, &principal.identity);
        let revoked_at = if self.shared {
            self.store.revoked_at(id).await.map_err(store_failed)?
        } else {
            let revoked = self.revoked.lock().unwrap_or_else(|e| e.into_inner());
            revoked.get(&id).copied()
        };
        match revoked_at {
            Some(at) if identity.issued_at.is_none_or(|iat| iat <= at) => {
                metrics::counter!(crate::meters::REVOKED_TOKENS_REFUSED).increment(1);
                Err(refused(
                    "the token was revoked when its user signed out; sign in with a new token",
                ))
            }
            _ => Ok(id),
        }
    }

    /// In `tokens` mode a caller sees only itself: `Some(its id)`.
    fn only_self(&self, caller: Caller) -> Option<Uuid> {
        match (self.mode, caller) {
            (AccessMode::Tokens, Caller::User(me)) => Some(me),
            _ => None,
        }
    }

    /// `GET /users` for everyone, from the cache when it is current.
    async fn all_users(&self) -> Result<Bytes, ApiError> {
        if self.shared {
            return self.shared_users().await;
        }
        if let Some(bytes) = self.cache.list() {
            return Ok(bytes);
        }
        let _one_at_a_time = self.cache.rebuild.lock().await;
        if let Some(bytes) = self.cache.list() {
            return Ok(bytes);
        }
        let generation = self.cache.generation();
        let mut body = self.store.list_json().await.map_err(store_failed)?;
        body.shrink_to_fit();
        let bytes = Bytes::from(body);
        if bytes.len() >= LARGE_BODY {
            crate::memory::release_freed();
        }
        self.cache.put_list(generation, bytes.clone());
        Ok(bytes)
    }

    /// `GET /users` on a shared store: the kept list if the database's state
    /// is still the one it was read in, else a fresh read (kept in turn).
    async fn shared_users(&self) -> Result<Bytes, ApiError> {
        let kept = self
            .shared_list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some((state, bytes)) = kept {
            let now = self.store.state().await.map_err(store_failed)?;
            if now.as_deref() == Some(state.as_str()) {
                return Ok(bytes);
            }
        }
        let (iterable, state) = self.store.list_with_state().await.map_err(store_failed)?;
        let bytes = to_json(&Users {
            iterable,
            schema: None,
        })?;
        if bytes.len() >= LARGE_BODY {
            crate::memory::release_freed();
        }
        if let Some(state) = state {
            *self.shared_list.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((state, bytes.clone()));
        }
        Ok(bytes)
    }

    /// One user's profile as JSON, from the cache when it is current.
    async fn one_user(&self, user: Uuid) -> Result<Option<Bytes>, ApiError> {
        if self.shared {
            let profile = self.store.get(user).await.map_err(store_failed)?;
            return profile.map(|p| to_json(&p)).transpose();
        }
        if let Some(bytes) = self.cache.user(user) {
            return Ok(Some(bytes));
        }
        let generation = self.cache.generation();
        match self.store.get(user).await.map_err(store_failed)? {
            Some(profile) => {
                let bytes = to_json(&profile)?;
                self.cache.put_user(generation, user, bytes.clone());
                Ok(Some(bytes))
            }
            None => Ok(None),
        }
    }

    /// The users `caller` may see.
    async fn visible_users(&self, caller: Caller) -> Result<JsonBody<Users>, ApiError> {
        match self.only_self(caller) {
            None => self.all_users().await.map(JsonBody::Raw),
            // From the one-user cache, like `GET /users/{id}`.
            Some(me) => Ok(JsonBody::Raw(list_of(self.one_user(me).await?.as_deref()))),
        }
    }

    async fn identity_from(&self, body: &OAuthToken) -> Result<Arc<Principal>, ApiError> {
        match body.id_token.as_deref() {
            Some(id_token) => self.verifier.verify_id_principal(id_token),
            None => {
                (self.verifier.verify_access_token(&body.access_token).await).map(Principal::new)
            }
        }
        .map_err(unauthorized)
    }
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn error(status: i32, code: ApiErrorCode, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code,
        message: message.into(),
    }
}

fn refused(message: &str) -> ApiError {
    tracing::info!(reason = message, "credentials refused");
    error(401, ApiErrorCode::Unauthorized, message)
}

fn unauthorized(e: AuthError) -> ApiError {
    tracing::info!(reason = %e, "token rejected");
    error(401, ApiErrorCode::Unauthorized, e.to_string())
}

/// A storage failure: 503 when the database is out of reach (the client may
/// retry; nothing was changed, or the change was not acknowledged), else 500.
fn store_failed(e: StoreError) -> ApiError {
    if e.is_unavailable() {
        tracing::warn!(error = %e, "database unavailable");
        return error(
            503,
            ApiErrorCode::ServiceUnavailable,
            "the database is unavailable; retry later",
        );
    }
    tracing::error!(error = %e, "storage failure");
    error(500, ApiErrorCode::InternalError, "internal storage error")
}

/// An error as the operation's response variant for its status (401, 503,
/// otherwise 500).
macro_rules! by_status {
    ($response:ident, $error:expr) => {{
        let e: ApiError = $error;
        match e.status {
            401 => $response::Unauthorized(e),
            503 => $response::ServiceUnavailable(e),
            _ => $response::InternalServerError(e),
        }
    }};
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
        let principal = match self.identity_from(&body).await {
            Ok(p) => p,
            Err(e) => return AuthResponse::Unauthorized(e),
        };
        let id = match self.not_revoked(&principal).await {
            Ok(id) => id,
            Err(e) => return by_status!(AuthResponse, e),
        };
        let now = chrono::Utc::now();
        let update =
            Box::new(move |stored| profile::authenticated(stored, id, &principal.identity, now));
        match self.save(id, update).await {
            Ok(p) => AuthResponse::Ok(p.into()),
            Err(e) => by_status!(AuthResponse, store_failed(e)),
        }
    }

    async fn users_disconnect_user(&self, credentials: Credentials, user: Uuid) -> Disconnect {
        let caller = match self.authorize(&credentials).await {
            Ok(c) => c,
            Err(e) => return by_status!(Disconnect, e),
        };
        if self.only_self(caller).is_some_and(|me| me != user) {
            return Disconnect::NotFound(not_found(user));
        }
        match self.remove(user).await {
            Ok(true) => {}
            Ok(false) => return Disconnect::NotFound(not_found(user)),
            Err(e) => return by_status!(Disconnect, store_failed(e)),
        }
        match self.visible_users(caller).await {
            Ok(users) => Disconnect::Ok(users),
            Err(e) => by_status!(Disconnect, e),
        }
    }

    async fn users_snapshot(&self, credentials: Credentials) -> Snapshot {
        let caller = match self.authorize(&credentials).await {
            Ok(c) => c,
            Err(e) => return by_status!(Snapshot, e),
        };
        match self.visible_users(caller).await {
            Ok(users) => Snapshot::Ok(users),
            Err(e) => by_status!(Snapshot, e),
        }
    }

    async fn users_specific_user_snapshot(&self, credentials: Credentials, user: Uuid) -> Specific {
        let caller = match self.authorize(&credentials).await {
            Ok(c) => c,
            Err(e) => return by_status!(Specific, e),
        };
        if self.only_self(caller).is_some_and(|me| me != user) {
            return Specific::NotFound(not_found(user));
        }
        match self.one_user(user).await {
            Ok(Some(bytes)) => Specific::Ok(JsonBody::Raw(bytes)),
            Ok(None) => Specific::NotFound(not_found(user)),
            Err(e) => by_status!(Specific, e),
        }
    }

    async fn get_openapi_yaml(&self) -> GetOpenapiYamlResponse {
        GetOpenapiYamlResponse::Ok(OPENAPI_YAML.to_string())
    }

    async fn get_openapi_json(&self) -> GetOpenapiJsonResponse {
        GetOpenapiJsonResponse::Ok(self.openapi_json.clone().into())
    }

    async fn get_docs(&self) -> users_api_server_stubs::GetDocsResponse {
        users_api_server_stubs::GetDocsResponse::Ok(crate::docs::page().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile as the service stores it (captured from a running service).
    const PROFILE: &str = r#"{"aesthetics": {"font": {"size": 14}, "theme": {"dark": false}}, "created": {"readable": "November 29, 2026 at 06:24 UTC", "value": "2026-11-29T06:24:12.760186774Z"}, "email": "r@example.com", "id": "c6ff20f9-8fd1-5d05-930e-4943ce35ffbc", "name": "Reader", "providers": {"iterable": [{"created": {"readable": "November 29, 2026 at 06:24 UTC", "value": "2026-11-29T06:24:12.760186774Z"}, "isSocial": true, "type": "github", "updated": {"readable": "November 29, 2026 at 06:24 UTC", "value": "2026-11-29T06:24:12.760186774Z"}, "user_id": "reader"}]}, "schema": {"migration": 1, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}, "updated": {"readable": "November 29, 2026 at 06:24 UTC", "value": "2026-11-29T06:24:12.760186774Z"}, "username": "reader"}"#;

    #[test]
    fn a_one_user_list_is_the_serialized_list() {
        let profile: UserProfile = serde_json::from_str(PROFILE).unwrap();
        let user = to_json(&profile).unwrap();
        let serialized = to_json(&Users {
            iterable: vec![profile],
            schema: None,
        })
        .unwrap();
        assert_eq!(list_of(Some(&user)), serialized);
        assert_eq!(list_of(None), to_json(&Users::default()).unwrap());
    }
}
