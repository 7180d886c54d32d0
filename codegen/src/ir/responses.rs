//! Documented responses: one case per status, and per extra media type.

use openapiv3::{Components, Responses, StatusCode};

use super::{BodyKind, ResponseCase, RustType, Status};
use crate::spec::media::{body_kind, media_essence, media_variant, preferred_media};
use crate::spec::refs::resolve;

/// Every documented response of an operation, ordered by status. A response
/// listing several media types gives one case for the preferred one, and one
/// per other media type (by essence) with its variant suffix.
pub(super) fn cases(
    responses: &Responses,
    components: Option<&Components>,
) -> Result<Vec<ResponseCase>, String> {
    let documented = responses
        .responses
        .iter()
        .map(|(code, r)| (status(code), r))
        .chain(responses.default.iter().map(|r| (Status::Default, r)));
    let mut out = Vec::new();
    for (status, response) in documented {
        let Some(response) = resolve(response, components) else {
            continue;
        };
        let case = ResponseCase {
            status,
            description: response.description.clone(),
            body: None,
            has_headers: response
                .headers
                .keys()
                .any(|h| !h.eq_ignore_ascii_case("www-authenticate")),
            media_variant: None,
            schema: None,
        };
        out.extend(media_cases(case, &response.content)?);
    }
    if out.is_empty() {
        // `responses: {}`: the implementation picks any status.
        out.push(ResponseCase {
            status: Status::Default,
            description: "No response is documented: any status, without a body.".into(),
            body: None,
            has_headers: false,
            media_variant: None,
            schema: None,
        });
    }
    out.sort_by_key(|r| r.status);
    Ok(out)
}

/// The status of a response key.
fn status(code: &StatusCode) -> Status {
    match code {
        StatusCode::Code(c) => Status::Code(*c),
        StatusCode::Range(r) => Status::Range(*r),
    }
}

/// The cases of one response: without a body, or the preferred media type
/// first, then the others in spec order.
fn media_cases(
    case: ResponseCase,
    content: &openapiv3::Content,
) -> Result<Vec<ResponseCase>, String> {
    let Some((preferred, _)) = preferred_media(content) else {
        return Ok(vec![case]);
    };
    let listed = content
        .iter()
        .filter(|(media, _)| *media == preferred)
        .chain(content.iter().filter(|(media, _)| *media != preferred));
    let mut out = Vec::new();
    let mut suffixes = Vec::new();
    for (media, content) in listed {
        let suffix = (media != preferred).then(|| media_variant(media));
        if let Some(suffix) = &suffix {
            // Two media types with one essence (`text/html` with and
            // without `charset`): the first answers for both.
            if suffixes.contains(suffix) || media_essence(media) == media_essence(preferred) {
                continue;
            }
            suffixes.push(suffix.clone());
        }
        let ty = match (body_kind(media), &content.schema) {
            (BodyKind::Json, Some(s)) => super::body::rust_type(s)?,
            (BodyKind::Json, None) => RustType::Json,
            (BodyKind::Bytes, _) => RustType::Bytes,
            _ => RustType::String,
        };
        out.push(ResponseCase {
            body: Some((media.clone(), ty)),
            media_variant: suffix,
            schema: (body_kind(media) == BodyKind::Json)
                .then(|| content.schema.clone())
                .flatten(),
            ..case.clone()
        });
    }
    Ok(out)
}
