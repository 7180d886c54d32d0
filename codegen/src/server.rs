//! Server stubs: a trait with one method per operation, a response enum per
//! operation that can only express documented statuses, and an axum router.
//!
//! Everything that is the same for every spec lives in `stub-runtime`; this
//! module emits per-operation glue only:
//! - [`rust`]: identifiers, type paths, statuses and docs from spec names;
//! - [`security`]: the `Credentials` struct and requirement checks;
//! - [`params`]: the query and header parameter structs;
//! - [`responses`]: the response enums;
//! - [`handlers`]: trait methods, handlers and routes;
//! - [`checks`]: the `validate` module, schema checks as Rust;
//! - [`documented`]: what an operation answers to a refusal when it
//!   documents its own schema or media type for the status.

mod checks;
pub(crate) mod documented;
mod handlers;
mod params;
mod responses;
mod rust;
mod security;

use proc_macro2::TokenStream;
use quote::quote;

use crate::error::Result;
use crate::model::{Operation, ParamType, Scheme};
use params::Place;
use responses::ErrorBody;
use rust::{case_ident, doc_attrs, enum_ident, ident, model_ident};
use security::SchemeFields;

/// For the skeleton server (`emit::skeleton_crate`), which implements the
/// trait: the names and types the stubs give each operation and response.
pub(crate) mod names {
    pub(crate) use super::rust::{carries_status, case_ident, enum_ident, type_tokens};
}

/// Names the server generator needs from its caller.
pub struct ServerNames<'a> {
    /// Name of the trait (e.g. `UsersApi`).
    pub trait_name: &'a str,
    /// Crate holding the model types.
    pub types_crate: &'a str,
    /// This crate's own name (as a Rust identifier), for doc-tests.
    pub crate_name: &'a str,
    /// The error schema, when the spec has one with `status`, `code` and
    /// `message`; without it the router answers with [`stub_runtime::BuiltinError`].
    pub error: Option<ErrorNames<'a>>,
    /// The spec's components (the schemas the checks are generated from).
    pub components: Option<&'a openapiv3::Components>,
}

/// The spec's error schema, as the router fills it.
pub struct ErrorNames<'a> {
    /// Rust name of the error schema's type (e.g. `ApiError`).
    pub type_name: &'a str,
    /// Type of its `code` property, relative to this crate (`types::ApiErrorCode`, `String`).
    pub code_type: &'a str,
}

/// Items every generated crate defines; the trait never takes their names.
const CRATE_ITEMS: &[&str] = &[
    "Credentials",
    "Errors",
    "Refused",
    "OperationInfo",
    "RouterOptions",
    "ApiKey",
    "BearerToken",
    "JsonBody",
    "Rejection",
    // What `stub_runtime::prelude` brings in.
    "Arc",
    "State",
    "StatusCode",
    "IntoResponse",
    "Response",
    "MethodFilter",
    "MethodRouter",
    "ErrorFormat",
    "Responses",
    "CredentialFields",
];

/// Generates the server-stub crate's `generated.rs` body. `checked` is
/// handed the name of each operation's response check in the `validate`
/// module (`None`: nothing to check), in `ops` order, as soon as they are
/// known: the skeleton server calls them, and need not build them again.
pub fn generate(
    ops: &[Operation],
    schemes: &[Scheme],
    names: &ServerNames<'_>,
    checked: impl FnOnce(&[Option<proc_macro2::Ident>]),
) -> Result<TokenStream> {
    let trait_ident = trait_ident(names.trait_name);
    let types_crate = ident(names.types_crate);
    let schemes = SchemeFields::new(schemes);
    let error_body = names.error.as_ref().map(|e| ErrorBody {
        type_name: e.type_name,
    });
    let error_body = error_body.as_ref();
    let methods = ops.iter().map(|op| handlers::trait_method(op, &schemes));
    let enums = ops
        .iter()
        .map(|op| responses::response_enum(op, error_body))
        .collect::<Result<Vec<_>>>()?;
    let param_structs = ops
        .iter()
        .flat_map(|op| Place::ALL.map(|place| params::param_struct(op, place)));
    let handler_idents = handlers::handler_idents(ops);
    let mut checks = checks::Checks::new(names.components);
    let op_checks: Vec<checks::OpChecks> = ops
        .iter()
        .map(|op| checks::OpChecks::of(&mut checks, op))
        .collect();
    checked(
        &op_checks
            .iter()
            .map(|c| c.responses.clone())
            .collect::<Vec<_>>(),
    );
    let validate = checks.module();
    let error_type = names.error.as_ref().map(|e| e.type_name);
    let answers: Vec<Option<(proc_macro2::Ident, TokenStream)>> = ops
        .iter()
        .zip(&handler_idents)
        .map(|(op, name)| {
            let refused = documented::refusals(op, schemes.secures(op));
            let table = documented::table(op, &refused, error_type, names.components)?;
            let id = quote::format_ident!("ANSWERS_{}", name.to_string().to_uppercase());
            Some((id, table))
        })
        .collect();
    let answer_tables = answers.iter().flatten().map(|(id, table)| {
        let doc = doc_attrs("What the operation documents for the refusals it answers in a schema or media type of its own.");
        quote!(#doc static #id: stub_runtime::Documented = #table;)
    });
    let refused_alias = answers.iter().any(Option::is_none).then(|| {
        quote! {
            /// What a handler answers when it refuses a request itself.
            type Refused = stub_runtime::Refused<Errors>;
        }
    });
    let handlers = ops
        .iter()
        .enumerate()
        .zip(&handler_idents)
        .zip(&op_checks)
        .zip(&answers)
        .map(|((((index, op), name), c), a)| {
            let answers = a.as_ref().map(|(id, _)| id);
            handlers::handler((index, op), name, &trait_ident, &schemes, c, answers)
        });
    let table = ops.iter().map(|op| {
        let (id, method, path) = (&op.id, &op.method, &op.path);
        quote! { OperationInfo { operation_id: #id, method: #method, path: #path }, }
    });
    let routes = handlers::route_calls(ops, &handler_idents);
    let uses_uuid = ops
        .iter()
        .flat_map(|op| {
            op.path_params
                .iter()
                .chain(&op.query_params)
                .chain(&op.header_params)
        })
        .any(|p| p.ty == ParamType::Uuid);
    let uuid_reexport = uses_uuid.then(|| quote! { pub use uuid; });
    let credentials = security::credentials_struct(&schemes);
    let errors = error_format(names.error.as_ref());
    let trait_doc = doc_attrs(&trait_doc(ops, names.crate_name));

    Ok(quote! {
        #![allow(
            clippy::large_enum_variant,
            reason = "a response enum is built once and sent at once; boxing its largest body would cost every response an allocation"
        )]
        #![allow(
            clippy::doc_lazy_continuation,
            clippy::doc_overindented_list_items,
            clippy::tabs_in_doc_comments,
            reason = "doc comments carry the spec's descriptions as written"
        )]

        use stub_runtime::prelude::*;
        #refused_alias

        pub use stub_runtime::{ApiKey, BearerToken, CredentialFields, JsonBody, OperationHook, OperationInfo, Rejection, Responses, RouterOptions};
        /// The shared model types.
        pub use #types_crate as types;
        #uuid_reexport

        /// The OpenAPI document this crate was generated from, verbatim after a
        /// two-line generated-file comment.
        pub const OPENAPI_YAML: &str = include_str!("openapi.yaml");

        /// Every operation [`router`] serves, in spec order.
        pub const OPERATIONS: &[OperationInfo] = &[ #(#table)* ];

        #credentials

        #trait_doc
        pub trait #trait_ident: Send + Sync + 'static {
            #(#methods)*
        }

        #(#enums)*

        #(#param_structs)*

        #errors

        /// Builds the router for an implementation, with default options.
        pub fn router<A: #trait_ident>(api: Arc<A>) -> axum::Router {
            router_with_options(api, RouterOptions::default())
        }

        /// Builds the router for an implementation.
        ///
        /// Everything rejected before reaching the implementation (unknown route,
        /// undocumented method, bad path parameter, missing or malformed
        /// credentials, wrong content type, oversized or malformed body) is
        /// answered in the spec's error format.
        pub fn router_with_options<A: #trait_ident>(api: Arc<A>, options: RouterOptions) -> axum::Router {
            stub_runtime::Routes::<Errors, A>::new()
                #routes
                .finish(api, options)
        }

        #(#handlers)*

        #(#answer_tables)*

        #validate
    })
}

/// The trait's identifier: `name`, unless an item of the crate has it.
pub(crate) fn trait_ident(name: &str) -> proc_macro2::Ident {
    if CRATE_ITEMS.contains(&name) {
        ident(&format!("{name}Api"))
    } else {
        ident(name)
    }
}

/// The trait's method declarations (as in the trait, docs included), for an
/// implementation generated beside the stubs (the skeleton server).
pub(crate) fn trait_methods(ops: &[Operation], schemes: &[Scheme]) -> Vec<TokenStream> {
    let schemes = SchemeFields::new(schemes);
    ops.iter()
        .map(|op| handlers::trait_method(op, &schemes))
        .collect()
}

/// The trait's documentation, with doc-tests showing that a documented
/// status compiles and an undocumented one does not.
fn trait_doc(ops: &[Operation], krate: &str) -> String {
    let mut doc = String::from(
        "The operations of the API. Implement this trait and pass it to [`router`].\n\n\
         Each method receives typed, already-validated inputs and returns a response\n\
         type that can only express the statuses the spec documents for it.",
    );
    if let Some((op, first)) = ops.first().and_then(|op| Some((op, op.responses.first()?))) {
        let (ty, documented) = (enum_ident(op), case_ident(first));
        doc.push_str(&format!(
            "\n\nA documented status compiles:\n\n```\nlet _ = {krate}::{ty}::{documented};\n```\n\n\
             An undocumented one does not:\n\n```compile_fail\nlet _ = {krate}::{ty}::Status418;\n```"
        ));
    }
    doc
}

/// `Errors`, the spec's error format: its error schema (and the type of its
/// `code`) when it has one, else the runtime's built-in body.
fn error_format(error: Option<&ErrorNames<'_>>) -> TokenStream {
    let Some(error) = error else {
        return quote! {
            /// The spec names no error schema with `status`, `code` and
            /// `message`: the router answers with [`stub_runtime::BuiltinError`].
            pub type Errors = stub_runtime::BuiltinErrors;
        };
    };
    let error_type = model_ident(error.type_name);
    let code_type = code_type_tokens(error.code_type);
    let doc = doc_attrs(&format!(
        "The spec's error format: the router's own answers and error responses\nare `{}` bodies whose `status` is the status they are sent with.\n`Errors::response(status, code, message)` builds one.",
        error.type_name
    ));
    quote! {
        #doc
        pub type Errors = stub_runtime::SchemaErrors<types::#error_type, #code_type>;
    }
}

/// `types::ApiErrorCode` or `String` as tokens, each segment an identifier.
fn code_type_tokens(path: &str) -> TokenStream {
    let segments: Vec<&str> = path.split("::").collect();
    let (last, prefix) = segments.split_last().unwrap_or((&"String", &[]));
    let last = if prefix.is_empty() {
        ident(last)
    } else {
        model_ident(last)
    };
    let prefix = prefix.iter().map(|s| ident(s));
    quote!(#(#prefix ::)* #last)
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    use super::*;
    use crate::model;
    use crate::spec::Spec;

    /// Server stubs alone, for specs progenitor's client refuses.
    fn stubs(text: &str) -> syn::File {
        stubs_with(text, |_| {})
    }

    /// [`stubs`], with `checked` given the response checks [`generate`]
    /// hands on.
    fn stubs_with(text: &str, checked: impl FnOnce(&[Option<proc_macro2::Ident>])) -> syn::File {
        let spec = Spec::parse("t.yaml", text).unwrap();
        let ops = model::operations(&spec).unwrap();
        let names = ServerNames {
            trait_name: "Api",
            types_crate: "types_crate",
            crate_name: "stubs",
            error: None,
            components: spec.api.components.as_ref(),
        };
        let tokens = generate(
            &ops,
            &model::schemes(spec.api.components.as_ref()),
            &names,
            checked,
        )
        .unwrap();
        syn::parse2(tokens).unwrap()
    }

    /// The response checks [`generate`] hands on (to the skeleton server) are,
    /// in operation order, the functions of the `validate` module that each
    /// operation's own handler calls; `None` for an operation with nothing
    /// to check.
    #[test]
    fn the_response_checks_handed_on_are_each_handlers_own() {
        let text = r#"
openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /a:
    get:
      operationId: first
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: { type: object, properties: { n: { type: integer, minimum: 1 } } }
  /b:
    get:
      operationId: second
      responses:
        '204': { description: nothing }
  /c:
    get:
      operationId: third
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: { type: array, maxItems: 2, items: { type: string, maxLength: 3 } }
"#;
        let mut handed = Vec::new();
        let file = stubs_with(text, |checks| {
            handed = checks
                .iter()
                .map(|c| c.as_ref().map(ToString::to_string))
                .collect()
        });
        let validate: Vec<String> = file
            .items
            .iter()
            .find_map(|item| match item {
                syn::Item::Mod(m) if m.ident == "validate" => m.content.as_ref(),
                _ => None,
            })
            .expect("a validate module")
            .1
            .iter()
            .filter_map(|item| match item {
                syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
                _ => None,
            })
            .collect();
        let handler = |name: &str| {
            file.items
                .iter()
                .find_map(|item| match item {
                    syn::Item::Fn(f) if f.sig.ident == name => Some(quote!(#f).to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("no handler {name}"))
        };
        let [Some(first), None, Some(third)] = handed.as_slice() else {
            panic!("expected checks for the first and third operations only: {handed:?}");
        };
        assert_ne!(first, third);
        for (check, op) in [(first, "first"), (third, "third")] {
            assert!(validate.contains(check), "{check} is not in {validate:?}");
            let calls =
                |f: &str| handler(&format!("handle_{op}")).contains(&format!("validate :: {f} "));
            assert!(calls(check), "handle_{op} does not call validate::{check}");
        }
        assert!(!handler("handle_first").contains(&format!("validate :: {third} ")));
    }

    fn distinct(what: &str, names: Vec<String>) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        for n in &names {
            assert!(seen.insert(n), "{what}: `{n}` twice in {names:?}");
        }
        names
    }

    /// Names shared by path, query and header parameters, two wire names
    /// with one Rust spelling in each place, and two security schemes alike.
    const SHARED: &str = r#"
openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /x/{id}/{user-id}/{user_id}/{query}:
    get:
      operationId: shared
      security: [{ api-key: [] }, { api_key: [] }]
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
        - { name: user-id, in: path, required: true, schema: { type: string } }
        - { name: user_id, in: path, required: true, schema: { type: integer } }
        - { name: query, in: path, required: true, schema: { type: string } }
        - { name: id, in: query, required: true, schema: { type: string } }
        - { name: user-id, in: query, schema: { type: string } }
        - { name: user_id, in: query, schema: { type: string } }
        - { name: id, in: header, schema: { type: string } }
        - { name: X-Request-ID, in: header, schema: { type: string } }
        - { name: x_request_id, in: header, schema: { type: string } }
      responses:
        '200': { description: ok }
components:
  securitySchemes:
    api-key: { type: apiKey, in: header, name: X-Key }
    api_key: { type: apiKey, in: header, name: X-Other-Key }
"#;

    /// Every `Credentials` field is read by the derive, each from its own
    /// scheme's header.
    #[test]
    fn every_credentials_field_is_read() {
        let file = stubs(SHARED);
        let credentials = file
            .items
            .iter()
            .find_map(|item| match item {
                syn::Item::Struct(s) if s.ident == "Credentials" => Some(s),
                _ => None,
            })
            .expect("a Credentials struct");
        let derives = credentials
            .attrs
            .iter()
            .find(|a| a.path().is_ident("derive"));
        let derives = derives.map(|a| a.meta.to_token_stream().to_string());
        assert!(
            derives
                .as_deref()
                .is_some_and(|d| d.contains("CredentialFields")),
            "{derives:?}"
        );
        let read: Vec<(String, String)> = credentials
            .fields
            .iter()
            .map(|f| {
                let how = f.attrs.iter().find(|a| a.path().is_ident("credential"));
                let how = how.map(|a| a.meta.to_token_stream().to_string());
                (
                    f.ident.as_ref().unwrap().to_string(),
                    how.unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            read,
            [
                ("api_key".into(), "credential (api_key = \"X-Key\")".into()),
                (
                    "api_key_2".into(),
                    "credential (api_key = \"X-Other-Key\")".into()
                ),
            ]
        );
    }

    #[test]
    fn every_name_is_bound_once() {
        let file = stubs(SHARED);
        let mut checked = 0;
        for item in &file.items {
            match item {
                syn::Item::Struct(s) => {
                    let fields = s.fields.iter().filter_map(|f| f.ident.as_ref());
                    let fields = distinct(
                        &s.ident.to_string(),
                        fields.map(|i| i.to_string()).collect(),
                    );
                    match s.ident.to_string().as_str() {
                        "SharedQuery" => assert_eq!(fields, ["id", "user_id", "user_id_2"]),
                        "SharedHeaders" => {
                            assert_eq!(fields, ["id", "x_request_id", "x_request_id_2"])
                        }
                        "Credentials" => assert_eq!(fields, ["api_key", "api_key_2"]),
                        _ => continue,
                    }
                    checked += 1;
                }
                syn::Item::Trait(t) => {
                    for f in &t.items {
                        let syn::TraitItem::Fn(f) = f else { continue };
                        let args = f.sig.inputs.iter().map(|a| match a {
                            syn::FnArg::Receiver(_) => "self".to_string(),
                            syn::FnArg::Typed(t) => {
                                let pat = &t.pat;
                                quote!(#pat).to_string()
                            }
                        });
                        let args = distinct("trait method", args.collect());
                        assert_eq!(
                            args,
                            [
                                "self",
                                "credentials",
                                "id",
                                "user_id",
                                "user_id_2",
                                "query_2",
                                "query",
                                "headers"
                            ]
                        );
                        checked += 1;
                    }
                }
                syn::Item::Fn(f) if f.sig.ident == "handle_shared" => {
                    // The handler passes the path `id`, not the query's.
                    let body = quote!(#f).to_string();
                    assert!(
                        body.contains("shared . api . shared (credentials , id , user_id , user_id_2 , query_2 , query , headers)"),
                        "{body}"
                    );
                    checked += 1;
                }
                _ => {}
            }
        }
        assert_eq!(checked, 5, "every item looked at");
    }
}
