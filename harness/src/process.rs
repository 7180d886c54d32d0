//! One way to start a server binary, know it is ready, and stop it.
//!
//! The servers of this workspace (`users-service`, `users-bench-baseline`)
//! print one readiness line on stdout once they accept connections:
//! `NAME listening on http://ADDR`. [`Launch`] starts such a binary on
//! `--listen 127.0.0.1:0` (a free loopback port the system picks) with the
//! caller's `USERS_*` environment removed and stderr appended to a log file,
//! and waits for that line with a timeout; [`Server`] stops it with SIGTERM
//! (SIGKILL after a timeout), kills it, restarts it and reads its log.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server may take to print its readiness line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a server may take to exit after SIGTERM before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long [`Server::log_when`] waits for a line.
pub const LOG_WAIT: Duration = Duration::from_secs(5);

/// What went wrong starting or stopping a server. Messages carry its log.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The program could not be run at all.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program's path.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The log file could not be opened.
    #[error("cannot open the log {path}: {source}")]
    Log {
        /// The log's path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It exited, printed something else, or stayed silent too long.
    #[error("{name} is not ready: {reason}\n--- {log_path} ---\n{log}")]
    NotReady {
        /// The server's name.
        name: String,
        /// What happened instead of the readiness line.
        reason: String,
        /// Where its log is.
        log_path: String,
        /// Its log.
        log: String,
    },
    /// It did not exit within the timeout after SIGTERM (it was killed).
    #[error("{name} did not exit within {limit:?} of SIGTERM (killed)\n--- log ---\n{log}")]
    StopTimeout {
        /// The server's name.
        name: String,
        /// The timeout.
        limit: Duration,
        /// Its log.
        log: String,
    },
    /// Waiting for or signalling the process failed.
    #[error("{name}: {source}")]
    Wait {
        /// The server's name.
        name: String,
        /// Why.
        source: std::io::Error,
    },
}

/// How to start a server binary (a `Command` plus what [`Server`] needs).
pub struct Launch {
    command: Command,
    listen: String,
    name: String,
    log: PathBuf,
    ready_timeout: Duration,
    stop_timeout: Duration,
}

impl Launch {
    /// `program --listen 127.0.0.1:0` (see [`Launch::listen`]), without the caller's `USERS_*`
    /// variables, logging to `log` (appended). Its name, for the readiness
    /// line and messages, is the program's file name.
    pub fn new(program: impl AsRef<Path>, log: impl Into<PathBuf>) -> Self {
        let program = program.as_ref();
        let name = program
            .file_stem()
            .and_then(OsStr::to_str)
            .unwrap_or("server")
            .to_string();
        Self {
            command: clean_command(program),
            listen: "127.0.0.1:0".into(),
            name,
            log: log.into(),
            ready_timeout: READY_TIMEOUT,
            stop_timeout: STOP_TIMEOUT,
        }
    }

    /// The command, to add arguments, environment or a working directory.
    pub fn command(&mut self) -> &mut Command {
        &mut self.command
    }

    /// Listen on `addr` instead of a free loopback port.
    pub fn listen(mut self, addr: &str) -> Self {
        self.listen = addr.into();
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, name: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// How long to wait for the readiness line (default [`READY_TIMEOUT`]).
    pub fn ready_timeout(mut self, limit: Duration) -> Self {
        self.ready_timeout = limit;
        self
    }

    /// How long to wait after SIGTERM (default [`STOP_TIMEOUT`]).
    pub fn stop_timeout(mut self, limit: Duration) -> Self {
        self.stop_timeout = limit;
        self
    }

    /// Starts the program with the file mode creation mask `mask` (Unix).
    #[cfg(unix)]
    pub fn umask(mut self, mask: u32) -> Self {
        use std::os::unix::process::CommandExt;
        // SAFETY: umask is one system call, async-signal-safe, and touches
        // no memory of the parent.
        unsafe {
            self.command.pre_exec(move || {
                rustix::process::umask(rustix::fs::Mode::from_raw_mode(mask as _));
                Ok(())
            });
        }
        self
    }

    /// Starts it and waits for its readiness line.
    pub fn start(mut self) -> Result<Server, Error> {
        self.command.args(["--listen", &self.listen]);
        let mut server = Server {
            launch: self,
            child: None,
            url: String::new(),
        };
        server.spawn()?;
        Ok(server)
    }
}

/// `program` with no `USERS_*` variable of the caller's environment: only
/// the arguments the caller passes decide.
pub fn clean_command(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("USERS_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `command` to completion and returns its standard output; panics
/// with its standard error unless it succeeds (for tests and their tools).
pub fn stdout_of(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{:?} does not run: {e}", command.get_program()));
    assert!(
        out.status.success(),
        "{:?} {:?} failed ({}): {}",
        command.get_program(),
        command.get_args().collect::<Vec<_>>(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// A running server (killed when dropped).
pub struct Server {
    launch: Launch,
    child: Option<Child>,
    url: String,
}

impl Server {
    /// `http://127.0.0.1:PORT`, from its readiness line.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> std::net::SocketAddr {
        let addr = self.url.strip_prefix("http://").unwrap_or(&self.url);
        addr.parse().expect("the readiness line names an address")
    }

    /// Its name (the program's file name).
    pub fn name(&self) -> &str {
        &self.launch.name
    }

    /// The process id (panics if stopped).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Whether it has been started and not stopped or killed since.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Everything it logged so far (its stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.launch.log).unwrap_or_default()
    }

    /// Its log as soon as `done` holds for it, or after [`LOG_WAIT`]
    /// whatever it is: the service writes log lines from a background
    /// thread, a moment after the response they describe has left.
    pub fn log_when(&self, done: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let log = self.log();
            if done(&log) || started.elapsed() > LOG_WAIT {
                return log;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Where its log is.
    pub fn log_path(&self) -> &Path {
        &self.launch.log
    }

    /// SIGTERM, then waits up to the stop timeout for it to exit; returns its
    /// exit status. After the timeout it is killed and this is an error.
    pub fn stop(&mut self) -> Result<ExitStatus, Error> {
        let mut child = self.child.take().expect("stop: not running");
        let limit = self.launch.stop_timeout;
        let outcome = terminate(&mut child, limit);
        if !matches!(outcome, Ok(Some(_))) {
            let _ = child.kill();
            let _ = child.wait();
        }
        match outcome {
            Ok(Some(status)) => Ok(status),
            Ok(None) => Err(Error::StopTimeout {
                name: self.launch.name.clone(),
                limit,
                log: self.log(),
            }),
            Err(source) => Err(Error::Wait {
                name: self.launch.name.clone(),
                source,
            }),
        }
    }

    /// SIGKILL (no chance to clean up), and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again with the same command (a new port); stop or kill first.
    pub fn restart(&mut self) -> Result<(), Error> {
        assert!(self.child.is_none(), "restart: stop or kill it first");
        self.spawn()
    }

    fn spawn(&mut self) -> Result<(), Error> {
        let launch = &mut self.launch;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&launch.log)
            .map_err(|source| Error::Log {
                path: launch.log.clone(),
                source,
            })?;
        let mut child = launch
            .command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|source| Error::Spawn {
                program: launch.command.get_program().to_string_lossy().into_owned(),
                source,
            })?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        // Reads the first line, then keeps draining stdout so the server
        // never blocks or gets SIGPIPE on a later print.
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let prefix = format!("{} listening on ", launch.name);
        let reason = match rx.recv_timeout(launch.ready_timeout) {
            Ok(line) => match line.trim().strip_prefix(&prefix) {
                Some(url) => {
                    self.url = url.to_string();
                    self.child = Some(child);
                    return Ok(());
                }
                None if line.is_empty() => match child.wait() {
                    Ok(status) => format!("it exited ({status}) before printing {prefix:?}"),
                    Err(e) => format!("it closed stdout: {e}"),
                },
                None => format!("its first line is {line:?}, not {prefix:?}…"),
            },
            Err(_) => format!("no readiness line within {:?}", launch.ready_timeout),
        };
        let _ = child.kill();
        let _ = child.wait();
        Err(Error::NotReady {
            name: launch.name.clone(),
            reason,
            log_path: launch.log.display().to_string(),
            log: std::fs::read_to_string(&launch.log).unwrap_or_default(),
        })
    }
}

/// SIGTERM, then its exit status if it exits within `limit`.
fn terminate(child: &mut Child, limit: Duration) -> std::io::Result<Option<ExitStatus>> {
    let pid = rustix::process::Pid::from_child(child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM)?;
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(None)
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
