//! Parameters by location, with their types, array styles and defaults.

use openapiv3::{
    Components, Parameter, ParameterData, ParameterSchemaOrContent, QueryStyle, ReferenceOr,
    Schema, SchemaKind, Type, VariantOrUnknownOrEmpty,
};

use super::{ArrayStyle, Location, Param, ParamType};
use crate::spec::integers::unbounded;
use crate::spec::paths::template_names;
use crate::spec::refs::resolve;

/// The parameters of an operation by location: path (in template order),
/// query, header and cookie (in spec order). deepObject query parameters are
/// left out (linted: left to the implementation).
pub(super) fn by_location<'a>(
    path: &str,
    params: impl Iterator<Item = &'a ReferenceOr<Parameter>>,
    components: Option<&Components>,
) -> [Vec<Param>; 4] {
    let mut out: [Vec<Param>; 4] = Default::default();
    for p in params.filter_map(|p| resolve(p, components)) {
        let Some((location, data, style)) = located(p) else {
            continue;
        };
        let required = data.required || location == Location::Path;
        let slot = match location {
            Location::Path => 0,
            Location::Query => 1,
            Location::Header => 2,
            Location::Cookie => 3,
        };
        out[slot].push(param(data, style, required, components));
    }
    let order: Vec<&str> = template_names(path).collect();
    out[0].sort_by_key(|p| order.iter().position(|n| *n == p.name));
    out
}

/// Where a parameter travels, its data, and the style of an array value.
fn located(p: &Parameter) -> Option<(Location, &ParameterData, Option<ArrayStyle>)> {
    match p {
        Parameter::Path { parameter_data, .. } => Some((Location::Path, parameter_data, None)),
        Parameter::Query {
            style: QueryStyle::DeepObject,
            ..
        } => None,
        Parameter::Cookie { parameter_data, .. } => {
            // Form style: an array is one cookie of comma-separated items,
            // or (exploded) the cookie repeated.
            let style = if parameter_data.explode == Some(true) {
                ArrayStyle::FormExploded
            } else {
                ArrayStyle::FormCommas
            };
            Some((Location::Cookie, parameter_data, Some(style)))
        }
        Parameter::Query {
            parameter_data,
            style,
            ..
        } => {
            let style = match style {
                QueryStyle::SpaceDelimited => ArrayStyle::SpaceDelimited,
                QueryStyle::PipeDelimited => ArrayStyle::PipeDelimited,
                _ if parameter_data.explode == Some(false) => ArrayStyle::FormCommas,
                _ => ArrayStyle::FormExploded,
            };
            Some((Location::Query, parameter_data, Some(style)))
        }
        Parameter::Header { parameter_data, .. } => Some((
            Location::Header,
            parameter_data,
            Some(ArrayStyle::FormCommas),
        )),
    }
}

fn param(
    data: &ParameterData,
    style: Option<ArrayStyle>,
    required: bool,
    components: Option<&Components>,
) -> Param {
    let schema = match &data.format {
        ParameterSchemaOrContent::Schema(schema) => Some(schema.clone()),
        ParameterSchemaOrContent::Content(_) => None,
    };
    let (ty, array, default) = match &data.format {
        ParameterSchemaOrContent::Schema(schema) => {
            let resolved = resolve(schema, components);
            match resolved.map(|s| &s.schema_kind) {
                Some(SchemaKind::Type(Type::Array(a))) => {
                    let item = a
                        .items
                        .as_ref()
                        .map(|i| i.clone().unbox())
                        .map_or(ParamType::String, |i| param_type(resolve(&i, components)));
                    (item, style, None)
                }
                _ => (
                    param_type(resolved),
                    None,
                    resolved.and_then(|s| s.schema_data.default.clone()),
                ),
            }
        }
        ParameterSchemaOrContent::Content(_) => (ParamType::String, None, None),
    };
    Param {
        name: data.name.clone(),
        ty,
        array,
        required,
        default,
        schema,
    }
}

fn param_type(schema: Option<&Schema>) -> ParamType {
    match schema.map(|s| &s.schema_kind) {
        Some(SchemaKind::Type(Type::String(s))) => match &s.format {
            VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => ParamType::Uuid,
            _ => ParamType::String,
        },
        Some(SchemaKind::Type(Type::Integer(i))) => {
            let format = match &i.format {
                VariantOrUnknownOrEmpty::Item(f) => Some(match f {
                    openapiv3::IntegerFormat::Int32 => "int32",
                    openapiv3::IntegerFormat::Int64 => "int64",
                }),
                VariantOrUnknownOrEmpty::Unknown(f) => Some(f.as_str()),
                VariantOrUnknownOrEmpty::Empty => None,
            };
            let bound = |b: Option<i64>| b.map(|b| b as f64);
            if unbounded(
                format,
                bound(i.minimum),
                bound(i.maximum),
                !i.enumeration.is_empty(),
            ) {
                ParamType::AnyInteger
            } else {
                ParamType::Integer
            }
        }
        Some(SchemaKind::Type(Type::Number(_))) => ParamType::Number,
        Some(SchemaKind::Type(Type::Boolean(_))) => ParamType::Boolean,
        _ => ParamType::String,
    }
}
