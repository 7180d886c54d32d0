//! The feature corpus over real HTTP: the generated client against the
//! generated router, backed by a small implementation that echoes what it
//! received. Each operation exercises features beyond the Users API: every
//! query array style, header parameters, form, text and binary bodies,
//! status ranges, `default`, several media types for one request or
//! response, several different 2xx and error bodies, operations without a
//! 2xx (upgrade, redirects, `default` only, none documented), operationIds in
//! other styles or missing, inline schemas and the built-in error body.

use features_api_client::types::{
    CreateItemFormBody, Item, Missing, Receipt, UploadAnyResponse200,
};
use features_api_client::{Client, Error};
use serde_json::{Number, Value};

mod common;

use common::serve;

/// The media type of a form body.
const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn query_and_header_parameters_of_every_style_arrive_typed() {
    let url = serve().await;
    let client = Client::new(&url);
    let got = client
        .list_items()
        .q("hello world")
        .ratio(0.5)
        .active(true)
        .tags(vec!["a".to_string(), "b c".to_string()])
        .ids("1,2,3")
        .words("x y")
        .codes("7|8")
        .x_count(3)
        .x_trace_id("trace-1")
        .send()
        .await
        .expect("a 200")
        .into_inner();
    assert_eq!(got.q, "hello world");
    assert_eq!(got.limit, Number::from(10), "the schema's default applies");
    assert_eq!((got.ratio, got.active), (Some(0.5), Some(true)));
    assert_eq!(got.tags, ["a", "b c"], "form, exploded");
    assert_eq!(got.ids, [1, 2, 3].map(Number::from), "form, not exploded");
    assert_eq!(got.words, ["x", "y"], "spaceDelimited");
    assert_eq!(got.codes, [7, 8].map(Number::from), "pipeDelimited");
    assert_eq!(
        (got.trace.as_deref(), got.count),
        (Some("trace-1"), Some(Number::from(3)))
    );

    // A status range carries its status; the client sees the 4XX body.
    let err = client
        .list_items()
        .q("teapot")
        .x_count(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(reqwest::StatusCode::IM_A_TEAPOT));
    let Error::ErrorResponse(problem) = err else {
        panic!("a documented 4XX: {err:?}")
    };
    assert_eq!(problem.title, "I'm a teapot");
}

/// The raw answer of a request the router refuses: status and built-in error body.
async fn refused(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response
        .json()
        .await
        .expect("the built-in error body is JSON");
    assert_eq!(body["status"], status, "{body}");
    (status, body)
}

#[tokio::test]
async fn malformed_parameters_and_bodies_are_answered_as_each_operation_documents() {
    let url = serve().await;
    let http = reqwest::Client::new();
    let items = format!("{url}/items");
    let cases = [
        (
            http.get(&items).header("x-count", "1"),
            "required query parameter `q`",
        ),
        (
            http.get(format!("{items}?q=a")),
            "required header parameter `X-Count`",
        ),
        (
            http.get(format!("{items}?q=a&limit=s3cret"))
                .header("x-count", "1"),
            "`limit` must be an integer",
        ),
        (
            http.get(format!("{items}?q=a&codes=1|s3cret"))
                .header("x-count", "1"),
            "`codes` must be an integer",
        ),
        (
            http.get(format!("{items}?q=a")).header("x-count", "s3cret"),
            "`X-Count` must be an integer",
        ),
        (
            http.put(format!("{url}/items/s3cret/note"))
                .header("content-type", "text/plain")
                .body("x"),
            "`id` must be an integer",
        ),
    ];
    for (request, says) in cases {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 400, "{body}");
        // `/items` documents its `4XX` as a `Problem` (`title` required,
        // `detail`); the note's `400` has no schema: the built-in body.
        let message = if body.get("title").is_some() {
            assert_eq!(body["title"], "Bad Request", "{body}");
            body["detail"].as_str().unwrap()
        } else {
            assert_eq!(
                (body["status"].as_u64(), body["code"].as_str()),
                (Some(400), Some("bad_request")),
                "{body}"
            );
            body["message"].as_str().unwrap()
        };
        assert!(message.contains(says), "{message}");
        assert!(!body.to_string().contains("s3cret"), "never echoes: {body}");
    }
    // The note documents no 415: a body of the wrong media type is answered
    // with its documented 400.
    let (status, body) = refused(
        http.put(format!("{url}/items/1/note"))
            .header("content-type", "application/json")
            .body("\"x\""),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")));
    assert_eq!(
        body["message"],
        "the request body must be sent as text/plain"
    );
    // The form's only error is `default`, as `text/plain`: the refusal is text.
    let response = http
        .post(format!("{url}/items/form"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=a&count=s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.headers()["content-type"], "text/plain");
    let text = response.text().await.unwrap();
    assert!(text.contains("CreateItemFormBody"), "{text}");
    assert!(!text.contains("s3cret"), "never echoes: {text}");
    let (status, _) = refused(http.delete(&items)).await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn form_text_and_binary_bodies_round_trip() {
    let url = serve().await;
    let client = Client::new(&url);
    let item = client
        .create_item_form()
        .body(CreateItemFormBody {
            name: "widget & co".into(),
            count: 2.into(),
        })
        .send()
        .await
        .expect("a 201")
        .into_inner();
    assert_eq!(
        (item.name.as_str(), item.count),
        ("widget & co", Number::from(2))
    );

    // `default`: any status, here 409, which the client returns as unexpected.
    let err = client
        .create_item_form()
        .body(CreateItemFormBody {
            name: "n".into(),
            count: (-1).into(),
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(reqwest::StatusCode::CONFLICT));

    let note = client
        .items_set_note()
        .id(42)
        .body("hé, a note")
        .send()
        .await
        .expect("a 200")
        .into_inner();
    let text = String::from_utf8(collect(note).await).unwrap();
    assert_eq!(text, "42: hé, a note");

    let bytes: Vec<u8> = (0..=255).collect();
    let size = client
        .post_blobs()
        .body(bytes)
        .send()
        .await
        .expect("a 200")
        .into_inner()
        .size;
    assert_eq!(size, Number::from(256));
}

/// A raw client that shows redirects instead of following them.
fn not_following() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

#[tokio::test]
async fn operations_without_a_2xx_send_their_status_and_headers() {
    let url = serve().await;
    // A redirect with its documented Location header (not followed here).
    let http = not_following();
    let response = http.get(format!("{url}/old-page")).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/page");
    // A `default`-only operation: any status, its body typed on both sides.
    let client = Client::new(&url);
    let answer = client.anything().send().await.expect("202 is a success");
    assert_eq!(answer.status(), reqwest::StatusCode::ACCEPTED);
    assert_eq!(answer.into_inner().name, "any");
}

#[tokio::test]
async fn a_range_variant_outside_its_range_is_a_500() {
    let url = serve().await;
    let response = reqwest::get(format!("{url}/page")).await.unwrap();
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "internal_error");
}

async fn collect(stream: features_api_client::ByteStream) -> Vec<u8> {
    let mut stream = stream.into_inner();
    let mut out = Vec::new();
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

/// The raw body of a client answer, as text.
async fn text_of(
    answer: features_api_client::ResponseValue<features_api_client::ByteStream>,
) -> String {
    String::from_utf8(collect(answer.into_inner()).await).unwrap()
}

#[tokio::test]
async fn an_upgrade_a_see_other_and_no_documented_response_arrive_with_their_status() {
    let url = serve().await;
    // 101: the server switches when asked to; the client gets the connection.
    let mut asks = reqwest::header::HeaderMap::new();
    asks.insert("connection", "upgrade".parse().unwrap());
    asks.insert("upgrade", "echo".parse().unwrap());
    let upgrading = reqwest::Client::builder()
        .default_headers(asks)
        .build()
        .unwrap();
    let socket = Client::new_with_client(&url, upgrading)
        .open_socket()
        .send()
        .await
        .expect("a 101");
    assert_eq!(socket.status(), reqwest::StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(socket.headers()["upgrade"], "echo");

    // 303: not followed, status and Location as sent...
    let http = not_following();
    let response = http.post(format!("{url}/login")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/report?html=true");
    // ...and followed by the generated client: a GET of the HTML report.
    let client = Client::new(&url);
    let page = client.login_redirect().send().await.expect("the report");
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    assert_eq!(page.headers()["content-type"], "text/html");
    assert_eq!(text_of(page).await, "<p>report: 1</p>");

    // `responses: {}`: whatever status the implementation picks, no body.
    let pong = client.ping().send().await.expect("any 2xx");
    assert_eq!(pong.status(), reqwest::StatusCode::ACCEPTED);
    assert_eq!(text_of(pong).await, "");
}

#[tokio::test]
async fn one_response_in_either_media_type_reaches_the_client() {
    let url = serve().await;
    let client = Client::new(&url);
    let json = client.get_report().send().await.expect("a 200");
    assert_eq!(json.headers()["content-type"], "application/json");
    let item: Item = serde_json::from_str(&text_of(json).await).unwrap();
    assert_eq!(
        (item.name.as_str(), item.count),
        ("report", Number::from(1))
    );

    let html = client.get_report().html(true).send().await.expect("a 200");
    assert_eq!(html.headers()["content-type"], "text/html");
    assert_eq!(text_of(html).await, "<p>report: 1</p>");
}

/// The status, `Content-Type` and body of an answer the client returned as
/// `Error::UnexpectedResponse` (a body type other than the first of its kind).
async fn unexpected<E: std::fmt::Debug>(err: Error<E>) -> (u16, String, String) {
    let Error::UnexpectedResponse(response) = err else {
        panic!("an unexpected response: {err:?}")
    };
    let status = response.status().as_u16();
    let media = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    (status, media, response.text().await.unwrap())
}

#[tokio::test]
async fn several_error_and_success_bodies_each_arrive_with_their_own_type() {
    let url = serve().await;
    let client = Client::new(&url);
    let order = client.get_order().id(1).send().await.expect("a 200");
    assert_eq!(order.into_inner().name, "order");

    // 400: the first error body, typed by the client.
    let err = client.get_order().id(0).send().await.unwrap_err();
    assert_eq!(err.status(), Some(reqwest::StatusCode::BAD_REQUEST));
    let Error::ErrorResponse(problem) = err else {
        panic!("a documented 400: {err:?}")
    };
    assert_eq!(problem.title, "ids start at 1");

    // 404: another schema.
    let err = client.get_order().id(404).send().await.unwrap_err();
    let (status, media, body) = unexpected(err).await;
    assert_eq!((status, media.as_str()), (404, "application/json"));
    let missing: Missing = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (missing.id, missing.reason.as_str()),
        (Number::from(404), "never ordered")
    );

    // 500: plain text.
    let err = client.get_order().id(7).send().await.unwrap_err();
    let (status, media, body) = unexpected(err).await;
    assert_eq!((status, media.as_str()), (500, "text/plain"));
    assert_eq!(body, "order 7 is stuck");

    // Two 2xx bodies: 200 the first (typed), 201 another.
    let item = Item {
        name: "desk".into(),
        count: 2.into(),
    };
    let updated = client
        .put_order()
        .id(1)
        .body(item.clone())
        .send()
        .await
        .expect("a 200");
    assert_eq!(updated.into_inner(), item);
    let err = client
        .put_order()
        .id(9)
        .body(item)
        .send()
        .await
        .unwrap_err();
    let (status, media, body) = unexpected(err).await;
    assert_eq!((status, media.as_str()), (201, "application/json"));
    let receipt: Receipt = serde_json::from_str(&body).unwrap();
    assert_eq!((receipt.id, receipt.created), (Number::from(9), true));
}

#[tokio::test]
async fn request_bodies_in_other_and_several_media_types_are_accepted() {
    let url = serve().await;
    let client = Client::new(&url);
    let http = reqwest::Client::new();
    let item = Item {
        name: "lamp & shade".into(),
        count: 3.into(),
    };
    let json = serde_json::to_string(&item).unwrap();

    // `application/json; charset=utf-8`: the client's JSON, and the exact media type.
    let created = client
        .create_item_charset()
        .body(item.clone())
        .send()
        .await
        .expect("a 201");
    assert_eq!(created.into_inner(), item);
    let response = http
        .post(format!("{url}/items/charset"))
        .header("content-type", "application/json; charset=utf-8")
        .body(json.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.json::<Item>().await.unwrap(), item);

    // JSON or a form, one schema: the client sends JSON, the server takes both.
    let created = client
        .create_item_either()
        .body(item.clone())
        .send()
        .await
        .expect("a 201");
    assert_eq!(created.into_inner(), item);
    let response = http
        .post(format!("{url}/items/either"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=lamp+%26+shade&count=3")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.json::<Item>().await.unwrap(), item);
    let (status, body) = refused(
        http.post(format!("{url}/items/either"))
            .header("content-type", "text/plain")
            .body(json.clone()),
    )
    .await;
    // 415 is not documented there; 400 is.
    assert_eq!(
        (status, body["message"].as_str()),
        (
            400,
            Some(
                "the request body must be sent as application/json or application/x-www-form-urlencoded"
            )
        )
    );
    let (status, body) = refused(
        http.post(format!("{url}/items/either"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=lamp&count=s3cret"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("unprocessable_entity"))
    );
    assert!(!body.to_string().contains("s3cret"), "{body}");

    // `*/*`: raw bytes of any media type, or none.
    let bytes: Vec<u8> = (0..=255).rev().collect();
    let got = client
        .upload_any()
        .body(bytes.clone())
        .send()
        .await
        .expect("a 200")
        .into_inner();
    assert_eq!(
        (got.size, got.sum),
        (Number::from(256), Number::from(255 * 128))
    );
    for media in [Some("image/png"), None] {
        let mut request = http
            .post(format!("{url}/uploads"))
            .body(bytes[..10].to_vec());
        if let Some(media) = media {
            request = request.header("content-type", media);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{media:?}");
        let got: UploadAnyResponse200 = response.json().await.unwrap();
        assert_eq!(
            (got.size, got.sum),
            (Number::from(10), Number::from((246..=255).sum::<i64>()))
        );
    }
}

#[tokio::test]
async fn boolean_and_integer_headers_arrive_typed_and_malformed_ones_are_refused() {
    let url = serve().await;
    let client = Client::new(&url);
    let got = client
        .get_flags()
        .x_dry_run(true)
        .x_retries(3)
        .send()
        .await
        .expect("a 200")
        .into_inner();
    assert_eq!((got.dry_run, got.retries), (true, Some(Number::from(3))));
    let got = client
        .get_flags()
        .x_dry_run(false)
        .send()
        .await
        .expect("a 200")
        .into_inner();
    assert_eq!((got.dry_run, got.retries), (false, None));

    let http = reqwest::Client::new();
    let flags = format!("{url}/flags");
    let cases = [
        (
            http.get(&flags).header("x-dry-run", "s3cret"),
            "header `X-Dry-Run` must be `true` or `false`",
        ),
        (
            http.get(&flags)
                .header("x-dry-run", "true")
                .header("x-retries", "s3cret"),
            "header `X-Retries` must be an integer",
        ),
        (http.get(&flags), "required header parameter `X-Dry-Run`"),
    ];
    for (request, says) in cases {
        let (status, body) = refused(request).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("bad_request")),
            "{body}"
        );
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        assert!(!body.to_string().contains("s3cret"), "never echoes: {body}");
    }
}

#[tokio::test]
async fn every_body_reader_refuses_a_body_one_byte_over_the_limit() {
    // (method, path, media type, body, status at the limit, status one byte
    // over): one route per reader (JSON, form, text, bytes), alone or among
    // several media types. Over the limit each route answers as it documents
    // a too-large body: 413 where it documents one (or no 4xx at all), else
    // the status its table gives (`400`, or `/blobs`'s only 4xx, `415`).
    let json = r#"{"name":"s3cret","count":2}"#;
    let form = "name=s3cret&count=2";
    let cases = [
        ("PUT", "/orders/1", "application/json", json, 200, 400),
        ("POST", "/items/either", "application/json", json, 201, 400),
        ("POST", "/items/form", FORM, form, 201, 413),
        ("POST", "/items/either", FORM, form, 201, 400),
        (
            "PUT",
            "/items/1/note",
            "text/plain",
            "a s3cret note",
            200,
            400,
        ),
        (
            "POST",
            "/blobs",
            "application/octet-stream",
            "s3cret bytes",
            200,
            415,
        ),
        ("POST", "/uploads", "image/png", "s3cret pixels", 200, 400),
    ];
    let http = reqwest::Client::new();
    for (method, path, media, body, fits, over) in cases {
        let what = format!("{method} {path} as {media}");
        for (limit, want) in [(body.len(), fits), (body.len() - 1, over)] {
            let url = common::serve_with(features_api_server_stubs::RouterOptions {
                body_limit: limit,
                ..Default::default()
            })
            .await;
            let response = http
                .request(method.parse().unwrap(), format!("{url}{path}"))
                .header("content-type", media)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert_eq!(status, want, "{what}, limit {limit}: {text}");
            if limit < body.len() {
                assert!(
                    text.contains("the request body is larger than this service accepts"),
                    "{what}: {text}"
                );
                assert!(!text.contains("s3cret"), "{what}: echoes the body: {text}");
            }
        }
    }
}
