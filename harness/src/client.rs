//! The generated client, and signing in with it.

use users_api_client::types::{OAuthToken, OAuthTokenTokenType, UserProfile};
use users_api_client::{Client, ClientError};

/// A generated client for `url` that sends `token` as its bearer token.
pub fn client(url: &str, token: Option<&str>) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("header value");
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("reqwest client");
    Client::new_with_client(url, http, Default::default())
}

/// The body of `POST /users/authenticate/from_token` carrying `id_token`,
/// as an identity provider's token response would.
pub fn sign_in_body(id_token: &str) -> OAuthToken {
    OAuthToken {
        access_token: "opaque-access-token".into(),
        expires_in: 3600,
        id_token: Some(id_token.into()),
        refresh_token: None,
        schema: None,
        scope: Some("openid email profile".into()),
        token_type: OAuthTokenTokenType::Bearer,
    }
}

/// The same body as JSON, for requests built by hand.
pub fn sign_in_json(id_token: &str) -> serde_json::Value {
    serde_json::to_value(sign_in_body(id_token)).expect("the body serializes")
}

/// Signs in with `id_token` and returns the stored profile.
pub async fn sign_in(c: &Client, id_token: &str) -> Result<UserProfile, ClientError> {
    c.authenticate_from_oauth_token()
        .body(sign_in_body(id_token))
        .send()
        .await
        .map(|r| r.into_inner())
}
