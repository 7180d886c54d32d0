//! Keeps the benchmark harness from rotting: runs it in quick mode with tiny
//! counts and checks that it produces a report with every row. Timings are
//! never asserted. Needs `wrk` (`apt-get install -y wrk`).

use std::path::{Path, PathBuf};
use std::process::Command;

use users_bench::{Config, INTRO, ROWS, State, wrk};

/// `users-service`, built with the same profile as this test.
fn service_binary(bin_dir: &Path) -> PathBuf {
    let path = bin_dir.join(format!("users-service{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", "users-service", "--bin", "users-service"]);
        if bin_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building users-service failed");
    }
    path
}

#[test]
fn quick_run_produces_every_row() {
    assert!(wrk::available(), "{}", wrk::INSTALL_HINT);
    let baseline = PathBuf::from(env!("CARGO_BIN_EXE_users-bench-baseline"));
    let bin_dir = baseline.parent().expect("binary dir").to_path_buf();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let work = root
        .join("target/bench")
        .join(format!("smoke-{}", std::process::id()));
    let mut cfg = Config::quick(
        root.clone(),
        service_binary(&bin_dir),
        baseline,
        work.clone(),
    );
    cfg.profile = bin_dir.file_name().unwrap().to_string_lossy().into_owned();

    let report = users_bench::run(&cfg).expect("the harness runs");
    let markdown = report.markdown("Performance (smoke)", INTRO, "");
    assert!(
        report.problems().is_empty(),
        "{:#?}\n{markdown}",
        report.problems()
    );
    for (key, _) in ROWS {
        let row = report.row(key).unwrap_or_else(|| panic!("no row {key}"));
        assert!(
            markdown.contains(&row.label),
            "{key} missing from\n{markdown}"
        );
        match &row.state {
            State::Measured => assert!(row.ours.is_some(), "{key} has no figure"),
            // Quick mode skips the scratch build and the large corpus spec;
            // the synthetic spec needs python3.
            State::Skipped(_) if key.starts_with("codegen.build") => {}
            State::Skipped(_) if key.starts_with("codegen.corpus") => {}
            // ... and the compile section's scratch builds.
            State::Skipped(_) if key.starts_with("compile.") => {}
            State::Skipped(why) if key.starts_with("codegen.synth") && why.contains("python3") => {}
            // The PostgreSQL section is skipped where the PostgreSQL tests are.
            State::Skipped(why) if key.starts_with("pg.") && why.contains("POSTGRES") => {}
            other => panic!("{key}: {other:?}\n{markdown}"),
        }
    }
    for section in [
        "## 1.",
        "## 2.",
        "## 3.",
        "## 4.",
        "## 5.",
        "## 6.",
        "## 7.",
        "| Figure | Ours | Baseline |",
    ] {
        assert!(
            markdown.contains(section),
            "{section} missing from\n{markdown}"
        );
    }
    std::fs::remove_dir_all(&work).ok();
}
