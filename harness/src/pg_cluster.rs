//! A throwaway local PostgreSQL cluster: `initdb` into a directory, started on
//! a loopback port with password authentication.
//!
//! PostgreSQL refuses to run as root, so when this process is root (as CI is)
//! every PostgreSQL program runs as the `postgres` user (`runuser -u
//! postgres`), in a directory handed to that user. The binaries come from
//! Debian's `postgresql` package (`/usr/lib/postgresql/<version>/bin`) or the
//! `PATH`. Only std is used: `cargo xtask postgres` includes this same file.

use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The unprivileged user PostgreSQL runs as when we are root.
const SERVICE_USER: &str = "postgres";

/// A cluster in `root` (data in `root/data`, sockets in `root/sock`, log in
/// `root/postgres.log`), listening on `127.0.0.1:port`.
#[derive(Debug)]
pub struct Cluster {
    /// The directory holding everything of this cluster.
    pub root: PathBuf,
    /// Its loopback TCP port.
    pub port: u16,
    /// The password of the `postgres` role.
    pub password: String,
    bin: PathBuf,
    run_as: Option<&'static str>,
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The directory with `initdb`, `pg_ctl` and `postgres`: the newest Debian
/// version, else wherever `initdb` is on the `PATH`.
pub fn bin_dir() -> io::Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| dir.join("initdb").exists())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "PostgreSQL is not installed: no initdb in /usr/lib/postgresql/*/bin or on PATH \
                 (Debian: apt-get install postgresql)",
            )
        })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn checked(what: &str, output: io::Result<Output>) -> io::Result<Output> {
    let output = output?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(io::Error::other(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

/// A random password (hex, from the kernel's generator).
fn random_password() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Cluster {
    /// Creates a new cluster in `root` (which must exist and be empty or new)
    /// for `port`; does not start it.
    pub fn init(root: &Path, port: u16) -> io::Result<Self> {
        let bin = bin_dir()?;
        let run_as = is_root().then_some(SERVICE_USER);
        std::fs::create_dir_all(root.join("sock"))?;
        let password = random_password()?;
        let pwfile = root.join("pwfile");
        std::fs::write(&pwfile, format!("{password}\n"))?;
        if let Some(user) = run_as {
            checked(
                "chown",
                Command::new("chown")
                    .args(["-R", &format!("{user}:")])
                    .arg(root)
                    .output(),
            )?;
        }
        let cluster = Self {
            root: root.to_path_buf(),
            port,
            password,
            bin,
            run_as,
        };
        checked(
            "initdb",
            cluster
                .command("initdb")
                .arg("-D")
                .arg(root.join("data"))
                .args(["-U", "postgres", "-E", "UTF8", "--no-sync"])
                .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
                .arg(format!("--pwfile={}", pwfile.display()))
                .output(),
        )?;
        std::fs::remove_file(&pwfile)?;
        Ok(cluster)
    }

    /// A cluster `init` created earlier in `root`, for `port`, whose
    /// `postgres` role has `password`.
    pub fn existing(root: &Path, port: u16, password: &str) -> io::Result<Self> {
        Ok(Self {
            root: root.to_path_buf(),
            port,
            password: password.to_string(),
            bin: bin_dir()?,
            run_as: is_root().then_some(SERVICE_USER),
        })
    }

    /// Whether its server is running (`pg_ctl status`).
    pub fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.root.join("data"))
            .arg("status")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// A PostgreSQL program of this cluster's installation, run as the
    /// unprivileged user when we are root.
    pub fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        let mut cmd = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        cmd.current_dir(&self.root).stdin(Stdio::null());
        cmd
    }

    /// The server options: loopback only, this port, sockets in our directory.
    pub fn server_options(&self) -> Vec<String> {
        vec![
            "-c".into(),
            "listen_addresses=127.0.0.1".into(),
            "-p".into(),
            self.port.to_string(),
            "-k".into(),
            self.root.join("sock").display().to_string(),
        ]
    }

    /// Starts the server in the background and waits until it accepts
    /// connections.
    pub fn start(&self) -> io::Result<()> {
        checked(
            "pg_ctl start",
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.root.join("data"))
                .arg("-l")
                .arg(self.root.join("postgres.log"))
                .arg("-o")
                .arg(self.server_options().join(" "))
                .args(["-w", "-t", "30", "start"])
                .stdout(Stdio::null())
                .output(),
        )
        .map(drop)
    }

    /// Stops the server: `fast` (roll back open transactions, close
    /// connections, write a checkpoint) or `immediate` (like a crash).
    pub fn stop(&self, mode: &str) -> io::Result<()> {
        checked(
            "pg_ctl stop",
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.root.join("data"))
                .args(["-m", mode, "-w", "-t", "30", "stop"])
                .stdout(Stdio::null())
                .output(),
        )
        .map(drop)
    }

    /// The URL of the `postgres` database as the `postgres` role.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The URL of database `name` as the `postgres` role.
    pub fn database_url(&self, name: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{name}",
            self.password, self.port
        )
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("postgres.log")).unwrap_or_default()
    }
}
