//! Storage of user profiles behind a trait, with two backends: SQLite (one
//! process, a file in the data directory) and PostgreSQL (several instances
//! sharing one database). [`Store`] picks one from a `--database` URL.

pub mod any;
pub mod postgres;
pub mod sqlite;

pub use any::{Database, Store};

use std::future::Future;

use users_api_server_stubs::types::UserProfile;
use uuid::Uuid;

/// The schema version this binary writes: the number of migrations, the same
/// numbering for every backend (SQLite records it in `PRAGMA user_version`,
/// PostgreSQL in the `users_schema` table).
pub const SCHEMA_VERSION: i64 = 2;

/// A storage failure. Reported to clients as a 503 when the database cannot be
/// reached ([`StoreError::is_unavailable`]), otherwise as a 500; details only in logs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// PostgreSQL reported an error.
    #[error("postgresql error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No database connection could be had in time (the server is down,
    /// restarting, or every pooled connection is busy).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database was migrated by a newer binary.
    #[error(
        "the database has schema version {found}, newer than the {supported} this binary knows; \
         run a newer users-service (never an older one) against it"
    )]
    TooNew {
        /// The version recorded in the database.
        found: i64,
        /// [`SCHEMA_VERSION`].
        supported: i64,
    },
    /// A stored profile could not be decoded or encoded.
    #[error("stored profile is not valid JSON: {0}")]
    Codec(#[from] serde_json::Error),
    /// The blocking task running the query failed.
    #[error("storage task failed: {0}")]
    Task(String),
}

impl StoreError {
    /// Whether the failure is the database being out of reach (connection
    /// refused or lost, server shutting down or starting): worth a 503 and a
    /// retry, not a 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Postgres(e) => postgres::is_unavailable(e),
            _ => false,
        }
    }
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

    /// Whether other processes may write this database (several service
    /// instances on one PostgreSQL). A shared store is not cached in memory:
    /// reads and revocation checks go to the database each time.
    fn shared(&self) -> bool {
        false
    }

    /// The revocation recorded for one user, if any: tokens issued at or
    /// before it (epoch seconds) are refused.
    fn revoked_at(&self, id: Uuid) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;

    /// Every user, oldest first, with a [`UserStore::state`] token of the
    /// committed state they were read in (`None` where the backend has none).
    fn list_with_state(
        &self,
    ) -> impl Future<Output = Result<(Vec<UserProfile>, Option<String>), StoreError>> + Send {
        async { Ok((self.list().await?, None)) }
    }

    /// For a shared store, a token that changes whenever any write, by any
    /// instance, commits or starts: a list read under an equal token is
    /// still current. `None` where the backend has none.
    fn state(&self) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        async { Ok(None) }
    }
}
