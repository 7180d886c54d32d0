//! `skeletons`: the skeleton servers (`cargo xtask generate`'s `server`
//! crate) of the feature specs and of public specs with constrained
//! parameters and bodies, generated into one workspace, built with one
//! cargo invocation (in the target directory the corpus step and the
//! codegen tests share), each started on a free loopback port and probed by
//! Schemathesis (`conformance/skeletons.toml`): invalid requests must be
//! refused with 4xx before the implementation runs (`negative_data_rejection`),
//! valid ones accepted (`positive_data_acceptance`), and the answers (the
//! spec's examples, values made from the schemas, documented refusals)
//! conform to the spec, documented statuses only. Every spec gates the step.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use users_api_codegen::{Runtimes, Spec, generate, standalone_workspace};

use super::Ctx;
use crate::exec::{self, Background};
use crate::generate::{options, slug};

/// Public specs (paths under the directory package's `api/`): small, no
/// security, constrained parameters and bodies (numeric bounds, enums,
/// patterns, formats, required bodies), examples for most answers. Every
/// check must pass on these.
pub const PUBLIC: &[&str] = &[
    // Coordinates with numeric bounds in query parameters and JSON bodies.
    "wyjyt-geo-calculate.azurewebsites.net.json",
    // Nine form and JSON bodies, enums, patterns, required properties.
    "isendpro.com.json",
    // Required headers and a required body.
    "whapi.com/sessions.json",
];

/// The feature specs: every construct the generator supports.
const FEATURES: &[&str] = &[
    crate::codegen_tasks::FEATURES_SPEC,
    crate::codegen_tasks::FEATURES_31_SPEC,
];

/// Runs the step: every skeleton, then one failure listing the specs that failed.
pub fn skeletons(ctx: &mut Ctx) -> Result<()> {
    ctx.tools.python(&ctx.root)?;
    let directory = crate::corpus::install(&ctx.root)?;
    let mut specs: Vec<PathBuf> = FEATURES.iter().map(|p| ctx.root.join(p)).collect();
    specs.extend(PUBLIC.iter().map(|p| directory.join(p)));
    let out = ctx.target.join("skeletons");
    let started = Instant::now();
    let slugs = generate_all(&ctx.root, &specs, &out)?;
    build(ctx, &slugs, &out)?;
    println!(
        "skeletons: {} generated and built in {:.1} s",
        slugs.len(),
        started.elapsed().as_secs_f64()
    );
    let mut failed = Vec::new();
    for (slug, spec) in slugs.iter().zip(&specs) {
        let started = Instant::now();
        let outcome = probe(ctx, slug, spec);
        let verdict = if outcome.is_ok() { "ok" } else { "FAILED" };
        println!(
            "skeletons: {slug} probed in {:.1} s: {verdict}",
            started.elapsed().as_secs_f64()
        );
        if let Err(e) = outcome {
            failed.push(format!("{slug}: {e:#}"));
        }
    }
    if !failed.is_empty() {
        bail!("skeleton servers failed:\n{}", failed.join("\n"));
    }
    Ok(())
}

/// Generates each spec's crates under `out/<slug>/` and one workspace
/// manifest for all; returns the slugs, in `specs` order.
fn generate_all(root: &Path, specs: &[PathBuf], out: &Path) -> Result<Vec<String>> {
    let _ = std::fs::remove_dir_all(out);
    let mut slugs = Vec::new();
    for path in specs {
        let spec = Spec::read(path)?;
        let slug = slug(&spec.api.info.title);
        let files = generate(&spec, &options(&slug, Path::new(&slug)))
            .with_context(|| format!("generating {}", path.display()))?;
        for f in files {
            let dest = out.join(&f.path);
            std::fs::create_dir_all(dest.parent().context("a generated file's directory")?)?;
            std::fs::write(&dest, &f.contents)
                .with_context(|| format!("writing {}", dest.display()))?;
        }
        slugs.push(slug);
    }
    // The clients are not members: the skeletons do not need them.
    let members: Vec<String> = slugs
        .iter()
        .flat_map(|s| ["types", "server-stubs", "server"].map(|c| format!("{s}/{c}")))
        .collect();
    let path_crates: Vec<(String, String)> = slugs
        .iter()
        .flat_map(|s| ["types", "server-stubs"].map(|c| (format!("{s}-{c}"), format!("{s}/{c}"))))
        .collect();
    let members: Vec<&str> = members.iter().map(String::as_str).collect();
    let path_crates: Vec<(&str, &str)> = path_crates
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    std::fs::write(
        out.join("Cargo.toml"),
        standalone_workspace(&members, &path_crates, &Runtimes::in_project(root)),
    )?;
    std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock"))
        .context("copying Cargo.lock into the skeletons' workspace")?;
    Ok(slugs)
}

/// The target directory shared with the corpus step and the codegen tests.
fn shared_target(ctx: &Ctx) -> PathBuf {
    ctx.target.join("corpus/check-target")
}

/// One `cargo build` for every skeleton.
fn build(ctx: &Ctx, slugs: &[String], out: &Path) -> Result<()> {
    let mut cargo = exec::cargo(&["build", "--quiet"]);
    for s in slugs {
        cargo.args(["-p", &format!("{s}-server")]);
    }
    cargo
        .env("CARGO_TARGET_DIR", shared_target(ctx))
        .current_dir(out);
    exec::run(&cargo, Duration::from_secs(20 * 60))
}

/// Starts `slug`'s skeleton and runs Schemathesis against it.
fn probe(ctx: &Ctx, slug: &str, spec: &Path) -> Result<()> {
    let bin = shared_target(ctx)
        .join("debug")
        .join(format!("{slug}-server{}", std::env::consts::EXE_SUFFIX));
    let mut cmd = Command::new(&bin);
    cmd.args(["--listen", "127.0.0.1:0"]);
    let log = ctx.log_file(&format!("skeleton-{slug}.log"))?;
    let server = Background::start(&cmd, &log)?;
    let needle = "listening on ";
    server.wait_for(needle, Duration::from_secs(20))?;
    let text = std::fs::read_to_string(server.log())?;
    let url = text
        .lines()
        .find_map(|l| l.strip_prefix(needle))
        .context("the skeleton's address")?
        .trim()
        .to_string();
    let report = ctx.fresh_file("reports", &format!("skeleton-{slug}.ndjson"))?;
    let mut st = Command::new(ctx.tools.venv_bin("schemathesis"));
    st.args(["--config-file", "conformance/skeletons.toml", "run"])
        .arg(spec)
        .args(["--url", &url])
        .args(["--checks", CHECKS])
        .args(
            UNANSWERABLE
                .iter()
                .flat_map(|id| ["--exclude-operation-id", id]),
        )
        .args(["--report", "ndjson", "--report-ndjson-path"])
        .arg(&report)
        .env(
            "HYPOTHESIS_STORAGE_DIRECTORY",
            ctx.tools.dir.join("hypothesis"),
        );
    ctx.run(&mut st, 5)
}

/// Operations of the feature spec no server answers with a documented
/// status without doing what they document (see conformance/skeletons.toml).
const UNANSWERABLE: &[&str] = &["open_socket", "ping"];

/// The checks that make sense for a server that answers with examples.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection,positive_data_acceptance";
