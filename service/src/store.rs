//! Storage of user profiles behind a trait, with two backends: SQLite (one
//! process, a file in the data directory) and PostgreSQL (several instances
//! sharing one database). [`any::Store`] picks one from a `--database` URL.
//! Reads may be kept in memory by a decorator over these traits (the read
//! cache, a module built on this one).

pub mod any;
pub mod postgres;
pub mod sqlite;

use std::future::Future;

use axum::body::Bytes;
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
    /// The write was refused: a sign-out revoked the token it came from
    /// (see [`RevocationCheck`]).
    #[error("the token was revoked when its user signed out")]
    Revoked,
}

impl StoreError {
    /// Whether the failure is the database being out of reach (connection
    /// refused or lost, server shutting down or starting): worth a 503 and a
    /// retry, not a 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Postgres(e) => postgres_unavailable(e),
            _ => false,
        }
    }
}

/// Whether a PostgreSQL error means the server is out of reach rather than
/// that the query was wrong: a closed or refused connection, a connection
/// exception (SQLSTATE class 08) or an operator intervention (57P01-57P03:
/// the server shutting down, crashed, or not yet accepting connections).
pub fn postgres_unavailable(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    if e.is_closed() {
        return true;
    }
    if let Some(code) = e.code() {
        return code.code().starts_with("08")
            || [
                &SqlState::ADMIN_SHUTDOWN,
                &SqlState::CRASH_SHUTDOWN,
                &SqlState::CANNOT_CONNECT_NOW,
            ]
            .contains(&code);
    }
    // No SQLSTATE: the failure happened below the protocol (I/O).
    std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

/// Whether other processes may write a database: what decides how reads of
/// it may be kept in memory. Decided once, from the backend
/// ([`any::Store::sharing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// This process is the only writer (a SQLite file): it knows when
    /// anything changed.
    SingleWriter,
    /// Other instances may write at any time (PostgreSQL).
    Shared,
}

/// A profile as a write stored it, with the JSON text it was stored as:
/// serialized once, that text is also the sign-in's response body (the
/// same bytes `axum::Json` would send for the profile).
#[derive(Debug, Clone)]
pub struct Saved {
    /// What was stored.
    pub profile: UserProfile,
    /// Its compact JSON, as written to the database.
    pub json: Bytes,
}

impl Saved {
    /// `profile` with `json`, its [`Saved::encode`]d text.
    pub fn new(profile: UserProfile, json: String) -> Self {
        Self {
            profile,
            json: Bytes::from(json),
        }
    }

    /// The text a profile is stored as: serde_json's compact encoding.
    pub fn encode(profile: &UserProfile) -> Result<String, serde_json::Error> {
        serde_json::to_string(profile)
    }
}

/// Computes the new profile from the stored one (`None` for a new user).
pub type Update = Box<dyn FnOnce(Option<UserProfile>) -> UserProfile + Send>;

/// Whether a write must be refused when a sign-out revoked the token it
/// comes from, checked inside the write's own transaction (so that a
/// sign-in racing a sign-out never brings the user back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationCheck {
    /// A sign-in with a token issued at this time (epoch seconds; `None`
    /// when the token says nothing, which any revocation covers).
    Token(Option<u64>),
    /// A write that no token made (tests, operator tools): never refused.
    Skip,
}

/// Whether a revocation recorded at `revoked_at` covers a token issued at
/// `issued_at` (one-second resolution: a token issued in the second of the
/// sign-out is revoked; one without `iat` always is).
pub fn revokes(revoked_at: Option<u64>, issued_at: Option<u64>) -> bool {
    revoked_at.is_some_and(|at| issued_at.is_none_or(|iat| iat <= at))
}

/// Where user profiles live. Every write is durable when its future resolves.
///
/// One of three traits by concern (with [`RevocationStore`] and
/// [`ApplicationStore`]; [`Storage`] is all three).
///
/// No method of the three has a default body: [`any::Store`] forwards every
/// one to a backend and the read-cache decorator wraps every one, and a
/// method either forgot must be a compile error, not a silent fallback to a
/// slower or different behaviour.
///
/// Stores deal in profiles only: the HTTP bodies made of them are written
/// by the modules above.
pub trait UserStore: Send + Sync + 'static {
    /// Creates or updates the user `id` atomically, returning what was
    /// stored and its text ([`Saved`]); refused with [`StoreError::Revoked`] when `check` says the
    /// token behind the write was revoked (checked in the same transaction).
    fn save_with(
        &self,
        id: Uuid,
        check: RevocationCheck,
        update: Update,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;

    /// Every user, oldest first, read one row at a time (see [`Rows`]):
    /// the profiles are never all decoded at once.
    fn rows(&self) -> impl Future<Output = Result<Rows, StoreError>> + Send;

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

    /// For a database other processes may write, a token that changes
    /// whenever any write, by any instance, commits or starts: rows read
    /// under an equal token ([`Rows::state`]) are still current. `None`
    /// where the backend has none (SQLite: this process is its only writer).
    fn state(&self) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
}

/// Where sign-out revocations are kept (they are recorded by
/// [`UserStore::remove`], in the removal's transaction).
pub trait RevocationStore: Send + Sync + 'static {
    /// Every recorded revocation: user id and the time it applies up to.
    fn revocations(&self) -> impl Future<Output = Result<Vec<(Uuid, u64)>, StoreError>> + Send;

    /// The revocation recorded for one user, if any: tokens issued at or
    /// before it (epoch seconds) are refused.
    fn revoked_at(&self, id: Uuid) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;
}

/// The operator's registry of applications (`applications` mode).
pub trait ApplicationStore: Send + Sync + 'static {
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

/// Everything the service needs from its database: users, revocations and
/// applications, each its own trait.
pub trait Storage: UserStore + RevocationStore + ApplicationStore {}

impl<T: UserStore + RevocationStore + ApplicationStore> Storage for T {}

/// How many decoded rows may wait between a backend reading them and the
/// consumer of [`Rows`]: a bound on the memory a list read holds.
const ROW_BUFFER: usize = 64;

/// Every user, oldest first, as the backend reads them: one profile at a
/// time through a bounded channel, so that reading the whole table never
/// holds more than [`ROW_BUFFER`] decoded profiles. Dropping it stops the read.
#[derive(Debug)]
pub struct Rows {
    state: Option<String>,
    rows: tokio::sync::mpsc::Receiver<Result<UserProfile, StoreError>>,
}

/// The backend's end of [`Rows`].
pub type RowSender = tokio::sync::mpsc::Sender<Result<UserProfile, StoreError>>;

impl Rows {
    /// A channel for rows read under `state` (see [`UserStore::state`]).
    pub fn channel(state: Option<String>) -> (RowSender, Self) {
        let (sender, rows) = tokio::sync::mpsc::channel(ROW_BUFFER);
        (sender, Self { state, rows })
    }

    /// The [`UserStore::state`] the rows were read in, if the backend has one.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// The next user, `None` after the last one. A failed read ends with
    /// its error.
    pub async fn next(&mut self) -> Option<Result<UserProfile, StoreError>> {
        self.rows.recv().await
    }

    /// Every remaining user at once (tests and small tables).
    pub async fn collect(mut self) -> Result<Vec<UserProfile>, StoreError> {
        let mut users = Vec::new();
        while let Some(user) = self.next().await {
            users.push(user?);
        }
        Ok(users)
    }
}
