//! Fills in doc comments that progenitor and typify leave out, so the
//! generated crates build with `missing_docs` warnings on and `cargo doc` clean.

use quote::ToTokens;
use syn::visit_mut::{self, VisitMut};
use syn::{Attribute, Field, Fields, ImplItemFn, Item, Variant, Visibility};

/// Adds a short doc comment to every public item that has none.
pub fn fill(file: &mut syn::File) {
    Filler.visit_file_mut(file);
}

struct Filler;

fn has_doc(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("doc"))
}

fn push_doc(attrs: &mut Vec<Attribute>, text: &str) {
    let text = format!(" {text}");
    attrs.insert(0, syn::parse_quote!(#[doc = #text]));
}

/// The wire name from `#[serde(rename = "...")]`, if any.
fn serde_rename(attrs: &[Attribute]) -> Option<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .find_map(|a| {
            let tokens = a.meta.to_token_stream().to_string();
            let start = tokens.find("rename = \"")? + "rename = \"".len();
            let end = tokens[start..].find('"')? + start;
            Some(tokens[start..end].to_string())
        })
}

fn is_public(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

fn fn_doc(name: &str) -> String {
    match name {
        "new" => "Creates it with every value unset.".into(),
        "send" => "Sends the request and decodes the documented response.".into(),
        "builder" => "Starts a builder for this type.".into(),
        "body_map" => "Changes the request body through its builder.".into(),
        "body" => "Sets the request body.".into(),
        _ => format!("Sets `{name}`."),
    }
}

impl VisitMut for Filler {
    fn visit_item_mut(&mut self, item: &mut Item) {
        match item {
            Item::Struct(s) if is_public(&s.vis) && !has_doc(&s.attrs) => {
                push_doc(&mut s.attrs, &format!("`{}`.", s.ident));
            }
            Item::Enum(e) if is_public(&e.vis) && !has_doc(&e.attrs) => {
                push_doc(&mut e.attrs, &format!("`{}`.", e.ident));
            }
            Item::Mod(m) if is_public(&m.vis) && !has_doc(&m.attrs) => {
                let text = match m.ident.to_string().as_str() {
                    "builder" => "Builders for the types and requests of this crate.".to_string(),
                    other => format!("`{other}`."),
                };
                push_doc(&mut m.attrs, &text);
            }
            Item::Type(t) if is_public(&t.vis) && !has_doc(&t.attrs) => {
                push_doc(&mut t.attrs, &format!("`{}`.", t.ident));
            }
            _ => {}
        }
        visit_mut::visit_item_mut(self, item);
    }

    fn visit_field_mut(&mut self, field: &mut Field) {
        if is_public(&field.vis) && !has_doc(&field.attrs) {
            let name = serde_rename(&field.attrs)
                .or_else(|| {
                    field
                        .ident
                        .as_ref()
                        .map(|i| i.to_string().trim_end_matches('_').to_string())
                })
                .unwrap_or_default();
            push_doc(&mut field.attrs, &format!("The `{name}` property."));
        }
        visit_mut::visit_field_mut(self, field);
    }

    fn visit_variant_mut(&mut self, variant: &mut Variant) {
        if !has_doc(&variant.attrs) {
            let text = match (serde_rename(&variant.attrs), &variant.fields) {
                (Some(wire), _) => format!("`{wire}`."),
                (None, Fields::Unit) => format!("`{}`.", variant.ident),
                (None, _) => format!("A `{}` value.", variant.ident),
            };
            push_doc(&mut variant.attrs, &text);
        }
        visit_mut::visit_variant_mut(self, variant);
    }

    fn visit_impl_item_fn_mut(&mut self, f: &mut ImplItemFn) {
        if is_public(&f.vis) && !has_doc(&f.attrs) {
            push_doc(&mut f.attrs, &fn_doc(&f.sig.ident.to_string()));
        }
        visit_mut::visit_impl_item_fn_mut(self, f);
    }
}
