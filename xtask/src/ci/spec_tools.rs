//! The spec's outside tools: Spectral lints it, Schemathesis tests the real
//! binary against it, Prism validates the generated client's traffic.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};

use super::Ctx;
use super::service::{Access, Service};
use crate::codegen_tasks::SPEC;
use crate::exec::{self, Background};

pub fn spectral(ctx: &mut Ctx) -> Result<()> {
    ctx.tools.node(&ctx.root)?;
    let mut cmd = Command::new(ctx.tools.node_bin("spectral"));
    cmd.args(["lint", "--ruleset", "conformance/.spectral.yaml"])
        .args(["--fail-severity", "error", SPEC]);
    ctx.run(&mut cmd, 10)
}

/// Schemathesis twice, at the same time, each against its own service:
/// against `--access applications`, where credentials are enforced and
/// every check runs, `ignored_auth` included; and against the default access
/// mode for everything else. Each run's output is printed whole when both
/// have ended; both always run to their end.
pub fn schemathesis(ctx: &mut Ctx) -> Result<()> {
    ctx.tools.python(&ctx.root)?;
    let enforced = Run::prepare(ctx, Access::Applications)?;
    let local = Run::prepare(ctx, Access::Default)?;
    let limit = Duration::from_secs(20 * 60);
    let (enforced_ran, local_ran) = std::thread::scope(|scope| {
        let first = scope.spawn(|| enforced.test(limit));
        let second = local.test(limit);
        (first.join().unwrap_or_else(|_| bail!("panicked")), second)
    });
    let enforced = enforced
        .finish(ctx, enforced_ran)
        .map_err(|e| e.context("applications access mode"));
    let local = local
        .finish(ctx, local_ran)
        .map_err(|e| e.context("default (local) access mode"));
    match (enforced, local) {
        (Err(a), Err(l)) => bail!("{a:#}; {l:#}"),
        (enforced, local) => enforced.and(local),
    }
}

/// One Schemathesis run: its service, its command, where its output goes.
struct Run {
    _service: Service,
    command: Command,
    report: PathBuf,
    log: PathBuf,
}

impl Run {
    fn prepare(ctx: &mut Ctx, access: Access) -> Result<Self> {
        let label = match access {
            Access::Default => "schemathesis-local",
            Access::Applications => "schemathesis-applications",
        };
        let service = Service::start(ctx, label, access)?;
        let report = ctx.fresh_file("reports", &format!("{label}.ndjson"))?;
        let log = ctx.log_file(&format!("{label}.log"))?;
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
        ])
        .args(["--url", service.url()])
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
        // Each run its own Hypothesis database: two runs at once never share one.
        cmd.env("USERS_CI_APPLICATION", &application)
            .env("USERS_CI_SERVICE_BIN", &service.bin)
            .env("USERS_CI_DATA_DIR", service.data_dir())
            .env(
                "HYPOTHESIS_STORAGE_DIRECTORY",
                ctx.tools.dir.join("hypothesis").join(label),
            )
            .current_dir(&ctx.root);
        Ok(Self {
            _service: service,
            command: cmd,
            report,
            log,
        })
    }

    /// Runs Schemathesis, its output into the log file.
    fn test(&self, limit: Duration) -> Result<()> {
        println!("$ {}  > {}", exec::show(&self.command), self.log.display());
        let file = std::fs::File::create(&self.log)
            .with_context(|| format!("creating {}", self.log.display()))?;
        let handle = exec::expression(&self.command)
            .stderr_to_stdout()
            .stdout_file(file)
            .unchecked()
            .start()
            .context("starting schemathesis")?;
        match handle.wait_timeout(limit)? {
            Some(out) if out.status.success() => Ok(()),
            Some(out) => bail!("schemathesis failed ({})", out.status),
            None => {
                let _ = handle.kill();
                bail!("schemathesis timed out after {} s", limit.as_secs())
            }
        }
    }

    /// Prints the run's output, then the links its stateful phase followed
    /// (even when a check failed).
    fn finish(self, ctx: &Ctx, tested: Result<()>) -> Result<()> {
        let output = std::fs::read_to_string(&self.log).unwrap_or_default();
        println!("\n--- {}\n{output}", self.log.display());
        let mut links = Command::new(ctx.tools.venv_bin("python"));
        links
            .args(["conformance/stateful_links.py", SPEC])
            .arg(&self.report);
        let followed = if self.report.exists() {
            ctx.run(&mut links, 2)
        } else {
            Ok(())
        };
        tested.and(followed)
    }
}

/// The generated client's full flow (`client_flow`) through Prism's
/// validating proxy in front of the real binary.
pub fn prism(ctx: &mut Ctx) -> Result<()> {
    ctx.tools.node(&ctx.root)?;
    let service = Service::start(ctx, "prism", Access::Default)?;
    let proxy = Prism::start(ctx, service.url())?;
    let mut cmd = Command::new(ctx.workspace_binary("client_flow")?);
    cmd.args(["--url", &proxy.url, "--token", &service.token]);
    ctx.run(&mut cmd, 30)?;
    proxy.ensure_no_violations()?;
    proxy.ensure_rejects_bad_request(&service.token)
}

/// `prism proxy spec/users.yaml <service> --errors` on a free loopback port.
struct Prism {
    process: Background,
    url: String,
}

impl Prism {
    fn start(ctx: &Ctx, upstream: &str) -> Result<Self> {
        // Prism takes a port, not 0: ask the system for a free one.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut cmd = Command::new(ctx.tools.node_bin("prism"));
        cmd.args(["proxy", SPEC, upstream, "--errors", "--host", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .current_dir(&ctx.root);
        let process = Background::start(&cmd, &ctx.log_file("prism.log")?)?;
        process.wait_for("Prism is listening", Duration::from_secs(120))?;
        let url = format!("http://127.0.0.1:{port}");
        println!("prism proxy at {url} (log {})", process.log().display());
        Ok(Self { process, url })
    }

    /// Prism logs every request or response that breaks the spec.
    fn ensure_no_violations(&self) -> Result<()> {
        let log = std::fs::read_to_string(self.process.log())?;
        let bad: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("Violation:") || l.contains("terminated with error"))
            .collect();
        ensure!(
            bad.is_empty(),
            "prism reported spec violations:\n{}",
            bad.join("\n")
        );
        println!("prism: no violations in {}", self.process.log().display());
        Ok(())
    }

    /// The proxy really validates: a non-uuid `user` must get Prism's own 422.
    fn ensure_rejects_bad_request(&self, token: &str) -> Result<()> {
        let url = format!("{}/users/not-a-uuid", self.url);
        let mut answer = ureq::get(&url)
            .config()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .with_context(|| format!("GET {url}"))?;
        let status = answer.status();
        let content_type = answer
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = answer.body_mut().read_to_string()?;
        ensure!(
            status == 422
                && content_type.contains("application/problem+json")
                && body.contains("must match format"),
            "prism let a non-uuid `user` through: {status} {content_type}\n{body}"
        );
        println!("prism: GET /users/not-a-uuid -> {status} (problem+json, format violation)");
        Ok(())
    }
}
