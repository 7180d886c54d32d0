//! The external tools, installed into the workspace on first use and again
//! only when their manifests change (a stamp file holds the manifests' hash):
//! Spectral, Prism and the npm SDK by `npm ci` into
//! `conformance/node_modules`; Schemathesis and the Python SDK in a venv at
//! `target/ci-tools/venv`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::exec;

/// Where the tools are and whether they were checked in this run.
pub struct Tools {
    /// `target/ci-tools`: the venv, stamps, logs, reports.
    pub dir: PathBuf,
    conformance: PathBuf,
    node_ready: bool,
    python_ready: bool,
}

impl Tools {
    pub fn new(root: &Path, dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            conformance: root.join("conformance"),
            node_ready: false,
            python_ready: false,
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
        if self.node_ready {
            return Ok(());
        }
        let manifests = ["package.json", "package-lock.json"].map(|m| self.conformance.join(m));
        let sdk = "node_modules/@pieces.app/pieces-os-client/package.json";
        let present = ["spectral", "prism"]
            .iter()
            .all(|b| self.node_bin(b).exists())
            && self.conformance.join(sdk).exists();
        let stamp = Stamp::new(&self.dir.join("npm.stamp"), &manifests, "")?;
        if present && stamp.is_current() {
            println!("tools: node tools up to date (conformance/node_modules)");
        } else {
            let mut npm = Command::new("npm");
            npm.args(["ci", "--prefix", "conformance", "--no-audit", "--no-fund"])
                .arg("--ignore-scripts")
                .current_dir(root);
            exec::run(&npm, Duration::from_secs(20 * 60))?;
            stamp.write()?;
        }
        self.node_ready = true;
        Ok(())
    }

    /// Schemathesis and pieces_os_client: a venv from conformance/requirements.txt.
    pub fn python(&mut self, root: &Path) -> Result<()> {
        if self.python_ready {
            return Ok(());
        }
        let python = std::env::var("CI_PYTHON").unwrap_or_else(|_| "python3".into());
        let version = exec::output(Command::new(&python).arg("--version"))?;
        let manifests = [self.conformance.join("requirements.txt")];
        let stamp = Stamp::new(&self.dir.join("venv.stamp"), &manifests, &version)?;
        let venv = self.dir.join("venv");
        if self.venv_bin("python").exists() && stamp.is_current() {
            println!("tools: python venv up to date ({})", venv.display());
        } else {
            let mut create = Command::new(&python);
            create.args(["-m", "venv", "--clear"]).arg(&venv);
            exec::run(&create, Duration::from_secs(300))?;
            let mut pip = Command::new(self.venv_bin("python"));
            pip.args(["-m", "pip", "install", "--disable-pip-version-check"])
                .args(["--no-input", "-q", "-r", "conformance/requirements.txt"])
                .current_dir(root);
            exec::run(&pip, Duration::from_secs(20 * 60))?;
            stamp.write()?;
        }
        self.python_ready = true;
        Ok(())
    }
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
