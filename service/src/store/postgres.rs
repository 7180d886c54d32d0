//! PostgreSQL storage: one database shared by any number of service instances.
//!
//! Connections come from a deadpool pool over tokio-postgres. Every write is a
//! transaction whose `COMMIT` has returned before the write is acknowledged.
//! Writes to one user are serialized across instances by a transaction-scoped
//! advisory lock on the user id, and the `users.id` unique key with an upsert
//! makes a duplicate row impossible even without it. Migrations run at start-up
//! under a database-wide advisory lock, so instances starting together apply
//! each one exactly once.

use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime, Transaction,
};
use futures_core::Stream;
use users_api_server_stubs::types::UserProfile;
use uuid::Uuid;

use super::{
    ApplicationStore, RevocationCheck, RevocationStore, Rows, SCHEMA_VERSION, Saved, StoreError,
    Update, UserStore, postgres_unavailable, revokes,
};

/// Schema migrations, applied in order; the `users_schema` table records
/// progress. Migration `n` (from 1) gives schema version `n`, as in SQLite.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE users (
        seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id      TEXT NOT NULL UNIQUE,
        profile TEXT NOT NULL
    );",
    "CREATE TABLE revocations (
        id         TEXT PRIMARY KEY,
        revoked_at BIGINT NOT NULL
    );
    CREATE TABLE applications (
        seq  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id   TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL
    );",
];

const _: () = assert!(MIGRATIONS.len() as i64 == SCHEMA_VERSION);

/// Key of the advisory lock held while migrating (any fixed number).
const MIGRATION_LOCK: i64 = 0x7573_6572_735f_6462; // "users_db"

/// Default number of pooled connections per service instance.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// How long a request waits for a pooled connection, or for a new one to be
/// established, before it gets a 503.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL-backed [`UserStore`].
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// Where it connects, without the password (for logs).
    display: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("database", &self.display)
            .finish()
    }
}

fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) if postgres_unavailable(&e) => {
            StoreError::Unavailable(format!("connecting: {e}"))
        }
        PoolError::Backend(e) => StoreError::Postgres(e),
        PoolError::Timeout(kind) => {
            StoreError::Unavailable(format!("no database connection in time ({kind:?})"))
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

fn parse_id(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::Task(format!("stored id is not a UUID: {e}")))
}

fn decode(text: &str) -> Result<UserProfile, StoreError> {
    Ok(serde_json::from_str(text)?)
}

/// The URL without its password, for logs and errors.
fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`, or any
    /// form tokio-postgres accepts) with up to `pool_size` connections, and
    /// applies pending migrations. Fails if the database is unreachable or
    /// was migrated by a newer binary.
    pub async fn connect(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let display = redact(url);
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Task(format!("{display} is not a PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECTION_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("users-service");
        }
        let manager = Manager::from_config(
            config,
            tls::connector()?,
            ManagerConfig {
                // A connection the server closed is dropped, not handed out.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECTION_TIMEOUT))
            .create_timeout(Some(CONNECTION_TIMEOUT))
            .recycle_timeout(Some(CONNECTION_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Task(format!("building the connection pool: {e}")))?;
        let store = Self { pool, display };
        store.migrate().await?;
        Ok(store)
    }

    /// The database URL, password hidden.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The pool's current size and limit, for the pool metrics.
    pub fn pool_status(&self) -> deadpool_postgres::Status {
        self.pool.status()
    }

    /// Runs `SELECT 1` on a pooled connection (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.client().await?.simple_query("SELECT 1").await?;
        Ok(())
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        let waited = std::time::Instant::now();
        let client = self.pool.get().await.map_err(pool_error);
        metrics::histogram!(crate::meters::DB_POOL_WAIT).record(waited.elapsed().as_secs_f64());
        client
    }

    /// Applies pending migrations in one transaction, under an advisory lock.
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS users_schema (version BIGINT NOT NULL)")
            .await?;
        let version: i64 = match tx
            .query_opt("SELECT version FROM users_schema", &[])
            .await?
        {
            Some(row) => row.get(0),
            None => {
                tx.execute("INSERT INTO users_schema (version) VALUES (0)", &[])
                    .await?;
                0
            }
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        for (i, sql) in (0i64..).zip(MIGRATIONS).skip(version.max(0) as usize) {
            tx.batch_execute(sql).await?;
            tx.execute("UPDATE users_schema SET version = $1", &[&(i + 1)])
                .await?;
            tracing::info!(version = i + 1, "database migrated");
        }
        tx.commit().await?;
        Ok(())
    }

    /// The schema version recorded in the database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT version FROM users_schema", &[])
            .await?;
        Ok(row.get(0))
    }
}

/// Takes the advisory lock that serializes writes to one user across
/// instances, until the end of the transaction.
async fn lock_user(tx: &Transaction<'_>, key: &str) -> Result<(), StoreError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&key],
    )
    .await?;
    Ok(())
}

impl UserStore for PgStore {
    async fn save_with(
        &self,
        id: Uuid,
        check: RevocationCheck,
        update: Update,
    ) -> Result<Saved, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let key = id.to_string();
        // A sign-out holds the same lock until it commits, and each statement
        // below sees every commit made before it started.
        lock_user(&tx, &key).await?;
        if let RevocationCheck::Token(issued_at) = check {
            let at = tx
                .query_opt("SELECT revoked_at FROM revocations WHERE id = $1", &[&key])
                .await?
                .map(|row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0));
            if revokes(at, issued_at) {
                return Err(StoreError::Revoked);
            }
        }
        let current = tx
            .query_opt(
                "SELECT profile FROM users WHERE id = $1 FOR UPDATE",
                &[&key],
            )
            .await?
            .map(|row| decode(row.get(0)))
            .transpose()?;
        let profile = update(current);
        let text = Saved::encode(&profile)?;
        tx.execute(
            "INSERT INTO users (id, profile) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET profile = excluded.profile",
            &[&key, &text],
        )
        .await?;
        tx.commit().await?;
        Ok(Saved::new(profile, text))
    }

    /// A task of its own reads the table in one repeatable-read, read-only
    /// transaction, row by row from the server, after the snapshot it reads
    /// in ([`UserStore::state`]); each decoded profile goes to the channel.
    async fn rows(&self) -> Result<Rows, StoreError> {
        let mut client = self.client().await?;
        let (ready, state) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut ready = Some(ready);
            let mut sender = None;
            let read = async {
                let tx = client
                    .build_transaction()
                    .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()
                    .await?;
                let state: String = tx
                    .query_one("SELECT pg_current_snapshot()::text", &[])
                    .await?
                    .get(0);
                let stmt = tx
                    .prepare_cached("SELECT profile FROM users ORDER BY seq")
                    .await?;
                let stream = tx.query_raw(&stmt, std::iter::empty::<i32>()).await?;
                let (to, rows) = Rows::channel(Some(state));
                let to = sender.insert(to);
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Ok(rows));
                }
                let mut stream = std::pin::pin!(stream);
                while let Some(row) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await
                {
                    if to.send(decode(row?.get(0))).await.is_err() {
                        return Ok(()); // The reader went away.
                    }
                }
                tx.commit().await?;
                Ok::<_, StoreError>(())
            };
            if let Err(e) = read.await {
                match (ready.take(), sender) {
                    (Some(ready), _) => {
                        let _ = ready.send(Err(e));
                    }
                    (None, Some(to)) => {
                        let _ = to.send(Err(e)).await;
                    }
                    (None, None) => {}
                }
            }
        });
        state
            .await
            .map_err(|_| StoreError::Task("the list reader stopped".into()))?
    }

    async fn get(&self, id: Uuid) -> Result<Option<UserProfile>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT profile FROM users WHERE id = $1")
            .await?;
        client
            .query_opt(&stmt, &[&id.to_string()])
            .await?
            .map(|row| decode(row.get(0)))
            .transpose()
    }

    async fn remove(&self, id: Uuid, revoked_at: u64) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let key = id.to_string();
        lock_user(&tx, &key).await?;
        let n = tx
            .execute("DELETE FROM users WHERE id = $1", &[&key])
            .await?;
        if n > 0 {
            tx.execute(
                "INSERT INTO revocations (id, revoked_at) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE
                 SET revoked_at = GREATEST(revocations.revoked_at, excluded.revoked_at)",
                &[&key, &i64::try_from(revoked_at).unwrap_or(i64::MAX)],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// The current snapshot (`xmin:xmax:in-progress xids`): any transaction
    /// that writes gets an xid, which moves `xmax` when it starts and leaves
    /// the in-progress list when it ends, so an equal snapshot means nothing
    /// was written since. Other databases of the cluster share xids, which
    /// can only make it change more often (a harmless cache miss).
    async fn state(&self) -> Result<Option<String>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT pg_current_snapshot()::text")
            .await?;
        Ok(Some(client.query_one(&stmt, &[]).await?.get(0)))
    }
}

impl RevocationStore for PgStore {
    async fn revocations(&self) -> Result<Vec<(Uuid, u64)>, StoreError> {
        let client = self.client().await?;
        client
            .query("SELECT id, revoked_at FROM revocations", &[])
            .await?
            .iter()
            .map(|row| {
                let at: i64 = row.get(1);
                Ok((parse_id(row.get(0))?, u64::try_from(at).unwrap_or(0)))
            })
            .collect()
    }

    async fn revoked_at(&self, id: Uuid) -> Result<Option<u64>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT revoked_at FROM revocations WHERE id = $1")
            .await?;
        Ok(client
            .query_opt(&stmt, &[&id.to_string()])
            .await?
            .map(|row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)))
    }
}

impl ApplicationStore for PgStore {
    async fn add_application(&self, name: String) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO applications (id, name) VALUES ($1, $2)",
                &[&id.to_string(), &name],
            )
            .await?;
        Ok(id)
    }

    async fn applications(&self) -> Result<Vec<(Uuid, String)>, StoreError> {
        let client = self.client().await?;
        client
            .query("SELECT id, name FROM applications ORDER BY seq", &[])
            .await?
            .iter()
            .map(|row| Ok((parse_id(row.get(0))?, row.get(1))))
            .collect()
    }

    async fn is_application(&self, id: Uuid) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT 1 FROM applications WHERE id = $1")
            .await?;
        Ok(client.query_opt(&stmt, &[&id.to_string()]).await?.is_some())
    }

    async fn remove_application(&self, id: Uuid) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let n = client
            .execute("DELETE FROM applications WHERE id = $1", &[&id.to_string()])
            .await?;
        Ok(n > 0)
    }
}

/// The connector. Without the `tls` feature: plain TCP or Unix sockets
/// (`sslmode=disable`, or the default `prefer`, which then stays plain;
/// `require` fails). With it: rustls, the server's certificate verified
/// against the platform's roots (`sslmode=prefer` uses TLS when the server
/// offers it, `require` insists).
#[cfg(not(feature = "tls"))]
mod tls {
    use super::StoreError;

    pub(super) fn connector() -> Result<tokio_postgres::NoTls, StoreError> {
        Ok(tokio_postgres::NoTls)
    }
}

#[cfg(feature = "tls")]
mod tls {
    use std::sync::Arc;

    use rustls_platform_verifier::BuilderVerifierExt;
    use tokio_postgres_rustls::MakeRustlsConnect;

    use super::StoreError;

    pub(super) fn connector() -> Result<MakeRustlsConnect, StoreError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_platform_verifier())
            .map_err(|e| StoreError::Task(format!("TLS configuration for PostgreSQL: {e}")))?
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }
}

/// The cluster helper of the harness crate (std only), for the TLS build's test.
#[cfg(all(test, feature = "tls"))]
#[path = "../../../harness/src/pg_cluster.rs"]
#[allow(dead_code)]
mod pg_cluster;

#[cfg(all(test, feature = "tls"))]
mod tls_tests {
    use super::{PgStore, UserStore, pg_cluster};

    /// The TLS build still reaches a server without TLS under the default
    /// `sslmode=prefer`, and refuses it under `sslmode=require`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tls_build_follows_sslmode() {
        let dir = tempfile::tempdir().unwrap();
        let port = pg_cluster::free_port().unwrap();
        let cluster = pg_cluster::Cluster::init(dir.path(), port).expect("initdb");
        cluster.start().expect("PostgreSQL starts");
        let plain = PgStore::connect(&cluster.url(), 2).await;
        let required = PgStore::connect(&format!("{}?sslmode=require", cluster.url()), 2).await;
        let _ = cluster.stop("immediate");
        let plain = plain.expect("prefer falls back to plain");
        let read = plain.get(uuid::Uuid::nil()).await;
        assert!(read.is_err(), "the server is gone now");
        let err = required.expect_err("require refuses a server without TLS");
        assert!(
            err.is_unavailable() || err.to_string().contains("TLS"),
            "{err}"
        );
    }
}
