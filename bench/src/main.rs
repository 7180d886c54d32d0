//! `users-bench`: runs the benchmarks and writes the report.
//!
//! Normally started by `cargo xtask bench`, which builds it and the servers
//! in release mode first. Options:
//!
//! ```text
//! --quick            tiny counts (a smoke run); writes target/bench/PERFORMANCE.quick.md
//! --out FILE         where to write the report (default docs/PERFORMANCE.md)
//! --runs N           repetitions per figure
//! --seconds S        seconds per load run
//! --only SECTIONS    comma-separated: servers, write, codegen, postgres
//! --no-client-build  skip the scratch build of the client crate
//! --service BIN      users-service binary (default: next to this one)
//! --baseline BIN     users-bench-baseline binary (default: next to this one)
//! --root DIR         workspace root (default: the one this was built in)
//! ```

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use users_bench::{Config, INTRO, progress};

/// Hand-written notes (profiles, before/after of optimisations), appended to the report.
const NOTES: &str = "bench/NOTES.md";

fn main() -> Result<()> {
    let mut quick = false;
    let mut out: Option<PathBuf> = None;
    let mut runs: Option<usize> = None;
    let mut seconds: Option<f64> = None;
    let mut only: Vec<String> = Vec::new();
    let mut client_build = true;
    let here = std::env::current_exe()?
        .parent()
        .context("binary dir")?
        .to_path_buf();
    let mut service = here.join("users-service");
    let mut baseline = here.join("users-bench-baseline");
    let mut root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .to_path_buf();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--quick" => quick = true,
            "--out" => out = Some(value()?.into()),
            "--runs" => runs = Some(value()?.parse()?),
            "--seconds" => seconds = Some(value()?.parse()?),
            "--only" => only = value()?.split(',').map(str::to_string).collect(),
            "--no-client-build" => client_build = false,
            "--service" => service = value()?.into(),
            "--baseline" => baseline = value()?.into(),
            "--root" => root = value()?.into(),
            other => bail!("unknown option {other}; see the doc comment of bench/src/main.rs"),
        }
    }
    let mode = if quick { "quick" } else { "full" };
    let work = root.join("target/bench").join(mode);
    let mut cfg = if quick {
        Config::quick(root.clone(), service, baseline, work)
    } else {
        Config::full(root.clone(), service, baseline, work)
    };
    cfg.runs = runs.unwrap_or(cfg.runs).max(1);
    cfg.seconds = seconds.unwrap_or(cfg.seconds);
    cfg.client_build &= client_build;
    cfg.only = only;
    let out = out.unwrap_or_else(|| {
        if quick {
            root.join("target/bench/PERFORMANCE.quick.md")
        } else {
            root.join("docs/PERFORMANCE.md")
        }
    });

    let report = users_bench::run(&cfg)?;
    let notes = std::fs::read_to_string(root.join(NOTES)).unwrap_or_default();
    let text = report.markdown("Performance", INTRO, &notes);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, &text).with_context(|| format!("writing {}", out.display()))?;
    progress(&format!("wrote {}", out.display()));
    let missed = report.missed_goals();
    if !missed.is_empty() {
        progress(&format!("goals missed: {}", missed.join("; ")));
    }
    let problems = report.problems();
    if !problems.is_empty() && cfg.only.is_empty() {
        bail!("some benchmarks did not run:\n  {}", problems.join("\n  "));
    }
    Ok(())
}
