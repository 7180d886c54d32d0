//! Workspace automation: `cargo xtask <command>`.

mod codegen_tasks;

use anyhow::Result;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  regen   rewrite the generated crates from spec/users.yaml
  check   fail with a diff when the generated crates are stale";

fn main() -> Result<()> {
    let root = codegen_tasks::workspace_root();
    let command = std::env::args().nth(1).unwrap_or_default();
    match command.as_str() {
        "regen" => codegen_tasks::regen(&root),
        "check" => codegen_tasks::check(&root),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}
