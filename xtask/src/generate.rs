//! `cargo xtask generate <SPEC> --out <DIR>`: the generated crates for any
//! OpenAPI 3.0.x or 3.1.x document (types, client, server stubs and the
//! skeleton server over them), as a standalone Cargo workspace that refers to
//! this project's runtime crate by path and takes its dependency versions
//! from the code generator's dependency table (the one place they live).

use std::path::Path;

use anyhow::{Context, Result};
use users_api_codegen::{Generated, Options, Spec, generate_timed};

/// Options for a foreign spec: lints are warnings; crates named after `slug`.
pub fn options(slug: &str, dir: &Path) -> Options {
    Options::named(slug)
        .with_skeleton(format!("{slug}-server"))
        .in_dir(dir)
}

/// Runs the command: generates `spec_path` into a workspace at `out`.
pub fn generate_command(root: &Path, spec_path: &Path, out: &Path) -> Result<()> {
    let spec = Spec::read(spec_path)?;
    let slug = slug(&spec.api.info.title);
    let started = std::time::Instant::now();
    let Generated {
        files,
        warnings,
        timings: t,
    } = generate_timed(&spec, &options(&slug, Path::new("")))?;
    let elapsed = started.elapsed();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    eprintln!(
        "stages (each with its formatting): check {:.1} ms, models {:.1} ms, client {:.1} ms, \
         server {:.1} ms; total {:.2}x progenitor's share (models + client)",
        ms(t.check),
        ms(t.models),
        ms(t.client),
        ms(t.server),
        t.total().as_secs_f64() / (t.models + t.client).as_secs_f64()
    );
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let lines = write_workspace(root, &slug, &files, out)?;
    println!(
        "generated {} files ({lines} lines) for {} in {} ms into {} with {} warning(s)",
        files.len(),
        spec_path.display(),
        elapsed.as_millis(),
        out.display(),
        warnings.len()
    );
    Ok(())
}

/// Writes generated files and the workspace manifest under `out`; returns
/// the number of lines written.
pub fn write_workspace(
    root: &Path,
    slug: &str,
    files: &[users_api_codegen::GeneratedFile],
    out: &Path,
) -> Result<usize> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut lines = 0;
    for file in files {
        let path = out.join(&file.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("writing {}", path.display()))?;
        lines += file.contents.lines().count();
    }
    std::fs::write(out.join("Cargo.toml"), workspace_manifest(root, slug))?;
    // Our lock file: the same dependency versions, resolved without surprises.
    std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock"))
        .context("copying Cargo.lock into the generated workspace")?;
    Ok(lines)
}

/// `Users API` -> `users-api`.
pub fn slug(title: &str) -> String {
    let s: String = title
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("api-{s}")
    } else {
        s
    }
}

/// The generated workspace's manifest: members, package fields and the
/// dependency table of the code generator (the one place those versions live).
fn workspace_manifest(root: &Path, slug: &str) -> String {
    users_api_codegen::standalone_workspace(
        &["types", "client", "server-stubs", "server"],
        &[
            (&format!("{slug}-types"), "types"),
            (&format!("{slug}-server-stubs"), "server-stubs"),
        ],
        &users_api_codegen::Runtimes::in_project(root),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Users API"), "users-api");
        assert_eq!(slug("  Oxide Region API!! "), "oxide-region-api");
        assert_eq!(slug("3scale"), "api-3scale");
    }
}
