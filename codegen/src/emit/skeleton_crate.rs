//! The skeleton server crate: a binary (`cargo run -p NAME-server -- --listen
//! ADDR`) serving the stubs' router with an implementation of their trait
//! that answers only documented statuses: each operation's success response
//! with the spec's example when it decodes as the response's type and meets
//! the stubs' response check, else with a value made from its schema
//! (`server::documented::synthesized`); a documented redirect for an
//! operation whose only answer is one; else `501` as the operation
//! documents it (`server::documented::table`), or in the spec's error format.
//!
//! Examples reach the Rust code only as string literals of their JSON text,
//! decoded with `serde_json` at run time (and sent byte for byte).
//!
//! A response enum can only express documented statuses, so `501` is not a
//! value the trait method can return: an operation without an example
//! awaits `stub_runtime::skeleton::not_implemented`, and the layer of
//! `stub_runtime::skeleton::answer_unanswered` answers `501`. The stubs'
//! request checks have run by then, so `501` means "valid, not implemented".
//! Everything that is the same for every spec lives in that module; this
//! crate holds the per-operation answers and the command line.

use std::path::PathBuf;

use openapiv3::{Components, MediaType, ReferenceOr, StatusCode};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::format::{crate_doc, header, parse, rust_files};
use super::manifest;
use super::server_crate::{Shared, trait_name};
use crate::error::{CodegenError, Result};
use crate::ir::{self, BodyKind, Operation, ResponseCase, RustType, Status, body_kind};
use crate::names::type_name;
use crate::options::{GeneratedFile, Options, REGEN_COMMAND};
use crate::server;
use crate::spec::Spec;
use crate::spec::refs::resolve;
use crate::validate::error_codes;

/// The error `code` the `501` answers carry when the spec's codes are an
/// enum: the first of these it lists, else its first code.
const PREFERRED_CODES: &[&str] = &["not_implemented", "internal_error", "server_error"];

/// The skeleton crate at `dir`, named `name`, over the stubs of `options`
/// (`stubs`: what their generation built).
pub(crate) fn files(
    spec: &Spec,
    options: &Options,
    (dir, name): &(PathBuf, String),
    usable_error: bool,
    version: &str,
    stubs: &Shared,
) -> Result<Vec<GeneratedFile>> {
    let title = &spec.api.info.title;
    let components = spec.api.components.as_ref();
    let ops = &stubs.ops;
    let krate = format_ident!("{}", options.server.1.replace('-', "_"));
    let trait_ident = server::trait_ident(&trait_name(title));
    let error_type = usable_error.then(|| type_name(&options.error_schema));
    let methods = server::trait_methods(ops, &ir::schemes(components))
        .into_iter()
        .zip(ops.iter())
        .zip(&stubs.response_checks)
        .map(|((declaration, op), check)| {
            let check = check.as_ref().map(|f| {
                let f = format_ident!("{f}");
                quote!(#krate::validate::#f)
            });
            let documented =
                server::documented::table(op, &[501], error_type.as_deref(), components)
                    .unwrap_or_else(|| quote!(stub_runtime::Documented::NONE));
            let unanswered =
                quote!(stub_runtime::skeleton::not_implemented(const { &#documented }).await);
            let answer = answer(spec, op, error_type.as_deref(), unanswered, check);
            implementation(declaration, &server::names::enum_ident(op), &answer)
        })
        .collect::<Result<Vec<_>>>()?;
    let code = error_code(components, &options.error_schema);
    let lib = library(&krate, &trait_ident, methods, &code)?;
    let mut files = vec![GeneratedFile {
        path: dir.join("Cargo.toml"),
        contents: manifest::skeleton(name, title, version, &options.server.1, REGEN_COMMAND),
    }];
    let doc = format!(
        "{}\n\nEach operation answers with the example the spec gives for its success\n\
         response, else `501` in the spec's error format, after the stubs' router\n\
         has checked the request. Run it with `cargo run -p {name} -- --listen ADDR`.",
        crate_doc("Skeleton server", title, version)
    );
    files.extend(rust_files(dir.join("src"), &doc, "skeleton", &lib, &[])?);
    files.push(GeneratedFile {
        path: dir.join("src/main.rs"),
        contents: main_rs(name)?,
    });
    Ok(files)
}

/// The body of `op`'s method: an expression of its response enum
/// (`unanswered` where the spec gives no example).
fn answer(
    spec: &Spec,
    op: &Operation,
    error_type: Option<&str>,
    unanswered: TokenStream,
    check: Option<TokenStream>,
) -> TokenStream {
    let case = op.responses.iter().find(|r| is_success(r)).or_else(|| {
        // No success response: a documented redirect without a body.
        op.responses.iter().find(|r| {
            matches!(r.status, Status::Code(c) if (300..400).contains(&c)) && r.body.is_none()
        })
    });
    let Some(case) = case else {
        return unanswered;
    };
    let enum_ident = server::names::enum_ident(op);
    let variant = server::names::case_ident(case);
    // The variant's fields in order: status (ranges), body, headers.
    let status =
        server::names::carries_status(case.status).then(|| quote!(axum::http::StatusCode::OK));
    let headers = case
        .has_headers
        .then(|| quote!(axum::http::HeaderMap::new()));
    let build = |body: Option<TokenStream>| {
        let fields: Vec<&TokenStream> = [&status, &body, &headers].into_iter().flatten().collect();
        if fields.is_empty() {
            quote!(#enum_ident::#variant)
        } else {
            quote!(#enum_ident::#variant(#(#fields),*))
        }
    };
    let Some((media, ty)) = &case.body else {
        return build(None);
    };
    // The spec's example, else (or when it does not decode as the
    // response's type) a value synthesized from the schema.
    let given = example(spec, op, case.status, media).cloned();
    let made = synthesize(spec, case, media);
    let Some(value) = given.clone().or_else(|| made.clone()) else {
        return unanswered;
    };
    let texts: Vec<Literal> = [given, made]
        .iter()
        .flatten()
        .filter_map(|v| serde_json::to_string(v).ok())
        .map(|json| Literal::string(&json))
        .collect();
    let t = server::names::type_tokens(ty);
    let is_error = matches!(ty, RustType::Model(n) if Some(n.as_str()) == error_type);
    let code = match case.status {
        Status::Code(code) => code,
        _ => 200,
    };
    let decode = |text: &Literal| match (is_error, &check) {
        (true, _) => quote!(stub_runtime::skeleton::example::<#t>(#text)),
        // Sent only when it meets the stubs' response check.
        (false, Some(check)) => {
            quote!(stub_runtime::skeleton::checked_example::<#t>(#text, #code, #check))
        }
        (false, None) => quote!(stub_runtime::skeleton::raw_example::<#t>(#text)),
    };
    let body = match body_kind(media) {
        BodyKind::Json => {
            let (first, rest) = texts.split_first().expect("a value was found above");
            let (first, rest) = (decode(first), rest.iter().map(decode));
            quote!(#first #(.or_else(|| #rest))*)
        }
        // Text and bytes: the example is the body when it is a string.
        _ => {
            let serde_json::Value::String(text) = &value else {
                return unanswered;
            };
            let text = Literal::string(text);
            match ty {
                RustType::Bytes => quote!(Some(axum::body::Bytes::from_static(#text.as_bytes()))),
                RustType::String => quote!(Some(stub_runtime::TextBody::from(#text))),
                _ => return unanswered,
            }
        }
    };
    let answered = build(Some(quote!(body)));
    quote! {
        match #body {
            Some(body) => #answered,
            None => #unanswered,
        }
    }
}

/// A value for a success response the spec gives no example for: one
/// synthesized from its JSON schema (as a mock server would), a line of
/// text, or no bytes.
fn synthesize(spec: &Spec, case: &ResponseCase, media: &str) -> Option<serde_json::Value> {
    let status = match case.status {
        Status::Code(code) => code,
        _ => 200,
    };
    match (body_kind(media), &case.schema) {
        (BodyKind::Json, Some(schema)) => {
            server::documented::synthesized(schema, spec.api.components.as_ref(), status)
        }
        (BodyKind::Json, None) => Some(serde_json::json!({})),
        _ => Some(serde_json::Value::String(
            "the spec gives no example".into(),
        )),
    }
}

/// A response the skeleton answers with: a `2xx` code or the `2XX` range,
/// in the preferred media type.
fn is_success(r: &ResponseCase) -> bool {
    let success = match r.status {
        Status::Code(code) => (200..300).contains(&code),
        Status::Range(hundreds) => hundreds == 2,
        Status::Default => false,
    };
    success && r.media_variant.is_none()
}

/// The example of `op`'s response `status` in `media`: the media type's
/// `example`, else its first `examples` value, else its schema's `example`.
fn example<'a>(
    spec: &'a Spec,
    op: &Operation,
    status: Status,
    media: &str,
) -> Option<&'a serde_json::Value> {
    let components = spec.api.components.as_ref();
    let item = spec.api.paths.paths.get(&op.path)?.as_item()?;
    let (_, operation) = item
        .iter()
        .find(|(method, _)| method.eq_ignore_ascii_case(&op.method))?;
    let key = match status {
        Status::Code(code) => StatusCode::Code(code),
        Status::Range(hundreds) => StatusCode::Range(hundreds),
        Status::Default => return None,
    };
    let response = resolve(operation.responses.responses.get(&key)?, components)?;
    media_example(response.content.get(media)?, components)
}

fn media_example<'a>(
    media: &'a MediaType,
    components: Option<&'a Components>,
) -> Option<&'a serde_json::Value> {
    let from_examples = || {
        media
            .examples
            .values()
            .find_map(|e| resolve(e, components)?.value.as_ref())
    };
    let from_schema = || {
        let schema = media.schema.as_ref()?;
        let schema = match schema {
            ReferenceOr::Item(s) => s,
            reference => resolve(reference, components)?,
        };
        schema.schema_data.example.as_ref()
    };
    media
        .example
        .as_ref()
        .or_else(from_examples)
        .or_else(from_schema)
}

/// The method implementing `declaration` (a trait method as the stubs
/// declare it, returning `impl Future<Output = response> + Send`): an
/// `async fn` returning `response`, every argument ignored, `answer` as body.
/// Built as syntax, so the library's file is not parsed from its methods'
/// tokens a second time.
fn implementation(
    declaration: TokenStream,
    response: &proc_macro2::Ident,
    answer: &TokenStream,
) -> Result<syn::ImplItemFn> {
    let not_parsed = |what: &str, e: syn::Error| CodegenError::Generate {
        stage: "skeleton",
        message: format!("{what} does not parse: {e}"),
    };
    let mut method: syn::TraitItemFn =
        syn::parse2(declaration).map_err(|e| not_parsed("a trait method", e))?;
    method.attrs.retain(|a| !a.path().is_ident("doc"));
    for input in &mut method.sig.inputs {
        if let syn::FnArg::Typed(arg) = input {
            *arg.pat = syn::Pat::Wild(syn::PatWild {
                attrs: Vec::new(),
                underscore_token: Default::default(),
            });
        }
    }
    method.sig.asyncness = Some(Default::default());
    method.sig.output = syn::parse_quote!(-> #response);
    let block: syn::Block =
        syn::parse2(quote!({ #answer })).map_err(|e| not_parsed("a method's answer", e))?;
    Ok(syn::ImplItemFn {
        attrs: method.attrs,
        vis: syn::Visibility::Inherited,
        modifiers: Default::default(),
        sig: method.sig,
        block,
    })
}

/// The `code` of the `501` answers.
fn error_code(components: Option<&Components>, schema: &str) -> String {
    let Some(codes) = error_codes(components, schema) else {
        return "not_implemented".into();
    };
    PREFERRED_CODES
        .iter()
        .find(|c| codes.iter().any(|code| code == *c))
        .map(|c| (*c).to_string())
        .or_else(|| codes.first().cloned())
        .unwrap_or_else(|| "not_implemented".into())
}

/// The library: the implementation, the router with its `501` layer.
fn library(
    stubs: &proc_macro2::Ident,
    trait_ident: &proc_macro2::Ident,
    methods: Vec<syn::ImplItemFn>,
    code: &str,
) -> Result<syn::File> {
    let mut file = parse(
        "skeleton",
        quote! {
            /// The implementation of the stubs' trait that answers from the spec's examples.
            #[derive(Debug, Clone, Copy, Default)]
            pub struct Skeleton;

            /// The stubs' router serving [`Skeleton`]; operations without an
            /// example are answered `501` in the spec's error format.
            pub fn app() -> axum::Router {
                let router = #stubs::router(std::sync::Arc::new(Skeleton));
                stub_runtime::skeleton::answer_unanswered::<#stubs::Errors>(router, #code)
            }

            /// One method per operation.
            mod implementation {
                use #stubs::*;

                impl #trait_ident for super::Skeleton {}
            }
        },
    )?;
    // The methods go into the (only) impl, of the last item's module.
    let implementation = match file.items.last_mut() {
        Some(syn::Item::Mod(syn::ItemMod {
            content: Some((_, items)),
            ..
        })) => items.last_mut(),
        _ => None,
    };
    let Some(syn::Item::Impl(implementation)) = implementation else {
        unreachable!(
            "the library ends with the implementation module, whose last item is the impl"
        );
    };
    implementation
        .items
        .extend(methods.into_iter().map(syn::ImplItem::Fn));
    Ok(file)
}

/// `src/main.rs`: `--listen ADDR`, then serve until Ctrl-C.
fn main_rs(name: &str) -> Result<String> {
    let krate = format_ident!("{}", name.replace('-', "_"));
    let about = format!("{name}: the skeleton server (examples from the spec, else 501)");
    let tokens = quote! {
        #[tokio::main]
        async fn main() -> std::io::Result<()> {
            stub_runtime::skeleton::run(#name, #about, #krate::app()).await
        }
    };
    let file: syn::File = syn::parse2(tokens).map_err(|e| CodegenError::Generate {
        stage: "skeleton",
        message: format!("main.rs does not parse: {e}"),
    })?;
    Ok(format!("{}\n{}", header(), prettyplease::unparse(&file)))
}
