//! Request and response checks of the generated router, over real HTTP,
//! against `check_constraints` of corpus/features.yaml: per keyword family
//! one valid and one invalid request. Every expectation (status, JSON
//! pointer, rule) is written here from the spec text, not taken from the
//! generator; every refusal is checked not to echo the value sent.

mod common;

use common::serve_with;
use features_api_server_stubs::RouterOptions;
use serde_json::{Value, json};

/// A body every keyword of `Constrained` accepts (at most 12 properties).
fn valid() -> Value {
    json!({
        "name": "tom",
        "age": 30,
        "email": "tom@example.com",
        "kind": "cat",
        "score": 2.5,
        "born": "2024-02-29",
        "seen": "2024-02-29T12:30:00Z",
        "site": "https://example.com/a",
        "ip4": "192.168.0.1",
        "ip6": "2001:db8::1",
        "blob": "aGVsbG8=",
        "tags": ["a", "b"],
    })
}

/// [`valid`] with `key` set to `value` (removed for `Value::Null`).
fn with(key: &str, value: Value) -> Value {
    let mut body = valid();
    let object = body.as_object_mut().unwrap();
    if value.is_null() {
        object.remove(key);
    } else {
        object.insert(key.into(), value);
    }
    body
}

/// A small body (the required properties and `kind`) plus `key: value`.
fn small(key: &str, value: Value) -> Value {
    let mut body = json!({"name": "tom", "age": 30, "email": "tom@example.com", "kind": "dog"});
    body.as_object_mut().unwrap().insert(key.into(), value);
    body
}

/// A header name and value.
type Header = (&'static str, &'static str);

struct Server {
    url: String,
    http: reqwest::Client,
}

impl Server {
    async fn start(options: RouterOptions) -> Self {
        Self {
            url: serve_with(options).await,
            http: reqwest::Client::new(),
        }
    }

    async fn checked() -> Self {
        Self::start(RouterOptions {
            validate_requests: true,
            validate_responses: true,
            ..RouterOptions::default()
        })
        .await
    }

    /// POSTs `body` to `path` (with `header`), returning status and body text.
    async fn post(&self, path: &str, header: Option<(&str, &str)>, body: &Value) -> (u16, String) {
        let mut request = self.http.post(format!("{}{path}", self.url)).json(body);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

/// Asserts a refusal: `status`, the built-in error body naming `message`
/// (pointer and rule), and no trace of `sent`.
fn assert_refused(what: &str, (status, text): (u16, String), want: u16, message: &str, sent: &str) {
    assert_eq!(status, want, "{what}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: {text}"));
    assert_eq!(body["status"], want, "{what}: {text}");
    let got = body["message"].as_str().unwrap_or_default();
    assert!(
        got.ends_with(message),
        "{what}: `{got}` should end with `{message}`"
    );
    assert!(
        !text.contains(sent),
        "{what}: the answer echoes `{sent}`: {text}"
    );
}

#[tokio::test]
async fn every_keyword_family_accepts_valid_bodies_and_refuses_invalid_ones_with_422() {
    let server = Server::checked().await;
    let (status, text) = server.post("/constrained/ABC", None, &valid()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), valid());

    // Valid variants, one per family below: each is accepted.
    let accepted = [
        ("minimum is inclusive", with("age", json!(0))),
        ("maximum is inclusive", with("age", json!(150))),
        ("multipleOf", with("score", json!(0.5))),
        ("maxLength is inclusive", with("name", json!("abcdefghij"))),
        (
            "additionalProperties schema",
            small("counts", json!({"a": 0, "b": 7})),
        ),
        (
            "oneOf: one branch",
            small("contact", json!({"phone": "123"})),
        ),
        ("anyOf: the integer branch", small("code", json!(12345))),
        ("anyOf: the string branch", small("code", json!("abc"))),
        ("allOf: both bounds", small("level", json!(5))),
        ("not", small("nick", json!("bob"))),
        ("uniqueItems", with("tags", json!(["a", "b", "c"]))),
    ];
    for (what, body) in accepted {
        let (status, text) = server.post("/constrained/ABC", None, &body).await;
        assert_eq!(status, 200, "{what}: {text}");
    }

    let refused: &[(&str, Value, &str, &str)] = &[
        (
            "type",
            with("age", json!("31337")),
            "/age: must be an integer",
            "31337",
        ),
        (
            "enum",
            with("kind", json!("cowzz")),
            r#"/kind: must be one of `"cat"`, `"dog"`"#,
            "cowzz",
        ),
        (
            "minimum",
            with("age", json!(-7777)),
            "/age: must be >= 0",
            "7777",
        ),
        (
            "maximum",
            with("age", json!(9151)),
            "/age: must be <= 150",
            "9151",
        ),
        (
            "exclusiveMinimum",
            with("score", json!(0)),
            "/score: must be > 0",
            "\"score\":0",
        ),
        (
            "multipleOf",
            with("score", json!(0.3331)),
            "/score: must be a multiple of 0.5",
            "3331",
        ),
        (
            "minLength",
            with("name", json!("q")),
            "/name: must be at least 2 characters long",
            "\"q\"",
        ),
        (
            "maxLength",
            with("name", json!("abcdefghijk")),
            "/name: must be at most 10 characters long",
            "abcdefghijk",
        ),
        (
            "pattern",
            with("name", json!("Tomxyz")),
            "/name: must match the pattern `^[a-z]+$`",
            "Tomxyz",
        ),
        (
            "format email",
            with("email", json!("no-at-sign-xyz")),
            "/email: must be in the `email` format",
            "no-at-sign-xyz",
        ),
        (
            "format date",
            with("born", json!("2023-02-30")),
            "/born: must be in the `date` format",
            "2023-02-30",
        ),
        (
            "format date-time",
            with("seen", json!("yesterdayxyz")),
            "/seen: must be in the `date-time` format",
            "yesterdayxyz",
        ),
        (
            "format uri",
            with("site", json!("/relative/xyz")),
            "/site: must be in the `uri` format",
            "relative/xyz",
        ),
        (
            "format ipv4",
            with("ip4", json!("1.2.3.256")),
            "/ip4: must be in the `ipv4` format",
            "1.2.3.256",
        ),
        (
            "format ipv6",
            with("ip6", json!("1::2::3")),
            "/ip6: must be in the `ipv6` format",
            "1::2::3",
        ),
        (
            "format byte",
            with("blob", json!("###xyz")),
            "/blob: must be in the `byte` format",
            "###xyz",
        ),
        (
            "minItems",
            with("tags", json!([])),
            "/tags: must have at least 1 items",
            "[]",
        ),
        (
            "maxItems",
            with("tags", json!(["a", "b", "c", "d"])),
            "/tags: must have at most 3 items",
            "\"d\"",
        ),
        (
            "uniqueItems",
            with("tags", json!(["dupx", "dupx"])),
            "/tags: must not contain equal items",
            "dupx",
        ),
        (
            "required",
            with("email", Value::Null),
            "/email: is required",
            "tom@",
        ),
        (
            "maxProperties",
            small_many(),
            "(root): must have at most 12 properties",
            "zzz",
        ),
        (
            "minProperties",
            json!({"name": "tom", "age": 30, "email": "tom@example.com"}),
            "(root): must have at least 4 properties",
            "tom@",
        ),
        (
            "additionalProperties false",
            small("bogus", json!("secretvalue")),
            "(root): must have no properties other than `id`, `name`, `age`, `score`, `email`, `kind`, `born`, `seen`, `site`, `ip4`, `ip6`, `blob`, `tags`, `counts`, `contact`, `code`, `level`, `nick`",
            "secretvalue",
        ),
        (
            "additionalProperties schema",
            small("counts", json!({"a": -4242})),
            "/counts/a: must be >= 0",
            "4242",
        ),
        (
            "oneOf: no branch",
            small("contact", json!({"fax": "555"})),
            "/contact: must match exactly one of the 2 schemas of `oneOf`",
            "555",
        ),
        (
            "anyOf: no branch",
            small("code", json!("abcdxyz")),
            "/code: must match at least one of the 2 schemas of `anyOf`",
            "abcdxyz",
        ),
        (
            "allOf: the second member",
            small("level", json!(6006)),
            "/level: must be <= 5",
            "6006",
        ),
        (
            "not",
            small("nick", json!("admin")),
            "/nick: must not match the schema of `not`",
            "admin\"",
        ),
        (
            "readOnly",
            small("id", json!("67e55044-10b1-426f-9247-bb680e5fe0c8")),
            "/id: is read-only and must not be sent",
            "67e55044",
        ),
    ];
    for (what, body, message, sent) in refused {
        let answer = server.post("/constrained/ABC", None, body).await;
        assert_refused(what, answer, 422, message, sent);
    }
}

/// 13 valid properties: one over `maxProperties`.
fn small_many() -> Value {
    let mut body = valid();
    body.as_object_mut()
        .unwrap()
        .insert("nick".into(), json!("zzz"));
    body
}

#[tokio::test]
async fn parameters_are_checked_against_their_schemas_with_400() {
    let server = Server::checked().await;
    let body = valid();
    let ok = [
        ("/constrained/ABC?page=1&labels=ab&labels=cd", None),
        ("/constrained/XYZ?page=100", Some(("X-Mode", "slow"))),
    ];
    for (path, header) in ok {
        let (status, text) = server.post(path, header, &body).await;
        assert_eq!(status, 200, "{path}: {text}");
    }
    let refused: &[(&str, Option<Header>, &str, &str)] = &[
        (
            "/constrained/ABCQ",
            None,
            "path parameter `code`: must match the pattern `^[A-Z]{3}$`",
            "ABCQ",
        ),
        (
            "/constrained/ABC?page=0",
            None,
            "query parameter `page`: must be >= 1",
            "page=0",
        ),
        (
            "/constrained/ABC?page=4711",
            None,
            "query parameter `page`: must be <= 100",
            "4711",
        ),
        (
            "/constrained/ABC?labels=q",
            None,
            "query parameter `labels`/0: must be at least 2 characters long",
            "\"q\"",
        ),
        (
            "/constrained/ABC?labels=dupx&labels=dupx",
            None,
            "query parameter `labels`: must not contain equal items",
            "dupx",
        ),
        (
            "/constrained/ABC?labels=aa&labels=bb&labels=cc&labels=dd",
            None,
            "query parameter `labels`: must have at most 3 items",
            "dd",
        ),
        (
            "/constrained/ABC",
            Some(("X-Mode", "mediumxyz")),
            r#"header parameter `X-Mode`: must be one of `"fast"`, `"slow"`"#,
            "mediumxyz",
        ),
    ];
    for (path, header, message, sent) in refused {
        let answer = server.post(path, *header, &body).await;
        assert_refused(path, answer, 400, message, sent);
    }
}

#[tokio::test]
async fn a_response_breaking_its_schema_becomes_a_500_without_its_content() {
    let broken = with("name", json!("broken"));
    let server = Server::checked().await;
    let (status, text) = server.post("/constrained/ABC", None, &broken).await;
    assert_eq!(status, 500, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["code"], "internal_error", "{text}");
    assert!(!text.contains("0.3"), "{text}");

    // With the check off the implementation's bytes go out as they are.
    let unchecked = Server::start(RouterOptions {
        validate_responses: false,
        ..RouterOptions::default()
    })
    .await;
    let (status, text) = unchecked.post("/constrained/ABC", None, &broken).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"score\":0.3"), "{text}");
}

#[tokio::test]
async fn request_checks_can_be_turned_off() {
    let server = Server::start(RouterOptions {
        validate_requests: false,
        validate_responses: false,
        ..RouterOptions::default()
    })
    .await;
    // Breaks `maximum` and the path's pattern, but decodes: accepted.
    let body = with("age", json!(9151));
    let (status, text) = server
        .post("/constrained/abcd?page=4711", None, &body)
        .await;
    assert_eq!(status, 200, "{text}");
    // Its echo breaks the response schema: with response checks on, the
    // answer is a 500.
    let server = Server::start(RouterOptions {
        validate_requests: false,
        validate_responses: true,
        ..RouterOptions::default()
    })
    .await;
    let (status, text) = server.post("/constrained/ABC", None, &body).await;
    assert_eq!(status, 500, "{text}");
    assert!(!text.contains("9151"), "{text}");
}

/// POSTs the form `text` to `/items/form`, returning status, content type
/// and body text.
async fn post_form(server: &Server, text: &'static str) -> (u16, String, String) {
    let response = server
        .http
        .post(format!("{}/items/form", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(text)
        .send()
        .await
        .unwrap();
    let media = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (
        response.status().as_u16(),
        media,
        response.text().await.unwrap(),
    )
}

#[tokio::test]
async fn form_bodies_are_checked_against_their_schema_like_json_ones() {
    let server = Server::checked().await;
    // `count: {type: integer, maximum: 1000}`: the bound holds at 1000.
    let (status, _, text) = post_form(&server, "name=lamp&count=1000").await;
    assert_eq!(status, 201, "{text}");
    let item: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(item, json!({"name": "lamp", "count": 1000}));
    // Above it: the operation documents only `default`, as `text/plain`,
    // so the refusal is 422 in text, naming the schema, pointer and rule.
    let (status, media, text) = post_form(&server, "name=s3cret&count=31337").await;
    assert_eq!((status, media.as_str()), (422, "text/plain"), "{text}");
    assert!(
        text.contains("`CreateItemFormBody` schema: /count: must be <= 1000"),
        "{text}"
    );
    assert!(
        !text.contains("31337") && !text.contains("s3cret"),
        "never echoes: {text}"
    );
    // With request checks off the form is only typed.
    let off = Server::start(RouterOptions {
        validate_requests: false,
        ..RouterOptions::default()
    })
    .await;
    let (status, _, text) = post_form(&off, "name=lamp&count=31337").await;
    assert_eq!(status, 201, "{text}");
}
