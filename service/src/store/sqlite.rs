//! SQLite storage: one file in the data directory, WAL, durable commits.
//! Writes go through one writer thread that commits concurrent writes
//! together ([`writer`]); reads use a few connections of their own; a
//! thread of its own copies the WAL into the database file ([`checkpoint`]).

pub mod checkpoint;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use users_api_server_stubs::types::UserProfile;
use uuid::Uuid;

use super::{
    ApplicationStore, RevocationCheck, RevocationStore, Rows, SCHEMA_VERSION, Saved, StoreError,
    Update, UserStore, revokes,
};
use checkpoint::Checkpointer;
use writer::Writer;
pub use writer::{MAX_BATCH, WriteStats};

/// Schema migrations, applied in order; `PRAGMA user_version` records progress.
/// Migration `n` (from 1) gives schema version `n` on every backend.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE users (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        id      TEXT NOT NULL UNIQUE,
        profile TEXT NOT NULL
    );",
    "CREATE TABLE revocations (
        id         TEXT PRIMARY KEY,
        revoked_at INTEGER NOT NULL
    );
    CREATE TABLE applications (
        seq  INTEGER PRIMARY KEY AUTOINCREMENT,
        id   TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL
    );",
];

const _: () = assert!(MIGRATIONS.len() as i64 == SCHEMA_VERSION);

/// Number of read connections (WAL lets readers run beside the writer).
const READERS: usize = 4;

/// Page cache of each read connection, in KiB (SQLite's default is 2 MiB).
/// Reads are served from the service's own caches first, and the
/// operating system's page cache still holds the file, so a small cache per
/// reader keeps the B-tree's inner pages without holding a copy of the
/// table after a full scan (`GET /users`).
const READER_CACHE_KIB: i64 = 256;
/// Page cache of the write connection, in KiB: enough for the inner pages
/// of both indexes at tens of thousands of users.
const WRITER_CACHE_KIB: i64 = 1024;

/// A SQLite-backed [`UserStore`].
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Writer,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Copies the WAL into the database file beside the commits.
    _checkpointer: Checkpointer,
}

fn open_connection(path: &Path, cache_kib: i64) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open(path)?;
    // Negative: a size in KiB rather than in pages.
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // WAL for concurrent readers; FULL sync so an acknowledged write survives
    // a crash of the process or the machine.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies migrations,
    /// with group commit of up to [`MAX_BATCH`] writes.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, MAX_BATCH)
    }

    /// Like [`SqliteStore::open`], committing at most `max_batch` writes
    /// together (1: each write on its own).
    pub fn open_with(path: &Path, max_batch: usize) -> Result<Self, StoreError> {
        crate::files::private_database(path).map_err(|e| StoreError::Task(e.to_string()))?;
        let mut writer = open_connection(path, WRITER_CACHE_KIB)?;
        migrate(&mut writer)?;
        // Checkpoints are the checkpointer's; the writer's only bound the WAL.
        writer.pragma_update(None, "wal_autocheckpoint", checkpoint::WAL_LIMIT_PAGES)?;
        let checkpointer = Checkpointer::start(open_connection(path, READER_CACHE_KIB)?)
            .map_err(|e| StoreError::Task(format!("starting the checkpoint thread: {e}")))?;
        let readers = (0..READERS)
            .map(|_| open_connection(path, READER_CACHE_KIB).map(Mutex::new))
            .collect::<Result<_, _>>()?;
        let writer = Writer::start(writer, max_batch)
            .map_err(|e| StoreError::Task(format!("starting the writer thread: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer,
                readers,
                next_reader: AtomicUsize::new(0),
                _checkpointer: checkpointer,
            }),
        })
    }

    /// Runs `SELECT 1` on a read connection (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.blocking(|inner| {
            inner.reader().query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Checkpoints the WAL into the main file and logs the batch sizes of
    /// group commit; called on clean shutdown.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        tracing::info!("group commit {}", self.write_stats());
        let conn = self.inner.reader();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    /// How many writes each transaction carried so far.
    pub fn write_stats(&self) -> WriteStats {
        self.inner.writer.stats()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

impl Inner {
    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        self.readers[i].lock().expect("reader lock poisoned")
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in (0i64..).zip(MIGRATIONS).skip(version.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn parse_id(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::Task(format!("stored id is not a UUID: {e}")))
}

fn decode(text: String) -> Result<UserProfile, StoreError> {
    Ok(serde_json::from_str(&text)?)
}

impl UserStore for SqliteStore {
    async fn save_with(
        &self,
        id: Uuid,
        check: RevocationCheck,
        update: Update,
    ) -> Result<Saved, StoreError> {
        self.inner
            .writer
            .write(move |conn| {
                let key = id.to_string();
                if let RevocationCheck::Token(issued_at) = check {
                    let at: Option<i64> = conn
                        .prepare_cached("SELECT revoked_at FROM revocations WHERE id = ?1")?
                        .query_row([&key], |r| r.get(0))
                        .optional()?;
                    let at = at.map(|at| u64::try_from(at).unwrap_or(0));
                    if revokes(at, issued_at) {
                        return Err(StoreError::Revoked);
                    }
                }
                let current: Option<String> = conn
                    .prepare_cached("SELECT profile FROM users WHERE id = ?1")?
                    .query_row([&key], |r| r.get(0))
                    .optional()?;
                let exists = current.is_some();
                let profile = update(current.map(decode).transpose()?);
                let text = Saved::encode(&profile)?;
                let sql = if exists {
                    "UPDATE users SET profile = ?2 WHERE id = ?1"
                } else {
                    "INSERT INTO users (id, profile) VALUES (?1, ?2)"
                };
                conn.prepare_cached(sql)?.execute(params![key, text])?;
                Ok(Saved::new(profile, text))
            })
            .await
    }

    /// A blocking task reads the table in order on one read connection and
    /// hands each decoded profile to the channel as it goes.
    async fn rows(&self) -> Result<Rows, StoreError> {
        let (sender, rows) = Rows::channel(None);
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let read = || -> Result<(), StoreError> {
                let conn = inner.reader();
                let mut stmt = conn.prepare_cached("SELECT profile FROM users ORDER BY seq")?;
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    if sender.blocking_send(decode(row.get(0)?)).is_err() {
                        break; // The reader went away.
                    }
                }
                Ok(())
            };
            if let Err(e) = read() {
                let _ = sender.blocking_send(Err(e));
            }
        });
        Ok(rows)
    }

    async fn get(&self, id: Uuid) -> Result<Option<UserProfile>, StoreError> {
        self.blocking(move |inner| {
            let conn = inner.reader();
            let mut stmt = conn.prepare_cached("SELECT profile FROM users WHERE id = ?1")?;
            let text: Option<String> = stmt.query_row([id.to_string()], |r| r.get(0)).optional()?;
            text.map(decode).transpose()
        })
        .await
    }

    async fn remove(&self, id: Uuid, revoked_at: u64) -> Result<bool, StoreError> {
        self.inner
            .writer
            .write(move |conn| {
                let key = id.to_string();
                let n = conn
                    .prepare_cached("DELETE FROM users WHERE id = ?1")?
                    .execute([&key])?;
                if n > 0 {
                    conn.prepare_cached(
                        "INSERT INTO revocations (id, revoked_at) VALUES (?1, ?2)
                         ON CONFLICT (id) DO UPDATE
                         SET revoked_at = max(revoked_at, excluded.revoked_at)",
                    )?
                    .execute(params![key, i64::try_from(revoked_at).unwrap_or(i64::MAX)])?;
                }
                Ok(n > 0)
            })
            .await
    }

    /// No state token: the only writer is this process, which knows when it wrote.
    async fn state(&self) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
}

impl RevocationStore for SqliteStore {
    async fn revocations(&self) -> Result<Vec<(Uuid, u64)>, StoreError> {
        self.blocking(|inner| {
            let conn = inner.reader();
            let mut stmt = conn.prepare_cached("SELECT id, revoked_at FROM revocations")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            rows.map(|r| {
                let (id, at) = r?;
                Ok((parse_id(&id)?, u64::try_from(at).unwrap_or(0)))
            })
            .collect()
        })
        .await
    }

    async fn revoked_at(&self, id: Uuid) -> Result<Option<u64>, StoreError> {
        self.blocking(move |inner| {
            let conn = inner.reader();
            let mut stmt =
                conn.prepare_cached("SELECT revoked_at FROM revocations WHERE id = ?1")?;
            let at: Option<i64> = stmt.query_row([id.to_string()], |r| r.get(0)).optional()?;
            Ok(at.map(|at| u64::try_from(at).unwrap_or(0)))
        })
        .await
    }
}

impl ApplicationStore for SqliteStore {
    async fn add_application(&self, name: String) -> Result<Uuid, StoreError> {
        self.inner
            .writer
            .write(move |conn| {
                let id = Uuid::new_v4();
                conn.prepare_cached("INSERT INTO applications (id, name) VALUES (?1, ?2)")?
                    .execute(params![id.to_string(), name])?;
                Ok(id)
            })
            .await
    }

    async fn applications(&self) -> Result<Vec<(Uuid, String)>, StoreError> {
        self.blocking(|inner| {
            let conn = inner.reader();
            let mut stmt = conn.prepare_cached("SELECT id, name FROM applications ORDER BY seq")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            rows.map(|r| {
                let (id, name) = r?;
                Ok((parse_id(&id)?, name))
            })
            .collect()
        })
        .await
    }

    async fn is_application(&self, id: Uuid) -> Result<bool, StoreError> {
        self.blocking(move |inner| {
            let conn = inner.reader();
            let mut stmt = conn.prepare_cached("SELECT 1 FROM applications WHERE id = ?1")?;
            Ok(stmt.exists([id.to_string()])?)
        })
        .await
    }

    async fn remove_application(&self, id: Uuid) -> Result<bool, StoreError> {
        self.inner
            .writer
            .write(move |conn| {
                let n = conn
                    .prepare_cached("DELETE FROM applications WHERE id = ?1")?
                    .execute([id.to_string()])?;
                Ok(n > 0)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rows_come_oldest_first_and_updates_keep_their_place() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("users.db")).unwrap();
        assert!(
            store
                .rows()
                .await
                .unwrap()
                .collect()
                .await
                .unwrap()
                .is_empty()
        );
        for n in [3, 1, 2, 1] {
            let identity = crate::auth::Identity {
                subject: format!("github|{n}"),
                name: Some(format!("User \"{n}\"")),
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
        }
        let rows = store.rows().await.unwrap();
        assert_eq!(rows.state(), None);
        let names: Vec<_> = rows
            .collect()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name.unwrap())
            .collect();
        assert_eq!(names, ["User \"3\"", "User \"1\"", "User \"2\""]);
    }

    #[test]
    fn connections_keep_a_bounded_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("users.db")).unwrap();
        let cache_size = |conn: &Connection| -> i64 {
            conn.pragma_query_value(None, "cache_size", |r| r.get(0))
                .unwrap()
        };
        for _ in 0..READERS {
            assert_eq!(cache_size(&store.inner.reader()), -READER_CACHE_KIB);
        }
        let writer = open_connection(store.path(), WRITER_CACHE_KIB).unwrap();
        assert_eq!(cache_size(&writer), -WRITER_CACHE_KIB);
    }
}
