//! The generated client against the generated router over real loopback HTTP,
//! backed by a small in-memory implementation. Every exchange passes through
//! the checking proxy, so each response is also validated against the spec.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use users_api_client::types::{ApiError, ApiErrorCode, OAuthToken, UserProfile, Users};
use users_api_server_stubs::{
    self as stubs, AuthenticateFromOauthTokenResponse, Credentials, GetOpenapiJsonResponse,
    GetOpenapiYamlResponse, UsersApi, UsersDisconnectUserResponse, UsersSnapshotResponse,
    UsersSpecificUserSnapshotResponse,
};
use users_harness::client::sign_in_body;
use users_harness::proxy::{BAD_INPUT_HEADER, ConformanceProxy};
use uuid::Uuid;

const TOKEN: &str = "in-memory-token";

/// Users keyed by id; the "id token" is taken as the subject name.
#[derive(Default)]
struct Memory {
    users: Mutex<BTreeMap<Uuid, UserProfile>>,
}

fn error(status: i32, code: ApiErrorCode, message: &str) -> ApiError {
    ApiError {
        status,
        code,
        message: message.into(),
    }
}

impl Memory {
    /// The router guarantees some credential was sent; only the token is accepted.
    fn check(&self, credentials: &Credentials) -> Result<(), ApiError> {
        (credentials.auth0.as_ref().map(|t| t.as_str()) == Some(TOKEN))
            .then_some(())
            .ok_or_else(|| error(401, ApiErrorCode::Unauthorized, "bad token"))
    }
    fn users(&self) -> Users {
        Users {
            iterable: self.users.lock().unwrap().values().cloned().collect(),
            schema: None,
        }
    }
}

impl UsersApi for Memory {
    async fn authenticate_from_oauth_token(
        &self,
        body: OAuthToken,
    ) -> AuthenticateFromOauthTokenResponse {
        let Some(subject) = body.id_token else {
            return AuthenticateFromOauthTokenResponse::Unauthorized(error(
                401,
                ApiErrorCode::Unauthorized,
                "no id_token",
            ));
        };
        let id = Uuid::new_v5(&Uuid::NAMESPACE_URL, subject.as_bytes());
        let profile: UserProfile = serde_json::from_value(serde_json::json!({
            "id": id, "name": subject, "aesthetics": { "theme": { "dark": true }, "font": { "size": 12 } }
        }))
        .unwrap();
        self.users.lock().unwrap().insert(id, profile.clone());
        AuthenticateFromOauthTokenResponse::Ok(profile.into())
    }

    async fn users_disconnect_user(
        &self,
        credentials: Credentials,
        user: Uuid,
    ) -> UsersDisconnectUserResponse {
        if let Err(e) = self.check(&credentials) {
            return UsersDisconnectUserResponse::Unauthorized(e);
        }
        if self.users.lock().unwrap().remove(&user).is_none() {
            return UsersDisconnectUserResponse::NotFound(error(
                404,
                ApiErrorCode::NotFound,
                "no such user",
            ));
        }
        UsersDisconnectUserResponse::Ok(self.users().into())
    }

    async fn users_snapshot(&self, credentials: Credentials) -> UsersSnapshotResponse {
        match self.check(&credentials) {
            Ok(()) => UsersSnapshotResponse::Ok(self.users().into()),
            Err(e) => UsersSnapshotResponse::Unauthorized(e),
        }
    }

    async fn users_specific_user_snapshot(
        &self,
        credentials: Credentials,
        user: Uuid,
    ) -> UsersSpecificUserSnapshotResponse {
        if let Err(e) = self.check(&credentials) {
            return UsersSpecificUserSnapshotResponse::Unauthorized(e);
        }
        match self.users.lock().unwrap().get(&user) {
            Some(p) => UsersSpecificUserSnapshotResponse::Ok(p.clone().into()),
            // A wrong `status` on purpose: the router sends the variant's.
            None => UsersSpecificUserSnapshotResponse::NotFound(error(
                0,
                ApiErrorCode::NotFound,
                "no such user",
            )),
        }
    }

    async fn get_openapi_yaml(&self) -> GetOpenapiYamlResponse {
        GetOpenapiYamlResponse::Ok(stubs::OPENAPI_YAML.into())
    }

    async fn get_openapi_json(&self) -> GetOpenapiJsonResponse {
        GetOpenapiJsonResponse::Ok(
            serde_yaml::from_str::<serde_json::Value>(stubs::OPENAPI_YAML)
                .unwrap()
                .into(),
        )
    }

    async fn get_docs(&self) -> stubs::GetDocsResponse {
        stubs::GetDocsResponse::Ok("<!DOCTYPE html><title>Users API</title>".into())
    }
}

/// The generated router on a free loopback port, with the checking proxy in front.
async fn serve() -> ConformanceProxy {
    let app = stubs::router_with_options(
        Arc::new(Memory::default()),
        stubs::RouterOptions {
            body_limit: 1024,
            ..Default::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    ConformanceProxy::start(&format!("http://{addr}")).await
}

#[tokio::test]
async fn all_operations_round_trip() {
    let proxy = serve().await;
    let client = users_harness::client(proxy.url(), Some(TOKEN));

    let ada = client
        .authenticate_from_oauth_token()
        .body(sign_in_body("ada"))
        .send()
        .await
        .unwrap()
        .into_inner();
    let bob = client
        .authenticate_from_oauth_token()
        .body(sign_in_body("bob"))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ada.name.as_deref(), Some("ada"));
    assert!(ada.aesthetics.theme.dark);

    let all = client.users_snapshot().send().await.unwrap().into_inner();
    let mut ids: Vec<_> = all.iterable.iter().map(|u| u.id.clone()).collect();
    ids.sort();
    let mut expected = vec![ada.id.clone(), bob.id.clone()];
    expected.sort();
    assert_eq!(ids, expected);

    let ada_id: Uuid = ada.id.parse().unwrap();
    let got = client
        .users_specific_user_snapshot()
        .user(ada_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, ada);

    let left = client
        .users_disconnect_user()
        .user(ada_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(left.iterable.len(), 1);
    assert_eq!(left.iterable[0].id, bob.id);

    // 404 for an unknown user, parsed into the spec's error type.
    let err = client
        .users_specific_user_snapshot()
        .user(ada_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    let users_api_client::Error::ErrorResponse(body) = err else {
        panic!("expected a documented error")
    };
    assert_eq!(body.code, ApiErrorCode::NotFound);
    assert_eq!(body.status, 404, "the body's status is the response's");
    let err = client
        .users_disconnect_user()
        .user(ada_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));

    // 401 from the implementation, with the bearer challenge.
    let stranger = users_harness::client(proxy.url(), Some("wrong"));
    let err = stranger.users_snapshot().send().await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));

    // The spec documents are served.
    let yaml = client.get_openapi_yaml().send().await.unwrap();
    assert_eq!(yaml.status(), StatusCode::OK);
    let json = client.get_openapi_json().send().await.unwrap().into_inner();
    assert_eq!(json["openapi"], "3.0.3");

    assert_eq!(proxy.exchanges(), 10);
    proxy.assert_clean();
}

/// Sends a raw request marked as bad input and parses the answer as the spec's error.
async fn rejected(
    proxy: &ConformanceProxy,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, reqwest::header::HeaderMap, ApiError) {
    let mut request = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{}{path}", proxy.url()))
        .header(BAD_INPUT_HEADER, "1")
        .body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let error: ApiError = response
        .json()
        .await
        .expect("error body in the spec's format");
    assert_eq!(error.status, i32::from(status.as_u16()));
    (status, headers, error)
}

#[tokio::test]
async fn router_rejections_use_the_error_schema() {
    let proxy = serve().await;
    let json = ("content-type", "application/json");
    let bearer = ("authorization", "Bearer in-memory-token");
    let good = serde_json::to_vec(&sign_in_body("ada")).unwrap();
    let auth = "/users/authenticate/from_token";

    let (s, _, e) = rejected(&proxy, "GET", "/users/not-a-uuid", &[bearer], vec![]).await;
    assert_eq!(
        (s, e.code),
        (StatusCode::BAD_REQUEST, ApiErrorCode::BadRequest)
    );
    assert!(e.message.contains("`user`"), "{}", e.message);

    let (s, h, e) = rejected(&proxy, "GET", "/users", &[], vec![]).await;
    assert_eq!(
        (s, e.code),
        (StatusCode::UNAUTHORIZED, ApiErrorCode::Unauthorized)
    );
    assert_eq!(h["www-authenticate"], "Bearer");
    // Malformed credentials are refused by the router, never echoed.
    for header in [
        ("authorization", "Basic czNjcmV0LXZhbHVl"),
        ("authorization", "Bearer"),
        ("x-application-id", " "),
    ] {
        let (s, h, e) = rejected(&proxy, "GET", "/users", &[header], vec![]).await;
        assert_eq!(
            (s, e.code),
            (StatusCode::UNAUTHORIZED, ApiErrorCode::Unauthorized),
            "{header:?}"
        );
        assert_eq!(h["www-authenticate"], "Bearer");
        assert!(!e.message.contains("czNj"), "{}", e.message);
    }
    // An application key satisfies the requirement; this implementation then refuses it.
    let (s, _, e) = rejected(
        &proxy,
        "GET",
        "/users",
        &[("x-application-id", "app-1")],
        vec![],
    )
    .await;
    assert_eq!(
        (s, e.message.as_str()),
        (StatusCode::UNAUTHORIZED, "bad token")
    );

    let (s, _, e) = rejected(&proxy, "POST", auth, &[json], b"{not json".to_vec()).await;
    assert_eq!(
        (s, e.code),
        (StatusCode::BAD_REQUEST, ApiErrorCode::BadRequest)
    );

    let (s, _, e) = rejected(
        &proxy,
        "POST",
        auth,
        &[json],
        br#"{"access_token": 5}"#.to_vec(),
    )
    .await;
    assert_eq!(
        (s, e.code),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ApiErrorCode::UnprocessableEntity
        )
    );

    let (s, _, e) = rejected(
        &proxy,
        "POST",
        auth,
        &[("content-type", "text/plain")],
        good.clone(),
    )
    .await;
    assert_eq!(
        (s, e.code),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiErrorCode::UnsupportedMediaType
        )
    );

    let (s, _, e) = rejected(&proxy, "POST", auth, &[json], vec![b' '; 4096]).await;
    assert_eq!(
        (s, e.code),
        (StatusCode::PAYLOAD_TOO_LARGE, ApiErrorCode::PayloadTooLarge)
    );

    let (s, _, e) = rejected(&proxy, "GET", "/nowhere", &[], vec![]).await;
    assert_eq!((s, e.code), (StatusCode::NOT_FOUND, ApiErrorCode::NotFound));

    for method in ["DELETE", "PUT", "PATCH", "OPTIONS", "QUERY"] {
        let (s, h, e) = rejected(&proxy, method, "/users", &[bearer], vec![]).await;
        assert_eq!(
            (s, e.code),
            (
                StatusCode::METHOD_NOT_ALLOWED,
                ApiErrorCode::MethodNotAllowed
            ),
            "{method}"
        );
        assert_eq!(h["allow"], "GET");
    }
    let (s, h, _) = rejected(&proxy, "GET", auth, &[], vec![]).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(h["allow"], "POST");
    let head = reqwest::Client::new()
        .head(format!("{}/users", proxy.url()))
        .header(BAD_INPUT_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(head.headers()["allow"], "GET");

    proxy.assert_clean();
}

/// The router's operation table and the spec's operations are the same set.
#[test]
fn router_table_matches_spec() {
    let spec = users_harness::spec_check::SpecValidator::load();
    let mut from_spec: Vec<_> = spec.operations();
    let mut from_router: Vec<_> = stubs::OPERATIONS
        .iter()
        .map(|o| {
            (
                o.method.to_string(),
                o.path.to_string(),
                o.operation_id.to_string(),
            )
        })
        .collect();
    from_spec.sort();
    from_router.sort();
    assert_eq!(from_spec, from_router);
}
