//! Per operation: the trait method, and the handler that reads the request
//! into its typed arguments (every refusal a `?`) and calls it; per path:
//! the routes.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::checks::{CheckFn, OpChecks};
use super::params::{Place, field_idents, is_optional, read_struct};
use super::rust::{Unique, doc_attrs, enum_ident, expected, ident, param_tokens, type_tokens};
use super::security::{SchemeFields, requirement};
use crate::model::{Body, BodyKind, Operation, RustType, media_essence};

/// Names a handler binds itself; path arguments never take them.
const HANDLER_LOCALS: &[&str] = &[
    "self",
    "shared",
    "header_map",
    "request",
    "path",
    "query_pairs",
    "cookie_pairs",
    "cookies",
    "credentials",
    "query",
    "headers",
    "body",
];

/// Clippy's `too_many_arguments` threshold.
const CLIPPY_MAX_ARGUMENTS: usize = 7;

/// The names of `op`'s path arguments: distinct from each other and from
/// the handler's own bindings, whatever the spec calls them.
fn path_args(op: &Operation) -> Vec<Ident> {
    let mut scope = Unique::new(HANDLER_LOCALS);
    op.path_params
        .iter()
        .map(|p| scope.field(&p.name))
        .collect()
}

/// The handlers' names, `handle_{operation}`: snake case (no `__` after
/// `handle` for an operation named `_1st`) and distinct.
pub fn handler_idents(ops: &[Operation]) -> Vec<Ident> {
    let mut scope = Unique::new(&[]);
    ops.iter()
        .map(|op| scope.field(&format!("handle_{}", op.id.trim_start_matches('_'))))
        .collect()
}

/// The trait method of `op`.
pub fn trait_method(op: &Operation, schemes: &SchemeFields<'_>) -> TokenStream {
    let name = ident(&op.id);
    let ret = enum_ident(op);
    let mut doc = format!("`{} {}`", op.method, op.path);
    if !op.doc.is_empty() {
        doc.push_str("\n\n");
        doc.push_str(&op.doc);
    }
    if let Some(body) = op.body.as_ref().filter(|b| !b.also.is_empty()) {
        let listed: Vec<String> = std::iter::once(&body.media)
            .chain(body.also.iter().map(|(m, _)| m))
            .map(|m| format!("`{m}`"))
            .collect();
        doc.push_str(&format!(
            "\n\nThe body arrives decoded from whichever of {} the request was sent as.",
            listed.join(", ")
        ));
    }
    let mut args = Vec::new();
    if schemes.secures(op) {
        args.push(quote!(credentials: Credentials));
    }
    for (p, n) in op.path_params.iter().zip(path_args(op)) {
        let t = param_tokens(p.ty);
        args.push(quote!(#n: #t));
    }
    for place in Place::ALL {
        if !place.params(op).is_empty() {
            let (arg, t) = (place_arg(place), place.struct_ident(op));
            args.push(quote!(#arg: #t));
        }
    }
    if let Some(b) = &op.body {
        let t = type_tokens(&b.ty);
        args.push(quote!(body: #t));
    }
    // `&self` counts too.
    let allow = (args.len() + 1 > CLIPPY_MAX_ARGUMENTS).then(|| {
        quote!(#[allow(clippy::too_many_arguments, reason = "one argument per path parameter of the spec")])
    });
    let doc = doc_attrs(&doc);
    quote! {
        #doc
        #allow
        fn #name(&self, #(#args),*) -> impl Future<Output = #ret> + Send;
    }
}

/// The argument holding the parameters of `place`.
fn place_arg(place: Place) -> Ident {
    match place {
        Place::Query => format_ident!("query"),
        Place::Header => format_ident!("headers"),
        Place::Cookie => format_ident!("cookies"),
    }
}

/// The handler of `op`, the `index`th of `OPERATIONS`. Its first step
/// reports that index (`RouterOptions::routed`): the router's match, for
/// whoever labels requests by operation.
pub fn handler(
    (index, op): (usize, &Operation),
    name: &Ident,
    trait_ident: &Ident,
    schemes: &SchemeFields<'_>,
    checks: &OpChecks,
    answers: Option<&Ident>,
) -> TokenStream {
    let method = ident(&op.id);
    let mut extractors = vec![quote!(State(shared): State<stub_runtime::Shared<A>>)];
    let index = proc_macro2::Literal::usize_unsuffixed(index);
    let mut steps = vec![quote!(shared.options.routed(#index);)];
    let mut args = Vec::new();
    let secured = schemes.secures(op);
    let checks_media = op
        .body
        .as_ref()
        .is_some_and(|b| matches!(b.kind, BodyKind::Text | BodyKind::Bytes) && b.media != "*/*");
    let several_media = op.body.as_ref().is_some_and(|b| !b.also.is_empty());
    // A required body of any media type (`*/*` alone) matches any
    // `Content-Type`, so only its absence is refused.
    let any_media_required = op
        .body
        .as_ref()
        .is_some_and(|b| b.required && b.media == "*/*" && b.also.is_empty());
    // Headers are borrowed from the request, not cloned: every step reading
    // them comes before the body's reader takes the request.
    let needs_headers = secured
        || !op.header_params.is_empty()
        || !op.cookie_params.is_empty()
        || checks_media
        || several_media
        || any_media_required;
    if needs_headers {
        steps.push(quote!(let header_map = request.headers();));
    }
    if !op.query_params.is_empty() {
        extractors.push(quote!(query_pairs: stub_runtime::QueryPairs));
    }
    if secured {
        steps.push(quote!(let credentials = Credentials::from_headers(header_map)?;));
        steps.extend(requirement(op, schemes));
        args.push(quote!(credentials));
    }
    if !op.path_params.is_empty() {
        extractors.push(quote!(path: stub_runtime::PathValues));
        for (p, n) in op.path_params.iter().zip(path_args(op)) {
            let (raw, t, exp) = (&p.name, param_tokens(p.ty), expected(p.ty));
            steps.push(quote!(let #n: #t = path.get(#raw, #exp)?;));
            args.push(quote!(#n));
        }
        for ((p, n), check) in op.path_params.iter().zip(path_args(op)).zip(&checks.path) {
            if let Some(check) = check {
                steps.push(param_check(
                    quote!(BadPathParameter),
                    "path",
                    &p.name,
                    quote!(Some(&#n)),
                    check,
                ));
            }
        }
    }
    for place in Place::ALL {
        if place.params(op).is_empty() {
            continue;
        }
        if place == Place::Cookie {
            steps.push(quote!(let cookie_pairs = stub_runtime::QueryPairs::cookies(header_map);));
        }
        let (arg, read) = (place_arg(place), read_struct(op, place));
        steps.push(quote!(let #arg = #read;));
        let place_checks = match place {
            Place::Query => &checks.query,
            Place::Header => &checks.header,
            Place::Cookie => &checks.cookie,
        };
        let params = place.params(op);
        for ((p, f), check) in params.iter().zip(field_idents(params)).zip(place_checks) {
            let Some(check) = check else { continue };
            let value = if is_optional(p) {
                quote!(#arg.#f.as_ref())
            } else {
                quote!(Some(&#arg.#f))
            };
            steps.push(param_check(
                quote!(BadParameter),
                place.word(),
                &p.name,
                value,
                check,
            ));
        }
        args.push(quote!(#arg));
    }
    if let Some(body) = &op.body {
        let schema = match &body.ty {
            RustType::Model(name) => name.as_str(),
            _ => "body",
        };
        if checks_media && !several_media {
            let media = &body.media;
            steps.push(quote!(stub_runtime::expect_media_type(header_map, #media)?;));
        }
        if any_media_required {
            steps.push(quote!(stub_runtime::expect_body(header_map)?;));
        }
        // The handler takes the whole request and reads its body with the
        // reader of the media type it was sent as.
        let read = if several_media {
            read_any_media(body, schema, checks.body.as_ref())
        } else {
            read_body(body.kind, &body.ty, schema, checks.body.as_ref())
        };
        steps.push(quote!(let body = #read;));
        args.push(quote!(body));
    }
    if needs_headers || op.body.is_some() {
        // `Request` takes the whole request, so it is the last extractor.
        extractors.push(quote!(request: axum::extract::Request));
    }
    if let Some(answers) = answers {
        return documented_handler(
            op,
            name,
            trait_ident,
            &extractors,
            &steps,
            &args,
            checks,
            answers,
        );
    }
    let Some(responses) = &checks.responses else {
        return quote! {
            async fn #name<A: #trait_ident>(#(#extractors),*) -> Result<Response, Refused> {
                #(#steps)*
                Ok(stub_runtime::response(shared.api.#method(#(#args),*).await))
            }
        };
    };
    let respond = respond(op, &args, responses);
    quote! {
        async fn #name<A: #trait_ident>(#(#extractors),*) -> Result<Response, Refused> {
            #(#steps)*
            Ok(#respond)
        }
    }
}

/// The call of `op`'s implementation, its response checked by `responses`
/// when the options ask for it: a `Response`.
fn respond(op: &Operation, args: &[TokenStream], responses: &Ident) -> TokenStream {
    let (id, method) = (&op.id, ident(&op.id));
    quote! {
        stub_runtime::respond::<Errors>(
            &shared.options,
            #id,
            shared.api.#method(#(#args),*).await,
            validate::#responses,
        )
        .await
    }
}

/// The handler of an operation that answers some refusals as it documents
/// them (`answers`, its `stub_runtime::Documented` table): the steps run in
/// a block whose refusal goes through the table.
#[allow(
    clippy::too_many_arguments,
    reason = "the parts of one handler, built by its caller"
)]
fn documented_handler(
    op: &Operation,
    name: &Ident,
    trait_ident: &Ident,
    extractors: &[TokenStream],
    steps: &[TokenStream],
    args: &[TokenStream],
    checks: &OpChecks,
    answers: &Ident,
) -> TokenStream {
    let method = ident(&op.id);
    let call = match &checks.responses {
        Some(responses) => {
            let respond = respond(op, args, responses);
            quote!(Ok(#respond))
        }
        None => quote!(Ok(stub_runtime::response(shared.api.#method(#(#args),*).await))),
    };
    quote! {
        async fn #name<A: #trait_ident>(#(#extractors),*) -> Response {
            #answers.run::<Errors>(async move {
                #(#steps)*
                #call
            })
            .await
        }
    }
}

/// The statement checking one parameter value (`value`, an `Option` of a
/// reference: `None` for an optional parameter left out) against its
/// schema when the options ask for it.
fn param_check(
    kind: TokenStream,
    place: &str,
    name: &str,
    value: TokenStream,
    check: &CheckFn,
) -> TokenStream {
    let check = check.outside();
    quote! {
        stub_runtime::param_check(&shared.options, stub_runtime::RejectionKind::#kind, #place, #name, #value, #check)?;
    }
}

/// The `?` expression reading the body of `request` of `kind` into `ty`
/// (checked by `check` when the options ask for it: a JSON body before
/// decoding, a form body after, as its typed value).
///
/// A form body is checked only when it decodes into a model: a free-form
/// body (`serde_json::Value`) read from a form holds text, or a number where
/// the text is an integer, not the types its schema names, so a check could
/// refuse a valid form (`name=12` for a `type: string` property).
fn read_body(kind: BodyKind, ty: &RustType, schema: &str, check: Option<&CheckFn>) -> TokenStream {
    let t = type_tokens(ty);
    let check = match check.map(CheckFn::outside) {
        Some(check) if kind == BodyKind::Json || matches!(ty, RustType::Model(_)) => {
            quote!(stub_runtime::request_check(&shared.options, #check))
        }
        _ => quote!(None),
    };
    let reader = match kind {
        BodyKind::Json => format_ident!("json_request"),
        BodyKind::Form => format_ident!("form_request"),
        BodyKind::Text => format_ident!("text_request"),
        BodyKind::Bytes => format_ident!("bytes_request"),
    };
    // Each reader applies the router's body limit (no layer does).
    let limit = quote!(shared.options.body_limit);
    match kind {
        BodyKind::Json | BodyKind::Form => {
            quote!(stub_runtime::#reader::<#t>(request, #limit, #schema, #check).await?)
        }
        BodyKind::Text | BodyKind::Bytes => quote!(stub_runtime::#reader(request, #limit).await?),
    }
}

/// The expression that reads `request` as whichever of the body's media
/// types its `Content-Type` names (`*/*` last, matching any), else refuses
/// it with 415.
fn read_any_media(body: &Body, schema: &str, check: Option<&CheckFn>) -> TokenStream {
    let mut listed: Vec<(&str, BodyKind)> = std::iter::once((body.media.as_str(), body.kind))
        .chain(body.also.iter().map(|(m, k)| (m.as_str(), *k)))
        .collect();
    listed.sort_by_key(|(media, _)| *media == "*/*");
    let names: Vec<String> = listed
        .iter()
        .map(|(media, _)| media_essence(media))
        .collect();
    let refusal = format!("the request body must be sent as {}", names.join(" or "));
    // One branch per way of reading (media types read alike share it).
    let mut kinds: Vec<(BodyKind, Vec<&str>)> = Vec::new();
    for (media, kind) in &listed {
        match kinds.iter_mut().find(|(k, _)| k == kind) {
            Some((_, medias)) => medias.push(media),
            None => kinds.push((*kind, vec![media])),
        }
    }
    // The branch taking `*/*` matches anything: it goes last, in place of
    // the refusal.
    kinds.sort_by_key(|(_, medias)| medias.contains(&"*/*"));
    let last = match kinds.pop_if(|(_, medias)| medias.contains(&"*/*")) {
        Some((kind, _)) => read_body(kind, &body.ty, schema, check),
        // `?` converts for either handler error type (`Refused`, `Rejection`).
        None => {
            quote!(Err(Rejection::new(stub_runtime::RejectionKind::UnsupportedMediaType, #refusal))?)
        }
    };
    let branches = kinds.iter().map(|(kind, medias)| {
        let read = read_body(*kind, &body.ty, schema, check);
        let each = medias
            .iter()
            .map(|media| quote!(stub_runtime::expect_media_type(header_map, #media).is_ok()));
        quote!(if #(#each)||* { #read } else)
    });
    quote!(#(#branches)* { #last })
}

/// `.path(...)` calls on `stub_runtime::Routes`, one per path, with 405 for every method the spec does not list.
pub fn route_calls(ops: &[Operation], handlers: &[Ident]) -> TokenStream {
    let mut paths: Vec<&str> = Vec::new();
    for op in ops {
        if !paths.contains(&op.path.as_str()) {
            paths.push(&op.path);
        }
    }
    let routes = paths.into_iter().map(|path| {
        let here: Vec<(&Operation, &Ident)> = ops
            .iter()
            .zip(handlers)
            .filter(|(o, _)| o.path == path)
            .collect();
        let allow = here
            .iter()
            .map(|(o, _)| o.method.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let methods = here.iter().map(|(op, h)| {
            let filter = ident(&op.method);
            quote!(.on(MethodFilter::#filter, #h::<A>))
        });
        quote! {
            .path(#path, #allow, MethodRouter::new() #(#methods)*)
        }
    });
    quote!(#(#routes)*)
}

#[cfg(test)]
mod tests {
    use proc_macro2::Span;

    use super::*;

    /// The `?` expression [`read_body`] gives a form body of type `ty`
    /// with a check, as text.
    fn form_read(ty: &RustType) -> String {
        let check = CheckFn::Local(Ident::new("schema_item", Span::call_site()));
        read_body(BodyKind::Form, ty, "Item", Some(&check)).to_string()
    }

    #[test]
    fn every_reader_is_given_the_routers_body_limit() {
        for kind in [
            BodyKind::Json,
            BodyKind::Form,
            BodyKind::Text,
            BodyKind::Bytes,
        ] {
            let read = read_body(kind, &RustType::Json, "body", None).to_string();
            assert!(
                read.contains("(request , shared . options . body_limit"),
                "{kind:?}: {read}"
            );
        }
    }

    #[test]
    fn a_form_decoding_into_a_model_is_checked_and_a_free_form_one_only_typed() {
        let model = form_read(&RustType::Model("Item".into()));
        assert!(model.contains("stub_runtime :: form_request"), "{model}");
        assert!(model.contains("validate :: schema_item"), "{model}");
        assert!(model.contains("shared . options . body_limit"), "{model}");
        // Its values stay text (or integers): a check could refuse a valid form.
        let free = form_read(&RustType::Json);
        assert!(free.contains("stub_runtime :: form_request"), "{free}");
        assert!(!free.contains("schema_item"), "{free}");
    }
}
