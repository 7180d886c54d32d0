//! Sections 1, 3 and 4: the read path, scale and memory, and the client
//! overhead, all on one service instance that grows from a few users to many.
//! Reads are measured in the default (`local`) access mode without
//! credentials, as the official SDKs call it, and in `tokens` mode with a
//! bearer token (a second instance on the same data directory).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::runtime::Runtime;
use uuid::Uuid;

use crate::client;
use crate::procs::Server;
use crate::report::{Goal, Report, Row, State};
use crate::stats::ratios;
use crate::users::{self, auth_bodies, auth_body, dev_key, token};
use crate::wrk::{self, Load, Outcome, Scripts};
use crate::{Config, progress};

/// One paired run: our outcome and memory, the baseline's.
struct Pair {
    ours: Outcome,
    base: Outcome,
    ours_mem: (f64, f64),
    base_mem: (f64, f64),
}

fn col(pairs: &[Pair], f: impl Fn(&Pair) -> f64) -> Vec<f64> {
    pairs.iter().map(f).collect()
}

/// Runs wrk alternately against both servers, sending `headers` (`Name: value`).
fn compare(
    cfg: &Config,
    scripts: &Scripts,
    ours: &Server,
    base: &Server,
    path: &str,
    headers: &[String],
    connections: u32,
) -> Result<Vec<Pair>> {
    let run = |server: &Server, seconds: f64| -> Result<Outcome> {
        let load = Load {
            url: format!("{}{path}", server.url),
            headers: headers.to_vec(),
            connections,
            seconds,
            post_bodies: None,
        };
        wrk::run(scripts, &load).with_context(|| {
            let state = std::fs::read_to_string(format!("/proc/{}/status", server.pid()))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("State:"))
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "process gone".into());
            format!("load on {} ({state})", server.name)
        })
    };
    if cfg.warmup_seconds > 0.0 {
        run(ours, cfg.warmup_seconds)?;
        run(base, cfg.warmup_seconds)?;
    }
    let mut pairs = Vec::new();
    for i in 0..cfg.runs {
        let (o, b) = if i % 2 == 0 {
            let o = run(ours, cfg.seconds)?;
            (o, run(base, cfg.seconds)?)
        } else {
            let b = run(base, cfg.seconds)?;
            (run(ours, cfg.seconds)?, b)
        };
        pairs.push(Pair {
            ours: o,
            base: b,
            ours_mem: ours.memory_mib()?,
            base_mem: base.memory_mib()?,
        });
        progress(&format!(
            "  {path}: ours {:.0} req/s, baseline {:.0} req/s",
            o.rps, b.rps
        ));
    }
    Ok(pairs)
}

fn rps_row(key: &'static str, label: String, pairs: &[Pair], goal: Goal) -> Row {
    let o = col(pairs, |p| p.ours.rps);
    let b = col(pairs, |p| p.base.rps);
    Row::measured(key, label, "req/s")
        .ours(&o)
        .baseline("baseline server, same bytes", &b)
        .ratio(&ratios(&o, &b))
        .goal(goal)
}

fn latency_row(key: &'static str, label: String, pairs: &[Pair], p99: bool, goal: Goal) -> Row {
    let pick = |o: &Outcome| if p99 { o.p99_us } else { o.p50_us } / 1000.0;
    let o = col(pairs, |p| pick(&p.ours));
    let b = col(pairs, |p| pick(&p.base));
    Row::measured(key, label, "ms")
        .ours(&o)
        .baseline("baseline server, same bytes", &b)
        .ratio(&ratios(&o, &b))
        .goal(goal)
}

/// Row keys and throughput goal of one access mode's read figures.
struct ReadKeys {
    user: [&'static str; 3],
    list: [&'static str; 3],
    rps_goal: Goal,
}

/// Default (`local`) mode, no credentials, as the official SDKs call it;
/// throughput at least 0.97 of the baseline's (issue 25).
const LOCAL_KEYS: ReadKeys = ReadKeys {
    user: ["read.user.rps", "read.user.p50", "read.user.p99"],
    list: ["read.list.rps", "read.list.p50", "read.list.p99"],
    rps_goal: Goal::RatioAtLeast(0.97),
};

/// `tokens` mode with a bearer token; throughput at least 0.95 of the
/// baseline's (issue 25: it verifies a token per request).
const TOKENS_KEYS: ReadKeys = ReadKeys {
    user: [
        "read.tokens.user.rps",
        "read.tokens.user.p50",
        "read.tokens.user.p99",
    ],
    list: [
        "read.tokens.list.rps",
        "read.tokens.list.p50",
        "read.tokens.list.p99",
    ],
    rps_goal: Goal::RatioAtLeast(0.95),
};

/// Read-path latency goal (issue 25): p99 at most 1.1 of the baseline's.
const READ_P99_GOAL: Goal = Goal::RatioAtMost(1.1);

/// Throughput, p50 and p99 of one path against the baseline serving its bytes.
#[allow(clippy::too_many_arguments)]
fn read_rows(
    cfg: &Config,
    scripts: &Scripts,
    report: &mut Report,
    (ours, base): (&Server, &Server),
    path: &str,
    headers: &[String],
    (keys, rps_goal): ([&'static str; 3], Goal),
    label: &str,
) -> Result<()> {
    progress(&format!("read: {label}"));
    let pairs = compare(cfg, scripts, ours, base, path, headers, cfg.connections)?;
    report.put(rps_row(
        keys[0],
        format!("{label}: throughput"),
        &pairs,
        rps_goal,
    ));
    report.put(latency_row(
        keys[1],
        format!("{label}: p50 latency"),
        &pairs,
        false,
        Goal::None,
    ));
    report.put(latency_row(
        keys[2],
        format!("{label}: p99 latency"),
        &pairs,
        true,
        READ_P99_GOAL,
    ));
    Ok(())
}

/// `GET /users/{id}` and `GET /users` of the reader, in `tokens` mode with its
/// bearer token: a second service on the same data directory, and a baseline
/// serving what it answers.
fn tokens_mode(
    cfg: &Config,
    rt: &Runtime,
    scripts: &Scripts,
    report: &mut Report,
    (data, dir): (&Path, &Path),
    bearer: &str,
    user_path: &str,
) -> Result<()> {
    let args = ["--access".to_string(), "tokens".to_string()];
    let ours = Server::service_with(&cfg.service_bin, data, &dir.join("tokens.log"), &args)?;
    let http = reqwest::Client::new();
    let user = rt.block_on(users::fetch(&http, &ours.url, user_path, bearer))?;
    let list = rt.block_on(users::fetch(&http, &ours.url, "/users", bearer))?;
    let id = user_path.trim_start_matches("/users/").parse::<Uuid>()?;
    let bdir = baseline_dir(&dir.join("baseline-tokens"), &list, Some((id, &user)))?;
    let base = Server::baseline(&cfg.baseline_bin, &bdir, &dir.join("baseline.log"))?;
    let headers = [format!("Authorization: Bearer {bearer}")];
    read_rows(
        cfg,
        scripts,
        report,
        (&ours, &base),
        user_path,
        &headers,
        (TOKENS_KEYS.user, TOKENS_KEYS.rps_goal),
        &format!(
            "`tokens` mode, bearer token: GET /users/{{id}} ({} body)",
            mib(user.len())
        ),
    )?;
    read_rows(
        cfg,
        scripts,
        report,
        (&ours, &base),
        "/users",
        &headers,
        (TOKENS_KEYS.list, TOKENS_KEYS.rps_goal),
        &format!(
            "`tokens` mode, bearer token: GET /users, the caller only ({} body)",
            mib(list.len())
        ),
    )?;
    base.stop()?;
    ours.stop()
}

/// One configuration of the service: what sets it apart from the default.
struct Setup {
    /// Its name in log file names.
    tag: &'static str,
    /// Extra command-line arguments.
    args: &'static [&'static str],
    /// `USERS_LOG` if not the default.
    log_level: Option<&'static str>,
}

impl Setup {
    /// The default configuration.
    const DEFAULT: Self = Self {
        tag: "default",
        args: &[],
        log_level: None,
    };

    fn start(&self, cfg: &Config, data: &Path, dir: &Path) -> Result<Server> {
        let args: Vec<String> = self.args.iter().map(|a| a.to_string()).collect();
        let log = dir.join(format!("{}.log", self.tag));
        Server::service_configured(&cfg.service_bin, data, &log, &args, self.log_level)
    }
}

/// What a same-route comparison reports: one throughput row.
struct Comparison {
    key: &'static str,
    /// What is measured (the row's label).
    label: &'static str,
    /// What the second configuration is (the baseline column).
    baseline: &'static str,
    goal: Goal,
}

/// The same route on two fresh services on one data directory, `ours`
/// against `base`, alternating: the cost of what sets them apart.
fn same_route(
    cfg: &Config,
    scripts: &Scripts,
    report: &mut Report,
    (data, dir): (&Path, &Path),
    path: &str,
    (ours, base): (&Setup, &Setup),
    row: Comparison,
) -> Result<()> {
    let (ours, base) = (ours.start(cfg, data, dir)?, base.start(cfg, data, dir)?);
    progress(&format!("read: {}", row.label));
    let pairs = compare(cfg, scripts, &ours, &base, path, &[], cfg.connections)?;
    let (o, b) = (col(&pairs, |p| p.ours.rps), col(&pairs, |p| p.base.rps));
    report.put(
        Row::measured(row.key, row.label, "req/s")
            .ours(&o)
            .baseline(row.baseline, &b)
            .ratio(&ratios(&o, &b))
            .goal(row.goal),
    );
    ours.stop()?;
    base.stop()
}

/// The cost of metrics and request ids on `GET /users/{id}`: both on (the
/// default) against `--metrics false --request-ids false`.
fn ops_cost(
    cfg: &Config,
    scripts: &Scripts,
    report: &mut Report,
    dirs: (&Path, &Path),
    user_path: &str,
) -> Result<()> {
    let off = Setup {
        tag: "ops-off",
        args: &["--metrics", "false", "--request-ids", "false"],
        log_level: None,
    };
    let row = Comparison {
        key: "read.ops.user.rps",
        label: "GET /users/{id}: metrics and request ids on (the default): throughput",
        baseline: "the service with both off",
        goal: Goal::RatioAtLeast(0.9),
    };
    same_route(
        cfg,
        scripts,
        report,
        dirs,
        user_path,
        (&Setup::DEFAULT, &off),
        row,
    )
}

/// The cost of the access log on `GET /users/{id}`: the default (`info`: a
/// `response` line per request) against `USERS_LOG=warn` (no line). An
/// extra row: the read rows above measure the default.
fn log_cost(
    cfg: &Config,
    scripts: &Scripts,
    report: &mut Report,
    dirs: (&Path, &Path),
    user_path: &str,
) -> Result<()> {
    let quiet = Setup {
        tag: "log-warn",
        args: &[],
        log_level: Some("warn"),
    };
    let row = Comparison {
        key: "read.log.user.rps",
        label: "GET /users/{id}: a `response` log line per request (the default `info` level): throughput",
        baseline: "the service at `USERS_LOG=warn`",
        goal: Goal::None,
    };
    same_route(
        cfg,
        scripts,
        report,
        dirs,
        user_path,
        (&Setup::DEFAULT, &quiet),
        row,
    )
}

/// A directory of baseline bodies.
fn baseline_dir(dir: &Path, list: &[u8], user: Option<(Uuid, &[u8])>) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("users.json"), list)?;
    if let Some((id, body)) = user {
        std::fs::write(dir.join(format!("user-{id}.json")), body)?;
    }
    Ok(dir.to_path_buf())
}

fn mib(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// Connections for a response size: fewer for multi-megabyte bodies.
fn connections_for(cfg: &Config, body_len: usize) -> u32 {
    if body_len > (1 << 20) {
        cfg.connections.min(4)
    } else {
        cfg.connections
    }
}

/// Idle memory of fresh processes (no request served yet).
fn rss_idle(cfg: &Config, dir: &Path, empty_list: &[u8], report: &mut Report) -> Result<()> {
    let base_dir = baseline_dir(&dir.join("baseline-empty"), empty_list, None)?;
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for i in 0..cfg.runs {
        let data = dir.join(format!("idle-{i}"));
        dev_key(&data)?;
        let s = Server::service(&cfg.service_bin, &data, &dir.join("service.log"))?;
        let b = Server::baseline(&cfg.baseline_bin, &base_dir, &dir.join("baseline.log"))?;
        std::thread::sleep(cfg.settle);
        ours.push(s.memory_mib()?.0);
        base.push(b.memory_mib()?.0);
        s.stop()?;
        b.stop()?;
    }
    report.put(
        Row::measured("rss.idle", "RSS idle (fresh start, empty database)", "MiB")
            .ours(&ours)
            .baseline("baseline server, idle", &base)
            .ratio(&ratios(&ours, &base))
            .goal(Goal::OursBelow(30.0)),
    );
    Ok(())
}

/// Sections 1, 3 and 4.
pub fn run(cfg: &Config, rt: &Runtime, scripts: &Scripts, report: &mut Report) -> Result<()> {
    let dir = cfg.work_dir.join("read");
    let data = dir.join("data");
    let key = dev_key(&data)?;
    let log = dir.join("service.log");
    let http = reqwest::Client::new();
    let bearer = token(&key, "reader")?;

    // The service, with one user (the reader) to start with.
    let service = Server::service(&cfg.service_bin, &data, &log)?;
    let url = service.url.clone();
    let empty = rt.block_on(users::fetch(&http, &url, "/users", &bearer))?;
    rss_idle(cfg, &dir, &empty, report)?;

    rt.block_on(users::authenticate_all(
        &http,
        &url,
        vec![auth_body(&bearer)],
        1,
    ))?;
    let mut seeded = 1usize;
    let mut seed_to = |n: usize| -> Result<()> {
        if n > seeded {
            let started = std::time::Instant::now();
            let bodies = auth_bodies(&key, "user", seeded, n - seeded)?;
            rt.block_on(users::authenticate_all(&http, &url, bodies, 16))?;
            progress(&format!(
                "  seeded {} users in {:.1} s",
                n - seeded,
                started.elapsed().as_secs_f64()
            ));
            seeded = n;
        }
        Ok(())
    };
    let list = |rt: &Runtime| {
        rt.block_on(users::fetch(
            &reqwest::Client::new(),
            &service.url,
            "/users",
            &bearer,
        ))
    };

    // Scale, small.
    let [small, mid, large] = cfg.scale_sizes;
    let scale = |key: &'static str,
                 n: usize,
                 report: &mut Report,
                 seed_to: &mut dyn FnMut(usize) -> Result<()>|
     -> Result<Vec<Pair>> {
        seed_to(n)?;
        let body = list(rt)?;
        let bdir = baseline_dir(&dir.join(format!("baseline-{n}")), &body, None)?;
        let base = Server::baseline(&cfg.baseline_bin, &bdir, &dir.join("baseline.log"))?;
        progress(&format!(
            "scale: GET /users with {n} users ({})",
            mib(body.len())
        ));
        let pairs = compare(
            cfg,
            scripts,
            &service,
            &base,
            "/users",
            &[],
            connections_for(cfg, body.len()),
        )?;
        report.put(rps_row(
            key,
            format!(
                "GET /users, {n} users ({} body): throughput",
                mib(body.len())
            ),
            &pairs,
            Goal::RatioAtLeast(1.0 / 1.5),
        ));
        if key == "scale.large" {
            let o = col(&pairs, |p| p.ours_mem.0);
            let b = col(&pairs, |p| p.base_mem.0);
            let hwm = col(&pairs, |p| p.ours_mem.1);
            let peak = hwm.iter().copied().fold(0.0, f64::max);
            report.put(
                Row::measured(
                    "rss.large",
                    format!(
                        "RSS after serving GET /users with {n} users (peak VmHWM {peak:.0} MiB)"
                    ),
                    "MiB",
                )
                .ours(&o)
                .baseline("baseline server holding the same bytes", &b)
                .ratio(&ratios(&o, &b))
                .goal(Goal::RatioAtMost(3.0)),
            );
        }
        base.stop()?;
        Ok(pairs)
    };
    scale("scale.small", small, report, &mut seed_to)?;

    // Read path at `read_users` users, and the client overhead.
    seed_to(cfg.read_users)?;
    let body = list(rt)?;
    let profile: serde_json::Value = rt.block_on(async {
        let r = http
            .post(format!("{url}/users/authenticate/from_token"))
            .header("content-type", "application/json")
            .body(auth_body(&bearer))
            .send()
            .await?;
        anyhow::Ok(r.json().await?)
    })?;
    let id: Uuid = profile["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .context("authenticate returned no id")?;
    let user_path = format!("/users/{id}");
    let user_body = rt.block_on(users::fetch(&http, &url, &user_path, &bearer))?;
    let bdir = baseline_dir(&dir.join("baseline-read"), &body, Some((id, &user_body)))?;
    let base = Server::baseline(&cfg.baseline_bin, &bdir, &dir.join("baseline.log"))?;
    let check = rt.block_on(users::fetch(&http, &base.url, &user_path, &bearer))?;
    anyhow::ensure!(
        check == user_body,
        "the baseline does not serve the service's bytes"
    );

    progress("client: generated client vs raw reqwest");
    match rt.block_on(client::compare(cfg, &base.url, &bearer, id)) {
        Ok(row) => report.put(row),
        Err(e) => report.mark("client", State::Failed(format!("{e:#}"))),
    }

    let n = cfg.read_users;
    let servers = (&service, &base);
    read_rows(
        cfg,
        scripts,
        report,
        servers,
        &user_path,
        &[],
        (LOCAL_KEYS.user, LOCAL_KEYS.rps_goal),
        &format!("GET /users/{{id}} ({} body)", mib(user_body.len())),
    )?;
    read_rows(
        cfg,
        scripts,
        report,
        servers,
        "/users",
        &[],
        (LOCAL_KEYS.list, LOCAL_KEYS.rps_goal),
        &format!("GET /users, {n} users ({} body)", mib(body.len())),
    )?;
    base.stop()?;
    if let Err(e) = tokens_mode(cfg, rt, scripts, report, (&data, &dir), &bearer, &user_path) {
        report.mark("read.tokens", State::Failed(format!("{e:#}")));
    }
    if let Err(e) = ops_cost(cfg, scripts, report, (&data, &dir), &user_path) {
        report.mark("read.ops", State::Failed(format!("{e:#}")));
    }
    if let Err(e) = log_cost(cfg, scripts, report, (&data, &dir), &user_path) {
        report.mark("read.log", State::Failed(format!("{e:#}")));
    }

    // Scale, middle and large, and the growth between them.
    let at_mid = scale("scale.mid", mid, report, &mut seed_to)?;
    let at_large = scale("scale.large", large, report, &mut seed_to)?;
    // Cost per request is 1 / throughput, so growth is rps(mid) / rps(large).
    let ours_growth = ratios(
        &col(&at_mid, |p| p.ours.rps),
        &col(&at_large, |p| p.ours.rps),
    );
    let base_growth = ratios(
        &col(&at_mid, |p| p.base.rps),
        &col(&at_large, |p| p.base.rps),
    );
    let size_ratio = large as f64 / mid as f64;
    report.put(
        Row::measured(
            "scale.growth",
            format!("GET /users cost growth, {large} vs {mid} users ({size_ratio:.0}x the users)"),
            "x",
        )
        .ours(&ours_growth)
        .baseline("baseline growth", &base_growth)
        .ratio(&ratios(&ours_growth, &base_growth))
        .goal(Goal::OursBelow(size_ratio * 1.5)),
    );
    service.stop()?;
    Ok(())
}

/// How long to let a fresh process settle before reading its memory.
pub fn default_settle(quick: bool) -> Duration {
    Duration::from_millis(if quick { 300 } else { 1000 })
}
