//! Section 5: how long code generation takes, and where the time goes.
//!
//! The public API of `users-api-codegen` gives the total of [`generate`] and
//! of validation. The progenitor share is measured by running progenitor here
//! with the same settings and the same two passes as the code generator
//! (models from `components/schemas`, then the client with every model
//! replaced by the shared crate's type), and formatting their output with
//! `syn` and `prettyplease` as the generator does. What is left of the total
//! is our own work: the operations model, the server stubs and their
//! formatting. This is an estimate: a finer split needs timings from inside
//! the code generator.

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use progenitor_impl::{GenerationSettings, Generator, TypeImpl};
use users_api_codegen::{Options, Spec, generate, model::type_name};

use crate::report::{Report, Row, State};
use crate::stats::{Summary, ratios};
use crate::{Config, progress};

/// Milliseconds spent in each stage of one generation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Split {
    /// `Spec::parse` (YAML twice: raw tree and typed document).
    pub parse: f64,
    /// `check` (validation), also done inside `generate`.
    pub validate: f64,
    /// The whole of `generate` (includes validation).
    pub generate: f64,
    /// progenitor's two passes, measured separately.
    pub progenitor: f64,
    /// Parsing and pretty-printing progenitor's output, measured separately.
    pub formatting: f64,
}

impl Split {
    /// Parse plus generate: what `cargo xtask regen` spends in the generator.
    pub fn total(&self) -> f64 {
        self.parse + self.generate
    }

    /// Our own generation: everything in `generate` that is not validation,
    /// progenitor or the formatting of progenitor's output: the operations
    /// model, the server stubs and their formatting, docs and manifests.
    pub fn ours(&self) -> f64 {
        (self.generate - self.validate - self.progenitor - self.formatting).max(0.0)
    }
}

/// The settings `users-api-codegen` itself uses, so the timed passes are the real ones.
fn settings() -> GenerationSettings {
    users_api_codegen::progenitor_settings()
}

/// progenitor's two passes, as `users-api-codegen` runs them; returns their
/// token streams (models, client).
fn progenitor(spec: &Spec) -> Result<(proc_macro2::TokenStream, proc_macro2::TokenStream)> {
    let mut models_api = spec.api.clone();
    models_api.paths = Default::default();
    let mut models = Generator::new(&settings());
    black_box(models.generate_tokens(&models_api)?);
    let space = models.get_type_space();
    let model_tokens = space.to_stream();
    let mut client_settings = settings();
    for schema in spec.api.components.iter().flat_map(|c| c.schemas.keys()) {
        let rust = type_name(schema);
        let ty = space
            .iter_types()
            .find(|t| t.name() == rust)
            .with_context(|| format!("no type {rust}"))?;
        let impls: Vec<TypeImpl> = [TypeImpl::Default, TypeImpl::Display, TypeImpl::FromStr]
            .into_iter()
            .filter(|i| ty.has_impl(*i))
            .collect();
        client_settings.with_replacement(
            &rust,
            format!("::users_api_types::{rust}"),
            impls.into_iter(),
        );
    }
    let mut client = Generator::new(&client_settings);
    let client_tokens = client.generate_tokens(&spec.api)?;
    Ok((model_tokens, client_tokens))
}

/// Formats progenitor's output as the code generator does: `syn::parse2`
/// (twice for the client, which is edited in between) and `prettyplease`.
fn format_progenitor(
    models: proc_macro2::TokenStream,
    client: proc_macro2::TokenStream,
) -> Result<()> {
    let file: syn::File = syn::parse2(models)?;
    black_box(prettyplease::unparse(&file));
    let file: syn::File = syn::parse2(client)?;
    let file: syn::File = syn::parse2(quote::quote!(#file))?;
    black_box(prettyplease::unparse(&file));
    Ok(())
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Times one generation from spec text.
pub fn measure(file: &str, text: &str) -> Result<Split> {
    let options = Options::default();
    let t = Instant::now();
    let spec = Spec::parse(file, text)?;
    let parse = ms(t);
    let t = Instant::now();
    users_api_codegen::check(&spec, &options)?;
    let validate = ms(t);
    let t = Instant::now();
    let files = generate(&spec, &options)?;
    let generate = ms(t);
    black_box(files);
    let t = Instant::now();
    let (models, client) = progenitor(&spec)?;
    let progenitor = ms(t);
    let t = Instant::now();
    format_progenitor(models, client)?;
    let formatting = ms(t);
    Ok(Split {
        parse,
        validate,
        generate,
        progenitor,
        formatting,
    })
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

fn rows(
    report: &mut Report,
    keys: (&'static str, &'static str),
    name: &str,
    text: &str,
    runs: usize,
) -> Result<String> {
    let (ops, schemas) = counts(text)?;
    let mut splits = Vec::new();
    for _ in 0..runs {
        splits.push(measure(name, text)?);
    }
    let col = |f: fn(&Split) -> f64| -> Vec<f64> { splits.iter().map(f).collect() };
    let total = col(Split::total);
    let prog = col(|s| s.progenitor);
    let prog_all = col(|s| s.progenitor + s.formatting);
    let ours = col(Split::ours);
    let what = format!("{name} ({ops} operations, {schemas} schemas)");
    report.put(
        Row::measured(
            keys.0,
            format!("{what}: parse + generate, in process"),
            "ms",
        )
        .ours(&total)
        .baseline(
            "progenitor: its passes + formatting their output",
            &prog_all,
        )
        .ratio(&ratios(&total, &prog_all)),
    );
    report.put(
        Row::measured(
            keys.1,
            format!("{what}: our generation (operations model, server stubs, their formatting)"),
            "ms",
        )
        .ours(&ours)
        .baseline(
            "progenitor: its passes + formatting their output",
            &prog_all,
        )
        .ratio(&ratios(&ours, &prog_all)),
    );
    let med = |v: Vec<f64>| Summary::of(&v).map_or(f64::NAN, |s| s.median);
    let t = med(total.clone());
    let cell = |v: Vec<f64>| {
        let m = med(v);
        format!("{m:.1} ({:.0}%)", 100.0 * m / t)
    };
    Ok(format!(
        "| {what} | {} | {} | {} | {} | {} | {t:.1} |",
        cell(col(|s| s.parse)),
        cell(col(|s| s.validate)),
        cell(prog),
        cell(col(|s| s.formatting)),
        cell(ours),
    ))
}

/// Writes the synthetic spec with `scripts/synth_spec.py`.
fn synth(cfg: &Config, out: &Path) -> Result<Option<String>> {
    let script = cfg.root.join("scripts/synth_spec.py");
    let status = Command::new("python3")
        .arg(&script)
        .args(["--operations", &cfg.synth.0.to_string()])
        .args(["--schemas", &cfg.synth.1.to_string()])
        .arg("--out")
        .arg(out)
        .stderr(Stdio::null())
        .status();
    match status {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).context("running python3"),
        Ok(s) if !s.success() => bail!("{} failed: {s}", script.display()),
        Ok(_) => Ok(Some(std::fs::read_to_string(out)?)),
    }
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
            .args(["build", "-j2", "-p", "users-api-client"])
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
        let fingerprints = target.join("debug/.fingerprint");
        for entry in std::fs::read_dir(&fingerprints)? {
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
            "users-api-client: clean debug build with all dependencies, -j2 (1 run)",
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
        "| Spec | parse | validate | progenitor passes (models + client) | formatting progenitor's output | ours (operations model, server stubs and their formatting, docs) | total |".to_string(),
        "|---|---|---|---|---|---|---|".to_string(),
    ];
    progress("codegen: spec/users.yaml");
    let users = std::fs::read_to_string(cfg.root.join("spec/users.yaml"))?;
    table.push(rows(
        report,
        ("codegen.users.total", "codegen.users.split"),
        "spec/users.yaml",
        &users,
        cfg.runs,
    )?);

    progress("codegen: synthetic spec");
    let synth_path = cfg.work_dir.join("synth.yaml");
    match synth(cfg, &synth_path) {
        Ok(Some(text)) => match rows(
            report,
            ("codegen.synth.total", "codegen.synth.split"),
            "synthetic spec",
            &text,
            cfg.runs,
        ) {
            Ok(line) => table.push(line),
            Err(e) => report.mark("codegen.synth", State::Failed(format!("{e:#}"))),
        },
        Ok(None) => report.mark("codegen.synth", State::Skipped("python3 not found".into())),
        Err(e) => report.mark("codegen.synth", State::Failed(format!("{e:#}"))),
    }
    report.details.push((
        "codegen:### Where generation time goes".into(),
        format!(
            "Milliseconds (share of the total), medians over {} runs, release build, in process. \
             `cargo xtask regen` runs the same code in a debug build, which is slower.\n\n{}",
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
