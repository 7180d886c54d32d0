//! Runs the selected steps in table order, a PASS/FAIL/SKIP line for each,
//! then the summary table; exits with status 1 when a step failed.
//!
//! A step marked `beside` (it needs nothing the later steps make, and they
//! need nothing of it) runs as a child `xtask ci --only STEP` beside the
//! steps after it, its output in `target/ci-tools/logs/step-STEP.log`,
//! printed whole when it ends; the run waits for it before the summary.
//! On two cores this fills the time the later steps spend waiting on
//! servers, browsers and Python. One that needs the build starts only if it
//! passed (else it is skipped in line, as any step needing it).
//!
//! The summary gives each step's wall time and its CPU time ([`cpu`]): what
//! xtask and the processes the step started used, on all cores. A step
//! beside the others reports its own figure through a file, and it is taken
//! out of the step during which it ended.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::{Ctx, MINUTES, Step, cpu};
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
    /// CPU time, when known.
    cpu: Option<Duration>,
    /// When an inline step ran (a beside step's CPU is taken out of the step
    /// during which it ended); `None` for a beside step.
    span: Option<(Instant, Instant)>,
}

/// The environment variable naming the file a step run beside the others
/// writes its CPU time to (seconds), for the parent's summary.
const CPU_REPORT: &str = "USERS_CI_CPU_REPORT";

/// Runs every step of `steps` named in `selected`; the others show as skipped.
pub fn run(ctx: &mut Ctx, steps: &[Step], selected: &[&str]) -> Result<()> {
    let started = Instant::now();
    report_disk(&ctx.target);
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
        let build_failed = step.needs_build && ctx.build_failed;
        if step.beside && later && selected.contains(&step.name) && !build_failed {
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
                    cpu: None,
                    span: None,
                }),
            }
        } else {
            records.push(run_step(ctx, step, selected));
        }
    }
    // In table order: later insertions shift the positions of earlier ones.
    for (at, running) in beside.into_iter().rev() {
        let (record, ended) = running.finish();
        take_out(&mut records, record.cpu, ended);
        records.insert(at, record);
    }
    println!("{}", summary(&records, started.elapsed()));
    report_cpu();
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

/// Free space a fresh clone's full run needs under `target/` (measured:
/// about 7 GB with `CARGO_INCREMENTAL=0`, as `.ci/run` sets it), with room.
const DISK_NEEDED_GIB: u64 = 10;

/// Prints the free space on the file system holding `target`, and a warning
/// when it is below [`DISK_NEEDED_GIB`]: a run that fills the disk fails
/// inside whichever step was writing, with rustc's "No space left on device".
fn report_disk(target: &std::path::Path) {
    let dir = target
        .ancestors()
        .find(|d| d.exists())
        .unwrap_or(std::path::Path::new("."));
    match rustix::fs::statvfs(dir) {
        Ok(fs) => {
            let free_gib = fs.f_bavail.saturating_mul(fs.f_frsize) / (1 << 30);
            println!("disk: {free_gib} GiB free under {}", dir.display());
            if free_gib < DISK_NEEDED_GIB {
                println!(
                    "warning: a full run writes about {DISK_NEEDED_GIB} GiB under target/; steps may fail with \"No space left on device\""
                );
            }
        }
        Err(e) => println!("disk: free space under {} unknown ({e})", dir.display()),
    }
}

/// Subtracts `cpu`, reaped at `ended` by a step run beside, from the inline
/// step that was running then.
fn take_out(records: &mut [Record], cpu: Option<Duration>, ended: Instant) {
    let running = records.iter_mut().find(|r| {
        r.span
            .is_some_and(|(from, to)| from <= ended && ended <= to)
    });
    if let Some(r) = running {
        r.cpu = r.cpu.zip(cpu).map(|(own, other)| own.saturating_sub(other));
    }
}

/// In a run started beside another (see [`CPU_REPORT`]): writes this
/// process's CPU time, its reaped children's included, for the parent.
fn report_cpu() {
    let (Some(path), Some(used)) = (std::env::var_os(CPU_REPORT), cpu::used()) else {
        return;
    };
    if let Err(e) = std::fs::write(&path, format!("{:.3}", used.as_secs_f64())) {
        eprintln!(
            "could not write the CPU time to {}: {e}",
            Path::new(&path).display()
        );
    }
}

fn run_step(ctx: &mut Ctx, step: &Step, selected: &[&str]) -> Record {
    let started = Instant::now();
    let cpu_before = cpu::used();
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
    let ran = !matches!(outcome, Outcome::Skip(_));
    Record {
        name: step.name,
        outcome,
        elapsed,
        cpu: cpu::between(cpu_before, cpu::used()).filter(|_| ran),
        span: Some((started, Instant::now())),
    }
}

/// A step running as a child process beside the later steps.
struct Beside {
    name: &'static str,
    /// Waits for the child: how it ended, and when (its own time, not the
    /// time the run gets round to asking).
    waiter: std::thread::JoinHandle<(Outcome, Instant)>,
    log: PathBuf,
    /// Where the child writes its CPU time ([`CPU_REPORT`]).
    cpu_file: PathBuf,
    started: Instant,
}

impl Beside {
    /// Starts `EXE ci --only STEP` (`EXE` a copy of this binary) with its
    /// output in a log file.
    fn start(ctx: &Ctx, step: &Step, exe: &Path) -> Result<Self> {
        let log = ctx.log_file(&format!("step-{}.log", step.name))?;
        let cpu_file = ctx.fresh_file("logs", &format!("step-{}.cpu", step.name))?;
        let mut cmd = Command::new(exe);
        cmd.args(["ci", "--only", step.name])
            .current_dir(&ctx.root)
            .env(CPU_REPORT, &cpu_file);
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
            cpu_file,
            started,
        })
    }

    /// Waits for it (killed after [`MINUTES`]), prints its output, and records
    /// how it ended; with the time it ended.
    fn finish(self) -> (Record, Instant) {
        let (outcome, ended) = self
            .waiter
            .join()
            .unwrap_or_else(|_| (Outcome::Fail("its waiter panicked".into()), Instant::now()));
        let elapsed = ended.duration_since(self.started);
        let output = std::fs::read_to_string(&self.log).unwrap_or_default();
        println!("\n==> {} (ran beside the steps above)\n{output}", self.name);
        println!("{}", result_line(self.name, &outcome, elapsed));
        let cpu = std::fs::read_to_string(&self.cpu_file)
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .and_then(|secs| Duration::try_from_secs_f64(secs).ok());
        let record = Record {
            name: self.name,
            outcome,
            elapsed,
            cpu,
            span: None,
        };
        (record, ended)
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

/// The table: one row per step (wall and CPU time, the first line of why it
/// failed or was skipped), then the totals.
fn summary(records: &[Record], total: Duration) -> String {
    let secs = |d: Duration| format!("{:.1}s", d.as_secs_f64());
    let mut out = vec![
        "\nci summary".to_string(),
        format!(
            "  {:<15} {:<6} {:>8} {:>8}",
            "step", "result", "time", "cpu"
        ),
    ];
    for r in records {
        let (time, cpu) = match r.outcome {
            Outcome::Skip(_) => (String::new(), String::new()),
            _ => (secs(r.elapsed), r.cpu.map(secs).unwrap_or_default()),
        };
        let (label, why) = r.outcome.parts();
        let detail = why.lines().next().unwrap_or("");
        let row = format!("  {:<15} {label:<6} {time:>8} {cpu:>8}  {detail}", r.name);
        out.push(row.trim_end().to_string());
    }
    let cpu: Option<Duration> = records.iter().filter_map(|r| r.cpu).reduce(|a, b| a + b);
    let cpu = cpu.map(secs).unwrap_or_default();
    out.push(format!(
        "  {:<15} {:<6} {:>8} {cpu:>8}",
        "total",
        "",
        secs(total)
    ));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_rows_show_outcome_time_and_first_line_of_why() {
        let rec = |name, outcome, cpu| Record {
            name,
            outcome,
            elapsed: Duration::from_millis(1500),
            cpu,
            span: None,
        };
        let table = summary(
            &[
                rec("drift", Outcome::Pass, Some(Duration::from_millis(2500))),
                rec("test", Outcome::Fail("cargo failed\nmore".into()), None),
                rec("prism", Outcome::Skip("not selected".into()), None),
                rec("fmt", Outcome::Pass, Some(Duration::from_millis(500))),
            ],
            Duration::from_secs(3),
        );
        let rows: Vec<&str> = table.lines().skip(3).collect();
        assert_eq!(rows[0], "  drift           PASS       1.5s     2.5s");
        assert_eq!(
            rows[1],
            "  test            FAIL       1.5s           cargo failed"
        );
        assert_eq!(
            rows[2],
            "  prism           SKIP                      not selected"
        );
        assert_eq!(rows[3], "  fmt             PASS       1.5s     0.5s");
        assert_eq!(rows[4], "  total                      3.0s     3.0s");
        assert_eq!(
            result_line("test", &Outcome::Fail("why".into()), Duration::from_secs(2)),
            "FAIL test (2.0s): why"
        );
    }

    #[test]
    fn a_beside_steps_cpu_leaves_the_step_it_ended_in() {
        let at = Instant::now();
        let rec = |name, from: u64, to: u64| Record {
            name,
            outcome: Outcome::Pass,
            elapsed: Duration::from_secs(to - from),
            cpu: Some(Duration::from_secs(100)),
            span: Some((at + Duration::from_secs(from), at + Duration::from_secs(to))),
        };
        let mut records = vec![rec("spectral", 0, 10), rec("schemathesis", 10, 120)];
        take_out(
            &mut records,
            Some(Duration::from_secs(30)),
            at + Duration::from_secs(50),
        );
        assert_eq!(records[0].cpu, Some(Duration::from_secs(100)));
        assert_eq!(records[1].cpu, Some(Duration::from_secs(70)));
        // Ended after every inline step: nothing to take it out of.
        take_out(
            &mut records,
            Some(Duration::from_secs(30)),
            at + Duration::from_secs(500),
        );
        assert_eq!(records[1].cpu, Some(Duration::from_secs(70)));
    }
}
