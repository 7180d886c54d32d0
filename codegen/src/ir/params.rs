//! Parameters by location, with their types, array styles and defaults.

use openapiv3::{
    Components, Parameter, ParameterData, ParameterSchemaOrContent, QueryStyle, ReferenceOr,
    Schema, SchemaKind, Type, VariantOrUnknownOrEmpty,
};

use super::{ArrayStyle, Location, Param, ParamType};
use crate::spec::paths::template_names;
use crate::spec::refs::resolve;

/// The parameters of an operation by location: path (in template order),
/// query and header (in spec order). deepObject query and cookie parameters
/// are left out (linted: left to the implementation).
pub(super) fn by_location<'a>(
    path: &str,
    params: impl Iterator<Item = &'a ReferenceOr<Parameter>>,
    components: Option<&Components>,
) -> [Vec<Param>; 3] {
    let mut out: [Vec<Param>; 3] = Default::default();
    for p in params.filter_map(|p| resolve(p, components)) {
        let Some((location, data, style)) = located(p) else {
            continue;
        };
        let required = data.required || location == Location::Path;
        let slot = match location {
            Location::Path => 0,
            Location::Query => 1,
            Location::Header => 2,
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
        }
        | Parameter::Cookie { .. } => None,
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
        Some(SchemaKind::Type(Type::Integer(_))) => ParamType::Integer,
        Some(SchemaKind::Type(Type::Number(_))) => ParamType::Number,
        Some(SchemaKind::Type(Type::Boolean(_))) => ParamType::Boolean,
        _ => ParamType::String,
    }
}
