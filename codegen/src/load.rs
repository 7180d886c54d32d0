//! Reading a spec file into both a raw JSON tree and a typed `openapiv3` document.

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
    /// The document as a generic JSON tree, for `$ref` resolution.
    pub raw: serde_json::Value,
    /// The document as typed OpenAPI 3.0.
    pub api: OpenAPI,
}

impl Spec {
    /// Reads and parses a spec file. Does not validate it; see [`crate::validate`].
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
        let raw: serde_json::Value =
            serde_yaml::from_str(text).map_err(|e| parse_error(format!("invalid YAML: {e}")))?;
        if !raw.is_object() {
            return Err(parse_error("the document is not a mapping".into()));
        }
        // openapiv3 panics on some malformed input (e.g. duplicate keys inside
        // a `$ref`-or-item); report that as a parse error too.
        let parsed = std::panic::catch_unwind(|| serde_yaml::from_str::<OpenAPI>(text));
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
        })
    }
}
