//! A throwaway nginx (Debian's `nginx-light` or `nginx`) in front of
//! service instances, from the configuration in `conformance/nginx/`.
//!
//! It runs in a temporary prefix directory, on a loopback port, as the
//! unprivileged `www-data` user when this process is root (`runuser`), as
//! the current user otherwise. The set of upstream servers lives in
//! `PREFIX/upstreams.conf`; [`Nginx::set_upstreams`] rewrites it and reloads
//! (SIGHUP to the master: new workers take the new set, old ones finish
//! their requests and exit). Only std is used.

use std::fs;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pg_cluster::free_port;

/// The unprivileged user nginx runs as when we are root.
const SERVICE_USER: &str = "www-data";

/// A running nginx (stopped when dropped).
pub struct Nginx {
    prefix: PathBuf,
    /// Its loopback port.
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

/// `nginx` on the `PATH` or in `/usr/sbin`.
fn program() -> io::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|p| p.exists())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "nginx is not installed (Debian: apt-get install nginx-light)",
            )
        })
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

impl Nginx {
    /// Starts nginx from the configuration template `conf` (with `@PREFIX@`
    /// and `@PORT@` placeholders) in front of `upstreams`, and waits until
    /// it accepts connections.
    pub fn start(conf: &Path, upstreams: &[SocketAddr]) -> io::Result<Self> {
        let nginx = program()?;
        let dir = tempfile::Builder::new().prefix("users-nginx-").tempdir()?;
        let prefix = dir.path().to_path_buf();
        fs::create_dir_all(prefix.join("tmp"))?;
        let port = free_port()?;
        let text = fs::read_to_string(conf)?
            .replace("@PREFIX@", &prefix.display().to_string())
            .replace("@PORT@", &port.to_string());
        fs::write(prefix.join("nginx.conf"), text)?;
        write_upstreams(&prefix, upstreams)?;
        let mut command = if is_root() {
            let status = Command::new("chown")
                .args(["-R", &format!("{SERVICE_USER}:")])
                .arg(&prefix)
                .status()?;
            if !status.success() {
                return Err(io::Error::other("chown of the nginx prefix failed"));
            }
            let mut c = Command::new("runuser");
            c.args(["-u", SERVICE_USER, "--"]).arg(&nginx);
            c
        } else {
            Command::new(&nginx)
        };
        command
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(prefix.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(prefix.join("stderr.log"))?);
        let child = command.spawn()?;
        let mut nginx = Self {
            prefix,
            port,
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = nginx.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "nginx exited ({status}): {}",
                    nginx.log()
                )));
            }
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "nginx did not listen in time: {}",
                    nginx.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(nginx)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Routes to `upstreams` from now on (at least one): rewrites the
    /// upstream list and reloads.
    pub fn set_upstreams(&self, upstreams: &[SocketAddr]) -> io::Result<()> {
        write_upstreams(&self.prefix, upstreams)?;
        let pid = fs::read_to_string(self.prefix.join("nginx.pid"))?;
        let status = Command::new("kill")
            .args(["-HUP", pid.trim()])
            .stderr(Stdio::null())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other("signalling nginx to reload failed"))
        }
    }

    /// Its error log and stderr so far.
    pub fn log(&self) -> String {
        let read = |name| fs::read_to_string(self.prefix.join(name)).unwrap_or_default();
        format!("{}{}", read("stderr.log"), read("error.log"))
    }
}

/// `server ADDR;` per upstream, written so that nginx never reads half a file.
fn write_upstreams(prefix: &Path, upstreams: &[SocketAddr]) -> io::Result<()> {
    assert!(!upstreams.is_empty(), "nginx needs at least one upstream");
    let text: String = upstreams
        .iter()
        .map(|a| format!("server {a} max_fails=0;\n"))
        .collect();
    let tmp = prefix.join("upstreams.conf.new");
    fs::write(&tmp, text)?;
    fs::rename(&tmp, prefix.join("upstreams.conf"))
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM to the master we started (nginx's fast shutdown); runuser
        // then exits with it.
        let master = fs::read_to_string(self.prefix.join("nginx.pid"))
            .map(|pid| pid.trim().to_string())
            .unwrap_or_else(|_| self.child.id().to_string());
        let _ = Command::new("kill")
            .args(["-TERM", &master])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
