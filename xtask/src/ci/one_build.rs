//! A test that the build, test and clippy steps compile each dependency
//! once: no crate may be resolved with two feature sets, whether between the
//! build and the test graph (dev-dependencies add features) or between
//! build-time code (proc macros, build scripts) and the libraries (cargo
//! resolves their features apart). Either split compiles that crate, and
//! every crate above it, a second time; `codegen/Cargo.toml` says how the
//! known ones are closed. The test runs `cargo tree` over the workspace and
//! names each crate split. `cargo tree` does not show one split: a proc-macro
//! crate's tests are built for the host, so its dev-dependencies are resolved
//! with the host's features; the second test names each such dev-dependency
//! that the build graph compiles too (from `cargo metadata`).

use std::collections::{BTreeMap, BTreeSet};

/// The feature sets of each `name version` that
/// `cargo tree -f '{p} [{f}]' --prefix none` lists.
fn feature_sets(tree: &str) -> BTreeMap<(&str, &str), BTreeSet<&str>> {
    let mut sets: BTreeMap<_, BTreeSet<_>> = BTreeMap::new();
    for line in tree.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        if let (Some(open), Some(close)) = (line.rfind('['), line.rfind(']'))
            && open < close
        {
            sets.entry((name, version))
                .or_default()
                .insert(&line[open + 1..close]);
        }
    }
    sets
}

/// Each crate of `tree` listed with more than one feature set, with the sets.
fn splits(tree: &str) -> Vec<String> {
    feature_sets(tree)
        .into_iter()
        .filter(|(_, sets)| sets.len() > 1)
        .map(|((name, version), sets)| format!("{name} {version}: {sets:?}"))
        .collect()
}

/// Each crate of the `build` graph that the `test` graph resolves with other features.
fn differences(build: &str, test: &str) -> Vec<String> {
    let test = feature_sets(test);
    feature_sets(build)
        .into_iter()
        .filter_map(|(crate_id, sets)| {
            let in_test = test.get(&crate_id)?;
            (*in_test != sets).then(|| {
                format!(
                    "{} {}: {sets:?} but {in_test:?} in tests",
                    crate_id.0, crate_id.1
                )
            })
        })
        .collect()
}

/// Each dev-dependency of a proc-macro package in `metadata` (`cargo
/// metadata` JSON) that `build` (a `cargo tree` listing) also compiles, as
/// `package: dev-dependency`.
fn host_test_splits(metadata: &serde_json::Value, build: &str) -> Vec<String> {
    let built: BTreeSet<&str> = build
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let packages = array(&metadata["packages"]);
    let mut found = Vec::new();
    for package in packages {
        let targets = array(&package["targets"]);
        let proc_macro = targets
            .iter()
            .any(|t| array(&t["kind"]).iter().any(|k| k == "proc-macro"));
        if !proc_macro {
            continue;
        }
        let dependencies = array(&package["dependencies"]);
        for dependency in dependencies {
            let name = dependency["name"].as_str().unwrap_or_default();
            if dependency["kind"] == "dev" && built.contains(name) {
                found.push(format!(
                    "{}: {name}",
                    package["name"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    found
}

/// The elements of a JSON array, none if `value` is not one.
fn array(value: &serde_json::Value) -> &[serde_json::Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The standard output of `cargo ARGS` in the workspace root, which must succeed.
fn cargo(args: &[&str]) -> String {
    let root = users_harness::workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(args)
        .current_dir(&root)
        .output()
        .expect("running cargo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("cargo prints UTF-8")
}

/// `cargo tree` of the workspace over `edges`, on this host.
fn tree(edges: &str) -> String {
    let tree = cargo(&[
        "tree",
        "--workspace",
        "--locked",
        "--edges",
        edges,
        "--format",
        "{p} [{f}]",
        "--prefix",
        "none",
    ]);
    assert!(tree.lines().count() > 100, "too short a tree:\n{tree}");
    tree
}

#[test]
fn a_crate_listed_with_two_feature_sets_is_a_split() {
    let tree = "\
serde_json v1.0.154 [default,preserve_order,std]
serde_json v1.0.154 [default,std] (*)
syn v3.0.10 [full] (*)
syn v3.0.10 [full]
users-bench v0.1.0 (/w/bench) []
";
    assert_eq!(
        splits(tree),
        [r#"serde_json v1.0.154: {"default,preserve_order,std", "default,std"}"#]
    );
    assert!(splits("syn v3.0.10 [full]\nsyn v2.0.1 [derive]\n").is_empty());
    let test = "toml_edit v0.25.20 [display,parse]\nproptest v1.12.0 []\n";
    assert_eq!(
        differences("toml_edit v0.25.20 [display]\n", test),
        [r#"toml_edit v0.25.20: {"display"} but {"display,parse"} in tests"#]
    );
    assert!(differences("toml_edit v0.25.20 [display,parse]\n", test).is_empty());
}

#[test]
fn a_proc_macros_dev_dependency_in_the_build_graph_is_a_split() {
    let metadata = serde_json::json!({"packages": [
        {"name": "derives", "targets": [{"kind": ["proc-macro"]}], "dependencies": [
            {"name": "syn", "kind": null},
            {"name": "axum", "kind": "dev"},
            {"name": "trybuild", "kind": "dev"},
        ]},
        {"name": "runtime", "targets": [{"kind": ["lib"]}], "dependencies": [
            {"name": "tokio", "kind": "dev"},
        ]},
    ]});
    let build = "syn v3.0.10 [full]\naxum v0.8.9 [json]\ntokio v1.54.1 [rt]\n";
    assert_eq!(host_test_splits(&metadata, build), ["derives: axum"]);
    assert!(host_test_splits(&metadata, "syn v3.0.10 [full]\n").is_empty());
}

#[test]
fn no_proc_macro_test_compiles_a_dependency_again() {
    let metadata = cargo(&["metadata", "--locked", "--no-deps", "--format-version", "1"]);
    let metadata: serde_json::Value = serde_json::from_str(&metadata).expect("cargo metadata JSON");
    let found = host_test_splits(&metadata, &tree("normal,build"));
    assert!(
        found.is_empty(),
        "dev-dependencies of proc-macro crates, compiled a second time for the host \
         (put the tests or examples that need them in a library crate):\n{}",
        found.join("\n")
    );
}

#[test]
fn no_dependency_of_the_workspace_is_compiled_twice() {
    let build = tree("normal,build");
    let test = tree("normal,build,dev");
    let mut found = splits(&build);
    found.extend(splits(&test));
    found.extend(differences(&build, &test));
    assert!(
        found.is_empty(),
        "compiled once per feature set (see codegen/Cargo.toml's [build-dependencies]):\n{}",
        found.join("\n")
    );
}
