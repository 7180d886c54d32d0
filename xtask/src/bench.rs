//! `bench`: build the service and the harness in release mode, run every
//! benchmark and regenerate `docs/PERFORMANCE.md`.
//!
//! The harness itself is the `users-bench` crate (`bench/`); this task only
//! checks the tools, builds and starts it, passing its options through:
//! `--quick` (smoke run with tiny counts, writes
//! `target/bench/PERFORMANCE.quick.md`), `--runs N`, `--seconds S`,
//! `--only servers,write,codegen`, `--no-client-build`, `--out FILE`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The apt line that installs the load generator.
pub const WRK_INSTALL: &str = "apt-get install -y wrk";

fn have_wrk() -> bool {
    Command::new("wrk").arg("--version").output().is_ok()
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { root.join(p) } else { p })
        .unwrap_or_else(|| root.join("target"))
}

/// Runs `cargo xtask bench [options]`.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!(
            "usage: cargo xtask bench [--quick] [--runs N] [--seconds S] \
             [--only servers,write,codegen] [--no-client-build] [--out FILE]\n\n\
             Needs wrk (Debian/Ubuntu: `{WRK_INSTALL}`) and python3 (for the synthetic spec)."
        );
        return Ok(());
    }
    if !have_wrk() {
        bail!(
            "wrk is not installed; the read, write and scale benchmarks need it.\n\
             Install it with `{WRK_INSTALL}` (run `apt-get update` first on a fresh machine)."
        );
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    println!("building users-service and users-bench (release)...");
    let status = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "-p",
            "users-service",
            "-p",
            "users-bench",
            "--bins",
        ])
        .current_dir(root)
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    let bin = target_dir(root).join("release");
    let status = Command::new(bin.join("users-bench"))
        .arg("--root")
        .arg(root)
        .arg("--service")
        .arg(bin.join("users-service"))
        .arg("--baseline")
        .arg(bin.join("users-bench-baseline"))
        .args(args)
        .current_dir(root)
        .status()
        .context("running users-bench")?;
    if !status.success() {
        bail!("the benchmark harness failed ({status})");
    }
    Ok(())
}
