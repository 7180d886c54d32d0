//! The store a `--database` URL names: SQLite (the default, a file in the data
//! directory) or PostgreSQL (shared by several instances).

use std::path::{Path, PathBuf};

use users_api_server_stubs::types::UserProfile;
use uuid::Uuid;

use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::{
    ApplicationStore, RevocationCheck, RevocationStore, Rows, Saved, Sharing, StoreError, Update,
    UserStore,
};

/// Where the data lives, parsed from `--database` / `USERS_DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file (`sqlite:PATH`, `sqlite://PATH`; a relative path is
    /// taken inside the data directory).
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            // Never print a password.
            Self::Postgres(_) => f.write_str("postgres://…"),
        }
    }
}

/// A `--database` value that names no supported backend.
#[derive(Debug, thiserror::Error)]
#[error(
    "--database {0:?} is not a database URL: use sqlite:PATH (default: sqlite:users.db in the \
     data directory) or postgres://USER:PASSWORD@HOST:PORT/DB"
)]
pub struct BadDatabaseUrl(String);

impl Database {
    /// The file name of the default SQLite database in the data directory.
    pub const DEFAULT_SQLITE: &'static str = "users.db";

    /// Parses a URL; `None` means the default SQLite file in `data_dir`.
    pub fn parse(url: Option<&str>, data_dir: &Path) -> Result<Self, BadDatabaseUrl> {
        let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
            return Ok(Self::Sqlite(data_dir.join(Self::DEFAULT_SQLITE)));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .filter(|p| !p.is_empty())
            .ok_or_else(|| BadDatabaseUrl(url.to_string()))?;
        Ok(Self::Sqlite(data_dir.join(path)))
    }

    /// Opens the store (applying migrations). SQLite's directory is created
    /// private if missing. `pool_size` is PostgreSQL's, `sqlite_max_batch`
    /// SQLite's group-commit bound.
    pub async fn open(
        &self,
        pool_size: usize,
        sqlite_max_batch: usize,
    ) -> Result<Store, StoreError> {
        match self {
            Self::Sqlite(path) => {
                if let Some(dir) = path.parent() {
                    crate::files::create_private_dir(dir).map_err(|e| {
                        StoreError::Task(format!("creating directory {}: {e}", dir.display()))
                    })?;
                }
                let path = path.clone();
                tokio::task::spawn_blocking(move || SqliteStore::open_with(&path, sqlite_max_batch))
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))?
                    .map(Store::Sqlite)
            }
            Self::Postgres(url) => PgStore::connect(url, pool_size).await.map(Store::Postgres),
        }
    }
}

/// One of the backends, chosen at start-up.
#[derive(Clone)]
pub enum Store {
    /// SQLite in one file.
    Sqlite(SqliteStore),
    /// PostgreSQL, possibly shared with other instances.
    Postgres(PgStore),
}

impl Store {
    /// What it is connected to, for logs (no password).
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(s) => format!("sqlite:{}", s.path().display()),
            Self::Postgres(p) => p.display().to_string(),
        }
    }

    /// Whether other processes may write this database, which decides how
    /// reads may be kept in memory: a SQLite file has this
    /// process as its only writer; a PostgreSQL database may have any number
    /// of instances writing it.
    pub fn sharing(&self) -> Sharing {
        match self {
            Self::Sqlite(_) => Sharing::SingleWriter,
            Self::Postgres(_) => Sharing::Shared,
        }
    }

    /// Whether the database answers a trivial query (`SELECT 1`, no table
    /// read): the readiness check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(s) => s.ping().await,
            Self::Postgres(p) => p.ping().await,
        }
    }

    /// Called on clean shutdown: SQLite checkpoints its WAL; PostgreSQL
    /// connections simply close.
    pub fn close(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(s) => s.checkpoint(),
            Self::Postgres(_) => Ok(()),
        }
    }
}

/// Implements a store trait for [`Store`]: each method forwarded to
/// whichever backend this is, from one list of the trait's methods. The
/// traits have no default bodies, so a method left out of a list is a
/// compile error (E0046), never a silent fallback.
macro_rules! forward {
    ($trait:ident { $(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)* }) => {
        impl $trait for Store {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    match self {
                        Self::Sqlite(s) => s.$name($($arg),*).await,
                        Self::Postgres(s) => s.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

forward! {
    UserStore {
        fn save_with(&self, id: Uuid, check: RevocationCheck, update: Update) -> Result<Saved, StoreError>;
        fn rows(&self) -> Result<Rows, StoreError>;
        fn get(&self, id: Uuid) -> Result<Option<UserProfile>, StoreError>;
        fn remove(&self, id: Uuid, revoked_at: u64) -> Result<bool, StoreError>;
        fn state(&self) -> Result<Option<String>, StoreError>;
    }
}

forward! {
    RevocationStore {
        fn revocations(&self) -> Result<Vec<(Uuid, u64)>, StoreError>;
        fn revoked_at(&self, id: Uuid) -> Result<Option<u64>, StoreError>;
    }
}

forward! {
    ApplicationStore {
        fn add_application(&self, name: String) -> Result<Uuid, StoreError>;
        fn applications(&self) -> Result<Vec<(Uuid, String)>, StoreError>;
        fn is_application(&self, id: Uuid) -> Result<bool, StoreError>;
        fn remove_application(&self, id: Uuid) -> Result<bool, StoreError>;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_backend() {
        let dir = Path::new("/data");
        assert_eq!(
            Database::parse(None, dir).unwrap(),
            Database::Sqlite(dir.join("users.db"))
        );
        assert_eq!(
            Database::parse(Some("sqlite:other.db"), dir).unwrap(),
            Database::Sqlite(dir.join("other.db"))
        );
        assert_eq!(
            Database::parse(Some("sqlite:///abs/x.db"), dir).unwrap(),
            Database::Sqlite(PathBuf::from("/abs/x.db"))
        );
        assert!(matches!(
            Database::parse(Some("postgres://u:p@127.0.0.1:5432/db"), dir).unwrap(),
            Database::Postgres(_)
        ));
        assert!(Database::parse(Some("mysql://x"), dir).is_err());
        assert!(Database::parse(Some("sqlite:"), dir).is_err());
        let shown = format!(
            "{:?}",
            Database::parse(Some("postgres://u:secret@h/db"), dir)
        );
        assert!(!shown.contains("secret"), "{shown}");
    }
}
