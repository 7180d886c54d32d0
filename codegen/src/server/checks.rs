//! The generated `validate` module: one Rust function per schema (component
//! schemas by name, inline ones named after where they sit) checking a
//! `serde_json::Value` against it, plus one response check per operation.
//!
//! Every keyword becomes code at generation time; nothing interprets a
//! schema while a request is served. Each function returns the first
//! violation, with the JSON pointer of the failing value and the rule.

use std::collections::BTreeMap;

use openapiv3::{
    AdditionalProperties, Components, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{ToTokens, format_ident, quote};
use serde_json::Value;

use super::rust::Unique;
use crate::model::{Operation, Param, ParamType, Status};
use crate::spec::refs::{component_name, resolve};

/// The schema keywords a check is generated from: every typed schema kind
/// of `openapiv3` folded into one shape.
#[derive(Default)]
struct Keywords {
    nullable: bool,
    ty: Option<&'static str>,
    enumeration: Vec<Value>,
    format: Option<String>,
    pattern: Option<String>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    /// Bound and whether it is exclusive.
    minimum: Option<(f64, bool)>,
    maximum: Option<(f64, bool)>,
    multiple_of: Option<f64>,
    properties: Vec<(String, ReferenceOr<Schema>)>,
    required: Vec<String>,
    additional: Option<AdditionalProperties>,
    min_properties: Option<usize>,
    max_properties: Option<usize>,
    items: Option<ReferenceOr<Schema>>,
    min_items: Option<usize>,
    max_items: Option<usize>,
    unique_items: bool,
    /// A 3.1 tuple's position schemas (kept by the 3.1 rewrite).
    prefix_items: Vec<ReferenceOr<Schema>>,
    one_of: Vec<ReferenceOr<Schema>>,
    any_of: Vec<ReferenceOr<Schema>>,
    all_of: Vec<ReferenceOr<Schema>>,
    not: Option<ReferenceOr<Schema>>,
}

fn unbox(r: &ReferenceOr<Box<Schema>>) -> ReferenceOr<Schema> {
    r.clone().unbox()
}

fn values<T: Clone + Into<Value>>(list: &[Option<T>]) -> Vec<Value> {
    list.iter()
        .map(|v| v.clone().map_or(Value::Null, Into::into))
        .collect()
}

impl Keywords {
    fn of(schema: &Schema) -> Self {
        let mut k = Self {
            nullable: schema.schema_data.nullable,
            prefix_items: schema
                .schema_data
                .extensions
                .get(crate::downgrade::PREFIX_ITEMS)
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default(),
            ..Self::default()
        };
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                k.ty = Some("string");
                k.format = match &s.format {
                    VariantOrUnknownOrEmpty::Item(StringFormat::Date) => Some("date".into()),
                    VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => {
                        Some("date-time".into())
                    }
                    VariantOrUnknownOrEmpty::Item(StringFormat::Byte) => Some("byte".into()),
                    VariantOrUnknownOrEmpty::Unknown(f) => Some(f.clone()),
                    _ => None,
                };
                k.pattern = s.pattern.clone();
                k.enumeration = values(&s.enumeration);
                k.min_length = s.min_length;
                k.max_length = s.max_length;
            }
            SchemaKind::Type(Type::Number(n)) => {
                k.ty = Some("number");
                k.multiple_of = n.multiple_of;
                k.minimum = n.minimum.map(|m| (m, n.exclusive_minimum));
                k.maximum = n.maximum.map(|m| (m, n.exclusive_maximum));
                k.enumeration = values(&n.enumeration);
            }
            SchemaKind::Type(Type::Integer(n)) => {
                k.ty = Some("integer");
                k.multiple_of = n.multiple_of.map(|m| m as f64);
                k.minimum = n.minimum.map(|m| (m as f64, n.exclusive_minimum));
                k.maximum = n.maximum.map(|m| (m as f64, n.exclusive_maximum));
                k.enumeration = values(&n.enumeration);
                if let VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32) = n.format {
                    k.minimum = k.minimum.or(Some((f64::from(i32::MIN), false)));
                    k.maximum = k.maximum.or(Some((f64::from(i32::MAX), false)));
                }
            }
            SchemaKind::Type(Type::Boolean(b)) => {
                k.ty = Some("boolean");
                k.enumeration = values(&b.enumeration);
            }
            SchemaKind::Type(Type::Object(o)) => {
                k.ty = Some("object");
                k.properties = o
                    .properties
                    .iter()
                    .map(|(n, s)| (n.clone(), unbox(s)))
                    .collect();
                k.required = o.required.clone();
                k.additional = o.additional_properties.clone();
                k.min_properties = o.min_properties;
                k.max_properties = o.max_properties;
            }
            SchemaKind::Type(Type::Array(a)) => {
                k.ty = Some("array");
                k.items = a.items.as_ref().map(unbox);
                k.min_items = a.min_items;
                k.max_items = a.max_items;
                k.unique_items = a.unique_items;
            }
            SchemaKind::OneOf { one_of } => k.one_of = one_of.clone(),
            SchemaKind::AnyOf { any_of } => k.any_of = any_of.clone(),
            SchemaKind::AllOf { all_of } => k.all_of = all_of.clone(),
            SchemaKind::Not { not } => k.not = Some((**not).clone()),
            SchemaKind::Any(a) => {
                k.ty = match a.typ.as_deref() {
                    Some("string") => Some("string"),
                    Some("number") => Some("number"),
                    Some("integer") => Some("integer"),
                    Some("boolean") => Some("boolean"),
                    Some("object") => Some("object"),
                    Some("array") => Some("array"),
                    _ => None,
                };
                k.pattern = a.pattern.clone();
                k.multiple_of = a.multiple_of;
                k.minimum = a.minimum.map(|m| (m, a.exclusive_minimum.unwrap_or(false)));
                k.maximum = a.maximum.map(|m| (m, a.exclusive_maximum.unwrap_or(false)));
                k.properties = a
                    .properties
                    .iter()
                    .map(|(n, s)| (n.clone(), unbox(s)))
                    .collect();
                k.required = a.required.clone();
                k.additional = a.additional_properties.clone();
                k.min_properties = a.min_properties;
                k.max_properties = a.max_properties;
                k.items = a.items.as_ref().map(unbox);
                k.min_items = a.min_items;
                k.max_items = a.max_items;
                k.unique_items = a.unique_items.unwrap_or(false);
                k.enumeration = a.enumeration.clone();
                k.format = a.format.clone();
                k.min_length = a.min_length;
                k.max_length = a.max_length;
                k.one_of = a.one_of.clone();
                k.any_of = a.any_of.clone();
                k.all_of = a.all_of.clone();
                k.not = a.not.as_ref().map(|n| (**n).clone());
            }
        }
        k
    }
}

/// A check function: generated into the `validate` module, or, for a
/// schema that names a JSON type and nothing else, one of
/// `stub_runtime::json_type`'s (the same for every spec, so not generated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckFn {
    /// `validate::{name}`.
    Local(Ident),
    /// `stub_runtime::json_type::{name}`.
    JsonType(&'static str),
}

impl CheckFn {
    /// The function's path outside the `validate` module.
    pub fn outside(&self) -> TokenStream {
        match self {
            Self::Local(f) => quote!(validate::#f),
            Self::JsonType(_) => self.to_token_stream(),
        }
    }
}

impl ToTokens for CheckFn {
    /// The function's path inside the `validate` module.
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Self::Local(f) => f.to_tokens(tokens),
            Self::JsonType(name) => {
                let name = format_ident!("{name}");
                tokens.extend(quote!(stub_runtime::json_type::#name));
            }
        }
    }
}

/// The JSON type `schema` names when it says nothing else (a check of it
/// would be the type test alone), as `stub_runtime::json_type` names it.
fn plain_type(schema: &Schema) -> Option<&'static str> {
    let k = Keywords::of(schema);
    let only_type = !k.nullable
        && k.enumeration.is_empty()
        && k.format.as_deref().is_none_or(|f| !stub_runtime_format(f))
        && k.pattern.is_none()
        && k.min_length.is_none_or(|n| n == 0)
        && k.max_length.is_none()
        && k.minimum.is_none()
        && k.maximum.is_none()
        && k.multiple_of.is_none()
        && k.properties.is_empty()
        && k.required.is_empty()
        && matches!(k.additional, None | Some(AdditionalProperties::Any(true)))
        && k.min_properties.is_none_or(|n| n == 0)
        && k.max_properties.is_none()
        && k.items.is_none()
        && k.prefix_items.is_empty()
        && k.min_items.is_none_or(|n| n == 0)
        && k.max_items.is_none()
        && !k.unique_items
        && k.one_of.is_empty()
        && k.any_of.is_empty()
        && k.all_of.is_empty()
        && k.not.is_none();
    only_type.then_some(k.ty).flatten()
}

/// One statement of a check: an `if` (kept apart so that a lone one joins
/// its guard, as clippy's `collapsible_if` wants), or anything else.
enum Step {
    If(TokenStream, TokenStream),
    Stmt(TokenStream),
}

impl Step {
    fn render(&self) -> TokenStream {
        match self {
            Self::If(cond, body) => quote!(if #cond { #body }),
            Self::Stmt(s) => s.clone(),
        }
    }
}

/// `steps` under `guard` (`let Some(s) = v.as_str()`), joined into one
/// `if` when there is one; `None` when there are none.
fn guarded(guard: TokenStream, steps: &[Step]) -> Option<Step> {
    match steps {
        [] => None,
        [Step::If(cond, body)] => Some(Step::If(quote!(#guard && #cond), body.clone())),
        _ => {
            let steps = steps.iter().map(Step::render);
            Some(Step::If(guard, quote!(#(#steps)*)))
        }
    }
}

/// The generated `validate` module under construction.
pub struct Checks<'a> {
    components: Option<&'a Components>,
    names: Unique,
    /// Component schema name -> its function.
    component_fns: BTreeMap<String, CheckFn>,
    fns: Vec<TokenStream>,
    /// Whether the function being generated passes on its `dir` argument.
    uses_dir: bool,
}

impl<'a> Checks<'a> {
    /// The module with one function per component schema.
    pub fn new(components: Option<&'a Components>) -> Self {
        let mut checks = Self {
            components,
            // What `stub_runtime::prelude::validate` brings into the module.
            names: Unique::new(&[
                "property",
                "required_key",
                "required_in",
                "read_only",
                "write_only",
            ]),
            component_fns: BTreeMap::new(),
            fns: Vec::new(),
            uses_dir: false,
        };
        let schemas: Vec<(String, ReferenceOr<Schema>)> = components
            .map(|c| {
                c.schemas
                    .iter()
                    .map(|(n, s)| (n.clone(), s.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for (name, schema) in &schemas {
            let f = match schema {
                ReferenceOr::Item(s) if let Some(ty) = plain_type(s) => CheckFn::JsonType(ty),
                _ => CheckFn::Local(checks.names.field(&format!("schema_{name}"))),
            };
            checks.component_fns.insert(name.clone(), f);
        }
        for (name, schema) in &schemas {
            let CheckFn::Local(f) = checks.component_fns[name].clone() else {
                continue;
            };
            let doc = format!("Checks a value against the `{name}` schema.");
            match schema {
                ReferenceOr::Item(s) => checks.emit(&f, &doc, s),
                ReferenceOr::Reference { .. } => {
                    let body = checks
                        .call(schema, &f.to_string())
                        .map(|g| (quote!(#g(v, at, dir)?;), true));
                    checks.emit_body(&f, &doc, body);
                }
            }
        }
        checks
    }

    /// The function checking `schema` (a component's, or a new one named
    /// after `hint`), or `None` when it checks nothing.
    pub fn call(&mut self, schema: &ReferenceOr<Schema>, hint: &str) -> Option<CheckFn> {
        match schema {
            ReferenceOr::Reference { reference } => {
                let name = component_name::<Schema>(reference)?;
                self.component_fns.get(name).cloned()
            }
            ReferenceOr::Item(s) => {
                if let Some(ty) = plain_type(s) {
                    return Some(CheckFn::JsonType(ty));
                }
                let body = self.body(s, hint)?;
                let f = self.names.field(hint);
                let doc = "Checks a value against an inline schema.".to_string();
                self.push(&f, &doc, body);
                Some(CheckFn::Local(f))
            }
        }
    }

    fn emit(&mut self, f: &Ident, doc: &str, schema: &Schema) {
        let body = self.body(schema, &f.to_string());
        self.emit_body(f, doc, body);
    }

    fn emit_body(&mut self, f: &Ident, doc: &str, body: Option<(TokenStream, bool)>) {
        match body {
            Some(body) => self.push(f, doc, body),
            None => self.fns.push(quote! {
                #[doc = #doc]
                pub fn #f(_: &Value, _: &Pointer<'_>, _: Direction) -> Result<(), Violation> {
                    Ok(())
                }
            }),
        }
    }

    fn push(&mut self, f: &Ident, doc: &str, (body, uses_dir): (TokenStream, bool)) {
        let dir = if uses_dir { quote!(dir) } else { quote!(_dir) };
        self.fns.push(quote! {
            #[doc = #doc]
            pub fn #f(v: &Value, at: &Pointer<'_>, #dir: Direction) -> Result<(), Violation> {
                #body
                Ok(())
            }
        });
    }

    /// Whether a property's schema is `readOnly` / `writeOnly`.
    fn access(&self, schema: &ReferenceOr<Schema>) -> (bool, bool) {
        resolve(schema, self.components)
            .map(|s| (s.schema_data.read_only, s.schema_data.write_only))
            .unwrap_or_default()
    }

    /// The statements checking `v` (at `at`) against `schema`, and whether
    /// they use `dir`; `None` when they would check nothing.
    fn body(&mut self, schema: &Schema, hint: &str) -> Option<(TokenStream, bool)> {
        let outer = std::mem::replace(&mut self.uses_dir, false);
        let body = self.statements(schema, hint);
        let uses_dir = std::mem::replace(&mut self.uses_dir, outer);
        body.map(|b| (b, uses_dir))
    }

    /// The function `f` checking `schema`, if it checks anything; the
    /// caller then passes `dir` on.
    fn call_passing_dir(&mut self, schema: &ReferenceOr<Schema>, hint: &str) -> Option<CheckFn> {
        let f = self.call(schema, hint)?;
        self.uses_dir = true;
        Some(f)
    }

    fn statements(&mut self, schema: &Schema, hint: &str) -> Option<TokenStream> {
        let k = Keywords::of(schema);
        let mut out = Vec::new();
        if let Some(ty) = k.ty {
            // `stub_runtime::json_type` has one check per JSON type.
            let f = format_ident!("{ty}");
            out.push(quote!(stub_runtime::json_type::#f(v, at, dir)?;));
            self.uses_dir = true;
        }
        if !k.enumeration.is_empty() {
            out.push(enumeration(&k.enumeration));
        }
        out.extend(numbers(&k));
        out.extend(lengths(&k));
        out.extend(strings(&k));
        out.extend(self.arrays(&k, hint));
        out.extend(self.objects(&k, hint).map(|s| s.render()));
        out.extend(self.composition(&k, hint));
        if out.is_empty() {
            return None;
        }
        let null = k.nullable.then(|| {
            quote!(if v.is_null() {
                return Ok(());
            })
        });
        Some(quote!(#null #(#out)*))
    }

    /// The `stub_runtime::array` calls checking the array keywords, in
    /// order: count, uniqueness, each position, every item.
    fn arrays(&mut self, k: &Keywords, hint: &str) -> Vec<TokenStream> {
        let mut out = Vec::new();
        if let Some(count) = counts(k.min_items, k.max_items) {
            out.push(quote!(stub_runtime::array::count(v, at, #count)?;));
        }
        if k.unique_items {
            out.push(quote!(stub_runtime::array::unique(v, at)?;));
        }
        for (i, position) in k.prefix_items.iter().enumerate() {
            if let Some(f) = self.call_passing_dir(position, &format!("{hint}_position_{i}")) {
                out.push(quote!(stub_runtime::array::position(v, at, dir, #i, #f)?;));
            }
        }
        if let Some(f) = k
            .items
            .as_ref()
            .and_then(|i| self.call_passing_dir(i, &format!("{hint}_items")))
        {
            out.push(quote!(stub_runtime::array::items(v, at, dir, #f)?;));
        }
        out
    }

    fn objects(&mut self, k: &Keywords, hint: &str) -> Option<Step> {
        let mut out = Vec::new();
        for name in &k.required {
            let (read_only, write_only) = k
                .properties
                .iter()
                .find(|(n, _)| n == name)
                .map_or((false, false), |(_, s)| self.access(s));
            // A `readOnly` property is required in responses only, a
            // `writeOnly` one in requests only.
            let require = match (read_only, write_only) {
                (true, _) => quote!(required_in(o, at, #name, dir, Direction::Response)?;),
                (_, true) => quote!(required_in(o, at, #name, dir, Direction::Request)?;),
                _ => quote!(required_key(o, at, #name)?;),
            };
            self.uses_dir |= read_only || write_only;
            out.push(Step::Stmt(require));
        }
        if let Some(count) = counts(k.min_properties, k.max_properties) {
            out.push(Step::Stmt(
                quote!(stub_runtime::property_count(o, at, #count)?;),
            ));
        }
        for (name, schema) in &k.properties {
            let (read_only, write_only) = self.access(schema);
            if read_only {
                out.push(Step::Stmt(quote!(read_only(o, at, #name, dir)?;)));
            }
            if write_only {
                out.push(Step::Stmt(quote!(write_only(o, at, #name, dir)?;)));
            }
            self.uses_dir |= read_only || write_only;
            if let Some(f) = self.call_passing_dir(schema, &format!("{hint}_{name}")) {
                out.push(Step::Stmt(quote!(property(o, #name, at, dir, #f)?;)));
            }
        }
        let names = k.properties.iter().map(|(n, _)| n.as_str());
        match &k.additional {
            Some(AdditionalProperties::Any(false)) => out.push(Step::Stmt(
                quote!(stub_runtime::no_other_properties(o, at, &[#(#names),*])?;),
            )),
            Some(AdditionalProperties::Schema(s)) => {
                if let Some(f) = self.call_passing_dir(s, &format!("{hint}_additional")) {
                    out.push(Step::Stmt(
                        quote!(stub_runtime::other_properties(o, at, dir, &[#(#names),*], #f)?;),
                    ));
                }
            }
            _ => {}
        }
        guarded(quote!(let Some(o) = v.as_object()), &out)
    }

    fn composition(&mut self, k: &Keywords, hint: &str) -> Vec<TokenStream> {
        let mut out = Vec::new();
        let all: Vec<CheckFn> = k
            .all_of
            .iter()
            .enumerate()
            .filter_map(|(i, s)| self.call_passing_dir(s, &format!("{hint}_all_of_{i}")))
            .collect();
        out.extend(all.iter().map(|f| quote!(#f(v, at, dir)?;)));
        let branches = |checks: &mut Self, list: &[ReferenceOr<Schema>], word: &str| {
            list.iter()
                .enumerate()
                .map(|(i, s)| checks.call_passing_dir(s, &format!("{hint}_{word}_{i}")))
                .collect::<Vec<_>>()
        };
        if !k.one_of.is_empty() {
            let each = branches(self, &k.one_of, "one_of")
                .into_iter()
                .map(|f| match f {
                    Some(f) => quote!(Some(#f)),
                    None => quote!(None),
                });
            out.push(quote!(stub_runtime::one_of(v, at, dir, &[#(#each),*])?;));
        }
        if !k.any_of.is_empty() {
            // A branch that checks nothing accepts every value, and so the
            // `anyOf`.
            let each: Option<Vec<CheckFn>> =
                branches(self, &k.any_of, "any_of").into_iter().collect();
            if let Some(each) = each {
                out.push(quote!(stub_runtime::any_of(v, at, dir, &[#(#each),*])?;));
            }
        }
        // `not: {}` (nothing is valid) is left to the implementation.
        if let Some(f) = k
            .not
            .as_ref()
            .and_then(|not| self.call_passing_dir(not, &format!("{hint}_not")))
        {
            out.push(quote!(stub_runtime::not(v, at, dir, #f)?;));
        }
        out
    }

    /// The check of parameter `p` of `op`, when its schema constrains more
    /// than its parsed type already ensures.
    pub fn param(&mut self, op: &Operation, place: &str, p: &Param) -> Option<CheckFn> {
        let schema = p.schema.as_ref()?;
        if !constrains(schema, p.ty, self.components) {
            return None;
        }
        self.call(schema, &format!("{}_{place}_{}", op.id, p.name))
    }

    /// The check of `op`'s JSON or form request body.
    pub fn request_body(&mut self, op: &Operation) -> Option<CheckFn> {
        let schema = op.body.as_ref()?.schema.as_ref()?;
        self.call(schema, &format!("{}_body", op.id))
    }

    /// `{op}_response(status, body)`: the check of each documented JSON
    /// response, by status; `None` when no response has one.
    pub fn responses(&mut self, op: &Operation) -> Option<Ident> {
        let mut arms: Vec<(Status, CheckFn, TokenStream)> = Vec::new();
        let mut only_default = None;
        for r in &op.responses {
            if arms.iter().any(|(s, _, _)| *s == r.status) {
                continue;
            }
            let Some(schema) = &r.schema else { continue };
            let Some(f) = self.call(schema, &format!("{}_response_{}", op.id, r.status)) else {
                continue;
            };
            let pattern = match r.status {
                Status::Code(code) => quote!(#code),
                Status::Range(h) => {
                    let (lo, hi) = (h * 100, h * 100 + 99);
                    quote!(#lo..=#hi)
                }
                Status::Default => {
                    only_default = Some(f.clone());
                    quote!(_)
                }
            };
            arms.push((r.status, f, pattern));
        }
        if arms.is_empty() {
            return None;
        }
        if arms.len() > 1 {
            only_default = None;
        }
        let only_default = only_default.as_ref();
        // A `default` whose schema checks nothing (`{}`) has no arm of its
        // own: the catch-all below answers for it.
        let has_default_arm = arms.iter().any(|(s, _, _)| *s == Status::Default);
        arms.sort_by_key(|(s, _, _)| *s);
        let mut arms: Vec<TokenStream> = group_by_check(arms)
            .into_iter()
            .map(|(f, patterns)| {
                quote!(#(#patterns)|* => #f(v, &Pointer::Root, Direction::Response),)
            })
            .collect();
        if !has_default_arm {
            arms.push(quote!(_ => Ok(()),));
        }
        let f = self.names.field(&format!("{}_response", op.id));
        let doc = format!(
            "Checks a JSON response of `{}` against the schema documented for its status.",
            op.id
        );
        let body = match only_default {
            Some(g) => quote!(#g(v, &Pointer::Root, Direction::Response)),
            None => quote!(match status { #(#arms)* }),
        };
        let status = if only_default.is_some() {
            quote!(_status)
        } else {
            quote!(status)
        };
        self.fns.push(quote! {
            #[doc = #doc]
            pub fn #f(#status: u16, v: &Value) -> Result<(), Violation> {
                #body
            }
        });
        Some(f)
    }

    /// The module.
    pub fn module(self) -> TokenStream {
        let fns = self.fns;
        quote! {
            /// Schema checks generated from the spec: one function per
            /// schema, each returning the first rule a JSON value breaks and
            /// the JSON pointer of the value breaking it.
            pub mod validate {
                use stub_runtime::prelude::validate::*;

                #(#fns)*
            }
        }
    }
}

/// Response arms (sorted by status) grouped by the check they call, one arm
/// per check: codes together and ranges together, in the order of their
/// first status. Codes never overlap each other, nor ranges each other, and
/// every code arm stays before every range arm (and `default` stays alone
/// and last), so no status changes arm.
fn group_by_check(arms: Vec<(Status, CheckFn, TokenStream)>) -> Vec<(CheckFn, Vec<TokenStream>)> {
    let mut groups: Vec<(Status, CheckFn, Vec<TokenStream>)> = Vec::new();
    for (status, f, pattern) in arms {
        let same_kind = |s: &Status| {
            matches!(
                (s, &status),
                (Status::Code(_), Status::Code(_)) | (Status::Range(_), Status::Range(_))
            )
        };
        match groups.iter_mut().find(|(s, g, _)| same_kind(s) && *g == f) {
            Some((_, _, patterns)) => patterns.push(pattern),
            None => groups.push((status, f, vec![pattern])),
        }
    }
    groups.into_iter().map(|(_, f, p)| (f, p)).collect()
}

/// Whether a parameter's schema says more than its parsed type (`uuid`,
/// integer, number, boolean, string) already ensures.
fn constrains(
    schema: &ReferenceOr<Schema>,
    ty: ParamType,
    components: Option<&Components>,
) -> bool {
    let Some(s) = resolve(schema, components) else {
        return false;
    };
    let k = Keywords::of(s);
    let format_checked = match k.format.as_deref() {
        Some("uuid") => ty != ParamType::Uuid,
        Some(f) => stub_runtime_format(f),
        None => false,
    };
    format_checked
        || !k.enumeration.is_empty()
        || k.pattern.is_some()
        || k.min_length.is_some()
        || k.max_length.is_some()
        || k.minimum.is_some()
        || k.maximum.is_some()
        || k.multiple_of.is_some()
        || k.items.is_some()
        || !k.prefix_items.is_empty()
        || k.min_items.is_some()
        || k.max_items.is_some()
        || k.unique_items
        || !k.one_of.is_empty()
        || !k.any_of.is_empty()
        || !k.all_of.is_empty()
        || k.not.is_some()
        || !k.properties.is_empty()
}

/// The formats `stub_runtime::Format` checks.
const FORMATS: &[(&str, &str)] = &[
    ("uuid", "Uuid"),
    ("date", "Date"),
    ("date-time", "DateTime"),
    ("email", "Email"),
    ("uri", "Uri"),
    ("ipv4", "Ipv4"),
    ("ipv6", "Ipv6"),
    ("byte", "Byte"),
];

fn stub_runtime_format(name: &str) -> bool {
    FORMATS.iter().any(|(n, _)| *n == name)
}

/// `enum`: the value equals one of the listed ones (the check: it differs
/// from each).
fn enumeration(list: &[Value]) -> TokenStream {
    let differs = list.iter().map(|item| match item {
        Value::Null => quote!(!v.is_null()),
        Value::Bool(b) => quote!(v.as_bool() != Some(#b)),
        Value::String(s) => quote!(v.as_str() != Some(#s)),
        Value::Number(n) => match n.as_f64() {
            Some(f) => {
                let f = Literal::f64_suffixed(f);
                quote!(v.as_f64() != Some(#f))
            }
            None => quote!(true),
        },
        other => {
            let text = other.to_string();
            quote!(!serde_json::from_str::<Value>(#text).is_ok_and(|e| stub_runtime::json_eq(v, &e)))
        }
    });
    let listed: Vec<String> = list.iter().map(|v| format!("`{v}`")).collect();
    let listed = listed.join(", ");
    let rule = if listed.len() <= 200 {
        format!("must be one of {listed}")
    } else {
        "must be one of the values the schema lists".to_string()
    };
    quote!(if #(#differs)&&* { return Err(at.violation(#rule)); })
}

/// `minimum`, `maximum` and `multipleOf`: one `stub_runtime` call each.
fn numbers(k: &Keywords) -> Vec<TokenStream> {
    let mut out = Vec::new();
    if let Some((m, exclusive)) = k.minimum {
        let lit = Literal::f64_suffixed(m);
        out.push(quote!(stub_runtime::minimum(v, at, #lit, #exclusive)?;));
    }
    if let Some((m, exclusive)) = k.maximum {
        let lit = Literal::f64_suffixed(m);
        out.push(quote!(stub_runtime::maximum(v, at, #lit, #exclusive)?;));
    }
    if let Some(m) = k.multiple_of.filter(|m| *m > 0.0) {
        let lit = Literal::f64_suffixed(m);
        out.push(quote!(stub_runtime::multiple(v, at, #lit)?;));
    }
    out
}

/// `minLength` and `maxLength`: one `stub_runtime::length` call.
fn lengths(k: &Keywords) -> Option<TokenStream> {
    let bounds = counts(k.min_length, k.max_length)?;
    Some(quote!(stub_runtime::length(v, at, #bounds)?;))
}

/// A lower and an upper bound as the `stub_runtime` count checks take
/// them (`min, Some(max)`; a lower bound of 0 checks nothing); `None` when
/// neither bounds anything.
fn counts(min: Option<usize>, max: Option<usize>) -> Option<TokenStream> {
    let min = min.filter(|n| *n > 0);
    if min.is_none() && max.is_none() {
        return None;
    }
    let min = min.unwrap_or(0);
    let max = match max {
        Some(n) => quote!(Some(#n)),
        None => quote!(None),
    };
    Some(quote!(#min, #max))
}

/// String `pattern` and `format`.
fn strings(k: &Keywords) -> Vec<TokenStream> {
    let mut out = Vec::new();
    if let Some(p) = k
        .pattern
        .as_ref()
        .filter(|p| stub_runtime::Pattern::compiles(p))
    {
        out.push(quote!(static PATTERN: stub_runtime::Pattern = stub_runtime::Pattern::new(#p);));
        out.push(quote!(PATTERN.check(v, at)?;));
    }
    if let Some((_, variant)) = k
        .format
        .as_deref()
        .and_then(|f| FORMATS.iter().find(|(n, _)| *n == f))
    {
        let variant = format_ident!("{variant}");
        out.push(quote!(stub_runtime::Format::#variant.check(v, at)?;));
    }
    out
}

/// The checks one handler runs, each `None` when there is nothing to check.
pub struct OpChecks {
    /// Per path parameter, in `op.path_params` order.
    pub path: Vec<Option<CheckFn>>,
    /// Per query parameter.
    pub query: Vec<Option<CheckFn>>,
    /// Per header parameter.
    pub header: Vec<Option<CheckFn>>,
    /// Per cookie parameter.
    pub cookie: Vec<Option<CheckFn>>,
    /// The JSON or form request body.
    pub body: Option<CheckFn>,
    /// The JSON responses, by status.
    pub responses: Option<Ident>,
}

impl OpChecks {
    /// Generates (into `checks`) what `op`'s handler runs.
    pub fn of(checks: &mut Checks<'_>, op: &Operation) -> Self {
        let mut params = |place: &str, list: &[Param]| {
            list.iter()
                .map(|p| checks.param(op, place, p))
                .collect::<Vec<_>>()
        };
        let path = params("path", &op.path_params);
        let query = params("query", &op.query_params);
        let header = params("header", &op.header_params);
        let cookie = params("cookie", &op.cookie_params);
        Self {
            path,
            query,
            header,
            cookie,
            body: checks.request_body(op),
            responses: checks.responses(op),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;

    /// The names of the functions in the generated `validate` module, and
    /// its text.
    fn generated(components: &str) -> (Vec<String>, String) {
        let yaml = format!(
            "openapi: 3.0.3\ninfo: {{ title: t, version: '1' }}\npaths: {{}}\ncomponents:\n  schemas:\n{components}"
        );
        let spec = Spec::parse("t.yaml", &yaml).unwrap();
        let tokens = Checks::new(spec.api.components.as_ref()).module();
        let file: syn::File = syn::parse2(tokens.clone()).unwrap();
        let syn::Item::Mod(module) = &file.items[0] else {
            panic!("not a module")
        };
        let names = module
            .content
            .as_ref()
            .unwrap()
            .1
            .iter()
            .filter_map(|item| match item {
                syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
                _ => None,
            });
        (names.collect(), tokens.to_string())
    }

    #[test]
    fn inline_and_component_names_never_collide() {
        // `A.b` inline would be `schema_a_b`, the name of component `A_b`.
        let (names, text) = generated(
            "    A: { type: object, properties: { b: { type: string, maxLength: 3 } } }\n    A_b: { type: string, minLength: 1 }\n",
        );
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), names.len(), "{names:?}");
        assert_eq!(names.len(), 3, "{names:?}");
        // `A` calls its inline property's function, not the component's.
        assert!(
            text.contains("property (o , \"b\" , at , dir , schema_a_b_2)"),
            "{text}"
        );
    }

    #[test]
    fn statuses_sharing_a_check_share_an_arm_and_no_status_changes_arm() {
        let f = |name: &str| CheckFn::Local(Ident::new(name, proc_macro2::Span::call_site()));
        let arm = |status: Status, check: &str| {
            let pattern = match status {
                Status::Code(c) => quote!(#c),
                Status::Range(h) => {
                    let (lo, hi) = (h * 100, h * 100 + 99);
                    quote!(#lo..=#hi)
                }
                Status::Default => quote!(_),
            };
            (status, f(check), pattern)
        };
        let shown = |groups: Vec<(CheckFn, Vec<TokenStream>)>| -> Vec<String> {
            groups
                .into_iter()
                .map(|(f, p)| format!("{} => {}", quote!(#(#p)|*), quote!(#f)))
                .collect()
        };
        let grouped = group_by_check(vec![
            arm(Status::Code(400), "error"),
            arm(Status::Code(401), "error"),
            arm(Status::Code(404), "missing"),
            arm(Status::Code(409), "error"),
            arm(Status::Range(4), "error"),
            arm(Status::Range(5), "missing"),
            arm(Status::Default, "error"),
        ]);
        assert_eq!(
            shown(grouped),
            [
                "400u16 | 401u16 | 409u16 => error",
                "404u16 => missing",
                "400u16 ..= 499u16 => error",
                "500u16 ..= 599u16 => missing",
                "_ => error",
            ]
        );
    }

    #[test]
    fn schemas_naming_only_a_type_use_the_runtime_checks() {
        let (names, text) = generated(
            "    Name: { type: string }\n    Short: { type: string, maxLength: 3 }\n    Maybe: { type: integer, nullable: true }\n    A:\n      type: object\n      properties:\n        n: { $ref: '#/components/schemas/Name' }\n        i: { type: integer }\n        f: { type: number, minimum: 0 }\n",
        );
        // Only schemas saying more than their type get a function.
        assert_eq!(
            names,
            ["schema_short", "schema_maybe", "schema_a_f", "schema_a"]
        );
        for call in [
            "property (o , \"n\" , at , dir , stub_runtime :: json_type :: string)",
            "property (o , \"i\" , at , dir , stub_runtime :: json_type :: integer)",
            "property (o , \"f\" , at , dir , schema_a_f)",
        ] {
            assert!(text.contains(call), "{call} in {text}");
        }
    }

    #[test]
    fn a_pattern_that_does_not_compile_is_left_out() {
        let (_, text) = generated(
            "    Good: { type: string, pattern: '^a+$' }\n    Bad: { type: string, pattern: '(' }\n",
        );
        assert!(text.contains("\"^a+$\""), "{text}");
        assert!(!text.contains("Pattern :: new (\"(\")"), "{text}");
    }

    #[test]
    fn schemas_checking_nothing_take_no_arguments_by_name() {
        let (names, text) = generated("    Anything: {}\n");
        assert_eq!(names, ["schema_anything"]);
        assert!(text.contains("_ : & Value"), "{text}");
    }

    /// A response check whose `default` schema checks nothing (`{}`) still
    /// matches every status: the match is exhaustive (it did not compile
    /// for `apideck.com/proxy.json`, survey seed 7).
    #[test]
    fn a_default_checking_nothing_still_ends_the_match() {
        let yaml = "openapi: 3.0.3\ninfo: { title: t, version: '1' }\npaths:\n  /p:\n    get:\n      operationId: get_p\n      responses:\n        '401': { description: no, content: { application/json: { schema: { type: object, properties: { m: { type: string, maxLength: 3 } } } } } }\n        default: { description: any, content: { application/json: { schema: {} } } }\n";
        let spec = Spec::parse("t.yaml", yaml).unwrap();
        let ops = crate::model::operations(&spec).unwrap();
        let mut checks = Checks::new(spec.api.components.as_ref());
        let name = checks.responses(&ops[0]).expect("the 401 has a check");
        let module: syn::File = syn::parse2(checks.module()).unwrap();
        let syn::Item::Mod(module) = &module.items[0] else {
            panic!("not a module")
        };
        let check = module
            .content
            .as_ref()
            .unwrap()
            .1
            .iter()
            .find_map(|item| match item {
                syn::Item::Fn(f) if f.sig.ident == name => Some(f),
                _ => None,
            });
        let body = check
            .expect("the response check")
            .block
            .to_token_stream()
            .to_string();
        assert!(body.contains("401u16 =>"), "{body}");
        assert!(body.contains("_ => Ok (())"), "{body}");
    }
}
