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
use users_api_client::{Client, ClientError, DEFAULT_BASE_URL, ErrorExt};
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
    println!("3. got {id}");

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

    // 6. And it is gone.
    match client.users_specific_user_snapshot().user(id).send().await {
        Err(e) if e.is_not_found() => println!("6. {id} is gone"),
        Err(e) => return Err(failed("verify gone", &e)),
        Ok(_) => return Err(format!("verify gone: {id} still exists")),
    }
    Ok(())
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
