//! `users-bench`: runs the benchmarks and writes the report.
//!
//! Normally started by `cargo xtask bench`, which builds it and the servers
//! in release mode first; `users-bench --help` lists the options.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Parser;
use users_bench::{Config, INTRO, progress};

/// Hand-written notes (profiles, before/after of optimisations), appended to the report.
const NOTES: &str = "bench/NOTES.md";

/// Runs the benchmarks and writes the report.
#[derive(Debug, Parser)]
#[command(name = "users-bench")]
struct Args {
    /// Tiny counts (a smoke run); writes target/bench/PERFORMANCE.quick.md.
    #[arg(long)]
    quick: bool,
    /// Where to write the report (default docs/PERFORMANCE.md).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Repetitions per figure.
    #[arg(long)]
    runs: Option<usize>,
    /// Seconds per load run.
    #[arg(long)]
    seconds: Option<f64>,
    /// Only these sections: servers, memory, write, codegen, compile, postgres, validation.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Skip the scratch build of the client crate.
    #[arg(long)]
    no_client_build: bool,
    /// The users-service binary (default: next to this one).
    #[arg(long)]
    service: Option<PathBuf>,
    /// The users-bench-baseline binary (default: next to this one).
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// The workspace root (default: the one this was built in).
    #[arg(long)]
    root: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let here = std::env::current_exe()?
        .parent()
        .context("binary dir")?
        .to_path_buf();
    let service = args.service.unwrap_or_else(|| here.join("users-service"));
    let baseline = args
        .baseline
        .unwrap_or_else(|| here.join("users-bench-baseline"));
    let root = match args.root {
        Some(root) => root,
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("workspace root")?
            .to_path_buf(),
    };
    let mode = if args.quick { "quick" } else { "full" };
    let work = root.join("target/bench").join(mode);
    let mut cfg = if args.quick {
        Config::quick(root.clone(), service, baseline, work)
    } else {
        Config::full(root.clone(), service, baseline, work)
    };
    cfg.runs = args.runs.unwrap_or(cfg.runs).max(1);
    cfg.seconds = args.seconds.unwrap_or(cfg.seconds);
    cfg.client_build &= !args.no_client_build;
    cfg.only = args.only;
    // Only the full run of every section writes docs/PERFORMANCE.md.
    let out = args.out.unwrap_or_else(|| {
        if args.quick {
            root.join("target/bench/PERFORMANCE.quick.md")
        } else if !cfg.only.is_empty() {
            root.join(format!(
                "target/bench/PERFORMANCE.only-{}.md",
                cfg.only.join("-")
            ))
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
