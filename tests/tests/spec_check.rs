//! The response/request checker itself catches what it exists for.

use serde_json::json;
use users_harness::spec_check::{Exchange, SpecValidator};

fn profile() -> serde_json::Value {
    json!({
        "id": "5d3c6e0a-9a2b-5f43-8f4e-2b9e6e1c7a10",
        "aesthetics": { "theme": { "dark": false }, "font": { "size": 14 } },
        "created": { "value": "2026-11-28T12:00:00Z" }
    })
}

fn response<'a>(method: &'a str, path: &'a str, status: u16, body: &'a [u8]) -> Exchange<'a> {
    Exchange {
        method,
        path,
        request_content_type: None,
        request_body: b"",
        status,
        response_content_type: Some("application/json"),
        response_headers: vec!["content-type".into(), "www-authenticate".into()],
        allow: None,
        response_body: body,
    }
}

const USER: &str = "/users/5d3c6e0a-9a2b-5f43-8f4e-2b9e6e1c7a10";

#[test]
fn valid_response_passes() {
    let spec = SpecValidator::load();
    let body = serde_json::to_vec(&profile()).unwrap();
    assert_eq!(
        spec.check_response(&response("GET", USER, 200, &body)),
        Vec::<String>::new()
    );
}

#[test]
fn undocumented_status_is_caught() {
    let spec = SpecValidator::load();
    let body =
        serde_json::to_vec(&json!({"status": 409, "code": "bad_request", "message": "x"})).unwrap();
    let problems = spec.check_response(&response("GET", USER, 409, &body));
    assert!(
        problems.iter().any(|p| p.contains("409 is not documented")),
        "{problems:?}"
    );
}

#[test]
fn wrong_field_type_and_unknown_field_are_caught() {
    let spec = SpecValidator::load();
    let mut p = profile();
    p["aesthetics"]["font"]["size"] = json!("large");
    let body = serde_json::to_vec(&p).unwrap();
    let problems = spec.check_response(&response("GET", USER, 200, &body));
    assert!(
        problems.iter().any(|p| p.contains("/aesthetics/font/size")),
        "{problems:?}"
    );

    let mut p = profile();
    p["is_social"] = json!(true);
    let body = serde_json::to_vec(&p).unwrap();
    assert!(
        !spec
            .check_response(&response("GET", USER, 200, &body))
            .is_empty()
    );

    let mut p = profile();
    p["created"]["value"] = json!("yesterday");
    let body = serde_json::to_vec(&p).unwrap();
    assert!(
        !spec
            .check_response(&response("GET", USER, 200, &body))
            .is_empty(),
        "date-time format is checked"
    );
}

#[test]
fn wrong_content_type_and_missing_header_are_caught() {
    let spec = SpecValidator::load();
    let body = serde_json::to_vec(&profile()).unwrap();
    let mut ex = response("GET", USER, 200, &body);
    ex.response_content_type = Some("text/plain");
    assert!(!spec.check_response(&ex).is_empty());

    let err = serde_json::to_vec(&json!({"status": 401, "code": "unauthorized", "message": "no"}))
        .unwrap();
    let mut ex = response("GET", "/users", 401, &err);
    ex.response_headers = vec!["content-type".into()];
    let problems = spec.check_response(&ex);
    assert!(
        problems.iter().any(|p| p.contains("www-authenticate")),
        "{problems:?}"
    );
}

#[test]
fn outside_the_spec_needs_404_or_405_with_allow() {
    let spec = SpecValidator::load();
    let err =
        serde_json::to_vec(&json!({"status": 405, "code": "method_not_allowed", "message": "no"}))
            .unwrap();
    let mut ex = response("DELETE", "/users", 405, &err);
    assert!(
        !spec.check_response(&ex).is_empty(),
        "Allow header is required"
    );
    ex.allow = Some("GET");
    assert_eq!(spec.check_response(&ex), Vec::<String>::new());
    let mut ex = response("DELETE", "/users", 200, b"{}");
    ex.allow = Some("GET");
    assert!(
        !spec.check_response(&ex).is_empty(),
        "accepting an undocumented method is caught"
    );
}

#[test]
fn invalid_requests_are_caught() {
    let spec = SpecValidator::load();
    let mut ex = response("GET", "/users/not-a-uuid", 400, b"");
    assert!(!spec.check_request(&ex).is_empty());
    ex.path = "/users/authenticate/from_token";
    ex.method = "POST";
    ex.request_content_type = Some("application/json");
    ex.request_body = br#"{"access_token": "a", "token_type": "Bearer"}"#;
    let problems = spec.check_request(&ex);
    assert!(
        problems.iter().any(|p| p.contains("expires_in")),
        "{problems:?}"
    );
    ex.request_body = br#"{"access_token": "a", "token_type": "Bearer", "expires_in": 1}"#;
    assert_eq!(spec.check_request(&ex), Vec::<String>::new());
}
