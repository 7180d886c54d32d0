//! One type, not one per operation, for parameters that read alike.
//! progenitor gives every constrained parameter a type of its own in the
//! client's `types` module, named after its operation: a spec whose ten
//! operations take the same `vaultUuid` pattern gets ten newtypes, each
//! with the same derives, `FromStr` (its own regex), `TryFrom`, `Deref` and
//! `Deserialize`, which rustc expands, checks and compiles ten times.
//! Types whose definitions and impls are equal up to their own name keep
//! their names as aliases of the first (its docs stay on each alias), so
//! every type a caller can name, construct or convert into still exists,
//! with the same impls. What changes: the aliased types are one type (a
//! downstream crate cannot implement one of its traits differently for two
//! of them) and `{:?}` prints the first one's name.

use std::collections::HashMap;

use proc_macro2::{Group, TokenStream, TokenTree};
use quote::ToTokens;

/// In the `types` module of `file`, makes each type that is equal to an
/// earlier one up to its name an alias of that one.
pub(crate) fn alias_identical_types(file: &mut syn::File) {
    for item in &mut file.items {
        if let syn::Item::Mod(m) = item
            && m.ident == "types"
            && let Some((_, items)) = &mut m.content
        {
            alias_in(items);
        }
    }
}

/// A local type that may become an alias: its definition and its impls.
struct Candidate {
    name: syn::Ident,
    def: usize,
    impls: Vec<usize>,
}

fn alias_in(items: &mut Vec<syn::Item>) {
    // Each local type with the index of its definition.
    let mut candidates: Vec<Option<Candidate>> = items
        .iter()
        .enumerate()
        .filter_map(|(def, item)| {
            let name = plain_type_name(item)?;
            Some(Some(Candidate {
                name,
                def,
                impls: Vec::new(),
            }))
        })
        .collect();
    let position = |ident: &proc_macro2::Ident| {
        candidates
            .iter()
            .position(|c| c.as_ref().is_some_and(|c| c.name == *ident))
    };
    // The local types each item mentions.
    let mentions: Vec<Vec<usize>> = items
        .iter()
        .map(|item| {
            let mut found = Vec::new();
            idents(item.to_token_stream(), &mut |ident| {
                if let Some(n) = position(ident)
                    && !found.contains(&n)
                {
                    found.push(n);
                }
            });
            found
        })
        .collect();
    for (index, item) in items.iter().enumerate() {
        if plain_type_name(item).is_some() {
            continue;
        }
        match item {
            // An impl of exactly one local type is that type's.
            syn::Item::Impl(_) if mentions[index].len() == 1 => {
                if let Some(c) = &mut candidates[mentions[index][0]] {
                    c.impls.push(index);
                }
            }
            // Anything else naming a local type (an impl of two, a use, a
            // function) keeps those types as they are.
            _ => {
                for &n in &mentions[index] {
                    candidates[n] = None;
                }
            }
        }
    }
    let mut first: HashMap<String, syn::Ident> = HashMap::new();
    let mut aliases: Vec<(Candidate, syn::Ident)> = Vec::new();
    for candidate in candidates.into_iter().flatten() {
        let key = key(items, &candidate);
        match first.get(&key) {
            Some(target) => aliases.push((candidate, target.clone())),
            None => {
                first.insert(key, candidate.name.clone());
            }
        }
    }
    let mut dropped = vec![false; items.len()];
    for (candidate, target) in aliases {
        let (attrs, vis) = match &items[candidate.def] {
            syn::Item::Struct(s) => (&s.attrs, &s.vis),
            syn::Item::Enum(e) => (&e.attrs, &e.vis),
            _ => unreachable!("a candidate is a struct or an enum"),
        };
        let docs = attrs.iter().filter(|a| a.path().is_ident("doc"));
        let name = &candidate.name;
        items[candidate.def] = syn::parse_quote! { #(#docs)* #vis type #name = #target; };
        for index in candidate.impls {
            dropped[index] = true;
        }
    }
    let mut index = 0;
    items.retain(|_| {
        index += 1;
        !dropped[index - 1]
    });
}

/// The name of a struct or enum without generics.
fn plain_type_name(item: &syn::Item) -> Option<syn::Ident> {
    match item {
        syn::Item::Struct(s) if s.generics.params.is_empty() && !constructed_by_name(s) => {
            Some(s.ident.clone())
        }
        syn::Item::Enum(e) if e.generics.params.is_empty() => Some(e.ident.clone()),
        _ => None,
    }
}

/// A unit struct or a tuple struct with a public field: a caller can build
/// it as `Name` or `Name(..)`, which an alias does not allow.
fn constructed_by_name(s: &syn::ItemStruct) -> bool {
    match &s.fields {
        syn::Fields::Unit => true,
        syn::Fields::Unnamed(fields) => fields
            .unnamed
            .iter()
            .any(|f| !matches!(f.vis, syn::Visibility::Inherited)),
        syn::Fields::Named(_) => false,
    }
}

/// What two candidates must share to be one type: the definition without
/// its docs and the impls, in order, with the candidate's own name
/// replaced by a placeholder.
fn key(items: &[syn::Item], candidate: &Candidate) -> String {
    let mut def = items[candidate.def].clone();
    match &mut def {
        syn::Item::Struct(s) => s.attrs.retain(|a| !a.path().is_ident("doc")),
        syn::Item::Enum(e) => e.attrs.retain(|a| !a.path().is_ident("doc")),
        _ => {}
    }
    let mut key = renamed(def.to_token_stream(), &candidate.name).to_string();
    for &index in &candidate.impls {
        key.push('\n');
        key += &renamed(items[index].to_token_stream(), &candidate.name).to_string();
    }
    key
}

/// `tokens` with every `name` replaced by a placeholder identifier.
fn renamed(tokens: TokenStream, name: &syn::Ident) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Ident(ident) if ident == *name => {
                TokenTree::Ident(syn::Ident::new("__Self_Type", ident.span()))
            }
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), renamed(group.stream(), name));
                inner.set_span(group.span());
                TokenTree::Group(inner)
            }
            other => other,
        })
        .collect()
}

/// Calls `each` with every identifier in `tokens`.
fn idents(tokens: TokenStream, each: &mut impl FnMut(&proc_macro2::Ident)) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => each(&ident),
            TokenTree::Group(group) => idents(group.stream(), each),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pattern-constrained newtype as typify writes it.
    fn newtype(name: &str, pattern: &str) -> String {
        format!(
            "
            #[doc = \"`{name}`\"]
            #[derive(Clone, Debug)]
            pub struct {name}(::std::string::String);
            impl ::std::str::FromStr for {name} {{
                type Err = self::error::ConversionError;
                fn from_str(value: &str) -> Result<Self, self::error::ConversionError> {{
                    if !matches(\"{pattern}\", value) {{ return Err(\"no\".into()); }}
                    Ok(Self(value.to_string()))
                }}
            }}
            impl ::std::convert::From<{name}> for ::std::string::String {{
                fn from(value: {name}) -> Self {{ value.0 }}
            }}"
        )
    }

    fn run(types: &str) -> String {
        let mut file: syn::File =
            syn::parse_str(&format!("pub mod types {{ pub use ::t::*; {types} }}")).unwrap();
        alias_identical_types(&mut file);
        prettyplease::unparse(&file)
    }

    #[test]
    fn a_type_equal_to_an_earlier_one_up_to_its_name_becomes_its_alias() {
        let out = run(&format!(
            "{}{}{}",
            newtype("FirstId", "^[a-z]+$"),
            newtype("SecondId", "^[a-z]+$"),
            newtype("ThirdId", "^[a-z]+$"),
        ));
        assert!(
            out.contains("pub struct FirstId(::std::string::String);"),
            "{out}"
        );
        assert!(
            out.contains("///`SecondId`\n    pub type SecondId = FirstId;"),
            "{out}"
        );
        assert!(out.contains("pub type ThirdId = FirstId;"), "{out}");
        assert_eq!(
            out.matches("impl ::std::str::FromStr for").count(),
            1,
            "{out}"
        );
        assert_eq!(
            out.matches("impl ::std::convert::From<").count(),
            1,
            "{out}"
        );
        assert!(out.contains("pub use ::t::*;"), "{out}");
    }

    #[test]
    fn types_that_differ_in_anything_but_their_name_stay_apart() {
        let out = run(&format!(
            "{}{}{}",
            newtype("FirstId", "^[a-z]+$"),
            newtype("SecondId", "^[0-9]+$"),
            newtype("ThirdId", "^[a-z]+$").replace("Debug", "Debug, Hash"),
        ));
        assert!(!out.contains("pub type"), "{out}");
        assert_eq!(
            out.matches("impl ::std::str::FromStr for").count(),
            3,
            "{out}"
        );
    }

    #[test]
    fn a_type_named_with_another_outside_its_own_impls_stays() {
        let out = run(&format!(
            "{}{}
            impl From<FirstId> for SecondId {{ fn from(v: FirstId) -> Self {{ Self(v.0) }} }}
            {}
            pub fn third(value: ThirdId) -> ThirdId {{ value }}",
            newtype("FirstId", "^[a-z]+$"),
            newtype("SecondId", "^[a-z]+$"),
            newtype("ThirdId", "^[a-z]+$"),
        ));
        assert!(!out.contains("pub type"), "{out}");
    }

    /// `Name(..)` and `Name` do not work through an alias.
    #[test]
    fn types_built_by_their_name_stay() {
        for (a, b) in [
            ("pub struct A(pub u8);", "pub struct B(pub u8);"),
            ("pub struct A;", "pub struct B;"),
        ] {
            let out = run(&format!("{a}{b}"));
            assert!(!out.contains("pub type"), "{out}");
        }
        let out = run("pub struct A(u8); pub struct B(u8);");
        assert!(out.contains("pub type B = A;"), "{out}");
    }

    #[test]
    fn generic_types_stay() {
        let out = run("pub struct A<T>(T); pub struct B<T>(T);");
        assert!(!out.contains("pub type"), "{out}");
    }
}
