//! A downstream user of `users-api-client`: signs in, lists, reads, signs out.
//!
//! ```text
//! USERS_URL=http://127.0.0.1:1000 USERS_TOKEN=<ID token> cargo run
//! ```
//!
//! `USERS_URL` defaults to the client's default base URL; `USERS_TOKEN` is an
//! OpenID Connect ID token the service accepts (for a development service:
//! `cargo run -p users-service -- mint-token --sub 'github|42'`). Each step
//! is printed; any failure exits with status 1.

use std::process::ExitCode;

use users_api_client::types::{OAuthToken, OAuthTokenTokenType};
use users_api_client::{Client, ClientError, ClientInfo, DEFAULT_BASE_URL, ErrorExt};
use uuid::Uuid;

/// A user id that no service hands out.
const UNKNOWN_USER: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0bad);

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => {
            println!("ok: every step passed");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let url = std::env::var("USERS_URL").unwrap_or_else(|_| DEFAULT_BASE_URL.to_string());
    let token = std::env::var("USERS_TOKEN")
        .map_err(|_| "set USERS_TOKEN to an ID token the service accepts".to_string())?;
    let token = token.trim();

    let client = Client::builder()
        .base_url(&url)
        .bearer_token(token)
        .application_id("users-api-downstream")
        .build()
        .map_err(|e| e.to_string())?;
    println!("service: {url}");

    // 1. Sign in with the ID token: creates the user on first use.
    let me = client
        .authenticate_from_oauth_token()
        .body(OAuthToken {
            access_token: token.to_string(),
            token_type: OAuthTokenTokenType::Bearer,
            expires_in: 3600,
            id_token: Some(token.to_string()),
            refresh_token: None,
            scope: None,
            schema: None,
        })
        .send()
        .await
        .map_err(|e| failed("authenticate", &e))?
        .into_inner();
    let id: Uuid = me
        .id
        .parse()
        .map_err(|e| format!("authenticate: the user id {:?} is not a UUID: {e}", me.id))?;
    println!(
        "1. authenticated as {id} ({})",
        me.email.as_deref().unwrap_or("no email")
    );

    // 2. The new user is in the list.
    let users = client
        .users_snapshot()
        .send()
        .await
        .map_err(|e| failed("list", &e))?
        .into_inner()
        .iterable;
    if !users.iter().any(|u| u.id == me.id) {
        return Err(format!(
            "list: {id} is missing from the {} users",
            users.len()
        ));
    }
    println!("2. listed {} user(s), including {id}", users.len());

    // 3. And can be read back.
    let profile = client
        .users_specific_user_snapshot()
        .user(id)
        .send()
        .await
        .map_err(|e| failed("get", &e))?
        .into_inner();
    if profile.id != me.id || profile.email != me.email {
        return Err(format!("get: expected {me:?}, got {profile:?}"));
    }
    println!("3. got {id}: {}", show_user(&client, id).await?);

    // 4. An unknown id is a typed "not found", no string matching.
    match client
        .users_specific_user_snapshot()
        .user(UNKNOWN_USER)
        .send()
        .await
    {
        Err(e) if e.is_not_found() => {
            println!("4. unknown user {UNKNOWN_USER}: not found, as expected")
        }
        Err(e) => return Err(failed("get unknown", &e)),
        Ok(p) => return Err(format!("get unknown: expected not found, got {:?}", p.id)),
    }

    // 5. Sign out: the users that are left no longer include this one.
    let left = client
        .users_disconnect_user()
        .user(id)
        .send()
        .await
        .map_err(|e| failed("disconnect", &e))?
        .into_inner()
        .iterable;
    if left.iter().any(|u| u.id == me.id) {
        return Err(format!("disconnect: {id} is still listed"));
    }
    println!("5. disconnected {id}; {} user(s) left", left.len());

    // 6. Signing out revoked the token.
    match client.users_specific_user_snapshot().user(id).send().await {
        Err(e) if e.is_unauthorized() => println!("6. the token was revoked by the sign-out"),
        Err(e) => return Err(failed("revoked token", &e)),
        Ok(_) => return Err("revoked token: still accepted".to_string()),
    }

    // 7. And the user is gone (asked without credentials, as the `local`
    // access mode allows; other modes want credentials for this).
    let anonymous = Client::builder()
        .base_url(&url)
        .build()
        .map_err(|e| e.to_string())?;
    match anonymous
        .users_specific_user_snapshot()
        .user(id)
        .send()
        .await
    {
        Err(e) if e.is_not_found() => println!("7. {id} is gone"),
        Err(e) if e.is_unauthorized() => {
            println!("7. (this access mode needs credentials to look the user up)")
        }
        Err(e) => return Err(failed("verify gone", &e)),
        Ok(_) => return Err(format!("verify gone: {id} still exists")),
    }
    Ok(())
}

/// What this program shows for one user: a display line, or a message a
/// person can act on. Its tests run against typed mocks of the client
/// (`users-api-client-mock`), without the service.
pub async fn show_user(client: &Client, id: Uuid) -> Result<String, String> {
    match client.users_specific_user_snapshot().user(id).send().await {
        Ok(profile) => Ok(format!(
            "{} <{}>",
            profile.name.as_deref().unwrap_or("(no name)"),
            profile.email.as_deref().unwrap_or("no email")
        )),
        Err(e) if e.is_not_found() => Err(format!("there is no user {id}")),
        Err(e) if e.is_unauthorized() => Err("you are signed out: sign in again".to_string()),
        Err(e) if e.is_transport() => Err(format!(
            "the Users service at {} is not reachable",
            client.baseurl()
        )),
        Err(e) => Err(failed("show user", &e)),
    }
}

/// One line about a failed call, classified with `ErrorExt`.
fn failed(step: &str, e: &ClientError) -> String {
    match e.api_error() {
        Some(body) => format!(
            "{step}: {:?} error {} ({}): {}",
            e.kind(),
            body.status,
            body.code,
            body.message
        ),
        None => format!("{step}: {:?} error: {e}", e.kind()),
    }
}

#[cfg(test)]
mod tests {
    use httpmock::MockServer;
    use users_api_client::types::{ApiError, ApiErrorCode, UserProfile};
    use users_api_client_mock::MockServerExt;

    use super::*;

    const ADA: Uuid = Uuid::from_u128(0x5d3c_6e0a_9a2b_5f43_8f4e_2b9e_6e1c_7a10);

    fn client(url: &str) -> Client {
        Client::builder().base_url(url).build().unwrap()
    }

    fn error(status: i32, code: ApiErrorCode) -> ApiError {
        ApiError {
            status,
            code,
            message: "from the mock".into(),
        }
    }

    #[tokio::test]
    async fn a_user_is_shown_by_name_and_email() {
        let server = MockServer::start_async().await;
        let profile: UserProfile = serde_json::from_value(serde_json::json!({
            "id": ADA.to_string(),
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "aesthetics": {"theme": {"dark": true}, "font": {"size": 14}}
        }))
        .unwrap();
        let mock = server.users_specific_user_snapshot(|when, then| {
            when.user(&ADA);
            then.ok(&profile);
        });
        let shown = show_user(&client(&server.base_url()), ADA).await;
        assert_eq!(shown, Ok("Ada Lovelace <ada@example.com>".to_string()));
        mock.assert_async().await;
    }

    #[tokio::test]
    async fn an_unknown_user_is_reported_as_missing() {
        let server = MockServer::start_async().await;
        let mock = server.users_specific_user_snapshot(|when, then| {
            when.user(&UNKNOWN_USER);
            then.not_found(&error(404, ApiErrorCode::NotFound));
        });
        let shown = show_user(&client(&server.base_url()), UNKNOWN_USER).await;
        assert_eq!(shown, Err(format!("there is no user {UNKNOWN_USER}")));
        mock.assert_async().await;
    }

    #[tokio::test]
    async fn a_rejected_token_asks_to_sign_in_again() {
        let server = MockServer::start_async().await;
        let mock = server.users_specific_user_snapshot(|when, then| {
            when.user(&ADA);
            then.unauthorized(&error(401, ApiErrorCode::Unauthorized));
        });
        let shown = show_user(&client(&server.base_url()), ADA).await;
        assert_eq!(shown, Err("you are signed out: sign in again".to_string()));
        mock.assert_async().await;
    }

    #[tokio::test]
    async fn an_unreachable_service_is_named() {
        // A port that was just free: nothing listens there.
        let url = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", listener.local_addr().unwrap())
        };
        let shown = show_user(&client(&url), ADA).await;
        assert_eq!(
            shown,
            Err(format!("the Users service at {url} is not reachable"))
        );
    }
}
