//! Section 2: durable writes through `POST /users/authenticate/from_token`,
//! against a raw SQLite loop doing the same durable transaction in process.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::runtime::Runtime;

use crate::procs::Server;
use crate::report::{Report, Row};
use crate::stats::{percentile, ratios};
use crate::users::{self, auth_bodies, dev_key};
use crate::wrk::{self, Load, Outcome, Scripts};
use crate::{Config, progress};

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
    let service = Server::service(&cfg.service_bin, &data, &dir.join("service.log"))?;
    let http = reqwest::Client::new();

    // A real stored profile, as the raw loop's payload.
    let payload = rt.block_on(async {
        let r = http
            .post(format!("{}/users/authenticate/from_token", service.url))
            .header("content-type", "application/json")
            .body(users::auth_body(&users::token(&key, "payload")?))
            .send()
            .await?;
        anyhow::Ok(r.text().await?)
    })?;

    let url = format!("{}/users/authenticate/from_token", service.url);
    let load = |bodies: &Path, seconds: f64| -> Result<Outcome> {
        wrk::run(
            scripts,
            &Load {
                url: url.clone(),
                headers: Vec::new(),
                connections: cfg.connections,
                seconds,
                post_bodies: Some(bodies),
            },
        )
    };
    // Warm up, and size the token supply so each run creates new users only.
    let warm_file = dir.join("bodies-warm.txt");
    std::fs::write(&warm_file, auth_bodies(&key, "warm", 0, 200)?.join("\n"))?;
    let warm_seconds = cfg.warmup_seconds.max(1.0);
    let warm = load(&warm_file, warm_seconds)?;
    let per_run = ((warm.rps * cfg.seconds * 2.0) as usize).clamp(500, 200_000);

    let mut ours: Vec<Outcome> = Vec::new();
    let mut raw: Vec<RawOutcome> = Vec::new();
    let mut wrapped = 0usize;
    for i in 0..cfg.runs {
        let file = dir.join(format!("bodies-{i}.txt"));
        std::fs::write(
            &file,
            auth_bodies(&key, &format!("w{i}-"), 0, per_run)?.join("\n"),
        )?;
        let run_ours = || load(&file, cfg.seconds);
        let run_raw = || raw_sqlite(&raw_db, cfg.seconds, &payload, i);
        let (o, r) = if i % 2 == 0 {
            let o = run_ours()?;
            (o, run_raw()?)
        } else {
            let r = run_raw()?;
            (run_ours()?, r)
        };
        if o.requests as usize > per_run {
            wrapped += 1;
        }
        progress(&format!(
            "  authenticate {:.0} req/s, raw SQLite {:.0} tx/s",
            o.rps, r.rate
        ));
        ours.push(o);
        raw.push(r);
    }
    service.stop()?;

    let o_rps: Vec<f64> = ours.iter().map(|o| o.rps).collect();
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
    let raw_name = "raw SQLite durable insert loop, same table and settings";
    report.put(
        Row::measured("write.rps", format!("{label}: throughput"), "req/s")
            .ours(&o_rps)
            .baseline(raw_name, &r_rate)
            .ratio(&ratios(&o_rps, &r_rate)),
    );
    for (key, p99) in [("write.p50", false), ("write.p99", true)] {
        let o: Vec<f64> = ours
            .iter()
            .map(|x| if p99 { x.p99_us } else { x.p50_us } / 1000.0)
            .collect();
        let r: Vec<f64> = raw
            .iter()
            .map(|x| if p99 { x.p99_us } else { x.p50_us } / 1000.0)
            .collect();
        let what = if p99 { "p99" } else { "p50" };
        report.put(
            Row::measured(key, format!("authenticate: {what} latency"), "ms")
                .ours(&o)
                .baseline(format!("{raw_name} (one transaction)"), &r)
                .ratio(&ratios(&o, &r)),
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
