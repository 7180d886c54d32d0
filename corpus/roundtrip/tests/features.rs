//! The feature corpus over real HTTP: the generated client against the
//! generated router, backed by a small implementation that echoes what it
//! received. Each operation exercises features beyond the Users API: every
//! query array style, header parameters, form, text and binary bodies,
//! status ranges, `default`, several media types, operationIds in other
//! styles or missing, inline schemas and the built-in error body.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::StatusCode;
use features_api_client::types::{CreateItemFormBody, Item, ListItemsResponse200, Problem};
use features_api_client::{Client, Error};
use features_api_server_stubs::{
    self as stubs, AnythingResponse, CreateItemFormResponse, FeaturesApi, GetPageResponse,
    ItemsSetNoteResponse, ListItemsHeaders, ListItemsQuery, ListItemsResponse, OldPageResponse,
    PostBlobsResponse,
};
use serde_json::Value;

struct Echo;

impl FeaturesApi for Echo {
    async fn list_items(
        &self,
        query: ListItemsQuery,
        headers: ListItemsHeaders,
    ) -> ListItemsResponse {
        if query.q == "teapot" {
            let problem = Problem {
                title: "I'm a teapot".into(),
                detail: None,
            };
            return ListItemsResponse::Status4xx(StatusCode::IM_A_TEAPOT, problem.into());
        }
        ListItemsResponse::Ok(
            ListItemsResponse200 {
                q: query.q,
                limit: query.limit,
                ratio: query.ratio,
                active: query.active,
                tags: query.tags.unwrap_or_default(),
                ids: query.ids.unwrap_or_default(),
                words: query.words.unwrap_or_default(),
                codes: query.codes.unwrap_or_default(),
                trace: headers.x_trace_id,
                count: Some(headers.x_count),
            }
            .into(),
        )
    }

    async fn create_item_form(&self, body: CreateItemFormBody) -> CreateItemFormResponse {
        if body.count < 0 {
            return CreateItemFormResponse::Default(StatusCode::CONFLICT, "negative".into());
        }
        CreateItemFormResponse::Created(
            Item {
                name: body.name,
                count: body.count,
            }
            .into(),
        )
    }

    async fn items_set_note(&self, id: i64, body: String) -> ItemsSetNoteResponse {
        ItemsSetNoteResponse::Ok(format!("{id}: {body}"))
    }

    async fn post_blobs(&self, body: Bytes) -> PostBlobsResponse {
        let size = i64::try_from(body.len()).unwrap_or(i64::MAX);
        PostBlobsResponse::Ok(features_api_client::types::PostBlobsResponse200 { size }.into())
    }

    async fn old_page(&self) -> OldPageResponse {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::LOCATION,
            axum::http::HeaderValue::from_static("/page"),
        );
        OldPageResponse::Status302(headers)
    }

    async fn anything(&self) -> AnythingResponse {
        let item = Item {
            name: "any".into(),
            count: 1,
        };
        AnythingResponse::Default(StatusCode::ACCEPTED, item.into())
    }

    async fn get_page(&self) -> GetPageResponse {
        // A range variant with a status outside its range is refused.
        GetPageResponse::Status5xx(StatusCode::OK, "not a server error".into())
    }
}

async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, stubs::router(Arc::new(Echo))).await });
    url
}

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
    assert_eq!(got.limit, 10, "the schema's default applies");
    assert_eq!((got.ratio, got.active), (Some(0.5), Some(true)));
    assert_eq!(got.tags, ["a", "b c"], "form, exploded");
    assert_eq!(got.ids, [1, 2, 3], "form, not exploded");
    assert_eq!(got.words, ["x", "y"], "spaceDelimited");
    assert_eq!(got.codes, [7, 8], "pipeDelimited");
    assert_eq!(
        (got.trace.as_deref(), got.count),
        (Some("trace-1"), Some(3))
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
async fn malformed_parameters_and_bodies_get_the_built_in_error_body() {
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
        let (status, body) = refused(request).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("bad_request")),
            "{body}"
        );
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        assert!(!message.contains("s3cret"), "never echoes: {message}");
    }
    let (status, body) = refused(
        http.put(format!("{url}/items/1/note"))
            .header("content-type", "application/json")
            .body("\"x\""),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (status, _) = refused(
        http.post(format!("{url}/items/form"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=a&count=many"),
    )
    .await;
    assert_eq!(status, 422);
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
            count: 2,
        })
        .send()
        .await
        .expect("a 201")
        .into_inner();
    assert_eq!((item.name.as_str(), item.count), ("widget & co", 2));

    // `default`: any status, here 409, which the client returns as unexpected.
    let err = client
        .create_item_form()
        .body(CreateItemFormBody {
            name: "n".into(),
            count: -1,
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
    assert_eq!(size, 256);
}

#[tokio::test]
async fn operations_without_a_2xx_send_their_status_and_headers() {
    let url = serve().await;
    // A redirect with its documented Location header (not followed here).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
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
