//! `#[derive(Responses)]`: a response enum's `status` and `send`, one match
//! arm per variant, from each variant's `#[response(...)]`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitInt, LitStr, Path, Variant};

/// Which status a variant is sent with.
enum Status {
    /// One code, known at compile time (checked to be 100 to 999).
    Code(u16),
    /// A range such as `4XX`: the variant carries its status, which must be
    /// in the range.
    Range(u16),
    /// `default`: the variant carries its status.
    Default,
}

/// How a variant's body is sent.
enum Body {
    /// No body.
    None,
    /// The spec's error format (`ErrorFormat::error`).
    Error,
    /// JSON (`ErrorFormat::json`).
    Json,
    /// Any other media type, sent with this `Content-Type`.
    Media(LitStr),
}

/// One variant's `#[response(...)]`.
struct Response {
    status: Status,
    body: Body,
    headers: bool,
}

impl Response {
    /// The fields the variant must have, in order.
    fn fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if !matches!(self.status, Status::Code(_)) {
            fields.push("the status");
        }
        if !matches!(self.body, Body::None) {
            fields.push("the body");
        }
        if self.headers {
            fields.push("the headers");
        }
        fields
    }
}

/// The `impl stub_runtime::Responses` for `input`.
pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let errors = errors_type(input)?;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`Responses` derives only for an enum, one variant per response",
        ));
    };
    let mut statuses = Vec::new();
    let mut sends = Vec::new();
    let mut failures: Option<syn::Error> = None;
    for variant in &data.variants {
        match variant_arms(variant, &errors) {
            Ok((status, send)) => {
                statuses.push(status);
                sends.push(send);
            }
            Err(e) => match &mut failures {
                Some(all) => all.combine(e),
                None => failures = Some(e),
            },
        }
    }
    if let Some(e) = failures {
        return Err(e);
    }
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let rt = quote!(::stub_runtime::__private);
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics ::stub_runtime::Responses for #name #ty_generics #where_clause {
            fn status(&self) -> #rt::StatusCode {
                match self {
                    #(#statuses)*
                }
            }

            fn send(self, status: #rt::StatusCode) -> #rt::Response {
                match self {
                    #(#sends)*
                }
            }
        }
    })
}

/// `#[responses(errors = Path)]`, else `Errors` (the name every generated
/// stub crate gives its error format).
fn errors_type(input: &DeriveInput) -> syn::Result<Path> {
    let mut errors = None;
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("responses"))
    {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("errors") {
                errors = Some(meta.value()?.parse::<Path>()?);
                Ok(())
            } else {
                Err(meta.error(format!(
                    "unknown `responses` attribute `{}`: expected `errors = Type`",
                    path_text(&meta.path)
                )))
            }
        })?;
    }
    Ok(errors.unwrap_or_else(|| Ident::new("Errors", Span::call_site()).into()))
}

/// The variant's `status` arm and `send` arm.
fn variant_arms(variant: &Variant, errors: &Path) -> syn::Result<(TokenStream, TokenStream)> {
    let v = &variant.ident;
    let response = response_attr(variant)?;
    let expected = response.fields();
    let count = match &variant.fields {
        Fields::Unit => 0,
        Fields::Unnamed(f) => f.unnamed.len(),
        Fields::Named(f) => {
            return Err(syn::Error::new(
                f.span(),
                format!("`{v}`: a response variant has unnamed fields (`{v}(..)`), not named ones"),
            ));
        }
    };
    if count != expected.len() {
        let wanted = match expected.as_slice() {
            [] => "no fields".to_string(),
            fields => fields.join(", "),
        };
        return Err(syn::Error::new(
            v.span(),
            format!(
                "`{v}` has {count} field(s); its `#[response(...)]` needs {}: {wanted}",
                expected.len()
            ),
        ));
    }
    let rt = quote!(::stub_runtime::__private);
    let format = quote!(<#errors as ::stub_runtime::ErrorFormat>);
    let status = match response.status {
        Status::Code(code) => {
            let pattern = if count == 0 {
                quote!(Self::#v)
            } else {
                quote!(Self::#v(..))
            };
            quote!(#pattern => const { #rt::status_code(#code) },)
        }
        Status::Range(_) | Status::Default => quote!(Self::#v(status, ..) => *status,),
    };
    let mut bindings = Vec::new();
    if !matches!(response.status, Status::Code(_)) {
        bindings.push(quote!(_));
    }
    let mut send = match &response.body {
        Body::None => quote!(#rt::IntoResponse::into_response(status)),
        Body::Error => quote!(#format::error(status, body)),
        Body::Json => quote!(#format::json(status, body)),
        Body::Media(media) => quote!(::stub_runtime::media_body(status, #media, body)),
    };
    if !matches!(response.body, Body::None) {
        bindings.push(quote!(body));
    }
    if response.headers {
        bindings.push(quote!(headers));
        send = quote!(::stub_runtime::with_headers(#send, headers));
    }
    if let Status::Range(hundreds) = response.status {
        send = quote!(#format::in_range(status, #hundreds, || #send));
    }
    let pattern = if bindings.is_empty() {
        quote!(Self::#v)
    } else {
        quote!(Self::#v(#(#bindings),*))
    };
    Ok((status, quote!(#pattern => #send,)))
}

/// The variant's one `#[response(...)]`.
fn response_attr(variant: &Variant) -> syn::Result<Response> {
    let v = &variant.ident;
    let mut attrs = variant
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("response"));
    let Some(attr) = attrs.next() else {
        return Err(syn::Error::new(
            v.span(),
            format!("`{v}` needs `#[response(status = ...)]`"),
        ));
    };
    if let Some(second) = attrs.next() {
        return Err(syn::Error::new(
            second.span(),
            format!("`{v}` has two `#[response(...)]` attributes"),
        ));
    }
    let mut status = None;
    let mut body = Body::None;
    let mut headers = false;
    attr.parse_nested_meta(|meta| {
        let key = path_text(&meta.path);
        match key.as_str() {
            "status" => status = Some(parse_status(&meta)?),
            "error" | "json" | "media" => {
                if !matches!(body, Body::None) {
                    return Err(meta.error(format!(
                        "`{v}`: one body kind only (`error`, `json` or `media = \"...\"`)"
                    )));
                }
                body = match key.as_str() {
                    "error" => Body::Error,
                    "json" => Body::Json,
                    _ => Body::Media(meta.value()?.parse()?),
                };
            }
            "headers" => headers = true,
            _ => {
                return Err(meta.error(format!(
                    "unknown `response` attribute `{key}`: expected `status`, `error`, `json`, `media` or `headers`"
                )));
            }
        }
        Ok(())
    })?;
    let Some(status) = status else {
        return Err(syn::Error::new(
            attr.span(),
            format!("`{v}`: `#[response(...)]` needs `status = ...`"),
        ));
    };
    Ok(Response {
        status,
        body,
        headers,
    })
}

/// `status = 404`, `status = "4XX"` or `status = "default"`.
fn parse_status(meta: &ParseNestedMeta<'_>) -> syn::Result<Status> {
    let value = meta.value()?;
    if value.peek(LitInt) {
        let lit: LitInt = value.parse()?;
        let code: u16 = lit.base10_parse()?;
        if !(100..=999).contains(&code) {
            return Err(syn::Error::new(
                lit.span(),
                format!("status {code} is not an HTTP status code (100 to 999)"),
            ));
        }
        return Ok(Status::Code(code));
    }
    let lit: LitStr = value.parse()?;
    let text = lit.value();
    match text.as_bytes() {
        b"default" => Ok(Status::Default),
        [d @ b'1'..=b'5', x, y]
            if x.eq_ignore_ascii_case(&b'X') && y.eq_ignore_ascii_case(&b'X') =>
        {
            Ok(Status::Range(u16::from(d - b'0')))
        }
        _ => Err(syn::Error::new(
            lit.span(),
            format!(
                "status \"{text}\": expected a code such as 404, a range such as \"4XX\", or \"default\""
            ),
        )),
    }
}

/// `path` as written, for messages.
fn path_text(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    fn expanded(input: DeriveInput) -> String {
        expand(&input).unwrap().to_string()
    }

    fn refused(input: DeriveInput) -> String {
        expand(&input).unwrap_err().to_string()
    }

    /// Every status form becomes its arm: a code a constant, a range and
    /// `default` the status the variant carries.
    #[test]
    fn each_status_form_gives_its_status_arm() {
        let out = expanded(parse_quote! {
            enum R {
                #[response(status = 201)]
                Created,
                #[response(status = 404, error)]
                NotFound(ApiError),
                #[response(status = "4xx", json)]
                Client(StatusCode, JsonBody<T>),
                #[response(status = "default", error)]
                Default(StatusCode, ApiError),
            }
        });
        let rt = ":: stub_runtime :: __private";
        for arm in [
            format!("Self :: Created => const {{ {rt} :: status_code (201u16) }}"),
            format!("Self :: NotFound (..) => const {{ {rt} :: status_code (404u16) }}"),
            "Self :: Client (status , ..) => * status".to_string(),
            "Self :: Default (status , ..) => * status".to_string(),
        ] {
            assert!(out.contains(&arm), "no `{arm}` in {out}");
        }
    }

    /// Each body kind is sent its own way, headers added after, a range
    /// checked around it; the error format is `Errors` unless named.
    #[test]
    fn each_body_kind_is_sent_its_own_way() {
        let out = expanded(parse_quote! {
            #[responses(errors = crate::MyErrors)]
            enum R {
                #[response(status = 204)]
                Empty,
                #[response(status = 400, error)]
                Bad(ApiError),
                #[response(status = 200, json, headers)]
                Ok(JsonBody<T>, HeaderMap),
                #[response(status = "5XX", media = "text/plain")]
                Server(StatusCode, TextBody),
            }
        });
        let format = "< crate :: MyErrors as :: stub_runtime :: ErrorFormat >";
        for arm in [
            "Self :: Empty => :: stub_runtime :: __private :: IntoResponse :: into_response (status)".to_string(),
            format!("Self :: Bad (body) => {format} :: error (status , body)"),
            format!("Self :: Ok (body , headers) => :: stub_runtime :: with_headers ({format} :: json (status , body) , headers)"),
            format!("Self :: Server (_ , body) => {format} :: in_range (status , 5u16 , || :: stub_runtime :: media_body (status , \"text/plain\" , body))"),
        ] {
            assert!(out.contains(&arm), "no `{arm}` in {out}");
        }
        let default = expanded(parse_quote! {
            enum R { #[response(status = 400, error)] Bad(ApiError) }
        });
        assert!(
            default.contains("< Errors as :: stub_runtime :: ErrorFormat > :: error"),
            "{default}"
        );
    }

    /// A wrong attribute is a compile error that names it.
    #[test]
    fn a_wrong_attribute_is_refused_by_name() {
        let e = refused(parse_quote! { enum R { #[response(status = 200, jsn)] Ok(T) } });
        assert_eq!(
            e,
            "unknown `response` attribute `jsn`: expected `status`, `error`, `json`, `media` or `headers`"
        );
        let e = refused(parse_quote! { #[responses(error = E)] enum R {} });
        assert_eq!(
            e,
            "unknown `responses` attribute `error`: expected `errors = Type`"
        );
        let e = refused(parse_quote! { enum R { Ok(T) } });
        assert_eq!(e, "`Ok` needs `#[response(status = ...)]`");
        let e = refused(parse_quote! { enum R { #[response(json)] Ok(T) } });
        assert_eq!(e, "`Ok`: `#[response(...)]` needs `status = ...`");
        let e = refused(parse_quote! { enum R { #[response(status = 1000)] Big } });
        assert_eq!(e, "status 1000 is not an HTTP status code (100 to 999)");
        let e = refused(parse_quote! { enum R { #[response(status = "6XX")] Odd(StatusCode) } });
        assert!(e.starts_with("status \"6XX\": expected"), "{e}");
        let e = refused(parse_quote! { enum R { #[response(status = 200, json, error)] Ok(T) } });
        assert!(e.starts_with("`Ok`: one body kind only"), "{e}");
        let e = refused(parse_quote! { struct R; });
        assert!(e.starts_with("`Responses` derives only for an enum"), "{e}");
    }

    /// The fields must be the ones the attribute says, in order.
    #[test]
    fn fields_not_matching_the_attribute_are_refused() {
        let e = refused(parse_quote! { enum R { #[response(status = 200, json)] Ok } });
        assert_eq!(
            e,
            "`Ok` has 0 field(s); its `#[response(...)]` needs 1: the body"
        );
        let e = refused(
            parse_quote! { enum R { #[response(status = "default", error, headers)] D(E) } },
        );
        assert_eq!(
            e,
            "`D` has 1 field(s); its `#[response(...)]` needs 3: the status, the body, the headers"
        );
        let e = refused(parse_quote! { enum R { #[response(status = 200)] Ok { body: T } } });
        assert!(
            e.starts_with("`Ok`: a response variant has unnamed fields"),
            "{e}"
        );
    }

    /// Every wrong variant is reported, not only the first.
    #[test]
    fn every_wrong_variant_is_reported() {
        let input: DeriveInput = parse_quote! { enum R { A, #[response(status = 200)] Ok, B } };
        let messages: Vec<String> = expand(&input)
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            messages,
            [
                "`A` needs `#[response(status = ...)]`",
                "`B` needs `#[response(status = ...)]`"
            ]
        );
    }
}
