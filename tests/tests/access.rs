//! The access model against the real binary: modes, the browser boundary
//! (`Host`, `Origin`, CORS), per-user scoping in `tokens` mode, sign-out
//! revocation and the operator's application registry.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use users_harness::client::sign_in_json;
use users_harness::process::stdout_of;
use users_harness::service::ServiceProcess;

/// A raw request: status, headers and JSON body (or `Null`).
async fn call(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request =
        reqwest::Client::new().request(method.parse().unwrap(), format!("{url}{path}"));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

/// Signs in with `token` and returns the user's id.
async fn sign_in(s: &ServiceProcess, token: &str) -> String {
    let (status, _, body) = call(
        &s.url,
        "POST",
        "/users/authenticate/from_token",
        &[],
        Some(sign_in_json(token)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_str().unwrap().to_string()
}

/// The ids in a `Users` body (an empty `iterable` may be left out).
fn ids(users: &Value) -> Vec<&str> {
    assert!(users.is_object(), "a Users body: {users}");
    users["iterable"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect()
}

/// `users-service --data-dir DIR applications ARGS`.
fn applications(s: &ServiceProcess, args: &[&str]) -> std::process::Command {
    let mut command = s.cli();
    command.arg("applications").args(args);
    command
}

#[tokio::test]
async fn local_mode_serves_this_machine_without_credentials() {
    let s = ServiceProcess::start();
    let id = sign_in(&s, &s.mint("github|1", &[])).await;
    let (status, _, users) = call(&s.url, "GET", "/users", &[], None).await;
    assert_eq!((status, ids(&users)), (StatusCode::OK, vec![id.as_str()]));
    let app = [("x-application-id", "anything-at-all")];
    let (status, _, user) = call(&s.url, "GET", &format!("/users/{id}"), &app, None).await;
    assert_eq!(
        (status, user["id"].as_str()),
        (StatusCode::OK, Some(id.as_str()))
    );
    let unknown = "/users/00000000-0000-4000-8000-000000000000";
    let (status, _, err) = call(&s.url, "GET", unknown, &[], None).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    // A bearer token that is sent is still verified.
    let bad = [("authorization", "Bearer not-a-jwt")];
    let (status, headers, _) = call(&s.url, "GET", "/users", &bad, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["www-authenticate"], "Bearer");
    // Nothing unverified creates a user.
    let (status, _, _) = call(
        &s.url,
        "POST",
        "/users/authenticate/from_token",
        &[],
        Some(sign_in_json("forged.token.here")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, users) = call(
        &s.url,
        "POST",
        &format!("/users/{id}/disconnect"),
        &[],
        None,
    )
    .await;
    assert_eq!((status, ids(&users).len()), (StatusCode::OK, 0));
}

#[tokio::test]
async fn foreign_hosts_are_refused_on_every_route() {
    let s = ServiceProcess::start();
    let routes = [
        ("GET", "/users"),
        ("GET", "/users/00000000-0000-4000-8000-000000000000"),
        (
            "POST",
            "/users/00000000-0000-4000-8000-000000000000/disconnect",
        ),
        ("POST", "/users/authenticate/from_token"),
        ("GET", "/openapi.yaml"),
        ("GET", "/openapi.json"),
        ("GET", "/no/such/route"),
    ];
    for host in [
        "evil.example",
        "localhost.evil.example",
        "localhost.evil.example:1000",
        "10.1.2.3",
        "192.0.2.7:1000",
    ] {
        for (method, path) in routes {
            let (status, _, err) = call(&s.url, method, path, &[("host", host)], None).await;
            assert_eq!(
                status,
                StatusCode::MISDIRECTED_REQUEST,
                "{host} {method} {path}"
            );
            assert_eq!(err["code"], "misdirected_request");
            assert_eq!(err["status"], 421);
            assert!(
                !err["message"].as_str().unwrap().contains(host),
                "never echoed"
            );
        }
    }
    let port = s.url.rsplit(':').next().unwrap().to_string();
    for host in [
        "localhost".to_string(),
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "[::1]".into(),
    ] {
        let (status, _, _) = call(&s.url, "GET", "/openapi.json", &[("host", &host)], None).await;
        assert_eq!(status, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn origins_need_the_allow_list_and_get_cors_only_then() {
    let s = ServiceProcess::start_with(&["--allow-origin", "http://app.example:3000"]);
    for origin in ["http://evil.example", "null", "http://app.example:3001"] {
        let (status, headers, err) =
            call(&s.url, "GET", "/users", &[("origin", origin)], None).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{origin}"
        );
        assert!(headers.get("access-control-allow-origin").is_none());
        let preflight = [("origin", origin), ("access-control-request-method", "GET")];
        let (status, headers, _) = call(&s.url, "OPTIONS", "/users", &preflight, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "preflight from {origin}");
        assert!(headers.get("access-control-allow-origin").is_none());
    }
    let allowed = [("origin", "http://app.example:3000")];
    let (status, headers, _) = call(&s.url, "GET", "/users", &allowed, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://app.example:3000"
    );
    let preflight = [
        ("origin", "http://app.example:3000"),
        ("access-control-request-method", "POST"),
        (
            "access-control-request-headers",
            "content-type, x-application-id",
        ),
    ];
    let (status, headers, _) = call(
        &s.url,
        "OPTIONS",
        "/users/authenticate/from_token",
        &preflight,
        None,
    )
    .await;
    assert!(status.is_success(), "{status}");
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://app.example:3000"
    );
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed_headers = headers["access-control-allow-headers"].to_str().unwrap();
    assert!(
        allowed_headers.contains("x-application-id"),
        "{allowed_headers}"
    );
}

#[test]
fn local_mode_beyond_loopback_is_refused_at_start() {
    let err = ServiceProcess::builder()
        .listen("0.0.0.0:0")
        .args(["--access", "local"])
        .refused();
    assert!(err.contains("--access tokens"), "names the fix: {err}");
}

#[tokio::test]
async fn in_tokens_mode_a_token_acts_for_its_own_user_only() {
    let s = ServiceProcess::start_with(&["--access", "tokens"]);
    let (ada, bob) = (s.mint("github|ada", &[]), s.mint("github|bob", &[]));
    let ada_id = sign_in(&s, &ada).await;
    let bob_id = sign_in(&s, &bob).await;
    let as_ada = format!("Bearer {ada}");
    let ada_h = [("authorization", as_ada.as_str())];

    let (status, _, users) = call(&s.url, "GET", "/users", &ada_h, None).await;
    assert_eq!(
        (status, ids(&users)),
        (StatusCode::OK, vec![ada_id.as_str()])
    );
    let (status, _, _) = call(&s.url, "GET", &format!("/users/{bob_id}"), &ada_h, None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another user is not revealed"
    );
    let (status, _, _) = call(
        &s.url,
        "POST",
        &format!("/users/{bob_id}/disconnect"),
        &ada_h,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let as_bob = format!("Bearer {bob}");
    let (status, _, users) =
        call(&s.url, "GET", "/users", &[("authorization", &as_bob)], None).await;
    assert_eq!(
        (status, ids(&users)),
        (StatusCode::OK, vec![bob_id.as_str()]),
        "bob is still there"
    );

    // A token for an identity that never signed in sees nobody.
    let carol = format!("Bearer {}", s.mint("github|carol", &[]));
    let (status, _, users) =
        call(&s.url, "GET", "/users", &[("authorization", &carol)], None).await;
    assert_eq!((status, ids(&users).len()), (StatusCode::OK, 0));

    for headers in [
        &[][..],
        &[("x-application-id", "00000000-0000-4000-8000-000000000000")][..],
    ] {
        let (status, h, err) = call(&s.url, "GET", "/users", headers, None).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized"))
        );
        assert_eq!(h["www-authenticate"], "Bearer");
    }
}

#[tokio::test]
async fn sign_out_revokes_earlier_tokens_across_restarts() {
    let mut s = ServiceProcess::start_with(&["--access", "tokens"]);
    let old = s.mint("github|ada", &[]);
    let bob = s.mint("github|bob", &[]);
    let id = sign_in(&s, &old).await;
    let bob_id = sign_in(&s, &bob).await;
    let bearer = format!("Bearer {old}");
    let h = [("authorization", bearer.as_str())];
    let (status, _, _) = call(&s.url, "POST", &format!("/users/{id}/disconnect"), &h, None).await;
    assert_eq!(status, StatusCode::OK);

    let refused = async |s: &ServiceProcess| {
        let (status, _, err) = call(&s.url, "GET", "/users", &h, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
        let (status, _, _) = call(&s.url, "GET", &format!("/users/{id}"), &h, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _, _) = call(
            &s.url,
            "POST",
            &format!("/users/{bob_id}/disconnect"),
            &h,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _, _) = call(
            &s.url,
            "POST",
            "/users/authenticate/from_token",
            &[],
            Some(sign_in_json(&old)),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "the old token cannot sign in again"
        );
    };
    refused(&s).await;
    s.stop();
    s.restart();
    refused(&s).await;

    // `iat` has one-second resolution: a token from a later second is new.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fresh = s.mint("github|ada", &[]);
    assert_eq!(sign_in(&s, &fresh).await, id);
    let bearer = format!("Bearer {fresh}");
    let (status, _, users) =
        call(&s.url, "GET", "/users", &[("authorization", &bearer)], None).await;
    assert_eq!((status, ids(&users)), (StatusCode::OK, vec![id.as_str()]));
}

#[tokio::test]
async fn registered_applications_are_the_credential_in_applications_mode() {
    let s = ServiceProcess::start_with(&["--access", "applications"]);
    let app = stdout_of(&mut applications(&s, &["add", "ci runner"]))
        .trim()
        .to_string();
    assert!(uuid::Uuid::try_parse(&app).is_ok(), "{app}");
    let listed = stdout_of(&mut applications(&s, &["list"]));
    assert_eq!(listed, format!("{app}\tci runner\n"));

    let id = sign_in(&s, &s.mint("github|1", &[])).await;
    let (status, _, users) =
        call(&s.url, "GET", "/users", &[("x-application-id", &app)], None).await;
    assert_eq!((status, ids(&users)), (StatusCode::OK, vec![id.as_str()]));
    for headers in [
        &[][..],
        &[("x-application-id", "00000000-0000-4000-8000-000000000000")][..],
        &[("x-application-id", "not-a-uuid")][..],
    ] {
        let (status, _, err) = call(&s.url, "GET", &format!("/users/{id}"), headers, None).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized")),
            "{headers:?}"
        );
    }
    // A bearer token works too, for its own user only (issue 21: it used
    // to read and disconnect every user in this mode).
    let other = sign_in(&s, &s.mint("github|2", &[])).await;
    let bearer = format!("Bearer {}", s.mint("github|1", &[]));
    let mine = [("authorization", bearer.as_str())];
    let (status, _, users) = call(&s.url, "GET", "/users", &mine, None).await;
    assert_eq!((status, ids(&users)), (StatusCode::OK, vec![id.as_str()]));
    let (status, _, _) = call(&s.url, "GET", &format!("/users/{other}"), &mine, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another user is not visible");
    let path = format!("/users/{other}/disconnect");
    let (status, _, _) = call(&s.url, "POST", &path, &mine, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nor disconnected");
    let (status, _, users) =
        call(&s.url, "GET", "/users", &[("x-application-id", &app)], None).await;
    assert_eq!(
        (status, ids(&users)),
        (StatusCode::OK, vec![id.as_str(), other.as_str()]),
        "the application sees both, the other user still there"
    );

    assert!(stdout_of(&mut applications(&s, &["remove", &app])).contains(&app));
    let (status, _, _) = call(&s.url, "GET", "/users", &[("x-application-id", &app)], None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a removed id is refused at once"
    );
    assert_eq!(stdout_of(&mut applications(&s, &["list"])), "");
    let again = applications(&s, &["remove", &app])
        .output()
        .expect("users-service runs");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no application"));
}
