//! Query and header parameters: the `{Op}Query` / `{Op}Headers` structs and
//! the expressions that read each field.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::rust::{Unique, doc_attrs, expected, param_tokens, type_ident};
use crate::model::{ArrayStyle, Operation, Param, ParamType};

/// Where a group of parameters travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The query string: `{Op}Query`.
    Query,
    /// Request headers: `{Op}Headers`.
    Header,
    /// Cookies of the `Cookie` header: `{Op}Cookies`.
    Cookie,
}

impl Place {
    /// Every place, in the order the handler reads them.
    pub const ALL: [Self; 3] = [Self::Query, Self::Header, Self::Cookie];

    /// The operation's parameters in this place.
    pub fn params(self, op: &Operation) -> &[Param] {
        match self {
            Self::Query => &op.query_params,
            Self::Header => &op.header_params,
            Self::Cookie => &op.cookie_params,
        }
    }

    /// The struct holding them.
    pub fn struct_ident(self, op: &Operation) -> Ident {
        type_ident(&op.id, self.suffix())
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::Query => "Query",
            Self::Header => "Headers",
            Self::Cookie => "Cookies",
        }
    }

    /// The word used in docs and messages.
    pub fn word(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Header => "header",
            Self::Cookie => "cookie",
        }
    }
}

/// The struct's field names, distinct even when two wire names spell the
/// same Rust name (`user-id`, `user_id`).
pub fn field_idents(params: &[Param]) -> Vec<Ident> {
    let mut scope = Unique::new(&[]);
    params.iter().map(|p| scope.field(&p.name)).collect()
}

/// `{Op}Query` / `{Op}Headers`: one typed field per parameter.
pub fn param_struct(op: &Operation, place: Place) -> Option<TokenStream> {
    let params = place.params(op);
    if params.is_empty() {
        return None;
    }
    let name = place.struct_ident(op);
    let doc = doc_attrs(&format!("The {} parameters of `{}`.", place.word(), op.id));
    let fields = params.iter().zip(field_idents(params)).map(|(p, f)| {
        let t = field_type(p);
        let mut text = format!("`{}`", p.name);
        if let Some(d) = &p.default {
            text.push_str(&format!(" (default `{d}`)"));
        }
        let doc = doc_attrs(&text);
        quote! { #doc pub #f: #t, }
    });
    Some(quote! {
        #doc
        #[derive(Debug, Clone, PartialEq)]
        pub struct #name {
            #(#fields)*
        }
    })
}

/// The struct literal reading every parameter of `place`, each field a
/// `?` expression (`query_pairs` or `header_map` in scope).
pub fn read_struct(op: &Operation, place: Place) -> TokenStream {
    let params = place.params(op);
    let name = place.struct_ident(op);
    let fields = params.iter().zip(field_idents(params)).map(|(p, f)| {
        let value = read(p, place);
        quote!(#f: #value,)
    });
    quote!(#name { #(#fields)* })
}

/// Whether the implementation receives the parameter as an `Option`.
pub fn is_optional(p: &Param) -> bool {
    !p.required && default_tokens(p).is_none()
}

/// The Rust type of a parameter as the implementation receives it.
fn field_type(p: &Param) -> TokenStream {
    let one = param_tokens(p.ty);
    let value = if p.array.is_some() {
        quote!(Vec<#one>)
    } else {
        one
    };
    if is_optional(p) {
        quote!(Option<#value>)
    } else {
        value
    }
}

/// The schema's `default` as a Rust expression, for scalar parameters, and
/// whether building it costs anything (an allocation).
fn default_tokens(p: &Param) -> Option<(TokenStream, bool)> {
    if p.array.is_some() {
        return None;
    }
    let value = p.default.as_ref()?;
    match (p.ty, value) {
        (ParamType::Integer, serde_json::Value::Number(n)) => {
            let n = n.as_i64()?;
            Some((quote!(#n), false))
        }
        (ParamType::AnyInteger, serde_json::Value::Number(n)) => {
            let n = n.as_i64()?;
            Some((quote!(stub_runtime::Integer::from(#n)), false))
        }
        (ParamType::Number, serde_json::Value::Number(n)) => {
            let n = n.as_f64().filter(|n| n.is_finite())?;
            Some((quote!(#n), false))
        }
        (ParamType::Boolean, serde_json::Value::Bool(b)) => Some((quote!(#b), false)),
        (ParamType::String, serde_json::Value::String(text)) => {
            Some((quote!(String::from(#text)), true))
        }
        _ => None,
    }
}

/// The expression reading one parameter, `?` included.
fn read(p: &Param, place: Place) -> TokenStream {
    let (name, exp) = (&p.name, expected(p.ty));
    let one = param_tokens(p.ty);
    let read = match (place, p.array) {
        (Place::Query, Some(style)) => {
            let style = match style {
                ArrayStyle::FormExploded => quote!(FormExploded),
                ArrayStyle::FormCommas => quote!(FormCommas),
                ArrayStyle::SpaceDelimited => quote!(SpaceDelimited),
                ArrayStyle::PipeDelimited => quote!(PipeDelimited),
            };
            quote!(query_pairs.array::<#one>(#name, stub_runtime::ArrayStyle::#style, #exp)?)
        }
        (Place::Query, None) => quote!(query_pairs.scalar::<#one>(#name, #exp)?),
        (Place::Cookie, Some(style)) => {
            let style = match style {
                ArrayStyle::FormExploded => quote!(FormExploded),
                _ => quote!(FormCommas),
            };
            quote!(cookie_pairs.array::<#one>(#name, stub_runtime::ArrayStyle::#style, #exp)?)
        }
        (Place::Cookie, None) => quote!(cookie_pairs.scalar::<#one>(#name, #exp)?),
        (Place::Header, Some(_)) => {
            quote!(stub_runtime::header_array::<#one>(header_map, #name, #exp)?)
        }
        (Place::Header, None) => {
            quote!(stub_runtime::header_param::<#one>(header_map, #name, #exp)?)
        }
    };
    let place = place.word();
    if p.required {
        quote!(stub_runtime::required(#read, #place, #name)?)
    } else {
        match default_tokens(p) {
            Some((default, true)) => quote!(#read.unwrap_or_else(|| #default)),
            Some((default, false)) => quote!(#read.unwrap_or(#default)),
            None => read,
        }
    }
}
