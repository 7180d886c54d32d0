//! Which operations a change reaches: operationIds by JSON pointer, and
//! the components each operation reaches through `$ref`s (from its requests
//! and from its responses).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

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
pub fn component_of(pointer: &str) -> Option<String> {
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
