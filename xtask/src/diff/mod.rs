//! `diff`: what changed between a released spec and the current one, and the
//! release gate built on it.
//!
//! Each change is classified for the people it can hurt:
//!
//! - **breaking for clients**: a client generated from the old spec can fail
//!   against a server that follows the new one (an operation or a response
//!   property removed, a type changed, a request field made required, a new
//!   enum value in a response that clients match on, ...);
//! - **breaking for servers**: a server implementing the old spec no longer
//!   satisfies clients of the new one (an operation or a request field
//!   added, a request enum widened, ...). These are additions: existing
//!   clients keep working, servers must be updated to offer them;
//! - **compatible**: neither (an optional response property added, ...);
//! - **docs only**: descriptions, summaries, examples, titles.
//!
//! The comparison is oxidecomputer's `drift` (OpenAPI 3.0 through
//! `openapiv3`; a 3.1 document is first rewritten into 3.0 as the generator
//! does), with rules on top for what it does not decide the way a
//! generated client needs (see [`rules`]), a documentation walk, and a
//! catch-all so that no difference goes unreported.
//!
//! The gate: breaking for clients needs a major bump of `info.version`,
//! anything else but docs a minor bump, docs alone a patch bump, and no
//! change no bump. Any other bump fails.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use serde_json::Value;

mod operations;
mod release;
pub mod rules;

pub use operations::Operations;
use operations::{component_of, escape};
pub use release::{diff_command, gate, load, release_command};

/// How a change affects existing clients and servers. Ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Docs,
    Compatible,
    BreakingServers,
    BreakingClients,
}

impl Class {
    pub fn label(self) -> &'static str {
        match self {
            Class::BreakingClients => "breaking for clients",
            Class::BreakingServers => "breaking for servers",
            Class::Compatible => "compatible",
            Class::Docs => "docs only",
        }
    }
}

/// One classified change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub class: Class,
    /// JSON pointer in the new document (the old one for removals).
    pub location: String,
    pub message: String,
    /// operationIds whose requests or responses the change reaches.
    pub operations: BTreeSet<String>,
    /// Who decided: `drift` or one of the rules here.
    pub source: &'static str,
}

/// Every change between `old` and `new`, most severe first. An OpenAPI 3.1
/// document is compared in its 3.0 form (the generator's own rewrite, so the
/// gate judges what the generated code sees); locations then point into that
/// form (a webhook `w` is the path `/webhooks/w`).
pub fn compare(old: &Value, new: &Value) -> Result<Vec<Finding>> {
    let (old, new) = (&as_openapi30(old), &as_openapi30(new));
    let old_ops = Operations::of(old);
    let new_ops = Operations::of(new);
    let mut out = Vec::new();

    for change in drift::compare(old, new).context("drift could not compare the documents")? {
        for info in &change.changes {
            // The operations reached, per direction, and where the change is
            // in each document.
            let mut reached: BTreeMap<drift::ChangeComparison, BTreeSet<String>> = BTreeMap::new();
            let (mut old_at, mut new_at) = (String::new(), String::new());
            for path in &change.paths {
                let ops = reached.entry(path.comparison).or_default();
                for (stack, all) in [(&path.old, &old_ops), (&path.new, &new_ops)] {
                    if let Some(base) = stack.endpoint_base() {
                        ops.extend(all.at(base));
                    }
                }
                if new_at.is_empty() {
                    old_at = join_pointer(
                        path.old.without_subpath().current_pointer(),
                        &info.old_subpath,
                    );
                    new_at = join_pointer(
                        path.new.without_subpath().current_pointer(),
                        &info.new_subpath,
                    );
                }
            }
            let location = if new_at.is_empty() {
                old_at.clone()
            } else {
                new_at.clone()
            };
            // drift records the first path to a shared component only: add
            // every operation reaching it in the same direction.
            for (direction, ops) in reached.iter_mut() {
                let input = match direction {
                    drift::ChangeComparison::Input => true,
                    drift::ChangeComparison::Output => false,
                    drift::ChangeComparison::Structural => continue,
                };
                ops.extend(old_ops.reaching(&old_at, input));
                ops.extend(new_ops.reaching(&new_at, input));
            }

            if info.class == drift::ChangeClass::Unhandled {
                // drift leaves object properties and enums undecided: the
                // schema rules decide them per direction.
                let decided = rules::schema_change(old, new, &old_at, &new_at, &reached);
                if !decided.is_empty() {
                    out.extend(decided);
                    continue;
                }
            }

            let (class, note) = match info.class {
                drift::ChangeClass::BackwardIncompatible => (Class::BreakingClients, ""),
                drift::ChangeClass::Incompatible => {
                    (Class::BreakingClients, " (and breaking for servers)")
                }
                drift::ChangeClass::ForwardIncompatible => (Class::BreakingServers, ""),
                drift::ChangeClass::Trivial => (Class::Docs, ""),
                // Not decided by drift nor by a rule here: breaking until a
                // person decides.
                drift::ChangeClass::Unhandled => (Class::BreakingClients, " (unclassified)"),
            };
            let mut operations: BTreeSet<String> = reached.into_values().flatten().collect();
            // An operation removed or added is named in the message only.
            if operations.is_empty() {
                operations.extend(named_operation(&info.message));
            }
            out.push(Finding {
                class,
                location,
                message: format!("{}{note}", info.message),
                operations,
                source: "drift",
            });
        }
    }

    rules::apply(old, new, &old_ops, &new_ops, &mut out);
    out.sort_by(|a, b| b.class.cmp(&a.class).then_with(|| a.cmp(b)));
    out.dedup();
    Ok(out)
}

/// `doc` in OpenAPI 3.0 form: itself for 3.0, the generator's rewrite of 3.1.
fn as_openapi30(doc: &Value) -> std::borrow::Cow<'_, Value> {
    if !users_api_codegen::is_openapi31(doc) {
        return std::borrow::Cow::Borrowed(doc);
    }
    let mut doc = doc.clone();
    users_api_codegen::to_openapi30(&mut doc);
    std::borrow::Cow::Owned(doc)
}

fn join_pointer(base: &str, sub: &str) -> String {
    match (base.is_empty(), sub.is_empty()) {
        (_, true) => base.to_string(),
        (true, false) => sub.to_string(),
        (false, false) => format!("{base}/{sub}"),
    }
}

/// drift names added and removed operations in its message only.
fn named_operation(message: &str) -> Option<String> {
    let rest = message.strip_prefix("The operation ")?;
    Some(rest.split_whitespace().next()?.to_string())
}

/// Renders the findings as a report.
pub fn report(findings: &[Finding]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if findings.is_empty() {
        s.push_str("no changes\n");
        return s;
    }
    let mut counts: BTreeMap<Class, usize> = BTreeMap::new();
    for f in findings {
        *counts.entry(f.class).or_default() += 1;
    }
    for class in [
        Class::BreakingClients,
        Class::BreakingServers,
        Class::Compatible,
        Class::Docs,
    ] {
        let list: Vec<&Finding> = findings.iter().filter(|f| f.class == class).collect();
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "{} ({}):", class.label(), list.len());
        for f in list {
            let ops = if f.operations.is_empty() {
                "no operation".to_string()
            } else {
                f.operations.iter().cloned().collect::<Vec<_>>().join(", ")
            };
            let _ = writeln!(s, "  - {}", f.message);
            let _ = writeln!(s, "    at {} [{}]", f.location, f.source);
            let _ = writeln!(s, "    reaches: {ops}");
        }
    }
    s
}

#[cfg(test)]
mod tests;
