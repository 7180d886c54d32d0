//! Each class of broken spec gives a clear error that names the place.

use serde_yaml::Value;
use users_api_codegen::{CodegenError, Options, Spec, generate};

fn users_spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/users.yaml"))
        .unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// Our spec's rules and layout: strict lints, the `ApiError` schema, the
/// client's extras, the crates in `generated-*`.
fn ours() -> Options {
    let krate = |dir: &str, name: &str| (dir.into(), name.to_string());
    Options {
        error_schema: "ApiError".into(),
        types: krate("generated-types", "users-api-types"),
        client: krate("generated-client", "users-api-client"),
        server: krate("generated-server-stubs", "users-api-server-stubs"),
        strict: true,
        client_extras: true,
        ..Options::default()
    }
}

fn run(doc: &Value) -> Result<(), CodegenError> {
    let text = serde_yaml::to_string(doc).unwrap();
    generate(&Spec::parse("users.yaml", &text)?, &ours()).map(|_| ())
}

/// Generation as for a foreign spec: lints are warnings.
fn lenient(doc: &Value) -> Result<Vec<users_api_codegen::Problem>, CodegenError> {
    let text = serde_yaml::to_string(doc).unwrap();
    let options = Options {
        strict: false,
        ..ours()
    };
    users_api_codegen::generate_with_warnings(&Spec::parse("users.yaml", &text)?, &options)
        .map(|(_, warnings)| warnings)
}

fn message(doc: &Value) -> String {
    run(doc).expect_err("the spec is broken").to_string()
}

fn op<'a>(doc: &'a mut Value, path: &str, method: &str) -> &'a mut Value {
    &mut doc["paths"][path][method]
}

#[test]
fn the_real_spec_generates() {
    run(&users_spec()).unwrap();
}

#[test]
fn output_is_deterministic() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/users.yaml"))
        .unwrap();
    let spec = Spec::parse("users.yaml", &text).unwrap();
    let a = generate(&spec, &ours()).unwrap();
    let b = generate(&spec, &ours()).unwrap();
    assert_eq!(a, b);
    for file in &a {
        let head = file.contents.lines().next().unwrap();
        assert!(
            head.contains("@generated") && head.contains("DO NOT EDIT"),
            "{}",
            file.path.display()
        );
        assert!(file.contents.contains("cargo xtask regen"));
    }
}

#[test]
fn yaml_error_names_line_and_column() {
    let err = Spec::parse("users.yaml", "openapi: 3.0.3\ninfo: [unclosed\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("users.yaml") && err.contains("invalid YAML") && err.contains("line"),
        "{err}"
    );
}

#[test]
fn non_openapi_structure_is_reported() {
    let err = Spec::parse(
        "users.yaml",
        "openapi: 3.0.3\ninfo: {title: x}\npaths: {}\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("not a valid OpenAPI 3.0 document") && err.contains("version"),
        "{err}"
    );
}

#[test]
fn dangling_ref_names_its_pointer() {
    let mut doc = users_spec();
    op(&mut doc, "/users", "get")["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] =
        "#/components/schemas/Nobody".into();
    let err = message(&doc);
    assert!(
        err.contains("dangling $ref: #/components/schemas/Nobody"),
        "{err}"
    );
    assert!(
        err.contains("#/paths/~1users/get/responses/200/content/application~1json/schema/$ref"),
        "{err}"
    );
}

#[test]
fn missing_operation_id_is_reported() {
    let mut doc = users_spec();
    op(&mut doc, "/users", "get")
        .as_mapping_mut()
        .unwrap()
        .remove("operationId");
    let err = message(&doc);
    assert!(
        err.contains("#/paths/~1users/get: missing operationId; the generators call this operation `get_users`"),
        "{err}"
    );
    // A foreign spec is only warned: the operation is named after its method and path.
    let warnings = lenient(&doc).expect("generates");
    assert!(
        warnings.iter().any(|w| w.message.contains("`get_users`")),
        "{warnings:?}"
    );
}

#[test]
fn a_second_success_body_is_left_to_the_client_as_unexpected() {
    let mut doc = users_spec();
    let ok = op(&mut doc, "/users", "get")["responses"]["200"].clone();
    let mut created = ok.clone();
    created["content"]["application/json"]["schema"]["$ref"] =
        "#/components/schemas/UserProfile".into();
    op(&mut doc, "/users", "get")["responses"]["201"] = created;
    // progenitor would panic on two success bodies; it gets a copy without the
    // second, and the method says so. The server stubs keep both.
    let text = serde_yaml::to_string(&doc).unwrap();
    let files = generate(&Spec::parse("users.yaml", &text).unwrap(), &ours()).unwrap();
    let client = files
        .iter()
        .find(|f| f.path.ends_with("generated-client/src/generated.rs"))
        .unwrap();
    assert!(
        client
            .contents
            .contains("Responses 201 have a body of another type"),
        "the note on the method"
    );
    let server = files
        .iter()
        .find(|f| f.path.ends_with("generated-server-stubs/src/generated.rs"))
        .unwrap();
    assert!(
        server
            .contents
            .contains("Created(JsonBody<types::UserProfile>)")
    );
}

#[test]
fn several_request_media_types_of_one_type_are_accepted_and_others_caught() {
    let mut doc = users_spec();
    let body =
        &mut op(&mut doc, "/users/authenticate/from_token", "post")["requestBody"]["content"];
    let json = body["application/json"].clone();
    body["application/x-www-form-urlencoded"] = json;
    // JSON and a form of one schema: the stubs accept both, nothing to say.
    run(&doc).expect("JSON and a form of one schema are supported");
    let text = serde_yaml::to_string(&doc).unwrap();
    let files = generate(&Spec::parse("users.yaml", &text).unwrap(), &ours()).unwrap();
    let stubs = files
        .iter()
        .find(|f| f.path.ends_with("generated-server-stubs/src/generated.rs"))
        .unwrap();
    assert!(
        stubs.contents.contains(
            "the request body must be sent as application/json or application/x-www-form-urlencoded"
        ),
        "the router reads either"
    );
    // A media type decoding into another type: a lint.
    let body =
        &mut op(&mut doc, "/users/authenticate/from_token", "post")["requestBody"]["content"];
    body["text/plain"] = serde_yaml::from_str("{schema: {type: string}}").unwrap();
    let err = message(&doc);
    assert!(
        err.contains("`text/plain` decodes into another type than `application/json`"),
        "{err}"
    );
    assert!(
        err.contains("/requestBody/content/text~1plain"),
        "names the place: {err}"
    );
    assert!(lenient(&doc).is_ok(), "a warning for a foreign spec");
}

#[test]
fn unsupported_constructs_are_named() {
    let mut doc = users_spec();
    op(&mut doc, "/users", "get")["parameters"] = serde_yaml::from_str(
        "[{name: session, in: cookie, content: {application/json: {schema: {type: string}}}}]",
    )
    .unwrap();
    op(&mut doc, "/users/{user}", "get")["parameters"] = serde_yaml::from_str(
        "[{name: filter, in: query, style: deepObject, schema: {type: object}}]",
    )
    .unwrap();
    let err = message(&doc);
    assert!(
        err.contains("parameter `session`: `content` parameters are not supported"),
        "{err}"
    );
    assert!(
        err.contains(
            "query parameter `filter`: the server stubs do not read deepObject parameters"
        ),
        "{err}"
    );
    assert!(
        err.contains("2 problem(s)"),
        "every problem is reported at once: {err}"
    );
}

#[test]
fn undefined_security_scheme_and_bad_operation_id() {
    let mut doc = users_spec();
    op(&mut doc, "/users", "get")["security"] = serde_yaml::from_str("[{nobody: []}]").unwrap();
    op(&mut doc, "/users/{user}", "get")["operationId"] = "GetUser".into();
    let err = message(&doc);
    assert!(
        err.contains("security scheme `nobody` is not defined"),
        "{err}"
    );
    assert!(
        err.contains("operationId `GetUser` is not snake_case ([a-z][a-z0-9_]*); the generators call it `get_user`"),
        "{err}"
    );
}

#[test]
fn path_template_and_parameters_must_agree() {
    let mut doc = users_spec();
    let item = doc["paths"]["/users/{user}"].clone();
    doc["paths"]
        .as_mapping_mut()
        .unwrap()
        .insert("/users/{user}/{extra}".into(), item);
    doc["paths"]["/users/{user}/{extra}"]["get"]["operationId"] = "extra_op".into();
    let err = message(&doc);
    assert!(
        err.contains("path template segment {extra} has no matching path parameter"),
        "{err}"
    );
}

#[test]
fn router_rejections_must_be_documented() {
    let mut doc = users_spec();
    let responses = op(&mut doc, "/users/authenticate/from_token", "post")["responses"]
        .as_mapping_mut()
        .unwrap();
    responses.remove("415");
    let err = message(&doc);
    assert!(
        err.contains(
            "answers a wrong content type with 415, which the operation does not document"
        ),
        "{err}"
    );
}

#[test]
fn duplicate_keys_do_not_panic() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/users.yaml"))
        .unwrap();
    let broken = text.replacen("operationId: users_snapshot", "summary: duplicated", 1);
    let err = Spec::parse("users.yaml", &broken)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("users.yaml"), "{err}");
}

#[test]
fn secured_operations_must_document_401_and_keys_must_be_headers() {
    let mut doc = users_spec();
    op(&mut doc, "/users", "get")["responses"]
        .as_mapping_mut()
        .unwrap()
        .remove("401");
    doc["components"]["securitySchemes"]["application"]["in"] = "query".into();
    let err = message(&doc);
    assert!(
        err.contains("answers missing credentials with 401"),
        "{err}"
    );
    assert!(
        err.contains("security scheme `application` is not read by the server stubs"),
        "{err}"
    );
}

#[test]
fn the_error_code_enum_must_hold_the_router_codes() {
    let mut doc = users_spec();
    let codes = doc["components"]["schemas"]["ApiError"]["properties"]["code"]["enum"]
        .as_sequence_mut()
        .unwrap();
    codes.retain(|c| c.as_str() != Some("method_not_allowed"));
    let err = message(&doc);
    assert!(
        err.contains("with code `method_not_allowed`, which the error schema's `code` enum lacks"),
        "{err}"
    );
}
