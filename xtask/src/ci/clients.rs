//! Clients of the real binary: the official Python and npm SDKs, the
//! downstream crate (the generated client by path, as a user's crate), and
//! the docs page in headless Chromium.

use std::process::Command;

use anyhow::{Context, Result, bail};

use super::Ctx;
use super::service::{Access, Service};
use crate::codegen_tasks::SPEC;
use crate::exec;

pub fn python_sdk(ctx: &mut Ctx) -> Result<()> {
    ctx.tools.python(&ctx.root)?;
    let python = ctx.tools.venv_bin("python");
    sdk_check(ctx, "python-sdk", || {
        let mut cmd = Command::new(&python);
        cmd.arg("conformance/sdk_check.py");
        cmd
    })
}

pub fn js_sdk(ctx: &mut Ctx) -> Result<()> {
    ctx.tools.node(&ctx.root)?;
    sdk_check(ctx, "js-sdk", || {
        let mut cmd = Command::new("node");
        cmd.arg("conformance/sdk_check.mjs");
        cmd
    })
}

/// Runs an official SDK's check (`sdk_check.py`, `sdk_check.mjs`: same
/// arguments) against the real binary twice: in its default access mode
/// (`local` on loopback), where the SDK needs no credentials, and in
/// `applications` mode, where it must be refused without a registered
/// application id (a random one, one that was registered and removed again)
/// and work with one. Both runs happen even when the first fails.
fn sdk_check(ctx: &mut Ctx, label: &str, check: impl Fn() -> Command) -> Result<()> {
    let local = (|| {
        let service = Service::start(ctx, &format!("{label}-local"), Access::Default)?;
        let mut cmd = check();
        cmd.args(["--url", service.url(), "--token", &service.token])
            .args(["--mode", "local"]);
        ctx.run(&mut cmd, 5)
    })();
    let applications = (|| {
        let service = Service::start(ctx, &format!("{label}-applications"), Access::Applications)?;
        let apps = service
            .applications
            .as_ref()
            .context("applications mode without applications")?;
        let mut cmd = check();
        cmd.args(["--url", service.url(), "--token", &service.token])
            .args(["--mode", "applications"])
            .args(["--application-id", &apps.registered])
            .args(["--refused-application-id", &apps.removed]);
        ctx.run(&mut cmd, 5)
    })();
    match (local, applications) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(e), Ok(())) => Err(e.context("default (local) access mode")),
        (Ok(()), Err(e)) => Err(e.context("applications access mode")),
        (Err(l), Err(a)) => {
            bail!("default (local) access mode: {l:#}; applications access mode: {a:#}")
        }
    }
}

/// Builds the standalone downstream crate as a user would (its own lockfile,
/// `--locked`), then runs its full flow against the real binary.
pub fn downstream(ctx: &mut Ctx) -> Result<()> {
    let manifest = "examples/downstream/Cargo.toml";
    let mut build = exec::cargo(&["build", "--locked", "--manifest-path", manifest]);
    build.env("CARGO_TARGET_DIR", &ctx.target);
    ctx.run(&mut build, 30)?;
    // Its unit tests run on the client's typed mocks (users-api-client-mock).
    let mut tests = exec::cargo(&["test", "--locked", "--manifest-path", manifest]);
    tests.env("CARGO_TARGET_DIR", &ctx.target);
    ctx.run(&mut tests, 30)?;
    let service = Service::start(ctx, "downstream", Access::Default)?;
    let binary = ctx.target.join("debug").join(format!(
        "users-api-downstream{}",
        std::env::consts::EXE_SUFFIX
    ));
    let mut cmd = Command::new(binary);
    cmd.env("USERS_URL", service.url())
        .env("USERS_TOKEN", &service.token);
    ctx.run(&mut cmd, 5)?;
    build_time(ctx)
}

/// The crate whose client `build.rs` generates (same target directory as
/// the downstream crate, so their dependencies are built once), run
/// against its own instance of the real binary: its flow signs out.
fn build_time(ctx: &mut Ctx) -> Result<()> {
    let manifest = "examples/build-time/Cargo.toml";
    let mut build = exec::cargo(&["build", "--locked", "--manifest-path", manifest]);
    build.env("CARGO_TARGET_DIR", &ctx.target);
    ctx.run(&mut build, 30)?;
    let service = Service::start(ctx, "build-time", Access::Default)?;
    let binary = ctx.target.join("debug").join(format!(
        "users-api-build-time{}",
        std::env::consts::EXE_SUFFIX
    ));
    let mut cmd = Command::new(binary);
    cmd.env("USERS_URL", service.url())
        .env("USERS_TOKEN", &service.token);
    ctx.run(&mut cmd, 5)
}

/// `GET /docs` of the real binary in Debian's headless Chromium, driven over
/// the DevTools protocol by `conformance/docs-page.mjs`: no failed request,
/// no HTTP error, no request leaving the service, no console error or
/// uncaught exception, and every operation of the spec listed. Leaves a
/// screenshot at `target/ci-tools/docs-page.png`.
pub fn docs_page(ctx: &mut Ctx) -> Result<()> {
    ctx.system.wait()?;
    let spec = crate::diff::load(&ctx.root.join(SPEC))?;
    let operations = crate::diff::Operations::of(&spec);
    let service = Service::start(ctx, "docs-page", Access::Default)?;
    let mut cmd = Command::new("node");
    cmd.arg("conformance/docs-page.mjs")
        .arg(format!("{}/docs", service.url()))
        .arg(ctx.tools.dir.join("docs-page.png"))
        .args(operations.ids());
    ctx.run(&mut cmd, 5)
}
