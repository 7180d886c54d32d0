//! A store decorator that keeps reads in memory: [`Cached`] wraps any
//! [`Storage`] and is one itself, adding the response bodies of the two
//! reads ([`Cached::list_body`], [`Cached::user_body`]).
//!
//! Decoding every stored profile and encoding it again on each read was most
//! of the cost of a read (docs/PERFORMANCE.md), so bodies are kept, by one
//! of two strategies chosen once from the store's [`Sharing`]:
//! [`single`] for a database this process alone writes (everything kept
//! until a write here), [`shared`] for one other instances write too (the
//! list kept while the database's state is unchanged, the rest read
//! through).

pub mod shared;
pub mod single;

use std::sync::Arc;

use axum::body::Bytes;
use users_api_server_stubs::types::UserProfile;
use uuid::Uuid;

use crate::store::{
    ApplicationStore, RevocationCheck, RevocationStore, Rows, Saved, Sharing, Storage, StoreError,
    Update, UserStore,
};

/// A store with its reads kept in memory as its [`Sharing`] allows.
pub struct Cached<S> {
    store: Arc<S>,
    strategy: Strategy,
}

/// Clones share the store and what is kept.
impl<S> Clone for Cached<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            strategy: self.strategy.clone(),
        }
    }
}

/// How reads are kept.
#[derive(Clone)]
enum Strategy {
    /// This process is the only writer.
    Single(Arc<single::Single>),
    /// Other instances write too.
    Shared(Arc<shared::Shared>),
}

impl<S: Storage> Cached<S> {
    /// Wraps `store`, loading the recorded sign-out revocations when this
    /// process is its only writer.
    pub async fn open(store: S, sharing: Sharing) -> Result<Self, StoreError> {
        let strategy = match sharing {
            Sharing::SingleWriter => {
                Strategy::Single(Arc::new(single::Single::new(store.revocations().await?)))
            }
            Sharing::Shared => Strategy::Shared(Arc::default()),
        };
        Ok(Self {
            store: Arc::new(store),
            strategy,
        })
    }

    /// The body of `GET /users` listing everyone.
    ///
    /// A read of the database runs as a boxed future, here and in the
    /// other reads: its future (a PostgreSQL query's, about 2 KB) would
    /// otherwise be part of every request's, kept bodies included, and be
    /// copied each time the request's future moves (issue 25).
    pub async fn list_body(&self) -> Result<Bytes, StoreError> {
        match &self.strategy {
            Strategy::Single(single) => match single.kept_list() {
                Some(bytes) => Ok(bytes),
                None => Box::pin(single.list(&*self.store)).await,
            },
            Strategy::Shared(shared) => Box::pin(shared.list(&*self.store)).await,
        }
    }

    /// The body of `GET /users/{id}`, if the user exists.
    pub async fn user_body(&self, id: Uuid) -> Result<Option<Bytes>, StoreError> {
        match &self.strategy {
            Strategy::Single(single) => match single.kept_user(id) {
                Some(bytes) => Ok(Some(bytes)),
                None => Box::pin(single.user(&*self.store, id)).await,
            },
            Strategy::Shared(shared) => Box::pin(shared.user(&*self.store, id)).await,
        }
    }

    /// The kept state a write must invalidate once it has finished.
    fn single(&self) -> Option<Arc<single::Single>> {
        match &self.strategy {
            Strategy::Single(single) => Some(single.clone()),
            Strategy::Shared(_) => None,
        }
    }
}

/// Writes run in a task of their own, which finishes the write and then
/// invalidates what was kept even if the request is cancelled (its client
/// went away, or it timed out).
impl<S: Storage> UserStore for Cached<S> {
    async fn save_with(
        &self,
        id: Uuid,
        check: RevocationCheck,
        update: Update,
    ) -> Result<Saved, StoreError> {
        let (store, single) = (self.store.clone(), self.single());
        tokio::spawn(async move {
            let _invalidate = single.map(|s| single::Written(s, id));
            store.save_with(id, check, update).await
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    async fn rows(&self) -> Result<Rows, StoreError> {
        self.store.rows().await
    }

    async fn get(&self, id: Uuid) -> Result<Option<UserProfile>, StoreError> {
        self.store.get(id).await
    }

    /// Also records the revocation in memory, when it is kept there.
    async fn remove(&self, id: Uuid, revoked_at: u64) -> Result<bool, StoreError> {
        let (store, single) = (self.store.clone(), self.single());
        tokio::spawn(async move {
            let _invalidate = single.clone().map(|s| single::Written(s, id));
            let removed = store.remove(id, revoked_at).await?;
            if let (true, Some(single)) = (removed, single) {
                single.signed_out(id, revoked_at);
            }
            Ok(removed)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    async fn state(&self) -> Result<Option<String>, StoreError> {
        self.store.state().await
    }
}

impl<S: Storage> RevocationStore for Cached<S> {
    async fn revocations(&self) -> Result<Vec<(Uuid, u64)>, StoreError> {
        self.store.revocations().await
    }

    /// From memory when this process is the only writer; otherwise another
    /// instance may have recorded one a moment ago.
    async fn revoked_at(&self, id: Uuid) -> Result<Option<u64>, StoreError> {
        match &self.strategy {
            Strategy::Single(single) => Ok(single.revoked_at(id)),
            Strategy::Shared(_) => Box::pin(self.store.revoked_at(id)).await,
        }
    }
}

impl<S: Storage> ApplicationStore for Cached<S> {
    async fn add_application(&self, name: String) -> Result<Uuid, StoreError> {
        self.store.add_application(name).await
    }

    async fn applications(&self) -> Result<Vec<(Uuid, String)>, StoreError> {
        self.store.applications().await
    }

    /// Boxed, as the reads are (see [`Cached::list_body`]): every request
    /// of the `applications` mode asks.
    async fn is_application(&self, id: Uuid) -> Result<bool, StoreError> {
        Box::pin(self.store.is_application(id)).await
    }

    async fn remove_application(&self, id: Uuid) -> Result<bool, StoreError> {
        self.store.remove_application(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    /// Signs in user `n` straight through the store.
    async fn sign_in<S: Storage>(store: &Cached<S>, n: u32) -> Uuid {
        let identity = crate::auth::Identity {
            subject: format!("github|{n}"),
            name: Some(format!("User {n}")),
            ..Default::default()
        };
        let id = crate::auth::identity::user_id(&identity);
        let now = chrono::Utc::now();
        let update =
            Box::new(move |s| crate::profile::authenticated(s, id, &identity, now)) as Update;
        store
            .save_with(id, RevocationCheck::Skip, update)
            .await
            .unwrap();
        id
    }

    /// The bodies as the store holds them now, read around the cache.
    async fn fresh<S: Storage>(store: &Cached<S>, id: Uuid) -> (Bytes, Option<Bytes>) {
        let list = crate::wire::list(store.store.rows().await.unwrap())
            .await
            .unwrap();
        let user = store.store.get(id).await.unwrap();
        (list, user.map(|p| crate::wire::profile(&p).unwrap()))
    }

    #[tokio::test]
    async fn kept_bodies_follow_every_write() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = SqliteStore::open(&dir.path().join("users.db")).unwrap();
        let store = Cached::open(sqlite, Sharing::SingleWriter).await.unwrap();
        assert_eq!(store.list_body().await.unwrap(), "{}");
        let a = sign_in(&store, 1).await;
        // Read twice: the second answer comes from what was kept.
        for _ in 0..2 {
            let (list, user) = fresh(&store, a).await;
            assert_eq!(store.list_body().await.unwrap(), list);
            assert_eq!(store.user_body(a).await.unwrap(), user);
        }
        let b = sign_in(&store, 2).await;
        sign_in(&store, 1).await; // `updated` moves
        let (list, user) = fresh(&store, a).await;
        assert_eq!(store.list_body().await.unwrap(), list);
        assert_eq!(store.user_body(a).await.unwrap(), user);
        assert_eq!(store.revoked_at(b).await.unwrap(), None);
        assert!(store.remove(b, 1234).await.unwrap());
        assert_eq!(store.user_body(b).await.unwrap(), None);
        assert_eq!(store.list_body().await.unwrap(), fresh(&store, a).await.0);
        assert_eq!(store.revoked_at(b).await.unwrap(), Some(1234));
        // What was kept agrees with the database read afresh.
        let reopened = Cached::open(store.store.as_ref().clone(), Sharing::SingleWriter)
            .await
            .unwrap();
        assert_eq!(reopened.revoked_at(b).await.unwrap(), Some(1234));
    }
}
