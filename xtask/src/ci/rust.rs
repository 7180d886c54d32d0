//! The steps that are cargo and this workspace's own gates: drift, fmt,
//! api-gate, build, clippy, test, postgres, rolling-restart, corpus.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use super::test_pool::{self, Job};
use super::{Ctx, MINUTES};
use crate::exec;

pub fn drift(ctx: &mut Ctx) -> Result<()> {
    crate::codegen_tasks::check(&ctx.root)
}

/// The release gate (`cargo xtask diff`): the spec against the last
/// released one in `spec/released/`.
pub fn api_gate(ctx: &mut Ctx) -> Result<()> {
    crate::diff::gate(&ctx.root)
}

pub fn fmt(ctx: &mut Ctx) -> Result<()> {
    ctx.cargo(&["fmt", "--all", "--", "--check"], MINUTES)
}

/// Every crate, generated ones included (their shims allow what prettyplease
/// output cannot avoid).
pub fn clippy(ctx: &mut Ctx) -> Result<()> {
    let args = [
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ];
    ctx.cargo(&args, MINUTES)
}

/// `cargo xtask corpus`: the generator on specs it was not written for.
pub fn corpus(ctx: &mut Ctx) -> Result<()> {
    crate::corpus::run(&ctx.root)
}

pub fn build(ctx: &mut Ctx) -> Result<()> {
    ctx.service_binary().map(drop)
}

/// Every test binary of the workspace, [`test_pool::at_once`] at a time, then
/// the doc tests; the PostgreSQL tests run once, in the `postgres` step.
pub fn test(ctx: &mut Ctx) -> Result<()> {
    // wrk (the bench smoke run) and openssl (test keys).
    ctx.system.wait()?;
    // The metrics test reads /metrics with prometheus_client, from the venv.
    ctx.tools.python(&ctx.root)?;
    let python = ctx.tools.venv_bin("python");
    let env = [
        ("USERS_SKIP_POSTGRES_TESTS", Path::new("1")),
        ("USERS_TEST_PYTHON", python.as_path()),
    ];
    let mut jobs: Vec<Job> = ctx
        .test_binaries()?
        .iter()
        .map(|binary| Job::binary(binary, &[]))
        .collect();
    let mut doc = exec::cargo(test_pool::WORKSPACE_TESTS);
    doc.arg("--doc").current_dir(&ctx.root);
    // First: compiling the doc tests is the longest job.
    jobs.insert(0, Job::command("doc tests", doc));
    test_pool::run(jobs, &env, Duration::from_secs(MINUTES * 60))
}

/// Two instances on one PostgreSQL behind nginx (Debian's `nginx-light`;
/// `.ci/run` installs it), restarted in turn under load: no failed request,
/// and the planted fault (ready while draining) is caught.
pub fn rolling_restart(ctx: &mut Ctx) -> Result<()> {
    ctx.system.wait()?;
    ctx.service_binary()?;
    run_tests(ctx, &["rolling_restart"], &["--nocapture"])
}

/// The tests that need PostgreSQL (Debian's `postgresql`; `.ci/run` installs
/// it): each starts its own throwaway cluster as an unprivileged user.
pub fn postgres(ctx: &mut Ctx) -> Result<()> {
    ctx.system.wait()?;
    // The real-binary tests run target/debug/users-service: current, also
    // under `--only postgres`.
    ctx.service_binary()?;
    run_tests(ctx, &["store", "postgres"], &[])?;
    // The TLS build: its HTTPS client, and its PostgreSQL connector (rustls)
    // against a server without TLS.
    let tls = ["--features", "tls", "--lib", "tls_build"];
    let mut args = vec!["test", "-p", "users-service"];
    args.extend(tls);
    ctx.cargo(&args, MINUTES)
}

/// Runs the test binaries `names` of the `test` step's build, one after
/// another, with `args`.
///
/// They come from the `test` step's own list ([`Ctx::test_binaries`]): a
/// narrower `cargo test --workspace --test NAME` unifies host and target
/// dependencies differently and rebuilt about 200 crates (64 s on a fresh
/// clone).
fn run_tests(ctx: &mut Ctx, names: &[&str], args: &[&str]) -> Result<()> {
    let binaries = ctx.test_binaries()?;
    for name in names {
        let binary = binaries
            .iter()
            .find(|b| b.kind == "test" && b.name == *name)
            .with_context(|| format!("no test binary `{name}` in the workspace"))?;
        exec::run(&binary.command(args), Duration::from_secs(MINUTES * 60))?;
    }
    Ok(())
}
