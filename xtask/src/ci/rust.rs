//! The steps that are cargo and this workspace's own gates: drift, fmt,
//! api-gate, build, clippy, test, postgres, rolling-restart, corpus.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, ensure};

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
    let mut cmd = exec::cargo(WORKSPACE_TESTS);
    cmd.env("USERS_SKIP_POSTGRES_TESTS", "1")
        .env("USERS_TEST_PYTHON", ctx.tools.venv_bin("python"));
    ctx.run(&mut cmd, MINUTES)
}

/// Two instances on one PostgreSQL behind nginx (Debian's `nginx-light`;
/// `.ci/run` installs it), restarted in turn under load: no failed request,
/// and the planted fault (ready while draining) is caught.
pub fn rolling_restart(ctx: &mut Ctx) -> Result<()> {
    ctx.service_binary()?;
    run_tests(ctx, &["rolling_restart"], &["--nocapture"])
}

/// The tests that need PostgreSQL (Debian's `postgresql`; `.ci/run` installs
/// it): each starts its own throwaway cluster as an unprivileged user.
pub fn postgres(ctx: &mut Ctx) -> Result<()> {
    // The real-binary tests run target/debug/users-service: current, also
    // under `--only postgres`.
    ctx.service_binary()?;
    run_tests(ctx, &["store", "postgres"], &[])?;
    // The TLS build's connector (rustls) against a server without TLS.
    let tls = ["--features", "tls", "--lib", "tls_build"];
    let mut args = vec!["test", "-p", "users-service"];
    args.extend(tls);
    ctx.cargo(&args, MINUTES)
}

/// The `test` step's command, which builds every test binary of the workspace.
const WORKSPACE_TESTS: &[&str] = &["test", "--workspace"];

/// Runs the integration-test binaries `names` of the `test` step's build,
/// each from its package's directory as `cargo test` runs it, with `args`.
///
/// They are found through `cargo test --workspace --no-run`'s JSON messages:
/// the test step's exact selection, so nothing is compiled again. A
/// narrower `cargo test --workspace --test NAME` unifies host and target
/// dependencies differently and rebuilt about 200 crates (64 s on a fresh
/// clone).
fn run_tests(ctx: &Ctx, names: &[&str], args: &[&str]) -> Result<()> {
    let mut build = exec::cargo(WORKSPACE_TESTS);
    build.args(["--no-run", "--message-format=json"]);
    let output = exec::capture(build.current_dir(&ctx.root))?;
    ensure!(
        output.status.success(),
        "building the workspace's tests failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let binaries = test_binaries(&output.stdout);
    for name in names {
        let (executable, dir) = binaries
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, e, d)| (e, d))
            .with_context(|| format!("no test binary `{name}` in the workspace"))?;
        let mut test = Command::new(executable);
        test.args(args).current_dir(dir);
        exec::run(&test, Duration::from_secs(MINUTES * 60))?;
    }
    Ok(())
}

/// `(name, executable, package directory)` of each integration test in
/// cargo's JSON messages.
fn test_binaries(json_lines: &[u8]) -> Vec<(String, PathBuf, PathBuf)> {
    String::from_utf8_lossy(json_lines)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["kind"][0] == "test")
        .filter_map(|m| {
            let name = m["target"]["name"].as_str()?.to_string();
            let executable = PathBuf::from(m["executable"].as_str()?);
            let dir = Path::new(m["manifest_path"].as_str()?)
                .parent()?
                .to_path_buf();
            Some((name, executable, dir))
        })
        .collect()
}
