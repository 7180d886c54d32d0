//! Runs the selected steps in table order, a PASS/FAIL/SKIP line for each,
//! then the summary table; exits with status 1 when a step failed.
//!
//! A step marked `beside` (it needs nothing the later steps make, and they
//! need nothing of it) runs as a child `xtask ci --only STEP` beside the
//! steps after it, its output in `target/ci-tools/logs/step-STEP.log`,
//! printed whole when it ends; the run waits for it before the summary.
//! On two cores this fills the time the later steps spend waiting on
//! servers, browsers and Python.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::{Ctx, MINUTES, Step};
use crate::exec;

enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

impl Outcome {
    /// `PASS`, `FAIL` or `SKIP`, and why (empty for a pass).
    fn parts(&self) -> (&'static str, &str) {
        match self {
            Outcome::Pass => ("PASS", ""),
            Outcome::Fail(why) => ("FAIL", why),
            Outcome::Skip(why) => ("SKIP", why),
        }
    }
}

struct Record {
    name: &'static str,
    outcome: Outcome,
    elapsed: Duration,
}

/// Runs every step of `steps` named in `selected`; the others show as skipped.
pub fn run(ctx: &mut Ctx, steps: &[Step], selected: &[&str]) -> Result<()> {
    let started = Instant::now();
    // The test step's build replaces target/debug/xtask, this very binary:
    // steps run beside start a copy of it, made before anything is built.
    let own_copy = if steps.iter().any(|s| s.beside && selected.contains(&s.name)) {
        copy_of_self(ctx).map_err(|e| format!("could not copy the xtask binary: {e:#}"))
    } else {
        Err("no step runs beside".to_string())
    };
    // Downloads overlap the build: the tools of every selected step start
    // installing now; each step waits for its own.
    let tools: Vec<_> = steps
        .iter()
        .filter(|s| selected.contains(&s.name))
        .flat_map(|s| s.tools.iter().copied())
        .collect();
    ctx.tools.prefetch(&ctx.root, &tools);
    let mut records = Vec::new();
    let mut beside = Vec::new();
    for (at, step) in steps.iter().enumerate() {
        let later = steps[at + 1..].iter().any(|s| selected.contains(&s.name));
        if step.beside && later && selected.contains(&step.name) {
            let started = match &own_copy {
                Ok(exe) => Beside::start(ctx, step, exe),
                Err(e) => Err(anyhow::anyhow!("{e}")),
            };
            match started {
                Ok(running) => beside.push((records.len(), running)),
                Err(e) => records.push(Record {
                    name: step.name,
                    outcome: Outcome::Fail(format!("{e:#}")),
                    elapsed: Duration::ZERO,
                }),
            }
        } else {
            records.push(run_step(ctx, step, selected));
        }
    }
    // In table order: later insertions shift the positions of earlier ones.
    for (at, running) in beside.into_iter().rev() {
        records.insert(at, running.finish());
    }
    println!("{}", summary(&records, started.elapsed()));
    let failed: Vec<&str> = records
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail(_)))
        .map(|r| r.name)
        .collect();
    if !failed.is_empty() {
        // Exit here: the table above already says why, no error chain needed.
        eprintln!("ci failed: {}", failed.join(", "));
        std::process::exit(1);
    }
    Ok(())
}

fn run_step(ctx: &mut Ctx, step: &Step, selected: &[&str]) -> Record {
    let started = Instant::now();
    let outcome = if !selected.contains(&step.name) {
        Outcome::Skip("not selected".into())
    } else if step.needs_build && ctx.build_failed {
        Outcome::Skip("build failed".into())
    } else {
        println!("\n==> {} ({})", step.name, step.about);
        let result = (step.run)(ctx);
        if step.name == "build" {
            ctx.build_failed = result.is_err();
        }
        result.map_or_else(|e| Outcome::Fail(format!("{e:#}")), |()| Outcome::Pass)
    };
    let elapsed = started.elapsed();
    println!("{}", result_line(step.name, &outcome, elapsed));
    Record {
        name: step.name,
        outcome,
        elapsed,
    }
}

/// A step running as a child process beside the later steps.
struct Beside {
    name: &'static str,
    /// Waits for the child: how it ended, and when (its own time, not the
    /// time the run gets round to asking).
    waiter: std::thread::JoinHandle<(Outcome, Instant)>,
    log: PathBuf,
    started: Instant,
}

impl Beside {
    /// Starts `EXE ci --only STEP` (`EXE` a copy of this binary) with its
    /// output in a log file.
    fn start(ctx: &Ctx, step: &Step, exe: &Path) -> Result<Self> {
        let log = ctx.log_file(&format!("step-{}.log", step.name))?;
        let mut cmd = Command::new(exe);
        cmd.args(["ci", "--only", step.name]).current_dir(&ctx.root);
        let file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let handle = exec::expression(&cmd)
            .stderr_to_stdout()
            .stdout_file(file)
            .unchecked()
            .start()
            .with_context(|| format!("starting `{}`", exec::show(&cmd)))?;
        println!(
            "\n==> {} ({}): runs beside the next steps; output in {}",
            step.name,
            step.about,
            log.display()
        );
        let started = Instant::now();
        let shown = log.display().to_string();
        let waiter = std::thread::spawn(move || {
            let outcome = match handle.wait_timeout(Duration::from_secs(MINUTES * 60)) {
                Ok(Some(out)) if out.status.success() => Outcome::Pass,
                Ok(Some(out)) => Outcome::Fail(format!("{shown} ({})", out.status)),
                Ok(None) => {
                    let _ = handle.kill();
                    Outcome::Fail(format!("timed out after {MINUTES} min"))
                }
                Err(e) => Outcome::Fail(format!("waiting for it: {e}")),
            };
            (outcome, Instant::now())
        });
        Ok(Self {
            name: step.name,
            waiter,
            log,
            started,
        })
    }

    /// Waits for it (killed after [`MINUTES`]), prints its output, and records how it ended.
    fn finish(self) -> Record {
        let (outcome, ended) = self
            .waiter
            .join()
            .unwrap_or_else(|_| (Outcome::Fail("its waiter panicked".into()), Instant::now()));
        let elapsed = ended.duration_since(self.started);
        let output = std::fs::read_to_string(&self.log).unwrap_or_default();
        println!("\n==> {} (ran beside the steps above)\n{output}", self.name);
        println!("{}", result_line(self.name, &outcome, elapsed));
        Record {
            name: self.name,
            outcome,
            elapsed,
        }
    }
}

/// Copies the running xtask binary to `target/ci-tools/bin/`.
fn copy_of_self(ctx: &Ctx) -> Result<PathBuf> {
    let exe = std::env::current_exe().context("the xtask binary")?;
    let name = format!("xtask-ci{}", std::env::consts::EXE_SUFFIX);
    let copy = ctx.fresh_file("bin", &name)?;
    std::fs::copy(&exe, &copy)
        .with_context(|| format!("copying {} to {}", exe.display(), copy.display()))?;
    Ok(copy)
}

/// `PASS build (12.3s)`, `FAIL test (4.5s): why`, `SKIP prism (why)`.
fn result_line(name: &str, outcome: &Outcome, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    match outcome {
        Outcome::Pass => format!("PASS {name} ({secs:.1}s)"),
        Outcome::Fail(why) => format!("FAIL {name} ({secs:.1}s): {why}"),
        Outcome::Skip(why) => format!("SKIP {name} ({why})"),
    }
}

/// The table: one row per step (the first line of why it failed or was
/// skipped), then the total time.
fn summary(records: &[Record], total: Duration) -> String {
    let mut out = vec![
        "\nci summary".to_string(),
        format!("  {:<13} {:<6} {:>8}", "step", "result", "time"),
    ];
    for r in records {
        let time = match r.outcome {
            Outcome::Skip(_) => String::new(),
            _ => format!("{:.1}s", r.elapsed.as_secs_f64()),
        };
        let (label, why) = r.outcome.parts();
        let detail = why.lines().next().unwrap_or("");
        let row = format!("  {:<13} {label:<6} {time:>8}  {detail}", r.name);
        out.push(row.trim_end().to_string());
    }
    let total = format!("{:.1}s", total.as_secs_f64());
    out.push(format!("  {:<13} {:<6} {total:>8}", "total", ""));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_rows_show_outcome_time_and_first_line_of_why() {
        let rec = |name, outcome| Record {
            name,
            outcome,
            elapsed: Duration::from_millis(1500),
        };
        let table = summary(
            &[
                rec("drift", Outcome::Pass),
                rec("test", Outcome::Fail("cargo failed\nmore".into())),
                rec("prism", Outcome::Skip("not selected".into())),
            ],
            Duration::from_secs(3),
        );
        let rows: Vec<&str> = table.lines().skip(3).collect();
        assert_eq!(rows[0], "  drift         PASS       1.5s");
        assert_eq!(rows[1], "  test          FAIL       1.5s  cargo failed");
        assert_eq!(rows[2], "  prism         SKIP             not selected");
        assert_eq!(rows[3], "  total                    3.0s");
        assert_eq!(
            result_line("test", &Outcome::Fail("why".into()), Duration::from_secs(2)),
            "FAIL test (2.0s): why"
        );
    }
}
