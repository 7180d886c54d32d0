//! The document as progenitor takes it, rewritten once per generation and
//! shared by the client and its mocks. progenitor supports a subset of
//! OpenAPI and panics outside it: each rewrite below keeps its copy inside
//! that subset and leaves a note in the operation's docs saying what the
//! client does instead.

use openapiv3::{
    Components, OpenAPI, Operation, Parameter, ParameterSchemaOrContent, QueryStyle, ReferenceOr,
    Response, Schema, SchemaKind, StatusCode, Type,
};

use crate::ir::body_type;
use crate::spec::media::{BodyKind, body_kind, media_essence, preferred_media};
use crate::spec::paths::{operations_mut, responses_mut};
use crate::spec::refs::resolve;

/// The document as progenitor takes it: it sends query arrays only in the
/// `form`, exploded style, so an array in another style is handed over as one
/// string the caller joins, with a note saying so on the method.
pub(crate) fn for_progenitor(api: &OpenAPI) -> OpenAPI {
    let mut api = api.clone();
    // Bodies and responses shared through `components` are inlined, so the
    // rewrites below see every one of them.
    inline_shared_bodies(&mut api);
    // Read while the paths are rewritten, put back after (not copied).
    let components = api.components.take();
    for item in api.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        // progenitor calls `reqwest::Client::options`/`trace`, which do not
        // exist: the client leaves OPTIONS and TRACE operations out.
        item.options = None;
        item.trace = None;
        super::distinct_params::inline_when_colliding(item, components.as_ref());
        let mut shared = drop_shared_cookies(&mut item.parameters, components.as_ref());
        shared.extend(
            item.parameters
                .iter_mut()
                .filter_map(|p| joined_string(p, components.as_ref())),
        );
        for (_, op) in operations_mut(item) {
            let mut notes = shared.clone();
            notes.extend(super::distinct_params::drop_colliding(
                op,
                components.as_ref(),
            ));
            notes.extend(drop_deep_objects(op, components.as_ref()));
            notes.extend(
                op.parameters
                    .iter_mut()
                    .filter_map(|p| joined_string(p, components.as_ref())),
            );
            notes.extend(upgrade_note(op));
            notes.extend(one_request_media(op));
            notes.extend(raw_when_several_media(op));
            notes.extend(drop_second_success_body(op, components.as_ref()));
            notes.extend(one_body_per_outcome(op, components.as_ref()));
            notes.extend(media_progenitor_sends(op));
            free_form_where_no_schema(op);
            notes.extend(one_kind_per_outcome(op));
            if !notes.is_empty() {
                let text = op.description.take().unwrap_or_default();
                op.description = Some(
                    format!("{text}\n\nNote (generator): {}", notes.join(" "))
                        .trim()
                        .to_string(),
                );
            }
        }
    }
    api.components = components;
    api
}

/// A `101` response: progenitor returns the upgraded connection, but sends
/// the upgrade request headers only for dropshot's websocket extension.
fn upgrade_note(op: &Operation) -> Option<String> {
    let upgrades = op
        .responses
        .responses
        .contains_key(&openapiv3::StatusCode::Code(101));
    (upgrades && !op.extensions.contains_key("x-dropshot-websocket")).then(|| {
        "A `101` answer is returned as the upgraded connection (`reqwest::Upgraded`). The server switches only when the request asks to (`Connection: upgrade`, `Upgrade: <protocol>`), which this method does not send: give the client a `reqwest::Client` with those default headers (`Client::new_with_client`).".to_string()
    })
}

/// progenitor takes one request media type: its copy keeps the preferred
/// one; the note names the others the server stubs also accept.
fn one_request_media(op: &mut Operation) -> Option<String> {
    let ReferenceOr::Item(body) = op.request_body.as_mut()? else {
        return None;
    };
    if body.content.len() < 2 {
        return None;
    }
    let (media, kept) = preferred_media(&body.content).map(|(m, c)| (m.clone(), c.clone()))?;
    let ty = body_type(&media, &kept);
    let (accepted, refused): (Vec<_>, Vec<_>) = body
        .content
        .iter()
        .filter(|(other, _)| **other != media)
        .partition(|(other, content)| body_type(other, content) == ty);
    let accepted: Vec<&String> = accepted.into_iter().map(|(m, _)| m).collect();
    let refused: Vec<&String> = refused.into_iter().map(|(m, _)| m).collect();
    let list = |media: Vec<&String>| {
        media
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut note =
        format!("The request body lists several media types; this client sends `{media}`.");
    if !accepted.is_empty() {
        note.push_str(&format!(
            " The server stubs also accept {} (same type).",
            list(accepted)
        ));
    }
    if !refused.is_empty() {
        note.push_str(&format!(
            " {} decode into another type: neither this client nor the server stubs use them.",
            list(refused)
        ));
    }
    body.content.clear();
    body.content.insert(media, kept);
    Some(note)
}

/// progenitor types a response by its `application/json` body alone: a
/// response that also lists other media types is handed over without the
/// JSON one, so the client returns its raw body whatever was sent.
fn raw_when_several_media(op: &mut Operation) -> Vec<String> {
    let mut notes = Vec::new();
    for (code, response) in responses_mut(op) {
        let ReferenceOr::Item(response) = response else {
            continue;
        };
        let json = response
            .content
            .keys()
            .any(|m| body_kind(m) == BodyKind::Json);
        let other = response
            .content
            .keys()
            .any(|m| body_kind(m) != BodyKind::Json);
        if !(json && other) {
            continue;
        }
        let listed: Vec<String> = response.content.keys().map(|m| format!("`{m}`")).collect();
        notes.push(format!(
            "Response {code} is {}: the client returns its raw body (`ByteStream`); its `Content-Type` (`ResponseValue::headers`) says which was sent.",
            listed.join(" or ")
        ));
        response
            .content
            .retain(|m, _| body_kind(m) != BodyKind::Json);
    }
    notes
}

/// progenitor counts a `default` response as a success too, and takes one
/// success body: a `default` whose body differs from the 2xx one is left out
/// of its copy, so the client returns it as an unexpected response.
fn drop_second_success_body(op: &mut Operation, components: Option<&Components>) -> Option<String> {
    let body_of = |r: &ReferenceOr<Response>| {
        resolve(r, components).and_then(|r| {
            r.content
                .first()
                .map(|(m, c)| (m.clone(), c.schema.clone()))
        })
    };
    let default = op.responses.default.as_ref().map(body_of)?;
    let success = op
        .responses
        .responses
        .iter()
        .find(|(code, _)| code.to_string().starts_with('2'))
        .map(|(_, r)| body_of(r))?;
    if success.is_none() || default == success {
        return None;
    }
    op.responses.default = None;
    Some("The `default` response is returned as `Error::UnexpectedResponse`.".into())
}

/// progenitor takes one success body and one error body per operation: in
/// its copy, responses whose body differs from the first of their kind are
/// left out, so the client returns them as unexpected responses.
fn one_body_per_outcome(op: &mut Operation, components: Option<&Components>) -> Vec<String> {
    let body_of = |r: &ReferenceOr<Response>| {
        resolve(r, components).and_then(|r| {
            r.content
                .first()
                .map(|(m, c)| (m.clone(), c.schema.clone()))
        })
    };
    let mut first: [Option<Option<_>>; 2] = [None, None];
    let mut dropped = Vec::new();
    op.responses.responses.retain(|code, response| {
        let kind = usize::from(!code.to_string().starts_with('2'));
        let body = body_of(response);
        match &first[kind] {
            None => {
                first[kind] = Some(body);
                true
            }
            Some(seen) if *seen == body => true,
            Some(_) => {
                dropped.push(code.to_string());
                false
            }
        }
    });
    if dropped.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "Responses {} have a body of another type than the first of their kind; they are returned as `Error::UnexpectedResponse`.",
        dropped.join(", ")
    )]
}

/// Replaces `$ref`s to `components/requestBodies` and `components/responses`
/// in operations by copies of what they point at.
fn inline_shared_bodies(api: &mut OpenAPI) {
    // Read while the paths are rewritten, put back after (not copied).
    let Some(components) = api.components.take() else {
        return;
    };
    for item in api.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (_, op) in operations_mut(item) {
            if let Some(body) = &mut op.request_body
                && let Some(resolved) = resolve(body, Some(&components))
            {
                *body = ReferenceOr::Item(resolved.clone());
            }
            for response in op
                .responses
                .responses
                .values_mut()
                .chain(op.responses.default.as_mut())
            {
                if let Some(resolved) = resolve(response, Some(&components)) {
                    *response = ReferenceOr::Item(resolved.clone());
                }
            }
        }
    }
    api.components = Some(components);
}

/// progenitor sends JSON, form, `text/plain` and `application/octet-stream`
/// request bodies and types JSON responses only by `application/json`: in
/// its copy, other JSON types become `application/json`, other text
/// `text/plain`, anything else `application/octet-stream`.
fn media_progenitor_sends(op: &mut Operation) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(ReferenceOr::Item(body)) = &mut op.request_body {
        let renamed: Vec<(String, openapiv3::MediaType)> = body
            .content
            .drain(..)
            .map(|(media, content)| {
                let essence = media_essence(&media);
                let sent = match body_kind(&media) {
                    BodyKind::Json => "application/json",
                    BodyKind::Form => "application/x-www-form-urlencoded",
                    BodyKind::Text if essence == "text/x-markdown" => "text/x-markdown",
                    BodyKind::Text => "text/plain",
                    BodyKind::Bytes => "application/octet-stream",
                };
                if essence != sent {
                    notes.push(format!("The `{media}` request body is sent as `{sent}`."));
                }
                let mut content = content;
                if !content.encoding.is_empty() {
                    notes.push(format!(
                        "Per-field encodings of the `{media}` body are not applied."
                    ));
                    content.encoding.clear();
                }
                if sent.starts_with("text/") {
                    // progenitor takes a text body only as an inline string.
                    content.schema = Some(ReferenceOr::Item(
                        serde_json::from_value(serde_json::json!({"type": "string"}))
                            .expect("a string schema"),
                    ));
                }
                if sent == "application/octet-stream" {
                    // progenitor takes a binary body only as an inline binary string.
                    content.schema = Some(ReferenceOr::Item(
                        serde_json::from_value(
                            serde_json::json!({"type": "string", "format": "binary"}),
                        )
                        .expect("a binary string schema"),
                    ));
                }
                (sent.to_string(), content)
            })
            .collect();
        body.content.extend(renamed);
    }
    for response in op
        .responses
        .responses
        .values_mut()
        .chain(op.responses.default.as_mut())
    {
        if let ReferenceOr::Item(response) = response {
            let renamed: Vec<_> = response
                .content
                .drain(..)
                .map(|(media, content)| match body_kind(&media) {
                    BodyKind::Json => ("application/json".to_string(), content),
                    _ => (media, content),
                })
                .collect();
            response.content.extend(renamed);
        }
    }
    notes
}

/// Whether a schema (or what its `$ref` names) is an object or a composition.
fn is_object(schema: &ReferenceOr<Schema>, components: Option<&Components>) -> bool {
    let resolved = resolve(schema, components);
    resolved.is_some_and(|s| {
        matches!(
            s.schema_kind,
            SchemaKind::Type(Type::Object(_))
                | SchemaKind::AllOf { .. }
                | SchemaKind::OneOf { .. }
                | SchemaKind::AnyOf { .. }
        )
    })
}

/// Whether `schema` is an array.
fn is_array(schema: &ReferenceOr<Schema>, components: Option<&Components>) -> bool {
    resolve(schema, components)
        .is_some_and(|s| matches!(s.schema_kind, SchemaKind::Type(Type::Array(_))))
}

/// progenitor cannot send `deepObject` query parameters, and stops (an
/// assertion) on a query or header parameter whose schema is an inline
/// object: it would get a builder, which only bodies may have. Its copy
/// leaves both out.
fn drop_deep_objects(op: &mut Operation, components: Option<&Components>) -> Vec<String> {
    let inline_object = |data: &openapiv3::ParameterData| matches!(&data.format, ParameterSchemaOrContent::Schema(s @ ReferenceOr::Item(_)) if is_object(s, components));
    let mut notes = Vec::new();
    op.parameters.retain(|p| match resolve(p, components) {
        Some(Parameter::Query {
            parameter_data,
            style: QueryStyle::DeepObject,
            ..
        }) => {
            notes.push(format!(
                "The deepObject query parameter `{}` is not sent by this client.",
                parameter_data.name
            ));
            false
        }
        Some(
            Parameter::Query { parameter_data, .. } | Parameter::Header { parameter_data, .. },
        ) if inline_object(parameter_data) => {
            notes.push(format!(
                "The parameter `{}` (an inline object) is not sent by this client.",
                parameter_data.name
            ));
            false
        }
        Some(Parameter::Cookie { parameter_data, .. }) => {
            notes.push(cookie_note(&parameter_data.name));
            false
        }
        _ => true,
    });
    notes
}

/// The note for a cookie parameter, which progenitor cannot send.
fn cookie_note(name: &str) -> String {
    format!(
        "The cookie parameter `{name}` is not sent by this client: give the `reqwest::Client` a `Cookie` default header."
    )
}

/// Drops the path item's cookie parameters; returns their notes.
fn drop_shared_cookies(
    params: &mut Vec<ReferenceOr<Parameter>>,
    components: Option<&Components>,
) -> Vec<String> {
    let mut notes = Vec::new();
    params.retain(|p| match resolve(p, components) {
        Some(Parameter::Cookie { parameter_data, .. }) => {
            notes.push(cookie_note(&parameter_data.name));
            false
        }
        _ => true,
    });
    notes
}

/// Turns a query array in a style progenitor cannot send, or a path
/// parameter it cannot format, into one it can; returns the note for the
/// method's docs, if the caller has something to know.
fn joined_string(
    param: &mut ReferenceOr<Parameter>,
    components: Option<&Components>,
) -> Option<String> {
    if let Some(Parameter::Path { parameter_data, .. }) = resolve(param, components)
        && let ParameterSchemaOrContent::Schema(schema) = &parameter_data.format
        && (is_object(schema, components) || is_array(schema, components))
    {
        // A path parameter typed as an object or an array: progenitor
        // would format it with `Display`, which model structs and `Vec`s
        // lack. Send it as a string.
        let mut data = parameter_data.clone();
        let note = format!("The path parameter `{}` is sent as a string.", data.name);
        data.format = ParameterSchemaOrContent::Schema(ReferenceOr::Item(
            serde_json::from_value(serde_json::json!({"type": "string"})).expect("a string schema"),
        ));
        *param = ReferenceOr::Item(Parameter::Path {
            parameter_data: data,
            style: openapiv3::PathStyle::Simple,
        });
        return Some(note);
    }
    if let Some(Parameter::Path { parameter_data, .. }) = resolve(param, components)
        && let ParameterSchemaOrContent::Schema(schema) = &parameter_data.format
        && let Some(resolved) = resolve(schema, components)
        && resolved.schema_data.nullable
    {
        // A path segment is never null, but progenitor types a nullable
        // schema as an `Option`, which it cannot format (nbg.gr, survey
        // seed 2026): its copy is the same schema without `nullable`.
        let mut data = parameter_data.clone();
        let mut schema = resolved.clone();
        schema.schema_data.nullable = false;
        data.format = ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema));
        *param = ReferenceOr::Item(Parameter::Path {
            parameter_data: data,
            style: openapiv3::PathStyle::Simple,
        });
        return None;
    }
    let Parameter::Query {
        parameter_data,
        style,
        ..
    } = resolve(param, components)?.clone()
    else {
        return None;
    };
    let separator = match style {
        QueryStyle::SpaceDelimited => "a space",
        QueryStyle::PipeDelimited => "`|`",
        QueryStyle::Form if parameter_data.explode == Some(false) => "`,`",
        _ => return None,
    };
    let mut data = parameter_data;
    let note = format!(
        "`{}` is sent as one string: join its items with {separator}.",
        data.name
    );
    data.format = ParameterSchemaOrContent::Schema(ReferenceOr::Item(
        serde_json::from_value(serde_json::json!({"type": "string"})).expect("a string schema"),
    ));
    data.explode = None;
    *param = ReferenceOr::Item(Parameter::Query {
        parameter_data: data,
        allow_reserved: false,
        style: QueryStyle::Form,
        allow_empty_value: None,
    });
    Some(note)
}

/// progenitor stops (`todo!`) on a JSON body without a schema and on
/// response encodings: in its copy, such a body is free-form JSON and
/// response encodings are dropped (they only describe multipart parts).
fn free_form_where_no_schema(op: &mut Operation) {
    let json = |media: &str| body_kind(media) == BodyKind::Json;
    if let Some(ReferenceOr::Item(body)) = &mut op.request_body {
        for (_, content) in body.content.iter_mut().filter(|(m, _)| json(m)) {
            content
                .schema
                .get_or_insert_with(|| ReferenceOr::Item(free_form()));
        }
    }
    for (_, response) in responses_mut(op) {
        if let ReferenceOr::Item(response) = response {
            for (media, content) in response.content.iter_mut() {
                content.encoding.clear();
                if json(media) {
                    content
                        .schema
                        .get_or_insert_with(|| ReferenceOr::Item(free_form()));
                }
            }
        }
    }
}

/// A schema that takes any JSON value.
fn free_form() -> Schema {
    Schema {
        schema_data: Default::default(),
        schema_kind: SchemaKind::Any(Default::default()),
    }
}

/// How progenitor types a response: by its `application/json` schema, as
/// an upgraded connection (101), as a raw stream, or as no body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Typed(String),
    Upgrade,
    Raw,
    Empty,
}

fn kind(code: Option<&StatusCode>, response: &ReferenceOr<Response>) -> Kind {
    let ReferenceOr::Item(response) = response else {
        return Kind::Empty;
    };
    let json = response
        .content
        .iter()
        .find(|(m, _)| *m == "application/json" || m.starts_with("application/json;"));
    match json {
        Some((_, content)) => {
            Kind::Typed(serde_json::to_string(&content.schema).unwrap_or_default())
        }
        None if code == Some(&StatusCode::Code(101)) => Kind::Upgrade,
        None if !response.content.is_empty() => Kind::Raw,
        None => Kind::Empty,
    }
}

/// progenitor asserts that all success responses (2xx, 101 and `default`)
/// share one kind of body, and all error responses (4xx, 5xx and
/// `default`) another. Computed on its final copy, as it computes them:
/// responses of another kind than the first of their outcome, and a
/// `default` that cannot match both, are left out of its copy, so the
/// client returns them as unexpected responses.
fn one_kind_per_outcome(op: &mut Operation) -> Vec<String> {
    let outcome = |code: &StatusCode| match code {
        StatusCode::Code(101 | 200..=299) | StatusCode::Range(2) => Some(0),
        StatusCode::Code(400..=599) | StatusCode::Range(4 | 5) => Some(1),
        _ => None,
    };
    let value = |code: &StatusCode| match code {
        StatusCode::Code(c) => *c,
        StatusCode::Range(r) => *r * 100,
    };
    let mut codes: Vec<StatusCode> = op.responses.responses.keys().cloned().collect();
    codes.sort_by_key(value);
    let mut first: [Option<Kind>; 2] = [None, None];
    let mut dropped = Vec::new();
    for code in codes {
        let Some(side) = outcome(&code) else {
            continue;
        };
        let k = kind(Some(&code), &op.responses.responses[&code]);
        match &first[side] {
            None => first[side] = Some(k),
            Some(seen) if *seen == k => {}
            Some(_) => {
                op.responses.responses.shift_remove(&code);
                dropped.push(code.to_string());
            }
        }
    }
    if let Some(default) = &op.responses.default {
        let k = kind(None, default);
        if first.iter().flatten().any(|seen| *seen != k) {
            op.responses.default = None;
            dropped.push("default".into());
        }
    }
    if dropped.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "Responses {} have a body of another kind than the first of their outcome; they are returned as `Error::UnexpectedResponse`.",
        dropped.join(", ")
    )]
}
