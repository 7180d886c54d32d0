//! `regen` and `check`: keep the checked-in generated code in step with the spec.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use users_api_codegen::{ClientDocs, GeneratedFile, Options, generate_from_file};

/// Path of the spec, relative to the workspace root.
pub const SPEC: &str = "spec/users.yaml";

/// The feature corpus: a spec with one operation per supported OpenAPI
/// feature, generated into workspace members that the round-trip tests use.
pub const FEATURES_SPEC: &str = "corpus/features.yaml";

/// The OpenAPI 3.1 feature corpus: every 3.1 construct, generated into
/// workspace members the same way.
pub const FEATURES_31_SPEC: &str = "corpus/features-3.1.yaml";

/// How this workspace generates its own spec: the Users crates in their
/// directories, the workspace's own lint standard, and the client's
/// hand-written support with docs, example and README written for this API.
pub fn users_options() -> Options {
    let dir = |d: &str, name: &str| (PathBuf::from(d), name.to_string());
    Options {
        error_schema: "ApiError".into(),
        types: dir("generated-types", "users-api-types"),
        client: dir("generated-client", "users-api-client"),
        server: dir("generated-server-stubs", "users-api-server-stubs"),
        skeleton: None,
        strict: true,
        client_extras: true,
        // The official SDKs call the `X-Application-ID` key an application id.
        api_key_method: "application_id".into(),
        client_docs: Some(ClientDocs {
            docs: include_str!("../templates/client_docs.md").into(),
            example: include_str!("../templates/client_example.rs").into(),
            readme: include_str!("../templates/client_readme.md").into(),
        }),
    }
}

/// Generates everything in memory from the specs under `root`: ours, and the
/// feature corpora (held to the rules for foreign specs), side by side.
pub fn generate(root: &Path) -> Result<Vec<GeneratedFile>> {
    // The checked-in corpora have no skeleton server: the `skeletons` CI
    // step generates and runs those.
    let corpus = Options {
        skeleton: None,
        ..crate::generate::options("features-api", Path::new("corpus/features"))
    };
    let corpus_31 = Options {
        skeleton: None,
        ..crate::generate::options("features-31-api", Path::new("corpus/features-31"))
    };
    let (ours, features, features_31) = std::thread::scope(|scope| {
        let features = scope.spawn(|| generate_from_file(&root.join(FEATURES_SPEC), &corpus));
        let features_31 =
            scope.spawn(|| generate_from_file(&root.join(FEATURES_31_SPEC), &corpus_31));
        let ours = generate_from_file(&root.join(SPEC), &users_options());
        let joined = |h: std::thread::ScopedJoinHandle<'_, _>| {
            h.join().expect("a feature spec's generation panicked")
        };
        (ours, joined(features), joined(features_31))
    });
    let mut files = ours?;
    files.extend(features?);
    files.extend(features_31?);
    Ok(files)
}

/// Rewrites the generated files. Writes nothing if generation fails.
pub fn regen(root: &Path) -> Result<()> {
    let files = generate(root)?;
    for file in &files {
        let path = root.join(&file.path);
        let unchanged = std::fs::read_to_string(&path).is_ok_and(|old| old == file.contents);
        if unchanged {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", file.path.display());
    }
    println!("{} generated files up to date", files.len());
    Ok(())
}

/// A generated file whose checked-in copy differs from what the spec gives.
pub struct Drift {
    /// Path relative to the root.
    pub path: PathBuf,
    /// Unified diff from the checked-in copy to the expected contents.
    pub diff: String,
}

/// Compares checked-in files with freshly generated ones.
pub fn drift(root: &Path) -> Result<Vec<Drift>> {
    let mut out = Vec::new();
    for file in generate(root)? {
        let current = std::fs::read_to_string(root.join(&file.path)).unwrap_or_default();
        if current != file.contents {
            let name = file.path.display().to_string();
            let diff = similar::TextDiff::from_lines(&current, &file.contents)
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("{name} (checked in)"),
                    &format!("{name} (from {SPEC})"),
                )
                .to_string();
            out.push(Drift {
                path: file.path,
                diff,
            });
        }
    }
    Ok(out)
}

/// Fails with a readable diff when checked-in code and spec disagree.
pub fn check(root: &Path) -> Result<()> {
    let stale = drift(root)?;
    if stale.is_empty() {
        println!("generated code is up to date with {SPEC}");
        return Ok(());
    }
    for d in &stale {
        eprintln!("{}", d.diff);
    }
    let names: Vec<_> = stale.iter().map(|d| d.path.display().to_string()).collect();
    anyhow::bail!(
        "generated code is stale: {} differ from {SPEC}; run `cargo xtask regen` (never edit generated files by hand)",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use users_harness::workspace_root;

    use super::*;

    /// Copies the specs `generate` reads into a scratch root.
    fn copy_specs(root: &Path, tmp: &Path) {
        for spec in [SPEC, FEATURES_SPEC, FEATURES_31_SPEC] {
            std::fs::create_dir_all(tmp.join(spec).parent().unwrap()).unwrap();
            std::fs::copy(root.join(spec), tmp.join(spec)).unwrap();
        }
    }

    /// Plain `cargo test` catches drift between the spec and checked-in code.
    #[test]
    fn checked_in_code_matches_spec() {
        let stale = drift(&workspace_root()).expect("generation succeeds");
        let report: Vec<_> = stale.iter().map(|d| d.diff.as_str()).collect();
        assert!(
            stale.is_empty(),
            "run `cargo xtask regen`:\n{}",
            report.join("\n")
        );
    }

    /// A broken spec makes `regen` fail with the place named, and write nothing.
    #[test]
    fn broken_spec_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path();
        std::fs::create_dir_all(tmp.join("spec")).unwrap();
        let spec = std::fs::read_to_string(workspace_root().join(SPEC)).unwrap();
        let broken = spec.replacen("operationId: users_snapshot", "x-no-id: true", 1);
        std::fs::write(tmp.join(SPEC), broken).unwrap();
        let err = regen(tmp).unwrap_err().to_string();
        assert!(
            err.contains("#/paths/~1users/get: missing operationId"),
            "{err}"
        );
        let written: Vec<_> = std::fs::read_dir(tmp)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(written, ["spec"], "regen wrote files despite the error");
    }

    /// A spec change without regen is caught as drift.
    #[test]
    fn spec_change_is_caught() {
        let root = workspace_root();
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path();
        for f in generate(&root).unwrap() {
            let p = tmp.join(&f.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &f.contents).unwrap();
        }
        copy_specs(&root, tmp);
        let spec = std::fs::read_to_string(root.join(SPEC)).unwrap();
        let version = spec
            .lines()
            .find_map(|l| l.trim().strip_prefix("version: "))
            .unwrap()
            .to_string();
        std::fs::write(
            tmp.join(SPEC),
            spec.replacen(&format!("version: {version}"), "version: 99.1.0", 1),
        )
        .unwrap();
        let stale = drift(tmp).unwrap();
        assert!(
            stale
                .iter()
                .any(|d| d.diff.contains("+version = \"99.1.0\"")),
            "version bump shows in the manifests"
        );
    }

    /// Normal (non-dev) dependencies of a workspace package, by name.
    fn dependencies(package: &str) -> Vec<String> {
        let mut tree = crate::exec::cargo(&["tree", "-e", "normal", "--prefix", "none"]);
        tree.args(["--offline", "-p", package])
            .current_dir(workspace_root());
        crate::exec::output(&tree)
            .expect("cargo tree runs")
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    }

    /// The client never pulls in axum, the server stubs never pull in reqwest.
    #[test]
    fn client_and_server_stay_apart() {
        let client = dependencies("users-api-client");
        assert!(client.iter().any(|d| d == "reqwest"));
        assert!(
            !client.iter().any(|d| d == "axum"),
            "the client depends on axum"
        );
        let server = dependencies("users-api-server-stubs");
        assert!(server.iter().any(|d| d == "axum"));
        assert!(
            !server.iter().any(|d| d == "reqwest"),
            "the server stubs depend on reqwest"
        );
    }

    /// A hand edit to the 3.1 feature corpus's generated code is caught too.
    #[test]
    fn hand_edit_of_the_31_corpus_is_caught() {
        let root = workspace_root();
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path();
        let files = generate(&root).unwrap();
        for f in &files {
            let p = tmp.join(&f.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &f.contents).unwrap();
        }
        copy_specs(&root, tmp);
        let types = Path::new("corpus/features-31/types/src/generated.rs");
        let edited = tmp.join(types);
        let text = std::fs::read_to_string(&edited).unwrap();
        let hand = text.replacen("pub nickname:", "pub nick:", 1);
        assert_ne!(hand, text, "the 3.1 corpus has a `nickname` field");
        std::fs::write(&edited, hand).unwrap();
        let stale = drift(tmp).unwrap();
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].path, types);
        assert!(
            stale[0].diff.contains("-    pub nick:"),
            "{}",
            stale[0].diff
        );
    }

    /// A hand edit to a generated file is caught, with a diff naming the line.
    #[test]
    fn hand_edit_is_caught() {
        let root = workspace_root();
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path();
        let files = generate(&root).unwrap();
        for f in &files {
            let p = tmp.join(&f.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &f.contents).unwrap();
        }
        copy_specs(&root, tmp);
        assert!(drift(tmp).unwrap().is_empty());

        let edited = tmp.join(&files[2].path);
        let text = std::fs::read_to_string(&edited).unwrap();
        std::fs::write(&edited, text.replacen("pub struct", "pub(crate) struct", 1)).unwrap();
        let stale = drift(tmp).unwrap();
        assert_eq!(stale.len(), 1);
        assert!(
            stale[0].diff.contains("-pub(crate) struct"),
            "{}",
            stale[0].diff
        );
        assert!(stale[0].diff.contains("+pub struct"), "{}", stale[0].diff);
    }
}
