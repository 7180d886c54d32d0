//! The real `users-service` binary, driven by the generated client over
//! loopback, every exchange checked against the spec by the proxy.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use users_api_client::types::{ApiError, ApiErrorCode, UserProfile};
use users_api_client::{Client, ClientError, ErrorExt};
use users_harness::client::{self, client, sign_in_body};
use users_harness::proxy::{BAD_INPUT_HEADER, ConformanceProxy};
use users_harness::service::{Checked, ServiceProcess};
use users_harness::tokens::{TestKey, b64, claims, dev_token, write_jwks};
use uuid::Uuid;

/// Authenticates with `id_token` and returns the stored profile.
async fn sign_in(c: &Client, id_token: &str) -> UserProfile {
    client::sign_in(c, id_token)
        .await
        .expect("authentication succeeds")
}

/// The spec's error body of a failed call; panics with `what` if there is none.
fn documented<'e>(err: &'e ClientError, what: &str) -> &'e ApiError {
    err.api_error().unwrap_or_else(|| panic!("{what}: {err:?}"))
}

#[tokio::test]
async fn quick_start_flow_and_reauthentication() {
    let s = Checked::start().await;
    let token = dev_token(&s.service.data_dir, "github|42");
    let c = client(s.url(), Some(&token));

    let first = sign_in(&c, &token).await;
    assert_eq!(first.email.as_deref(), Some("github.42@example.com"));
    assert_eq!(first.username.as_deref(), Some("github-42"));
    let provider = &first.providers.as_ref().unwrap().iterable[0];
    assert_eq!(provider.type_.to_string(), "github");
    assert_eq!(provider.user_id, "42");
    let created = first.created.clone().expect("created");
    assert!(first.updated.is_some());

    // Re-authentication keeps the id and `created`, moves `updated`.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let again = sign_in(&c, &token).await;
    assert_eq!(again.id, first.id);
    assert_eq!(again.created, Some(created));
    assert!(again.updated.unwrap().value > first.updated.unwrap().value);

    // Readable and listed after authentication.
    let id: Uuid = first.id.parse().unwrap();
    let got = c
        .users_specific_user_snapshot()
        .user(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.id, first.id);
    let other = dev_token(&s.service.data_dir, "google-oauth2|7");
    let second = sign_in(&c, &other).await;
    let list = c.users_snapshot().send().await.unwrap().into_inner();
    let ids: Vec<_> = list.iterable.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(
        ids,
        [first.id.as_str(), second.id.as_str()],
        "stable order: oldest first"
    );

    // Gone after disconnect; a second disconnect and a get are 404.
    let left = c
        .users_disconnect_user()
        .user(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(left.iterable.len(), 1);
    assert_eq!(left.iterable[0].id, second.id);
    // Signing out revoked the token that was used before it.
    let err = c.users_snapshot().send().await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    // The default (local) mode needs no credentials to read.
    let c = client(s.url(), None);
    let err = c
        .users_specific_user_snapshot()
        .user(id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    let err = c.users_disconnect_user().user(id).send().await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    let list = c.users_snapshot().send().await.unwrap().into_inner();
    assert!(list.iterable.iter().all(|u| u.id != first.id));

    // The spec is served.
    let doc = c.get_openapi_json().send().await.unwrap().into_inner();
    assert_eq!(doc["info"]["title"], "Users API");
    s.proxy.assert_clean();

    // One log line per request with method, path, status and latency; no secrets.
    let request_line = |l: &str| {
        l.contains("response method=GET path=/users operation_id=users_snapshot")
            && l.contains("status=200")
    };
    let log = s.service.log_when(|l| l.lines().any(request_line));
    let line = log
        .lines()
        .find(|l| request_line(l))
        .unwrap_or_else(|| panic!("no request line in:\n{log}"));
    assert!(line.contains("latency_us="), "{line}");
    assert!(
        !log.contains(&token) && !log.contains(&other),
        "a token was logged"
    );
}

#[tokio::test]
async fn non_uuid_is_400_and_unknown_is_404() {
    let s = Checked::start().await;
    let token = dev_token(&s.service.data_dir, "github|1");
    let r = reqwest::Client::new()
        .get(format!("{}/users/12345", s.url()))
        .bearer_auth(&token)
        .header(BAD_INPUT_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let c = client(s.url(), Some(&token));
    let err = c
        .users_specific_user_snapshot()
        .user(Uuid::new_v4())
        .send()
        .await
        .unwrap_err();
    let body = documented(&err, "documented error expected");
    assert_eq!(err.status().unwrap(), StatusCode::NOT_FOUND);
    assert_eq!(body.code, ApiErrorCode::NotFound);
}

#[tokio::test]
async fn users_survive_restart() {
    let mut s = Checked::start().await;
    let mut ids = BTreeSet::new();
    {
        let token = dev_token(&s.service.data_dir, "github|1");
        let c = client(s.url(), Some(&token));
        for n in 0..5 {
            let t = dev_token(&s.service.data_dir, &format!("gitlab|{n}"));
            ids.insert(sign_in(&c, &t).await.id);
        }
    }
    assert!(s.service.stop().success(), "clean exit on SIGTERM");
    s.service.restart();
    let proxy = ConformanceProxy::start(&s.service.url).await;
    let token = dev_token(&s.service.data_dir, "github|1");
    let list = client(proxy.url(), Some(&token))
        .users_snapshot()
        .send()
        .await
        .unwrap()
        .into_inner();
    let after: BTreeSet<_> = list.iterable.into_iter().map(|u| u.id).collect();
    assert_eq!(after, ids);
}

/// Bursts of concurrent sign-ins, each cut short by SIGKILL at a different
/// point: after every restart, each user whose sign-in was answered is there
/// (answers come only after the commit that holds the write).
#[tokio::test]
async fn sigkill_loses_no_acknowledged_write() {
    let mut service = ServiceProcess::start();
    let dir = service.data_dir.clone();
    let mut acknowledged = BTreeSet::new();
    let mut reader = None;
    for (round, kill_after) in [20, 60, 100].into_iter().enumerate() {
        let tokens: Vec<String> = (0..200)
            .map(|n| dev_token(&dir, &format!("github|{round}-{n}")))
            .collect();
        reader.get_or_insert_with(|| tokens[0].clone());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        for chunk in tokens.chunks(25) {
            let chunk = chunk.to_vec();
            let (url, tx) = (service.url.clone(), tx.clone());
            tasks.push(tokio::spawn(async move {
                let c = client(&url, None);
                for t in chunk {
                    match c
                        .authenticate_from_oauth_token()
                        .body(sign_in_body(&t))
                        .send()
                        .await
                    {
                        Ok(p) => {
                            let _ = tx.send(p.into_inner().id);
                        }
                        Err(_) => break, // the server is gone
                    }
                }
            }));
        }
        drop(tx);
        // Let part of the burst be acknowledged, then kill without warning.
        let mut answered = 0;
        while answered < kill_after {
            acknowledged.insert(rx.recv().await.expect("burst running"));
            answered += 1;
        }
        service.kill();
        for t in tasks {
            let _ = t.await;
        }
        while let Ok(id) = rx.try_recv() {
            acknowledged.insert(id);
            answered += 1;
        }
        assert!(
            answered < tokens.len(),
            "round {round}: the kill happened mid-burst"
        );

        service.restart();
        let proxy = ConformanceProxy::start(&service.url).await;
        let list = client(proxy.url(), reader.as_deref())
            .users_snapshot()
            .send()
            .await
            .unwrap()
            .into_inner();
        let stored: BTreeSet<_> = list.iterable.into_iter().map(|u| u.id).collect();
        let lost: Vec<_> = acknowledged.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "round {round}: {} acknowledged users lost: {lost:?}",
            lost.len()
        );
    }
}

/// A sign-in's answer is, byte for byte, the text the database holds for
/// the user, and that text is the compact JSON of the profile (what the
/// typed response sent before the stored text became the body): for a new
/// user and for one signing in again.
#[tokio::test]
async fn sign_in_answers_with_the_stored_text() {
    let service = ServiceProcess::start();
    let token = dev_token(&service.data_dir, "github|stored-text");
    let http = reqwest::Client::new();
    let db = rusqlite::Connection::open_with_flags(
        service.data_dir.join("users.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the database opens read-only");
    for round in ["new user", "again"] {
        let response = http
            .post(format!("{}/users/authenticate/from_token", service.url))
            .json(&sign_in_body(&token))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{round}");
        let body = response.bytes().await.unwrap();
        let profile: users_api_server_stubs::types::UserProfile =
            serde_json::from_slice(&body).expect("the body is a profile");
        let stored: String = db
            .query_row(
                "SELECT profile FROM users WHERE id = ?1",
                [&profile.id],
                |r| r.get(0),
            )
            .expect("the user is stored");
        assert_eq!(body, stored.as_bytes(), "{round}: body is the stored text");
        assert_eq!(
            body,
            serde_json::to_vec(&profile).unwrap(),
            "{round}: the profile's compact JSON"
        );
    }
}

const ISS: &str = "https://issuer.test/";
const AUD: &str = "users-tests";

/// Every kind of bad token gets 401 with a reason, and creates nothing.
#[tokio::test]
async fn jwks_verification_and_rejected_tokens() {
    let keys = tempfile::tempdir().unwrap();
    let rsa = TestKey::generate(jsonwebtoken::Algorithm::RS256, "rsa-1", keys.path());
    let ec = TestKey::generate(jsonwebtoken::Algorithm::ES256, "ec-1", keys.path());
    let stranger = TestKey::generate(
        jsonwebtoken::Algorithm::RS256,
        "rsa-1",
        keys.path().join("..").as_path(),
    );
    let jwks = keys.path().join("jwks.json");
    write_jwks(&jwks, &[&rsa, &ec]);

    let service = ServiceProcess::start_with(&[
        "--jwks-file",
        jwks.to_str().unwrap(),
        "--issuer",
        ISS,
        "--audience",
        AUD,
    ]);
    let proxy = ConformanceProxy::start(&service.url).await;
    let good = rsa.sign(&claims(ISS, AUD, "github|900"));
    let c = client(proxy.url(), Some(&good));

    // RS256 and ES256 both verify.
    let user = sign_in(&c, &good).await;
    assert_eq!(user.name.as_deref(), Some("Jay Doubleyou"));
    let es = ec.sign(&claims(ISS, AUD, "github|901"));
    c.authenticate_from_oauth_token()
        .body(sign_in_body(&es))
        .send()
        .await
        .unwrap();

    let now = chrono::Utc::now().timestamp();
    let mut expired = claims(ISS, AUD, "github|1");
    expired["exp"] = (now - 3600).into();
    let mut early = claims(ISS, AUD, "github|2");
    early["nbf"] = (now + 3600).into();
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims(ISS, AUD, "github|3").to_string().as_bytes())
    );
    let hs_with_public_key = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("rsa-1".into());
        jsonwebtoken::encode(
            &header,
            &claims(ISS, AUD, "github|4"),
            &jsonwebtoken::EncodingKey::from_secret(&rsa.public_pem).unwrap(),
        )
        .unwrap()
    };
    let dev_style = dev_token(&service.data_dir, "github|5");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "bad signature",
            stranger.sign(&claims(ISS, AUD, "github|6")),
            "signature",
        ),
        ("expired", rsa.sign(&expired), "expired"),
        ("not yet valid", rsa.sign(&early), "not valid yet"),
        (
            "wrong issuer",
            rsa.sign(&claims("https://evil.test/", AUD, "github|7")),
            "issuer",
        ),
        (
            "wrong audience",
            rsa.sign(&claims(ISS, "someone-else", "github|8")),
            "audience",
        ),
        ("alg none", none, "algorithm"),
        (
            "HS256 signed with the public key",
            hs_with_public_key,
            "algorithm",
        ),
        ("dev key while JWKS is configured", dev_style, "key"),
        ("garbage", "not-a-token".into(), "malformed"),
    ];
    for (name, token, reason) in &cases {
        let err = c
            .authenticate_from_oauth_token()
            .body(sign_in_body(token))
            .send()
            .await
            .unwrap_err();
        let body = documented(&err, name);
        assert_eq!(err.status().unwrap(), StatusCode::UNAUTHORIZED, "{name}");
        assert!(body.message.contains(reason), "{name}: {}", body.message);
        assert!(
            !body.message.contains(token.as_str()) || token.len() < 12,
            "{name}: token echoed"
        );
        // As a bearer token it is rejected too.
        let err = client(proxy.url(), Some(token))
            .users_snapshot()
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            err.status(),
            Some(StatusCode::UNAUTHORIZED),
            "{name} as bearer"
        );
    }
    let list = c.users_snapshot().send().await.unwrap().into_inner();
    assert_eq!(list.iterable.len(), 2, "rejected tokens created nothing");

    // No id_token and no userinfo endpoint: 401, nothing created.
    let mut no_id = sign_in_body("x");
    no_id.id_token = None;
    let err = c
        .authenticate_from_oauth_token()
        .body(no_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(
        c.users_snapshot()
            .send()
            .await
            .unwrap()
            .into_inner()
            .iterable
            .len(),
        2
    );
    proxy.assert_clean();
}

#[test]
fn unbindable_port_gives_a_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = ServiceProcess::builder()
        .listen(&addr)
        .log_level("error")
        .refused();
    assert!(
        err.contains("cannot listen on") && err.contains("--listen"),
        "{err}"
    );
}

/// Without an ID token, an access token is checked at the configured OIDC
/// userinfo endpoint (here a real HTTP endpoint on loopback).
#[tokio::test]
async fn access_token_via_userinfo_endpoint() {
    use axum::http::{HeaderMap, StatusCode as Status};
    let userinfo = axum::Router::new().route(
        "/userinfo",
        axum::routing::get(|headers: HeaderMap| async move {
            match headers.get("authorization").and_then(|v| v.to_str().ok()) {
                Some("Bearer good-access") => Ok(axum::Json(serde_json::json!({
                    "sub": "bitbucket|77", "email": "u@example.com", "name": "Info User"
                }))),
                _ => Err(Status::UNAUTHORIZED),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/userinfo", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, userinfo).await.unwrap() });

    let service = ServiceProcess::start_with(&["--userinfo-url", &url]);
    let proxy = ConformanceProxy::start(&service.url).await;
    let c = client(proxy.url(), None);
    let mut token = sign_in_body("unused");
    token.id_token = None;
    token.access_token = "good-access".into();
    let user = c
        .authenticate_from_oauth_token()
        .body(token.clone())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(user.name.as_deref(), Some("Info User"));
    assert_eq!(user.providers.unwrap().iterable[0].user_id, "77");

    token.access_token = "revoked".into();
    let err = c
        .authenticate_from_oauth_token()
        .body(token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    let admin = dev_token(&service.data_dir, "github|1");
    let list = client(proxy.url(), Some(&admin))
        .users_snapshot()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        list.iterable.len(),
        1,
        "the rejected access token created nothing"
    );
}

/// A request that outlives the timeout gets 408 in the error format: here
/// one whose body is still on its way when the time is up.
#[tokio::test]
async fn request_timeout_is_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let service = ServiceProcess::start_with(&["--request-timeout-ms", "200"]);
    let addr = service.url.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /users/authenticate/from_token HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_string(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "answered while the body was still missing");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a full response");
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let body: ApiError = serde_json::from_str(body).expect("the spec's error format");
    assert_eq!(
        (body.status, body.code),
        (408, ApiErrorCode::RequestTimeout)
    );
}
