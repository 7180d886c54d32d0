//! The report: one row per figure, rendered as markdown.

use std::fmt::Write as _;

use crate::stats::Summary;

/// Every row the report has, in order: (key, section).
///
/// A row that was not measured still appears (as skipped, failed or not
/// run), so the table always has the same shape.
pub const ROWS: &[(&str, Section)] = &[
    ("read.user.rps", Section::Read),
    ("read.user.p50", Section::Read),
    ("read.user.p99", Section::Read),
    ("read.list.rps", Section::Read),
    ("read.list.p50", Section::Read),
    ("read.list.p99", Section::Read),
    ("read.tokens.user.rps", Section::Read),
    ("read.tokens.user.p50", Section::Read),
    ("read.tokens.user.p99", Section::Read),
    ("read.tokens.list.rps", Section::Read),
    ("read.tokens.list.p50", Section::Read),
    ("read.tokens.list.p99", Section::Read),
    ("read.ops.user.rps", Section::Read),
    ("read.log.user.rps", Section::Read),
    ("write.rps", Section::Write),
    ("write.p50", Section::Write),
    ("write.p99", Section::Write),
    ("write.raw.rps", Section::Write),
    ("write.raw.p99", Section::Write),
    ("write.batch", Section::Write),
    ("write.inside", Section::Write),
    ("write.vs_read", Section::Write),
    ("scale.small", Section::Scale),
    ("scale.mid", Section::Scale),
    ("scale.large", Section::Scale),
    ("scale.growth", Section::Scale),
    ("rss.idle", Section::Scale),
    ("rss.large", Section::Scale),
    ("rss.users", Section::Scale),
    ("rss.users.peak", Section::Scale),
    ("rss.users.quiet", Section::Scale),
    ("rss.users.quiet.peak", Section::Scale),
    ("client.get_user", Section::Client),
    ("codegen.users.generator", Section::Codegen),
    ("codegen.corpus.generator", Section::Codegen),
    ("codegen.users.stages", Section::Codegen),
    ("codegen.users.alone", Section::Codegen),
    ("codegen.synth.stages", Section::Codegen),
    ("codegen.synth.alone", Section::Codegen),
    ("codegen.corpus.stages", Section::Codegen),
    ("codegen.corpus.alone", Section::Codegen),
    ("codegen.build.clean", Section::Codegen),
    ("codegen.build.crate", Section::Codegen),
    ("compile.users.check", Section::Codegen),
    ("compile.users.check.cpu", Section::Codegen),
    ("compile.users.check.builder", Section::Codegen),
    ("compile.users.build", Section::Codegen),
    ("compile.users.build.cpu", Section::Codegen),
    ("compile.users.build.builder", Section::Codegen),
    ("compile.users.lines", Section::Codegen),
    ("compile.corpus.check", Section::Codegen),
    ("compile.corpus.check.cpu", Section::Codegen),
    ("compile.corpus.check.builder", Section::Codegen),
    ("compile.corpus.build", Section::Codegen),
    ("compile.corpus.build.cpu", Section::Codegen),
    ("compile.corpus.build.builder", Section::Codegen),
    ("compile.corpus.lines", Section::Codegen),
    ("pg.auth.rps", Section::Postgres),
    ("pg.auth.p50", Section::Postgres),
    ("pg.auth.p99", Section::Postgres),
    ("pg.auth2.rps", Section::Postgres),
    ("pg.auth2.p99", Section::Postgres),
    ("pg.user.rps", Section::Postgres),
    ("pg.user.p50", Section::Postgres),
    ("pg.user.p99", Section::Postgres),
    ("pg.user2.rps", Section::Postgres),
    ("pg.list.rps", Section::Postgres),
    ("pg.list.p50", Section::Postgres),
    ("pg.list2.rps", Section::Postgres),
    ("validation.user.requests", Section::Validation),
    ("validation.user.responses", Section::Validation),
    ("validation.sign_in.requests", Section::Validation),
    ("validation.sign_in.responses", Section::Validation),
];

/// The report's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// 1. Read path.
    Read,
    /// 2. Write path.
    Write,
    /// 3. Scale and memory.
    Scale,
    /// 4. Client overhead.
    Client,
    /// 5. Code generation.
    Codegen,
    /// 6. PostgreSQL, one and two instances.
    Postgres,
    /// 7. Schema checks on against off.
    Validation,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Read,
        Section::Write,
        Section::Scale,
        Section::Client,
        Section::Codegen,
        Section::Postgres,
        Section::Validation,
    ];

    fn title(self) -> &'static str {
        match self {
            Section::Read => "1. Read path: service vs baseline server",
            Section::Write => "2. Write path: durable authenticate",
            Section::Scale => "3. Scale and memory",
            Section::Client => "4. Generated client overhead",
            Section::Codegen => "5. Code generation",
            Section::Postgres => {
                "6. PostgreSQL: one and two instances on one database, SQLite beside"
            }
            Section::Validation => {
                "7. Schema checks: request and response validation on against off"
            }
        }
    }
}

/// What a row's goal is, checked on medians.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// No goal: reported for information.
    None,
    /// The ratio's median must be at least this.
    RatioAtLeast(f64),
    /// The ratio's median must be at most this.
    RatioAtMost(f64),
    /// The ratio's median must lie in this range.
    RatioBetween(f64, f64),
    /// Our median must be below this (in the row's unit).
    OursBelow(f64),
}

impl Goal {
    fn text(self, unit: &str) -> String {
        match self {
            Goal::None => "—".into(),
            Goal::RatioAtLeast(x) => format!("ratio ≥ {x:.2}"),
            Goal::RatioAtMost(x) => format!("ratio ≤ {x:.2}"),
            Goal::RatioBetween(a, b) => format!("ratio {a:.0}–{b:.0}"),
            Goal::OursBelow(x) => format!("< {} {unit}", num(x)),
        }
    }

    /// `Some(met)` when the goal applies and could be checked.
    pub fn met(self, ours: Option<Summary>, ratio: Option<Summary>) -> Option<bool> {
        match self {
            Goal::None => None,
            Goal::RatioAtLeast(x) => ratio.map(|r| r.median >= x),
            Goal::RatioAtMost(x) => ratio.map(|r| r.median <= x),
            Goal::RatioBetween(a, b) => ratio.map(|r| r.median >= a && r.median <= b),
            Goal::OursBelow(x) => ours.map(|o| o.median < x),
        }
    }
}

/// Whether a row was measured.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Measured; the numbers are in the row.
    Measured,
    /// Deliberately not measured (quick mode, missing optional tool).
    Skipped(String),
    /// The measurement failed.
    Failed(String),
}

/// One figure of the report.
#[derive(Debug, Clone)]
pub struct Row {
    /// Stable key from [`ROWS`].
    pub key: &'static str,
    /// What was measured (with sizes).
    pub label: String,
    /// Unit of `ours` and `baseline`.
    pub unit: &'static str,
    /// Our figure.
    pub ours: Option<Summary>,
    /// Our per-run values, in run order.
    pub ours_runs: Vec<f64>,
    /// What the baseline is, for this row.
    pub baseline_name: String,
    /// The baseline figure, measured in the same run.
    pub baseline: Option<Summary>,
    /// `ours / baseline` per paired run.
    pub ratio: Option<Summary>,
    /// The goal.
    pub goal: Goal,
    /// Measured, skipped or failed.
    pub state: State,
}

impl Row {
    /// A measured row.
    pub fn measured(key: &'static str, label: impl Into<String>, unit: &'static str) -> Self {
        Self {
            key,
            label: label.into(),
            unit,
            ours: None,
            ours_runs: Vec::new(),
            baseline_name: String::new(),
            baseline: None,
            ratio: None,
            goal: Goal::None,
            state: State::Measured,
        }
    }

    /// Sets our figure from per-run values.
    pub fn ours(mut self, values: &[f64]) -> Self {
        self.ours = Summary::of(values);
        self.ours_runs = values.to_vec();
        self
    }

    /// Sets the baseline from per-run values.
    pub fn baseline(mut self, name: impl Into<String>, values: &[f64]) -> Self {
        self.baseline_name = name.into();
        self.baseline = Summary::of(values);
        self
    }

    /// Sets the ratio from per-run values.
    pub fn ratio(mut self, values: &[f64]) -> Self {
        self.ratio = Summary::of(values);
        self
    }

    /// Sets the goal.
    pub fn goal(mut self, goal: Goal) -> Self {
        self.goal = goal;
        self
    }
}

/// All rows plus context.
#[derive(Debug, Default)]
pub struct Report {
    /// Rows measured so far, any order.
    pub rows: Vec<Row>,
    /// `key: value` lines describing the run.
    pub context: Vec<(String, String)>,
    /// Extra markdown sections, appended after the table.
    pub details: Vec<(String, String)>,
}

impl Report {
    /// Adds or replaces a row.
    pub fn put(&mut self, row: Row) {
        self.rows.retain(|r| r.key != row.key);
        self.rows.push(row);
    }

    /// Marks every not-yet-present row whose key starts with `prefix` as failed or skipped.
    pub fn mark(&mut self, prefix: &str, state: State) {
        for (key, _) in ROWS {
            if key.starts_with(prefix) && self.row(key).is_none() {
                let mut row = Row::measured(key, *key, "");
                row.state = state.clone();
                self.rows.push(row);
            }
        }
    }

    /// The row with this key.
    pub fn row(&self, key: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.key == key)
    }

    /// Keys of rows that failed or were never run.
    pub fn problems(&self) -> Vec<String> {
        ROWS.iter()
            .filter_map(|(key, _)| match self.row(key) {
                None => Some(format!("{key}: not run")),
                Some(Row {
                    state: State::Failed(e),
                    ..
                }) => Some(format!("{key}: {e}")),
                _ => None,
            })
            .collect()
    }

    /// Goals whose median missed, as labels.
    pub fn missed_goals(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.goal.met(r.ours, r.ratio) == Some(false))
            .map(|r| r.label.clone())
            .collect()
    }

    /// Renders the whole document.
    pub fn markdown(&self, title: &str, intro: &str, notes: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {title}\n");
        let _ = writeln!(out, "{}\n", intro.trim());
        for (k, v) in &self.context {
            let _ = writeln!(out, "- {k}: {v}");
        }
        out.push('\n');
        let _ = writeln!(
            out,
            "Figures are `median (min–max)` over the runs. A ratio is ours ÷ baseline per \
             paired run (the two were measured alternately in the same run of the harness); \
             for throughput higher is better, for latency, time and memory lower is better. \
             Goals are checked on the median.\n"
        );
        let missed = self.missed_goals();
        if missed.is_empty() {
            let _ = writeln!(out, "**Goals missed:** none.\n");
        } else {
            let _ = writeln!(out, "**Goals missed:** {}.\n", missed.join("; "));
        }
        for section in Section::ALL {
            let _ = writeln!(out, "## {}\n", section.title());
            let _ = writeln!(
                out,
                "| Figure | Ours | Baseline | Baseline figure | Ratio | Goal | Met |"
            );
            let _ = writeln!(out, "|---|---|---|---|---|---|---|");
            for (key, s) in ROWS {
                if *s != section {
                    continue;
                }
                out.push_str(&self.row_markdown(key));
                out.push('\n');
            }
            out.push('\n');
            for (heading, body) in &self.details {
                if heading.starts_with(&format!("{}:", section_tag(section))) {
                    let h = heading.split_once(':').map(|x| x.1).unwrap_or(heading);
                    let _ = writeln!(out, "{}\n", h.trim());
                    let _ = writeln!(out, "{}\n", body.trim_end());
                }
            }
        }
        if !notes.trim().is_empty() {
            out.push_str(notes.trim_end());
            out.push('\n');
        }
        out
    }

    fn row_markdown(&self, key: &str) -> String {
        let Some(r) = self.row(key) else {
            return format!("| `{key}` | not run | | | | | |");
        };
        match &r.state {
            State::Skipped(why) => format!("| {} | skipped: {why} | | | | | |", r.label),
            State::Failed(e) => format!("| {} | **failed**: {} | | | | | |", r.label, one_line(e)),
            State::Measured => {
                let met = match r.goal.met(r.ours, r.ratio) {
                    None => "—",
                    Some(true) => "yes",
                    Some(false) => "**no**",
                };
                format!(
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    r.label,
                    fmt(r.ours, r.unit),
                    if r.baseline_name.is_empty() {
                        "—"
                    } else {
                        &r.baseline_name
                    },
                    fmt(r.baseline, r.unit),
                    fmt_ratio(r.ratio),
                    r.goal.text(r.unit),
                    met
                )
            }
        }
    }
}

/// The tag that attaches a detail section to a report section.
pub fn section_tag(section: Section) -> &'static str {
    match section {
        Section::Read => "read",
        Section::Write => "write",
        Section::Scale => "scale",
        Section::Client => "client",
        Section::Codegen => "codegen",
        Section::Postgres => "pg",
        Section::Validation => "validation",
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '|'], " ")
}

/// A number with sensible precision.
pub fn num(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn fmt(s: Option<Summary>, unit: &str) -> String {
    match s {
        None => "—".into(),
        Some(s) if s.runs == 1 => format!("{} {unit}", num(s.median)),
        Some(s) => format!("{} {unit} ({}–{})", num(s.median), num(s.min), num(s.max)),
    }
}

fn fmt_ratio(s: Option<Summary>) -> String {
    match s {
        None => "—".into(),
        Some(s) if s.runs == 1 => format!("{:.2}", s.median),
        Some(s) => format!("{:.2} ({:.2}–{:.2})", s.median, s.min, s.max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_appears_even_unmeasured() {
        let mut report = Report::default();
        report.put(
            Row::measured("read.user.rps", "GET one", "req/s")
                .ours(&[1.0, 2.0])
                .baseline("b", &[2.0, 2.0])
                .ratio(&[0.5, 1.0])
                .goal(Goal::RatioAtLeast(0.8)),
        );
        report.mark("write", State::Skipped("quick".into()));
        let md = report.markdown("T", "intro", "");
        assert!(
            md.contains("| GET one | 1.50 req/s (1.00–2.00) | b |"),
            "{md}"
        );
        assert!(md.contains("GET one"));
        assert!(md.contains("**no**"));
        assert!(md.contains("skipped: quick"));
        assert!(md.contains("`codegen.build.crate` | not run"));
        let skipped = ROWS.iter().filter(|(k, _)| k.starts_with("write")).count();
        assert_eq!(report.problems().len(), ROWS.len() - 1 - skipped);
    }
}
