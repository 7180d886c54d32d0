//! A JSON value valid against a documented response schema, to answer a
//! refusal in it: required properties are filled by name (`status` the
//! status, `title`/`error` the reason phrase, `code`/`type` the error code,
//! `detail`/`message` the rejection's message, a `date-time` the time),
//! optional ones only when their name says what they hold. Anything else
//! required gets a valid constant: the schema's `default`, its first
//! `enum` value, or the least value its bounds allow.

use openapiv3::{
    Components, ReferenceOr, Schema, SchemaKind, StringFormat, Type, VariantOrUnknownOrEmpty,
};
use serde_json::{Map, Value, json};

use crate::spec::refs::{component_name, resolve};

/// Nesting deeper than this gives up (recursive schemas).
const MAX_DEPTH: usize = 8;

/// The template (JSON text) and its slots: JSON pointer, and the most
/// characters of the message it takes (`None`: the time).
pub(crate) type Template = (String, Vec<(String, Option<u32>)>);

/// A value valid against `schema` carrying `status`, `code`, `title` and
/// slots for the message; `None` when the schema asks for something this
/// cannot make (a `pattern`, an unknown `format`, a non-empty array).
pub(crate) fn template(
    schema: &ReferenceOr<Schema>,
    components: Option<&Components>,
    status: u16,
    code: &str,
    title: &str,
) -> Option<Template> {
    let mut filler = Filler {
        components,
        status,
        code,
        title,
        slots: Vec::new(),
    };
    let value = filler.value(resolve(schema, components)?, "", Role::of(""), 0)?;
    Some((value.to_string(), filler.slots))
}

/// The text a synthesized value's free strings hold.
const SYNTHESIZED: &str = "made by the skeleton from the schema: the spec gives no example";

/// A value valid against `schema` for a success response with `status`
/// the spec gives no example for: the least value its constraints allow,
/// strings saying where it comes from. `None` as for [`template`].
pub(crate) fn synthesized(
    schema: &ReferenceOr<Schema>,
    components: Option<&Components>,
    status: u16,
) -> Option<Value> {
    let (text, slots) = template(schema, components, status, "example", "Example")?;
    let mut value: Value = serde_json::from_str(&text).ok()?;
    for (pointer, max) in slots {
        let text = match max {
            Some(max) => SYNTHESIZED.chars().take(max as usize).collect(),
            None => "1970-01-01T00:00:00Z".to_string(),
        };
        *value.pointer_mut(&pointer)? = Value::String(text);
    }
    Some(value)
}

/// Strings tried against a `pattern`, in order.
const PATTERN_CANDIDATES: &[&str] = &[
    "example", "EXAMPLE", "Example", "AAA", "aaa", "A", "a", "0", "000", "1", "x", "ab", "AB",
];

/// What a property's name says it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Status,
    Code,
    Title,
    Message,
    Other,
}

impl Role {
    fn of(name: &str) -> Self {
        let name: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        match name.as_str() {
            "status" | "statuscode" | "httpstatus" | "httpstatuscode" => Self::Status,
            "code" | "errorcode" | "type" | "errortype" | "kind" => Self::Code,
            "title" | "error" | "reason" | "summary" => Self::Title,
            "detail" | "details" | "message" | "msg" | "description" | "errormessage"
            | "errordescription" | "errordetail" | "text" => Self::Message,
            _ => Self::Other,
        }
    }
}

struct Filler<'a> {
    components: Option<&'a Components>,
    status: u16,
    code: &'a str,
    title: &'a str,
    slots: Vec<(String, Option<u32>)>,
}

impl Filler<'_> {
    /// A value for `schema` at pointer `at`; `null` when that is all a
    /// nullable schema can get.
    fn value(&mut self, schema: &Schema, at: &str, role: Role, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let slots = self.slots.len();
        let value = self.kind(schema, at, role, depth);
        if value.is_none() {
            self.slots.truncate(slots);
        }
        // What the schema cannot be made to hold (a `pattern`, say): its
        // own `default` or `example`, else `null` where that is allowed.
        let data = &schema.schema_data;
        value
            .or_else(|| data.default.clone())
            .or_else(|| data.example.clone())
            .or_else(|| data.nullable.then_some(Value::Null))
    }

    fn kind(&mut self, schema: &Schema, at: &str, role: Role, depth: usize) -> Option<Value> {
        let data = &schema.schema_data;
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                let enumerated: Vec<&str> =
                    s.enumeration.iter().flatten().map(String::as_str).collect();
                if !enumerated.is_empty() {
                    let pick = [self.code, self.title]
                        .into_iter()
                        .find(|w| enumerated.contains(w))
                        .unwrap_or(enumerated[0]);
                    return Some(Value::String(pick.to_string()));
                }
                let max = s
                    .max_length
                    .map_or(u32::MAX, |m| m.min(u32::MAX as usize) as u32);
                let min = s.min_length.unwrap_or(0);
                if let Some(pattern) = &s.pattern {
                    // A few plain words: the first the pattern and the
                    // length bounds allow.
                    let pattern = regress::Regex::new(pattern).ok()?;
                    return PATTERN_CANDIDATES
                        .iter()
                        .find(|c| {
                            let n = c.chars().count();
                            n >= min && n <= max as usize && pattern.find(c).is_some()
                        })
                        .map(|c| Value::String((*c).to_string()));
                }
                let constant = |text: &str| {
                    let n = text.chars().count();
                    (n >= min && n <= max as usize).then(|| Value::String(text.to_string()))
                };
                match &s.format {
                    VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => {
                        self.slots.push((at.to_string(), None));
                        Some(Value::String(String::new()))
                    }
                    VariantOrUnknownOrEmpty::Item(StringFormat::Date) => constant("1970-01-01"),
                    VariantOrUnknownOrEmpty::Item(StringFormat::Byte | StringFormat::Binary) => {
                        constant("")
                    }
                    VariantOrUnknownOrEmpty::Unknown(f) => match f.as_str() {
                        "uri" | "uri-reference" | "iri" => constant("about:blank"),
                        "email" => constant("user@example.com"),
                        "uuid" => constant("00000000-0000-0000-0000-000000000000"),
                        "ipv4" => constant("127.0.0.1"),
                        "ipv6" => constant("::1"),
                        _ => None,
                    },
                    VariantOrUnknownOrEmpty::Empty => match role {
                        Role::Status => constant(&self.status.to_string()),
                        Role::Code => constant(self.code),
                        Role::Title => constant(self.title),
                        Role::Message | Role::Other if min <= 1 && max > 0 => {
                            self.slots.push((at.to_string(), Some(max)));
                            Some(Value::String(String::new()))
                        }
                        _ => None,
                    },
                    _ => data.default.clone().filter(Value::is_string),
                }
            }
            SchemaKind::Type(Type::Integer(i)) => {
                if let Some(first) = i.enumeration.iter().flatten().next() {
                    let status = i64::from(self.status);
                    let pick = if i.enumeration.contains(&Some(status)) {
                        status
                    } else {
                        *first
                    };
                    return Some(json!(pick));
                }
                let low = i.minimum.map(|m| m + i64::from(i.exclusive_minimum));
                let high = i.maximum.map(|m| m - i64::from(i.exclusive_maximum));
                let fits = |v: i64| {
                    low.is_none_or(|l| v >= l)
                        && high.is_none_or(|h| v <= h)
                        && i.multiple_of.is_none_or(|m| m != 0 && v % m == 0)
                };
                let status = i64::from(self.status);
                if role == Role::Status && fits(status) {
                    return Some(json!(status));
                }
                // Zero, moved into the bounds, then the nearest multiple.
                let start = low.map_or(0, |l| l.max(0));
                let start = high.map_or(start, |h| start.min(h));
                (0..1000)
                    .flat_map(|k| [start.checked_add(k), start.checked_sub(k)])
                    .flatten()
                    .find(|v| fits(*v))
                    .map(|v| json!(v))
            }
            SchemaKind::Type(Type::Number(n)) => {
                if let Some(first) = n.enumeration.iter().flatten().next() {
                    return Some(json!(first));
                }
                let status = f64::from(self.status);
                let fits = |v: f64| {
                    n.minimum
                        .is_none_or(|m| if n.exclusive_minimum { v > m } else { v >= m })
                        && n.maximum
                            .is_none_or(|m| if n.exclusive_maximum { v < m } else { v <= m })
                        && n.multiple_of
                            .is_none_or(|m| m != 0.0 && (v / m).fract() == 0.0)
                };
                if role == Role::Status && fits(status) {
                    return Some(json!(self.status));
                }
                [0.0, n.minimum.unwrap_or(0.0), n.maximum.unwrap_or(0.0)]
                    .into_iter()
                    .chain(n.minimum.map(|m| m + n.multiple_of.unwrap_or(1.0)))
                    .find(|v| fits(*v))
                    .map(|v| json!(v))
            }
            SchemaKind::Type(Type::Boolean(b)) => Some(json!(
                b.enumeration
                    .iter()
                    .flatten()
                    .next()
                    .copied()
                    .unwrap_or(false)
            )),
            SchemaKind::Type(Type::Array(a)) => {
                (a.min_items.unwrap_or(0) == 0).then(|| Value::Array(Vec::new()))
            }
            SchemaKind::Type(Type::Object(o)) => {
                let properties: Vec<(&String, &ReferenceOr<Box<Schema>>)> =
                    o.properties.iter().collect();
                self.object(&properties, &o.required, o.min_properties, at, depth)
            }
            SchemaKind::AllOf { all_of } => {
                // One part (a `$ref` with siblings, downgraded): that part.
                if let [only] = all_of.as_slice() {
                    let only = resolve(only, self.components)?;
                    return self.value(only, at, role, depth + 1);
                }
                // Objects: their properties and requirements together.
                let mut properties = Vec::new();
                let mut required = Vec::new();
                for part in all_of {
                    let part = resolve(part, self.components)?;
                    let SchemaKind::Type(Type::Object(o)) = &part.schema_kind else {
                        return None;
                    };
                    properties.extend(o.properties.iter());
                    required.extend(o.required.iter().cloned());
                }
                self.object(&properties, &required, None, at, depth)
            }
            SchemaKind::OneOf {
                one_of: alternatives,
            }
            | SchemaKind::AnyOf {
                any_of: alternatives,
            } => {
                // Only one alternative can be trusted to match alone.
                let [only] = alternatives.as_slice() else {
                    return None;
                };
                let only = resolve(only, self.components)?;
                self.value(only, at, role, depth + 1)
            }
            SchemaKind::Any(any) if !any.enumeration.is_empty() => any.enumeration.first().cloned(),
            SchemaKind::Any(any)
                if any.typ.is_none() && any.properties.is_empty() && any.enumeration.is_empty() =>
            {
                // Unconstrained: the message, as a string.
                self.slots.push((at.to_string(), Some(u32::MAX)));
                Some(Value::String(String::new()))
            }
            _ => data.default.clone(),
        }
    }

    fn object(
        &mut self,
        properties: &[(&String, &ReferenceOr<Box<Schema>>)],
        required: &[String],
        min_properties: Option<usize>,
        at: &str,
        depth: usize,
    ) -> Option<Value> {
        let mut out = Map::new();
        for (name, schema) in properties {
            let role = Role::of(name);
            let needed = required.contains(name);
            if !needed && role == Role::Other {
                continue;
            }
            let Some(schema) = resolve_boxed(schema, self.components) else {
                if needed {
                    return None;
                }
                continue;
            };
            if schema.schema_data.write_only && !needed {
                continue;
            }
            let pointer = format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"));
            match self.value(schema, &pointer, role, depth + 1) {
                Some(v) => {
                    out.insert((*name).clone(), v);
                }
                None if needed => return None,
                None => {}
            }
        }
        // Required names the properties do not describe: any value.
        for name in required {
            if !out.contains_key(name) && !properties.iter().any(|(n, _)| *n == name) {
                out.insert(name.clone(), Value::String(self.title.to_string()));
            }
        }
        (out.len() >= min_properties.unwrap_or(0)).then_some(Value::Object(out))
    }
}

/// A property schema, followed through `$ref`s.
fn resolve_boxed<'a>(
    schema: &'a ReferenceOr<Box<Schema>>,
    components: Option<&'a Components>,
) -> Option<&'a Schema> {
    match schema {
        ReferenceOr::Item(s) => Some(s),
        ReferenceOr::Reference { reference } => {
            let name = component_name::<Schema>(reference)?;
            resolve(components?.schemas.get(name)?, components)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template for `schema` (YAML, OpenAPI 3.0) with its slots filled,
    /// checked against the same schema read as JSON Schema by `jsonschema`.
    fn filled(schema: &str) -> Option<Value> {
        let parsed: Schema = serde_yaml::from_str(schema).unwrap();
        let (text, slots) = template(
            &ReferenceOr::Item(parsed),
            None,
            400,
            "bad_request",
            "Bad Request",
        )?;
        let mut value: Value = serde_json::from_str(&text).unwrap();
        for (pointer, max) in slots {
            let text = match max {
                Some(max) => "a message".chars().take(max as usize).collect(),
                None => "2026-12-06T01:00:00Z".to_string(),
            };
            *value.pointer_mut(&pointer).unwrap() = Value::String(text);
        }
        let json_schema: Value = serde_yaml::from_str(schema).unwrap();
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&json_schema)
            .unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{value} breaks {schema}: {errors:?}");
        Some(value)
    }

    #[test]
    fn a_problem_gets_its_title_and_the_message() {
        let value = filled(
            "{type: object, required: [title], properties: {title: {type: string}, detail: {type: string}, instance: {type: string}}}",
        );
        assert_eq!(
            value,
            Some(json!({"title": "Bad Request", "detail": "a message"}))
        );
    }

    #[test]
    fn required_fields_get_values_their_schema_allows() {
        let value = filled(
            r#"
type: object
additionalProperties: false
required: [status, code, type, at, count, ok, nested, list, label]
properties:
  status: { type: integer, minimum: 100, maximum: 599 }
  code: { type: string, enum: [not_found, bad_request] }
  type: { type: string, format: uri }
  at: { type: string, format: date-time }
  count: { type: integer, minimum: 3, multipleOf: 2 }
  ok: { type: boolean }
  nested: { type: object, required: [message], properties: { message: { type: string, maxLength: 4 } } }
  list: { type: array, items: { type: string } }
  label: { type: string }
"#,
        )
        .unwrap();
        assert_eq!(value["status"], 400);
        assert_eq!(value["code"], "bad_request");
        assert_eq!(value["type"], "about:blank");
        assert_eq!(value["count"], 4);
        assert_eq!(value["nested"]["message"], "a me");
        assert_eq!(value["label"], "a message");
    }

    #[test]
    fn a_status_out_of_bounds_is_not_forced_and_patterns_take_a_word_that_fits() {
        let value = filled(
            "{type: object, required: [status], properties: {status: {type: integer, maximum: 10}}}",
        );
        assert_eq!(value, Some(json!({"status": 0})));
        assert_eq!(
            filled(
                "{type: object, required: [id], properties: {id: {type: string, pattern: '^[A-Z]{3}$'}}}"
            ),
            Some(json!({"id": "AAA"}))
        );
        assert_eq!(
            filled(
                "{type: object, required: [id], properties: {id: {type: string, pattern: '^[0-9]{5}$'}}}"
            ),
            None
        );
        assert_eq!(
            filled(
                "{type: object, required: [items], properties: {items: {type: array, minItems: 1, items: {type: string}}}}"
            ),
            None
        );
    }
}
