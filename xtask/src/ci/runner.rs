//! Runs the selected steps in table order, a PASS/FAIL/SKIP line for each,
//! then the summary table; exits with status 1 when a step failed.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::{Ctx, Step};

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
    let records: Vec<Record> = steps
        .iter()
        .map(|step| run_step(ctx, step, selected))
        .collect();
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
