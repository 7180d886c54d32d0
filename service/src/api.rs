//! The Users API: the generated trait implemented over a store, with
//! authorization ([`crate::access`]) and typed failures ([`crate::failure`]).
//!
//! Reads answer with JSON serialized once and kept until a write touches it
//! ([`JsonBody::Raw`]), since decoding every stored profile and encoding it
//! again on each read was most of the cost of a read (docs/PERFORMANCE.md).
//! A store shared with other instances ([`crate::store::UserStore::shared`], PostgreSQL)
//! may be written by another instance at any time, and that write must show
//! on the next read here: single-user reads go to the database, and the list
//! is kept only with the database's [`crate::store::UserStore::state`] it was read in,
//! checked (one small query) before each use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;

use users_api_server_stubs::types::{OAuthToken, UserProfile, Users};
use users_api_server_stubs::{
    AuthenticateFromOauthTokenResponse as AuthResponse, Credentials, GetOpenapiJsonResponse,
    GetOpenapiYamlResponse, JsonBody, OPENAPI_YAML, UsersApi,
    UsersDisconnectUserResponse as Disconnect, UsersSnapshotResponse as Snapshot,
    UsersSpecificUserSnapshotResponse as Specific,
};
use uuid::Uuid;

use crate::access::{Access, Caller};
use crate::auth::Verifier;
use crate::config::AccessMode;
use crate::failure::{Failure, NotFound};
use crate::profile;
use crate::store::{ListJson, RevocationCheck, Storage, StoreError, Update};

/// The service state shared by all requests.
pub struct Service<S> {
    store: Arc<S>,
    access: Access,
    /// Whether the store has other writers: then single-user reads go to
    /// the database, and the list is kept only with the state it was read
    /// in (`shared_list`), never in `cache`.
    shared: bool,
    openapi_json: serde_json::Value,
    cache: Arc<ReadCache>,
    /// For a shared store: the serialized list and the state it was read in.
    shared_list: Mutex<Option<(String, Bytes)>>,
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
fn to_json<T: serde::Serialize>(value: &T) -> Result<Bytes, Failure> {
    match serde_json::to_vec(value) {
        Ok(mut bytes) => {
            bytes.shrink_to_fit();
            Ok(Bytes::from(bytes))
        }
        Err(e) => {
            tracing::error!(error = %e, "serializing a response failed");
            Err(Failure::Internal)
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

impl<S: Storage> Service<S> {
    /// Wires a store and a verifier together under an access mode, loading
    /// the recorded sign-out revocations.
    pub async fn open(
        store: S,
        verifier: Arc<Verifier>,
        mode: AccessMode,
    ) -> Result<Self, StoreError> {
        let openapi_json =
            serde_yaml::from_str(OPENAPI_YAML).expect("the embedded spec is valid YAML");
        let access = Access::open(&store, verifier, mode).await?;
        Ok(Self {
            shared: store.shared(),
            store: Arc::new(store),
            access,
            openapi_json,
            cache: Arc::default(),
            shared_list: Mutex::default(),
        })
    }

    /// The access mode this service enforces.
    pub fn mode(&self) -> AccessMode {
        self.access.mode()
    }

    /// Creates or updates user `id` in a task of its own, which finishes the
    /// write and then invalidates the read cache even if this request is
    /// cancelled (its client went away, or it timed out).
    async fn save(
        &self,
        id: Uuid,
        check: RevocationCheck,
        update: Update,
    ) -> Result<UserProfile, StoreError> {
        let (store, cache) = (self.store.clone(), self.cache.clone());
        tokio::spawn(async move {
            let _invalidate = Written(cache, id);
            store.save_with(id, check, update).await
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
            self.access.signed_out(id, now);
        }
        Ok(removed)
    }

    /// `GET /users` for everyone, from the cache when it is current.
    async fn all_users(&self) -> Result<Bytes, Failure> {
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
        let mut body = self.store.list_json().await?;
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
    async fn shared_users(&self) -> Result<Bytes, Failure> {
        let kept = self
            .shared_list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some((state, bytes)) = kept {
            let now = self.store.state().await?;
            if now.as_deref() == Some(state.as_str()) {
                return Ok(bytes);
            }
        }
        let (iterable, state) = self.store.list_with_state().await?;
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
    async fn one_user(&self, user: Uuid) -> Result<Option<Bytes>, Failure> {
        if self.shared {
            let profile = self.store.get(user).await?;
            return profile.map(|p| to_json(&p)).transpose();
        }
        if let Some(bytes) = self.cache.user(user) {
            return Ok(Some(bytes));
        }
        let generation = self.cache.generation();
        match self.store.get(user).await? {
            Some(profile) => {
                let bytes = to_json(&profile)?;
                self.cache.put_user(generation, user, bytes.clone());
                Ok(Some(bytes))
            }
            None => Ok(None),
        }
    }

    /// The users `caller` may see.
    async fn visible_users(&self, caller: Caller) -> Result<JsonBody<Users>, Failure> {
        match caller.only() {
            None => self.all_users().await.map(JsonBody::Raw),
            // From the one-user cache, like `GET /users/{id}`.
            Some(me) => Ok(JsonBody::Raw(list_of(self.one_user(me).await?.as_deref()))),
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
        let id = match self.access.not_revoked(&*self.store, &principal).await {
            Ok(id) => id,
            Err(e) => return e.into(),
        };
        let check = RevocationCheck::Token(principal.identity.issued_at);
        let now = chrono::Utc::now();
        let update =
            Box::new(move |stored| profile::authenticated(stored, id, &principal.identity, now));
        match self.save(id, check, update).await {
            Ok(p) => AuthResponse::Ok(p.into()),
            Err(e) => Failure::from(e).into(),
        }
    }

    async fn users_disconnect_user(&self, credentials: Credentials, user: Uuid) -> Disconnect {
        let caller = match self.access.authorize(&*self.store, &credentials).await {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        if !caller.may_see(user) {
            return NotFound(user).into();
        }
        match self.remove(user).await {
            Ok(true) => {}
            Ok(false) => return NotFound(user).into(),
            Err(e) => return Failure::from(e).into(),
        }
        match self.visible_users(caller).await {
            Ok(users) => Disconnect::Ok(users),
            Err(e) => e.into(),
        }
    }

    async fn users_snapshot(&self, credentials: Credentials) -> Snapshot {
        let caller = match self.access.authorize(&*self.store, &credentials).await {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        match self.visible_users(caller).await {
            Ok(users) => Snapshot::Ok(users),
            Err(e) => e.into(),
        }
    }

    async fn users_specific_user_snapshot(&self, credentials: Credentials, user: Uuid) -> Specific {
        let caller = match self.access.authorize(&*self.store, &credentials).await {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        if !caller.may_see(user) {
            return NotFound(user).into();
        }
        match self.one_user(user).await {
            Ok(Some(bytes)) => Specific::Ok(JsonBody::Raw(bytes)),
            Ok(None) => NotFound(user).into(),
            Err(e) => e.into(),
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
