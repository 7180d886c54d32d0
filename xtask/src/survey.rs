//! `cargo xtask corpus --sample N --seed S` and `--all-31`: a survey of
//! specs from the pinned directory package that are in none of our lists.
//! Each is generated and its three crates compiled (`cargo check`, one
//! shared target directory); beside it, what progenitor alone does with the
//! same document (its `Generator` on the document as `openapiv3` reads it,
//! without our loader, normalization or 3.1 rewrite). One line per spec,
//! then the totals and the failure reasons counted.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::Value;
use users_api_codegen::{CodegenError, Spec, generate_with_warnings, guarded};

use crate::exec;
use crate::generate::{options, slug, write_workspace};

/// Which OpenAPI versions a survey draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Version {
    /// OpenAPI 3.0.x only.
    #[value(name = "3.0")]
    V30,
    /// OpenAPI 3.1.x only.
    #[value(name = "3.1")]
    V31,
    /// Both.
    Any,
}

/// What to survey.
pub struct Selection {
    /// How many specs to draw (`None`: every one that qualifies).
    pub sample: Option<usize>,
    /// Seed of the draw.
    pub seed: u64,
    /// Versions to draw from.
    pub version: Version,
    /// Operations a drawn spec has (webhooks count).
    pub operations: std::ops::RangeInclusive<usize>,
}

/// One candidate spec of the directory.
struct Candidate {
    /// Path under `api/`.
    name: String,
    path: PathBuf,
    v31: bool,
    operations: usize,
}

/// How far our generator got with one spec.
enum Ours {
    Compiles,
    DoesNotCompile(String),
    DoesNotGenerate(String),
}

/// Runs the survey over `directory` (the package's `api/`), leaving out `fixed`.
pub fn run(root: &Path, directory: &Path, fixed: &[&str], selection: &Selection) -> Result<()> {
    let mut candidates = candidates(directory, fixed, selection)?;
    println!(
        "survey: {} specs qualify (version {:?}, {}..={} operations, fixed list excluded)",
        candidates.len(),
        selection.version,
        selection.operations.start(),
        selection.operations.end()
    );
    if let Some(n) = selection.sample {
        let mut rng = fastrand::Rng::with_seed(selection.seed);
        rng.shuffle(&mut candidates);
        candidates.truncate(n);
        candidates.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let out = root.join("target/corpus/survey");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out)?;
    let target = exec::target_dir(root).join("corpus-survey");
    let mut classes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (mut generated, mut compiled, mut alone_ok) = (0, 0, 0);
    println!("spec | version | operations | ours | progenitor alone");
    for c in &candidates {
        let started = Instant::now();
        let ours = ours(root, c, &out, &target);
        let alone = progenitor_alone(&c.path);
        if alone == "generates" {
            alone_ok += 1;
        }
        let verdict = match &ours {
            Ours::Compiles => {
                generated += 1;
                compiled += 1;
                "generates, compiles".to_string()
            }
            Ours::DoesNotCompile(why) => {
                generated += 1;
                classes
                    .entry(format!("compile: {}", class_of(why)))
                    .or_default()
                    .push(c.name.clone());
                format!("generates, does not compile: {why}")
            }
            Ours::DoesNotGenerate(why) => {
                classes
                    .entry(format!("generate: {}", class_of(why)))
                    .or_default()
                    .push(c.name.clone());
                format!("does not generate: {why}")
            }
        };
        println!(
            "{} | {} | {} | {verdict} ({:.0} s) | {alone}",
            c.name,
            if c.v31 { "3.1" } else { "3.0" },
            c.operations,
            started.elapsed().as_secs_f64()
        );
    }
    let n = candidates.len();
    println!(
        "totals: {n} specs; ours: {generated} generate, {compiled} compile; progenitor alone: {alone_ok} generate"
    );
    for (class, specs) in &classes {
        println!("  {} x {class}: {}", specs.len(), specs.join(", "));
    }
    Ok(())
}

/// Every spec of the directory the selection allows.
fn candidates(directory: &Path, fixed: &[&str], selection: &Selection) -> Result<Vec<Candidate>> {
    let mut files = Vec::new();
    let mut dirs = vec![directory.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let name = path
            .strip_prefix(directory)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        if fixed.contains(&name.as_str()) {
            continue;
        }
        let Ok(doc) = serde_json::from_slice::<Value>(&std::fs::read(&path)?) else {
            continue;
        };
        let v31 = users_api_codegen::is_openapi31(&doc);
        let wanted = match selection.version {
            Version::V30 => !v31,
            Version::V31 => v31,
            Version::Any => true,
        };
        let operations = operations(&doc);
        if wanted && selection.operations.contains(&operations) {
            out.push(Candidate {
                name,
                path,
                v31,
                operations,
            });
        }
    }
    Ok(out)
}

/// Operations under `paths` and `webhooks`.
fn operations(doc: &Value) -> usize {
    const METHODS: &[&str] = &[
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    ["paths", "webhooks"]
        .iter()
        .filter_map(|k| doc.get(*k).and_then(Value::as_object))
        .flat_map(|items| items.values())
        .map(|item| METHODS.iter().filter(|m| item.get(**m).is_some()).count())
        .sum()
}

/// Our generator on one spec, then `cargo check` on its crates.
fn ours(root: &Path, c: &Candidate, out: &Path, target: &Path) -> Ours {
    let generated = catch_unwind(AssertUnwindSafe(|| -> Result<_> {
        let spec = Spec::read(&c.path)?;
        let name = slug(&spec.api.info.title);
        Ok((
            name.clone(),
            generate_with_warnings(&spec, &options(&name, Path::new("")))?,
        ))
    }));
    let (name, files) = match generated {
        Ok(Ok((name, (files, _)))) => (name, files),
        Ok(Err(e)) => return Ours::DoesNotGenerate(first_line(&format!("{e:#}"))),
        Err(_) => return Ours::DoesNotGenerate("panic".into()),
    };
    let dir = out.join(c.name.replace(['/', '.'], "_"));
    if let Err(e) = write_workspace(root, &name, &files, &dir) {
        return Ours::DoesNotGenerate(format!("writing: {e}"));
    }
    let mut cargo = exec::cargo(&["check", "--quiet", "--workspace"]);
    cargo.env("CARGO_TARGET_DIR", target).current_dir(&dir);
    match exec::capture(&cargo) {
        Ok(o) if o.status.success() => Ours::Compiles,
        Ok(o) => Ours::DoesNotCompile(first_error(&String::from_utf8_lossy(&o.stderr))),
        Err(e) => Ours::DoesNotCompile(format!("cargo did not run: {e}")),
    }
}

/// progenitor's own `Generator` with default settings on the document as
/// `openapiv3` parses it.
fn progenitor_alone(path: &Path) -> String {
    let Ok(text) = std::fs::read(path) else {
        return "unreadable".into();
    };
    let api: openapiv3::OpenAPI = match serde_json::from_slice(&text) {
        Ok(api) => api,
        Err(e) => return format!("refuses the document: {}", first_line(&e.to_string())),
    };
    let outcome = guarded("progenitor", || {
        progenitor_impl::Generator::new(&progenitor_impl::GenerationSettings::default())
            .generate_tokens(&api)
    });
    match outcome {
        Ok(_) => "generates".into(),
        Err(CodegenError::Unsupported { message, .. }) => {
            format!("panics: {}", first_line(&message))
        }
        Err(CodegenError::Generate { message, .. }) => format!("error: {}", first_line(&message)),
        Err(e) => format!("error: {}", first_line(&e.to_string())),
    }
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or_default();
    line.chars().take(160).collect()
}

/// The first compiler error, with its location.
fn first_error(stderr: &str) -> String {
    let mut lines = stderr.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("error") {
            let at = lines
                .find(|l| l.trim_start().starts_with("-->"))
                .map(|l| l.trim().trim_start_matches("--> ").to_string())
                .unwrap_or_default();
            return first_line(&format!("{line} at {at}"));
        }
    }
    "cargo check failed".into()
}

/// A failure's class: its message without the names in it and its place.
fn class_of(why: &str) -> String {
    let message = why.split(" at ").next().unwrap_or(why);
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '`' => {
                if !quoted {
                    out.push_str("`_`");
                }
                quoted = !quoted;
            }
            _ if quoted => {}
            c => out.push(c),
        }
    }
    out
}
