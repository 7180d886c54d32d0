//! Storage of user profiles behind a trait, with two backends: SQLite (one
//! process, a file in the data directory) and PostgreSQL (several instances
//! sharing one database). [`any::Store`] picks one from a `--database` URL.

pub mod any;
pub mod postgres;
pub mod sqlite;

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
/// No method of the three has a default body: [`any::Store`] forwards every one to a backend,
/// and a forwarding it forgot must be a compile error, not a silent
/// fallback to a slower or different behaviour.
pub trait UserStore: Send + Sync + 'static {
    /// Creates or updates the user `id` atomically, returning what was
    /// stored; refused with [`StoreError::Revoked`] when `check` says the
    /// token behind the write was revoked (checked in the same transaction).
    fn save_with(
        &self,
        id: Uuid,
        check: RevocationCheck,
        update: Update,
    ) -> impl Future<Output = Result<UserProfile, StoreError>> + Send;

    /// Every user, oldest first.
    fn list(&self) -> impl Future<Output = Result<Vec<UserProfile>, StoreError>> + Send;

    /// Every user, oldest first, as the JSON body of `GET /users` (see
    /// [`ListJson`]), built so that the profiles are never all decoded at once
    /// where the backend can read rows one at a time.
    fn list_json(&self) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;

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

    /// Whether other processes may write this database (several service
    /// instances on one PostgreSQL). A shared store is not cached in memory:
    /// reads and revocation checks go to the database each time.
    fn shared(&self) -> bool;

    /// Every user, oldest first, with a [`UserStore::state`] token of the
    /// committed state they were read in (`None` where the backend has none).
    fn list_with_state(
        &self,
    ) -> impl Future<Output = Result<(Vec<UserProfile>, Option<String>), StoreError>> + Send;

    /// For a shared store, a token that changes whenever any write, by any
    /// instance, commits or starts: a list read under an equal token is
    /// still current. `None` where the backend has none.
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

/// The body of `GET /users` built one profile at a time: the same bytes as
/// serializing `Users { iterable, schema: None }` from the whole list.
#[derive(Debug, Default)]
pub struct ListJson {
    body: Vec<u8>,
    count: usize,
}

impl ListJson {
    /// Appends one profile.
    pub fn push(&mut self, profile: &UserProfile) -> Result<(), StoreError> {
        self.separate();
        serde_json::to_writer(&mut self.body, profile)?;
        Ok(())
    }

    /// Appends one profile already serialized as `axum::Json` would.
    pub fn push_serialized(&mut self, profile: &[u8]) {
        self.separate();
        self.body.extend_from_slice(profile);
    }

    /// Opens the list before the first profile, or separates the next one.
    fn separate(&mut self) {
        let separator: &[u8] = if self.count == 0 {
            b"{\"iterable\":["
        } else {
            b","
        };
        self.body.extend_from_slice(separator);
        self.count += 1;
    }

    /// The finished body (`{}` when there is nobody, as `iterable` is
    /// skipped when empty).
    pub fn finish(mut self) -> Vec<u8> {
        if self.count == 0 {
            return b"{}".to_vec();
        }
        self.body.extend_from_slice(b"]}");
        self.body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use users_api_server_stubs::types::Users;

    /// A profile as the service stores it.
    const PROFILE: &str = r#"{"aesthetics": {"font": {"size": 14}, "theme": {"dark": false}}, "created": {"readable": "November 29, 2026 at 06:24 UTC", "value": "2026-11-29T06:24:12.760186774Z"}, "email": "r@example.com", "id": "c6ff20f9-8fd1-5d05-930e-4943ce35ffbc", "name": "Reader \"quoted\" \u00e9", "providers": {"iterable": [{"created": {"readable": "November 29, 2026 at 06:24 UTC", "value": "2026-11-29T06:24:12.760186774Z"}, "isSocial": true, "type": "github", "updated": {"readable": "November 29, 2026 at 06:24 UTC", "value": "2026-11-29T06:24:12.760186774Z"}, "user_id": "reader"}]}, "schema": {"migration": 1, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}, "updated": {"readable": "November 29, 2026 at 06:24 UTC", "value": "2026-11-29T06:24:12.760186774Z"}, "username": "reader"}"#;

    #[test]
    fn a_list_built_row_by_row_is_the_serialized_list() {
        let profile: UserProfile = serde_json::from_str(PROFILE).unwrap();
        for n in [0, 1, 3] {
            let iterable = vec![profile.clone(); n];
            let mut body = ListJson::default();
            for p in &iterable {
                body.push(p).unwrap();
            }
            let whole = serde_json::to_vec(&Users {
                iterable,
                schema: None,
            })
            .unwrap();
            assert_eq!(body.finish(), whole, "{n} users");
        }
    }
}
