//! Starting the real `users-service` binary for tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::proxy::ConformanceProxy;
use crate::spec_check::workspace_root;

/// Path of a workspace binary built by cargo (same profile as this test).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build it first with `cargo build --workspace --bins`",
        path.display()
    );
    path
}

/// A running `users-service` with its own temporary data directory.
pub struct ServiceProcess {
    child: Option<Child>,
    /// Address it listens on, `http://127.0.0.1:PORT`.
    pub url: String,
    /// The data directory (kept across restarts).
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    extra_args: Vec<String>,
    log_name: String,
}

impl ServiceProcess {
    /// Starts the service on a free loopback port with a fresh data dir.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts it with extra command-line arguments.
    pub fn start_with(args: &[&str]) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().to_path_buf();
        let mut s = Self {
            child: None,
            url: String::new(),
            data_dir,
            _tmp: Some(tmp),
            extra_args: args.iter().map(|s| s.to_string()).collect(),
            log_name: "service.log".into(),
        };
        s.spawn();
        s
    }

    /// Starts another instance that shares `other`'s data directory (so its
    /// development key: tokens minted for one verify on both), with its own
    /// arguments and log (`service-NAME.log`). For several instances on one
    /// shared database (`--database postgres://…`).
    pub fn start_beside(other: &ServiceProcess, name: &str, args: &[&str]) -> Self {
        let mut s = Self {
            child: None,
            url: String::new(),
            data_dir: other.data_dir.clone(),
            _tmp: None,
            extra_args: args.iter().map(|s| s.to_string()).collect(),
            log_name: format!("service-{name}.log"),
        };
        s.spawn();
        s
    }

    /// Everything the service logged so far (its stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.data_dir.join(&self.log_name)
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        let mut child = Command::new(binary("users-service"))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(&self.extra_args)
            .env("USERS_LOG", "info")
            .current_dir(workspace_root())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("users-service starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read banner");
        let url = line
            .trim()
            .strip_prefix("users-service listening on ")
            .unwrap_or_else(|| panic!("unexpected banner {line:?}"))
            .to_string();
        self.url = url;
        self.child = Some(child);
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        wait_timeout(&mut child, Duration::from_secs(20))
    }

    /// Kills the process with SIGKILL (no chance to clean up).
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL");
        let _ = child.wait();
    }

    /// Starts the process again on the same data directory (new port).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop or kill first");
        self.spawn();
    }

    /// Mints a development ID token with the service's own key.
    pub fn mint(&self, sub: &str, extra: &[&str]) -> String {
        let out = Command::new(binary("users-service"))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["mint-token", "--sub", sub])
            .args(extra)
            .output()
            .expect("mint-token runs");
        assert!(
            out.status.success(),
            "mint-token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf8")
            .trim()
            .to_string()
    }
}

fn wait_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("service did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The real service behind a checking proxy: what integration tests use.
pub struct Checked {
    /// The service process.
    pub service: ServiceProcess,
    /// The proxy every request goes through.
    pub proxy: ConformanceProxy,
}

impl Checked {
    /// Starts the service and a proxy in front of it.
    pub async fn start() -> Self {
        let service = ServiceProcess::start();
        let proxy = ConformanceProxy::start(&service.url).await;
        Self { service, proxy }
    }

    /// The URL to send requests to (the proxy).
    pub fn url(&self) -> &str {
        self.proxy.url()
    }
}
