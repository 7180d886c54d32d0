//! The external tools, installed into the workspace on first use and again
//! only when their manifests change (a stamp file holds the manifests' hash):
//! Spectral, Prism and the npm SDK by `npm ci` into
//! `conformance/node_modules`; Schemathesis and the Python SDK in a venv at
//! `target/ci-tools/venv`.
//!
//! The runner starts the installs the selected steps will need in the
//! background when the run starts ([`Tools::prefetch`]), so that downloads
//! overlap the build; the step that needs a tool waits for its install.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use crate::exec;

/// A tool a step uses, installed by [`Tools`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// The venv: Schemathesis, the Python SDK, prometheus_client.
    Python,
    /// `conformance/node_modules`: Spectral, Prism, the npm SDK.
    Node,
}

/// Where one tool's install stands in this run.
enum Install {
    NotStarted,
    Running(JoinHandle<Result<()>>),
    Ready,
}

impl Install {
    /// Waits for a background install, or runs `install` now; ready after.
    fn finish(&mut self, install: impl FnOnce() -> Result<()>) -> Result<()> {
        let outcome = match std::mem::replace(self, Install::NotStarted) {
            Install::Ready => Ok(()),
            Install::Running(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(anyhow!("the install thread panicked"))),
            Install::NotStarted => install(),
        };
        if outcome.is_ok() {
            *self = Install::Ready;
        }
        outcome
    }
}

/// Where the tools are and whether they were installed in this run.
pub struct Tools {
    /// `target/ci-tools`: the venv, stamps, logs, reports.
    pub dir: PathBuf,
    conformance: PathBuf,
    node: Install,
    python: Install,
}

impl Tools {
    pub fn new(root: &Path, dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            conformance: root.join("conformance"),
            node: Install::NotStarted,
            python: Install::NotStarted,
        }
    }

    /// Starts installing `tools` in the background (each at most once).
    pub fn prefetch(&mut self, root: &Path, tools: &[Tool]) {
        for tool in tools {
            let (slot, install): (&mut Install, fn(&Paths) -> Result<()>) = match tool {
                Tool::Python => (&mut self.python, install_python),
                Tool::Node => (&mut self.node, install_node),
            };
            if matches!(slot, Install::NotStarted) {
                let paths = Paths::new(root, &self.dir, &self.conformance);
                *slot = Install::Running(std::thread::spawn(move || install(&paths)));
            }
        }
    }

    /// An executable of `conformance/node_modules/.bin`.
    pub fn node_bin(&self, name: &str) -> PathBuf {
        self.conformance.join("node_modules/.bin").join(name)
    }

    /// An executable of the venv.
    pub fn venv_bin(&self, name: &str) -> PathBuf {
        self.dir.join("venv/bin").join(name)
    }

    /// Spectral, Prism and the npm SDK: `npm ci` from conformance/package-lock.json.
    pub fn node(&mut self, root: &Path) -> Result<()> {
        let paths = Paths::new(root, &self.dir, &self.conformance);
        self.node.finish(|| install_node(&paths))
    }

    /// Schemathesis and pieces_os_client: a venv from conformance/requirements.txt.
    pub fn python(&mut self, root: &Path) -> Result<()> {
        let paths = Paths::new(root, &self.dir, &self.conformance);
        self.python.finish(|| install_python(&paths))
    }
}

/// What an install needs, owned so that it can run on its own thread.
struct Paths {
    root: PathBuf,
    dir: PathBuf,
    conformance: PathBuf,
}

impl Paths {
    fn new(root: &Path, dir: &Path, conformance: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            dir: dir.to_path_buf(),
            conformance: conformance.to_path_buf(),
        }
    }
}

/// `npm ci` into conformance/node_modules, unless the stamp is current.
fn install_node(paths: &Paths) -> Result<()> {
    let manifests = ["package.json", "package-lock.json"].map(|m| paths.conformance.join(m));
    let sdk = "node_modules/@pieces.app/pieces-os-client/package.json";
    let bin = paths.conformance.join("node_modules/.bin");
    let present = ["spectral", "prism"].iter().all(|b| bin.join(b).exists())
        && paths.conformance.join(sdk).exists();
    let stamp = Stamp::new(&paths.dir.join("npm.stamp"), &manifests, "")?;
    if present && stamp.is_current() {
        println!("tools: node tools up to date (conformance/node_modules)");
        return Ok(());
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--prefix", "conformance", "--no-audit", "--no-fund"])
        .arg("--ignore-scripts")
        .current_dir(&paths.root);
    exec::run(&npm, Duration::from_secs(20 * 60))?;
    stamp.write()
}

/// The venv at target/ci-tools/venv, unless the stamp is current.
fn install_python(paths: &Paths) -> Result<()> {
    let python = std::env::var("CI_PYTHON").unwrap_or_else(|_| "python3".into());
    let version = exec::output(Command::new(&python).arg("--version"))?;
    let manifests = [paths.conformance.join("requirements.txt")];
    let stamp = Stamp::new(&paths.dir.join("venv.stamp"), &manifests, &version)?;
    let venv = paths.dir.join("venv");
    if venv.join("bin/python").exists() && stamp.is_current() {
        println!("tools: python venv up to date ({})", venv.display());
        return Ok(());
    }
    let mut create = Command::new(&python);
    create.args(["-m", "venv", "--clear"]).arg(&venv);
    exec::run(&create, Duration::from_secs(300))?;
    let mut pip = Command::new(venv.join("bin/python"));
    pip.args(["-m", "pip", "install", "--disable-pip-version-check"])
        .args(["--no-input", "-q", "-r", "conformance/requirements.txt"])
        .current_dir(&paths.root);
    exec::run(&pip, Duration::from_secs(20 * 60))?;
    stamp.write()
}

/// A file holding a hash of some manifests; current when it still matches.
struct Stamp {
    path: PathBuf,
    hash: String,
}

impl Stamp {
    fn new(path: &Path, manifests: &[PathBuf], extra: &str) -> Result<Self> {
        let mut bytes = extra.as_bytes().to_vec();
        for m in manifests {
            bytes.extend(fs::read(m).with_context(|| format!("reading {}", m.display()))?);
        }
        Ok(Self {
            path: path.to_path_buf(),
            hash: format!("{:016x}\n", fnv1a(&bytes)),
        })
    }

    fn is_current(&self) -> bool {
        fs::read_to_string(&self.path).is_ok_and(|old| old == self.hash)
    }

    fn write(&self) -> Result<()> {
        fs::create_dir_all(self.path.parent().context("stamp directory")?)?;
        fs::write(&self.path, &self.hash)
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// FNV-1a, 64 bit: stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_background_install_is_waited_for_and_its_failure_reported() {
        let mut running = Install::Running(std::thread::spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(100));
            Err(anyhow!("npm ci failed (exit status: 1)"))
        }));
        let e = running
            .finish(|| panic!("not installed twice"))
            .unwrap_err();
        assert!(e.to_string().contains("npm ci failed"), "{e}");
        // A failed install is tried again by the next step that needs it.
        let mut again = 0;
        running
            .finish(|| {
                again += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(again, 1);
        running.finish(|| panic!("ready: nothing to run")).unwrap();
    }

    #[test]
    fn stamp_is_current_until_a_manifest_changes() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("requirements.txt");
        fs::write(&manifest, "schemathesis==4.32.5\n").unwrap();
        let stamp_path = dir.path().join("stamps/venv.stamp");
        let stamp = |extra| Stamp::new(&stamp_path, std::slice::from_ref(&manifest), extra);
        assert!(!stamp("3.13").unwrap().is_current(), "no stamp written yet");
        stamp("3.13").unwrap().write().unwrap();
        assert!(stamp("3.13").unwrap().is_current());
        assert!(!stamp("3.12").unwrap().is_current(), "another interpreter");
        fs::write(&manifest, "schemathesis==4.32.4\n").unwrap();
        assert!(!stamp("3.13").unwrap().is_current(), "a changed manifest");
    }
}
