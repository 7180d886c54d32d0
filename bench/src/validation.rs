//! Section 7: what the generated schema checks cost the service (issue 23).
//!
//! Three release `users-service` processes in their default configuration
//! (default log level, SQLite), differing only in the checks:
//! - **default**: request checks on, response checks off (the release
//!   defaults);
//! - **requests off**: `--validate-requests false`;
//! - **responses on**: `--validate-responses true` (request checks on too).
//!
//! Two operations: `GET /users/{id}` (a stored user, no credentials, as in
//! the read rows) and sign-in (`POST /users/authenticate/from_token`, a
//! fresh user per request from a file of pre-minted tokens, as in the write
//! rows). Every run measures the three processes back to back in a rotated
//! order; each ratio is per run, so the three share the machine's state.

use std::path::Path;

use anyhow::{Context, Result};
use tokio::runtime::Runtime;

use crate::procs::Server;
use crate::report::{Report, Row};
use crate::stats::ratios;
use crate::users::{self, auth_bodies, dev_key};
use crate::wrk::{self, Load, Scripts};
use crate::{Config, progress};

/// The three configurations, in the order of their columns.
const CONFIGS: [(&str, &[&str]); 3] = [
    ("default", &[]),
    ("requests off", &["--validate-requests", "false"]),
    ("responses on", &["--validate-responses", "true"]),
];

/// One started configuration: its process and the user id to read.
struct Target {
    server: Server,
    user: String,
}

/// Starts one configuration on its own data directory and signs one user in.
fn start(cfg: &Config, rt: &Runtime, dir: &Path, args: &[&str]) -> Result<Target> {
    let data = dir.join("data");
    let key = dev_key(&data)?;
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let server = Server::service_with(&cfg.service_bin, &data, &dir.join("service.log"), &args)?;
    let body = users::auth_body(&users::token(&key, "reader")?);
    let user = rt.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{}/users/authenticate/from_token", server.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?
            .error_for_status()?;
        let user: serde_json::Value = response.json().await?;
        anyhow::Ok(
            user["id"]
                .as_str()
                .context("no id in the signed-in user")?
                .to_string(),
        )
    })?;
    Ok(Target { server, user })
}

/// Requests per second of each configuration, per run.
type Rates = [Vec<f64>; 3];

/// Section 7's rows.
pub fn run(cfg: &Config, rt: &Runtime, scripts: &Scripts, report: &mut Report) -> Result<()> {
    let dir = cfg.work_dir.join("validation");
    let mut targets = Vec::new();
    for (i, (name, args)) in CONFIGS.iter().enumerate() {
        let sub = dir.join(format!("config-{i}"));
        targets.push(start(cfg, rt, &sub, args).with_context(|| format!("starting {name}"))?);
    }
    // One signing key per data directory: each configuration's tokens.
    let keys = (0..CONFIGS.len())
        .map(|i| dev_key(&dir.join(format!("config-{i}/data"))))
        .collect::<Result<Vec<_>>>()?;
    let get = |t: &Target| Load {
        url: format!("{}/users/{}", t.server.url, t.user),
        headers: Vec::new(),
        connections: cfg.connections,
        seconds: cfg.seconds,
        post_bodies: None,
    };
    let mut reads: Rates = Default::default();
    let mut writes: Rates = Default::default();
    if cfg.warmup_seconds > 0.0 {
        for t in &targets {
            wrk::run(
                scripts,
                &Load {
                    seconds: cfg.warmup_seconds,
                    ..get(t)
                },
            )?;
        }
    }
    // Enough tokens that every sign-in of a run creates a user.
    let per_run = if cfg.quick { 2_000 } else { 40_000 };
    for run in 0..cfg.runs {
        for step in 0..CONFIGS.len() {
            let c = (run + step) % CONFIGS.len();
            reads[c].push(wrk::run(scripts, &get(&targets[c]))?.rps);
        }
        for step in 0..CONFIGS.len() {
            let c = (run + step) % CONFIGS.len();
            let file = dir.join(format!("bodies-{c}-{run}.txt"));
            let bodies = auth_bodies(&keys[c], &format!("v{run}-"), 0, per_run)?;
            std::fs::write(&file, bodies.join("\n"))?;
            let outcome = wrk::run(
                scripts,
                &Load {
                    url: format!("{}/users/authenticate/from_token", targets[c].server.url),
                    post_bodies: Some(&file),
                    ..get(&targets[c])
                },
            )?;
            std::fs::remove_file(&file)?;
            writes[c].push(outcome.rps);
        }
        progress(&format!(
            "  run {}: GET /users/{{id}} {:.0} / {:.0} / {:.0} req/s, sign-in {:.0} / {:.0} / {:.0} req/s ({})",
            run + 1,
            reads[0][run],
            reads[1][run],
            reads[2][run],
            writes[0][run],
            writes[1][run],
            writes[2][run],
            CONFIGS.map(|c| c.0).join(" / ")
        ));
    }
    for t in targets {
        t.server.stop()?;
    }
    let keys = [
        ("validation.user.requests", "validation.user.responses"),
        (
            "validation.sign_in.requests",
            "validation.sign_in.responses",
        ),
    ];
    let what = [
        "GET /users/{id}",
        "sign-in (POST /users/authenticate/from_token, a new user each)",
    ];
    for ((keys, what), rates) in keys.into_iter().zip(what).zip([&reads, &writes]) {
        put(report, keys, what, rates, cfg.connections);
    }
    Ok(())
}

/// Two rows per operation: request checks on (the default) against off,
/// and response checks on against off (the default).
fn put(
    report: &mut Report,
    (requests_key, responses_key): (&'static str, &'static str),
    what: &str,
    rates: &Rates,
    connections: u32,
) {
    let [default, requests_off, responses_on] = rates;
    report.put(
        Row::measured(
            requests_key,
            format!("{what}, {connections} connections, request checks on (release default)"),
            "req/s",
        )
        .ours(default)
        .baseline("request checks off", requests_off)
        .ratio(&ratios(default, requests_off)),
    );
    report.put(
        Row::measured(
            responses_key,
            format!("{what}, {connections} connections, response checks on"),
            "req/s",
        )
        .ours(responses_on)
        .baseline("response checks off (release default)", default)
        .ratio(&ratios(responses_on, default)),
    );
}
