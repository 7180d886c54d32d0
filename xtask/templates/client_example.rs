// The client's crate-level example. The generator shows the lines between
// the markers in the client's docs; the workspace tests run this function
// against the real service, so the example a user reads is one that works.

/// Signs in, reads, signs out: the example of the client's crate docs.
pub async fn example(url: &str, id_token: &str) -> Result<(), Box<dyn std::error::Error>> {
    // docs:start
    use users_api_client::types::{OAuthToken, OAuthTokenTokenType};
    use users_api_client::{Client, ErrorExt};

    let client = Client::builder().base_url(url).bearer_token(id_token).build()?;

    // Sign in with an OpenID Connect ID token: creates the user on first use.
    let me = client
        .authenticate_from_oauth_token()
        .body(OAuthToken {
            access_token: "opaque".into(),
            token_type: OAuthTokenTokenType::Bearer,
            expires_in: 3600,
            id_token: Some(id_token.to_string()),
            refresh_token: None,
            scope: None,
            schema: None,
        })
        .send()
        .await?
        .into_inner();

    let users = client.users_snapshot().send().await?.into_inner();
    assert!(users.iterable.iter().any(|u| u.id == me.id));

    let id: uuid::Uuid = me.id.parse()?;
    let profile = client.users_specific_user_snapshot().user(id).send().await?;
    assert_eq!(profile.email, me.email);

    // Sign out: the token used before is revoked, a typed 401.
    client.users_disconnect_user().user(id).send().await?;
    let err = client.users_snapshot().send().await.unwrap_err();
    assert!(err.is_unauthorized());

    // The service's default (local) mode reads without credentials: the user
    // is gone, a typed 404, no string matching.
    let anonymous = Client::builder().base_url(url).build()?;
    let err = anonymous.users_specific_user_snapshot().user(id).send().await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.api_error().map(|e| e.status), Some(404));
    // docs:end
    Ok(())
}
