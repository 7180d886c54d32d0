//! Crafted specs under `tests/specs/` generate and compile: each one holds
//! constructs that once broke generation or the generated code (optional
//! dependencies, colliding names, what progenitor and typify stop on).
//!
//! All specs are generated into one scratch workspace and checked with one
//! `cargo check` (with this workspace's lock file), in a target
//! directory shared with `cargo xtask corpus`, so the runtime crates are
//! built once.

use std::path::{Path, PathBuf};
use std::process::Command;

use users_api_codegen::{Options, Runtimes, Spec, generate_with_warnings, standalone_workspace};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen lives in the workspace")
        .to_path_buf()
}

/// Options for a crafted spec: foreign-spec rules, crates named after it.
fn options(slug: &str) -> Options {
    Options {
        // The client's support module, generic over the spec.
        client_extras: slug == "client-extras",
        ..Options::named(slug)
            .with_skeleton(format!("{slug}-server"))
            .in_dir(Path::new(slug))
    }
}

/// The target directory this test runs from (`…/target/debug/deps/x` -> `…/target`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// Generates every crafted spec into `out`; returns the files by spec.
fn generate_all(out: &Path) -> Vec<(String, Vec<users_api_codegen::GeneratedFile>)> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root().join("codegen/tests/specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    specs.sort();
    let mut all = Vec::new();
    for path in specs {
        let slug = path.file_stem().unwrap().to_string_lossy().into_owned();
        let spec = Spec::read(&path).unwrap();
        let (files, warnings) = generate_with_warnings(&spec, &options(&slug))
            .unwrap_or_else(|e| panic!("{slug} does not generate: {e}"));
        eprintln!("{slug}: {} warning(s)", warnings.len());
        for w in &warnings {
            eprintln!("  {w}");
        }
        for f in &files {
            let p = out.join(&f.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &f.contents).unwrap();
        }
        all.push((slug, files));
    }
    let members: Vec<String> = all
        .iter()
        .flat_map(|(slug, _)| {
            ["types", "client", "server-stubs", "server"].map(|c| format!("{slug}/{c}"))
        })
        .collect();
    let types: Vec<(String, String)> = all
        .iter()
        .flat_map(|(slug, _)| {
            ["types", "server-stubs"].map(|c| (format!("{slug}-{c}"), format!("{slug}/{c}")))
        })
        .collect();
    let members: Vec<&str> = members.iter().map(String::as_str).collect();
    let types: Vec<(&str, &str)> = types
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    std::fs::write(
        out.join("Cargo.toml"),
        standalone_workspace(&members, &types, &Runtimes::in_project(&root())),
    )
    .unwrap();
    std::fs::copy(root().join("Cargo.lock"), out.join("Cargo.lock")).unwrap();
    all
}

fn manifest<'a>(files: &'a [users_api_codegen::GeneratedFile], krate: &str) -> &'a str {
    let path = Path::new(krate).join("Cargo.toml");
    &files
        .iter()
        .find(|f| f.path.ends_with(&path))
        .unwrap()
        .contents
}

#[test]
fn crafted_specs_generate_and_compile() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let all = generate_all(out);

    // Dependencies come from what the code uses.
    let (_, deps) = all.iter().find(|(s, _)| s == "optional-deps").unwrap();
    let client: toml_edit::DocumentMut = manifest(deps, "client").parse().unwrap();
    for name in ["base64", "rand", "uuid", "serde_json"] {
        assert!(
            client["dependencies"].get(name).is_some(),
            "the client needs {name}"
        );
    }
    let types: toml_edit::DocumentMut = manifest(deps, "types").parse().unwrap();
    for name in ["regress", "chrono", "uuid", "serde_json"] {
        assert!(
            types["dependencies"].get(name).is_some(),
            "the types need {name}"
        );
    }
    assert_eq!(
        types["package"]["description"].as_str().unwrap(),
        "Optional \"deps\" \\ API model types generated from the OpenAPI spec, shared by client and server"
    );

    // The client's support module: its API-key method sends the header of
    // the spec's `apiKey` scheme, and nothing names our own crates.
    let (_, extras) = all.iter().find(|(s, _)| s == "client-extras").unwrap();
    let support = &extras
        .iter()
        .find(|f| f.path.ends_with("client/src/support.rs"))
        .expect("the client's support module")
        .contents;
    assert!(support.contains("pub fn api_key(mut self"), "{support}");
    assert!(support.contains(r#"self.http.api_key = Some(("x-api-token", key.into()));"#));
    assert!(support.contains("client_extras_client::RetryPolicy::default()"));
    for ours in ["users_api", "x-application-id", "X-Application-ID", "__"] {
        assert!(!support.contains(ours), "the support module says {ours}");
    }

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["check", "--quiet", "--workspace"])
        .env("CARGO_TARGET_DIR", target_dir().join("corpus/check-target"))
        .current_dir(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the generated crates do not compile:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
