//! The real `users-service` for a step: a fresh data directory, a
//! development token minted from it, applications registered through the
//! binary's CLI when the access mode needs them, then the server started
//! and stopped by `users-harness`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use users_harness::process::{Launch, Server};
// `users-service --data-dir DIR` without the caller's `USERS_*` settings
// (access mode, origins, database URL, identity provider...): only the
// flags xtask passes decide, whatever the environment running CI holds.
use users_harness::service::cli;

use super::Ctx;
use crate::exec;

/// The service's `--access` mode for a run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No `--access`: the default, `local` on a loopback address.
    Default,
    /// `--access applications`, with applications registered through the CLI.
    Applications,
}

/// Application ids registered with `users-service applications add` before
/// the service starts.
pub struct Applications {
    /// Registered and still listed: the service must accept it.
    pub registered: String,
    /// Registered, then removed again: the service must refuse it.
    pub removed: String,
}

/// The real service on a fresh data directory and a free loopback port;
/// stopped with SIGTERM when dropped, then its directory removed.
pub struct Service {
    server: Server,
    /// The service's data directory (its database and signing key).
    data: tempfile::TempDir,
    /// The `users-service` binary (also its CLI: `mint-token`, `applications`).
    pub bin: PathBuf,
    /// A development ID token signed with the service's key.
    pub token: String,
    /// In `applications` mode, the ids registered for it.
    pub applications: Option<Applications>,
}

impl Service {
    /// Starts it for the step `label`; its log is `target/ci-tools/logs/<label>-service.log`.
    pub fn start(ctx: &mut Ctx, label: &str, access: Access) -> Result<Self> {
        // openssl makes the test keys (see .ci/run).
        ctx.system.wait()?;
        let bin = ctx.service_binary()?;
        let data = tempfile::Builder::new()
            .prefix(&format!("users-ci-{label}-"))
            .tempdir()
            .context("creating the data directory")?;
        let token = mint_token(&bin, data.path())?;
        let applications = match access {
            Access::Default => None,
            Access::Applications => Some(register_applications(&bin, data.path())?),
        };
        let log = ctx.log_file(&format!("{label}-service.log"))?;
        // Every response is checked against the spec (a violation is a 500
        // that Schemathesis and the other checks see, and an error log line);
        // explicit, though it is a debug build's default.
        let mut launch = Launch::new(&bin, &log)
            .args([Path::new("--data-dir"), data.path()])
            .args(["--validate-responses", "true"])
            .env("USERS_LOG", "warn");
        if access == Access::Applications {
            launch = launch.args(["--access", "applications"]);
        }
        let server = launch.start()?;
        let mode = match access {
            Access::Default => "default access mode",
            Access::Applications => "access mode applications",
        };
        println!(
            "users-service at {}, {mode} (data {}, log {})",
            server.url(),
            data.path().display(),
            log.display()
        );
        Ok(Self {
            server,
            data,
            bin,
            token,
            applications,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        self.server.url()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Err(e) = self.server.stop() {
            eprintln!("warning: {e}");
        }
    }
}

/// Registers two applications through the service's CLI and removes the
/// second again; `applications list` must then show exactly the first.
fn register_applications(bin: &Path, data_dir: &Path) -> Result<Applications> {
    let apps = |args: &[&str]| {
        let mut cmd = cli(bin, data_dir);
        cmd.arg("applications").args(args);
        exec::output(&cmd)
    };
    let add = |name: &str| -> Result<String> {
        let id = apps(&["add", name])?;
        ensure!(
            !id.is_empty() && !id.contains(char::is_whitespace),
            "`applications add {name}` printed {id:?}, not one id"
        );
        Ok(id)
    };
    let registered = add("ci-registered")?;
    let removed = add("ci-removed")?;
    ensure!(registered != removed, "two applications got the same id");
    apps(&["remove", &removed])?;
    let listed = apps(&["list"])?;
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

fn mint_token(bin: &Path, data_dir: &Path) -> Result<String> {
    let mut cmd = cli(bin, data_dir);
    cmd.args([
        "mint-token",
        "--sub",
        "github|4242",
        "--email",
        "ci@example.com",
    ])
    .args(["--name", "CI User", "--nickname", "ci", "--ttl", "3600"]);
    exec::output(&cmd)
}
