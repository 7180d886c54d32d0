//! The implementation the feature-corpus round trips serve.

#![allow(dead_code, reason = "each test crate uses part of it")]

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::http::{HeaderMap, HeaderValue, header};
use features_api_client::types::{
    Constrained, CreateItemFormBody, GetFlagsResponse200, GetSessionResponse200, Item,
    ListItemsResponse200, Missing, Problem, Receipt, UploadAnyResponse200,
};
use features_api_server_stubs::{
    self as stubs, AnythingResponse, CheckConstraintsHeaders, CheckConstraintsQuery,
    CheckConstraintsResponse, CreateItemCharsetResponse, CreateItemEitherResponse,
    CreateItemFormResponse, FeaturesApi, GetFlagsHeaders, GetFlagsResponse, GetOrderResponse,
    GetPageResponse, GetReportQuery, GetReportResponse, GetSessionCookies, GetSessionResponse,
    ItemsSetNoteResponse, JsonBody, ListItemsHeaders, ListItemsQuery, ListItemsResponse,
    LoginRedirectResponse, OldPageResponse, OpenSocketResponse, PingResponse, PostBlobsResponse,
    PutOrderResponse, UploadAnyResponse,
};
use serde_json::Number;
use stub_runtime::Integer;

/// Answers each operation with what it received.
pub struct Echo;

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
                limit: query.limit.into(),
                ratio: query.ratio,
                active: query.active,
                tags: query.tags.unwrap_or_default(),
                ids: numbers(query.ids),
                words: query.words.unwrap_or_default(),
                codes: numbers(query.codes),
                trace: headers.x_trace_id,
                count: Some(headers.x_count.into()),
            }
            .into(),
        )
    }

    async fn create_item_form(&self, body: CreateItemFormBody) -> CreateItemFormResponse {
        if body.count.as_f64().is_some_and(|c| c < 0.0) {
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

    async fn items_set_note(&self, id: Integer, body: String) -> ItemsSetNoteResponse {
        ItemsSetNoteResponse::Ok(format!("{id}: {body}").into())
    }

    async fn post_blobs(&self, body: Bytes) -> PostBlobsResponse {
        let size = (body.len() as u64).into();
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
            count: 1.into(),
        };
        AnythingResponse::Default(StatusCode::ACCEPTED, item.into())
    }

    async fn get_page(&self) -> GetPageResponse {
        // A range variant with a status outside its range is refused.
        GetPageResponse::Status5xx(StatusCode::OK, "not a server error".into())
    }

    async fn open_socket(&self) -> OpenSocketResponse {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("echo"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        OpenSocketResponse::Status101(headers)
    }

    async fn login_redirect(&self) -> LoginRedirectResponse {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::LOCATION,
            HeaderValue::from_static("/report?html=true"),
        );
        LoginRedirectResponse::Status303(headers)
    }

    async fn ping(&self) -> PingResponse {
        PingResponse::Default(StatusCode::ACCEPTED)
    }

    async fn get_report(&self, query: GetReportQuery) -> GetReportResponse {
        if query.html {
            GetReportResponse::OkTextHtml("<p>report: 1</p>".into())
        } else {
            GetReportResponse::Ok(
                Item {
                    name: "report".into(),
                    count: 1.into(),
                }
                .into(),
            )
        }
    }

    async fn get_order(&self, id: Integer) -> GetOrderResponse {
        match id.as_i64() {
            Some(1) => GetOrderResponse::Ok(
                Item {
                    name: "order".into(),
                    count: 1.into(),
                }
                .into(),
            ),
            Some(0) => GetOrderResponse::BadRequest(
                Problem {
                    title: "ids start at 1".into(),
                    detail: None,
                }
                .into(),
            ),
            Some(404) => GetOrderResponse::NotFound(
                Missing {
                    id: id.into(),
                    reason: "never ordered".into(),
                }
                .into(),
            ),
            _ => GetOrderResponse::InternalServerError(format!("order {id} is stuck").into()),
        }
    }

    async fn put_order(&self, id: Integer, body: Item) -> PutOrderResponse {
        if id.as_i64() == Some(1) {
            PutOrderResponse::Ok(body.into())
        } else {
            PutOrderResponse::Created(
                Receipt {
                    id: id.into(),
                    created: true,
                }
                .into(),
            )
        }
    }

    async fn create_item_charset(&self, body: Item) -> CreateItemCharsetResponse {
        CreateItemCharsetResponse::Created(body.into())
    }

    async fn create_item_either(&self, body: Item) -> CreateItemEitherResponse {
        CreateItemEitherResponse::Created(body.into())
    }

    async fn upload_any(&self, body: Bytes) -> UploadAnyResponse {
        let size = (body.len() as u64).into();
        let sum = body.iter().map(|b| u64::from(*b)).sum::<u64>().into();
        UploadAnyResponse::Ok(UploadAnyResponse200 { size, sum }.into())
    }

    async fn get_session(&self, cookies: GetSessionCookies) -> GetSessionResponse {
        GetSessionResponse::Ok(
            GetSessionResponse200 {
                sid: cookies.sid,
                visits: cookies.visits.map(Into::into),
                theme: cookies.theme,
            }
            .into(),
        )
    }

    async fn get_flags(&self, headers: GetFlagsHeaders) -> GetFlagsResponse {
        GetFlagsResponse::Ok(
            GetFlagsResponse200 {
                dry_run: headers.x_dry_run,
                retries: headers.x_retries.map(Into::into),
            }
            .into(),
        )
    }
    async fn check_constraints(
        &self,
        _code: String,
        _query: CheckConstraintsQuery,
        _headers: CheckConstraintsHeaders,
        body: Constrained,
    ) -> CheckConstraintsResponse {
        if *body.name == *"broken" {
            // Bytes that decode as `Constrained` but break its schema
            // (`score` is no multiple of 0.5): the response check's case.
            let raw = br#"{"name":"broken","age":1,"email":"a@example.com","score":0.3}"#;
            return CheckConstraintsResponse::Ok(JsonBody::Raw(Bytes::from_static(raw)));
        }
        CheckConstraintsResponse::Ok(body.into())
    }
}

/// The generated router serving [`Echo`] on a free loopback port, with
/// `options`; its base URL.
pub async fn serve_with(options: stubs::RouterOptions) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            stubs::router_with_options(Arc::new(Echo), options),
        )
        .await
    });
    url
}

/// [`serve_with`] the default options.
pub async fn serve() -> String {
    serve_with(stubs::RouterOptions::default()).await
}

/// Typed integers of a query array, as the response's numbers.
fn numbers(values: Option<Vec<Integer>>) -> Vec<Number> {
    values
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect()
}
