//! `#[derive(CredentialFields)]`: a credentials struct's `slots`, one per
//! field, from each field's `#[credential(...)]`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Field, Fields, LitStr};

/// How one field's scheme is presented.
enum Scheme {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// An API key in the header of this name.
    ApiKey(LitStr),
}

/// The `impl stub_runtime::CredentialFields` for `input`.
pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => &fields.named,
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "`CredentialFields` needs named fields, one per security scheme",
                ));
            }
        },
        _ => {
            return Err(syn::Error::new(
                input.ident.span(),
                "`CredentialFields` derives only for a struct, one field per security scheme",
            ));
        }
    };
    let mut slots = Vec::new();
    let mut failures: Option<syn::Error> = None;
    for field in fields {
        match slot(field) {
            Ok(slot) => slots.push(slot),
            Err(e) => match &mut failures {
                Some(all) => all.combine(e),
                None => failures = Some(e),
            },
        }
    }
    if let Some(e) = failures {
        return Err(e);
    }
    let count = slots.len();
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics ::stub_runtime::CredentialFields for #name #ty_generics #where_clause {
            fn slots(&mut self) -> impl ::core::iter::IntoIterator<Item = ::stub_runtime::SchemeSlot<'_>> {
                let slots: [::stub_runtime::SchemeSlot<'_>; #count] = [#(#slots),*];
                slots
            }
        }
    })
}

/// The field's `SchemeSlot`.
fn slot(field: &Field) -> syn::Result<TokenStream> {
    let ident = field
        .ident
        .as_ref()
        .ok_or_else(|| syn::Error::new(field.span(), "a credentials field has a name"))?;
    let field_name = ident.to_string();
    let mut attrs = field
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("credential"));
    let Some(attr) = attrs.next() else {
        return Err(syn::Error::new(
            ident.span(),
            format!(
                "`{field_name}` needs `#[credential(bearer)]` or `#[credential(api_key = \"Header-Name\")]`"
            ),
        ));
    };
    if let Some(second) = attrs.next() {
        return Err(syn::Error::new(
            second.span(),
            format!("`{field_name}` has two `#[credential(...)]` attributes"),
        ));
    }
    let mut scheme = None;
    attr.parse_nested_meta(|meta| {
        if scheme.is_some() {
            return Err(meta.error(format!("`{field_name}`: one scheme per field")));
        }
        if meta.path.is_ident("bearer") {
            scheme = Some(Scheme::Bearer);
        } else if meta.path.is_ident("api_key") {
            let name: LitStr = meta.value()?.parse()?;
            if name.value().is_empty() {
                return Err(syn::Error::new(name.span(), "an empty header name"));
            }
            scheme = Some(Scheme::ApiKey(name));
        } else {
            let key = meta.path.to_token_stream().to_string().replace(' ', "");
            return Err(meta.error(format!(
                "unknown `credential` attribute `{key}`: expected `bearer` or `api_key = \"Header-Name\"`"
            )));
        }
        Ok(())
    })?;
    let slot = quote!(::stub_runtime::SchemeSlot);
    Ok(match scheme {
        None => {
            return Err(syn::Error::new(
                attr.span(),
                format!("`{field_name}`: `#[credential(...)]` names no scheme"),
            ));
        }
        Some(Scheme::Bearer) => quote!(#slot::Bearer(&mut self.#ident)),
        Some(Scheme::ApiKey(name)) => match static_header_name(&name.value()) {
            // The name is made once, at compile time, not on every request.
            Some(lower) => {
                let lower = LitStr::new(&lower, name.span());
                quote!(#slot::ApiKey(&mut self.#ident, {
                    static NAME: ::stub_runtime::__private::HeaderName =
                        ::stub_runtime::__private::HeaderName::from_static(#lower);
                    &NAME
                }))
            }
            None => quote!(#slot::ApiKeyNamed(&mut self.#ident, #name)),
        },
    })
}

/// `name` lowercased when `HeaderName::from_static` accepts that (a token:
/// letters, digits and ``!#$%&'*+-.^_`|~``), so it can be made at compile time.
fn static_header_name(name: &str) -> Option<String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    (!name.is_empty() && name.chars().all(token)).then(|| name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    /// A token header name is made once as a static, lowercased; one
    /// `from_static` would refuse is looked up by its text; a bearer field
    /// reads `Authorization`. Each field is filled by its own slot.
    #[test]
    fn each_field_gets_its_own_slot() {
        let input: DeriveInput = parse_quote! {
            struct Credentials {
                #[credential(api_key = "X-Application-ID")]
                application: Option<ApiKey>,
                #[credential(bearer)]
                auth0: Option<BearerToken>,
                #[credential(api_key = "X Odd")]
                odd: Option<ApiKey>,
            }
        };
        let out = expand(&input).unwrap().to_string();
        for slot in [
            ":: stub_runtime :: SchemeSlot :: ApiKey (& mut self . application , { static NAME : :: stub_runtime :: __private :: HeaderName = :: stub_runtime :: __private :: HeaderName :: from_static (\"x-application-id\") ; & NAME })",
            ":: stub_runtime :: SchemeSlot :: Bearer (& mut self . auth0)",
            ":: stub_runtime :: SchemeSlot :: ApiKeyNamed (& mut self . odd , \"X Odd\")",
            "[:: stub_runtime :: SchemeSlot < '_ > ; 3usize]",
        ] {
            assert!(out.contains(slot), "no `{slot}` in {out}");
        }
    }

    #[test]
    fn only_header_tokens_are_made_static() {
        assert_eq!(static_header_name("X-Key_1").as_deref(), Some("x-key_1"));
        assert_eq!(static_header_name("X Key"), None);
        assert_eq!(static_header_name("X:Key"), None);
        assert_eq!(static_header_name("Ключ"), None);
        assert_eq!(static_header_name(""), None);
    }

    /// A wrong attribute is a compile error that names it; every wrong
    /// field is reported.
    #[test]
    fn a_wrong_attribute_is_refused_by_name() {
        let refused = |input: DeriveInput| -> Vec<String> {
            let e = expand(&input).unwrap_err();
            e.into_iter().map(|e| e.to_string()).collect()
        };
        assert_eq!(
            refused(parse_quote! { struct C { #[credential(basic)] a: Option<ApiKey> } }),
            [
                "unknown `credential` attribute `basic`: expected `bearer` or `api_key = \"Header-Name\"`"
            ]
        );
        assert_eq!(
            refused(
                parse_quote! { struct C { a: Option<ApiKey>, #[credential(bearer)] b: Option<BearerToken>, c: Option<ApiKey> } }
            ),
            [
                "`a` needs `#[credential(bearer)]` or `#[credential(api_key = \"Header-Name\")]`",
                "`c` needs `#[credential(bearer)]` or `#[credential(api_key = \"Header-Name\")]`"
            ]
        );
        assert_eq!(
            refused(
                parse_quote! { struct C { #[credential(bearer, api_key = "X")] a: Option<ApiKey> } }
            ),
            ["`a`: one scheme per field"]
        );
        assert_eq!(
            refused(parse_quote! { struct C { #[credential(api_key = "")] a: Option<ApiKey> } }),
            ["an empty header name"]
        );
        assert_eq!(
            refused(parse_quote! { struct C(Option<ApiKey>); }),
            ["`CredentialFields` needs named fields, one per security scheme"]
        );
        assert_eq!(
            refused(parse_quote! { enum C {} }),
            ["`CredentialFields` derives only for a struct, one field per security scheme"]
        );
    }
}
