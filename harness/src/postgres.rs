//! A throwaway PostgreSQL cluster for one test, in a temporary directory,
//! stopped and deleted when dropped.

use crate::pg_cluster::{Cluster, free_port};

/// Set (to anything) to skip the tests that need PostgreSQL: `cargo xtask ci`
/// sets it for its `test` step and runs them in its `postgres` step instead.
pub const SKIP_ENV: &str = "USERS_SKIP_POSTGRES_TESTS";

/// Whether the PostgreSQL tests should be skipped (says so on stderr).
pub fn skipped(test: &str) -> bool {
    let skip = std::env::var_os(SKIP_ENV).is_some();
    if skip {
        eprintln!("{test}: skipped ({SKIP_ENV} is set; `cargo xtask ci --only postgres` runs it)");
    }
    skip
}

/// A running cluster owned by one test.
pub struct TempCluster {
    /// The cluster (start, stop, URL).
    pub cluster: Cluster,
    _dir: tempfile::TempDir,
}

impl TempCluster {
    /// `initdb` into a new temporary directory and start on a free loopback port.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("users-pg-")
            .tempdir()
            .expect("temporary directory");
        let port = free_port().expect("free port");
        let cluster = Cluster::init(dir.path(), port).unwrap_or_else(|e| {
            panic!("cannot create a PostgreSQL cluster (install Debian's `postgresql`): {e}")
        });
        cluster.start().expect("PostgreSQL starts");
        Self { cluster, _dir: dir }
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        self.cluster.url()
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        let _ = self.cluster.stop("immediate");
    }
}
