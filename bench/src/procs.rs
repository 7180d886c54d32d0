//! Starting, measuring and stopping the servers under test.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Environment variables of the service that must not leak into a benchmark.
const SERVICE_ENV: &[&str] = &[
    "USERS_DATA_DIR",
    "USERS_LISTEN",
    "USERS_JWKS_FILE",
    "USERS_JWKS_URL",
    "USERS_ISSUER",
    "USERS_AUDIENCE",
    "USERS_USERINFO_URL",
    "USERS_BODY_LIMIT",
    "USERS_DATABASE_URL",
    "USERS_DATABASE_POOL_SIZE",
    "USERS_REQUEST_TIMEOUT_MS",
];

/// A server process listening on a loopback port.
pub struct Server {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// What it is, for messages.
    pub name: String,
}

impl Server {
    /// Starts `users-service` on a free loopback port with its data in `data_dir`.
    /// Its log (warnings only) goes to `log`.
    pub fn service(bin: &Path, data_dir: &Path, log: &Path) -> Result<Self> {
        Self::service_with(bin, data_dir, log, &[])
    }

    /// Like [`Server::service`], with extra arguments (`--database URL`).
    pub fn service_with(bin: &Path, data_dir: &Path, log: &Path, args: &[String]) -> Result<Self> {
        let mut cmd = Command::new(bin);
        cmd.args(args);
        for var in SERVICE_ENV {
            cmd.env_remove(var);
        }
        cmd.arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .env("USERS_LOG", "warn");
        Self::spawn(cmd, "users-service", log)
    }

    /// Starts the baseline server on the bodies in `dir`.
    pub fn baseline(bin: &Path, dir: &Path, log: &Path) -> Result<Self> {
        let mut cmd = Command::new(bin);
        cmd.arg("--dir").arg(dir).args(["--listen", "127.0.0.1:0"]);
        Self::spawn(cmd, "users-bench-baseline", log)
    }

    fn spawn(mut cmd: Command, name: &str, log: &Path) -> Result<Self> {
        let log_file = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", cmd.get_program()))?;
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let prefix = format!("{name} listening on ");
        let Some(url) = line.trim().strip_prefix(&prefix) else {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{name} did not start (first line {line:?}); see {}",
                log.display()
            );
        };
        Ok(Self {
            url: url.to_string(),
            child,
            _stdout: stdout,
            name: name.to_string(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now and at its peak, in MiB (`VmRSS`, `VmHWM`).
    pub fn memory_mib(&self) -> Result<(f64, f64)> {
        memory_mib(self.pid())
    }

    /// Stops it with SIGTERM (a clean shutdown), killing it after 10 s.
    pub fn stop(mut self) -> Result<()> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("{} exited with {status} on SIGTERM", self.name);
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        bail!("{} did not stop within 10 s of SIGTERM", self.name)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
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
