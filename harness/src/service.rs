//! The real `users-service` binary on a free loopback port with its own
//! data directory.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use crate::files::workspace_root;
use crate::process::{Error, Launch, Server, clean_command, stdout_of};

/// Path of a workspace binary built by cargo in the profile of the running
/// test (`target/<profile>/<name>`); panics if it was not built.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build it first with `cargo build -p users-service --bins`",
        path.display()
    );
    path
}

/// `bin --data-dir DATA_DIR` without the caller's `USERS_*` variables: the
/// service's command-line tools (`mint-token`, `applications`) on that data.
pub fn cli(bin: &Path, data_dir: &Path) -> Command {
    let mut command = clean_command(bin);
    command.arg("--data-dir").arg(data_dir);
    command
}

/// A change to the command before it runs.
type CommandHook = Box<dyn FnOnce(&mut Command)>;

/// How to start a [`ServiceProcess`]: which binary, data, log and arguments.
pub struct Builder {
    bin: Option<PathBuf>,
    args: Vec<OsString>,
    data_dir: Option<PathBuf>,
    log: Option<PathBuf>,
    log_level: String,
    listen: Option<String>,
    umask: Option<u32>,
    hook: Option<CommandHook>,
}

impl Builder {
    /// The binary to run (default: `users-service` of the test's profile).
    pub fn bin(mut self, bin: impl Into<PathBuf>) -> Self {
        self.bin = Some(bin.into());
        self
    }

    /// Extra command-line arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Use this data directory, kept afterwards (default: `data` in a fresh
    /// temporary directory, deleted with the process).
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Append the service's stderr here (default: `service.log` beside the
    /// data directory).
    pub fn log(mut self, path: impl Into<PathBuf>) -> Self {
        self.log = Some(path.into());
        self
    }

    /// Listen on `addr` (default: a free loopback port).
    pub fn listen(mut self, addr: &str) -> Self {
        self.listen = Some(addr.into());
        self
    }

    /// `USERS_LOG` (default `info`).
    pub fn log_level(mut self, level: &str) -> Self {
        self.log_level = level.into();
        self
    }

    /// The file mode creation mask the service starts with (Unix).
    pub fn umask(mut self, mask: u32) -> Self {
        self.umask = Some(mask);
        self
    }

    /// Adjusts the command before it first runs (e.g. a `pre_exec` that
    /// lowers a resource limit).
    pub fn with_command(mut self, hook: impl FnOnce(&mut Command) + 'static) -> Self {
        self.hook = Some(Box::new(hook));
        self
    }

    /// Starts it expecting a refusal: panics if it becomes ready, else
    /// returns what it logged before exiting.
    pub fn refused(self) -> String {
        match self.start() {
            Ok(_) => panic!("the service started instead of refusing"),
            Err(Error::NotReady { log, reason, .. }) => {
                assert!(reason.contains("exited"), "{reason}\n{log}");
                log
            }
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts it and waits until it is ready.
    pub fn start(self) -> Result<ServiceProcess, Error> {
        let tmp = match self.data_dir {
            Some(_) => None,
            None => Some(
                tempfile::Builder::new()
                    .prefix("users-service-")
                    .tempdir()
                    .map_err(|source| Error::Log {
                        path: std::env::temp_dir(),
                        source,
                    })?,
            ),
        };
        let data_dir = match (&self.data_dir, &tmp) {
            (Some(dir), _) => dir.clone(),
            (None, Some(tmp)) => tmp.path().join("data"),
            (None, None) => unreachable!(),
        };
        let log = self.log.unwrap_or_else(|| beside(&data_dir, "service.log"));
        let bin = self.bin.unwrap_or_else(|| binary("users-service"));
        let mut launch = Launch::new(&bin, log)
            .args([OsString::from("--data-dir"), data_dir.clone().into()])
            .args(&self.args)
            .env("USERS_LOG", &self.log_level);
        launch.command().current_dir(workspace_root());
        if let Some(hook) = self.hook {
            hook(launch.command());
        }
        if let Some(addr) = &self.listen {
            launch = launch.listen(addr);
        }
        #[cfg(unix)]
        if let Some(mask) = self.umask {
            launch = launch.umask(mask);
        }
        let server = launch.start()?;
        Ok(ServiceProcess {
            url: server.url().to_string(),
            server,
            data_dir,
            bin,
            _tmp: tmp,
        })
    }
}

/// `name` in the directory holding `data_dir`.
fn beside(data_dir: &Path, name: &str) -> PathBuf {
    data_dir
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(name)
}

/// A running `users-service` (killed when dropped).
pub struct ServiceProcess {
    server: Server,
    /// Address it listens on, `http://127.0.0.1:PORT` (changes on restart).
    pub url: String,
    /// The data directory (kept across restarts).
    pub data_dir: PathBuf,
    bin: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl ServiceProcess {
    /// How to start one; see [`Builder`].
    pub fn builder() -> Builder {
        Builder {
            bin: None,
            args: Vec::new(),
            data_dir: None,
            log: None,
            log_level: "info".into(),
            listen: None,
            umask: None,
            hook: None,
        }
    }

    /// Starts the service on a free loopback port with a fresh data dir.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts it with extra command-line arguments (panics with the log if
    /// it does not become ready).
    pub fn start_with(args: &[&str]) -> Self {
        Self::builder()
            .args(args)
            .start()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts another instance that shares `other`'s data directory (so its
    /// development key: tokens minted for one verify on both), with its own
    /// arguments and log (`service-NAME.log`). For several instances on one
    /// shared database (`--database postgres://…`).
    pub fn start_beside(other: &ServiceProcess, name: &str, args: &[&str]) -> Self {
        Self::builder()
            .bin(&other.bin)
            .data_dir(&other.data_dir)
            .log(beside(&other.data_dir, &format!("service-{name}.log")))
            .args(args)
            .start()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    /// Everything the service logged so far (its stderr).
    pub fn log(&self) -> String {
        self.server.log()
    }

    /// Its log once `done` holds for it (see [`Server::log_when`]).
    pub fn log_when(&self, done: impl Fn(&str) -> bool) -> String {
        self.server.log_when(done)
    }

    /// Sends SIGTERM and waits for it to exit; returns the exit status
    /// (panics with the log if it does not exit in time).
    pub fn stop(&mut self) -> ExitStatus {
        self.server.stop().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Kills the process with SIGKILL (no chance to clean up).
    pub fn kill(&mut self) {
        assert!(self.server.is_running(), "kill: not running");
        self.server.kill();
    }

    /// Starts the process again on the same data directory (new port).
    pub fn restart(&mut self) {
        self.server.restart().unwrap_or_else(|e| panic!("{e}"));
        self.url = self.server.url().to_string();
    }

    /// The service's command-line tools on its data directory.
    pub fn cli(&self) -> Command {
        cli(&self.bin, &self.data_dir)
    }

    /// Mints a development ID token with the service's own key.
    pub fn mint(&self, sub: &str, extra: &[&str]) -> String {
        let mut mint = self.cli();
        mint.args(["mint-token", "--sub", sub]).args(extra);
        stdout_of(&mut mint).trim().to_string()
    }
}

/// The real service behind a checking proxy: what integration tests use.
#[cfg(feature = "full")]
pub struct Checked {
    /// The service process.
    pub service: ServiceProcess,
    /// The proxy every request goes through.
    pub proxy: crate::proxy::ConformanceProxy,
}

#[cfg(feature = "full")]
impl Checked {
    /// Starts the service and a proxy in front of it.
    pub async fn start() -> Self {
        let service = ServiceProcess::start();
        let proxy = crate::proxy::ConformanceProxy::start(&service.url).await;
        Self { service, proxy }
    }

    /// The URL to send requests to (the proxy).
    pub fn url(&self) -> &str {
        self.proxy.url()
    }
}
