//! `bench`: build the service and the harness in release mode, run every
//! benchmark and regenerate `docs/PERFORMANCE.md`.
//!
//! The harness itself is the `users-bench` crate (`bench/`); this task only
//! checks the tools, builds and starts it, passing its options through.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::exec;

/// The harness's options, shown by `cargo xtask bench --help`.
pub const OPTIONS: &str = "Options passed to the harness (users-bench):
  --quick            smoke run with tiny counts; writes target/bench/PERFORMANCE.quick.md
  --runs N           repetitions per figure
  --seconds S        seconds per load run
  --only SECTIONS    comma-separated: servers, memory, write, codegen, compile, postgres, validation
                     (compile: clean cargo check/build of our generated types + client
                     vs progenitor's own output, for spec/users.yaml and a corpus spec)
  --no-client-build  skip the scratch build of the client crate
  --out FILE         where to write the report (default docs/PERFORMANCE.md)

`cargo xtask bench --codegen-speed [--runs N]` is `--only codegen`: our whole
generation against progenitor's own Generator on spec/users.yaml and a
408-operation corpus spec, among the section's other rows.
A run with --only writes target/bench/PERFORMANCE.only-SECTIONS.md unless --out is given.

Needs wrk (Debian/Ubuntu: `apt-get install -y wrk`) and python3 (for the synthetic spec).";

/// The apt line that installs the load generator.
const WRK_INSTALL: &str = "apt-get install -y wrk";

/// A whole benchmark run may take this long.
const LIMIT: Duration = Duration::from_secs(3 * 60 * 60);

/// Runs `cargo xtask bench [options]`.
pub fn run(root: &Path, options: &[String]) -> Result<()> {
    let options: Vec<String> = match options.strip_prefix(&["--codegen-speed".to_string()]) {
        Some(rest) => ["--only", "codegen"]
            .into_iter()
            .map(String::from)
            .chain(rest.iter().cloned())
            .collect(),
        None => options.to_vec(),
    };
    let codegen_only = options
        .windows(2)
        .any(|w| w[0] == "--only" && w[1] == "codegen");
    if !codegen_only && exec::capture(Command::new("wrk").arg("--version")).is_err() {
        bail!(
            "wrk is not installed; the read, write and scale benchmarks need it.\n\
             Install it with `{WRK_INSTALL}` (run `apt-get update` first on a fresh machine)."
        );
    }
    println!("building users-service and users-bench (release)...");
    // The service alone first, as `cargo run --release -p users-service`
    // builds it: built together with users-bench, its dependencies would get
    // the features the bench's own dependencies ask for (serde_json's
    // `preserve_order` through the codegen), and the figures would be of
    // another binary. The bench's build then links the service's library
    // but leaves that binary as it is.
    for package in ["users-service", "users-bench"] {
        let build = ["build", "--release", "-p", package, "--bins"];
        exec::run(exec::cargo(&build).current_dir(root), LIMIT)
            .with_context(|| format!("cargo build --release -p {package}"))?;
    }
    let bin = exec::target_dir(root).join("release");
    let mut harness = Command::new(bin.join("users-bench"));
    harness
        .arg("--root")
        .arg(root)
        .arg("--service")
        .arg(bin.join("users-service"))
        .arg("--baseline")
        .arg(bin.join("users-bench-baseline"))
        .args(&options)
        .current_dir(root);
    exec::run(&harness, LIMIT).context("the benchmark harness failed")
}
