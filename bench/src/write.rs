//! Section 2: durable writes through `POST /users/authenticate/from_token`
//! with group commit, against two baselines measured in the same run, each
//! one transaction and one fsync per write on the same disk: the same
//! service with group commit off (`--sqlite-max-batch 1`, same load),
//! and a raw SQLite loop doing the same durable transaction in process.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::runtime::Runtime;
use users_service::store::sqlite::MAX_BATCH;

use crate::report::{Goal, Report, Row};
use crate::stats::{percentile, ratios};
use crate::users::{self, auth_bodies, dev_key};
use crate::wrk::{self, Load, Outcome, Scripts};
use crate::{Config, progress};
use users_harness::process::{Launch, Server};

/// Throughput and latency of the raw loop.
#[derive(Debug, Clone, Copy)]
pub struct RawOutcome {
    /// Transactions per second.
    pub rate: f64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub p99_us: f64,
}

/// The service's table, settings and transaction, with nothing around them:
/// per transaction one `SELECT` by id and one `INSERT` of a profile, committed
/// with WAL and `synchronous=FULL`, on one connection, for `seconds`.
pub fn raw_sqlite(db: &Path, seconds: f64, payload: &str, run: usize) -> Result<RawOutcome> {
    let mut conn = Connection::open(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS users (
            seq     INTEGER PRIMARY KEY AUTOINCREMENT,
            id      TEXT NOT NULL UNIQUE,
            profile TEXT NOT NULL
        );",
    )?;
    let limit = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut i = 0usize;
    while started.elapsed() < limit {
        let t = Instant::now();
        let key = format!("raw-{run}-{i}");
        let tx = conn.transaction()?;
        let current: Option<String> = tx
            .prepare_cached("SELECT profile FROM users WHERE id = ?1")?
            .query_row([&key], |r| r.get(0))
            .optional()?;
        ensure!(current.is_none(), "raw key {key} exists");
        tx.prepare_cached("INSERT INTO users (id, profile) VALUES (?1, ?2)")?
            .execute(params![key, payload])?;
        tx.commit()?;
        latencies.push(t.elapsed().as_secs_f64() * 1e6);
        i += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(RawOutcome {
        rate: i as f64 / elapsed,
        p50_us: percentile(&mut latencies, 50.0),
        p99_us: percentile(&mut latencies, 99.0),
    })
}

/// Batch sizes of group commit, from the service's shutdown log line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchSizes {
    /// Transactions committed (one fsync each).
    pub batches: f64,
    /// Writes they carried.
    pub writes: f64,
    /// Writes per transaction: mean, median, 90th percentile, largest.
    pub mean: f64,
    /// Median batch size.
    pub p50: f64,
    /// 90th percentile batch size.
    pub p90: f64,
    /// Largest batch.
    pub max: f64,
    /// Time of one `COMMIT` (the WAL write and its fsync), milliseconds:
    /// median, 90th and 99th percentile over the batches.
    pub commit_ms: [f64; 3],
}

impl BatchSizes {
    /// Parses the last `group commit batches=… writes=… …` line of a log
    /// (the form of `users_service::store::sqlite::WriteStats`'s `Display`).
    pub fn from_log(log: &str) -> Option<Self> {
        let line = log.lines().rev().find(|l| l.contains("group commit"))?;
        let field = |name: &str| -> Option<f64> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?
                .parse()
                .ok()
        };
        Some(Self {
            batches: field("batches")?,
            writes: field("writes")?,
            mean: field("mean")?,
            p50: field("p50")?,
            p90: field("p90")?,
            max: field("max")?,
            commit_ms: [
                field("commit_p50_ms")?,
                field("commit_p90_ms")?,
                field("commit_p99_ms")?,
            ],
        })
    }
}

/// How long sign-ins spent inside the service, from arrival to response:
/// the `latency_us` of its access lines (`response … latency_us=…`), warm-up
/// included. Set beside wrk's latency (which adds the client, the loopback
/// and waiting to be scheduled), it tells where a tail comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inside {
    /// Sign-ins counted.
    pub count: usize,
    /// Median, 90th and 99th percentile, milliseconds.
    pub ms: [f64; 3],
}

impl Inside {
    /// Reads the sign-ins' access lines of a service log (`None`: there
    /// are none, e.g. a log level that leaves them out).
    pub fn from_log(log: &str) -> Option<Self> {
        let mut us: Vec<f64> = log
            .lines()
            .filter(|l| l.contains("operation_id=authenticate_from_oauth_token"))
            .filter_map(|l| {
                l.split_whitespace()
                    .find_map(|kv| kv.strip_prefix("latency_us="))?
                    .parse()
                    .ok()
            })
            .collect();
        if us.is_empty() {
            return None;
        }
        let ms = [50.0, 90.0, 99.0].map(|p| percentile(&mut us, p) / 1000.0);
        Some(Self {
            count: us.len(),
            ms,
        })
    }
}

/// Starts `users-service` on database file `db` in `data`, in the default
/// configuration (an access line per request; the group-commit summary is
/// logged at `info` on shutdown, for [`BatchSizes::from_log`]), with
/// `--sqlite-max-batch {max_batch}` (1: group commit off).
fn start_service(
    cfg: &Config,
    data: &Path,
    log: &Path,
    max_batch: usize,
    db: &str,
) -> Result<Server> {
    Ok(Launch::new(&cfg.service_bin, log)
        .args([Path::new("--data-dir"), data])
        .args(["--database".to_string(), format!("sqlite:{db}")])
        .args(["--sqlite-max-batch", &max_batch.to_string()])
        .stop_timeout(Duration::from_secs(10))
        .start()?)
}

/// Stops a service with SIGTERM (a clean shutdown, which logs the summary).
fn stop(mut server: Server) -> Result<()> {
    let status = server.stop()?;
    ensure!(
        status.success(),
        "{} exited with {status} on SIGTERM",
        server.name()
    );
    Ok(())
}

/// Section 2. `read_rps` is our GET /users/{id} throughput per run, if measured.
pub fn run(
    cfg: &Config,
    rt: &Runtime,
    scripts: &Scripts,
    report: &mut Report,
    read_rps: Option<Vec<f64>>,
) -> Result<()> {
    let dir = cfg.work_dir.join("write");
    let data = dir.join("data");
    let key = dev_key(&data)?;
    let raw_db = dir.join("raw.db");
    let log: PathBuf = dir.join("service.log");
    let off_log: PathBuf = dir.join("service-off.log");
    let service = start_service(cfg, &data, &log, MAX_BATCH, "users.db")?;
    // Same data directory (same development key), its own database file.
    let off = start_service(cfg, &data, &off_log, 1, "users-off.db")?;
    let http = reqwest::Client::new();

    // A real stored profile, as the raw loop's payload.
    let payload = rt.block_on(async {
        let r = http
            .post(format!("{}/users/authenticate/from_token", service.url()))
            .header("content-type", "application/json")
            .body(users::auth_body(&users::token(&key, "payload")?))
            .send()
            .await?;
        anyhow::Ok(r.text().await?)
    })?;

    let load = |base: &str, bodies: &Path, seconds: f64| -> Result<Outcome> {
        wrk::run(
            scripts,
            &Load {
                url: format!("{base}/users/authenticate/from_token"),
                headers: Vec::new(),
                connections: cfg.connections,
                seconds,
                post_bodies: Some(bodies),
            },
        )
    };
    // Warm up both, and size the token supply so each run creates new users only.
    let warm_file = dir.join("bodies-warm.txt");
    std::fs::write(&warm_file, auth_bodies(&key, "warm", 0, 200)?.join("\n"))?;
    let warm_seconds = cfg.warmup_seconds.max(1.0);
    let warm = load(service.url(), &warm_file, warm_seconds)?;
    load(off.url(), &warm_file, warm_seconds)?;
    let per_run = ((warm.rps * cfg.seconds * 4.0) as usize).clamp(500, 200_000);

    let mut ours: Vec<Outcome> = Vec::new();
    let mut offs: Vec<Outcome> = Vec::new();
    let mut raw: Vec<RawOutcome> = Vec::new();
    let mut wrapped = 0usize;
    for i in 0..cfg.runs {
        let file = dir.join(format!("bodies-{i}.txt"));
        std::fs::write(
            &file,
            auth_bodies(&key, &format!("w{i}-"), 0, per_run)?.join("\n"),
        )?;
        // Rotate the order so no figure always runs first.
        let mut o = None;
        let mut f = None;
        let mut r = None;
        for step in 0..3 {
            match (i + step) % 3 {
                0 => o = Some(load(service.url(), &file, cfg.seconds)?),
                1 => f = Some(load(off.url(), &file, cfg.seconds)?),
                _ => r = Some(raw_sqlite(&raw_db, cfg.seconds, &payload, i)?),
            }
        }
        let (o, f, r) = (o.expect("ran"), f.expect("ran"), r.expect("ran"));
        if o.requests as usize > per_run {
            wrapped += 1;
        }
        progress(&format!(
            "  authenticate {:.0} req/s (p99 {:.1} ms), group commit off {:.0} req/s, raw SQLite {:.0} tx/s",
            o.rps,
            o.p99_us / 1000.0,
            f.rps,
            r.rate
        ));
        ours.push(o);
        offs.push(f);
        raw.push(r);
    }
    stop(service)?;
    stop(off)?;
    let batches = BatchSizes::from_log(&std::fs::read_to_string(&log)?)
        .with_context(|| format!("no group-commit summary in {}", log.display()))?;
    let off_batches = BatchSizes::from_log(&std::fs::read_to_string(&off_log)?)
        .with_context(|| format!("no group-commit summary in {}", off_log.display()))?;
    progress(&format!("  batch sizes: {batches:?}"));
    progress(&format!("  group commit off: {off_batches:?}"));
    let inside = Inside::from_log(&std::fs::read_to_string(&log)?);
    let off_inside = Inside::from_log(&std::fs::read_to_string(&off_log)?);
    progress(&format!(
        "  inside the service: {inside:?}, off: {off_inside:?}"
    ));

    let o_rps: Vec<f64> = ours.iter().map(|o| o.rps).collect();
    let f_rps: Vec<f64> = offs.iter().map(|o| o.rps).collect();
    let r_rate: Vec<f64> = raw.iter().map(|r| r.rate).collect();
    let label = format!(
        "POST /users/authenticate/from_token, {} connections, a new user per request{}",
        cfg.connections,
        if wrapped > 0 {
            format!(" ({wrapped} runs ran out of tokens and also updated)")
        } else {
            String::new()
        }
    );
    let off_name = "the same service, group commit off (one transaction and fsync per request)";
    let raw_name =
        "raw SQLite durable insert loop, same table and settings (one fsync per transaction)";
    report.put(
        Row::measured(
            "write.rps",
            format!("{label}, group commit: throughput"),
            "req/s",
        )
        .ours(&o_rps)
        .baseline(off_name, &f_rps)
        .ratio(&ratios(&o_rps, &f_rps))
        .goal(Goal::RatioAtLeast(2.5)),
    );
    report.put(
        Row::measured(
            "write.raw.rps",
            "authenticate, group commit: throughput",
            "req/s",
        )
        .ours(&o_rps)
        .baseline(raw_name, &r_rate)
        .ratio(&ratios(&o_rps, &r_rate))
        .goal(Goal::RatioAtLeast(2.0)),
    );
    let ms = |v: &[Outcome], p99: bool| -> Vec<f64> {
        v.iter()
            .map(|x| if p99 { x.p99_us } else { x.p50_us } / 1000.0)
            .collect()
    };
    for (key, p99) in [("write.p50", false), ("write.p99", true)] {
        let what = if p99 { "p99" } else { "p50" };
        let (o, f) = (ms(&ours, p99), ms(&offs, p99));
        let mut row = Row::measured(
            key,
            format!("authenticate, group commit: {what} latency"),
            "ms",
        )
        .ours(&o)
        .baseline(off_name, &f)
        .ratio(&ratios(&o, &f));
        if p99 {
            // Issue 25: no worse than group commit off under the same load.
            row = row.goal(Goal::RatioAtMost(1.0));
        }
        report.put(row);
    }
    let o99 = ms(&ours, true);
    let r99: Vec<f64> = raw.iter().map(|x| x.p99_us / 1000.0).collect();
    report.put(
        Row::measured(
            "write.raw.p99",
            "authenticate, group commit: p99 latency",
            "ms",
        )
        .ours(&o99)
        .baseline(format!("{raw_name}: one transaction"), &r99)
        .ratio(&ratios(&o99, &r99)),
    );
    report.put(
        Row::measured(
            "write.batch",
            format!(
                "group commit: writes per transaction, mean over the section \
                 (median {:.0}, 90th percentile {:.0}, largest {:.0}; \
                 {:.0} writes in {:.0} transactions, warm-up included; \
                 one COMMIT, its WAL write and fsync, took {:.1} / {:.1} / {:.1} ms \
                 at p50 / p90 / p99; {:.1} / {:.1} / {:.1} ms with group commit off)",
                batches.p50,
                batches.p90,
                batches.max,
                batches.writes,
                batches.batches,
                batches.commit_ms[0],
                batches.commit_ms[1],
                batches.commit_ms[2],
                off_batches.commit_ms[0],
                off_batches.commit_ms[1],
                off_batches.commit_ms[2]
            ),
            "writes",
        )
        .ours(&[batches.mean]),
    );
    if let (Some(on), Some(off)) = (inside, off_inside) {
        report.put(
            Row::measured(
                "write.inside",
                format!(
                    "authenticate, group commit: p99 of the time inside the service, from \
                     arrival to response (its access lines, {} sign-ins, warm-up included; \
                     p50 / p90 {:.2} / {:.2} ms; group commit off {:.2} / {:.2} ms): what \
                     wrk's p99 has beyond it is outside the service (the client, the \
                     loopback, waiting for a core)",
                    on.count, on.ms[0], on.ms[1], off.ms[0], off.ms[1]
                ),
                "ms",
            )
            .ours(&[on.ms[2]])
            .baseline(off_name, &[off.ms[2]])
            .ratio(&[on.ms[2] / off.ms[2]]),
        );
    }
    let mut row = Row::measured(
        "write.vs_read",
        "authenticate throughput vs our own GET /users/{id} throughput",
        "req/s",
    )
    .ours(&o_rps);
    if let Some(read) = read_rps {
        row = row
            .baseline("our GET /users/{id} (section 1)", &read)
            .ratio(&ratios(&o_rps, &read));
    }
    report.put(row);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_group_commit_line() {
        let log = "2026-11-29T06:40:00Z  INFO users_service::store::sqlite: group commit \
                   batches=120 writes=960 mean=8.00 p50=8 p90=14 p99=16 max=16 \
                   commit_p50_ms=0.5 commit_p90_ms=3.1 commit_p99_ms=8.4\n";
        let b = BatchSizes::from_log(log).expect("parsed");
        assert_eq!((b.batches, b.writes, b.mean), (120.0, 960.0, 8.0));
        assert_eq!((b.p50, b.p90, b.max), (8.0, 14.0, 16.0));
        assert_eq!(b.commit_ms, [0.5, 3.1, 8.4]);
        assert_eq!(BatchSizes::from_log("INFO listening"), None);
    }

    #[test]
    fn reads_the_sign_ins_time_inside_the_service() {
        let line = |op: &str, us: u32| {
            format!(
                "2026-12-06T07:12:06Z  INFO request{{request_id=37}}: \
                 users_service::ops::access_line: response method=POST path=/x \
                 operation_id={op} status=200 latency_us={us}\n"
            )
        };
        // 100 sign-ins taking 1..=100 ms, and reads that must not count.
        let mut log: String = (1..=100)
            .map(|ms| line("authenticate_from_oauth_token", ms * 1000))
            .collect();
        log.push_str(&line("users_snapshot", 900_000));
        let inside = Inside::from_log(&log).expect("parsed");
        assert_eq!(inside.count, 100);
        assert_eq!(inside.ms, [50.0, 90.0, 99.0]);
        assert_eq!(Inside::from_log(&line("users_snapshot", 5)), None);
    }
}
