//! Section 3's memory rows, measured the way users load the service: the
//! shipped binary in its default configuration (default log level
//! included), users signed in through HTTP over 16 concurrent connections,
//! then one `GET /users`. Resident memory after it (`VmRSS`) and at its peak
//! (`VmHWM`) are compared with the baseline server holding the same bytes
//! and serving them once. Every run is a fresh pair of processes on a fresh
//! data directory. A quieter configuration (`USERS_LOG=warn`) is an extra row.

use std::path::Path;

use anyhow::{Result, bail};
use tokio::runtime::Runtime;

use crate::procs::Server;
use crate::report::{Goal, Report, Row};
use crate::stats::ratios;
use crate::users::{self, auth_bodies, dev_key};
use crate::{Config, progress};

/// Sign-ins in flight while seeding, as many clients signing in at once.
const SEEDING_CONNECTIONS: usize = 16;

/// `VmRSS` and `VmHWM` after one `GET /users`, in MiB, of the service and
/// of the baseline.
struct Measured {
    ours: (f64, f64),
    base: (f64, f64),
}

/// `GET /users` without credentials, as the official SDKs call it in the
/// default `local` mode.
async fn list(http: &reqwest::Client, url: &str) -> Result<Vec<u8>> {
    let response = http.get(format!("{url}/users")).send().await?;
    if response.status() != 200 {
        bail!("GET /users returned {}", response.status());
    }
    Ok(response.bytes().await?.to_vec())
}

/// Where a process's resident memory is (`RssAnon`: heap and stacks;
/// `RssFile`: the mapped binary and libraries), for the progress log.
fn breakdown(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    format!(
        "RSS {:.1} MiB (anon {:.1}, file {:.1})",
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:")
    )
}

/// One run: seed `users` users into a fresh service, list them, measure;
/// then the baseline on the same bytes.
fn once(cfg: &Config, rt: &Runtime, dir: &Path, users: usize, quiet: bool) -> Result<Measured> {
    let data = dir.join("data");
    let key = dev_key(&data)?;
    let log = dir.join("service.log");
    let service = if quiet {
        Server::service_quiet(&cfg.service_bin, &data, &log)?
    } else {
        Server::service(&cfg.service_bin, &data, &log)?
    };
    std::thread::sleep(cfg.settle);
    let idle = breakdown(service.pid());
    let bodies = auth_bodies(&key, "user", 0, users)?;
    let http = reqwest::Client::new();
    rt.block_on(users::authenticate_all(
        &http,
        &service.url,
        bodies,
        SEEDING_CONNECTIONS,
    ))?;
    std::thread::sleep(cfg.settle);
    let seeded = breakdown(service.pid());
    let body = rt.block_on(list(&http, &service.url))?;
    std::thread::sleep(cfg.settle);
    let ours = service.memory_mib()?;
    progress(&format!(
        "  service: idle {idle}; after seeding {seeded}; after GET /users ({} body) {}",
        body.len(),
        breakdown(service.pid())
    ));
    service.stop()?;

    let bodies = dir.join("baseline");
    std::fs::create_dir_all(&bodies)?;
    std::fs::write(bodies.join("users.json"), &body)?;
    let base = Server::baseline(&cfg.baseline_bin, &bodies, &dir.join("baseline.log"))?;
    let served = rt.block_on(list(&http, &base.url))?;
    anyhow::ensure!(
        served == body,
        "the baseline does not serve the service's bytes"
    );
    std::thread::sleep(cfg.settle);
    let base_mem = base.memory_mib()?;
    progress(&format!("  baseline: {}", breakdown(base.pid())));
    base.stop()?;
    let _ = std::fs::remove_dir_all(&data);
    Ok(Measured {
        ours,
        base: base_mem,
    })
}

/// The memory rows: default configuration, and `USERS_LOG=warn` beside.
pub fn run(cfg: &Config, rt: &Runtime, report: &mut Report) -> Result<()> {
    let users = cfg.scale_sizes[2];
    for (quiet, rss_key, peak_key, config) in [
        (
            false,
            "rss.users",
            "rss.users.peak",
            "default configuration",
        ),
        (
            true,
            "rss.users.quiet",
            "rss.users.quiet.peak",
            "USERS_LOG=warn",
        ),
    ] {
        progress(&format!(
            "memory: {users} users signed in over {SEEDING_CONNECTIONS} connections, then GET /users ({config})"
        ));
        let runs = (0..cfg.runs)
            .map(|i| {
                let tag = if quiet { "quiet" } else { "default" };
                once(
                    cfg,
                    rt,
                    &cfg.work_dir.join(format!("memory-{tag}-{i}")),
                    users,
                    quiet,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let col = |f: fn(&Measured) -> f64| runs.iter().map(f).collect::<Vec<_>>();
        let (rss, base_rss) = (col(|m| m.ours.0), col(|m| m.base.0));
        let (hwm, base_hwm) = (col(|m| m.ours.1), col(|m| m.base.1));
        report.put(
            Row::measured(
                rss_key,
                format!("RSS after GET /users, {users} users signed in concurrently ({config})"),
                "MiB",
            )
            .ours(&rss)
            .baseline("baseline server holding the same bytes", &base_rss)
            .ratio(&ratios(&rss, &base_rss))
            .goal(Goal::RatioAtMost(2.0)),
        );
        report.put(
            Row::measured(
                peak_key,
                format!("peak RSS (VmHWM), same runs ({config})"),
                "MiB",
            )
            .ours(&hwm)
            .baseline("baseline server, peak", &base_hwm)
            .ratio(&ratios(&hwm, &base_hwm))
            .goal(Goal::RatioAtMost(3.0)),
        );
    }
    Ok(())
}
