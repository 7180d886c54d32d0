//! The release gate (the bump `info.version` needs for the changes), the
//! released specs in `spec/released/`, and the `diff` and `release` commands.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::{Class, Finding, compare, report};

/// Where released versions of the spec are kept, relative to the root.
pub const RELEASED_DIR: &str = "spec/released";

/// A semver bump, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bump {
    None,
    Patch,
    Minor,
    Major,
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bump::None => "no bump",
            Bump::Patch => "a patch bump",
            Bump::Minor => "a minor bump",
            Bump::Major => "a major bump",
        })
    }
}

/// The bump the findings call for.
pub fn required_bump(findings: &[Finding]) -> Bump {
    findings
        .iter()
        .map(|f| match f.class {
            Class::BreakingClients => Bump::Major,
            Class::BreakingServers | Class::Compatible => Bump::Minor,
            Class::Docs => Bump::Patch,
        })
        .max()
        .unwrap_or(Bump::None)
}

/// The bump from `old` to `new`; an error when `new` is not above `old`
/// (or equal).
pub fn actual_bump(old: &semver::Version, new: &semver::Version) -> Result<Bump> {
    if new < old {
        bail!("info.version went down: {old} -> {new}");
    }
    Ok(if new.major != old.major {
        Bump::Major
    } else if new.minor != old.minor {
        Bump::Minor
    } else if new != old {
        Bump::Patch
    } else {
        Bump::None
    })
}

/// The gate's verdict.
pub fn check_bump(
    findings: &[Finding],
    old: &semver::Version,
    new: &semver::Version,
) -> Result<()> {
    let required = required_bump(findings);
    let actual = actual_bump(old, new)?;
    if required != actual {
        let why = match required {
            Bump::Major => "there are changes breaking for clients",
            Bump::Minor => "there are additions (nothing breaking for clients)",
            Bump::Patch => "only documentation changed",
            Bump::None => "nothing changed",
        };
        bail!(
            "info.version {old} -> {new} is {actual}, but {why}: that needs {required} \
             (major for breaking, minor for additions, patch for docs only)"
        );
    }
    Ok(())
}

pub fn load(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

pub fn version_of(doc: &Value) -> Result<semver::Version> {
    let v = doc
        .pointer("/info/version")
        .and_then(Value::as_str)
        .context("the spec has no info.version")?;
    semver::Version::parse(v).with_context(|| format!("info.version {v:?} is not semver"))
}

/// Released versions, oldest first.
pub fn released(root: &Path) -> Result<Vec<(semver::Version, PathBuf)>> {
    let dir = root.join(RELEASED_DIR);
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(v) = name
            .strip_prefix("users-")
            .and_then(|n| n.strip_suffix(".yaml"))
        else {
            continue;
        };
        let version = semver::Version::parse(v)
            .with_context(|| format!("{}: not a version", path.display()))?;
        out.push((version, path));
    }
    out.sort();
    Ok(out)
}

/// What `--against` names: a released version, or a file.
fn baseline(root: &Path, against: Option<&str>) -> Result<(String, Value)> {
    if let Some(a) = against {
        if let Ok(v) = semver::Version::parse(a) {
            let path = root.join(RELEASED_DIR).join(format!("users-{v}.yaml"));
            return Ok((format!("released {v}"), load(&path)?));
        }
        let path = PathBuf::from(a);
        return Ok((a.to_string(), load(&path)?));
    }
    let Some((v, path)) = released(root)?.pop() else {
        bail!("no released spec in {RELEASED_DIR}: run `cargo xtask release` first");
    };
    Ok((format!("released {v}"), load(&path)?))
}

/// `cargo xtask diff [--against VERSION|FILE]`: prints the report and the
/// gate's verdict; fails when the gate does.
pub fn diff_command(root: &Path, against: Option<&str>) -> Result<()> {
    let (name, old) = baseline(root, against)?;
    let new = load(&root.join(crate::codegen_tasks::SPEC))?;
    let findings = compare(&old, &new)?;
    let (old_v, new_v) = (version_of(&old)?, version_of(&new)?);
    println!(
        "{name} ({old_v}) -> {} ({new_v})",
        crate::codegen_tasks::SPEC
    );
    print!("{}", report(&findings));
    check_bump(&findings, &old_v, &new_v)?;
    println!(
        "gate: ok ({} for {})",
        actual_bump(&old_v, &new_v)?,
        match required_bump(&findings) {
            Bump::Major => "breaking changes",
            Bump::Minor => "additions",
            Bump::Patch => "docs only",
            Bump::None => "no changes",
        }
    );
    Ok(())
}

/// The CI gate: the current spec against the last released one.
pub fn gate(root: &Path) -> Result<()> {
    diff_command(root, None)
}

/// `cargo xtask release`: records the current spec as
/// `spec/released/users-<info.version>.yaml`, after the gate passes.
pub fn release_command(root: &Path) -> Result<()> {
    let spec_path = root.join(crate::codegen_tasks::SPEC);
    let text = std::fs::read_to_string(&spec_path)?;
    let new: Value = serde_yaml::from_str(&text)?;
    let version = version_of(&new)?;
    let target = root
        .join(RELEASED_DIR)
        .join(format!("users-{version}.yaml"));
    if let Ok(existing) = std::fs::read_to_string(&target) {
        if existing == text {
            println!("{version} is already released as {}", target.display());
            return Ok(());
        }
        bail!(
            "{version} was already released with different contents ({}): \
             bump info.version instead of rewriting a release",
            target.display()
        );
    }
    if let Some((last, path)) = released(root)?.pop() {
        if version < last {
            bail!("info.version {version} is below the last release {last}");
        }
        let old = load(&path)?;
        let findings = compare(&old, &new)?;
        print!("{}", report(&findings));
        check_bump(&findings, &last, &version)
            .context("not released: the version does not match the changes")?;
    }
    std::fs::create_dir_all(root.join(RELEASED_DIR))?;
    std::fs::write(&target, &text)?;
    println!("released {version} as {}", target.display());
    Ok(())
}
