//! The `test` step's binaries: built once by `cargo test --workspace
//! --no-run`, then run a few at a time, each one's output printed whole
//! when it ends.
//!
//! `cargo test` runs its binaries one after another. Most of ours spend
//! their time waiting on child processes, sockets and timers (the bench
//! smoke run, the hardening timeouts, the generated crates' builds), so
//! running [`at_once`] at once shortens the step on two cores without changing
//! what runs: the same binaries, the same selection, the doc tests as one
//! more job. The `postgres` and `rolling-restart` steps run binaries from
//! the same list, so nothing is listed or compiled twice.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::exec;

/// Test binaries running at once: one more than the cores, since most of
/// them wait more than they compute (3 on the 2-core CI machine).
pub fn at_once() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) + 1
}

/// The `test` step's cargo command, which builds every test binary of the workspace.
pub const WORKSPACE_TESTS: &[&str] = &["test", "--workspace"];

/// One test executable of the workspace, as cargo reported it.
#[derive(Debug, Clone)]
pub struct TestBinary {
    /// The package it belongs to.
    pub package: String,
    /// The target's name: the crate for unit tests, the file for integration tests.
    pub name: String,
    /// `lib`, `bin` or `test`.
    pub kind: String,
    /// The executable.
    pub executable: PathBuf,
    /// The package's directory, where `cargo test` runs it.
    pub dir: PathBuf,
}

impl TestBinary {
    /// How it is run: from its package's directory, with the package
    /// variables cargo sets (not the ones of the xtask running it).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.executable);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("CARGO_MANIFEST_DIR", &self.dir)
            .env("CARGO_PKG_NAME", &self.package)
            .env("CARGO_CRATE_NAME", self.name.replace('-', "_"));
        cmd
    }

    fn label(&self) -> String {
        format!("{} ({} {})", self.name, self.package, self.kind)
    }
}

/// Builds the workspace's tests (`cargo test --workspace --no-run`, compile
/// progress shown) and lists their executables.
pub fn build(root: &Path, env: &[(&str, &Path)]) -> Result<Vec<TestBinary>> {
    let mut cmd = exec::cargo(WORKSPACE_TESTS);
    cmd.args(["--no-run", "--message-format=json"])
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in env {
        cmd.env(key, value);
    }
    println!("$ {}", exec::show(&cmd));
    let output = cmd
        .spawn()
        .and_then(|child| child.wait_with_output())
        .context("starting cargo test --no-run")?;
    ensure!(
        output.status.success(),
        "building the workspace's tests failed ({})",
        output.status
    );
    let binaries = parse(&output.stdout);
    ensure!(!binaries.is_empty(), "cargo listed no test executable");
    Ok(binaries)
}

/// The test executables in cargo's JSON messages.
fn parse(json_lines: &[u8]) -> Vec<TestBinary> {
    String::from_utf8_lossy(json_lines)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
        .filter_map(|m| {
            let executable = PathBuf::from(m["executable"].as_str()?);
            let manifest = Path::new(m["manifest_path"].as_str()?);
            Some(TestBinary {
                package: package_name(m["package_id"].as_str()?, manifest)?,
                name: m["target"]["name"].as_str()?.to_string(),
                kind: m["target"]["kind"][0].as_str()?.to_string(),
                executable,
                dir: manifest.parent()?.to_path_buf(),
            })
        })
        .collect()
}

/// The package name in a cargo package id: `path+file:///dir#name@1.0`,
/// `path+file:///name#1.0` (the directory is the name), or the older
/// `name 1.0 (path+file:///dir)`.
fn package_name(id: &str, manifest: &Path) -> Option<String> {
    if let Some((_, fragment)) = id.rsplit_once('#') {
        return match fragment.split_once('@') {
            Some((name, _)) => Some(name.to_string()),
            None => Some(manifest.parent()?.file_name()?.to_str()?.to_string()),
        };
    }
    id.split_whitespace().next().map(str::to_string)
}

/// A job of the pool: a label, a command, and how long it may run.
pub struct Job {
    label: String,
    command: Command,
}

impl Job {
    /// A test binary with `args` (`--nocapture`, filters).
    pub fn binary(binary: &TestBinary, args: &[&str]) -> Self {
        Self {
            label: binary.label(),
            command: binary.command(args),
        }
    }

    /// Any other command (the doc tests).
    pub fn command(label: &str, command: Command) -> Self {
        Self {
            label: label.to_string(),
            command,
        }
    }
}

/// How one job ended.
struct Finished {
    label: String,
    ok: bool,
    elapsed: Duration,
}

/// Runs `jobs`, [`at_once()`] at a time, each killed after `limit`. Every job's
/// output (stdout and stderr together) is printed whole when it ends; fails
/// naming the jobs that failed, after all of them have run.
pub fn run(jobs: Vec<Job>, env: &[(&str, &Path)], limit: Duration) -> Result<()> {
    let queue = Mutex::new(jobs.into_iter().collect::<VecDeque<_>>());
    let finished = Mutex::new(Vec::new());
    let print = Mutex::new(());
    std::thread::scope(|scope| {
        for _ in 0..at_once() {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().expect("queue").pop_front();
                    let Some(mut job) = next else { break };
                    for (key, value) in env {
                        job.command.env(key, value);
                    }
                    let outcome = run_one(&job.command, limit);
                    let _guard = print.lock().expect("print");
                    let (ok, text, elapsed) = outcome;
                    println!(
                        "\n--- {} {} ({:.1} s)\n$ {}\n{text}",
                        if ok { "ok" } else { "FAILED" },
                        job.label,
                        elapsed.as_secs_f64(),
                        exec::show(&job.command)
                    );
                    finished.lock().expect("finished").push(Finished {
                        label: job.label,
                        ok,
                        elapsed,
                    });
                }
            });
        }
    });
    let finished = finished.into_inner().expect("finished");
    let mut slowest: Vec<&Finished> = finished.iter().collect();
    slowest.sort_by_key(|f| std::cmp::Reverse(f.elapsed));
    let top: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|f| format!("{} {:.1} s", f.label, f.elapsed.as_secs_f64()))
        .collect();
    println!(
        "\n{} test jobs; slowest: {}",
        finished.len(),
        top.join(", ")
    );
    let failed: Vec<&str> = finished
        .iter()
        .filter(|f| !f.ok)
        .map(|f| f.label.as_str())
        .collect();
    if !failed.is_empty() {
        bail!("failed: {}", failed.join(", "));
    }
    Ok(())
}

/// Runs one command to its end or `limit`: success, its output, its time.
fn run_one(cmd: &Command, limit: Duration) -> (bool, String, Duration) {
    let started = Instant::now();
    let handle = match exec::expression(cmd)
        .stderr_to_stdout()
        .stdout_capture()
        .unchecked()
        .start()
    {
        Ok(handle) => handle,
        Err(e) => return (false, format!("could not start: {e}"), started.elapsed()),
    };
    match handle.wait_timeout(limit) {
        Ok(Some(out)) => (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            started.elapsed(),
        ),
        Ok(None) => {
            let _ = handle.kill();
            let output = handle
                .wait()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            let why = format!("{output}\ntimed out after {} s", limit.as_secs());
            (false, why, started.elapsed())
        }
        Err(e) => (false, format!("waiting failed: {e}"), started.elapsed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_from_every_id_form() {
        let manifest = Path::new("/w/service/Cargo.toml");
        assert_eq!(
            package_name("path+file:///w/service#users-service@0.1.0", manifest).as_deref(),
            Some("users-service")
        );
        let xtask = Path::new("/w/xtask/Cargo.toml");
        assert_eq!(
            package_name("path+file:///w/xtask#0.1.0", xtask).as_deref(),
            Some("xtask")
        );
        assert_eq!(
            package_name("users-cli 0.1.0 (path+file:///w/cli)", manifest).as_deref(),
            Some("users-cli")
        );
    }

    #[test]
    fn only_test_profile_artifacts_with_an_executable() {
        let lines = [
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/a#a@0.1.0","manifest_path":"/w/a/Cargo.toml","target":{"kind":["test"],"name":"flow"},"profile":{"test":true},"executable":"/t/flow-1"}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/a#a@0.1.0","manifest_path":"/w/a/Cargo.toml","target":{"kind":["lib"],"name":"a"},"profile":{"test":false},"executable":null}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        let found = parse(lines.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "flow");
        assert_eq!(found[0].package, "a");
        assert_eq!(found[0].dir, Path::new("/w/a"));
    }

    #[test]
    fn a_failing_job_fails_the_run_after_the_others_ran() {
        let mut fail = Command::new("sh");
        fail.args(["-c", "echo planted; exit 3"]);
        let mut pass = Command::new("sh");
        pass.args(["-c", "true"]);
        let err = run(
            vec![Job::command("fails", fail), Job::command("passes", pass)],
            &[],
            Duration::from_secs(30),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "failed: fails");
    }
}
