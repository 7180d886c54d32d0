//! Keeping reads of a database this process alone writes
//! ([`Sharing::SingleWriter`](crate::store::Sharing)): response bodies and
//! sign-out revocations stay in memory until a write here changes them.
//!
//! Correctness rests on two rules. A write invalidates (bumping the
//! generation, dropping the list and the written user) only after it has
//! finished, from a task that runs to completion even if its request is
//! cancelled ([`Written`]). A read fills the cache only if no write finished
//! while it was reading. So an entry present always matches what is
//! committed, as long as this process is the only writer of its database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use uuid::Uuid;

use crate::store::{StoreError, UserStore};

/// The kept bodies and revocations.
pub struct Single {
    kept: Mutex<Kept>,
    /// One rebuild of the (possibly large) list at a time.
    rebuild: tokio::sync::Mutex<()>,
}

struct Kept {
    generation: u64,
    list: Option<Bytes>,
    users: HashMap<Uuid, Bytes>,
    /// Per user id: tokens issued at or before this time (epoch seconds)
    /// are refused. Loaded at start-up, kept current by [`Single::signed_out`].
    revoked: HashMap<Uuid, u64>,
}

impl Single {
    /// Starts empty but for the recorded revocations.
    pub fn new(revocations: Vec<(Uuid, u64)>) -> Self {
        Self {
            kept: Mutex::new(Kept {
                generation: 0,
                list: None,
                users: HashMap::new(),
                revoked: revocations.into_iter().collect(),
            }),
            rebuild: tokio::sync::Mutex::new(()),
        }
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The body of `GET /users`, if kept.
    pub fn kept_list(&self) -> Option<Bytes> {
        self.kept().list.clone()
    }

    /// One user's body, if kept.
    pub fn kept_user(&self, id: Uuid) -> Option<Bytes> {
        self.kept().users.get(&id).cloned()
    }

    /// The body of `GET /users`, kept or read from `store` (and kept).
    pub async fn list<S: UserStore>(&self, store: &S) -> Result<Bytes, StoreError> {
        if let Some(bytes) = self.kept_list() {
            return Ok(bytes);
        }
        let _one_at_a_time = self.rebuild.lock().await;
        let generation = {
            let kept = self.kept();
            if let Some(bytes) = kept.list.clone() {
                return Ok(bytes);
            }
            kept.generation
        };
        let bytes = crate::wire::list(store.rows().await?).await?;
        let mut kept = self.kept();
        if kept.generation == generation {
            kept.list = Some(bytes.clone());
        }
        Ok(bytes)
    }

    /// One user's body, kept or read from `store` (and kept).
    pub async fn user<S: UserStore>(
        &self,
        store: &S,
        id: Uuid,
    ) -> Result<Option<Bytes>, StoreError> {
        let generation = {
            let kept = self.kept();
            if let Some(bytes) = kept.users.get(&id) {
                return Ok(Some(bytes.clone()));
            }
            kept.generation
        };
        let Some(profile) = store.get(id).await? else {
            return Ok(None);
        };
        let bytes = crate::wire::profile(&profile)?;
        let mut kept = self.kept();
        if kept.generation == generation {
            kept.users.insert(id, bytes.clone());
        }
        Ok(Some(bytes))
    }

    /// The revocation of user `id`, if any.
    pub fn revoked_at(&self, id: Uuid) -> Option<u64> {
        self.kept().revoked.get(&id).copied()
    }

    /// Records that user `id` signed out at `at` (the store holds it already).
    pub fn signed_out(&self, id: Uuid, at: u64) {
        let mut kept = self.kept();
        let entry = kept.revoked.entry(id).or_default();
        *entry = (*entry).max(at);
    }

    /// Called after a write to `id` has finished, successfully or not.
    fn written(&self, id: Uuid) {
        let mut kept = self.kept();
        kept.generation += 1;
        kept.list = None;
        kept.users.remove(&id);
    }
}

/// Invalidates the kept bodies of a user when dropped: at the end of a
/// write's task, however it ended.
pub struct Written(pub Arc<Single>, pub Uuid);

impl Drop for Written {
    fn drop(&mut self) {
        self.0.written(self.1);
    }
}
