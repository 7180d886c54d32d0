//! The server-stub generator on names and texts public specs use: it never
//! panics, and what it emits binds every name once. `cargo xtask corpus`
//! compiles the crafted spec (`corpus/crafted/server-names.yaml`) and runs
//! clippy on it; these tests check the generated source itself.

use std::collections::BTreeSet;

use syn::visit_mut::VisitMut;
use users_api_codegen::{GeneratedFile, Options, Spec, generate_with_warnings};

const CRAFTED: &str = include_str!("../../corpus/crafted/server-names.yaml");

fn options() -> Options {
    Options {
        error_schema: "Error".into(),
        types: ("types".into(), "crafted-types".into()),
        client: ("client".into(), "crafted-client".into()),
        server: ("server-stubs".into(), "crafted-server-stubs".into()),
        strict: false,
        client_extras: true,
        ..Options::default()
    }
}

fn generate(text: &str) -> Result<Vec<GeneratedFile>, users_api_codegen::CodegenError> {
    let spec = Spec::parse("crafted.yaml", text)?;
    generate_with_warnings(&spec, &options()).map(|(files, _)| files)
}

fn server_source(files: &[GeneratedFile]) -> &str {
    &files
        .iter()
        .find(|f| f.path.ends_with("server-stubs/src/generated.rs"))
        .expect("a server stub file")
        .contents
}

/// Every parameter list, struct and pattern of a file, with the names it binds.
#[derive(Default)]
struct Bindings {
    duplicates: Vec<String>,
    functions: Vec<(String, Vec<String>)>,
}

impl Bindings {
    fn check(&mut self, what: String, names: Vec<String>) {
        let mut seen = BTreeSet::new();
        for n in &names {
            if !seen.insert(n.clone()) {
                self.duplicates.push(format!("{what}: `{n}` twice"));
            }
        }
    }
}

impl VisitMut for Bindings {
    fn visit_signature_mut(&mut self, sig: &mut syn::Signature) {
        let names: Vec<String> = sig
            .inputs
            .iter()
            .map(|arg| match arg {
                syn::FnArg::Receiver(_) => "self".to_string(),
                syn::FnArg::Typed(t) => {
                    let pat = &t.pat;
                    quote::quote!(#pat).to_string()
                }
            })
            .collect();
        self.functions.push((sig.ident.to_string(), names.clone()));
        self.check(format!("fn {}", sig.ident), names);
        syn::visit_mut::visit_signature_mut(self, sig);
    }

    fn visit_item_struct_mut(&mut self, s: &mut syn::ItemStruct) {
        let names = s
            .fields
            .iter()
            .filter_map(|f| f.ident.as_ref().map(|i| i.to_string()))
            .collect();
        self.check(format!("struct {}", s.ident), names);
        syn::visit_mut::visit_item_struct_mut(self, s);
    }

    fn visit_expr_struct_mut(&mut self, s: &mut syn::ExprStruct) {
        let names = s
            .fields
            .iter()
            .map(|f| {
                let member = &f.member;
                quote::quote!(#member).to_string()
            })
            .collect();
        let path = &s.path;
        self.check(format!("literal {}", quote::quote!(#path)), names);
        syn::visit_mut::visit_expr_struct_mut(self, s);
    }
}

fn bindings(source: &str) -> Bindings {
    let mut file = syn::parse_file(source).expect("the server stubs parse");
    let mut b = Bindings::default();
    b.visit_file_mut(&mut file);
    b
}

#[test]
fn crafted_names_generate_without_panic_and_bind_once() {
    let files = generate(CRAFTED).expect("the crafted spec generates");
    let source = server_source(&files);
    let b = bindings(source);
    assert!(b.duplicates.is_empty(), "{:#?}", b.duplicates);
    // A query and a header parameter named `id`: one field in each struct.
    let status = b
        .functions
        .iter()
        .find(|(name, _)| name == "_2fa_status_v2")
        .expect("the digit-first operation keeps its (escaped) name");
    assert_eq!(status.1, ["self", "thing", "query", "headers"]);
    // Path parameters named like the handler's own bindings and keywords.
    let keywords = b
        .functions
        .iter()
        .find(|(name, _)| name == "handle_berpr_fen")
        .expect("a non-ASCII operationId becomes an ASCII name");
    assert!(
        keywords.1.iter().all(|a| !a.contains("self_")),
        "{keywords:?}"
    );
    let method = b
        .functions
        .iter()
        .find(|(name, _)| name == "_berpr_fen")
        .expect("trait method");
    assert_eq!(
        method.1,
        [
            "self",
            "credentials",
            "self_",
            "match_",
            "_1st",
            "caf_",
            // The handler binds no `values` (its path values are `path`).
            "values",
            "request_2",
            "shared_2",
            "user_id",
            "query",
        ]
    );
}

#[test]
fn bare_carriage_returns_never_reach_a_doc_comment() {
    // A bare CR where the crafted spec has a line break (YAML `\r` escapes).
    let text = CRAFTED.replace("line break: ", "bare carriage return:\\r");
    let text = text.replace("line break in the", "bare CR\\rin the");
    assert_eq!(text.matches("\\r").count(), 3, "the spec has the CRs");
    let files = generate(&text).unwrap();
    let source = server_source(&files);
    assert!(!source.contains('\r'), "a CR is left in the server stubs");
    assert!(source.contains("/// A summary with a bare carriage return:\n"));
    assert!(source.contains("/// this line follows it."));
}

/// Any name a spec may use, in every place the server stubs turn into Rust:
/// operationIds, parameter names (path, query, header), schema names and
/// security scheme names. Generation gives code or an error, never a panic.
#[test]
fn no_name_makes_the_generator_panic() {
    let names = [
        "1",
        "1st",
        "-",
        "a-b",
        "a.b",
        "a b",
        "self",
        "Self",
        "type",
        "crate",
        "super",
        "_",
        "__",
        "ünïcödé",
        "日本語",
        "☃",
        "Response",
        "Errors",
        "Credentials",
        "router",
    ];
    for name in names {
        let text = format!(
            r#"openapi: 3.0.3
info: {{ title: "{name}", version: "1" }}
paths:
  /x/{{{name}}}:
    post:
      operationId: "{name}"
      security: [{{ "{name}": [] }}]
      parameters:
        - {{ name: "{name}", in: path, required: true, schema: {{ type: string }} }}
        - {{ name: "{name}", in: query, schema: {{ type: string }} }}
        - {{ name: "{name}", in: header, schema: {{ type: string }} }}
      requestBody:
        content:
          application/json:
            schema: {{ $ref: '#/components/schemas/{name}' }}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {{ $ref: '#/components/schemas/{name}' }}
components:
  securitySchemes:
    "{name}": {{ type: apiKey, in: header, name: X-Key }}
  schemas:
    "{name}": {{ type: object, properties: {{ "{name}": {{ type: string }} }} }}
"#
        );
        let outcome = std::panic::catch_unwind(|| generate(&text));
        let result = outcome.unwrap_or_else(|_| panic!("the generator panicked on {name:?}"));
        if let Ok(files) = result {
            let b = bindings(server_source(&files));
            assert!(b.duplicates.is_empty(), "{name:?}: {:#?}", b.duplicates);
        }
    }
}
