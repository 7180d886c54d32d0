//! Storage of user profiles behind a trait, so other backends can be added.

pub mod sqlite;

use std::future::Future;

use users_api_server_stubs::types::UserProfile;
use uuid::Uuid;

/// A storage failure. Always reported to clients as a 500, with details only in logs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// A stored profile could not be decoded or encoded.
    #[error("stored profile is not valid JSON: {0}")]
    Codec(#[from] serde_json::Error),
    /// The blocking task running the query failed.
    #[error("storage task failed: {0}")]
    Task(String),
}

/// Computes the new profile from the stored one (`None` for a new user).
pub type Update = Box<dyn FnOnce(Option<UserProfile>) -> UserProfile + Send>;

/// Where user profiles live. Every write is durable when its future resolves.
pub trait UserStore: Send + Sync + 'static {
    /// Creates or updates the user `id` atomically, returning what was stored.
    fn save_with(
        &self,
        id: Uuid,
        update: Update,
    ) -> impl Future<Output = Result<UserProfile, StoreError>> + Send;

    /// Every user, oldest first.
    fn list(&self) -> impl Future<Output = Result<Vec<UserProfile>, StoreError>> + Send;

    /// One user, if present.
    fn get(&self, id: Uuid)
    -> impl Future<Output = Result<Option<UserProfile>, StoreError>> + Send;

    /// Removes a user and, in the same transaction, records that tokens for
    /// it issued at or before `revoked_at` (seconds since the epoch) are
    /// refused; returns whether it existed.
    fn remove(
        &self,
        id: Uuid,
        revoked_at: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Every recorded revocation: user id and the time it applies up to.
    fn revocations(&self) -> impl Future<Output = Result<Vec<(Uuid, u64)>, StoreError>> + Send;

    /// Registers an application under a new random id, which it returns.
    fn add_application(
        &self,
        name: String,
    ) -> impl Future<Output = Result<Uuid, StoreError>> + Send;

    /// Registered applications: id and name, oldest first.
    fn applications(&self) -> impl Future<Output = Result<Vec<(Uuid, String)>, StoreError>> + Send;

    /// Whether `id` is a registered application.
    fn is_application(&self, id: Uuid) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes an application; returns whether it existed.
    fn remove_application(&self, id: Uuid)
    -> impl Future<Output = Result<bool, StoreError>> + Send;
}
