//! WAL checkpoints off the commit path.
//!
//! SQLite's automatic checkpoint runs inside the `COMMIT` that takes the
//! WAL past 1,000 pages: that commit copies the pages into the database
//! file and syncs it, while every write of its batch (and the next batch)
//! waits. Under group commit that was the tail of the commit times
//! (issue 25). Here a thread of its own checkpoints every
//! [`EVERY`] (`PASSIVE`: it never blocks the writer or readers), so the
//! copying and the database file's sync happen beside the commits. The
//! writer keeps an automatic checkpoint only as a bound on the WAL's size
//! ([`WAL_LIMIT_PAGES`]): under writes that never pause, a passive
//! checkpoint never finds the WAL fully copied, and only a checkpoint by
//! the writer lets the WAL start over.
//!
//! Durability does not change: a commit is durable once its WAL frames
//! are synced (`synchronous=FULL`), before and after.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is copied into the database file.
pub const EVERY: Duration = Duration::from_millis(100);

/// The writer's automatic checkpoint, in pages: only when the WAL has grown
/// this large (32 MiB of 4 KiB pages) does a commit checkpoint it itself.
pub const WAL_LIMIT_PAGES: i64 = 8192;

/// The checkpointing thread; dropping it stops the thread.
pub struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Checkpoints the database of `conn` (a connection of its own) every
    /// [`EVERY`] until dropped.
    pub fn start(conn: Connection) -> std::io::Result<Self> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn({
                let stop = stop.clone();
                move || run(&conn, &stop)
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, stop: &(Mutex<bool>, Condvar)) {
    let (stopped, wake) = stop;
    let mut done = stopped.lock().unwrap_or_else(PoisonError::into_inner);
    while !*done {
        done = wake
            .wait_timeout(done, EVERY)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        if *done {
            break;
        }
        // A failed or busy checkpoint is tried again next time; the
        // writer's automatic one bounds the WAL meanwhile.
        if let Err(e) = passive(conn) {
            tracing::debug!(error = %e, "background checkpoint failed");
        }
    }
}

/// One passive checkpoint: `(frames in the WAL, frames copied)`.
pub fn passive(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get(1)?, row.get(2)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(path: &std::path::Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        conn
    }

    #[test]
    fn the_thread_copies_the_wal_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = open(&path);
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer
            .execute_batch("CREATE TABLE t (x TEXT); INSERT INTO t VALUES (randomblob(100000));")
            .unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        assert!(size() < 100_000, "still in the WAL: {}", size());
        let checkpointer = Checkpointer::start(open(&path)).unwrap();
        let started = std::time::Instant::now();
        while size() < 100_000 && started.elapsed() < EVERY * 50 {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(size() >= 100_000, "copied into the database file");
        drop(checkpointer);
        // Everything is copied now: nothing left for a checkpoint to do.
        let (frames, copied) = passive(&writer).unwrap();
        assert_eq!(frames, copied);
    }
}
