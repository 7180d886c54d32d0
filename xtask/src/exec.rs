//! Running commands for the tasks. A command is built as a
//! `std::process::Command` (so it can be shown as typed, a `--token` value
//! masked) and run through duct: with a time limit, with its output
//! captured, or in the background with its output in a log file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

/// The cargo running this task (or `cargo` from `PATH`), with `args`.
pub fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args(args);
    cmd
}

/// The target directory: `CARGO_TARGET_DIR` (relative to `root`) or `root/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { root.join(p) } else { p })
        .unwrap_or_else(|| root.join("target"))
}

/// Runs `cmd` with inherited output; fails on a non-zero exit, and kills it
/// after `limit`.
pub fn run(cmd: &Command, limit: Duration) -> Result<()> {
    let shown = show(cmd);
    println!("$ {shown}");
    let handle = expression(cmd)
        .unchecked()
        .start()
        .with_context(|| format!("starting `{shown}`"))?;
    match handle.wait_timeout(limit)? {
        Some(out) if out.status.success() => Ok(()),
        Some(out) => bail!("{} failed ({})", short_name(cmd), out.status),
        None => {
            let _ = handle.kill();
            let _ = handle.wait();
            bail!("{} timed out after {} s", short_name(cmd), limit.as_secs())
        }
    }
}

/// The trimmed standard output of a short command, which must succeed.
pub fn output(cmd: &Command) -> Result<String> {
    let out = capture(cmd)?;
    ensure!(
        out.status.success(),
        "`{}` failed: {}",
        show(cmd),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs `cmd` to the end with its stdout and stderr captured, whatever its
/// exit status.
pub fn capture(cmd: &Command) -> Result<Output> {
    expression(cmd)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .with_context(|| format!("starting `{}`", show(cmd)))
}

/// A command running in the background, its stdout and stderr in a log
/// file; killed when dropped.
pub struct Background {
    handle: duct::Handle,
    log: PathBuf,
}

impl Background {
    /// Starts `cmd` with its output going to `log` (created afresh).
    pub fn start(cmd: &Command, log: &Path) -> Result<Self> {
        println!("$ {}", show(cmd));
        let file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let handle = expression(cmd)
            // Outer redirections apply first: stdout to the file, then stderr to stdout.
            .stderr_to_stdout()
            .stdout_file(file)
            .unchecked()
            .start()
            .with_context(|| format!("starting {}", short_name(cmd)))?;
        Ok(Self {
            handle,
            log: log.to_path_buf(),
        })
    }

    /// The log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Waits until the log holds `needle`; fails when the process exits
    /// first or `limit` passes.
    pub fn wait_for(&self, needle: &str, limit: Duration) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if std::fs::read_to_string(&self.log).is_ok_and(|text| text.contains(needle)) {
                return Ok(());
            }
            if let Some(out) = self.handle.wait_timeout(Duration::from_millis(200))? {
                bail!(
                    "exited ({}) before {needle:?}; see {}",
                    out.status,
                    self.log.display()
                );
            }
        }
        bail!(
            "no {needle:?} within {} s; see {}",
            limit.as_secs(),
            self.log.display()
        )
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.handle.kill();
        let _ = self.handle.wait();
    }
}

/// `cmd` as a duct expression: program, arguments, environment changes and
/// working directory.
/// `cmd` as a duct expression: program, arguments, environment, directory.
pub fn expression(cmd: &Command) -> duct::Expression {
    let mut expr = duct::cmd(cmd.get_program(), cmd.get_args());
    for (name, value) in cmd.get_envs() {
        expr = match value {
            Some(value) => expr.env(name, value),
            None => expr.env_remove(name),
        };
    }
    match cmd.get_current_dir() {
        Some(dir) => expr.dir(dir),
        None => expr,
    }
}

/// Shows a command as typed, with the value after `--token` masked.
pub fn show(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    let mut mask = false;
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        parts.push(if mask {
            "<token>".into()
        } else {
            arg.clone().into_owned()
        });
        mask = arg == "--token";
    }
    parts.join(" ")
}

/// `schemathesis run`, `cargo build`: the program's file name and its first argument.
fn short_name(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    let name = program
        .file_name()
        .unwrap_or(program.as_os_str())
        .to_string_lossy();
    match cmd.get_args().next() {
        Some(first) if !first.to_string_lossy().starts_with('-') => {
            format!("`{name} {}`", first.to_string_lossy())
        }
        _ => format!("`{name}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_masked_in_shown_commands() {
        let mut cmd = Command::new("client_flow");
        cmd.args(["--url", "http://x", "--token", "secret"]);
        assert_eq!(show(&cmd), "client_flow --url http://x --token <token>");
    }

    #[test]
    fn failures_and_time_limits_are_errors() {
        let mut ok = Command::new("sh");
        ok.args(["-c", "exit 0"]);
        run(&ok, Duration::from_secs(30)).unwrap();
        let mut fails = Command::new("sh");
        fails.args(["-c", "exit 3"]);
        let err = run(&fails, Duration::from_secs(30))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`sh` failed") && err.contains('3'), "{err}");
        let mut slow = Command::new("sleep");
        slow.arg("30");
        let started = Instant::now();
        let err = run(&slow, Duration::from_millis(300))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`sleep 30` timed out"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn output_applies_environment_and_directory() {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo \"$XTASK_PROBE $(pwd)\"; echo to-stderr >&2"])
            .env("XTASK_PROBE", "set")
            .current_dir(dir.path());
        let out = output(&cmd).unwrap();
        let pwd = dir.path().canonicalize().unwrap();
        assert_eq!(out, format!("set {}", pwd.display()));
        let mut fails = Command::new("sh");
        fails.args(["-c", "echo why >&2; exit 1"]);
        assert!(output(&fails).unwrap_err().to_string().contains("why"));
    }

    #[test]
    fn background_output_reaches_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("bg.log");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo ready >&2; sleep 30"]);
        let bg = Background::start(&cmd, &log).unwrap();
        bg.wait_for("ready", Duration::from_secs(10)).unwrap();
        assert!(std::fs::read_to_string(&log).unwrap().contains("out\n"));
        let pid = bg.handle.pids()[0];
        drop(bg);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "dropping it kills and reaps the process"
        );
        let mut quits = Command::new("sh");
        quits.args(["-c", "exit 0"]);
        let early = Background::start(&quits, &dir.path().join("q.log")).unwrap();
        let err = early
            .wait_for("never", Duration::from_secs(10))
            .unwrap_err();
        assert!(err.to_string().contains("exited"), "{err}");
    }
}
