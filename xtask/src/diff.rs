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
//! `openapiv3`), with rules on top for what it does not decide the way a
//! generated client needs (see [`rules`]), a documentation walk, and a
//! catch-all so that no difference goes unreported.
//!
//! The gate: breaking for clients needs a major bump of `info.version`,
//! anything else but docs a minor bump, docs alone a patch bump, and no
//! change no bump. Any other bump fails.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Where released versions of the spec are kept, relative to the root.
pub const RELEASED_DIR: &str = "spec/released";

// ------------------------------------------------------------- classes ---

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

/// Every change between `old` and `new`, most severe first.
pub fn compare(old: &Value, new: &Value) -> Result<Vec<Finding>> {
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

// ----------------------------------------------------------- operations ---

/// operationIds by JSON pointer of the operation, and the components each
/// operation reaches through `$ref`s.
pub struct Operations {
    by_pointer: BTreeMap<String, String>,
    reaches: BTreeMap<String, BTreeSet<String>>,
    /// Components reached from requests (parameters, bodies) and from
    /// responses, per operation.
    inputs: BTreeMap<String, BTreeSet<String>>,
    outputs: BTreeMap<String, BTreeSet<String>>,
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

impl Operations {
    pub fn of(doc: &Value) -> Self {
        let mut by_pointer = BTreeMap::new();
        let mut reaches = BTreeMap::new();
        let mut inputs = BTreeMap::new();
        let mut outputs = BTreeMap::new();
        let paths = doc.get("paths").and_then(Value::as_object);
        for (path, item) in paths.into_iter().flatten() {
            for method in METHODS {
                let Some(op) = item.get(*method) else {
                    continue;
                };
                let id = op.get("operationId").and_then(Value::as_str).map_or_else(
                    || format!("{} {path}", method.to_uppercase()),
                    str::to_string,
                );
                let pointer = format!("#/paths/{}/{method}", escape(path));
                let mut seen = BTreeSet::new();
                collect_refs(doc, op, &mut seen);
                if let Some(params) = item.get("parameters") {
                    collect_refs(doc, params, &mut seen);
                }
                let (mut input, mut output) = (BTreeSet::new(), BTreeSet::new());
                for key in ["parameters", "requestBody"] {
                    for v in [op.get(key), item.get(key)].into_iter().flatten() {
                        collect_refs(doc, v, &mut input);
                    }
                }
                if let Some(responses) = op.get("responses") {
                    collect_refs(doc, responses, &mut output);
                }
                inputs.insert(id.clone(), input);
                outputs.insert(id.clone(), output);
                reaches.insert(id.clone(), seen);
                by_pointer.insert(pointer, id);
            }
        }
        Operations {
            by_pointer,
            reaches,
            inputs,
            outputs,
        }
    }

    /// The operations at or reaching `pointer` (an operation or a component).
    pub fn at(&self, pointer: &str) -> BTreeSet<String> {
        let pointer = pointer.trim_start_matches('#');
        let mut out = BTreeSet::new();
        for (op_pointer, id) in &self.by_pointer {
            let op = op_pointer.trim_start_matches('#');
            if pointer == op || pointer.starts_with(&format!("{op}/")) {
                out.insert(id.clone());
            }
        }
        if let Some(component) = component_of(pointer) {
            for (id, refs) in &self.reaches {
                if refs.contains(&component) {
                    out.insert(id.clone());
                }
            }
        }
        out
    }

    /// The operations whose requests (`input`) or responses reach the
    /// component holding `pointer`.
    pub fn reaching(&self, pointer: &str, input: bool) -> BTreeSet<String> {
        let Some(component) = component_of(pointer) else {
            return BTreeSet::new();
        };
        let map = if input { &self.inputs } else { &self.outputs };
        map.iter()
            .filter(|(_, refs)| refs.contains(&component))
            .map(|(id, _)| id.clone())
            .collect()
    }

    pub fn ids(&self) -> impl Iterator<Item = &String> {
        self.by_pointer.values()
    }
}

/// `#/components/schemas/X` for any pointer inside that component.
fn component_of(pointer: &str) -> Option<String> {
    let rest = pointer
        .trim_start_matches('#')
        .strip_prefix("/components/")?;
    let mut parts = rest.splitn(3, '/');
    let kind = parts.next()?;
    let name = parts.next()?;
    Some(format!("#/components/{kind}/{name}"))
}

/// Every component `value` reaches, transitively.
fn collect_refs(doc: &Value, value: &Value, seen: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref" {
                    if let Some(target) = v.as_str()
                        && seen.insert(target.to_string())
                        && let Some(resolved) = resolve(doc, target)
                    {
                        collect_refs(doc, resolved, seen);
                    }
                } else {
                    collect_refs(doc, v, seen);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(doc, v, seen)),
        _ => {}
    }
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

// ----------------------------------------------------------------- rules ---

/// Rules on top of drift, each with its tests below.
pub mod rules {
    use super::*;

    /// Keywords that only document: a change in them alone is docs only.
    pub const DOC_KEYWORDS: &[&str] = &[
        "description",
        "summary",
        "example",
        "examples",
        "externalDocs",
        "title",
        "contact",
        "license",
        "termsOfService",
        "x-internal",
    ];

    pub fn apply(
        old: &Value,
        new: &Value,
        old_ops: &Operations,
        new_ops: &Operations,
        out: &mut Vec<Finding>,
    ) {
        docs(old, new, new_ops, out);
        catch_all(old, new, old_ops, new_ops, out);
    }

    /// Rules `properties`, `required` and `enum`: drift 0.2 reports a change
    /// to an object's properties, its `required` list or an enum as
    /// unhandled. They are decided here for each direction the schema is
    /// reached in (requests: `Input`, responses: `Output`). Returns nothing
    /// (leaving the change unclassified) when anything else about the schema
    /// changed too.
    pub fn schema_change(
        old: &Value,
        new: &Value,
        old_at: &str,
        new_at: &str,
        reached: &BTreeMap<drift::ChangeComparison, BTreeSet<String>>,
    ) -> Vec<Finding> {
        use drift::ChangeComparison::{Input, Output};
        let (Some(os), Some(ns)) = (
            old.pointer(old_at.trim_start_matches('#')),
            new.pointer(new_at.trim_start_matches('#')),
        ) else {
            return Vec::new();
        };
        if rest_of_schema(os) != rest_of_schema(ns) {
            return Vec::new();
        }
        let keys = |s: &Value, k: &str| -> BTreeSet<String> {
            match s.get(k) {
                Some(Value::Object(m)) => m.keys().cloned().collect(),
                Some(Value::Array(a)) => a.iter().map(|v| v.to_string()).collect(),
                _ => BTreeSet::new(),
            }
        };
        let (op, np) = (keys(os, "properties"), keys(ns, "properties"));
        let (oreq, nreq) = (keys(os, "required"), keys(ns, "required"));
        let (oe, ne) = (keys(os, "enum"), keys(ns, "enum"));
        let quoted = |p: &String| format!("{p:?}");

        let mut out = Vec::new();
        for (direction, ops) in reached {
            let input = match direction {
                Input => true,
                Output => false,
                drift::ChangeComparison::Structural => continue,
            };
            let mut push = |class: Class, rule: &'static str, message: String| {
                out.push(Finding {
                    class,
                    location: new_at.to_string(),
                    message,
                    operations: ops.clone(),
                    source: rule,
                });
            };
            // Narrowing a request breaks clients, widening it servers; for a
            // response it is the other way round.
            let (side, narrower, wider) = if input {
                ("request", Class::BreakingClients, Class::BreakingServers)
            } else {
                ("response", Class::BreakingServers, Class::BreakingClients)
            };
            for p in op.difference(&np) {
                push(
                    Class::BreakingClients,
                    "rule properties",
                    format!(
                        "{side} property {} removed{}",
                        quoted(p),
                        if input {
                            " (old clients still send it; unknown fields are rejected)"
                        } else {
                            " (old clients read it)"
                        }
                    ),
                );
            }
            for p in np.difference(&op) {
                let required = nreq.contains(&quoted(p));
                let (class, why) = match (input, required) {
                    (true, true) => (Class::BreakingClients, "old clients do not send it"),
                    (true, false) => (Class::BreakingServers, "old servers reject it"),
                    (false, true) => (Class::BreakingServers, "old servers do not send it"),
                    (false, false) => (Class::Compatible, "old clients ignore it"),
                };
                let kind = if required { "required" } else { "optional" };
                push(
                    class,
                    "rule properties",
                    format!("{kind} {side} property {} added ({why})", quoted(p)),
                );
            }
            for p in np.intersection(&op) {
                let q = quoted(p);
                match (oreq.contains(&q), nreq.contains(&q)) {
                    (false, true) => push(
                        narrower,
                        "rule required",
                        format!("{side} property {q} made required"),
                    ),
                    (true, false) => push(
                        wider,
                        "rule required",
                        format!("{side} property {q} made optional"),
                    ),
                    _ => {}
                }
            }
            let added: Vec<&String> = ne.difference(&oe).collect();
            let removed: Vec<&String> = oe.difference(&ne).collect();
            if !added.is_empty() {
                let list = added
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let why = if input {
                    "old servers reject it"
                } else {
                    "clients matching on the enum fail on it"
                };
                push(
                    wider,
                    "rule enum",
                    format!("{side} enum value {list} added ({why})"),
                );
            }
            if !removed.is_empty() {
                let list = removed
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let why = if input {
                    "old clients still send it"
                } else {
                    "old servers still send it"
                };
                push(
                    narrower,
                    "rule enum",
                    format!("{side} enum value {list} removed ({why})"),
                );
            }
        }
        out
    }

    /// A schema without its documentation, property schemas, `required`
    /// and `enum`: what the schema rules do not look at.
    fn rest_of_schema(schema: &Value) -> Value {
        let mut s = strip_docs(schema, false);
        if let Some(map) = s.as_object_mut() {
            map.remove("required");
            map.remove("enum");
            map.remove("properties");
        }
        s
    }

    /// Rule `docs`: every change to a documentation keyword is reported as
    /// docs only (drift does not report them).
    fn docs(old: &Value, new: &Value, new_ops: &Operations, out: &mut Vec<Finding>) {
        let mut changed = Vec::new();
        doc_walk(Some(old), Some(new), "", false, &mut changed);
        // drift reports some of them as trivial already.
        let trivial: Vec<String> = out
            .iter()
            .filter(|f| f.class == Class::Docs)
            .map(|f| f.location.trim_start_matches('#').to_string())
            .collect();
        for pointer in changed {
            let known = trivial
                .iter()
                .any(|t| pointer.starts_with(&format!("{t}/")));
            if pointer == "/info/version" || known {
                continue;
            }
            out.push(Finding {
                class: Class::Docs,
                location: format!("#{pointer}"),
                message: "documentation changed".to_string(),
                operations: new_ops.at(&pointer),
                source: "rule docs",
            });
        }
    }

    /// Pointers of doc keywords whose values differ. `in_props` is true
    /// directly under `properties`, where keys are property names (a
    /// property called `description` is not documentation).
    fn doc_walk(
        old: Option<&Value>,
        new: Option<&Value>,
        pointer: &str,
        in_props: bool,
        out: &mut Vec<String>,
    ) {
        let (Some(Value::Object(o)), Some(Value::Object(n))) = (old, new) else {
            return;
        };
        let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
        for key in keys {
            let child = format!("{pointer}/{}", escape(key));
            let (ov, nv) = (o.get(key), n.get(key));
            if !in_props && DOC_KEYWORDS.contains(&key.as_str()) {
                if ov != nv {
                    out.push(child);
                }
                continue;
            }
            doc_walk(ov, nv, &child, !in_props && key == "properties", out);
        }
    }

    /// Removes every documentation keyword.
    pub fn strip_docs(value: &Value, in_props: bool) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(k, _)| in_props || !DOC_KEYWORDS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), strip_docs(v, !in_props && k == "properties")))
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| strip_docs(v, false)).collect())
            }
            other => other.clone(),
        }
    }

    /// Rule `catch-all`: a non-documentation difference that neither drift
    /// nor a rule above reported (a security requirement, a server, a
    /// header, ...) is listed as breaking for clients, to be decided by a
    /// person, rather than passing unseen.
    fn catch_all(
        old: &Value,
        new: &Value,
        old_ops: &Operations,
        new_ops: &Operations,
        out: &mut Vec<Finding>,
    ) {
        let mut old = strip_docs(old, false);
        let mut new = strip_docs(new, false);
        for doc in [&mut old, &mut new] {
            if let Some(info) = doc.get_mut("info").and_then(Value::as_object_mut) {
                info.remove("version");
            }
        }
        let mut diffs = Vec::new();
        value_diff(&old, &new, "", &mut diffs);
        let reported: Vec<String> = out
            .iter()
            .filter(|f| f.class != Class::Docs)
            .map(|f| f.location.trim_start_matches('#').to_string())
            .collect();
        let removed_or_added: BTreeSet<String> = old_ops
            .ids()
            .chain(new_ops.ids())
            .filter(|id| {
                out.iter()
                    .any(|f| f.source == "drift" && f.operations.contains(*id))
            })
            .cloned()
            .collect();
        for pointer in diffs {
            let covered = reported.iter().any(|r| {
                !r.is_empty()
                    && (pointer == *r
                        || pointer.starts_with(&format!("{r}/"))
                        || r.starts_with(&format!("{pointer}/")))
            });
            let mut ops = new_ops.at(&pointer);
            ops.extend(old_ops.at(&pointer));
            // A whole operation added or removed is already reported.
            let whole_op = pointer.starts_with("/paths/")
                && !ops.is_empty()
                && ops.iter().all(|op| removed_or_added.contains(op))
                && (pointer.matches('/').count() <= 3);
            // A component added or removed as a whole matters only where it
            // is referenced, and a reference that changed is reported there.
            let whole_component = component_of(&pointer)
                .is_some_and(|c| c == format!("#{pointer}"))
                && (old.pointer(&pointer).is_none() || new.pointer(&pointer).is_none());
            if covered || whole_op || whole_component {
                continue;
            }
            out.push(Finding {
                class: Class::BreakingClients,
                location: format!("#{pointer}"),
                message: "changed, and no rule classifies this change: review it".to_string(),
                operations: ops,
                source: "rule catch-all",
            });
        }
    }

    /// Pointers of the smallest differing subtrees.
    pub fn value_diff(old: &Value, new: &Value, pointer: &str, out: &mut Vec<String>) {
        match (old, new) {
            (Value::Object(o), Value::Object(n)) => {
                let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
                for key in keys {
                    let child = format!("{pointer}/{}", escape(key));
                    match (o.get(key), n.get(key)) {
                        (Some(a), Some(b)) => value_diff(a, b, &child, out),
                        _ => out.push(child),
                    }
                }
            }
            (a, b) if a != b => out.push(pointer.to_string()),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------- gate ---

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

// ------------------------------------------------------------- documents ---

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

// ------------------------------------------------------------- commands ---

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

#[cfg(test)]
mod tests;
