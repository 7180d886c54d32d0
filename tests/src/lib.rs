//! Helpers for the cross-crate tests: a spec checker, a checking proxy and the
//! real service binary.

pub mod pg_cluster;
pub mod postgres;
pub mod proxy;
pub mod server;
pub mod spec_check;
pub mod tokens;

/// A generated client for `url` that sends `token` as its bearer token.
pub fn client(url: &str, token: Option<&str>) -> users_api_client::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("header value");
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("reqwest client");
    users_api_client::Client::new_with_client(url, http, Default::default())
}
