//! The operation list: one [`Operation`] per routable method and path.

use openapiv3::{Components, PathItem, ReferenceOr};

use super::{Operation, body, params, responses};
use crate::error::{CodegenError, Result};
use crate::spec::Spec;
use crate::spec::paths::is_routable;

/// Builds the operation list from the normalized, validated spec.
pub fn operations(spec: &Spec) -> Result<Vec<Operation>> {
    let components = spec.api.components.as_ref();
    let mut out = Vec::new();
    for (path, item) in spec.api.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        if !is_routable(path) {
            continue; // linted: the server stubs leave it out
        }
        for (method, op) in item.iter() {
            out.push(operation(path, item, method, op, components)?);
        }
    }
    Ok(out)
}

fn operation(
    path: &str,
    item: &PathItem,
    method: &str,
    op: &openapiv3::Operation,
    components: Option<&Components>,
) -> Result<Operation> {
    let id = op.operation_id.clone().unwrap_or_default();
    let fail = |message: String| CodegenError::Generate {
        stage: "server",
        message: format!("{id}: {message}"),
    };
    let [path_params, query_params, header_params, cookie_params] = params::by_location(
        path,
        item.parameters.iter().chain(&op.parameters),
        components,
    );
    let body = body::request_body(op.request_body.as_ref(), components).map_err(fail)?;
    let responses = responses::cases(&op.responses, components).map_err(fail)?;
    let security = op
        .security
        .iter()
        .flatten()
        .map(|r| r.keys().cloned().collect())
        .collect();
    let doc = [op.summary.as_deref(), op.description.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n\n");
    Ok(Operation {
        id,
        method: method.to_ascii_uppercase(),
        path: path.to_string(),
        doc,
        path_params,
        query_params,
        header_params,
        cookie_params,
        body,
        security,
        responses,
    })
}
