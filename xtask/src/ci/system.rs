//! The Debian packages `.ci/run` installs (wrk, PostgreSQL, nginx,
//! Chromium). It runs apt in the background, so that the download and
//! unpacking overlap the build, and names in `CI_SYSTEM_PACKAGES` the file
//! apt's exit status is written to when it ends (its output beside it, with
//! `.log` added). The steps that use the packages wait for that file here.
//! Without the variable (a developer's machine, the packages installed by
//! hand as the README says) there is nothing to wait for.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The environment variable naming the status file.
pub const STATUS_VARIABLE: &str = "CI_SYSTEM_PACKAGES";

/// How long a step waits for apt before it fails.
const LIMIT: Duration = Duration::from_secs(30 * 60);

/// The background install of the system packages, if there is one.
pub struct SystemPackages {
    status: Option<PathBuf>,
    ready: bool,
}

impl SystemPackages {
    /// From [`STATUS_VARIABLE`].
    pub fn from_env() -> Self {
        Self::new(std::env::var_os(STATUS_VARIABLE).map(PathBuf::from))
    }

    fn new(status: Option<PathBuf>) -> Self {
        Self {
            status,
            ready: false,
        }
    }

    /// Waits until the packages are installed; fails, with apt's output,
    /// when the install failed or did not end within [`LIMIT`].
    pub fn wait(&mut self) -> Result<()> {
        let Some(status) = &self.status else {
            return Ok(());
        };
        if self.ready {
            return Ok(());
        }
        let started = Instant::now();
        let code = wait_for(status, LIMIT)?;
        let log = log_of(status);
        let waited = started.elapsed().as_secs_f64();
        if code != "0" {
            let output = fs::read_to_string(&log).unwrap_or_default();
            bail!("installing the system packages failed (exit status {code}):\n{output}");
        }
        println!(
            "system packages installed (waited {waited:.1} s; apt's output: {})",
            log.display()
        );
        self.ready = true;
        Ok(())
    }
}

/// The file holding apt's output for `status`.
fn log_of(status: &Path) -> PathBuf {
    let mut name = status.as_os_str().to_owned();
    name.push(".log");
    PathBuf::from(name)
}

/// The trimmed contents of `status` once it exists (it is written whole,
/// by a rename), polling every 200 ms for at most `limit`.
fn wait_for(status: &Path, limit: Duration) -> Result<String> {
    let started = Instant::now();
    loop {
        match fs::read_to_string(status) {
            Ok(text) => return Ok(text.trim().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading {}", status.display())),
        }
        if started.elapsed() > limit {
            bail!(
                "the system packages were not installed after {} s ({} not written)",
                limit.as_secs(),
                status.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_status_file_named_means_nothing_to_wait_for() {
        assert!(SystemPackages::new(None).wait().is_ok());
    }

    #[test]
    fn waits_for_the_status_written_later_and_fails_on_a_failed_install() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.status");
        let writer = {
            let ok = ok.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                fs::write(&ok, "0\n").unwrap();
            })
        };
        let started = Instant::now();
        SystemPackages::new(Some(ok)).wait().unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "it did not wait"
        );
        writer.join().unwrap();

        let failed = dir.path().join("failed.status");
        fs::write(&failed, "100\n").unwrap();
        fs::write(log_of(&failed), "E: Unable to locate package chromium\n").unwrap();
        let e = SystemPackages::new(Some(failed))
            .wait()
            .unwrap_err()
            .to_string();
        assert!(e.contains("exit status 100"), "{e}");
        assert!(e.contains("Unable to locate package chromium"), "{e}");
    }

    #[test]
    fn a_status_never_written_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let e = wait_for(&dir.path().join("never"), Duration::from_millis(250)).unwrap_err();
        assert!(e.to_string().contains("not installed after"), "{e}");
    }
}
