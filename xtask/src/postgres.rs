//! `cargo xtask postgres`: a throwaway local PostgreSQL for development.
//!
//! `cargo xtask postgres` creates a fresh cluster in
//! `$TMPDIR/users-service-postgres` (as the `postgres` user when run as root,
//! since PostgreSQL refuses root), starts it in the background on a loopback
//! port with a random password, and prints its URL on stdout, ready for
//! `USERS_DATABASE_URL`. Run again while it is up, it prints the same URL.
//! `cargo xtask postgres stop` stops it and deletes everything.

#[path = "../../harness/src/pg_cluster.rs"]
#[allow(dead_code)]
mod pg_cluster;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use users_harness::pg_cluster::{Cluster, free_port};
use users_harness::write_private;

/// The port used when free, so the URL stays the same from one run to the next.
const PREFERRED_PORT: u16 = 54329;

fn root() -> PathBuf {
    std::env::temp_dir().join("users-service-postgres")
}

/// Reads back a cluster started earlier from its `url` file.
fn existing(root: &Path) -> Result<Option<(Cluster, String)>> {
    let Ok(url) = std::fs::read_to_string(root.join("url")) else {
        return Ok(None);
    };
    let url = url.trim().to_string();
    let (rest, port) = url.rsplit_once(':').context("stored URL")?;
    let port: u16 = port
        .split('/')
        .next()
        .unwrap_or_default()
        .parse()
        .context("stored port")?;
    let password = rest
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.rsplit_once(':'))
        .map(|(_, p)| p.to_string())
        .context("stored password")?;
    Ok(Some((Cluster::existing(root, port, &password)?, url)))
}

/// What `cargo xtask postgres` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Action {
    /// Start the server (or print the URL of the one running).
    Start,
    /// Stop the server and delete it.
    Stop,
}

/// `cargo xtask postgres [start|stop]`.
pub fn run(action: Action) -> Result<()> {
    let root = root();
    match action {
        Action::Start => {
            if let Some((cluster, url)) = existing(&root)?
                && cluster.is_running()
            {
                eprintln!("PostgreSQL already running in {}", root.display());
                println!("{url}");
                return Ok(());
            }
            if root.exists() {
                std::fs::remove_dir_all(&root)
                    .with_context(|| format!("removing the old {}", root.display()))?;
            }
            std::fs::create_dir_all(&root)?;
            let port = if std::net::TcpListener::bind(("127.0.0.1", PREFERRED_PORT)).is_ok() {
                PREFERRED_PORT
            } else {
                free_port()?
            };
            let cluster = Cluster::init(&root, port).context("initdb")?;
            cluster.start().context("starting PostgreSQL")?;
            let url = cluster.url();
            let url_file = root.join("url");
            write_private(&url_file, &format!("{url}\n"))
                .with_context(|| format!("writing {}", url_file.display()))?;
            eprintln!(
                "PostgreSQL {} running in {} (log: postgres.log); `cargo xtask postgres stop` \
                 stops it and deletes it",
                cluster.url().rsplit_once('@').map_or("", |(_, h)| h),
                root.display()
            );
            println!("{url}");
            Ok(())
        }
        Action::Stop => {
            match existing(&root)? {
                Some((cluster, _)) if cluster.is_running() => {
                    cluster.stop("fast").context("stopping PostgreSQL")?
                }
                _ => eprintln!("no development PostgreSQL running"),
            }
            if root.exists() {
                std::fs::remove_dir_all(&root)?;
            }
            Ok(())
        }
    }
}
