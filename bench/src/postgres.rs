//! Section 6: the service on PostgreSQL, one instance and two instances on
//! one database, beside the same figures on SQLite (one instance, its
//! default) measured in the same run.
//!
//! Each configuration gets a fresh database (SQLite file, or a new database in
//! one throwaway cluster started here, as the tests do), 1,000 users, then:
//! GET /users/{id} and GET /users with a bearer token, and authentications
//! of new users. With two instances, one wrk per instance runs at the same
//! time with half the connections each; throughput is their sum and latency
//! the mean of their percentiles. Everything shares the machine's 2 cores.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tokio::runtime::Runtime;
use users_harness::pg_cluster;

use crate::procs::Server;
use crate::report::{Report, Row};
use crate::stats::ratios;
use crate::users::{self, auth_bodies, dev_key, token};
use crate::wrk::{self, Load, Outcome, Scripts};
use crate::{Config, progress};

/// Set (to anything) to skip this section, as the PostgreSQL tests are
/// skipped (`cargo xtask ci` sets it for its `test` step).
pub const SKIP_ENV: &str = "USERS_SKIP_POSTGRES_TESTS";

/// Users stored before the reads.
const USERS: usize = 1_000;

/// One configuration's figures, one entry per run.
#[derive(Default)]
struct Figures {
    user: Vec<Outcome>,
    list: Vec<Outcome>,
    auth: Vec<Outcome>,
}

/// A backend and a number of instances.
#[derive(Clone, Copy)]
struct Setup {
    name: &'static str,
    postgres: bool,
    instances: usize,
}

/// A throwaway cluster, stopped when dropped.
struct Cluster(pg_cluster::Cluster);

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.0.stop("immediate");
    }
}

impl Cluster {
    fn start(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let port = pg_cluster::free_port()?;
        let cluster = pg_cluster::Cluster::init(dir, port).context("initdb")?;
        cluster.start().context("starting PostgreSQL")?;
        Ok(Self(cluster))
    }

    /// A new empty database; its URL.
    fn database(&self, name: &str) -> Result<String> {
        let out = self
            .0
            .command("createdb")
            .arg("-h")
            .arg(self.0.root.join("sock"))
            .args(["-p", &self.0.port.to_string(), "-U", "postgres", name])
            .output()?;
        if !out.status.success() {
            bail!("createdb {name}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(self.0.database_url(name))
    }
}

/// Runs one wrk per URL at the same time, `connections` split between them;
/// `bodies[i]` are POSTed to `urls[i]` when given.
fn load_all(
    scripts: &Scripts,
    urls: &[String],
    bearer: Option<&str>,
    bodies: Option<&[PathBuf]>,
    connections: u32,
    seconds: f64,
) -> Result<Outcome> {
    let per = (connections / urls.len() as u32).max(1);
    let outcomes: Vec<Result<Outcome>> = std::thread::scope(|s| {
        let handles: Vec<_> = urls
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let load = Load {
                    url: url.clone(),
                    headers: bearer
                        .map(|b| vec![format!("Authorization: Bearer {b}")])
                        .unwrap_or_default(),
                    connections: per,
                    seconds,
                    post_bodies: bodies.map(|b| b[i].as_path()),
                };
                s.spawn(move || wrk::run(scripts, &load))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("wrk thread"))
            .collect()
    });
    let outcomes = outcomes.into_iter().collect::<Result<Vec<_>>>()?;
    let n = outcomes.len() as f64;
    Ok(Outcome {
        requests: outcomes.iter().map(|o| o.requests).sum(),
        rps: outcomes.iter().map(|o| o.rps).sum(),
        p50_us: outcomes.iter().map(|o| o.p50_us).sum::<f64>() / n,
        p99_us: outcomes.iter().map(|o| o.p99_us).sum::<f64>() / n,
        bytes_per_s: outcomes.iter().map(|o| o.bytes_per_s).sum(),
    })
}

/// Measures one setup: start, seed, reads, then writes (which add users).
fn measure(
    cfg: &Config,
    rt: &Runtime,
    scripts: &Scripts,
    setup: Setup,
    cluster: Option<&Cluster>,
) -> Result<Figures> {
    let dir = cfg.work_dir.join("postgres").join(setup.name);
    let data = dir.join("data");
    let key = dev_key(&data)?;
    let mut args: Vec<String> = Vec::new();
    if setup.postgres {
        let cluster = cluster.context("no cluster")?;
        args = vec!["--database".into(), cluster.database(setup.name)?];
    }
    let servers = (0..setup.instances)
        .map(|i| {
            Server::service_with(
                &cfg.service_bin,
                &data,
                &dir.join(format!("service-{i}.log")),
                &args,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let http = reqwest::Client::new();
    let bearer = token(&key, "reader")?;
    let users = if cfg.quick { 50 } else { USERS };
    let mut bodies = vec![users::auth_body(&bearer)];
    bodies.extend(auth_bodies(&key, "seed", 1, users - 1)?);
    rt.block_on(users::authenticate_all(&http, &urls[0], bodies, 16))?;
    let me = rt.block_on(users::fetch(&http, &urls[0], "/users", &bearer))?;
    let list: serde_json::Value = serde_json::from_slice(&me)?;
    let reader_id = list["iterable"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(|u| u["id"].as_str())
        .context("the reader is listed first")?
        .to_string();
    if cfg.warmup_seconds > 0.0 {
        let user_urls: Vec<String> = urls
            .iter()
            .map(|u| format!("{u}/users/{reader_id}"))
            .collect();
        load_all(
            scripts,
            &user_urls,
            Some(&bearer),
            None,
            cfg.connections,
            cfg.warmup_seconds,
        )?;
    }

    let mut figures = Figures::default();
    for _ in 0..cfg.runs {
        let user_urls: Vec<String> = urls
            .iter()
            .map(|u| format!("{u}/users/{reader_id}"))
            .collect();
        let o = load_all(
            scripts,
            &user_urls,
            Some(&bearer),
            None,
            cfg.connections,
            cfg.seconds,
        )?;
        figures.user.push(o);
        let list_urls: Vec<String> = urls.iter().map(|u| format!("{u}/users")).collect();
        let l = load_all(
            scripts,
            &list_urls,
            Some(&bearer),
            None,
            cfg.connections,
            cfg.seconds,
        )?;
        figures.list.push(l);
        progress(&format!(
            "  {}: GET /users/{{id}} {:.0} req/s, GET /users ({users} users) {:.0} req/s",
            setup.name, o.rps, l.rps
        ));
    }
    let auth_urls: Vec<String> = urls
        .iter()
        .map(|u| format!("{u}/users/authenticate/from_token"))
        .collect();
    let per_file = if cfg.quick { 300 } else { 25_000 };
    for run in 0..cfg.runs {
        let files = (0..urls.len())
            .map(|i| {
                let file = dir.join(format!("bodies-{run}-{i}.txt"));
                let prefix = format!("{}-r{run}-i{i}-", setup.name);
                std::fs::write(&file, auth_bodies(&key, &prefix, 0, per_file)?.join("\n"))?;
                Ok(file)
            })
            .collect::<Result<Vec<_>>>()?;
        let a = load_all(
            scripts,
            &auth_urls,
            None,
            Some(&files),
            cfg.connections,
            cfg.seconds,
        )?;
        progress(&format!(
            "  {}: authenticate {:.0} req/s",
            setup.name, a.rps
        ));
        figures.auth.push(a);
    }
    for s in servers {
        s.stop()?;
    }
    Ok(figures)
}

fn rps(v: &[Outcome]) -> Vec<f64> {
    v.iter().map(|o| o.rps).collect()
}

fn ms(v: &[Outcome], p99: bool) -> Vec<f64> {
    v.iter()
        .map(|o| if p99 { o.p99_us } else { o.p50_us } / 1000.0)
        .collect()
}

/// Section 6.
pub fn run(cfg: &Config, rt: &Runtime, scripts: &Scripts, report: &mut Report) -> Result<()> {
    let dir = cfg.work_dir.join("postgres");
    std::fs::create_dir_all(&dir)?;
    // The cluster's directory must be reachable by the `postgres` user when
    // we are root: a fresh one under the system temporary directory.
    let tmp = std::env::temp_dir().join(format!("users-bench-pg-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    let cluster = Cluster::start(&tmp)?;
    let setups = [
        Setup {
            name: "sqlite1",
            postgres: false,
            instances: 1,
        },
        Setup {
            name: "pg1",
            postgres: true,
            instances: 1,
        },
        Setup {
            name: "pg2",
            postgres: true,
            instances: 2,
        },
    ];
    let mut all = Vec::new();
    for setup in setups {
        progress(&format!("postgres section: {}", setup.name));
        all.push(measure(cfg, rt, scripts, setup, Some(&cluster))?);
    }
    drop(cluster);
    let _ = std::fs::remove_dir_all(&tmp);
    let [sqlite, pg1, pg2] =
        <[Figures; 3]>::try_from(all).map_err(|_| anyhow::anyhow!("3 setups"))?;
    let users = if cfg.quick { 50 } else { USERS };
    let base = "SQLite, one instance";
    let c = cfg.connections;
    let put =
        |report: &mut Report, key: &'static str, label: String, unit, o: Vec<f64>, b: Vec<f64>| {
            report.put(
                Row::measured(key, label, unit)
                    .ours(&o)
                    .baseline(base, &b)
                    .ratio(&ratios(&o, &b)),
            );
        };
    put(
        report,
        "pg.auth.rps",
        format!(
            "PostgreSQL, one instance: authenticate (a new user per request, {c} connections): throughput"
        ),
        "req/s",
        rps(&pg1.auth),
        rps(&sqlite.auth),
    );
    put(
        report,
        "pg.auth.p50",
        "PostgreSQL, one instance: authenticate: p50 latency".into(),
        "ms",
        ms(&pg1.auth, false),
        ms(&sqlite.auth, false),
    );
    put(
        report,
        "pg.auth.p99",
        "PostgreSQL, one instance: authenticate: p99 latency".into(),
        "ms",
        ms(&pg1.auth, true),
        ms(&sqlite.auth, true),
    );
    put(
        report,
        "pg.auth2.rps",
        "PostgreSQL, two instances: authenticate: throughput (sum)".into(),
        "req/s",
        rps(&pg2.auth),
        rps(&sqlite.auth),
    );
    put(
        report,
        "pg.auth2.p99",
        "PostgreSQL, two instances: authenticate: p99 latency".into(),
        "ms",
        ms(&pg2.auth, true),
        ms(&sqlite.auth, true),
    );
    put(
        report,
        "pg.user.rps",
        "PostgreSQL, one instance: GET /users/{id} with a bearer token: throughput".into(),
        "req/s",
        rps(&pg1.user),
        rps(&sqlite.user),
    );
    put(
        report,
        "pg.user.p50",
        "PostgreSQL, one instance: GET /users/{id}: p50 latency".into(),
        "ms",
        ms(&pg1.user, false),
        ms(&sqlite.user, false),
    );
    put(
        report,
        "pg.user.p99",
        "PostgreSQL, one instance: GET /users/{id}: p99 latency".into(),
        "ms",
        ms(&pg1.user, true),
        ms(&sqlite.user, true),
    );
    put(
        report,
        "pg.user2.rps",
        "PostgreSQL, two instances: GET /users/{id}: throughput (sum)".into(),
        "req/s",
        rps(&pg2.user),
        rps(&sqlite.user),
    );
    put(
        report,
        "pg.list.rps",
        format!("PostgreSQL, one instance: GET /users, {users} users: throughput"),
        "req/s",
        rps(&pg1.list),
        rps(&sqlite.list),
    );
    put(
        report,
        "pg.list.p50",
        format!("PostgreSQL, one instance: GET /users, {users} users: p50 latency"),
        "ms",
        ms(&pg1.list, false),
        ms(&sqlite.list, false),
    );
    put(
        report,
        "pg.list2.rps",
        format!("PostgreSQL, two instances: GET /users, {users} users: throughput (sum)"),
        "req/s",
        rps(&pg2.list),
        rps(&sqlite.list),
    );
    Ok(())
}
