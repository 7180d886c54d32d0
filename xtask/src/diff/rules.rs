//! Rules on top of drift, each with its tests in `tests.rs`: object
//! properties, `required` and enums per direction, documentation, and a
//! catch-all so that no difference goes unreported.

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
        Value::Array(items) => Value::Array(items.iter().map(|v| strip_docs(v, false)).collect()),
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
        let whole_component = component_of(&pointer).is_some_and(|c| c == format!("#{pointer}"))
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
