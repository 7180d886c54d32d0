//! Criterion benchmark of in-process generation: `cargo bench -p users-bench --bench generate`.
//!
//! Measures `Spec::parse` + `generate` for `spec/users.yaml` and, when
//! `python3` is available, for the synthetic spec written by
//! `scripts/synth_spec.py` (300 operations, 500 schemas). `cargo xtask bench`
//! reports the same figures with the split between progenitor and our own
//! generators; this benchmark is for tracking the totals with criterion's
//! statistics.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use users_api_codegen::{Options, Spec, generate};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the bench crate lives in the workspace")
        .to_path_buf()
}

/// The synthetic spec's text, or `None` without python3.
fn synthetic() -> Option<String> {
    let root = root();
    let out = root.join("target/bench/synth-criterion.yaml");
    std::fs::create_dir_all(out.parent()?).ok()?;
    let status = std::process::Command::new("python3")
        .arg(root.join("scripts/synth_spec.py"))
        .arg("--out")
        .arg(&out)
        .status()
        .ok()?;
    status
        .success()
        .then(|| std::fs::read_to_string(&out).ok())
        .flatten()
}

fn bench_spec(c: &mut Criterion, name: &str, text: &str) {
    // Our spec's rules (strict, the client's extras), as `cargo xtask regen` runs them.
    let options = Options {
        error_schema: "ApiError".into(),
        strict: true,
        client_extras: true,
        ..Options::named("users-api")
    };
    c.bench_function(&format!("parse+generate {name}"), |b| {
        b.iter(|| {
            let spec = Spec::parse(name, black_box(text)).expect("spec parses");
            black_box(generate(&spec, &options).expect("spec generates"))
        })
    });
}

fn benches(c: &mut Criterion) {
    let users = std::fs::read_to_string(root().join("spec/users.yaml")).expect("spec/users.yaml");
    bench_spec(c, "users.yaml", &users);
    match synthetic() {
        Some(text) => bench_spec(c, "synthetic (300 ops, 500 schemas)", &text),
        None => eprintln!("skipping the synthetic spec: python3 scripts/synth_spec.py failed"),
    }
}

criterion_group! {
    name = generate_benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(20));
    targets = benches
}
criterion_main!(generate_benches);
