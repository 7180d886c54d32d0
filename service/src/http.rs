//! The HTTP application: the generated router plus timeouts, panic safety and request logs.
//!
//! `GET /users` and `GET /users/{user}` with a bearer token are answered from
//! the service's cache of serialized responses ([`cached_reads`]), with the
//! same status, headers and bytes the generated handlers give; every other
//! request, and those without a token, go to the generated router.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use users_api_server_stubs::{RouterOptions, bearer_token, error_response, router_with_options};
use uuid::Uuid;

use crate::api::Service;
use crate::store::UserStore;

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body in bytes (413 above).
    pub body_limit: usize,
    /// Longest a request may take (408 after).
    pub request_timeout: Duration,
}

/// Builds the full application for a service.
pub fn app<S: UserStore>(service: Arc<Service<S>>, limits: Limits) -> Router {
    let timeout = limits.request_timeout;
    let reads = service.clone();
    router_with_options(
        service,
        RouterOptions {
            body_limit: limits.body_limit,
        },
    )
    .layer(middleware::from_fn(move |req: Request, next: Next| {
        cached_reads(reads.clone(), req, next)
    }))
    .layer(middleware::from_fn(move |req: Request, next: Next| {
        with_timeout(timeout, req, next)
    }))
    .layer(CatchPanicLayer::custom(|_| {
        error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error",
        )
    }))
    .layer(
        TraceLayer::new_for_http()
            .make_span_with(|req: &Request| {
                // The path only: query strings and headers (tokens) are never logged.
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            })
            .on_request(())
            .on_response(|res: &Response, latency: Duration, _: &tracing::Span| {
                tracing::info!(
                    status = res.status().as_u16(),
                    latency_us = latency.as_micros() as u64,
                    "response"
                );
            })
            .on_failure(()),
    )
}

async fn with_timeout(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => error_response(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!("the request took longer than {} ms", limit.as_millis()),
        ),
    }
}

/// A `200` JSON answer, with the headers `axum::Json` gives.
fn json_bytes(body: axum::body::Bytes) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Answers `GET /users` and `GET /users/{user}` (with a token) from the
/// service's serialized-response cache; anything else goes on to the router.
async fn cached_reads<S: UserStore>(
    service: Arc<Service<S>>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let user = if path == "/users" {
        None
    } else if let Some(id) = path
        .strip_prefix("/users/")
        .and_then(|s| Uuid::try_parse(s).ok())
    {
        Some(id)
    } else {
        return next.run(req).await;
    };
    let Some(token) = bearer_token(req.headers()) else {
        return next.run(req).await;
    };
    match user {
        None => match service.users_snapshot_json(&token).await {
            Ok(body) => json_bytes(body),
            Err(answer) => answer.into_response(),
        },
        Some(id) => match service.users_specific_user_json(&token, id).await {
            Ok(body) => json_bytes(body),
            Err(answer) => answer.into_response(),
        },
    }
}

#[cfg(test)]
mod tests {
    //! The cached read path must answer exactly like the generated handlers.

    use super::*;
    use crate::auth::devkey::{self, DEV_AUDIENCE, DEV_ISSUER, MintRequest};
    use crate::auth::{KeySource, Verifier, VerifierConfig};
    use crate::store::sqlite::SqliteStore;

    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        url
    }

    /// Status, the headers a client sees (less `date`), and the body.
    async fn answer(
        http: &reqwest::Client,
        method: &str,
        url: &str,
        auth: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut req = http.request(method.parse().unwrap(), url);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let mut headers: Vec<(String, String)> = res
            .headers()
            .iter()
            .filter(|(k, _)| *k != "date")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        headers.sort();
        (status, headers, res.bytes().await.unwrap().to_vec())
    }

    #[tokio::test]
    async fn cached_reads_answer_like_the_generated_router() {
        let dir = std::env::temp_dir().join(format!("users-http-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = devkey::load_or_create(&dir).unwrap();
        let verifier = Verifier::new(VerifierConfig {
            keys: KeySource::Secret(key.clone()),
            issuer: DEV_ISSUER.into(),
            audience: DEV_AUDIENCE.into(),
            userinfo_url: None,
        })
        .await
        .unwrap();
        let store = SqliteStore::open(&dir.join("users.db")).unwrap();
        let service = Arc::new(Service::new(store, Arc::new(verifier)));
        let limits = Limits {
            body_limit: 64 * 1024,
            request_timeout: Duration::from_secs(10),
        };
        let cached = serve(app(service.clone(), limits)).await;
        let plain = serve(users_api_server_stubs::router(service)).await;
        let http = reqwest::Client::new();
        let token = |sub: &str, name: &str| {
            devkey::mint(
                &key,
                &MintRequest {
                    subject: format!("github|{sub}"),
                    name: Some(name.into()),
                    ttl_seconds: 600,
                    ..Default::default()
                },
            )
            .unwrap()
        };
        let login = |t: &str| {
            format!(
                r#"{{"access_token":"x","token_type":"Bearer","expires_in":3600,"id_token":"{t}"}}"#
            )
        };
        let reader = token("1", "One");
        let bearer = format!("Bearer {reader}");
        let same = |a: &(u16, Vec<(String, String)>, Vec<u8>),
                    b: &(u16, Vec<(String, String)>, Vec<u8>),
                    what: &str| {
            assert_eq!(
                a,
                b,
                "{what}: {} vs {}",
                String::from_utf8_lossy(&a.2),
                String::from_utf8_lossy(&b.2)
            );
        };
        let compare = async |path: &str, auth: Option<&str>| {
            // The cached side twice: a miss that fills the cache, then a hit.
            let first = answer(&http, "GET", &format!("{cached}{path}"), auth, None).await;
            let second = answer(&http, "GET", &format!("{cached}{path}"), auth, None).await;
            let expected = answer(&http, "GET", &format!("{plain}{path}"), auth, None).await;
            same(&first, &expected, path);
            same(&second, &expected, path);
            first
        };

        assert_eq!(compare("/users", Some(&bearer)).await.0, 200); // no users yet
        let created = answer(
            &http,
            "POST",
            &format!("{cached}/users/authenticate/from_token"),
            None,
            Some(&login(&reader)),
        )
        .await;
        assert_eq!(created.0, 200);
        let id = serde_json::from_slice::<serde_json::Value>(&created.2).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let other = Uuid::new_v4();
        let auth_variants = [
            None,
            Some(bearer.clone()),
            Some(format!("bearer   {reader}  ")),
            Some(format!("BEARER {reader}")),
            Some("Bearer".to_string()),
            Some("Bearer ".to_string()),
            Some("Basic abc".to_string()),
            Some("Bearer not-a-jwt".to_string()),
            Some(format!("Bearer {reader}x")),
        ];
        let paths = [
            "/users".to_string(),
            format!("/users/{id}"),
            format!("/users/{}", id.to_uppercase()),
            format!("/users/{}", id.replace('-', "")),
            format!("/users/{other}"),
            "/users/not-a-uuid".to_string(),
            format!("/users/{id}/"),
            "/users/".to_string(),
            format!("/users?x={id}"),
        ];
        for path in &paths {
            for auth in &auth_variants {
                compare(path, auth.as_deref()).await;
            }
        }
        for method in ["HEAD", "POST", "PUT", "DELETE"] {
            let a = answer(
                &http,
                method,
                &format!("{cached}/users/{id}"),
                Some(&bearer),
                None,
            )
            .await;
            let b = answer(
                &http,
                method,
                &format!("{plain}/users/{id}"),
                Some(&bearer),
                None,
            )
            .await;
            same(&a, &b, method);
        }

        // Writes invalidate: a new user, an update of an existing one, a removal.
        let before = compare("/users", Some(&bearer)).await;
        let second = token("2", "Two");
        assert_eq!(
            answer(
                &http,
                "POST",
                &format!("{cached}/users/authenticate/from_token"),
                None,
                Some(&login(&second))
            )
            .await
            .0,
            200
        );
        let grown = compare("/users", Some(&bearer)).await;
        assert_ne!(before.2, grown.2);
        let renamed = token("1", "One Renamed");
        assert_eq!(
            answer(
                &http,
                "POST",
                &format!("{plain}/users/authenticate/from_token"),
                None,
                Some(&login(&renamed))
            )
            .await
            .0,
            200
        );
        let one = compare(&format!("/users/{id}"), Some(&bearer)).await;
        assert!(String::from_utf8_lossy(&one.2).contains("One Renamed"));
        assert!(
            String::from_utf8_lossy(&compare("/users", Some(&bearer)).await.2)
                .contains("One Renamed")
        );
        let gone = answer(
            &http,
            "POST",
            &format!("{cached}/users/{id}/disconnect"),
            Some(&bearer),
            None,
        )
        .await;
        assert_eq!(gone.0, 200);
        assert_eq!(compare(&format!("/users/{id}"), Some(&bearer)).await.0, 404);
        assert!(!String::from_utf8_lossy(&compare("/users", Some(&bearer)).await.2).contains(&id));
        std::fs::remove_dir_all(&dir).ok();
    }
}
