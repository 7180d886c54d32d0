//! Benchmarks of the Users API workspace: the service's read and write
//! paths against a minimal baseline server and a raw SQLite loop, scaling
//! and memory, the generated client against raw reqwest, the code
//! generator, and what the generated code costs to compile. Run everything with `cargo xtask bench`; the report goes to
//! `docs/PERFORMANCE.md`.
//!
//! Every figure is measured alternately with its baseline in the same run
//! of the harness and repeated; the report gives the median and the range.
//! All load goes to servers this harness starts on 127.0.0.1, and every
//! load run is bounded in time.

pub mod client;
pub mod codegen;
pub mod compile;
pub mod memory;
pub mod postgres;
pub mod procs;
pub mod report;
pub mod servers;
pub mod stats;
pub mod users;
pub mod validation;
pub mod write;
pub mod wrk;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

pub use report::{ROWS, Report, State};

/// What to run and how hard.
#[derive(Debug, Clone)]
pub struct Config {
    /// The workspace root (for `spec/`, `scripts/` and cargo).
    pub root: PathBuf,
    /// The `users-service` binary under test.
    pub service_bin: PathBuf,
    /// The `users-bench-baseline` binary.
    pub baseline_bin: PathBuf,
    /// Scratch space (data directories, bodies, scratch builds); emptied first.
    pub work_dir: PathBuf,
    /// Quick (smoke) mode: tiny counts, no scratch build.
    pub quick: bool,
    /// Repetitions of every measurement.
    pub runs: usize,
    /// Seconds per load run (wrk takes whole seconds).
    pub seconds: f64,
    /// Seconds of warm-up load before the runs (0 for none; else whole seconds).
    pub warmup_seconds: f64,
    /// Open connections per load run.
    pub connections: u32,
    /// Users stored for the read path.
    pub read_users: usize,
    /// Users stored for the three scale points.
    pub scale_sizes: [usize; 3],
    /// Sequential requests per client-overhead run.
    pub client_requests: usize,
    /// Operations and schemas of the synthetic spec.
    pub synth: (usize, usize),
    /// Whether to time the scratch build of the client crate.
    pub client_build: bool,
    /// How long a fresh process settles before its idle memory is read.
    pub settle: Duration,
    /// Name of the cargo profile the binaries were built with (for the report).
    pub profile: String,
    /// Run only these sections (`servers`, `memory`, `write`, `codegen`,
    /// `compile`, `postgres`, `validation`); all when empty.
    pub only: Vec<String>,
}

impl Config {
    fn wants(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }
}

impl Config {
    /// The full benchmark (about 15 minutes on 2 cores).
    pub fn full(
        root: PathBuf,
        service_bin: PathBuf,
        baseline_bin: PathBuf,
        work_dir: PathBuf,
    ) -> Self {
        Self {
            root,
            service_bin,
            baseline_bin,
            work_dir,
            quick: false,
            runs: 5,
            seconds: 4.0,
            warmup_seconds: 1.0,
            connections: 16,
            read_users: 100,
            scale_sizes: [10, 1_000, 10_000],
            client_requests: 2_000,
            synth: (300, 500),
            client_build: true,
            settle: servers::default_settle(false),
            profile: "release".into(),
            only: Vec::new(),
        }
    }

    /// Tiny counts: checks that everything runs, says nothing about speed.
    pub fn quick(
        root: PathBuf,
        service_bin: PathBuf,
        baseline_bin: PathBuf,
        work_dir: PathBuf,
    ) -> Self {
        Self {
            quick: true,
            runs: 2,
            seconds: 1.0,
            warmup_seconds: 0.0,
            connections: 4,
            read_users: 20,
            scale_sizes: [5, 30, 90],
            client_requests: 20,
            synth: (10, 24),
            client_build: false,
            settle: servers::default_settle(true),
            ..Self::full(root, service_bin, baseline_bin, work_dir)
        }
    }
}

/// Progress on stderr.
pub fn progress(message: &str) {
    eprintln!("[bench] {message}");
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(String::new(), |kib| {
            format!(", {:.0} GiB", kib / 1024.0 / 1024.0)
        });
    format!("{cores} cores ({cpu}){mem}; shared with other builds, so expect noise")
}

fn git_revision(root: &Path) -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Runs every section and returns the report. A section that fails is
/// recorded in its rows and the others still run.
pub fn run(cfg: &Config) -> Result<Report> {
    let started = Instant::now();
    if cfg.work_dir.exists() {
        std::fs::remove_dir_all(&cfg.work_dir)
            .with_context(|| format!("emptying {}", cfg.work_dir.display()))?;
    }
    for sub in ["read", "write"] {
        std::fs::create_dir_all(cfg.work_dir.join(sub))?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut report = Report::default();
    let ctx = &mut report.context;
    ctx.push((
        "mode".into(),
        if cfg.quick {
            "quick (smoke run: tiny counts, numbers mean nothing)".into()
        } else {
            "full".into()
        },
    ));
    ctx.push((
        "revision".into(),
        format!(
            "`{}` (plus uncommitted changes, if any)",
            git_revision(&cfg.root)
        ),
    ));
    ctx.push(("machine".into(), machine()));
    ctx.push((
        "servers".into(),
        format!(
            "`users-service` and `users-bench-baseline`, {} build, each a multi-threaded tokio runtime on the same 2 cores as the load generator",
            cfg.profile
        ),
    ));
    ctx.push((
        "load".into(),
        format!(
            "{} (`wrk -t1 -c{}`, {} s per run after {} s of warm-up; 4 connections for bodies over 1 MiB), {} runs per figure, service and baseline alternating",
            wrk::version(),
            cfg.connections,
            cfg.seconds,
            cfg.warmup_seconds,
            cfg.runs
        ),
    ));

    let have_wrk = wrk::available();
    let scripts = wrk::Scripts::write(&cfg.work_dir)?;
    if have_wrk {
        progress("read path, scale, memory, client");
        if !cfg.wants("servers") {
        } else if let Err(e) = servers::run(cfg, &rt, &scripts, &mut report) {
            let state = State::Failed(format!("{e:#}"));
            for prefix in ["read", "scale", "rss.idle", "rss.large", "client"] {
                report.mark(prefix, state.clone());
            }
        }
        if !cfg.wants("servers") && !cfg.wants("memory") {
        } else if let Err(e) = memory::run(cfg, &rt, &mut report) {
            report.mark("rss.users", State::Failed(format!("{e:#}")));
        }
        progress("write path");
        let read_rps = report
            .row("read.user.rps")
            .filter(|r| r.state == State::Measured)
            .map(|r| r.ours_runs.clone());
        if !cfg.wants("write") {
        } else if let Err(e) = write::run(cfg, &rt, &scripts, &mut report, read_rps) {
            report.mark("write", State::Failed(format!("{e:#}")));
        }
    } else {
        let state = State::Failed(wrk::INSTALL_HINT.into());
        for prefix in ["read", "write", "scale", "rss", "client", "pg"] {
            report.mark(prefix, state.clone());
        }
    }
    if have_wrk && cfg.wants("postgres") {
        progress("PostgreSQL: one and two instances, SQLite beside");
        if std::env::var_os(postgres::SKIP_ENV).is_some() {
            let why = format!("{} is set", postgres::SKIP_ENV);
            report.mark("pg", State::Skipped(why));
        } else if let Err(e) = postgres::run(cfg, &rt, &scripts, &mut report) {
            report.mark("pg", State::Failed(format!("{e:#}")));
        }
    }
    if have_wrk && cfg.wants("validation") {
        progress("validation: schema checks on against off");
        if let Err(e) = validation::run(cfg, &rt, &scripts, &mut report) {
            report.mark("validation", State::Failed(format!("{e:#}")));
        }
    } else if cfg.wants("validation") {
        report.mark("validation", State::Failed(wrk::INSTALL_HINT.into()));
    }
    if !cfg.wants("codegen") {
    } else if let Err(e) = codegen::run(cfg, &mut report) {
        report.mark("codegen", State::Failed(format!("{e:#}")));
    }
    if cfg.wants("compile") {
        progress("compile: what the generated code costs to compile");
        if let Err(e) = compile::run(cfg, &mut report) {
            report.mark("compile", State::Failed(format!("{e:#}")));
        }
    }
    report.context.push((
        "harness time".into(),
        format!("{:.0} s", started.elapsed().as_secs_f64()),
    ));
    Ok(report)
}

/// Explains the report; goes at its top.
pub const INTRO: &str = "Generated by `cargo xtask bench` (the harness is the `users-bench` crate in \
`bench/`); do not edit by hand: hand-written notes go in `bench/NOTES.md`, which is appended. \
`cargo xtask bench --quick` is a smoke run with tiny counts that writes \
`target/bench/PERFORMANCE.quick.md` instead.\n\n\
Baselines, each measured in the same run: a minimal axum server (`users-bench-baseline`) that \
answers `GET /users` and `GET /users/{id}` from memory with the exact bytes captured from the \
service (reads are measured in the default `local` access mode without credentials, as the official \
SDKs call it, and in `tokens` mode with a bearer token, each against a baseline serving that mode's \
bytes); an in-process SQLite loop doing the service's durable transaction on the same disk; raw \
reqwest doing the generated client's request; and, for code generation, progenitor's own work \
(its two passes and formatting their output).";
