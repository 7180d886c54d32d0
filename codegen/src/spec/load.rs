//! Reading a spec file into both a raw JSON tree and a typed `openapiv3`
//! document; OpenAPI 3.1 is first rewritten into 3.0 ([`crate::downgrade`]).

use std::path::Path;

use openapiv3::OpenAPI;

use crate::error::{CodegenError, Result};

/// A parsed OpenAPI document, kept in two forms.
#[derive(Debug, Clone)]
pub struct Spec {
    /// File name used in error messages.
    pub file: String,
    /// The exact source text (embedded in generated code where needed).
    pub text: String,
    /// The document as a generic JSON tree, for `$ref` resolution (an
    /// OpenAPI 3.1 document in its 3.0 form, see [`crate::downgrade`]).
    pub raw: serde_json::Value,
    /// The document as typed OpenAPI 3.0.
    pub api: OpenAPI,
    /// What reading an OpenAPI 3.1 document could not carry into 3.0 exactly.
    pub lints: Vec<crate::Problem>,
}

impl Spec {
    /// Reads and parses a spec file. Does not validate it; see [`crate::check`].
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| CodegenError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Self::parse(&file, &text)
    }

    /// Parses spec text. `file` only names the document in messages.
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        let parse_error = |message: String| CodegenError::Parse {
            file: file.to_string(),
            message,
        };
        // JSON text is read as JSON: YAML refuses some characters JSON allows.
        let raw: serde_json::Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| parse_error(format!("invalid JSON: {e}")))?
        } else {
            serde_yaml::from_str(text).map_err(|e| parse_error(format!("invalid YAML: {e}")))?
        };
        if !raw.is_object() {
            return Err(parse_error("the document is not a mapping".into()));
        }
        let mut raw = raw;
        let from_31 = crate::downgrade::is_openapi31(&raw);
        let lints = crate::downgrade::to_openapi30(&mut raw);
        let moved = super::pointer_refs::to_components(&mut raw);
        let is_json = from_31 || moved || text.trim_start().starts_with('{');
        // openapiv3 panics on some malformed input (e.g. duplicate keys inside
        // a `$ref`-or-item); report that as a parse error too. YAML is read
        // from the text, where duplicate keys are still visible.
        let parsed = std::panic::catch_unwind(|| {
            if !is_json {
                serde_yaml::from_str::<OpenAPI>(text).map_err(|e| e.to_string())
            } else if has_wide_bounds(&raw) {
                let mut typed = raw.clone();
                clamp_integer_bounds(&mut typed);
                serde_json::from_value::<OpenAPI>(typed).map_err(|e| e.to_string())
            } else {
                // Read from the tree, which stays (not from a copy of it).
                <OpenAPI as serde::Deserialize>::deserialize(&raw).map_err(|e| e.to_string())
            }
        });
        let api = match parsed {
            Ok(result) => {
                result.map_err(|e| parse_error(format!("not a valid OpenAPI 3.0 document: {e}")))?
            }
            Err(_) => {
                return Err(parse_error(
                    "not a valid OpenAPI 3.0 document: the parser failed (look for duplicate keys)"
                        .into(),
                ));
            }
        };
        Ok(Self {
            file: file.to_string(),
            text: text.to_string(),
            raw,
            api,
            lints,
        })
    }
}

/// Whether [`clamp_integer_bounds`] has a bound to change under `node`.
fn has_wide_bounds(node: &serde_json::Value) -> bool {
    match node {
        serde_json::Value::Object(map) => map.iter().any(|(key, value)| {
            if matches!(key.as_str(), "minimum" | "maximum") && is_wide(value) {
                true
            } else {
                has_wide_bounds(value)
            }
        }),
        serde_json::Value::Array(items) => items.iter().any(has_wide_bounds),
        _ => false,
    }
}

/// A whole number written beyond what 64 bits hold.
fn is_wide(value: &serde_json::Value) -> bool {
    value
        .as_f64()
        .is_some_and(|f| !value.is_i64() && !value.is_u64() && f.fract() == 0.0)
}

/// Integer bounds written as numbers beyond 64 bits (`maximum:
/// 9223372036854776000`, common in generated specs) become the nearest
/// 64-bit value, which is what a Rust integer can hold anyway.
fn clamp_integer_bounds(node: &mut serde_json::Value) {
    match node {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if matches!(key.as_str(), "minimum" | "maximum")
                    && is_wide(value)
                    && let Some(f) = value.as_f64()
                {
                    *value =
                        serde_json::Value::from(f.clamp(i64::MIN as f64, i64::MAX as f64) as i64);
                } else {
                    clamp_integer_bounds(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(clamp_integer_bounds),
        _ => {}
    }
}
