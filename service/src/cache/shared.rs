//! Keeping reads of a database other instances write too
//! ([`Sharing::Shared`](crate::store::Sharing)): a write there must show on
//! the next read here. Single-user reads go to the database; the list is kept
//! only with the database's state ([`UserStore::state`]) it was read in,
//! checked (one small query) before each use.

use std::sync::Mutex;

use axum::body::Bytes;
use uuid::Uuid;

use crate::store::{StoreError, UserStore};

/// The list body kept with the state it was read in.
#[derive(Default)]
pub struct Shared {
    list: Mutex<Option<(String, Bytes)>>,
}

impl Shared {
    /// The body of `GET /users`: the kept one if the database's state is
    /// still the one it was read in, else a fresh read (kept in turn).
    pub async fn list<S: UserStore>(&self, store: &S) -> Result<Bytes, StoreError> {
        let kept = self.list.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some((state, bytes)) = kept
            && store.state().await?.as_deref() == Some(state.as_str())
        {
            return Ok(bytes);
        }
        let rows = store.rows().await?;
        let state = rows.state().map(str::to_owned);
        let bytes = crate::wire::list(rows).await?;
        if let Some(state) = state {
            *self.list.lock().unwrap_or_else(|e| e.into_inner()) = Some((state, bytes.clone()));
        }
        Ok(bytes)
    }

    /// One user's body, always from the database.
    pub async fn user<S: UserStore>(
        &self,
        store: &S,
        id: Uuid,
    ) -> Result<Option<Bytes>, StoreError> {
        match store.get(id).await? {
            Some(profile) => Ok(Some(crate::wire::profile(&profile)?)),
            None => Ok(None),
        }
    }
}
