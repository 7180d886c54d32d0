//! What an operation answers when the router refuses a request (or a
//! skeleton has no example), when that is not the spec-wide error format:
//! the schema and media type the operation documents for the status (its
//! code, else its range, else `default`), or another documented client
//! error when it documents none for the status. Emitted as a
//! `stub_runtime::Documented` table; the JSON bodies are templates built
//! here from the documented schema (see [`fill`]).

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{BodyKind, Operation, ResponseCase, RustType, Status, body_kind};
use openapiv3::Components;

mod fill;

pub(crate) use fill::{synthesized, template};

/// The statuses the router can refuse `op`'s requests with itself (the
/// router-wide 404, 405 and 500 aside): a bad parameter or body (400),
/// credentials (401), and for bodies 413, 415 and 422.
pub(crate) fn refusals(op: &Operation, secured: bool) -> Vec<u16> {
    let mut out = Vec::new();
    let has_params =
        !(op.path_params.is_empty() && op.query_params.is_empty() && op.header_params.is_empty());
    if has_params || op.body.is_some() {
        out.push(400);
    }
    if secured {
        out.push(401);
    }
    if let Some(body) = &op.body {
        out.extend([413, 415]);
        let decoded = std::iter::once(body.kind)
            .chain(body.also.iter().map(|(_, k)| *k))
            .any(|k| matches!(k, BodyKind::Json | BodyKind::Form));
        if decoded {
            out.push(422);
        }
    }
    out
}

/// `stub_runtime::Documented::new(&[...])` for the `refused` statuses of
/// `op` that are not answered in the spec-wide error format as they are;
/// `None` when all are. `error_type` is the Rust name of the spec-wide
/// error schema, when the router uses one.
pub(crate) fn table(
    op: &Operation,
    refused: &[u16],
    error_type: Option<&str>,
    components: Option<&Components>,
) -> Option<TokenStream> {
    let answers: Vec<TokenStream> = refused
        .iter()
        .filter_map(|&status| answer(op, status, error_type, components))
        .collect();
    (!answers.is_empty()).then(|| quote!(stub_runtime::Documented::new(&[#(#answers),*])))
}

/// The `stub_runtime::Answer` for `refused`, unless the spec-wide format
/// with that very status is what the operation documents (or all it can do).
fn answer(
    op: &Operation,
    refused: u16,
    error_type: Option<&str>,
    components: Option<&Components>,
) -> Option<TokenStream> {
    let (status, case) = documented(op, refused)?;
    let body = match &case.body {
        Some((_, RustType::Model(name))) if Some(name.as_str()) == error_type => None,
        None => None,
        Some((media, _)) => match body_kind(media) {
            BodyKind::Json => {
                let (code, title) = words(status);
                let made = case
                    .schema
                    .as_ref()
                    .and_then(|schema| template(schema, components, status, code, title));
                match made {
                    Some((json, slots)) => {
                        let slots = slots.iter().map(|(pointer, max)| match max {
                            Some(max) => quote!(stub_runtime::Slot { pointer: #pointer, fill: stub_runtime::Fill::Message { max_chars: #max } }),
                            None => quote!(stub_runtime::Slot { pointer: #pointer, fill: stub_runtime::Fill::Now }),
                        });
                        Some(quote!(stub_runtime::AnswerBody::Json {
                            media: #media,
                            template: #json,
                            slots: &[#(#slots),*],
                        }))
                    }
                    // A schema no template fits: the format, as before.
                    None => None,
                }
            }
            _ if media.starts_with("text/") => {
                Some(quote!(stub_runtime::AnswerBody::Text { media: #media }))
            }
            _ => None,
        },
    };
    let body = match body {
        Some(body) => body,
        None if status == refused => return None,
        None => {
            let (code, _) = words(status);
            quote!(stub_runtime::AnswerBody::Format { code: #code })
        }
    };
    Some(quote!(stub_runtime::Answer { refused: #refused, status: #status, body: #body }))
}

/// The status `op` documents for a refusal with `refused`, and its
/// response: the code, its range, or `default`; for a client error other
/// than 401 it does not document that way, `400`, `422`, then its lowest
/// documented `4xx` code.
fn documented(op: &Operation, refused: u16) -> Option<(u16, &ResponseCase)> {
    let exact = |status: Status| {
        let mut cases = op.responses.iter().filter(|r| r.status == status);
        let all: Vec<&ResponseCase> = cases.by_ref().collect();
        // JSON first (a response documented as JSON and as text).
        all.iter()
            .find(|r| {
                r.body
                    .as_ref()
                    .is_some_and(|(m, _)| body_kind(m) == BodyKind::Json)
            })
            .or_else(|| all.first())
            .copied()
    };
    let direct = exact(Status::Code(refused))
        .or_else(|| exact(Status::Range(refused / 100)))
        .or_else(|| exact(Status::Default));
    if let Some(case) = direct {
        return Some((refused, case));
    }
    if refused / 100 != 4 || refused == 401 {
        return None;
    }
    let mut codes: Vec<u16> = op
        .responses
        .iter()
        .filter_map(|r| match r.status {
            Status::Code(c) if c / 100 == 4 && c != 401 && c != 403 => Some(c),
            _ => None,
        })
        .collect();
    codes.sort_unstable();
    let fallback = [400, 422]
        .into_iter()
        .find(|c| codes.contains(c))
        .or_else(|| codes.first().copied())?;
    exact(Status::Code(fallback)).map(|case| (fallback, case))
}

/// The error code and the reason phrase a template's constants use for `status`.
fn words(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("bad_request", "Bad Request"),
        401 => ("unauthorized", "Unauthorized"),
        404 => ("not_found", "Not Found"),
        405 => ("method_not_allowed", "Method Not Allowed"),
        409 => ("conflict", "Conflict"),
        413 => ("payload_too_large", "Payload Too Large"),
        415 => ("unsupported_media_type", "Unsupported Media Type"),
        422 => ("unprocessable_entity", "Unprocessable Entity"),
        500 => ("internal_error", "Internal Server Error"),
        501 => ("not_implemented", "Not Implemented"),
        s if s / 100 == 4 => ("client_error", "Client Error"),
        _ => ("server_error", "Server Error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;
    use crate::spec::Spec;

    const SPEC: &str = r#"
openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /only-404/{id}:
    get:
      operationId: only_404
      parameters: [{ name: id, in: path, required: true, schema: { type: integer } }]
      responses:
        '200': { description: ok }
        '404': { description: none }
  /problem:
    get:
      operationId: problem
      parameters: [{ name: q, in: query, schema: { type: integer } }]
      responses:
        '200': { description: ok }
        4XX:
          description: a problem
          content:
            application/problem+json:
              schema: { type: object, required: [title], properties: { title: { type: string }, detail: { type: string } } }
  /text:
    post:
      operationId: text
      requestBody: { required: true, content: { application/json: { schema: { type: object } } } }
      responses:
        '201': { description: ok }
        default: { description: any, content: { text/plain: { schema: { type: string } } } }
  /schemaless/{id}:
    get:
      operationId: schemaless
      parameters: [{ name: id, in: path, required: true, schema: { type: integer } }]
      responses:
        '200': { description: ok }
        '404': { description: none, content: { application/json: { example: { errors: [] } } } }
  /nothing:
    get:
      operationId: nothing
      parameters: [{ name: q, in: query, schema: { type: integer } }]
      responses:
        '200': { description: ok }
"#;

    /// The table of the operation `id` as one line of tokens.
    fn table_of(id: &str) -> Option<String> {
        let spec = Spec::parse("t.yaml", SPEC).unwrap();
        let ops = model::operations(&spec).unwrap();
        let op = ops.iter().find(|o| o.id == id).unwrap();
        table(op, &refusals(op, false), None, spec.api.components.as_ref()).map(|t| t.to_string())
    }

    #[test]
    fn an_undocumented_400_is_answered_with_the_documented_404_and_its_code() {
        let t = table_of("only_404").unwrap();
        assert!(t.contains("refused : 400u16 , status : 404u16"), "{t}");
        assert!(t.contains("Format { code : \"not_found\" }"), "{t}");
    }

    #[test]
    fn a_range_with_its_own_schema_gets_a_template_in_its_media_type() {
        let t = table_of("problem").unwrap();
        assert!(t.contains("media : \"application/problem+json\""), "{t}");
        assert!(t.contains(r#"\"title\":\"Bad Request\""#), "{t}");
        assert!(t.contains("pointer : \"/detail\""), "{t}");
    }

    #[test]
    fn a_default_as_text_answers_every_refusal_as_text() {
        let t = table_of("text").unwrap();
        for status in [400u16, 413, 415, 422] {
            assert!(t.contains(&format!("refused : {status}u16 , status : {status}u16 , body : stub_runtime :: AnswerBody :: Text")), "{status}: {t}");
        }
    }

    #[test]
    fn a_documented_status_without_a_schema_still_takes_the_refusal() {
        let t = table_of("schemaless").unwrap();
        assert!(t.contains("refused : 400u16 , status : 404u16"), "{t}");
    }

    #[test]
    fn nothing_documented_keeps_the_spec_wide_format() {
        assert_eq!(table_of("nothing"), None);
    }
}
