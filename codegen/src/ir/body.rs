//! Request bodies and the Rust types bodies decode into.

use openapiv3::{Components, MediaType, ReferenceOr, RequestBody, Schema, SchemaKind, Type};

use super::{Body, BodyKind, RustType};
use crate::names::type_name;
use crate::spec::media::{body_kind, preferred_media};
use crate::spec::refs::{component_name, resolve};

/// The request body: its preferred media type, and the others that decode
/// into the same type.
pub(super) fn request_body(
    body: Option<&ReferenceOr<RequestBody>>,
    components: Option<&Components>,
) -> Result<Option<Body>, String> {
    let Some(body) = body.and_then(|b| resolve(b, components)) else {
        return Ok(None);
    };
    let Some((media, content)) = preferred_media(&body.content) else {
        return Ok(None);
    };
    let ty = body_type(media, content)?;
    let also = body
        .content
        .iter()
        .filter(|(other, content)| *other != media && body_type(other, content).as_ref() == Ok(&ty))
        .map(|(other, _)| (other.clone(), body_kind(other)))
        .collect();
    Ok(Some(Body {
        media: media.clone(),
        kind: body_kind(media),
        ty,
        also,
        schema: matches!(body_kind(media), BodyKind::Json | BodyKind::Form)
            .then(|| content.schema.clone())
            .flatten(),
        required: body.required,
    }))
}

/// The Rust type a request body of `media` decodes into.
pub fn body_type(media: &str, content: &MediaType) -> Result<RustType, String> {
    Ok(match (body_kind(media), &content.schema) {
        (BodyKind::Text, _) => RustType::String,
        (BodyKind::Bytes, _) => RustType::Bytes,
        (_, Some(schema)) => rust_type(schema)?,
        (_, None) => RustType::Json,
    })
}

/// The Rust type of a JSON body's schema: a component schema by name;
/// strings and anything else left inline (behind a `$ref`ed body, say) as
/// a string or free-form JSON.
pub(super) fn rust_type(schema: &ReferenceOr<Schema>) -> Result<RustType, String> {
    match schema {
        ReferenceOr::Reference { reference } => component_name::<Schema>(reference)
            .map(|name| RustType::Model(type_name(name)))
            .ok_or_else(|| format!("unsupported schema reference {reference}")),
        ReferenceOr::Item(s) => match &s.schema_kind {
            SchemaKind::Type(Type::String(_)) => Ok(RustType::String),
            _ => Ok(RustType::Json),
        },
    }
}
