//! The steps that are cargo and this workspace's own gates: drift, fmt,
//! api-gate, build, clippy, test, postgres, rolling-restart, corpus.

use anyhow::Result;

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

pub fn test(ctx: &mut Ctx) -> Result<()> {
    // The metrics test reads /metrics with prometheus_client, from the venv.
    ctx.tools.python(&ctx.root)?;
    // The PostgreSQL tests run once, in the `postgres` step.
    let mut cmd = exec::cargo(&["test", "--workspace"]);
    cmd.env("USERS_SKIP_POSTGRES_TESTS", "1")
        .env("USERS_TEST_PYTHON", ctx.tools.venv_bin("python"));
    ctx.run(&mut cmd, MINUTES)
}

/// Two instances on one PostgreSQL behind nginx (Debian's `nginx-light`;
/// `.ci/run` installs it), restarted in turn under load: no failed request,
/// and the planted fault (ready while draining) is caught.
pub fn rolling_restart(ctx: &mut Ctx) -> Result<()> {
    ctx.service_binary()?;
    // `--workspace`, as the `test` step: the same features, so nothing is
    // compiled again (`-p users-api-tests` would resolve its own).
    let args = [
        "test",
        "--workspace",
        "--test",
        "rolling_restart",
        "--",
        "--nocapture",
    ];
    ctx.cargo(&args, MINUTES)
}

/// The tests that need PostgreSQL (Debian's `postgresql`; `.ci/run` installs
/// it): each starts its own throwaway cluster as an unprivileged user.
pub fn postgres(ctx: &mut Ctx) -> Result<()> {
    // The real-binary tests run target/debug/users-service: current, also
    // under `--only postgres`.
    ctx.service_binary()?;
    // `--workspace`: the test step's features, so its test binaries are reused.
    let args = [
        "test",
        "--workspace",
        "--test",
        "store",
        "--test",
        "postgres",
    ];
    ctx.cargo(&args, MINUTES)?;
    // The TLS build's connector (rustls) against a server without TLS.
    let tls = ["--features", "tls", "--lib", "tls_build"];
    let mut args = vec!["test", "-p", "users-service"];
    args.extend(tls);
    ctx.cargo(&args, MINUTES)
}
