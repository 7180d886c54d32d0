//! Group commit: one thread owns the write connection and runs every pending
//! write in one transaction, each inside its own savepoint, then commits once
//! (one fsync) and only then answers the callers.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::store::StoreError;

/// Most writes in one transaction (`--sqlite-max-batch` may lower it).
pub const MAX_BATCH: usize = 128;

/// Writes waiting for the writer before callers wait to enqueue.
const QUEUE: usize = 1024;

/// One write waiting for its transaction.
trait Write: Send {
    /// Runs the write inside its savepoint; `false` if it failed (or panicked).
    fn apply(&mut self, conn: &Connection) -> bool;
    /// Answers the caller: with its own outcome, unless the batch failed.
    fn answer(self: Box<Self>, batch_failure: Option<&rusqlite::Error>);
}

struct Pending<T, F> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Write for Pending<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn apply(&mut self, conn: &Connection) -> bool {
        let work = self.work.take().expect("a write runs once");
        let result = work(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, batch_failure: Option<&rusqlite::Error>) {
        let outcome = match (self.result, batch_failure) {
            (Some(Err(e)), _) => Err(e),
            (_, Some(e)) => Err(duplicate(e)),
            (Some(Ok(value)), None) => Ok(value),
            (None, None) => Err(StoreError::Task("the write panicked".into())),
        };
        // The caller may have gone away; the write is committed regardless.
        let _ = self.reply.send(outcome);
    }
}

/// The same SQLite error again, for every write of a failed batch.
fn duplicate(e: &rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            StoreError::Database(rusqlite::Error::SqliteFailure(*code, message.clone()))
        }
        other => StoreError::Task(format!("the batch failed: {other}")),
    }
}

/// How many writes each committed transaction carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Transactions run (each one commit, one fsync).
    pub batches: u64,
    /// Writes run in them, failed ones included.
    pub writes: u64,
    /// `counts[n]`: how many batches held `n` writes.
    pub counts: Vec<u64>,
    /// `commit_times[i]`: how many `COMMIT`s (the WAL write and its fsync)
    /// took `i` × [`COMMIT_BUCKET`]; the last bucket holds everything longer.
    pub commit_times: Vec<u64>,
}

/// Width of a bucket of [`WriteStats::commit_times`].
pub const COMMIT_BUCKET: Duration = Duration::from_micros(100);

/// Buckets of [`WriteStats::commit_times`] (up to 50 ms, then one more).
const COMMIT_BUCKETS: usize = 501;

impl WriteStats {
    fn record(&mut self, size: usize, commit: Duration) {
        if self.counts.len() <= size {
            self.counts.resize(size + 1, 0);
        }
        self.counts[size] += 1;
        self.batches += 1;
        self.writes += size as u64;
        if self.commit_times.is_empty() {
            self.commit_times.resize(COMMIT_BUCKETS, 0);
        }
        let bucket = (commit.as_micros() / COMMIT_BUCKET.as_micros()) as usize;
        self.commit_times[bucket.min(COMMIT_BUCKETS - 1)] += 1;
    }

    /// The commit time at percentile `p` (0–100) of batches, to the upper
    /// edge of its bucket (zero before any).
    pub fn commit_percentile(&self, p: f64) -> Duration {
        let rank = ((p / 100.0) * self.batches as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &count) in self.commit_times.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return COMMIT_BUCKET * (i as u32 + 1);
            }
        }
        Duration::ZERO
    }

    /// The largest batch (0 before any).
    pub fn max(&self) -> usize {
        self.counts.iter().rposition(|&c| c > 0).unwrap_or(0)
    }

    /// Writes per batch on average (0 before any).
    pub fn mean(&self) -> f64 {
        if self.batches == 0 {
            0.0
        } else {
            self.writes as f64 / self.batches as f64
        }
    }

    /// The batch size at percentile `p` (0–100) of batches (0 before any).
    pub fn percentile(&self, p: f64) -> usize {
        let rank = ((p / 100.0) * self.batches as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (size, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return size;
            }
        }
        0
    }
}

impl fmt::Display for WriteStats {
    /// `batches=… writes=… mean=… p50=… p90=… p99=… max=…` and commit
    /// times in milliseconds, `commit_p50_ms=… commit_p90_ms=… commit_p99_ms=…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |p| self.commit_percentile(p).as_secs_f64() * 1e3;
        write!(
            f,
            "batches={} writes={} mean={:.2} p50={} p90={} p99={} max={} \
             commit_p50_ms={:.1} commit_p90_ms={:.1} commit_p99_ms={:.1}",
            self.batches,
            self.writes,
            self.mean(),
            self.percentile(50.0),
            self.percentile(90.0),
            self.percentile(99.0),
            self.max(),
            ms(50.0),
            ms(90.0),
            ms(99.0)
        )
    }
}

/// The handle to the writer thread; dropping it lets the thread finish the
/// queued writes and waits for it.
pub struct Writer {
    queue: Option<mpsc::Sender<Box<dyn Write>>>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<Mutex<WriteStats>>,
}

impl Writer {
    /// Starts the writer thread on `conn` (migrated, WAL, `synchronous=FULL`),
    /// committing at most `max_batch` writes together (clamped to
    /// 1..=[`MAX_BATCH`]).
    pub fn start(conn: Connection, max_batch: usize) -> std::io::Result<Self> {
        let max_batch = max_batch.clamp(1, MAX_BATCH);
        let (tx, rx) = mpsc::channel(QUEUE);
        let stats = Arc::new(Mutex::new(WriteStats::default()));
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn({
                let stats = stats.clone();
                move || run(&conn, rx, max_batch, &stats)
            })?;
        Ok(Self {
            queue: Some(tx),
            thread: Some(thread),
            stats,
        })
    }

    /// Runs `work` in the next transaction, inside its own savepoint: its
    /// changes are kept only if it returns `Ok`. Resolves once that
    /// transaction has committed (or failed).
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let pending = Box::new(Pending {
            work: Some(work),
            result: None,
            reply,
        });
        let queue = self.queue.as_ref().expect("the writer runs until dropped");
        queue
            .send(pending)
            .await
            .map_err(|_| StoreError::Task("the writer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Task("the writer thread dropped the write".into()))?
    }

    /// The batch sizes so far.
    pub fn stats(&self) -> WriteStats {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

/// The writer thread: waits for a write, takes every other one pending (up
/// to `max_batch`), runs them in one transaction and answers them.
fn run(
    conn: &Connection,
    mut rx: mpsc::Receiver<Box<dyn Write>>,
    max_batch: usize,
    stats: &Mutex<WriteStats>,
) {
    let mut batch: Vec<Box<dyn Write>> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(write) => batch.push(write),
                Err(_) => break,
            }
        }
        commit_batch(conn, &mut batch, stats);
    }
}

/// Runs and answers every write of `batch` (left empty), recording its size
/// and how long its `COMMIT` took first: a caller that has its answer sees
/// its batch in the statistics.
fn commit_batch(conn: &Connection, batch: &mut Vec<Box<dyn Write>>, stats: &Mutex<WriteStats>) {
    let mut commit = Duration::ZERO;
    let failure = run_batch(conn, batch, &mut commit).err();
    if failure.is_some() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    // Before the callers hear back: an answered write's batch is counted.
    stats
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .record(batch.len(), commit);
    metrics::histogram!(crate::meters::SQLITE_BATCH).record(batch.len() as f64);
    metrics::histogram!(crate::meters::SQLITE_COMMIT).record(commit.as_secs_f64());
    for write in batch.drain(..) {
        write.answer(failure.as_ref());
    }
}

/// Runs one of the writer's own statements (`BEGIN`, `SAVEPOINT`, ...)
/// from the connection's statement cache: `execute_batch` compiled the SQL
/// again on every call (callgrind, sign-in: the writer's own statements
/// 20,300 -> 15,500 instructions a write, SQL compilation gone).
fn run_cached(conn: &Connection, sql: &str) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// One transaction: every write in its own savepoint, then one commit.
fn run_batch(
    conn: &Connection,
    batch: &mut [Box<dyn Write>],
    commit: &mut Duration,
) -> Result<(), rusqlite::Error> {
    run_cached(conn, "BEGIN IMMEDIATE")?;
    for write in batch.iter_mut() {
        run_cached(conn, "SAVEPOINT write")?;
        let kept = catch_unwind(AssertUnwindSafe(|| write.apply(conn))).unwrap_or(false);
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (disk full, I/O
            // error): the writes before this one are gone too.
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some("the transaction was rolled back by a failed write".into()),
            ));
        }
        if kept {
            run_cached(conn, "RELEASE write")?;
        } else {
            conn.execute_batch("ROLLBACK TO write; RELEASE write")?;
        }
    }
    let started = Instant::now();
    let committed = run_cached(conn, "COMMIT");
    *commit = started.elapsed();
    committed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_summarise_batch_sizes_and_commit_times() {
        let mut stats = WriteStats::default();
        assert_eq!(
            (stats.max(), stats.mean(), stats.percentile(50.0)),
            (0, 0.0, 0)
        );
        for (size, us) in [(1, 150), (4, 250), (4, 250), (16, 20_000), (2, 99_000)] {
            stats.record(size, Duration::from_micros(us));
        }
        assert_eq!((stats.batches, stats.writes, stats.max()), (5, 27, 16));
        assert_eq!(stats.mean(), 27.0 / 5.0);
        assert_eq!(stats.percentile(50.0), 4);
        assert_eq!(stats.percentile(100.0), 16);
        assert_eq!(stats.commit_percentile(50.0), Duration::from_micros(300));
        assert_eq!(stats.commit_percentile(80.0), Duration::from_micros(20_100));
        // Longer than the buckets reach (50 ms): reported as the last edge.
        assert_eq!(
            stats.commit_percentile(100.0),
            Duration::from_micros(50_100)
        );
        let shown = stats.to_string();
        assert!(
            shown.starts_with("batches=5 writes=27 mean=5.40 p50=4"),
            "{shown}"
        );
        assert!(shown.ends_with("commit_p99_ms=50.1"), "{shown}");
    }
}
