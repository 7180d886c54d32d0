//! The `Credentials` struct and each operation's security requirement.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::rust::Unique;
use crate::model::{Operation, Scheme, SchemeKind};

/// The spec's security schemes with their distinct `Credentials` fields.
pub struct SchemeFields<'a> {
    fields: Vec<(&'a Scheme, Ident)>,
}

impl<'a> SchemeFields<'a> {
    /// One field per scheme, named after it (numbered when two names meet).
    pub fn new(schemes: &'a [Scheme]) -> Self {
        let mut scope = Unique::new(&[]);
        Self {
            fields: schemes.iter().map(|s| (s, scope.field(&s.name))).collect(),
        }
    }

    /// Whether the spec has any scheme the router reads.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn find(&self, name: &str) -> Option<&(&'a Scheme, Ident)> {
        self.fields.iter().find(|(s, _)| s.name == name)
    }

    /// Whether `op` receives credentials.
    pub fn secures(&self, op: &Operation) -> bool {
        !op.security.is_empty() && !self.is_empty()
    }
}

/// The `Credentials` struct: one optional field per security scheme, each
/// with the `#[credential(...)]` saying where `CredentialFields` reads it.
pub fn credentials_struct(schemes: &SchemeFields<'_>) -> Option<TokenStream> {
    if schemes.is_empty() {
        return None;
    }
    let fields = schemes.fields.iter().map(|(s, field)| {
        let name = &s.name;
        let (doc, how, ty) = match &s.kind {
            SchemeKind::Bearer => (
                format!(" Scheme `{name}`: `Authorization: Bearer <token>`."),
                quote!(bearer),
                quote!(BearerToken),
            ),
            SchemeKind::ApiKeyHeader(h) => (
                format!(" Scheme `{name}`: the `{h}` header."),
                quote!(api_key = #h),
                quote!(ApiKey),
            ),
        };
        quote! {
            #[doc = #doc]
            #[credential(#how)]
            pub #field: Option<#ty>,
        }
    });
    Some(quote! {
        /// The credentials a request presented, one field per security scheme
        /// of the spec. The router checks their form; the implementation
        /// verifies them. `from_headers` and `is_empty` come with
        /// [`CredentialFields`](stub_runtime::CredentialFields).
        #[derive(Debug, Clone, Default, PartialEq, Eq, CredentialFields)]
        pub struct Credentials {
            #(#fields)*
        }
    })
}

/// The statement refusing a request to `op` that meets none of its security
/// alternatives; `None` when one alternative is always met (anonymous
/// callers allowed, or a scheme the stubs do not read, left to the
/// implementation).
pub fn requirement(op: &Operation, schemes: &SchemeFields<'_>) -> Option<TokenStream> {
    let mut alternatives = Vec::new();
    for names in &op.security {
        let fields: Option<Vec<&Ident>> = names
            .iter()
            .map(|n| schemes.find(n).map(|(_, f)| f))
            .collect();
        match fields {
            Some(fields) if !fields.is_empty() => alternatives.push(fields),
            _ => return None,
        }
    }
    let met = alternatives.iter().map(|fields| {
        let all = fields.iter().map(|f| quote!(credentials.#f.is_some()));
        if fields.len() == 1 {
            quote!(#(#all)*)
        } else {
            quote!((#(#all)&&*))
        }
    });
    let hint = hint(op, schemes);
    Some(quote! {
        stub_runtime::require_credentials(&shared.options, #(#met)||*, #hint)?;
    })
}

/// "this operation needs credentials: send `X-Application-ID` or
/// `Authorization: Bearer <token>`".
fn hint(op: &Operation, schemes: &SchemeFields<'_>) -> String {
    let alternatives: Vec<String> = op
        .security
        .iter()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| schemes.find(n))
                .map(|(s, _)| match &s.kind {
                    SchemeKind::Bearer => "`Authorization: Bearer <token>`".to_string(),
                    SchemeKind::ApiKeyHeader(h) => format!("`{h}`"),
                })
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect();
    format!(
        "this operation needs credentials: send {}",
        alternatives.join(" or ")
    )
}
