//! Starting, measuring and stopping the servers under test (on the shared
//! harness: `users_harness::process`).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use users_harness::process::Launch;

/// A server process listening on a loopback port.
pub struct Server {
    inner: users_harness::process::Server,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// What it is, for messages.
    pub name: String,
}

impl Server {
    /// Starts `users-service` on a free loopback port with its data in
    /// `data_dir`, in its default configuration (the default log level
    /// included: one line per request). Its log goes to `log`.
    pub fn service(bin: &Path, data_dir: &Path, log: &Path) -> Result<Self> {
        Self::service_with(bin, data_dir, log, &[])
    }

    /// Like [`Server::service`], with extra arguments (`--database URL`).
    pub fn service_with(bin: &Path, data_dir: &Path, log: &Path, args: &[String]) -> Result<Self> {
        Self::service_configured(bin, data_dir, log, args, None)
    }

    /// Like [`Server::service`], logging warnings only (`USERS_LOG=warn`):
    /// a quieter configuration than users get, for extra rows.
    pub fn service_quiet(bin: &Path, data_dir: &Path, log: &Path) -> Result<Self> {
        Self::service_configured(bin, data_dir, log, &[], Some("warn"))
    }

    /// Like [`Server::service_with`], at log level `log_level`
    /// (`USERS_LOG`) when given.
    pub fn service_configured(
        bin: &Path,
        data_dir: &Path,
        log: &Path,
        args: &[String],
        log_level: Option<&str>,
    ) -> Result<Self> {
        let mut launch = Launch::new(bin, log)
            .args(args)
            .args([Path::new("--data-dir"), data_dir]);
        if let Some(level) = log_level {
            launch = launch.env("USERS_LOG", level);
        }
        Self::start(launch)
    }

    /// Starts the baseline server on the bodies in `dir`.
    pub fn baseline(bin: &Path, dir: &Path, log: &Path) -> Result<Self> {
        Self::start(Launch::new(bin, log).args([Path::new("--dir"), dir]))
    }

    fn start(launch: Launch) -> Result<Self> {
        let inner = launch.stop_timeout(Duration::from_secs(10)).start()?;
        Ok(Self {
            url: inner.url().to_string(),
            name: inner.name().to_string(),
            inner,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.inner.pid()
    }

    /// Resident memory now and at its peak, in MiB (`VmRSS`, `VmHWM`).
    pub fn memory_mib(&self) -> Result<(f64, f64)> {
        memory_mib(self.pid())
    }

    /// Stops it with SIGTERM (a clean shutdown), killing it after 10 s.
    pub fn stop(mut self) -> Result<()> {
        let status = self.inner.stop()?;
        if !status.success() {
            bail!("{} exited with {status} on SIGTERM", self.name);
        }
        Ok(())
    }
}

/// `VmRSS` and `VmHWM` of a process, in MiB.
pub fn memory_mib(pid: u32) -> Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let field = |name: &str| -> Result<f64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("no {name} in /proc/{pid}/status"))?;
        let kib: f64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("unreadable {line:?}"))?;
        Ok(kib / 1024.0)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}
